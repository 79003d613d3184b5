"""Handling (Art. 13-20): queue allocation, work, whistles and cooperation, closure."""

from __future__ import annotations

import numpy as np
from conftest import K_SD, binomial_tolerance, config_from, model, ran

from model.handling import allocate
from model.orders import (
    CLOSED,
    END_EXPLAINED,
    END_FORMAL,
    END_WORKED,
    LABEL_GAMED,
    LABEL_HONEST,
    LABEL_NONE,
    OPEN,
)


# ------------------------------------------------------------ allocate: a pure function
def test_allocate_pours_each_units_budget_down_its_queue_in_priority_order():
    unit = np.array([0, 0, 0, 1, 1])
    need = np.array([2.0, 3.0, 4.0, 1.0, 5.0])
    prio = np.array([1.0, 3.0, 2.0, 0.0, 5.0])
    budget = np.array([6.0, 3.0])
    # unit 0: item 1 (prio 3) gets 3, item 2 (prio 2) the remaining 3 of its 4, item 0 nothing
    # unit 1: item 4 (prio 5) gets all 3, item 3 nothing
    assert np.allclose(allocate(unit, need, prio, budget), [0.0, 3.0, 3.0, 0.0, 3.0])


def test_equal_priorities_are_served_first_come_first_served():
    # ties keep the queue's order (a stable sort; numpy's default sort orders ties by CPU level)
    unit = np.zeros(5, dtype=int)
    need = np.ones(5)
    prio = np.array([1.0, 2.0, 1.0, 2.0, 1.0])
    # the two priority-2 items first, then the priority-1 items in queue order: item 0 whole, item 2 half
    assert np.array_equal(allocate(unit, need, prio, np.array([3.5])), [1.0, 1.0, 0.5, 1.0, 0.0])


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
             "rules.dispatch.catalogue_accuracy": 1.0, "rules.dispatch.preconsult_accuracy": 1.0,
             # issue 9 item 3: missed diversions and malicious calls are dispatched as unreasonable
             "world.triage.detect_by_matter": 1.0, "world.citizens.malicious_share": 0.0},
            seed=2, scale=0.002, days=20)
    wo = m.orders
    # worked to the end, not labelled unreasonable in good faith (issue 9: an order explained as
    # temporarily unsolvable, or judged unreasonable and explained, also ends, without a fix)
    done = (wo.ending == END_WORKED) & (wo.label_kind == LABEL_NONE) & (wo.unit == wo.right_unit)
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
    """Whistles departments received and answered in months 2-4 of a run (units_monthly)."""
    # departments choose from what answering brings (decisions.py): with cooperation unscored,
    # only the dual assessment makes answering pay; their choices start after the first month
    um = ran({"rules.assessment.dual_whistle": dual, "rules.assessment.cooperation_scoring": "none"},
             seed=2, scale=0.002, days=125).results().units_monthly
    d = um[um["kind"].isin(DEPARTMENTS) & (um["month"] >= 1)]
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


# ------------------------------------------------------------ month-end push near the line (Art. 28)
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


# ------------------------------------------------------------ orders live until they end (issue 9 item 1)
def hand_built(overrides: dict | None = None, n: int = 1, **cols):
    """A fresh model (not run) whose order store holds ``n`` hand-built orders, all held by the
    right unit (unit 0, a township), contacted on day 0, 7-day tier, due on day 7."""
    m = model({"world.handling.solve_prob": 1.0, "world.handling.hard_solve_prob": 1.0, **(overrides or {})})
    base = dict(key=np.arange(1, n + 1, dtype=np.uint64), requester=np.zeros(n, np.int32),
                township=np.zeros(n, np.int16), category=np.zeros(n, np.int8), rtype=np.ones(n, np.int8),
                tier=np.full(n, 2, np.int8), unit=np.zeros(n, np.int16), right_unit=np.zeros(n, np.int16),
                difficulty=np.full(n, 10.0, np.float32), remaining=np.full(n, 6.0, np.float32),
                ti_created=np.zeros(n, np.int16), ti_available=np.zeros(n, np.int16),
                ti_deadline=np.full(n, 7, np.int16), ti_contact=np.zeros(n, np.int16))
    base.update(cols)
    m.orders.add(**base)
    return m


def test_an_order_past_its_deadline_stays_open_and_can_still_be_truly_solved():
    from model import handling
    m = hand_built({"world.handling.explain_daily": 0.0, "world.handling.explain_daily_blocked": 0.0})
    wo = m.orders
    got = handling.finish_and_close(7, m)                   # the deadline passes unfinished
    assert got["closing"].size == 0 and wo.state[0] == OPEN
    assert wo.overdue[0] and wo.ti_overdue[0] == 7 and wo.remaining[0] == 6.0
    assert dict((k, v[0]) for k, v in got["tally"].items)["overdue"] == 1   # booked the day it falls due
    wo.remaining[0] = 0.0                                    # the work is done later
    got = handling.finish_and_close(12, m)
    assert got["closing"].tolist() == [0] and wo.state[0] == CLOSED and wo.ending[0] == END_WORKED
    assert wo.true_resolved[0] and wo.overdue[0] and wo.ti_closed[0] == 12
    assert not got["tally"].items                            # not overdue a second time


def test_an_overdue_order_held_back_is_explained_as_temporarily_unsolvable():
    from model import handling
    m = hand_built({"world.handling.explain_daily_blocked": 1.0, "world.handling.explain_daily": 0.0},
                   n=2, hard=np.array([True, False]), extended=np.array([True, True]))
    wo = m.orders
    handling.finish_and_close(7, m)                          # both fall due (already extended once)
    assert wo.overdue.all() and (wo.state == OPEN).all()
    explain0 = wo.explain.copy()
    got = handling.finish_and_close(8, m)                    # the hard one is explained the next day
    assert got["closing"].tolist() == [0]
    assert wo.ending[0] == END_EXPLAINED and not wo.true_resolved[0] and not wo.claimed_resolved[0]
    assert wo.explain[0] - explain0[0] == m.cfg.world.handling.unsolvable_explain_hours
    assert wo.carry[0] == 6.0                                # a repeat would continue from the work left
    assert wo.state[1] == OPEN                               # the other one is not held back: still open


def extension_tally(m, day: int) -> dict:
    from model import handling
    return {k: int(v.sum()) for k, v in handling.finish_and_close(day, m)["tally"].items}


def test_a_unit_asks_for_an_extension_as_often_as_it_chooses_and_only_where_the_hotline_grants_them():
    """Art. 15(2): the rule opens the channel; the unit's p_extend decides whether it asks."""
    n = 400
    cols = dict(n=n, hard=np.ones(n, bool), key=np.arange(1, n + 1, dtype=np.uint64))
    off = {"world.handling.explain_daily": 0.0, "world.handling.explain_daily_blocked": 0.0}
    for p in (0.0, 0.3, 1.0):
        m = hand_built(off, **cols)
        m.units.p_extend[:] = p
        t = extension_tally(m, 7)
        wo = m.orders
        asked = int(wo.extended[:n].sum())
        assert t["extend_candidates"] == n and t.get("extensions", 0) == asked
        assert abs(asked - p * n) <= binomial_tolerance(n, p) * n + 1e-9
        assert (wo.ti_deadline[:n][wo.extended[:n]] == 7 + m.cfg.rules.deadlines.extension_days).all()
        assert t.get("overdue", 0) == n - asked and t.get("overdue_hard", 0) == n - asked
    m = hand_built({**off, "rules.deadlines.extensions": False}, **cols)
    m.units.p_extend[:] = 1.0
    t = extension_tally(m, 7)
    assert not m.orders.extended[:n].any() and "extend_candidates" not in t and t["overdue"] == n


def test_an_extended_order_still_unfinished_at_its_new_deadline_is_booked_as_such():
    m = hand_built({"world.handling.explain_daily": 0.0}, hard=np.array([True]))
    m.units.p_extend[:] = 1.0
    assert extension_tally(m, 7)["extensions"] == 1
    t = extension_tally(m, 7 + m.cfg.rules.deadlines.extension_days)
    assert t["overdue"] == 1 and t["extended_overdue"] == 1


def test_overdue_orders_are_explained_at_the_units_chosen_daily_rate():
    from model import handling
    n = 2000
    m = hand_built(None, n=n, key=np.arange(1, n + 1, dtype=np.uint64), extended=np.ones(n, bool))
    handling.finish_and_close(7, m)
    m.units.p_explain[:] = 0.2                      # not held back: the unit's unblocked rate
    m.units.p_explain_blocked[:] = 0.9
    got = handling.finish_and_close(8, m)["closing"].size
    assert abs(got / n - 0.2) <= binomial_tolerance(n, 0.2)


def test_gaming_hours_go_to_pressure_as_the_unit_chooses():
    """handling.game: pressure hours are the unit's pressure share of its gaming hours."""
    from model import handling
    m = hand_built(None)
    hours = np.full(m.city.n_units, 2.0)
    m.units.pressure_share[:] = 0.1
    _, pressure = handling.game(np.arange(1), 3, m, hours)
    np.testing.assert_allclose(pressure, 0.2)
    m.units.pressure_share[:] = 0.0
    assert not handling.game(np.arange(1), 3, m, hours)[1].any()


def test_a_formal_closure_of_an_overdue_order_ends_it_claimed_resolved():
    from model import handling
    m = hand_built({"world.handling.explain_daily": 0.0})
    wo = m.orders
    handling.finish_and_close(7, m)
    wo.gamed[0], wo.ending[0], wo.ti_done[0] = True, END_FORMAL, 9   # what handling.game does
    got = handling.finish_and_close(9, m)
    assert got["closing"].tolist() == [0] and wo.claimed_resolved[0] and not wo.true_resolved[0]


def test_a_repeat_continues_from_the_remaining_work_and_joins_an_open_order():
    from model import handling, intake
    m = hand_built({"world.handling.explain_daily_blocked": 1.0, "world.handling.solve_prob": 0.0,
                    "world.handling.rework_share": 0.3},
                   n=3, hard=np.array([True, False, False]), extended=np.ones(3, bool),
                   remaining=np.array([6.0, 0.0, 2.0], np.float32))
    wo = m.orders
    handling.finish_and_close(7, m)     # order 1 is finished (fix fails: solve_prob 0), 0 and 2 fall due
    handling.finish_and_close(8, m)     # order 0 explained; order 2 still open
    assert wo.state.tolist() == [CLOSED, CLOSED, OPEN]
    assert np.allclose(wo.carry[:2], [6.0, 0.3 * 10.0])   # the work left, or a share again after a failed fix
    parents = handling.join_open(np.array([0, 1, 2]), m)
    assert parents.tolist() == [0, 1] and wo.n_joined.tolist() == [0, 0, 1] and wo.threat[2]
    rep = intake.repeat_requests(parents, m)
    assert np.allclose(rep["difficulty"], [6.0, 3.0])       # not the parents' full difficulty of 10
    assert (rep["n_prior"] == 1).all()


def test_in_a_short_staffed_run_orders_end_after_their_deadline_some_truly_solved():
    m = ran({"world.capacity.ratio": 0.5, "rules.deadlines.extensions": False}, seed=4, scale=0.002, days=40)
    wo = m.orders
    late_end = (wo.state == CLOSED) & wo.overdue
    assert (wo.ti_closed[late_end] > wo.ti_overdue[late_end]).all()
    assert (late_end & wo.true_resolved).sum() > 0
    assert (late_end & (wo.ending == END_EXPLAINED)).sum() > 0
    s = m.results().summary
    assert s["resolved_after_deadline"] == int((late_end & wo.true_resolved).sum())
    assert s["overdue_open_end"] == int((wo.overdue & (wo.state != CLOSED)).sum())


# ------------------------------------------------------------ both sides of dynamic scope (issue 9 item 6)
def unreasonable_labelled_share(exclude: bool, belief0: float) -> tuple[int, float]:
    """Contacted unreasonable orders and the share of them labelled in good faith."""
    m = ran({"rules.assessment.exclude_unreasonable": exclude, "world.behaviour.label_belief0": belief0,
             "world.demand.unreasonable_share": 0.3, "world.triage.detect_unreasonable": 0.0},
            seed=2, scale=0.002, days=20)
    wo = m.orders
    seen = wo.unreasonable & (wo.ti_contact >= 0)
    return int(seen.sum()), float((seen & (wo.label_kind == LABEL_HONEST)).sum() / max(seen.sum(), 1))


def test_honest_labels_appear_on_unreasonable_orders_when_exclusion_counts():
    h, b = config_from().world.handling, config_from().world.behaviour
    n, share = unreasonable_labelled_share(True, 1.0)
    assert n > 200
    # every unit expects labels to count (belief 1 within the first month): recognised ones are labelled
    assert abs(share - h.recognise_unreasonable) <= binomial_tolerance(n, h.recognise_unreasonable)
    # a unit that expects labels to change nothing labels only for the record
    n0, share0 = unreasonable_labelled_share(False, 0.0)
    p0 = h.recognise_unreasonable * b.label_clerical_value
    assert abs(share0 - p0) <= binomial_tolerance(n0, p0)


def test_an_honestly_labelled_order_gets_no_more_work_and_no_fix():
    m = ran({"world.demand.unreasonable_share": 0.3, "world.triage.detect_unreasonable": 0.0,
             "world.handling.misjudge_reasonable": 0.2}, seed=2, scale=0.002, days=20)
    wo = m.orders
    honest = wo.label_kind == LABEL_HONEST
    assert (honest & ~wo.unreasonable).sum() > 20             # misjudged reasonable ones too
    assert (wo.remaining[honest] == 0).all() and not wo.true_resolved[honest].any()


def test_gaming_labels_follow_the_units_expectation_not_a_rules_switch():
    # units that expect no label to count put no gaming hours into labels (the split follows
    # Units.label_belief); exclusion stays on, so only the expectation differs
    over = {"world.behaviour.effort_game": 0.35, "world.behaviour.effort_resolve": 0.5,
            "world.behaviour.effort_satisfy": 0.1, "world.behaviour.effort_proactive": 0.05,
            "world.behaviour.label_belief_learning": 0.0}
    gamed = lambda belief: (ran({**over, "world.behaviour.label_belief0": belief}, seed=2, scale=0.002,  # noqa: E731
                                days=20).orders.label_kind == LABEL_GAMED).sum()
    assert gamed(1.0) > 20 and gamed(0.0) == 0


def test_the_hotline_check_rejects_false_and_correct_labels_with_their_own_probabilities():
    m = ran({"rules.assessment.label_check": 1.0, "rules.assessment.label_check_catch": 0.0,
             "rules.assessment.label_check_wrong_reject": 1.0, "world.demand.unreasonable_share": 0.3,
             "world.triage.detect_unreasonable": 0.0}, seed=2, scale=0.002, days=20)
    wo = m.orders
    lab = (wo.state == CLOSED) & wo.labelled
    assert (lab & wo.unreasonable).sum() > 20 and (lab & ~wo.unreasonable).sum() > 0
    assert np.array_equal(wo.label_rejected[lab], wo.unreasonable[lab])   # the opposite of a perfect check
    s = m.results().summary
    assert s["labels_rejected_honest"] + s["labels_rejected_gamed"] == int(wo.label_rejected.sum())
    assert s["unreasonable_missed"] == int(((wo.state == CLOSED) & wo.unreasonable & ~wo.labelled).sum())
