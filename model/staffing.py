"""Staffing (投入保障, Art. 5): how many staff hours each unit is given for the work it receives.

At set-up units are staffed for the workload the dispatch catalogue sends them at baseline
volume, times ``world.capacity.ratio`` (:func:`expected_hours`; behaviour.Units keeps each
unit's relative staffing level). From then on staffing is a decision of district and city
governments (:class:`Staffing`, called at month end): each watches the hours of work that
arrive at its units (demanded hours booked at dispatch, not the problem stock), smoothed
over months, plus the overdue work it still carries (to be cleared over ``backlog_months``),
against the order hours its staff can give; when a unit stays overloaded or
slack for ``world.staffing.sustain_months`` months in a row, the government closes part of
the gap, and the staff arrive ``lag_months`` later. Posts are withdrawn only for the highest
sustained load of the last ``peak_memory_months`` (a year): hotline posts are staffed for the
busy season, so a lull does not cut the staff the next peak needs (without this memory the
utilities' summer lull withdrew their staff just as the heating season began; docs/calibration.md).
A unit designated remedial (治理类) gets
lasting support. Additions are capped each calendar year by the government's budget growth
(each district funds its townships and district departments, the city its municipal
departments and enterprises); posts withdrawn from slack units fund additions elsewhere in
the same government (moving staff). Within a district, township staff also follow the work
month by month, budget-neutrally (agents.DistrictGovernment.rebalance_staff).

In a sampled city (model/sample.py) a pool of districts stands in for one district: its
townships and its pooled departments are funded from one budget line, as a district's ~21
townships and its departments are in the whole city. Funding each sampled district apart
would give 15 of 16 districts a budget for one or two townships and no departments, and the
sample's staff would go where the whole city's cannot (docs/calibration.md, "Known gaps").
At scale 1.0 each district is its own pool, so nothing changes there.
"""

from __future__ import annotations

import numpy as np

from .calendar import month_end_day
from .world import (
    KIND_DISTDEPT,
    KIND_ENTERPRISE,
    KIND_MUNI,
    KIND_TOWNSHIP,
    RESP_FUNCTIONAL,
    RESP_JOINT,
    RESP_TERRITORIAL,
    RESP_UTILITY,
)


def expected_hours(city, demand, cfg) -> np.ndarray:
    """Staff hours a day each unit should expect from the catalogue at baseline volume."""
    w, r = cfg.world, cfg.rules
    cats, d = city.categories, demand
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


# who pays for a unit's staff (Art. 5 投入保障): its district, or the city
LEVEL_DISTRICT, LEVEL_CITY = 0, 1
LEVEL_NAMES = ["district", "city"]


def n_pools(city) -> int:
    """Pools of districts (city.district_pool): each district alone at scale 1.0."""
    return int(city.district_pool.max()) + 1


def funders(city) -> tuple[np.ndarray, np.ndarray]:
    """Funder index of each unit (a local unit -> its district's pool, which is the district
    itself at scale 1.0; the city -> the number of pools; -1 for units whose staff is not set
    this way: district governments and the hotline) and its level."""
    P = n_pools(city)
    kind, dist = city.unit_kind, city.unit_district
    local = np.isin(kind, [KIND_TOWNSHIP, KIND_DISTDEPT]) & (dist >= 0)
    central = np.isin(kind, [KIND_MUNI, KIND_ENTERPRISE])
    funder = np.where(local, city.district_pool[np.maximum(dist, 0)], np.where(central, P, -1))
    level = np.where(central, LEVEL_CITY, LEVEL_DISTRICT)
    return funder, level


def days_in_month(month: int) -> int:
    """Days of run month ``month`` (the model's calendar)."""
    return month_end_day(month) - (month_end_day(month - 1) if month > 0 else -1)


class Staffing:
    """District and city governments' staffing decisions (Art. 5), with their memory of each
    unit's load, the decisions still in the pipeline and the budget used this year."""

    def __init__(self, city, cfg, capacity: np.ndarray):
        self.city = city
        self.funder, self.level = funders(city)
        self.followed = self.funder >= 0
        self.n_funders = n_pools(city) + 1
        # the share of staff time the governments plan for order work (the set-up's split, as Units sizes it)
        self.work_share = max(cfg.world.behaviour.effort_resolve, 0.05)
        # posts held for the catalogue's work at baseline volume (world.staffing.establishment)
        self.establishment_unit = capacity / cfg.world.capacity.ratio
        U = city.n_units
        self.load = np.zeros(U)             # sustained load: demanded / planned order hours, smoothed
        self.over_months = np.zeros(U, dtype=np.int64)     # months in a row above the band
        self.slack_months = np.zeros(U, dtype=np.int64)    # months in a row below it
        self.recent_need = np.zeros((0, U))  # staff the last peak_memory_months sustained loads needed, oldest first
        self.pipeline = np.zeros((0, U))    # staff hours a day decided, row k arriving k month ends from now
        self.year_base = self._by_funder(capacity)   # staff on 1 January of the budget year
        self.committed = np.zeros(self.n_funders)    # net staff hours a day decided this budget year
        self.reconfigure(cfg)

    def reconfigure(self, cfg) -> None:
        """The config now in force; a new lag keeps every pending decision (those now overdue arrive next)."""
        self.cfg = cfg
        rows = cfg.world.staffing.lag_months + 1          # row 0 arrives at this month end, row k in k months
        old = self.pipeline
        if old.shape[0] != rows:
            new = np.zeros((rows, self.city.n_units))
            keep = min(rows, old.shape[0])
            new[:keep] = old[:keep]
            new[0] += old[rows:].sum(0) if old.shape[0] > rows else 0.0
            self.pipeline = new
        months = cfg.world.staffing.peak_memory_months
        if self.recent_need.shape[0] != months:          # keep the newest months a shorter memory holds
            new = np.zeros((months, self.city.n_units))
            keep = min(months, self.recent_need.shape[0])
            if keep:
                new[months - keep:] = self.recent_need[self.recent_need.shape[0] - keep:]
            self.recent_need = new

    def _by_funder(self, x: np.ndarray) -> np.ndarray:
        f = self.followed
        return np.bincount(self.funder[f], weights=x[f], minlength=self.n_funders)

    # ------------------------------------------------------------------ month end
    def month_end(self, month: int, demanded: np.ndarray, remedial: np.ndarray, units, new_year: bool,
                  backlog: np.ndarray | None = None) -> dict:
        """The governments' staffing step at the end of ``month``: loads are updated from the
        month's demanded hours and the overdue work still open (``backlog``, hours per unit,
        cleared over ``backlog_months``), new decisions enter the pipeline within the budget, and staff
        decided ``lag_months`` ago take up their posts (from next month on). Returns the
        month's per-unit record, columns of units_monthly: ``staff_level`` (who pays: 0 the
        district, 1 the city, -1 not staffed this way), ``staff_load`` (sustained load, 1 = as
        planned), ``staff_decided`` (staff hours a day decided, + added, - withdrawn) and
        ``staff_added`` / ``staff_withdrawn`` (staff hours a day that took up or left their posts)."""
        s = self.cfg.world.staffing
        per_day = demanded / days_in_month(month)
        if backlog is not None and s.backlog_months > 0:      # an overdue backlog is work to clear too
            per_day = per_day + backlog / (s.backlog_months * 30.0)
        self._observe(per_day, units.capacity)
        decided = self._decide(units.capacity, remedial) if s.following else np.zeros(len(demanded))
        before = units.capacity.copy()
        self._arrive(units)
        arrived = units.capacity - before
        if new_year:                        # the next month opens a budget year (1 January)
            self.year_base = self._by_funder(units.capacity)
            self.committed[:] = 0.0
        return {"staff_level": np.where(self.followed, self.level, -1), "staff_load": self.load.copy(),
                "staff_decided": decided, "staff_added": np.maximum(arrived, 0.0),
                "staff_withdrawn": np.maximum(-arrived, 0.0)}

    def _observe(self, demanded_per_day: np.ndarray, capacity: np.ndarray) -> None:
        """Smoothed load relative to plan (1 = staffed at target_ratio), and how long it has been out of band."""
        s = self.cfg.world.staffing
        now = demanded_per_day * s.target_ratio / np.maximum(capacity * self.work_share, 1e-9)
        self.load = np.where(self.load > 0, s.load_memory * self.load + (1 - s.load_memory) * now, now)
        # the staff each month's sustained load needed (in staff hours, so that staff moved since
        # do not change what an earlier month needed)
        self.recent_need = np.roll(self.recent_need, -1, axis=0)
        self.recent_need[-1] = capacity * self.load
        # posts are withdrawn for the past year's peak, not this month's lull (peak_memory_months)
        over = self.load > 1 + s.over_band
        slack = self.peak_need < capacity * (1 - s.slack_band)
        self.over_months = np.where(over, self.over_months + 1, 0)
        self.slack_months = np.where(slack, self.slack_months + 1, 0)

    @property
    def peak_need(self) -> np.ndarray:
        """Staff hours a day each unit's busiest month of the last peak_memory_months needed."""
        return self.recent_need.max(axis=0)

    def _decide(self, capacity: np.ndarray, remedial: np.ndarray) -> np.ndarray:
        """Staff hours a day to add (+) or withdraw (-) per unit, capped by each government's budget."""
        s = self.cfg.world.staffing
        pending = self.pipeline.sum(0)
        planned = capacity + pending
        gap = capacity * self.load - planned          # staff for the sustained load, less what is coming
        surplus = self.peak_need - planned            # staff beyond the recent peak's need (withdrawals)
        remedial = remedial & self.followed
        act_over = self.followed & (gap > 0) & ((self.over_months >= s.sustain_months) | remedial)
        act_slack = self.followed & (surplus < 0) & (self.slack_months >= s.sustain_months) & ~remedial
        change = np.where(act_over, s.adjust_share * gap, np.where(act_slack, s.adjust_share * surplus, 0.0))
        # withdrawal never below the one-hour floor Units keeps
        change = np.maximum(change, np.minimum(1.0 - planned, 0.0))
        change = change + np.where(remedial, s.remedial_staff_share * capacity, 0.0)   # Art. 5, 24: 治理类 support
        change = self._within_budget(change)
        self.pipeline[-1] += change
        return change

    def _within_budget(self, change: np.ndarray) -> np.ndarray:
        """Scale each government's additions to what its budget still allows this year; its
        withdrawals free budget for additions elsewhere in it (moving staff)."""
        s = self.cfg.world.staffing
        ceiling = np.maximum(self.year_base, self._by_funder(self.establishment_unit) * s.establishment) \
            * (1 + s.budget_growth)
        freed = self._by_funder(np.minimum(change, 0.0))
        wanted = self._by_funder(np.maximum(change, 0.0))
        room = np.maximum(ceiling - self.year_base - self.committed - freed, 0.0)
        scale = np.where(wanted > room, room / np.maximum(wanted, 1e-12), 1.0)
        f = np.where(self.followed, self.funder, 0)
        out = np.where(change > 0, change * scale[f], change)
        self.committed += self._by_funder(out)
        return out

    def _arrive(self, units) -> np.ndarray:
        """Staff decided lag_months ago take up their posts; district governments' coordination
        staff follow their district's (pool's) staff (world.capacity.district_coordination_share)."""
        arrived = self.pipeline[0].copy()
        self.pipeline = np.roll(self.pipeline, -1, axis=0)
        self.pipeline[-1] = 0.0
        moved = np.flatnonzero(arrived != 0)
        if moved.size:
            before = self._district_staff(units.capacity)
            units.set_staff(moved, np.maximum(units.capacity[moved] + arrived[moved], 1.0))
            after = self._district_staff(units.capacity)
            gov = self.city.distgov_unit
            grow = np.where(before > 0, after / np.maximum(before, 1e-12), 1.0)
            units.set_staff(gov, np.maximum(units.capacity[gov] * grow, 1.0))
        return arrived

    def _district_staff(self, capacity: np.ndarray) -> np.ndarray:
        """Staff of each district's budget line (its pool's, in a sampled city)."""
        return self._by_funder(capacity)[self.city.district_pool]
