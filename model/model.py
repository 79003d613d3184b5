"""The 接诉即办 model: one step is one day of Beijing's 12345 system.

One day, in the order the regulation sets out (``Model.step``; each line is a call into the
module that owns that mechanism, which reads the one current config and returns what it did):

1. demand (demand.py, Art. 2, 8-9): problem sources and residents produce contacts;
   unresolved requesters call again;
2. the hotline's operators answer calls or not (hotline.py, Art. 8(2), 10); intake and triage
   (intake.py, Art. 10-11): recorded, answered at once, diverted (the requester told, answered
   or refused, who may call again or complain) or passed on;
3. dispatch (dispatch.py, Art. 11-14, 21-22): work orders by the catalogue, the copy to the
   district, routing by the district government (its staff hours), objections, re-dispatch
   and the catalogue's correction from them;
4. handling (behaviour.py, handling.py, proactive.py, Art. 13-20, 24-27): units' staff time
   (topic-of-the-month duty first, the month-end push near the remedial line), first contact,
   whistles and cooperation, district supervision and escalation to district and city
   (escalation.py), real work, gaming, proactive source removal, deadlines and extensions;
   an order ends worked, explained as temporarily unsolvable or closed formally, and an
   overdue one stays open until then;
5. callback and audit (callback.py, Art. 23, 32): the requester's answer beside the truth;
   then citizens' trust and re-filing (citizens.py, demand.py) and problem sources (sources.py);
6. booking: the day's per-unit counts into the month's ledger (assessment.py), whistles and
   co-handling into the network (network.py), the city's daily record (results.py);
7. at month end (``month_end``): assessment, rewards and sanctions (Art. 7, 32-36),
   exhaustion, staffing by district and city governments (Art. 5, staffing.py), word of mouth, learning, the topic of the month
   (Art. 24); then the timeline's changes for the new month (timeline.py) reach every
   mechanism through ``reconfigure``.

Organisational units are Mesa agents backed by arrays (agents.py, behaviour.Units);
citizens, problem sources and work orders are arrays (DESIGN.md).
"""

from __future__ import annotations

import mesa
import numpy as np

from . import callback, dispatch, escalation, handling, intake, kernels
from .agents import AGENT_CLASS, DistrictGovernment
from .assessment import Ledger, Tally, assess, closure_tally, standing
from .behaviour import ACTIVITIES, E_RESOLVE, Units
from .calendar import calendar_month, month_end_day, month_of
from .citizens import Citizens
from .config import Config
from .demand import Demand
from .handling import U_PROACTIVE, USED_COLUMNS
from .hotline import Hotline
from .network import CoordinationNetwork
from .orders import CLOSED, END_FORMAL, END_NONE, END_WORKED, LABEL_NONE, OBJECTED, OPEN, WorkOrders
from .outcomes import DIVERT_NAMES
from .proactive import Proactive
from .results import day_record
from .sources import ProblemSources
from .staffing import Staffing, expected_hours
from .streams import Streams
from .timeline import Timeline
from .timers import make_timers
from .world import build_city


class Model(mesa.Model):
    """Agent-based model of Beijing's immediate-response system (北京市接诉即办工作条例, 2021)."""

    def __init__(self, config: Config, seed: int = 0, timers: bool | None = None):
        """``timers``: time each phase of the day (model/timers.py; None: env JIESU_TIMERS)."""
        super().__init__(rng=int(seed))
        self.timers = make_timers(timers)
        self.seed = int(seed)
        self.base_cfg = config
        self.cfg = config
        self.streams = Streams(self.seed)
        self.day = 0
        self.city = build_city(self.streams, config.world.demand, config.city)
        scale = self.city.township_scale           # share of each township's residents simulated
        self.demand = Demand(self.city, scale, config)
        self.citizens = Citizens(self.city.township_pop, scale, config, self.streams)
        self.sources = ProblemSources(self.demand.need_weight, self.demand.reasonable_per_day,
                                      self.city.township_report, config, self.city.categories.removable)
        self.demand.calibrate_to(self.sources)
        self.catalogue = dispatch.Catalogue(self.city, config)
        self.unit_population_scaled = self.city.served_population()
        self.units = Units(self.city, config, escalation.with_district_staff(
            self.city, expected_hours(self.city, self.demand, config), config), self.streams)
        self.staffing = Staffing(self.city, config, self.units.capacity)   # Art. 5: governments staff the work
        self.districts = escalation.Coordination(self.city, config)
        self.orders = WorkOrders(self._expected_rows(config))
        self.ledger = Ledger(self.city.n_units)
        self.proactive = Proactive(self.city)
        self.coordination = CoordinationNetwork(self.city)
        self.timeline = Timeline(config)
        self.hotline = Hotline(config)
        # mechanisms that keep parameters of their own: each takes the new config from reconfigure
        self.mechanisms = [self.demand, self.sources, self.citizens, self.catalogue, self.units, self.hotline,
                           self.staffing]
        self.unit_agents = [AGENT_CLASS[k](self, u) for u, k in enumerate(self.city.unit_kind)]
        self.daily: list[dict] = []
        self.unit_months: list[dict] = []
        # Mesa's collector reads the day's record (nothing computed twice)
        self.datacollector = mesa.DataCollector(model_reporters={
            k: (lambda m, k=k: m.daily[-1][k]) for k in ("open_orders", "source_stock", "mean_trust")})
        self._apply_timeline(0)

    def _expected_rows(self, cfg: Config) -> int:
        """Rows to reserve for the run's work orders (the store grows if more come)."""
        d = self.demand
        per_day = d.reasonable_base.sum() + d.unreasonable_base.sum() \
            + d.consult_base.sum() * (1 - cfg.world.demand.consultation_answered_directly)
        return int(per_day * 1.6 * max(cfg.city.days, 30)) + 1024

    # ------------------------------------------------------------------ the config in force
    @property
    def rule_changes(self) -> list[dict]:
        """Timeline changes that have taken effect: month, label, overrides, phase-in."""
        return self.timeline.rule_changes

    @property
    def ramps(self) -> dict:
        """Timeline changes still being phased in."""
        return self.timeline.ramps

    def _apply_timeline(self, month: int) -> None:
        new = self.timeline.config_for(month, self.cfg)
        if new is not None:
            self.reconfigure(new)

    def reconfigure(self, new: Config) -> None:
        """Make ``new`` the config in force for every mechanism from today on."""
        self.cfg = new
        for mechanism in self.mechanisms:
            mechanism.reconfigure(new)

    # ------------------------------------------------------------------ calendar
    @property
    def month(self) -> int:
        """Months since the start (a month is 365/12 days of the model's calendar)."""
        return month_of(self.day)

    def month_end_day(self) -> int:
        """The last day (index) of the current month."""
        return month_end_day(self.month)

    def calendar_month(self) -> int:
        return calendar_month(self.month, self.cfg.city.start_month)

    # ------------------------------------------------------------------ one day
    def step(self) -> None:
        """One day: demand, intake, dispatch, handling, callback, booking (module docstring)."""
        cfg, day, s = self.cfg, self.day, self.streams
        tick = self.timers.lap           # per-phase timers (model/timers.py); a no-op unless asked for
        self.timers.start()
        season = self.city.categories.season(self.calendar_month(), cfg.world.demand.seasonality)
        # 1. demand (Art. 2, 8-9)
        drawn = self.demand.draw(day, season, self.citizens.township_trust(), self.sources, s,
                                 self.citizens.township_trust_level(), self.citizens.trust0)
        new = intake.record(drawn, self.demand.due_refiles(day), self)
        tick("demand.draw + intake.record")
        # 2. the hotline answers (Art. 8(2), 10), intake and triage (Art. 10-11), diverted requesters
        new, answered_at_once, calls = self.hotline.answer(new, drawn["consult_answered"], day, self)
        tick("hotline.answer")
        drawn = {**drawn, "consult_answered": answered_at_once}
        self.citizens.count_callers(np.concatenate([new["requester"], self._consultation_callers(drawn, day)]))
        tick("citizens.count_callers")
        divert = intake.triage(new, self)
        tick("intake.triage")
        diverted = intake.divert_outcomes(new, divert, day, self)
        tick("intake.divert_outcomes")
        self.districts.open_day(self.units.staff_hours(), cfg)   # district and city coordination time (Art. 20)
        tick("districts.open_day")
        # 3. dispatch, copy to the district, objections (Art. 11-14, 21-22)
        sent = dispatch.dispatch_new({k: v[divert == intake.NOT_DIVERTED] for k, v in new.items()}, day, self)
        tick("dispatch.dispatch_new")
        self.proactive.observe(sent["category_counts"])
        tick("proactive.observe")
        received = dispatch.receive_day(day, self)
        tick("dispatch.receive_day")
        # 4. handling (Art. 13-20, 24-27)
        campaign_hours = self.proactive.campaign_day(self.sources, cfg, self.units.staff_hours())
        budgets = self.units.daily_budgets(campaign_hours)
        push = Tally(self.city.n_units)
        standing_now = lambda: standing(self.ledger.v, cfg, self.city, self.unit_population_scaled)  # noqa: E731
        budgets, pressing = self.units.month_end_push(budgets, standing_now, day,
                                                      cfg.rules.assessment.remedial_share, push)
        tick("units.budgets + month_end_push")
        worked = handling.work_day(day, self, budgets, pressing)
        tick("handling.work_day")
        self.units.carry_over(worked["banked"], worked["game_banked"])
        removed, worked["used"][:, U_PROACTIVE] = self.proactive.unit_work(budgets, self.sources, cfg)
        tick("units.carry_over + proactive.unit_work")
        ended = handling.finish_and_close(day, self)
        tick("handling.finish_and_close")
        closing = ended["closing"]
        # 5. callback and audit (Art. 23, 32); what requesters do next; problem sources
        rated = callback.call_back(closing, day, self, worked["pressure_hours"])
        tick("callback.call_back")
        if rated:
            self.citizens.update_after_callback(rated["requester"], rated["satisfaction"], rated["performance"],
                                                rated["resolved"])
            self.demand.schedule_refile(rated["refile_rows"], rated["refile_days"])
            self.sources.remove_resolved(rated["township"], rated["category"], rated["fixed"])
        tick("citizens/demand/sources after callback")
        self.orders.prune_open()
        tick("orders.prune_open")
        self.sources.step(season)
        tick("sources.step")
        # 6. booking
        self.ledger.book(sent["tally"], received["tally"], push, worked["tally"], ended["tally"],
                         closure_tally(self.orders, closing, cfg.rules, self.city.n_units),
                         self._hours_tally(worked["used"], budgets, removed),
                         rated["tally"] if rated else Tally(self.city.n_units))
        tick("ledger.book")
        self.coordination.log(worked["whistles"], worked["cohandling"])
        tick("coordination.log")
        self.daily.append(day_record(self, drawn, new, divert, sent, received, rated, closing, worked["used"],
                                     {**calls, **diverted}))
        tick("results.day_record")
        self.datacollector.collect(self)
        tick("datacollector.collect")
        self.day += 1
        if self.month != month_of(day):
            self.month_end(self.month - 1)
            if self.calendar_month() == 1:
                self.citizens.new_calendar_year()
            self._apply_timeline(self.month)
            tick("month_end + timeline")

    def _consultation_callers(self, drawn: dict, day: int) -> np.ndarray:
        """Who made the consultations answered at once (they never become orders, but they are
        callers): picked like requesters, township by township, thinned to those answered today."""
        per_t = drawn["consult_answered_by_township"]
        total = int(per_t.sum())
        if total == 0 or drawn["consult_answered"] == 0:
            return np.zeros(0, dtype=np.int64)
        township = np.repeat(np.arange(per_t.size), per_t)
        key = self.streams.key("consult.caller", day, np.arange(total))
        keep = self.streams.uniform("consult.caller.answered", key) < min(drawn["consult_answered"] / total, 1.0)
        return self.citizens.pick_requesters(township[keep], key[keep], self.streams)

    def _hours_tally(self, used: np.ndarray, budgets: np.ndarray, removed: np.ndarray) -> Tally:
        """Per-unit hours of the day by use, hours available for in-role work, sources removed."""
        t = Tally(self.city.n_units)
        for j, name in enumerate(USED_COLUMNS):
            t.add_array(f"hours_{name}", used[:, j])
        t.add_array("hours_available", budgets[:, E_RESOLVE])   # in-role hours for contact and work
        t.add_array("sources_removed", removed)
        return t

    # ------------------------------------------------------------------ month end
    def month_end(self, month: int) -> None:
        """Assessment, incentives, exhaustion, staffing, learning, topic of the month (Art. 5, 24, 32-36)."""
        cfg, v = self.cfg, self.ledger.v
        res = assess(v, cfg, self.city, self.unit_population_scaled)
        self.units.update_exhaustion(v["hours_demanded"] + v["hours_overtime"], v["hours_available"],
                                     res["sanction_points"] + cfg.rules.sanctions.strength * res["remedial"])
        self._record_units(month, res)
        # Art. 5 投入保障: governments add, move or withdraw staff for the work that arrives (staffing.py)
        # (work that arrives: hours of orders received and cooperation on orders others lead, Art. 16-18)
        self.unit_months[-1].update(self.staffing.month_end(month, v["hours_demanded"] + v["hours_coop"],
                                                            res["remedial"], self.units, self.calendar_month() == 1,
                                                            self.orders.overdue_backlog(self.city.n_units)))
        self.units.observe_demand(v["hours_demanded"])       # order work only
        self.units.observe_labels(v["labelled"], v["excluded"])   # what labels did to the score (Art. 32(3))
        if cfg.world.capacity.district_rebalancing > 0:      # Art. 5(2): each district staffs its townships
            self.agents_by_type[DistrictGovernment].do("rebalance_staff", cfg.world.capacity.district_rebalancing)
        self.units.designate_support(res["remedial"])
        self.units.weigh_consequences(v, self.unit_population_scaled)   # next month's decisions (decisions.py)
        self.citizens.hear_about_service(res["satisfaction_rate"][: self.city.n_townships])
        if cfg.world.behaviour.learning:
            self.units.learn(res["utility"], res["class"], self.streams, month)
            self.units.learn_policy(res["utility"], res["class"])
        self.proactive.choose_topics(month + 1, cfg.rules)
        self.coordination.month_end()
        self.ledger.reset()

    def _record_units(self, month: int, res: dict) -> None:
        v, city, U = self.ledger.v, self.city, self.units
        self.unit_months.append({"month": np.full(city.n_units, month), "unit": np.arange(city.n_units),
                                 **{k: np.asarray(x).copy() for k, x in res.items()},
                                 **{k: x.copy() for k, x in v.items()},
                                 **{f"effort_{a}": U.effort[:, j].copy() for j, a in enumerate(ACTIVITIES)},
                                 "exhaustion": U.exhaustion.copy(), "capacity_hours": U.capacity.copy(),
                                 **U.decision_table()})

    # ------------------------------------------------------------------ public API
    @property
    def network(self):
        """The coordination network (networkx graph over unit ids)."""
        return self.coordination.graph

    def run(self, days: int | None = None, progress=None) -> Model:
        """Run ``days`` steps (default: the scenario's ``city.days``)."""
        days = days if days is not None else self.cfg.city.days
        kernels.expect_run(days, self.cfg.city.scale)   # a long run takes the compiled kernels (model/kernels.py)
        for _ in range(days):
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
        assert ((wo.ending != END_NONE) == closed).all(), "an order has an ending exactly when it is closed"
        assert (wo.overdue == (wo.ti_overdue >= 0)).all(), "overdue orders know the day they fell due"
        assert (~wo.overdue | (wo.ti_overdue >= wo.ti_created)).all(), "nothing falls due before it exists"
        assert not (wo.true_resolved & (wo.ending != END_WORKED)).any(), "only orders worked to the end are truly solved"
        assert ((wo.label_kind != LABEL_NONE) == wo.labelled).all(), "every label has a kind"
        assert (wo.gamed == (wo.ending == END_FORMAL)).all(), "formal closures are exactly the gamed orders"
        assert ((wo.ti_contact < 0) | (wo.ti_contact >= wo.ti_created)).all(), "no contact before creation"
        assert (wo.remaining >= 0).all() and (wo.coop_remaining >= 0).all(), "no negative remaining effort"
        assert (self.units.capacity > 0).all(), "capacity stays positive"
        assert (self.sources.stock >= -1e-9).all(), "no negative problem stock"
        open_set = np.zeros(wo.n, bool)
        open_set[wo.open_idx] = True
        assert (open_set == ~closed).all(), "the open list is exactly the orders not closed"
        for d in self.daily:
            parts = d["consultations_answered"] + sum(d[f"diverted_{n}"] for n in DIVERT_NAMES) + d["dispatched"]
            assert parts == d["contacts"], "every contact is answered, diverted or dispatched"
            outcomes = d["divert_answered"] + d["divert_told"] + d["divert_refused"]
            assert outcomes == parts - d["consultations_answered"] - d["dispatched"], \
                "every diverted requester is answered, told where to go or refused (Art. 11(2))"
