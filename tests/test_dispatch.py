"""Dispatch, the copy to the district, objections and deadlines (Art. 11-15)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import K_SD, binomial_tolerance, config_from, model, ran

from model.orders import CLOSED
from model.world import KIND_DISTGOV, KIND_TOWNSHIP

NO_OBJECTIONS = {"world.behaviour.p_object_misrouted": 0.0, "world.behaviour.p_object_bucketpass": 0.0}
PERFECT = {"rules.dispatch.catalogue_accuracy": 1.0, "rules.dispatch.district_fallback": 0.0,
           "rules.dispatch.preconsult_accuracy": 1.0, **NO_OBJECTIONS}


def test_a_perfect_catalogue_sends_every_order_to_the_right_unit():
    m = ran(PERFECT, seed=1, scale=0.002, days=5)
    wo = m.orders
    assert wo.n > 100
    assert np.array_equal(wo.unit, wo.right_unit)
    assert wo.n_objections.sum() == 0 and wo.n_redispatch.sum() == 0


def test_a_useless_catalogue_never_sends_an_order_to_the_right_unit():
    m = ran({"rules.dispatch.catalogue_accuracy": 0.0, "rules.dispatch.district_fallback": 0.0,
             "rules.dispatch.preconsult_hard": False, **NO_OBJECTIONS}, seed=1, scale=0.002, days=5)
    wo = m.orders
    assert not (wo.unit == wo.right_unit).any()
    # a misroute lands on a peer: another township of the same district, department of the same kind...
    assert (m.catalogue.group[wo.unit] == m.catalogue.group[wo.right_unit]).all()


def test_catalogue_accuracy_is_the_share_sent_right():
    acc = 0.7
    m = ran({"rules.dispatch.catalogue_accuracy": acc, "rules.dispatch.district_fallback": 0.0,
             "rules.dispatch.preconsult_hard": False, **NO_OBJECTIONS}, seed=2, scale=0.003, days=8)
    wo = m.orders
    share = (wo.unit == wo.right_unit).mean()
    assert abs(share - acc) < binomial_tolerance(wo.n, acc)


# the district has hours for every order and routes each right (item 4 of issue 9 made both finite)
AMPLE_DISTRICT = {"world.capacity.district_coordination_share": 1.0, "world.district.fallback_accuracy": 1.0}


def test_unclear_orders_go_through_the_district_government_and_then_to_the_right_unit():
    # expectation changed with issue 9 item 4: the district routes only as its hours allow and
    # with its own accuracy, so this known answer needs ample hours and a perfect district
    m = ran({**PERFECT, **AMPLE_DISTRICT, "rules.dispatch.district_fallback": 1.0,
             "rules.dispatch.preconsult_hard": False}, seed=1, scale=0.002, days=6)
    wo = m.orders
    assert wo.via_district.all()
    delay = wo.ti_available - wo.ti_created
    plain = wo.linkage == 0
    assert (delay[plain] == 1).all()                      # a day for the district to coordinate
    received = wo.ti_available <= m.day - 1
    assert np.array_equal(wo.unit[received], wo.right_unit[received])
    assert (m.city.unit_kind[wo.unit[~received]] == KIND_DISTGOV).all()


def _copies(overrides):
    m = ran({**PERFECT, **overrides}, seed=1, scale=0.001, days=31)
    um = m.results().units_monthly
    return m, um[um["month"] == 0]


def test_order_to_township_is_copied_to_district():
    m, um = _copies({"rules.dispatch.copy_to_district": True})
    wo = m.orders
    assert um["copies_to_district"].sum() > 0
    assert (um.loc[um["copies_to_district"] > 0, "kind"] == "district_government").all()
    # one copy per order dispatched to a township in the month, to that township's district
    month0 = wo.ti_created <= 30
    to_township = month0 & (m.city.unit_kind[wo.unit] == KIND_TOWNSHIP)
    expected = np.bincount(m.city.township_district[wo.township[to_township]], minlength=16)
    got = um.set_index("unit").loc[m.city.distgov_unit, "copies_to_district"].to_numpy()
    assert np.array_equal(got, expected)


def test_no_copy_to_district_when_the_rule_is_off():
    _, um = _copies({"rules.dispatch.copy_to_district": False})
    assert um["copies_to_district"].sum() == 0


def test_deadline_is_the_tier_deadline_after_any_dispatch_delay():
    m = ran({**NO_OBJECTIONS}, seed=4, scale=0.002, days=40)
    wo = m.orders
    tier_days = np.asarray(m.cfg.rules.deadlines.tier_days)
    ext = m.cfg.rules.deadlines.extension_days
    expected = wo.ti_available + tier_days[wo.tier] + np.where(wo.extended, ext, 0)
    assert np.array_equal(wo.ti_deadline, expected)


def test_a_2h_order_is_due_the_day_it_is_created():
    m = ran({**NO_OBJECTIONS, "rules.dispatch.district_fallback": 0.0}, seed=4, scale=0.002, days=40)
    wo = m.orders
    t0 = (wo.tier == 0) & (wo.linkage == 0) & ~wo.via_district
    assert t0.sum() > 0
    assert np.array_equal(wo.ti_deadline[t0], wo.ti_created[t0])
    # and it ends that day or is flagged overdue that day, staying open (Art. 13; issue 9 item 1)
    ended = wo.ti_closed[t0] == wo.ti_created[t0]
    assert (ended | (wo.overdue[t0] & (wo.ti_overdue[t0] == wo.ti_created[t0]))).all()


def test_only_hard_orders_are_extended_and_only_once():
    # follow every order's deadline day by day: an extension (Art. 15(2)) moves it once, on
    # the day it falls due, by exactly extension_days, and only for hard orders
    # (orders waiting for district staff time move their deadline a day at a time with their
    # receipt, issue 9 item 4: ample district hours keep this test about extensions alone)
    m = model({**NO_OBJECTIONS, **AMPLE_DISTRICT, "world.capacity.ratio": 0.5}, seed=4, scale=0.002, days=40)
    ext = m.cfg.rules.deadlines.extension_days
    wo = m.orders
    moves = np.zeros(0, dtype=int)
    before = np.zeros(0, dtype=wo.ti_deadline.dtype)
    for day in range(40):
        m.step()
        now = wo.ti_deadline[: before.size]
        moved = now != before
        assert (now[moved] - before[moved] == ext).all(), "a deadline moves by exactly extension_days"
        assert (before[moved] == day).all(), "and only on the day it falls due"
        moves = np.r_[moves, np.zeros(wo.n - moves.size, dtype=int)]
        moves[: before.size] += moved
        before = wo.ti_deadline[: wo.n].copy()
    assert moves.max() == 1, "no order is extended twice"
    assert (moves > 0).sum() > 0 and wo.hard[: wo.n][moves > 0].all()
    # the second deadline was reached unfinished by some of them, so a second extension was possible
    assert (wo.extended & wo.overdue & (wo.state == CLOSED))[: wo.n].sum() > 0


def test_no_order_is_extended_when_extensions_are_off():
    m = ran({**NO_OBJECTIONS, "world.capacity.ratio": 0.5, "rules.deadlines.extensions": False},
            seed=4, scale=0.002, days=40)
    wo = m.orders
    assert not wo.extended.any()
    # unfinished orders are flagged overdue on their deadline and stay open until they end
    # (issue 9 item 1: no longer closed at the deadline)
    late = wo.overdue
    assert late.sum() > 0 and (wo.ti_overdue[late] == wo.ti_deadline[late]).all()
    assert (wo.state[late] != 2).any() and ((wo.ti_closed[late] > wo.ti_deadline[late]) | (wo.state[late] != 2)).all()


def test_without_review_every_objection_is_accepted():
    m = ran({"rules.dispatch.objection_review": False, "rules.dispatch.catalogue_accuracy": 0.6},
            seed=3, scale=0.002, days=35)
    wo = m.orders
    assert wo.n_objections.sum() > 20
    assert np.array_equal(wo.n_objections, wo.n_redispatch)


def test_a_perfect_review_rejects_every_buck_passing_objection():
    # every order goes to the right unit, so every objection is buck-passing (Art. 14(1))
    m = ran({**PERFECT, "world.behaviour.p_object_bucketpass": 1.0, "world.behaviour.effort_heterogeneity": 0.0,
             "rules.dispatch.review_accuracy": 1.0}, seed=3, scale=0.002, days=35)
    wo = m.orders
    assert wo.n_objections.sum() > 0
    assert wo.n_redispatch.sum() == 0
    assert np.array_equal(wo.unit, wo.right_unit)
    # the rejected buck-passers are counted for sanctions (Art. 35(3))
    um = m.results().units_monthly
    assert um["objections_rejected_bucketpass"].sum() == um["objections"].sum() > 0


def test_a_perfect_review_sends_legitimately_objected_orders_to_the_right_unit():
    m = ran({"rules.dispatch.catalogue_accuracy": 0.5, "rules.dispatch.district_fallback": 0.0,
             "rules.dispatch.preconsult_hard": False, "rules.dispatch.review_accuracy": 1.0,
             "world.behaviour.p_object_misrouted": 1.0, "world.behaviour.p_object_bucketpass": 0.0,
             "world.behaviour.effort_heterogeneity": 0.0}, seed=3, scale=0.002, days=10)
    wo = m.orders
    redone = wo.n_redispatch > 0
    assert redone.sum() > 50
    settled = redone & (wo.ti_available <= m.day - 1)
    assert np.array_equal(wo.unit[settled], wo.right_unit[settled])


def test_an_order_is_objected_to_at_most_three_times():
    m = ran({"rules.dispatch.objection_review": False, "rules.dispatch.catalogue_accuracy": 0.0,
             "world.behaviour.p_object_bucketpass": 1.0, "world.behaviour.p_object_misrouted": 1.0},
            seed=3, scale=0.001, days=10)
    assert m.orders.n_objections.max() == 3


# buck-passing accepted without review sends the order to a wrong unit, which should object in turn
PASS_ON = {**PERFECT, "rules.dispatch.objection_review": False, "world.behaviour.p_object_bucketpass": 1.0,
           "world.behaviour.p_object_misrouted": 1.0, "world.behaviour.effort_heterogeneity": 0.0}


def test_a_unit_that_receives_a_redispatched_order_may_object_to_it():
    m = ran({**PASS_ON, "rules.dispatch.objection_delay_days": 1}, seed=3, scale=0.002, days=10)
    assert m.orders.n_objections.max() >= 2


def test_a_unit_that_receives_an_immediately_redispatched_order_may_object_to_it():
    m = ran({**PASS_ON, "rules.dispatch.objection_delay_days": 0}, seed=3, scale=0.002, days=10)
    assert m.orders.n_objections.max() >= 2


@pytest.mark.parametrize(("catalogue", "consult"), [(0.5, 0.9), (0.7, 0.3)])
def test_pre_dispatch_consultation_is_never_less_accurate_than_the_catalogue(catalogue, consult):
    # Art. 12(2): hard requests get a pre-dispatch consultation; it reaches its own accuracy
    # when that is better than the catalogue's and falls back on the catalogue when worse
    m = ran({"rules.dispatch.catalogue_accuracy": catalogue, "rules.dispatch.preconsult_accuracy": consult,
             "rules.dispatch.district_fallback": 0.0, **NO_OBJECTIONS}, seed=1, scale=0.005, days=20)
    wo = m.orders
    right = wo.unit == wo.right_unit
    hard, plain = right[wo.hard], right[~wo.hard]
    assert hard.size > 200
    assert abs(plain.mean() - catalogue) < binomial_tolerance(plain.size, catalogue)
    expected = max(consult, catalogue)
    assert abs(hard.mean() - expected) < binomial_tolerance(hard.size, expected)
    # and, read off the orders alone, hard orders are not sent right less often than the others
    p_h, p_p = hard.mean(), plain.mean()
    se = np.sqrt(p_h * (1 - p_h) / hard.size + p_p * (1 - p_p) / plain.size)
    assert p_h > p_p - K_SD * se


# ---------------------------------------------------------------- district routing (issue 9 item 4)
ALL_TO_DISTRICT = {**PERFECT, "rules.dispatch.district_fallback": 1.0, "rules.dispatch.preconsult_hard": False}


def test_a_district_with_no_hours_routes_nothing_that_day():
    # no district government can afford to route one order (the one-hour staff floor < 2 hours)
    m = ran({**ALL_TO_DISTRICT, "world.capacity.district_coordination_share": 0.0,
             "world.district.fallback_hours": 2.0}, seed=1, scale=0.002, days=6)
    wo = m.orders
    assert wo.n > 100 and (m.city.unit_kind[wo.unit] == KIND_DISTGOV).all()
    d = m.results().daily
    assert d["fallback_routed"].sum() == 0 and d["district_hours_fallback"].sum() == 0
    # they wait, day by day, and their deadline moves with their receipt
    plain = wo.linkage == 0
    assert (wo.ti_available[plain] == m.day).all()
    tier_days = np.asarray(m.cfg.rules.deadlines.tier_days)
    assert np.array_equal(wo.ti_deadline - wo.ti_available, tier_days[wo.tier])
    assert not (wo.ti_contact >= 0).any()


def test_a_district_routes_as_many_orders_a_day_as_its_hours_pay_for():
    m = model({**ALL_TO_DISTRICT, "world.district.fallback_hours": 0.5}, seed=1, scale=0.002, days=4)
    for _ in range(4):
        m.step()
        d = m.daily[-1]
        assert d["district_hours_fallback"] == 0.5 * d["fallback_routed"]
        assert d["district_hours_fallback"] <= d["district_hours_available"] + 1e-9
    # a district that left an order waiting today has less than one order's hours left
    # (orders created today reach the district tomorrow: not counted)
    wo = m.orders
    left = (m.city.unit_kind[wo.unit] == KIND_DISTGOV) & (wo.ti_created < m.day - 1)
    waiting = np.unique(m.city.unit_district[wo.unit[left]])
    assert waiting.size > 0 and (m.districts.hours_left[waiting] < 0.5 + 1e-9).all()


def test_raising_district_fallback_no_longer_raises_routing_accuracy_for_free():
    # a perfect catalogue: sending orders through the district can only add its errors and cost its hours
    acc = 0.7
    base = {**PERFECT, "rules.dispatch.preconsult_hard": False, "world.district.fallback_accuracy": acc,
            "world.capacity.district_coordination_share": 1.0}
    none = ran({**base, "rules.dispatch.district_fallback": 0.0}, seed=2, scale=0.003, days=8)
    some = ran({**base, "rules.dispatch.district_fallback": 0.5}, seed=2, scale=0.003, days=8)
    routed = lambda m: m.city.unit_kind[m.orders.unit] != KIND_DISTGOV  # noqa: E731
    right = lambda m: (m.orders.unit == m.orders.right_unit)[routed(m)]  # noqa: E731
    assert right(none).all()
    via = some.orders.via_district[routed(some)]
    share = right(some)[via].mean()
    assert abs(share - acc) < binomial_tolerance(int(via.sum()), acc)
    assert right(some).mean() < 1.0
    d = some.results().daily
    assert d["district_hours_fallback"].sum() == d["fallback_routed"].sum() * some.cfg.world.district.fallback_hours > 0
    assert none.results().daily["district_hours_fallback"].sum() == 0


# ---------------------------------------------------------------- catalogue learning (issue 9 item 5)
def test_an_accepted_objection_corrects_its_cell():
    m = model({"rules.dispatch.catalogue_learning": 1.0}, scale=0.001)
    cat = m.catalogue
    t, c = np.array([3, 3, 5]), np.array([1, 1, 2])
    assert (cat.cell_accuracy(t, c) == cat.accuracy).all()
    assert cat.learn(t, c, np.arange(3, dtype=np.uint64), m.streams) == 2      # two distinct cells
    assert (cat.cell_accuracy(t, c) == 1.0).all()
    assert cat.corrected.sum() == 2 and cat.corrected[3, 1] and cat.corrected[5, 2]
    # never with learning off
    m = model({"rules.dispatch.catalogue_learning": 0.0}, scale=0.001)
    assert m.catalogue.learn(t, c, np.arange(3, dtype=np.uint64), m.streams) == 0
    assert not m.catalogue.corrected.any()


def test_the_catalogue_learns_only_from_accepted_legitimate_objections():
    learn = {"rules.dispatch.catalogue_accuracy": 0.5, "rules.dispatch.catalogue_learning": 1.0,
             "rules.dispatch.district_fallback": 0.0, "rules.dispatch.preconsult_hard": False,
             "rules.dispatch.review_accuracy": 1.0, "world.behaviour.effort_heterogeneity": 0.0,
             "world.behaviour.p_object_bucketpass": 0.0}
    m = ran({**learn, "world.behaviour.p_object_misrouted": 1.0}, seed=3, scale=0.002, days=30)
    d = m.results().daily
    assert d["catalogue_corrections"].sum() == m.catalogue.corrected.sum() > 0
    # every cell corrected had an order objected to legitimately; misroutes come from the others
    wo = m.orders
    objected = np.zeros_like(m.catalogue.corrected)
    objected[wo.township[wo.n_redispatch > 0], wo.category[wo.n_redispatch > 0]] = True
    assert not (m.catalogue.corrected & ~objected).any()
    late = wo.ti_created >= 25
    in_fixed = late & m.catalogue.corrected[wo.township, wo.category] & (wo.n_redispatch == 0)
    assert in_fixed.sum() > 0 and (wo.unit[in_fixed] == wo.right_unit[in_fixed]).all()
    # the catalogue's accuracy is a state that moves: up from 0.5 as cells are corrected
    assert d["catalogue_accuracy"].iloc[:3].mean() < d["catalogue_accuracy"].iloc[-3:].mean()
    # no objections, no learning: no fixed schedule improves the catalogue
    m = ran({**learn, "world.behaviour.p_object_misrouted": 0.0}, seed=3, scale=0.002, days=30)
    assert not m.catalogue.corrected.any()
    assert (m.results().daily["catalogue_accuracy"] == 0.5).all()


def test_a_new_catalogue_accuracy_keeps_the_cells_already_corrected_and_nothing_more():
    # a timeline change moves the uncorrected cells only: no learning "as if since day 0"
    m = model({"rules.dispatch.catalogue_learning": 1.0}, scale=0.001)
    t, c = np.array([4]), np.array([0])
    m.catalogue.learn(t, c, np.zeros(1, dtype=np.uint64), m.streams)
    m.reconfigure(config_from({"rules.dispatch.catalogue_learning": 1.0, "rules.dispatch.catalogue_accuracy": 0.5},
                              scale=0.001))
    assert m.catalogue.cell_accuracy(t, c)[0] == 1.0
    assert m.catalogue.cell_accuracy(np.array([4, 5]), np.array([1, 0])).tolist() == [0.5, 0.5]
    assert m.catalogue.corrected.sum() == 1
