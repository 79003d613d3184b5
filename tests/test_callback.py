"""Callback, who decides "resolved", audit and the unreasonable label (Art. 23, 32, 35)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import binomial_tolerance, ran

from model.orders import CLOSED

DAYS = 18   # before the late-month window in which measured standing feeds behaviour (cutoff_surge)


@pytest.fixture(scope="module")
def by_who():
    return {who: ran({"rules.assessment.resolved_by": who}, seed=4, scale=0.002, days=DAYS)
            for who in ("unit_report", "requester", "audit")}


def test_who_decides_resolved_changes_measured_but_not_true_resolution(by_who):
    a, b = by_who["unit_report"].orders, by_who["requester"].orders
    assert np.array_equal(a.true_resolved, b.true_resolved)
    assert np.array_equal(a.state, b.state)
    closed = a.state == CLOSED
    assert closed.sum() > 100
    assert not np.array_equal(a.measured_resolved[closed], b.measured_resolved[closed])
    # the first day's closures already differ only in the measure
    day0 = closed & (a.ti_closed == 0)
    assert np.array_equal(a.true_resolved[day0], b.true_resolved[day0])


def test_unit_report_measures_the_units_claim_and_requester_the_requesters_answer(by_who):
    for who, col in (("unit_report", "claimed_resolved"), ("requester", "said_resolved")):
        wo = by_who[who].orders
        closed = wo.state == CLOSED
        expected = getattr(wo, col) & ~wo.detected
        assert np.array_equal(wo.measured_resolved[closed], expected[closed]), who


def test_audit_replaces_the_answer_by_the_truth_on_the_sample(by_who):
    wo = by_who["audit"].orders
    aud = (wo.state == CLOSED) & wo.audited
    assert np.array_equal(wo.measured_resolved[aud], wo.true_resolved[aud])


def test_audited_share_is_the_sample_share(by_who):
    wo = by_who["requester"].orders
    closed = wo.state == CLOSED
    p = by_who["requester"].cfg.rules.audit.sample_share
    assert abs(wo.audited[closed].mean() - p) < binomial_tolerance(int(closed.sum()), p)


def test_full_audit_with_certain_detection_lets_no_false_claim_count_as_resolved():
    m = ran({"rules.audit.sample_share": 1.0, "rules.audit.detection": 1.0,
             "rules.assessment.resolved_by": "unit_report",
             "world.behaviour.effort_resolve": 0.5, "world.behaviour.effort_game": 0.35,
             "world.behaviour.effort_satisfy": 0.1, "world.behaviour.effort_proactive": 0.05},
            seed=2, scale=0.002, days=DAYS)
    wo = m.orders
    closed = wo.state == CLOSED
    false_claim = closed & wo.claimed_resolved & ~wo.true_resolved
    assert false_claim.sum() > 0
    assert wo.audited[closed].all()
    assert wo.detected[false_claim].all()
    assert not (wo.measured_resolved & false_claim).any()
    assert np.array_equal(wo.measured_resolved[closed], (wo.claimed_resolved & wo.true_resolved)[closed])


def test_full_audit_deciding_resolved_makes_the_measure_the_truth():
    m = ran({"rules.audit.sample_share": 1.0, "rules.assessment.resolved_by": "audit"}, seed=2, scale=0.002,
            days=DAYS)
    wo = m.orders
    closed = wo.state == CLOSED
    assert np.array_equal(wo.measured_resolved[closed], wo.true_resolved[closed])


def test_without_audit_nothing_is_audited_or_detected():
    m = ran({"rules.audit.sample_share": 0.0}, seed=2, scale=0.002, days=DAYS)
    assert not m.orders.audited.any() and not m.orders.detected.any()


def test_without_exclusion_no_order_is_excluded_and_units_learn_labels_do_not_count():
    # issue 9 item 6: labels no longer vanish by a rules switch; units still record some (duty of
    # record) and, seeing no label leave their score, expect less of labelling next month
    m = ran({"rules.assessment.exclude_unreasonable": False}, seed=2, scale=0.002, days=35)
    assert not m.orders.excluded.any()
    assert m.orders.labelled.any()
    w = m.cfg.world.behaviour
    saw = m.results().units_monthly.query("month == 0 and labelled > 0")["unit"].to_numpy()
    assert saw.size > 0
    assert np.allclose(m.units.label_belief[saw], w.label_belief0 * (1 - w.label_belief_learning))


def test_excluded_orders_are_labelled_and_not_rejected_on_check():
    # a check that never rejects a correct label (issue 9 item 6 made that a probability)
    m = ran({"rules.assessment.exclude_unreasonable": True, "rules.assessment.label_check_wrong_reject": 0.0,
             "world.behaviour.effort_resolve": 0.5,
             "world.behaviour.effort_game": 0.35, "world.behaviour.effort_satisfy": 0.1,
             "world.behaviour.effort_proactive": 0.05, "world.capacity.ratio": 0.6},
            seed=2, scale=0.002, days=35)
    wo = m.orders
    closed = wo.state == CLOSED
    assert wo.labelled.any()
    assert np.array_equal(wo.excluded[closed], (wo.labelled & ~wo.label_rejected)[closed])
    # a check only rejects labels on requests that were in fact reasonable
    assert not (wo.label_rejected & wo.unreasonable).any()


def test_every_checked_wrong_label_is_rejected_when_all_labels_are_checked():
    # a perfect check (issue 9 item 6: catch and wrong rejection are probabilities; here 1 and 0)
    m = ran({"rules.assessment.label_check": 1.0, "rules.assessment.label_check_catch": 1.0,
             "rules.assessment.label_check_wrong_reject": 0.0, "world.behaviour.effort_resolve": 0.5,
             "world.behaviour.effort_game": 0.35, "world.behaviour.effort_satisfy": 0.1,
             "world.behaviour.effort_proactive": 0.05, "world.capacity.ratio": 0.6},
            seed=2, scale=0.002, days=35)
    wo = m.orders
    closed = (wo.state == CLOSED) & wo.labelled
    assert closed.sum() > 0
    assert np.array_equal(wo.label_rejected[closed], ~wo.unreasonable[closed])


def test_every_closed_order_is_rated_once_and_open_ones_not_at_all():
    m = ran(seed=3, scale=0.002, days=35)
    wo = m.orders
    closed = wo.state == CLOSED
    # issue 9 item 8: a requester not reached at callback (Art. 23) gives no rating
    assert np.isin(wo.satisfaction[closed & ~wo.unreached], [0, 1, 2]).all()
    assert (wo.satisfaction[closed & wo.unreached] == -1).all()
    assert (wo.satisfaction[~closed] == -1).all()


def test_honest_requesters_without_pressure_rarely_call_an_unsolved_problem_resolved():
    p = 0.1
    m = ran({"world.citizens.honesty": 1.0, "world.citizens.pressure_effect": 0.0,
             "world.citizens.explain_persuasion": p}, seed=3, scale=0.002, days=DAYS)
    wo = m.orders
    uns = (wo.state == CLOSED) & ~wo.true_resolved
    # only explanation can still sway: at most explain_persuasion x explained (callback.py)
    n = int(uns.sum())
    assert wo.said_resolved[uns].mean() < p + binomial_tolerance(n, p)


def test_explanation_persuades_requesters_to_call_unresolved_requests_resolved():
    """world.citizens.explain_persuasion: explained, unresolved requests are more often
    answered 'resolved' (Art. 15(2), 23); resolved ones and the truth are untouched."""
    base = {"world.citizens.honesty": 1.0, "world.citizens.pressure_effect": 0.0,
            "world.behaviour.effort_satisfy": 0.4, "world.behaviour.effort_resolve": 0.5,
            "world.behaviour.effort_game": 0.0, "world.behaviour.effort_proactive": 0.1}
    runs = {p: ran({**base, "world.citizens.explain_persuasion": p}, seed=3, scale=0.004, days=DAYS)
            for p in (0.0, 0.8)}
    said = {}
    for p, m in runs.items():
        wo = m.orders
        uns = (wo.state == CLOSED) & ~wo.true_resolved & (wo.explain > 0)
        said[p] = wo.said_resolved[uns]
    assert np.array_equal(runs[0.0].orders.true_resolved, runs[0.8].orders.true_resolved)
    assert said[0.0].sum() == 0                                # fully honest, no pressure: never
    n = said[0.8].size
    assert n > 30 and said[0.8].mean() > 0.1 + binomial_tolerance(n, 0.1)


# ------------------------------------------------------------ requesters' side (Art. 8(3), 23, 35(5))
def test_a_unit_that_presses_more_gets_more_pressure_reports_known_share():
    from model.callback import pressure_reports

    m = ran(seed=4, scale=0.002, days=DAYS)
    closing = np.flatnonzero(m.orders.state == CLOSED)
    n = closing.size
    unit = np.where(np.arange(n) % 2 == 0, 0, 1)          # unit 0 presses hard, unit 1 lightly
    pressure = np.where(unit == 0, 0.9, 0.1)
    out = pressure_reports(closing, pressure, unit, np.ones(n, bool), m)
    by_unit = dict(out["tally"].items)["pressure_reports"]
    p = m.cfg.world.citizens.pressure_report
    for u, pr in ((0, 0.9), (1, 0.1)):
        share = by_unit[u] / (unit == u).sum()
        assert abs(share - p * pr) < binomial_tolerance(int((unit == u).sum()), p * pr)
    assert by_unit[0] > by_unit[1]
    none = pressure_reports(closing, np.zeros(n), unit, np.ones(n, bool), m)
    assert none["pressure_reports"] == 0, "nobody reports pressure that was not applied"
    unreached = pressure_reports(closing, pressure, unit, np.zeros(n, bool), m)
    assert unreached["pressure_reports"] == 0, "an unreached requester reports nothing"


def test_confirmed_pressure_reports_are_booked_and_sanctioned():
    from model.assessment import assess

    m = ran(seed=4, scale=0.002, days=40)
    assert sum(d["pressure_reports"] for d in m.daily) >= sum(d["pressure_confirmed"] for d in m.daily) > 0
    booked = m.results().units_monthly["pressure_confirmed"].sum() + m.ledger.v["pressure_confirmed"].sum()
    assert booked == sum(d["pressure_confirmed"] for d in m.daily), "every confirmed report reaches the ledger"
    v = {k: x.copy() for k, x in m.ledger.v.items()}
    base = assess(v, m.cfg, m.city, m.unit_population_scaled)["sanction_points"]
    u = int(np.nanargmax(np.where(np.isfinite(base) & (v["closed"] > 0), v["closed"], -1)))
    v["pressure_confirmed"][u] += 2
    more = assess(v, m.cfg, m.city, m.unit_population_scaled)["sanction_points"]
    expected = m.cfg.rules.sanctions.pressure * 2 / max(v["closed"][u], 1.0)
    assert np.isclose(more[u] - base[u], expected)


def test_without_checks_no_pressure_report_is_confirmed():
    m = ran({"rules.hotline.pressure_check": 0.0}, seed=4, scale=0.002, days=DAYS)
    assert sum(d["pressure_reports"] for d in m.daily) > 0
    assert sum(d["pressure_confirmed"] for d in m.daily) == 0


def test_unreached_callbacks_give_no_rating_and_leave_the_rates():
    m = ran({"world.citizens.callback_unreachable": 0.3}, seed=4, scale=0.002, days=DAYS)
    wo = m.orders
    closed = np.flatnonzero(wo.state == CLOSED)
    unreached = wo.unreached[closed]
    assert abs(unreached.mean() - 0.3) < binomial_tolerance(closed.size, 0.3)
    assert (wo.satisfaction[closed][unreached] == -1).all() and not wo.said_resolved[closed][unreached].any()
    assert unreached.sum() == sum(d["unreached_callbacks"] for d in m.daily)
    from model.measures import in_scope
    assert not in_scope(wo, closed[unreached]).any()


def test_unreached_callbacks_counted_unresolved_lower_the_measured_rates():
    over = {"world.citizens.callback_unreachable": 0.3}
    ex = ran(over, seed=4, scale=0.002, days=DAYS)
    cu = ran({**over, "rules.hotline.unreached_callback": "counted_unresolved"}, seed=4, scale=0.002, days=DAYS)
    assert not cu.orders.unreached.any()
    assert np.array_equal(ex.orders.true_resolved, cu.orders.true_resolved)
    r_ex, r_cu = ex.results().summary, cu.results().summary
    assert r_cu["resolution_rate"] < r_ex["resolution_rate"] - 0.1
    assert r_cu["satisfaction_rate"] < r_ex["satisfaction_rate"] - 0.1


def test_every_requester_is_reached_when_nobody_is_unreachable():
    m = ran({"world.citizens.callback_unreachable": 0.0}, seed=4, scale=0.002, days=DAYS)
    closed = m.orders.state == CLOSED
    assert (m.orders.satisfaction[closed] >= 0).all()


# ------------------------------------------------------------ independent survey (issue 10 item 5)
def _survey(m, n=4000, **arrays):
    from model.callback import independent_survey

    key = m.streams.key("test.survey", np.arange(n))
    a = {"true": np.zeros(n, bool), "contacted": np.ones(n, bool), "explained": np.ones(n), **arrays}
    return independent_survey(key, a["true"], a["contacted"], a["explained"], np.zeros(n, np.int64), m)


def test_the_independent_survey_asks_its_sample_and_sees_the_real_outcome():
    m = ran(scale=0.002, days=1)
    n = 4000
    got = _survey(m, n)
    tol = binomial_tolerance(n, m.cfg.world.survey.sample_share)
    assert abs(got["survey_sampled"] / n - m.cfg.world.survey.sample_share) < tol
    solved = _survey(m, n, true=np.ones(n, bool))
    assert solved["survey_satisfied"] > got["survey_satisfied"]            # a real fix satisfies more
    m.cfg.world.survey.sample_share = 0.0
    assert _survey(m, n) == {"survey_sampled": 0, "survey_satisfied": 0}


def test_an_explanation_counts_in_the_survey_only_as_far_as_it_lasts():
    m = ran(scale=0.002, days=1)
    m.cfg.world.survey.sample_share = 1.0
    m.cfg.world.survey.explain_persistence = 0.0
    faded = _survey(m)["survey_satisfied"]
    m.cfg.world.survey.explain_persistence = 1.0
    lasting = _survey(m)["survey_satisfied"]
    assert lasting > faded
