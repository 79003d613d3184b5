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
    assert np.isin(wo.satisfaction[closed], [0, 1, 2]).all()
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
