"""Dispatch (派单), objections (派单异议) and first-receiver responsibility (Art. 11-14, 21-22).

The catalogue (派单目录) maps category x place to the unit that should handle it:
territorial categories to the township, functional ones to the district (or municipal)
department of the line, utilities to the public-service enterprise (Art. 19), joint ones
to the township as lead with the district department cooperating (Art. 14). Each
category x township cell of the catalogue is right with probability ``catalogue_accuracy``
until the hotline corrects it (动态调整, Art. 11(2)): an accepted legitimate objection
corrects its cell with probability ``catalogue_learning``, so the catalogue's accuracy is a
state that moves with handling experience. Hard requests may get a pre-dispatch
consultation (Art. 12(2)), slower and more accurate. Orders whose unit is unclear go to
the district government (Art. 12(1)2), which routes them with its own accuracy and staff
time (escalation.Coordination); without hours left they wait. A receiving unit may object
(Art. 12(3)); the review accepts legitimate objections and rejects buck-passing, each with
some error, so re-dispatch loops can happen.

:func:`dispatch_new` and :func:`receive_day` create and route work orders and return what
they did (rows, per-unit counts for the ledger); they write only the work orders.
"""

from __future__ import annotations

import numpy as np

from . import kernels
from .assessment import Tally
from .orders import CLOSED, COOP_NONE, OBJECTED, OPEN, RTYPE_CONSULTATION
from .world import (
    KIND_DISTDEPT,
    KIND_DISTGOV,
    KIND_ENTERPRISE,
    KIND_MUNI,
    KIND_TOWNSHIP,
    LINK_CENTRAL,
    LINK_JINGJINJI,
    LINK_NONE,
    RESP_CENTRAL,
    RESP_FUNCTIONAL,
    RESP_JOINT,
    RESP_LINKAGE,
    RESP_TERRITORIAL,
    RESP_UTILITY,
)


class Catalogue:
    """The dispatch catalogue (派单目录, Art. 11(2)) and the peers a wrong dispatch lands on."""

    def __init__(self, city, cfg):
        self.city = city
        kind, dist = city.unit_kind, city.unit_district
        # peer group of each unit: misroutes land on another unit of the same group
        # townships: of the same district (of the same pool of districts in a sampled city, model/sample.py,
        # so that a district with one sampled township still has peers to misroute to)
        group = np.where(kind == KIND_TOWNSHIP, city.district_pool[np.maximum(dist, 0)], -1)
        group = np.where(kind == KIND_DISTDEPT, 100 + dist, group)
        group = np.where(kind == KIND_MUNI, 200, group)
        group = np.where(kind == KIND_ENTERPRISE, 300, group)
        self.group = group
        uniq, inv = np.unique(group, return_inverse=True)
        counts = np.bincount(inv)
        starts = np.cumsum(counts) - counts
        self.members = np.lexsort((np.arange(len(group)), group))   # units ordered by group
        self.size = counts[inv]
        self.first = starts[inv]
        self.pos = np.empty(len(group), dtype=np.int64)
        self.pos[self.members] = np.arange(len(group)) - starts[inv[self.members]]
        self.reconfigure(cfg)

        # cells (township x category) corrected from objections so far (Art. 11(2) 动态调整)
        self.corrected = np.zeros((city.n_townships, city.categories.n), bool)
        self.corrections = 0

    def reconfigure(self, cfg) -> None:
        """The catalogue's accuracy and its adjustment rate in force (Art. 11(2)); cells
        already corrected stay corrected under a new catalogue accuracy."""
        self.accuracy = cfg.rules.dispatch.catalogue_accuracy
        self.learning = cfg.rules.dispatch.catalogue_learning

    def cell_accuracy(self, township: np.ndarray, category: np.ndarray) -> np.ndarray:
        """Chance the catalogue names the right unit for each order's cell: a corrected cell is
        right, the others have the catalogue's accuracy (misroutes come from uncorrected cells)."""
        return np.where(self.corrected[township, category], 1.0, self.accuracy)

    def learn(self, township: np.ndarray, category: np.ndarray, key: np.ndarray, streams) -> int:
        """Art. 11(2): after accepted legitimate objections the hotline corrects each order's
        cell with probability ``catalogue_learning``; returns the cells newly corrected."""
        fix = streams.bernoulli(self.learning, "catalogue.correct", key)
        t, c = township[fix].astype(np.int64), category[fix].astype(np.int64)
        new = np.unique(t[~self.corrected[t, c]] * self.corrected.shape[1] + c[~self.corrected[t, c]])
        self.corrected.ravel()[new] = True
        self.corrections += int(new.size)
        return int(new.size)

    def right_unit(self, township, category, key, streams, municipal_share):
        """Unit the catalogue should name, the cooperating unit, and the linkage channel."""
        city, cats = self.city, self.city.categories
        k = kernels.get(len(township))
        if k is not None:        # the same choice in one compiled pass (model/kernels.py)
            ent_cum = np.cumsum(city.enterprise_share / city.enterprise_share.sum())
            codes = np.array([RESP_TERRITORIAL, RESP_FUNCTIONAL, RESP_JOINT, RESP_UTILITY, RESP_LINKAGE, RESP_CENTRAL,
                              LINK_NONE, LINK_JINGJINJI, LINK_CENTRAL], dtype=np.int64)
            return k.right_unit(*(np.ascontiguousarray(a, dtype=np.int64) for a in (township, category)),
                                _keys_u64(key), streams._name_hash("dispatch.municipal")[()],
                                streams._name_hash("dispatch.enterprise")[()], float(municipal_share),
                                city.township_district, cats.line, cats.resp, city.distdept_unit, city.muni_unit,
                                ent_cum, city.enterprise_unit, codes)
        d = city.township_district[township]
        line = cats.line[category]
        resp = cats.resp[category]
        dept = city.distdept_unit[d, line]
        muni = city.muni_unit[line]
        to_muni = streams.bernoulli(municipal_share, "dispatch.municipal", key)
        ent_cum = np.cumsum(city.enterprise_share / city.enterprise_share.sum())
        pick = np.searchsorted(ent_cum, streams.uniform("dispatch.enterprise", key)).clip(0, len(ent_cum) - 1)
        ent = city.enterprise_unit[pick]
        unit = np.select(
            [resp == RESP_TERRITORIAL, resp == RESP_JOINT, resp == RESP_UTILITY,
             (resp == RESP_LINKAGE) | (resp == RESP_CENTRAL), resp == RESP_FUNCTIONAL],
            [township, township, ent, muni, np.where(to_muni, muni, dept)])
        linkage = np.select([resp == RESP_LINKAGE, resp == RESP_CENTRAL], [LINK_JINGJINJI, LINK_CENTRAL], LINK_NONE)
        return unit, dept, linkage

    def wrong_unit(self, right, key, streams, tag: str = "dispatch.wrong"):
        """Another unit of the same peer group (a misrouted order)."""
        k = kernels.get(len(right))
        if k is not None:        # the same units in one compiled pass (model/kernels.py)
            return k.wrong_unit(np.ascontiguousarray(right, dtype=np.int64), _keys_u64(key),
                                streams._name_hash(tag)[()], self.size, self.first, self.pos, self.members)
        n = self.size[right]
        step = 1 + (streams.uniform(tag, key) * np.maximum(n - 1, 1)).astype(np.int64)
        return self.members[self.first[right] + (self.pos[right] + step) % n]


def _keys_u64(key) -> np.ndarray:
    """Order keys as a contiguous uint64 array (the kernels' key type)."""
    return np.ascontiguousarray(np.asarray(key).astype(np.uint64, copy=False))


def dispatch_new(req: dict, day: int, model) -> dict:
    """Create work orders for dispatched requests (Art. 12-13); returns their ``rows``, the
    per-unit ``tally`` (orders dispatched, copies to districts, hours demanded) and the
    day's volume by category (``category_counts``, read by the topic of the month)."""
    r, w, s = model.cfg.rules, model.cfg.world, model.streams
    cat, key, t = model.catalogue, req["key"], req["township"]
    consult = req["rtype"] == RTYPE_CONSULTATION
    right, coop_unit, linkage = cat.right_unit(t, req["category"], key, s, r.dispatch.municipal_share)
    hard = req["hard"]
    joint = model.city.categories.resp[req["category"]] == RESP_JOINT
    need_coop = ~consult & ~req["unreasonable"] & (joint | (hard & (right == t)))
    # Art. 12(2): pre-dispatch consultation for hard requests: slower, more accurate
    pre = hard & r.dispatch.preconsult_hard
    catalogue = cat.cell_accuracy(t, req["category"])
    acc = np.where(pre, np.maximum(r.dispatch.preconsult_accuracy, catalogue), catalogue)
    correct = s.bernoulli(acc, "dispatch.correct", key)
    unit = np.where(correct, right, cat.wrong_unit(right, key, s))
    # Art. 12(1)2: unit unclear but place known -> district government coordinates (route_fallback)
    fallback = s.bernoulli(r.dispatch.district_fallback, "dispatch.fallback", key) & ~pre
    unit = np.where(fallback, model.city.distgov_unit[model.city.township_district[t]], unit)
    delay = np.where(pre, r.dispatch.preconsult_delay_days, 0) + fallback * w.district.fallback_delay_days
    delay = delay + np.select([linkage == LINK_JINGJINJI, linkage == LINK_CENTRAL],
                              [w.linkage.jingjinji_delay_days, w.linkage.central_delay_days], 0).round().astype(int)
    tier_days = np.asarray(r.deadlines.tier_days)[req["tier"]]
    n_unres = model.citizens.n_unresolved[req["requester"]]
    rows = model.orders.add(
        key=key, requester=req["requester"], township=t, category=req["category"], rtype=req["rtype"],
        tier=req["tier"], hard=hard, unreasonable=req["unreasonable"], n_prior=req["n_prior"],
        threat=n_unres >= w.citizens.escalation_threat_after, online=req["online"],
        difficulty=req["difficulty"], remaining=req["difficulty"], need_coop=need_coop,
        coop_unit=np.where(need_coop, coop_unit, -1),
        coop_remaining=np.where(need_coop, w.capacity.coordination_factor * req["difficulty"], 0.0),
        unit=unit, right_unit=right, via_district=fallback, linkage=linkage,
        ti_created=np.full(key.size, day), ti_available=day + delay,
        ti_deadline=day + delay + tier_days, state=np.full(key.size, OPEN))
    by_catalogue = ~pre & ~fallback
    return {"rows": rows, "tally": dispatch_tally(model.orders, rows, model.city, model.cfg),
            "category_counts": np.bincount(model.orders.category[rows], minlength=model.city.categories.n),
            # the catalogue's accuracy over today's orders it routed (dispatch-weighted, Art. 11(2))
            "catalogue_accuracy": float(catalogue[by_catalogue].mean()) if by_catalogue.any() else float("nan")}


def dispatch_tally(wo, rows: np.ndarray, city, cfg) -> Tally:
    """Per-unit counts of today's new orders: dispatched (a township also counts the orders
    about its area sent elsewhere), copies to districts (Art. 12(1)1), hours demanded."""
    t = Tally(city.n_units)
    t.add("dispatched", wo.unit[rows])
    t.add("dispatched", wo.township[rows].astype(np.int64)[wo.unit[rows] != wo.township[rows]])
    if cfg.rules.dispatch.copy_to_district:   # Art. 12(1)1: township orders also go to the district
        to_t = rows[wo.unit[rows] == wo.township[rows]]
        t.add("copies_to_district", city.distgov_unit[city.township_district[wo.township[to_t]]])
    t.add("hours_demanded", wo.unit[rows], wo.difficulty[rows] + cfg.world.capacity.contact_hours)
    return t


def receive_day(day: int, model) -> dict:
    """Receiving units decide on objections; an order re-dispatched the same day (no review
    delay) meets its new unit at once, which may object in turn (Art. 12(3), at most
    ``rules.dispatch.max_objections`` times). Returns the day's counts and ``tally``."""
    tally = Tally(model.city.n_units)
    routed = route_fallback(day, model)
    total = {"objections": 0, "objections_accepted": 0, "redispatched": 0, "catalogue_corrections": 0}
    for _ in range(model.cfg.rules.dispatch.max_objections + 1):
        got = receive(day, model, tally)
        for k, v in got.items():
            total[k] += v
        if got["objections_accepted"] == 0 or model.cfg.rules.dispatch.objection_delay_days > 0:
            break
    return {**total, **routed, "tally": tally}


def arrived_today(wo, day: int) -> np.ndarray:
    """Open-list rows that reach a unit today and are not closed (one compiled pass when the
    kernels serve, model/kernels.py; the same rows)."""
    idx = wo.open_idx
    k = kernels.get(idx.size)
    if k is not None:
        return k.select_arrived(idx, wo.ti_available, wo.state, int(day), CLOSED)
    return idx[(wo.ti_available[idx] == day) & (wo.state[idx] != CLOSED)]


def route_fallback(day: int, model) -> dict:
    """Art. 12(1)2: district governments route the orders of unclear unit that reached them,
    urgent and oldest first, as far as their staff hours today allow; each goes to the right
    unit with ``world.district.fallback_accuracy``, else to a peer of it. The rest wait a day
    (their deadline, counted from receipt by a handling unit, moves with them)."""
    wo, s, d = model.orders, model.streams, model.cfg.world.district
    idx = arrived_today(wo, day)
    at_gov = idx[model.city.unit_kind[wo.unit[idx]] == KIND_DISTGOV]
    district = model.city.unit_district[wo.unit[at_gov]].astype(np.int64)
    rank = wo.tier[at_gov].astype(np.int64) * 100_000 + wo.ti_created[at_gov]
    ok = model.districts.spend(district, rank, d.fallback_hours, "fallback")
    go, wait = at_gov[ok], at_gov[~ok]
    right = s.bernoulli(d.fallback_accuracy, "fallback.route", wo.key[go])
    wo.unit[go] = np.where(right, wo.right_unit[go], model.catalogue.wrong_unit(wo.right_unit[go], wo.key[go], s,
                                                                               "fallback.wrong"))
    wo.ti_available[wait] += 1
    wo.ti_deadline[wait] += 1
    return {"fallback_routed": int(go.size), "fallback_right": int(right.sum()), "fallback_waiting": int(wait.size)}


def receive(day: int, model, tally: Tally) -> dict:
    """Units receiving orders today decide whether to object; the review decides (Art. 12(3), 14)."""
    wo, r, s, U = model.orders, model.cfg.rules, model.streams, model.units
    idx = arrived_today(wo, day)
    wo.state[idx[wo.state[idx] == OBJECTED]] = OPEN
    idx = idx[(wo.ti_contact[idx] < 0) & (wo.n_objections[idx] < r.dispatch.max_objections)]
    unit = wo.unit[idx]
    misrouted = unit != wo.right_unit[idx]
    k = wo.key[idx] + wo.n_objections[idx].astype(np.uint64)
    p = np.where(misrouted, U.p_object_misrouted[unit], np.where(wo.hard[idx], U.p_object_bucketpass[unit], 0.0))
    objects = s.bernoulli(p, "objection.raise", k)
    obj = idx[objects]
    legit = misrouted[objects]
    # Art. 12(3): review; without review every objection is accepted
    if r.dispatch.objection_review:
        right_call = s.bernoulli(r.dispatch.review_accuracy, "objection.review", k[objects])
        accepted = np.where(legit, right_call, ~right_call)
    else:
        accepted = np.ones(obj.size, dtype=bool)
    wo.n_objections[obj] += 1
    tally.add("objections", wo.unit[obj])
    tally.add("objections_bucketpass", wo.unit[obj[~legit]])
    tally.add("objections_rejected_bucketpass", wo.unit[obj[~accepted & ~legit]])
    acc = obj[accepted]
    fixed = acc[legit[accepted]]     # Art. 11(2): the hotline learns from accepted legitimate objections
    corrections = model.catalogue.learn(wo.township[fixed], wo.category[fixed], k[objects][accepted][legit[accepted]], s)
    # accepted: re-dispatch: to the right unit if the objection was legitimate, else elsewhere
    new_unit = np.where(legit[accepted], wo.right_unit[acc],
                        model.catalogue.wrong_unit(wo.right_unit[acc], wo.key[acc] + np.uint64(7), s, "objection.redispatch"))
    wo.unit[acc] = new_unit
    wo.n_redispatch[acc] += 1
    wo.state[acc] = OBJECTED
    wo.ti_available[acc] = day + r.dispatch.objection_delay_days
    if r.dispatch.objection_delay_days == 0:
        wo.state[acc] = OPEN
    wo.coop_state[acc] = COOP_NONE
    return {"objections": int(obj.size), "objections_accepted": int(acc.size),
            "redispatched": int(acc.size), "catalogue_corrections": corrections}
