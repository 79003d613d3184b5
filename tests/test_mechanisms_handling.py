"""Handling (Art. 13-20): staff time, queue allocation, exhaustion, whistles."""

from __future__ import annotations

import numpy as np
from conftest import K_SD, model, ran

from model.handling import allocate
from model.world import KIND_TOWNSHIP


# ------------------------------------------------------------ allocate: a pure function
def test_allocate_pours_each_units_budget_down_its_queue_in_priority_order():
    unit = np.array([0, 0, 0, 1, 1])
    need = np.array([2.0, 3.0, 4.0, 1.0, 5.0])
    prio = np.array([1.0, 3.0, 2.0, 0.0, 5.0])
    budget = np.array([6.0, 3.0])
    # unit 0: item 1 (prio 3) gets 3, item 2 (prio 2) the remaining 3 of its 4, item 0 nothing
    # unit 1: item 4 (prio 5) gets all 3, item 3 nothing
    assert np.allclose(allocate(unit, need, prio, budget), [0.0, 3.0, 3.0, 0.0, 3.0])


def test_allocate_gives_everything_when_the_budget_suffices_and_nothing_without_budget():
    unit = np.array([2, 0, 2, 2])
    need = np.array([1.5, 2.0, 0.5, 1.0])
    prio = np.array([0.0, 1.0, 2.0, 3.0])
    assert np.allclose(allocate(unit, need, prio, np.array([10.0, 0.0, 10.0])), need)
    assert np.allclose(allocate(unit, need, prio, np.zeros(3)), 0.0)
    assert allocate(np.array([], dtype=int), np.array([]), np.array([]), np.ones(2)).size == 0


def test_allocate_never_exceeds_budget_or_need_and_respects_priority():
    rng = np.random.default_rng(0)
    n, n_units = 500, 7
    unit = rng.integers(0, n_units, n)
    need = rng.uniform(0, 3, n)
    prio = rng.normal(0, 5, n)
    budget = rng.uniform(0, 60, n_units)
    got = allocate(unit, need, prio, budget)
    assert (got >= 0).all() and (got <= need + 1e-12).all()
    spent = np.bincount(unit, weights=got, minlength=n_units)
    total = np.bincount(unit, weights=need, minlength=n_units)
    assert np.allclose(spent, np.minimum(budget, total))
    for u in range(n_units):                 # a lower-priority item is served only if higher ones are full
        m = unit == u
        order = np.argsort(-prio[m])
        g, nd = got[m][order], need[m][order]
        partial = np.flatnonzero(g < nd - 1e-12)
        if partial.size:
            assert np.allclose(g[partial[0] + 1:], 0.0)


def test_allocate_with_negative_priorities_keeps_units_apart():
    unit = np.array([0, 1])
    got = allocate(unit, np.array([1.0, 1.0]), np.array([-3000.0, 3000.0]), np.array([1.0, 0.0]))
    assert np.allclose(got, [1.0, 0.0])


# ------------------------------------------------------------ staff time
def test_daily_budgets_split_capacity_by_effort_shares():
    m = model(scale=0.001)
    U = m.units
    b = U.daily_budgets(np.zeros(m.city.n_units))
    assert np.allclose(b.sum(1), U.capacity)
    assert np.allclose(b / U.capacity[:, None], U.effort)


def test_full_exhaustion_cuts_capacity_by_the_exhaustion_loss_and_discretionary_work_most():
    m = model({"world.behaviour.exhaustion_capacity_loss": 0.4}, scale=0.001)
    U = m.units
    U.exhaustion[:] = 1.0
    b = U.daily_budgets(np.zeros(m.city.n_units))
    e = U.effort
    assert np.allclose(b.sum(1), U.capacity * (1 - 0.4))
    hours = U.capacity * 0.6
    assert np.allclose(b[:, 1], hours * e[:, 1] * 0.5)          # satisfaction management halved
    assert np.allclose(b[:, 3], 0.0)                            # no proactive work at all
    assert np.allclose(b[:, 0], hours * (e[:, 0] + 0.5 * e[:, 1] + e[:, 3]))   # freed time goes to in-role work
    assert np.allclose(b[:, 2], hours * e[:, 2])


def test_campaign_duty_comes_first_and_never_makes_budgets_negative():
    m = model(scale=0.001)
    U = m.units
    campaign = np.zeros(m.city.n_units)
    campaign[:5] = U.capacity[:5] * 2          # more duty than staff
    campaign[5:10] = U.capacity[5:10] * 0.25
    b = U.daily_budgets(campaign)
    assert np.allclose(b[:5], 0.0)
    assert np.allclose(b[5:10].sum(1), U.capacity[5:10] * 0.75)


def test_remedial_support_adds_staff():
    m = model(scale=0.001)
    U = m.units
    U.support[:] = 0.2
    assert np.allclose(U.daily_budgets(np.zeros(m.city.n_units)).sum(1), U.capacity * 1.2)


def test_capacity_scales_with_the_capacity_ratio():
    a = model({"world.capacity.ratio": 1.0}, scale=0.002).units.capacity
    b = model({"world.capacity.ratio": 2.0}, scale=0.002).units.capacity
    big = a > 1.0                       # the floor of one hour is not scaled
    assert np.allclose(b[big], 2 * a[big])


def test_exhaustion_grows_with_overload_and_recovers_without_it():
    m = model({"world.behaviour.exhaustion_gain": 0.2, "world.behaviour.exhaustion_recovery": 0.5,
               "world.behaviour.exhaustion_sanction_gain": 0.0}, scale=0.001)
    U = m.units
    n = m.city.n_units
    U.update_exhaustion(np.full(n, 200.0), np.full(n, 100.0), np.zeros(n))   # overload 1
    assert np.allclose(U.exhaustion, 0.2)
    U.update_exhaustion(np.full(n, 50.0), np.full(n, 100.0), np.zeros(n))    # no overload
    assert np.allclose(U.exhaustion, 0.1)


# ------------------------------------------------------------ work and closure
def test_no_unit_works_more_hours_than_it_has_over_a_month():
    m = ran(seed=2, scale=0.002, days=35)
    um = m.results().units_monthly
    flex = m.cfg.world.capacity.flex_days
    worked = um["hours_resolve"] + um["hours_contact"] + um["hours_coop"]
    # in-role hours of the month plus at most flex_days of borrowed time
    assert (worked <= um["hours_available"] * (1 + flex / 30.0) + 1e-6).all()


def test_unreasonable_requests_are_never_truly_resolved():
    m = ran({"world.demand.unreasonable_share": 0.3, "world.triage.detect_unreasonable": 0.0},
            seed=2, scale=0.002, days=20)
    wo = m.orders
    assert wo.unreasonable.sum() > 20
    assert not (wo.true_resolved & wo.unreasonable).any()


def test_perfect_solving_by_right_units_resolves_every_finished_order():
    m = ran({"world.handling.solve_prob": 1.0, "world.handling.hard_solve_prob": 1.0,
             "world.linkage.central_success": 1.0, "world.demand.unreasonable_share": 0.0,
             "rules.dispatch.catalogue_accuracy": 1.0, "rules.dispatch.preconsult_accuracy": 1.0},
            seed=2, scale=0.002, days=20)
    wo = m.orders
    done = (wo.ti_done >= 0) & ~wo.gamed & (wo.unit == wo.right_unit)
    assert done.sum() > 100
    assert wo.true_resolved[done].all()


def test_with_whistles_disabled_no_order_is_whistled():
    m = ran({"rules.whistle.enabled": False}, seed=2, scale=0.002, days=35)
    assert not m.orders.whistled.any()
    assert all(d["whistles"] == 0 for d in m.daily)
    um = m.results().units_monthly
    assert um["whistles_sent"].sum() == 0


def test_only_township_offices_whistle_and_departments_are_summoned():
    m = ran(seed=2, scale=0.002, days=35)
    um = m.results().units_monthly
    assert um["whistles_sent"].sum() > 0
    assert (um.loc[um["whistles_sent"] > 0, "kind"] == "township").all()
    assert set(um.loc[um["whistles_received"] > 0, "kind"]) <= {"district_department"}
    assert um["whistles_sent"].sum() == um["whistles_received"].sum()


DEPARTMENTS = ["municipal_department", "district_department", "enterprise"]   # not district governments, not the hotline


def whistles_answered_by_departments(dual: bool) -> tuple[float, float]:
    """Whistles departments received and answered over two months of a run (units_monthly)."""
    um = ran({"rules.assessment.dual_whistle": dual}, seed=2, scale=0.002, days=62).results().units_monthly
    d = um[um["kind"].isin(DEPARTMENTS)]
    return float(d["whistles_received"].sum()), float(d["whistles_answered"].sum())


def test_dual_assessment_makes_departments_answer_whistles_more_often():
    # the same seed with the Art. 33 dual assessment on and off: departments scored on the
    # whistles they answer must answer a larger share of them
    n_on, yes_on = whistles_answered_by_departments(True)
    n_off, yes_off = whistles_answered_by_departments(False)
    assert n_on > 100 and n_off > 100
    p_on, p_off = yes_on / n_on, yes_off / n_off
    # two independent binomial shares: the difference must exceed K_SD standard errors
    se = np.sqrt(p_on * (1 - p_on) / n_on + p_off * (1 - p_off) / n_off)
    assert p_on - p_off > K_SD * se


def test_a_probability_of_one_is_certain_for_unit_decisions():
    m = model({"world.behaviour.p_whistle": 1.0, "world.behaviour.p_object_bucketpass": 1.0,
               "world.behaviour.effort_heterogeneity": 0.0}, scale=0.001)
    assert (m.units.p_whistle == 1.0).all()
    assert (m.units.p_object_bucketpass == 1.0).all()


# ------------------------------------------------------------ month-end push near the line (Art. 28)
def test_pressure_is_kinked_at_the_remedial_line_and_zero_away_from_it():
    m = model({"world.behaviour.loss_aversion": 3.0, "world.behaviour.cutoff_band": 0.1})
    standing = np.array([0.0, 0.05, 0.12, 0.149, 0.15, 0.19, 0.2, 0.5, np.nan])
    press = m.units.cutoff_pressure(standing, 0.15)
    # far below (hopeless), just below (losses weigh lambda), just above (gains), safe, not ranked
    assert np.allclose(press, [0, 3 / 2.25, 3 / 2.25, 3 / 2.25, 1 / 2.25, 1 / 2.25, 0, 0, 0])


def test_month_end_push_is_overtime_on_the_measures_not_taken_from_real_work():
    m = model({"world.behaviour.cutoff_surge": 0.2})
    budgets = np.tile([10.0, 2.0, 1.0, 1.0], (m.city.n_units, 1))
    press = np.zeros(m.city.n_units)
    press[:3] = 1.0
    out = m.units.surge(budgets, press)
    assert np.allclose(out[:, 0], budgets[:, 0]) and np.allclose(out[:, 3], budgets[:, 3])
    assert np.allclose(out[:3, 1:3].sum(1) - budgets[:3, 1:3].sum(1), 0.2 * 10.0)   # 20% of in-role hours on top
    assert np.allclose(out[3:], budgets[3:])


def test_pressing_units_explain_to_requesters_whose_callback_falls_this_month():
    m = model({"world.behaviour.cutoff_surge": 0.3}, scale=0.01)
    m.run(25)                                    # into the last days of the first month
    wo = m.orders
    before = wo.explain.copy()
    from model import handling
    every_unit_presses = np.ones(m.city.n_units, bool)
    handling.work_day(m.day, m, m.units.daily_budgets(np.zeros(m.city.n_units)), every_unit_presses)
    gained = wo.explain - before
    talked = (wo.state != 2) & (wo.ti_contact >= 0) & (wo.ti_available <= m.day)
    later = talked & (wo.ti_deadline > m.month_end_day())
    due = talked & (wo.ti_deadline <= m.month_end_day())
    units_with_due = np.unique(wo.unit[due])
    later_of_those = later & np.isin(wo.unit, units_with_due)
    assert due.sum() > 0 and later_of_those.sum() > 0
    assert np.all(gained[later_of_those] == 0) and gained[due].sum() > 0


# ------------------------------------------------------------ district rebalancing (Art. 5(2))
def test_districts_move_township_staff_toward_the_work_and_keep_their_total():
    m = model({"world.capacity.district_rebalancing": 0.5}, scale=0.05)   # above the 1-hour staffing floor
    U, tw = m.units, m.city.unit_kind == KIND_TOWNSHIP
    d = m.city.unit_district
    before = U.capacity.copy()
    demanded = np.where(tw, before, 0.0)
    first = np.flatnonzero(tw)[0]
    demanded[first] *= 3.0                              # one township's work triples
    U.rebalance(demanded, 0.5)
    def totals(c):
        return np.bincount(d[tw], weights=c[tw])
    assert np.allclose(totals(U.capacity), totals(before))
    assert U.capacity[first] > before[first]                                   # it gains staff
    same = tw & (d == d[first]) & (np.arange(tw.size) != first)
    assert np.all(U.capacity[same] < before[same])                             # its neighbours give
    assert np.allclose(U.capacity[~tw], before[~tw])                           # departments untouched


def test_no_rebalancing_leaves_staff_alone():
    m = model()
    before = m.units.capacity.copy()
    m.units.rebalance(np.arange(before.size, dtype=float), 0.0)
    assert np.array_equal(m.units.capacity, before)
