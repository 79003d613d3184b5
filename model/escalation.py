"""District and city coordination (Art. 12(1), 20, 24): work that costs district hours.

District governments (区人民政府) are units with their own staff time (sized by
``world.capacity.district_coordination_share``, :func:`with_district_staff`). Each day
:class:`Coordination` opens their hours and every district task draws on them, in the
order the day brings them:

1. fallback routing (Art. 12(1)2): orders whose unit is unclear wait at the district
   government until it has the hours to route them (dispatch.route_fallback);
2. supervision of the copies (Art. 12(1)1): with the copy of township orders, the district
   follows up township orders that reach their deadline unfinished; a stuck one it follows
   up goes up at once instead of waiting for the unit to report it;
3. escalation (Art. 20, 24 市、区、街乡三级): orders refused cooperation for
   ``rules.whistle.escalation_days``, hard requests unfinished for ``hard_escalation_days``
   (both later without the copy) and stuck ones found by supervision go up to the district,
   which takes the cases it has hours for, unlocks a share (``world.district.resolve_share``)
   and sends the rest on to the city; the city takes up at most its coordination capacity a
   day (``world.capacity.city_cases_per_day`` x ``city.scale``), oldest first; the rest queue.

:func:`escalate` is the one call handling.work_day makes; it writes only the orders'
escalation columns, their cooperation state and the remaining work coordination adds.
"""

from __future__ import annotations

import numpy as np

from . import kernels
from .orders import COOP_ENGAGED, COOP_REFUSED, OPEN
from .world import KIND_DISTGOV, KIND_TOWNSHIP

HOUR_KINDS = ["fallback", "supervision", "escalation"]
# escalation level of an order (orders.esc_level)
ESC_NONE, ESC_DISTRICT, ESC_CITY = 0, 1, 2


def with_district_staff(city, expected: np.ndarray, cfg) -> np.ndarray:
    """Expected hours per unit with the district governments' coordination hours added
    (Art. 5: 投入保障): a share of the expected order hours of the district's townships and
    district departments. Units sizes capacity from these like any other unit's."""
    out = expected.copy()
    kind, dist = city.unit_kind, city.unit_district
    local = (kind != KIND_DISTGOV) & (dist >= 0)
    by_district = np.bincount(dist[local], weights=expected[local], minlength=len(city.distgov_unit))
    out[city.distgov_unit] = cfg.world.capacity.district_coordination_share * by_district
    return out


def first_affordable(group: np.ndarray, rank: np.ndarray, cost: float, hours: np.ndarray) -> np.ndarray:
    """Mask of items each group (district) can pay ``cost`` hours for from ``hours[group]``,
    taken in ascending ``rank`` within the group (vectorised, no per-item loop)."""
    if group.size == 0:
        return np.zeros(0, bool)
    if cost <= 0:
        return np.ones(group.size, bool)
    order = np.lexsort((rank, group))
    g = group[order]
    start = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    pos = np.arange(g.size) - np.repeat(start, np.diff(np.r_[start, g.size]))
    ok = np.empty(group.size, bool)
    ok[order] = (pos + 1) * cost <= hours[g] + 1e-9
    return ok


class Coordination:
    """District governments' daily staff time and the city's coordination queue; owns the
    day's counts of what they did (read by results.day_record)."""

    def __init__(self, city, cfg):
        self.city = city
        self.distgov = city.distgov_unit
        self.hours_left = np.zeros(len(self.distgov))
        self.city_credit = 0.0
        self.today = self._zero()

    @staticmethod
    def _zero() -> dict:
        return {**{f"district_hours_{k}": 0.0 for k in HOUR_KINDS}, "district_hours_available": 0.0,
                "supervised": 0, "escalated_district": 0, "resolved_district": 0,
                "escalated_city": 0, "taken_city": 0, "city_queue": 0}

    def open_day(self, staff_hours: np.ndarray, cfg) -> None:
        """The district governments' staff hours today (Units.staff_hours) and the city's
        cases for today (unused capacity does not pile up beyond one day's worth)."""
        self.hours_left = staff_hours[self.distgov].astype(float).copy()
        self.today = self._zero()
        self.today["district_hours_available"] = float(self.hours_left.sum())
        cap = cfg.world.capacity.city_cases_per_day * cfg.city.scale
        self.city_credit = min(self.city_credit + cap, max(cap, 1.0))

    def spend(self, district: np.ndarray, rank: np.ndarray, cost: float, kind: str) -> np.ndarray:
        """Items (one per entry of ``district``) the district governments pay ``cost`` hours
        each for today, in ``rank`` order; books the hours under ``kind``."""
        ok = first_affordable(district, rank, cost, self.hours_left)
        paid = np.bincount(district[ok], minlength=self.hours_left.size) * cost
        self.hours_left = np.maximum(self.hours_left - paid, 0.0)
        self.today[f"district_hours_{kind}"] += float(paid.sum())
        return ok


def escalate(idx: np.ndarray, day: int, model, tally) -> None:
    """Art. 12(1)1, 20, 24: supervision of the copies, escalation to the district and on to
    the city, for today's open available orders ``idx``."""
    wo = model.orders
    k = kernels.get(idx.size)     # the selections below as compiled passes (model/kernels.py): the same rows
    idx = k.select_eq(idx, wo.state, OPEN) if k is not None else idx[wo.state[idx] == OPEN]
    supervise(idx, day, model)
    to_district(idx, day, model, tally)
    to_city(idx, day, model)


def _district_of(model, rows: np.ndarray) -> np.ndarray:
    return model.city.township_district[model.orders.township[rows]].astype(np.int64)


def _stuck(wo, rows: np.ndarray) -> np.ndarray:
    """Orders that cannot move on their own: cooperation refused, or hard and unfinished."""
    unfinished = (wo.ti_done[rows] < 0) & (wo.remaining[rows] + wo.coop_remaining[rows] > 0)
    return unfinished & ((wo.coop_state[rows] == COOP_REFUSED) | wo.hard[rows])


def supervise(idx: np.ndarray, day: int, model) -> None:
    """Art. 12(1)1: the district follows up township orders it holds copies of that are at
    or past their deadline unfinished (once each, as its hours allow, most overdue first).
    Nothing without the copy."""
    wo, cfg = model.orders, model.cfg
    if not cfg.rules.dispatch.copy_to_district:
        return
    k = kernels.get(idx.size)
    if k is not None:
        due = k.select_supervised(idx, wo.unit, model.city.unit_kind, KIND_TOWNSHIP, wo.ti_deadline, wo.ti_done,
                                  wo.supervised, int(day))
    else:
        kind = model.city.unit_kind[wo.unit[idx]]
        due = idx[(kind == KIND_TOWNSHIP) & (wo.ti_deadline[idx] <= day) & (wo.ti_done[idx] < 0) & ~wo.supervised[idx]]
    ok = model.districts.spend(_district_of(model, due), wo.ti_deadline[due].astype(np.int64),
                                      cfg.world.district.supervision_hours, "supervision")
    rows = due[ok]
    wo.supervised[rows] = True
    model.districts.today["supervised"] += int(rows.size)


def to_district(idx: np.ndarray, day: int, model, tally) -> None:
    """Art. 20: stuck orders go up to the district government, which takes what its hours
    allow (oldest first), unlocks a share and passes the rest on to the city."""
    wo, cfg, s = model.orders, model.cfg, model.streams
    r, d = cfg.rules, cfg.world.district
    # without the copy of township orders (Art. 12(1)1) the district learns of stuck orders later
    late = 1.0 if r.dispatch.copy_to_district else cfg.world.handling.uncopied_escalation_factor
    k = kernels.get(idx.size)
    if k is not None:
        cand = k.select_stuck(idx, int(day), wo.ti_available, wo.coop_state, wo.hard, wo.supervised, wo.esc_level,
                              wo.ti_done, wo.remaining, wo.coop_remaining, float(r.whistle.escalation_days * late),
                              float(r.whistle.hard_escalation_days * late), COOP_REFUSED, ESC_NONE)
    else:
        age = day - wo.ti_available[idx]
        refused = (wo.coop_state[idx] == COOP_REFUSED) & (age >= r.whistle.escalation_days * late)
        hard = wo.hard[idx] & (age >= r.whistle.hard_escalation_days * late)
        found = wo.supervised[idx]                    # followed up by the district: goes up at once
        cand = idx[(wo.esc_level[idx] == ESC_NONE) & (refused | hard | found) & _stuck(wo, idx)]
    ok = model.districts.spend(_district_of(model, cand), wo.ti_available[cand].astype(np.int64),
                                      d.case_hours, "escalation")
    up = cand[ok]
    wo.escalated[up] = True
    wo.esc_level[up] = ESC_DISTRICT
    wo.ti_escalated[up] = day
    tally.add("escalations", wo.unit[up])
    solved = s.bernoulli(d.resolve_share, "escalation.district", wo.key[up])
    unlock(wo, up[solved], d.case_hours)
    wo.esc_level[up[~solved]] = ESC_CITY          # the district could not settle it: to the city
    t = model.districts.today
    t["escalated_district"] += int(up.size)
    t["resolved_district"] += int(solved.sum())
    t["escalated_city"] += int((~solved).sum())


def to_city(idx: np.ndarray, day: int, model) -> None:
    """Art. 20, 24: the city takes up queued cases, oldest escalation first, up to its
    coordination capacity today; the rest wait (the city queue)."""
    wo, c = model.orders, model.districts
    k = kernels.get(idx.size)
    queue = k.select_city(idx, wo.esc_level, wo.ti_city, ESC_CITY) if k is not None \
        else idx[(wo.esc_level[idx] == ESC_CITY) & (wo.ti_city[idx] < 0)]
    n = min(int(np.floor(c.city_credit + 1e-9)), queue.size)
    take = queue[np.argsort(wo.ti_escalated[queue], kind="stable")[:n]]
    c.city_credit -= n
    wo.ti_city[take] = day
    unlock(wo, take, model.cfg.world.district.city_case_hours)
    c.today["taken_city"] += int(n)
    c.today["city_queue"] = int(queue.size - n)


def unlock(wo, rows: np.ndarray, hours: float) -> None:
    """Coordination settles a case: cooperation is obtained and the coordinator's hours count
    as work on it (own work first, then the cooperating unit's part)."""
    wo.coop_state[rows[wo.need_coop[rows]]] = COOP_ENGAGED
    own = np.minimum(wo.remaining[rows], hours)
    wo.remaining[rows] -= own
    wo.coop_remaining[rows] = np.maximum(wo.coop_remaining[rows] - (hours - own), 0.0)
