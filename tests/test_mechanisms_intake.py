"""Demand, intake and triage (Art. 2, 8-11) on small worlds with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import K_SD, binomial_tolerance, draw_day, model, ran

from model import intake
from model.citizens import N_CLASSES
from model.demand import STREAM_CONSULT

NO_SEASON = {"world.demand.seasonality": False}


def drawn_requests(m, days=range(5)):
    """Described and triaged requests of several days' draws from the same (fresh) state."""
    parts = []
    for d in days:
        req = intake.describe_requests(draw_day(m, d)["requests"], m)
        req["divert"] = intake.triage(req, m)
        parts.append(req)
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def expected_contacts_per_day(m) -> float:
    return m.city.township_pop.sum() * m.cfg.city.scale * m.cfg.world.demand.contacts_per_capita_year / 365.0


def test_population_is_beijing_times_scale():
    m = model(scale=0.003)
    target = m.city.township_pop.sum() * 0.003
    assert abs(m.city.township_pop.sum() - 21.89e6) < 0.05e6       # 2020 census, 16 districts
    assert abs(m.citizens.n - target) <= 0.5 * m.city.n_townships + 1   # rounding per township


def test_contacts_per_day_match_population_times_contacts_per_capita():
    m = model(NO_SEASON, scale=0.003)
    days = 10
    total = sum(draw_day(m, d)["consult_answered"] + draw_day(m, d)["requests"]["key"].size for d in range(days))
    mean = days * expected_contacts_per_day(m)
    assert abs(total - mean) < K_SD * np.sqrt(mean)           # sum of Poisson counts
    assert abs(total / mean - 1) < 0.15


def test_simulated_contacts_stay_near_calibration_over_a_month():
    m = ran(NO_SEASON, seed=2, scale=0.003, days=30)
    daily = np.array([d["contacts"] for d in m.daily])
    assert abs(daily.mean() / expected_contacts_per_day(m) - 1) < 0.15


def test_contact_volume_scales_with_contacts_per_capita():
    lo = model({**NO_SEASON, "world.demand.contacts_per_capita_year": 0.5}, scale=0.002)
    hi = model({**NO_SEASON, "world.demand.contacts_per_capita_year": 2.0}, scale=0.002)
    n = lambda m: sum(draw_day(m, d)["consult_answered"] + draw_day(m, d)["requests"]["key"].size  # noqa: E731
                      for d in range(5))
    e_lo, e_hi = 5 * expected_contacts_per_day(lo), 5 * expected_contacts_per_day(hi)
    assert abs(n(lo) - e_lo) < K_SD * np.sqrt(e_lo)
    assert abs(n(hi) - e_hi) < K_SD * np.sqrt(e_hi)


def test_consultations_are_their_share_of_contacts():
    m = model(NO_SEASON, scale=0.003)
    n_consult = n_total = 0
    for d in range(8):
        dr = draw_day(m, d)
        c = dr["consult_answered"] + int((dr["requests"]["stream"] == STREAM_CONSULT).sum())
        n_consult += c
        n_total += dr["consult_answered"] + dr["requests"]["key"].size
    p = m.cfg.world.demand.consultation_share
    assert abs(n_consult / n_total - p) < binomial_tolerance(n_total, p)   # given the total, binomial


def test_request_types_follow_the_type_mix():
    mix = [0.7, 0.1, 0.15, 0.05]
    m = model({"world.demand.request_type_mix": mix, "world.demand.contacts_per_capita_year": 4.0}, scale=0.003)
    req = drawn_requests(m)
    rt = req["rtype"][req["stream"] != STREAM_CONSULT]
    assert (req["rtype"][req["stream"] == STREAM_CONSULT] == 0).all()
    for j, p in enumerate(mix, start=1):
        assert abs((rt == j).mean() - p) < binomial_tolerance(rt.size, p), j


def test_emergency_share_diverts_that_share_of_non_consultation_requests():
    m = model({"world.triage.emergency_share": 0.2, "world.demand.contacts_per_capita_year": 4.0}, scale=0.003)
    req = drawn_requests(m)
    non_consult = req["rtype"] != 0
    share = (req["divert"][non_consult] == 0).mean()
    assert non_consult.sum() > 1000
    assert abs(share - 0.2) < binomial_tolerance(int(non_consult.sum()), 0.2)
    assert not (req["divert"][~non_consult] == 0).any(), "consultations are never sent to 110/119/120/122"


def test_perfect_triage_diverts_every_unreasonable_request_and_no_reasonable_one():
    m = model({"world.triage.detect_unreasonable": 1.0, "world.triage.false_divert": 0.0,
               "world.demand.unreasonable_share": 0.3}, scale=0.003)
    req = drawn_requests(m)
    fixed = np.isin(req["divert"], [0, 1, 3, 5])          # Art. 11(2) 1, 2, 4, 6: by the matter itself
    rest = ~fixed & (req["n_prior"] == 0)
    assert (req["divert"][rest & req["unreasonable"]] == 4).all()
    assert (req["divert"][rest & ~req["unreasonable"]] == intake.NOT_DIVERTED).all()
    assert (rest & req["unreasonable"]).sum() > 50


def test_without_triage_errors_or_detection_nothing_is_diverted_as_out_of_scope():
    m = model({"world.triage.detect_unreasonable": 0.0, "world.triage.false_divert": 0.0}, scale=0.003)
    req = drawn_requests(m)
    assert not (req["divert"] == 4).any()


def test_consultations_answered_directly_never_become_work_orders():
    m = ran({"world.demand.consultation_answered_directly": 1.0}, seed=1, scale=0.002, days=12)
    assert m.orders.n > 0
    assert not (m.orders.rtype == 0).any()


def test_no_direct_answers_sends_every_consultation_to_dispatch():
    m = ran({"world.demand.consultation_answered_directly": 0.0}, seed=1, scale=0.002, days=12)
    assert all(d["consultations_answered"] == 0 for d in m.daily)
    assert (m.orders.rtype == 0).sum() > 0


def test_every_contact_is_answered_diverted_or_dispatched_each_day():
    m = ran(seed=3, scale=0.002, days=35)
    for d in m.daily:
        diverted = sum(d[f"diverted_{n}"] for n in intake.DIVERT_NAMES)
        assert d["consultations_answered"] + diverted + d["dispatched"] == d["contacts"]
        assert d["requests"] == diverted + d["dispatched"]


def test_no_refiling_means_no_repeat_requests():
    m = ran({"world.citizens.refile_prob": 0.0}, seed=1, scale=0.002, days=35)
    assert not (m.orders.n_prior > 0).any()
    assert all(d["repeat_contacts"] == 0 for d in m.daily)


def test_unresolved_requesters_call_again_when_refiling_is_certain():
    m = ran({"world.citizens.refile_prob": 1.0}, seed=3, scale=0.002, days=35)
    wo = m.orders
    assert (wo.n_prior > 0).sum() > 0
    assert sum(d["repeat_contacts"] for d in m.daily) >= (wo.n_prior > 0).sum()


# ------------------------------------------------------------ who files: the heavy tail
def _pick(m, township: int, n: int) -> np.ndarray:
    keys = m.streams.key("test.pick", np.arange(n))
    return m.citizens.pick_requesters(np.full(n, township), keys, m.streams)


def test_requesters_live_in_the_township_of_their_request():
    m = model(scale=0.002)
    t = np.arange(m.city.n_townships).repeat(20)
    idx = m.citizens.pick_requesters(t, m.streams.key("test.pick", np.arange(t.size)), m.streams)
    assert np.array_equal(m.citizens.township_of(idx), t)


def test_requesters_are_chosen_in_proportion_to_their_calling_propensity():
    m = model(scale=0.003)
    c = m.citizens
    t = int(np.argmax(c.count.sum(1)))
    n = 40000
    cls = c.class_of(_pick(m, t, n)) % N_CLASSES
    mass = c.count[t] * c.level
    p = mass / mass.sum()
    obs = np.bincount(cls, minlength=N_CLASSES)
    for k in np.flatnonzero(n * p >= 5):
        assert abs(obs[k] - n * p[k]) < K_SD * np.sqrt(n * p[k] * (1 - p[k])), k


def _top_share_expected(c, t: int, top: float = 0.01) -> tuple[np.ndarray, float]:
    """The most call-prone ``top`` share of a township's citizens and their expected share of requests."""
    members = np.arange(c.start[t, 0], c.start[t, 0] + c.count[t].sum())
    lev = c.level[c.class_of(members) % N_CLASSES]
    k = max(1, int(np.ceil(top * members.size)))
    order = np.argsort(-lev, kind="stable")[:k]
    return members[order], float(lev[order].sum() / lev.sum())


def test_a_few_citizens_file_many_requests():
    m = model(scale=0.003)
    c = m.citizens
    t = int(np.argmax(c.count.sum(1)))
    who, p = _top_share_expected(c, t)
    assert p > 5 * 0.01, "the top 1% of callers should file several times their share"
    n = 30000
    obs = np.isin(_pick(m, t, n), who).mean()
    assert abs(obs - p) < binomial_tolerance(n, p)
    counts = np.bincount(_pick(m, t, n) - c.start[t, 0])
    assert counts.max() > 10 * counts[counts > 0].mean()      # one caller files ten times the average


def test_a_heavier_tail_concentrates_requests_on_fewer_callers():
    heavy = model({"world.demand.caller_tail_shape": 1.2}, scale=0.003).citizens
    light = model({"world.demand.caller_tail_shape": 4.0}, scale=0.003).citizens
    t = int(np.argmax(heavy.count.sum(1)))
    assert _top_share_expected(heavy, t)[1] > _top_share_expected(light, t)[1]


@pytest.mark.parametrize("trust", [0.0, 1.0])
def test_trust_changes_who_files_only_through_acceptance(trust):
    m = model(scale=0.002)
    c = m.citizens
    t = int(np.argmax(c.count.sum(1)))
    c.trust[:] = trust                 # everyone alike: class shares must not move
    n = 20000
    cls = c.class_of(_pick(m, t, n)) % N_CLASSES
    mass = c.count[t] * c.level
    p = mass / mass.sum()
    top = int(np.argmax(p))
    assert abs((cls == top).mean() - p[top]) < binomial_tolerance(n, p[top])
