"""The hotline's operators (Art. 8(2), 10): answering capacity, waiting, retries and give-ups."""

from __future__ import annotations

import numpy as np
from conftest import draw_day, model, ran

from model import intake


def test_capacity_scales_with_operators_and_city_scale():
    m = model({"world.hotline.operators": 1400.0}, scale=0.01)
    h = m.cfg.world.hotline
    assert np.isclose(m.hotline.capacity, 1400.0 * h.shifts_per_week / 7 * h.calls_per_shift * 0.01)


def test_answer_rate_and_wait_follow_the_load_known_answer():
    m = model(scale=0.01)
    h, cap = m.cfg.world.hotline, m.hotline.capacity
    # twice the load the operators can take: half can be answered; the queue is at its cap
    a, w = m.hotline.load_figures(2 * cap / h.peak_factor)
    wait = 8 * 3600 / h.calls_per_shift / h.seats * 0.98 / 0.02
    assert np.isclose(w, wait)
    assert np.exp(-wait / h.patience_seconds) > 0.5 and np.isclose(a, 0.5), "capacity binds, not patience"
    # just above capacity impatience binds: the answer rate is continuous across the capacity line
    below, _ = m.hotline.load_figures(0.999 * cap / h.peak_factor)
    above, _ = m.hotline.load_figures(1.001 * cap / h.peak_factor)
    assert np.isclose(below, above, atol=0.01) and np.isclose(above, np.exp(-wait / h.patience_seconds))
    # half load: waiting is one handling time per seat, nobody is turned away for capacity
    a2, w2 = m.hotline.load_figures(0.5 * cap / h.peak_factor)
    assert np.isclose(w2, 8 * 3600 / h.calls_per_shift / h.seats)
    assert a2 > 0.99 and a2 > a


def _answer(overrides, day=0):
    m = model(overrides, scale=0.005)
    new = intake.record(draw_day(m, day), np.empty(0, np.int64), m)
    before = m.citizens.trust.copy()
    answered, q, calls = m.hotline.answer(new, draw_day(m, day)["consult_answered"], day, m)
    return m, new, answered, calls, before


def test_with_operators_far_below_load_the_answer_rate_falls_and_givers_up_lose_trust():
    m, new, answered, calls, before = _answer({"world.hotline.operators": 20.0, "world.hotline.retry_prob": 0.0})
    assert calls["answer_rate"] < 0.2
    assert calls["calls_unanswered"] > 0.7 * calls["calls_offered"]
    lost = np.setdiff1d(new["requester"][~new["online"]], answered["requester"])
    assert lost.size > 50
    target = m.cfg.world.citizens.unanswered_trust
    assert (m.citizens.trust[lost] < before[lost]).all() and (before[lost] > target).all()
    assert m.hotline.due(1) is None, "nobody retries when retry_prob is 0"


def test_unanswered_callers_who_retry_come_back_the_next_day_and_online_contacts_are_never_lost():
    m, new, answered, calls, before = _answer({"world.hotline.operators": 20.0, "world.hotline.retry_prob": 1.0})
    back = m.hotline.due(1)
    n_lost_requests = new["key"].size - answered["key"].size
    assert back["key"].size == n_lost_requests > 0
    assert not back["online"].any() and answered["online"].sum() == new["online"].sum()
    assert calls["calls_given_up"] == 0
    assert np.array_equal(m.citizens.trust, before), "retrying callers have not given up"


def test_the_answer_rate_falls_with_fewer_operators_in_a_run_and_contacts_stay_conserved():
    full = ran(seed=2, scale=0.002, days=20)
    few = ran({"world.hotline.operators": 300.0}, seed=2, scale=0.002, days=20)
    rate = lambda m: np.mean([d["answer_rate"] for d in m.daily])  # noqa: E731
    assert rate(few) < 0.5 < rate(full)
    assert sum(d["calls_given_up"] for d in few.daily) > sum(d["calls_given_up"] for d in full.daily)
    few.check_invariants()
    assert sum(d["contacts"] for d in few.daily) < sum(d["contacts"] for d in full.daily)
