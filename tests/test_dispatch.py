"""Dispatch, the copy to the district, objections and deadlines (Art. 11-15)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import K_SD, binomial_tolerance, model, ran

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


def test_unclear_orders_go_through_the_district_government_and_then_to_the_right_unit():
    m = ran({**PERFECT, "rules.dispatch.district_fallback": 1.0, "rules.dispatch.preconsult_hard": False},
            seed=1, scale=0.002, days=6)
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
    m = model({**NO_OBJECTIONS, "world.capacity.ratio": 0.5}, seed=4, scale=0.002, days=40)
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
