"""The 接诉即办 model: one step is one day of Beijing's 12345 system.

``Model.step`` reads like the regulation's flow: demand -> intake and triage (Art. 10-11)
-> dispatch and objections (Art. 12-14) -> handling, whistles, escalation, deadlines
(Art. 13-20) -> callback and audit (Art. 23, 32) -> citizens and problem sources ->
at month end assessment, incentives and sanctions (Art. 32-36), learning, and the topic
of the month (Art. 24). Organisational units are Mesa agents backed by arrays;
citizens, problem sources and work orders are arrays (DESIGN.md).
"""

from __future__ import annotations

import mesa
import numpy as np

from . import callback, dispatch, handling, intake
from .agents import AGENT_CLASS
from .assessment import Ledger, assess
from .behaviour import Units
from .citizens import Citizens
from .config import Config
from .demand import Demand
from .network import build_network, update_network
from .orders import CLOSED, OBJECTED, OPEN, WorkOrders
from .proactive import Proactive
from .scenario import deep_merge, dotted_to_nested, validate
from .sources import ProblemSources
from .streams import Streams
from .world import RESP_FUNCTIONAL, RESP_JOINT, RESP_TERRITORIAL, RESP_UTILITY, build_city


class Model(mesa.Model):
    """Agent-based model of Beijing's immediate-response system (北京市接诉即办工作条例, 2021)."""

    def __init__(self, config: Config, seed: int = 0):
        super().__init__(rng=int(seed))
        self.seed = int(seed)
        self.base_cfg = config
        self.cfg = config
        self.streams = Streams(self.seed)
        self.day = 0
        self.city = build_city(self.streams, config.world.demand)
        scale = config.city.scale
        self.demand = Demand(self.city, scale, config.world)
        self.citizens = Citizens(self.city.township_pop, scale, config.world, self.streams)
        self.sources = ProblemSources(self.demand.need_weight, self.demand.reasonable_per_day,
                                      self.city.township_report, config.world, self.city.categories.removable)
        self.demand.reasonable_base = self.sources.expected_requests(np.ones(self.city.n_townships))
        self.catalogue = dispatch.Catalogue(self.city, config.rules)
        self.unit_population_scaled = self.city.unit_population() * scale
        self.units = Units(self.city, config, self.expected_hours(), self.streams)
        expected_orders = self.demand.reasonable_base.sum() + self.demand.unreasonable_base.sum() \
            + self.demand.consult_base.sum() * (1 - config.world.demand.consultation_answered_directly)
        self.orders = WorkOrders(int(expected_orders * 1.6 * max(config.city.days, 30)) + 1024)
        self.ledger = Ledger(self.city.n_units)
        self.proactive = Proactive(self.city)
        self.network = build_network(self.city)
        self.network_log: list = []
        self.pressure_hours = np.zeros(self.city.n_units)
        self.campaign_hours = np.zeros(self.city.n_units)
        self.month_cat_volume = np.zeros(self.city.categories.n)
        self.unit_agents = [AGENT_CLASS[k](self, u) for u, k in enumerate(self.city.unit_kind)]
        self.daily: list[dict] = []
        self.unit_months: list[dict] = []
        self.rule_changes: list[dict] = []
        self.ramps: dict[str, tuple] = {}   # timeline changes being phased in: key -> (start, end, month, n)
        # Mesa's collector reads the day's record booked in _book_day (nothing computed twice)
        self.datacollector = mesa.DataCollector(model_reporters={
            k: (lambda m, k=k: m.daily[-1][k]) for k in ("open_orders", "source_stock", "mean_trust")})
        self._apply_timeline(0)

    # ------------------------------------------------------------------ set-up helpers
    def expected_hours(self) -> np.ndarray:
        """Staff hours a day each unit should expect from the catalogue at baseline volume."""
        city, w, r = self.city, self.cfg.world, self.cfg.rules
        cats, d = city.categories, self.demand
        rate = d.reasonable_base + d.unreasonable_base * (1 - w.triage.detect_unreasonable)
        effort = cats.difficulty_hours * np.exp(cats.difficulty_sigma**2 / 2) \
            * (1 + cats.hard_share * (w.handling.hard_effort_factor - 1)) + w.capacity.contact_hours
        hours = rate * effort[None, :] + d.consult_base * (1 - w.demand.consultation_answered_directly) \
            * (w.handling.consultation_hours + w.capacity.contact_hours)
        out = np.zeros(city.n_units)
        T, C = hours.shape
        t = np.repeat(np.arange(T), C)
        c = np.tile(np.arange(C), T)
        h, resp, line = hours.ravel(), cats.resp[c], cats.line[c]
        dept = city.distdept_unit[city.township_district[t], line]
        muni = city.muni_unit[line]
        terr = (resp == RESP_TERRITORIAL) | (resp == RESP_JOINT)
        np.add.at(out, t[terr], h[terr])
        f = resp == RESP_FUNCTIONAL
        ms = r.dispatch.municipal_share
        np.add.at(out, dept[f], h[f] * (1 - ms))
        np.add.at(out, muni[f], h[f] * ms)
        other = ~terr & ~f & (resp != RESP_UTILITY)
        np.add.at(out, muni[other], h[other])
        ut = resp == RESP_UTILITY
        out[city.enterprise_unit] += h[ut].sum() * city.enterprise_share / city.enterprise_share.sum()
        joint = resp == RESP_JOINT
        np.add.at(out, dept[joint], h[joint] * w.capacity.coordination_factor)
        return out

    def _apply_timeline(self, month: int) -> None:
        """Rule changes scheduled for this month (history replay) take effect now; changes
        phased in over several months take their next step."""
        entries = [e for e in self.base_cfg.timeline if e.month == month]
        if not entries and not self.ramps:
            return
        data = self.cfg.model_dump(mode="json")
        for e in entries:
            at_once = {}
            for key, value in e.overrides.items():
                now = _dotted_get(data, key)
                if e.phase_in_months > 1 and isinstance(now, float) and isinstance(value, (int, float)) \
                        and not isinstance(value, bool):
                    self.ramps[key] = (now, float(value), month, e.phase_in_months)
                else:
                    at_once[key] = value
                    self.ramps.pop(key, None)          # a later change of the same key ends its phase-in
            data = deep_merge(data, dotted_to_nested(at_once))
            self.rule_changes.append({"month": month, "label": e.label, "overrides": dict(e.overrides),
                                      "phase_in_months": e.phase_in_months})
        steps = {}
        for key, (start, end, first, n) in list(self.ramps.items()):
            k = month - first + 1
            steps[key] = start + (end - start) * min(k, n) / n
            if k >= n:
                del self.ramps[key]
        data = deep_merge(data, dotted_to_nested(steps))
        data["timeline"] = []
        old = self.cfg
        self.cfg = validate(data, self.base_cfg.name)
        self.units.set_policy(self.cfg)
        self.catalogue.accuracy = self.cfg.rules.dispatch.catalogue_accuracy
        self.catalogue.learning = self.cfg.rules.dispatch.catalogue_learning
        self._rescale_world(old, self.cfg)

    def _rescale_world(self, old: Config, new: Config) -> None:
        """World changes in a timeline: contact volume (e.g. hotlines merged into 12345, Art. 2)
        and staffing (Art. 5: districts resource the work) take effect from this month."""
        f = new.world.demand.contacts_per_capita_year / old.world.demand.contacts_per_capita_year
        if f != 1.0:
            self.demand.scale_volume(f)
            self.sources.hazard *= f
        if f != 1.0 or new.world.capacity.ratio != old.world.capacity.ratio:
            # districts staff for the load they now see: today's filing and today's problem stock
            filing = float(np.average(self.citizens.township_trust(), weights=self.citizens.weight))
            load = filing * self.sources.stock.sum() / self.sources.initial.sum()
            self.units.rescale_capacity(self.expected_hours() * load, new.world.capacity.ratio)

    # ------------------------------------------------------------------ calendar
    @property
    def month(self) -> int:
        """Months since the start (a month is 30.4 days of the model's calendar)."""
        return int(self.day // (365 / 12))

    def month_end_day(self) -> int:
        """The last day (index) of the current month (same day // (365/12) rule as ``month``)."""
        end = int((self.month + 1) * (365 / 12))
        while int(end // (365 / 12)) > self.month:
            end -= 1
        while int((end + 1) // (365 / 12)) == self.month:
            end += 1
        return end

    def calendar_month(self) -> int:
        return (self.cfg.city.start_month - 1 + self.month) % 12 + 1

    # ------------------------------------------------------------------ one day
    def step(self) -> None:
        day, today = self.day, {"day": self.day}
        season = self.city.categories.season(self.calendar_month(), self.cfg.world.demand.seasonality)
        # demand: problems produce requests; unresolved requesters call again
        drawn = self.demand.draw(day, season, self.citizens.township_trust(), self.sources, self.streams,
                                 self.citizens.township_trust_level(), self.citizens.trust0)
        new = intake.describe_requests(drawn["requests"], self)
        repeats = self.demand.due_refiles(day)
        if repeats.size:
            rep = intake.repeat_requests(repeats, self)
            new = {k: np.concatenate([new[k], rep[k]]) for k in new}
        # intake and triage (Art. 10-11)
        divert = intake.triage(new, self)
        to_dispatch = {k: v[divert == intake.NOT_DIVERTED] for k, v in new.items()}
        # dispatch, copy to district, objections (Art. 12-14)
        rows = dispatch.dispatch_new(to_dispatch, day, self)
        self._count_dispatch(rows)
        today.update(self._receive(day))
        # handling (Art. 13-20)
        self.campaign_hours = self.proactive.campaign_day(self.sources, self.cfg.rules)
        budgets = self.units.daily_budgets(self.campaign_hours)
        budgets = self._cutoff_surge(budgets)
        used = handling.work_day(day, self, budgets)
        removed = self.proactive.unit_work(budgets[:, 3], self.sources, self.cfg.world.sources.proactive_hours_per_source) \
            if self.cfg.rules.proactive.unit_source_work else np.zeros(self.city.n_units)
        used[:, 3] = budgets[:, 3] if self.cfg.rules.proactive.unit_source_work else 0.0
        closing = handling.finish_and_close(day, self)
        # callback, audit, citizens and sources (Art. 23, 32)
        rated = callback.call_back(closing, day, self)
        self.orders.prune_open()
        self.sources.step(season)
        self._book_day(today, drawn, new, divert, rows, rated, closing, used, budgets, removed)
        self.datacollector.collect(self)
        self.day += 1
        if self.month != int((day) // (365 / 12)):
            self.month_end(self.month - 1)
            self._apply_timeline(self.month)

    def _cutoff_surge(self, budgets: np.ndarray) -> np.ndarray:
        """Late in the month, units standing near the remedial cut-off press the measures
        (loss aversion near the sanction line; literature.md pattern 3)."""
        b = self.cfg.world.behaviour
        days_left = (self.month + 1) * (365 / 12) - self.day
        if b.cutoff_surge <= 0 or days_left > b.surge_days:
            self.units.near_cutoff = np.zeros(self.city.n_units, bool)
            return budgets
        from .assessment import standing

        press = self.units.cutoff_pressure(standing(self), self.cfg.rules.assessment.remedial_share)
        self.units.near_cutoff = press > 0
        self.ledger.v["surge_days"] += self.units.near_cutoff
        out = self.units.surge(budgets, press)
        self.ledger.v["hours_overtime"] += (out - budgets)[:, 1:3].sum(1)   # wears staff out (exhaustion)
        return out

    def _receive(self, day: int) -> dict:
        """Receiving units decide on objections; an order re-dispatched the same day (no review
        delay) meets its new unit at once, which may object in turn (Art. 12(3), at most 3 times)."""
        total: dict = {}
        for _ in range(4):
            got = dispatch.receive(day, self)
            for k, v in got.items():
                total[k] = total.get(k, 0) + v
            if got["objections_accepted"] == 0 or self.cfg.rules.dispatch.objection_delay_days > 0:
                break
        return total

    def _count_dispatch(self, rows: np.ndarray) -> None:
        wo, L = self.orders, self.ledger
        L.add_units("dispatched", wo.unit[rows])
        L.add_units("dispatched", wo.township[rows].astype(np.int64)[wo.unit[rows] != wo.township[rows]])
        if self.cfg.rules.dispatch.copy_to_district:   # Art. 12(1)1: township orders also go to the district
            to_t = rows[wo.unit[rows] == wo.township[rows]]
            L.add_units("copies_to_district", self.city.distgov_unit[self.city.township_district[wo.township[to_t]]])
        L.add_units("hours_demanded", wo.unit[rows], wo.difficulty[rows] + self.cfg.world.capacity.contact_hours)
        self.month_cat_volume += np.bincount(wo.category[rows], minlength=self.city.categories.n)

    def _book_day(self, today, drawn, new, divert, rows, rated, closing, used, budgets, removed) -> None:
        """City-level daily series and per-unit monthly hours."""
        wo, L = self.orders, self.ledger
        for j, name in enumerate(["hours_resolve", "hours_satisfy", "hours_game", "hours_proactive",
                                  "hours_contact", "hours_coop"]):
            L.v[name] += used[:, j]
        L.v["hours_available"] += budgets[:, 0]   # in-role hours for contact and work
        L.v["sources_removed"] += removed
        cl = closing
        scope = ~wo.excluded[cl]
        n_scope = max(int(scope.sum()), 1)
        resp_days = np.asarray(self.cfg.rules.deadlines.response_days)[wo.tier[cl]]
        on_time = (wo.ti_contact[cl] >= 0) & (wo.ti_contact[cl] <= wo.ti_created[cl] + resp_days)
        div_counts = np.bincount(divert[divert >= 0], minlength=6)
        effort = (self.units.effort * self.units.capacity[:, None]).sum(0) / self.units.capacity.sum()
        today.update({
            "contacts": int(drawn["consult_answered"] + divert.size),
            "consultations_answered": int(drawn["consult_answered"]),
            "requests": int(divert.size), "repeat_contacts": int((new["n_prior"] > 0).sum()),
            **{f"diverted_{n}": int(c) for n, c in zip(intake.DIVERT_NAMES, div_counts)},
            "dispatched": int(rows.size), "closed": int(cl.size),
            "response_rate": float((on_time & scope).sum() / n_scope),
            "resolution_rate": float((wo.measured_resolved[cl] & scope).sum() / n_scope),
            "satisfaction_rate": float(((wo.satisfaction[cl] >= 1) & scope).sum() / n_scope),
            "true_resolution_rate": float(wo.true_resolved[cl].sum() / max(cl.size, 1)),
            "overdue": int(wo.overdue[cl].sum()), "gamed": int(wo.gamed[cl].sum()),
            "open_orders": int(wo.open_idx.size), "source_stock": self.sources.total(),
            "mean_trust": float(np.average(self.citizens.township_trust_level(), weights=self.citizens.weight)),
            "filing_factor": float(np.average(self.citizens.township_trust(), weights=self.citizens.weight)),
            "mean_exhaustion": float(np.average(self.units.exhaustion, weights=self.units.capacity)),
            "effort_resolve": effort[0], "effort_satisfy": effort[1], "effort_game": effort[2],
            "effort_proactive": effort[3], "refiled": rated.get("refiled", 0), "detected": rated.get("detected", 0),
            "whistles": int(wo.whistled[cl].sum()),
        })
        self.daily.append(today)

    # ------------------------------------------------------------------ month end
    def month_end(self, month: int) -> None:
        """Assessment, incentives, exhaustion, learning, topic of the month (Art. 24, 32-36)."""
        res = assess(self, month)
        v = self.ledger.v
        self.units.update_exhaustion(v["hours_demanded"] + v["hours_overtime"], v["hours_available"],
                                     res["sanction_points"] + self.cfg.rules.sanctions.strength * res["remedial"])
        self._record_units(month, res)
        self.units.rebalance(v["hours_demanded"], self.cfg.world.capacity.district_rebalancing)  # order work only
        # 治理类: remedial townships get targeted help from the district for the next month
        self.units.support = np.where(res["remedial"] & (self.city.unit_kind == 0),
                                      self.cfg.rules.sanctions.remedial_support, 0.0)
        self.citizens.hear_about_service(res["satisfaction_rate"][: self.city.n_townships])
        if self.cfg.world.behaviour.learning:
            self.units.learn(res["utility"], res["class"], self.streams, month)
            self.units.learn_policy(res["utility"], res["class"])
        topics = self.proactive.choose_topics(month + 1, self.month_cat_volume, self.cfg.rules)
        for t in topics:
            t["chosen_at_month"] = month
        update_network(self.network, self.network_log, self.ledger.pairs)
        self.network_log = []
        self.month_cat_volume[:] = 0
        self.ledger.reset()

    def _record_units(self, month: int, res: dict) -> None:
        v, city, U = self.ledger.v, self.city, self.units
        self.unit_months.append({"month": np.full(city.n_units, month), "unit": np.arange(city.n_units),
                                 **{k: np.asarray(x).copy() for k, x in res.items()},
                                 **{k: x.copy() for k, x in v.items()},
                                 "effort_resolve": U.effort[:, 0].copy(), "effort_satisfy": U.effort[:, 1].copy(),
                                 "effort_game": U.effort[:, 2].copy(), "effort_proactive": U.effort[:, 3].copy(),
                                 "exhaustion": U.exhaustion.copy(), "capacity_hours": U.capacity.copy()})

    # ------------------------------------------------------------------ public API
    def run(self, days: int | None = None, progress=None) -> Model:
        """Run ``days`` steps (default: the scenario's ``city.days``)."""
        for _ in range(days if days is not None else self.cfg.city.days):
            self.step()
            if progress is not None:
                progress.update(1)
        return self

    def results(self):
        """Tidy results: daily city series, monthly unit table, summary (see results.py)."""
        from .results import Results

        return Results.from_model(self)

    def check_invariants(self) -> None:
        """Raise AssertionError if any conservation or ordering rule is broken."""
        wo = self.orders
        st = wo.state
        assert np.isin(st, [OPEN, OBJECTED, CLOSED]).all(), "every order is in exactly one state"
        closed = st == CLOSED
        assert (wo.ti_closed[closed] >= wo.ti_created[closed]).all(), "nothing closes before it is created"
        assert (wo.ti_closed[~closed] == -1).all(), "open orders have no closing day"
        assert ((wo.ti_contact < 0) | (wo.ti_contact >= wo.ti_created)).all(), "no contact before creation"
        assert (wo.remaining >= 0).all() and (wo.coop_remaining >= 0).all(), "no negative remaining effort"
        assert (self.units.capacity > 0).all(), "capacity stays positive"
        assert (self.sources.stock >= -1e-9).all(), "no negative problem stock"
        open_set = np.zeros(wo.n, bool)
        open_set[wo.open_idx] = True
        assert (open_set == ~closed).all(), "the open list is exactly the orders not closed"
        for d in self.daily:
            parts = d["consultations_answered"] + sum(d[f"diverted_{n}"] for n in intake.DIVERT_NAMES) + d["dispatched"]
            assert parts == d["contacts"], "every contact is answered, diverted or dispatched"


def _dotted_get(data: dict, key: str):
    """The value at a dotted key of a nested dict (a config dump)."""
    for part in key.split("."):
        data = data[part]
    return data
