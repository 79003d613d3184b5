"""Demand (Art. 2, 8-9): contact volume, consultations, request types and repeat contacts."""


from __future__ import annotations

import numpy as np
from conftest import K_SD, binomial_tolerance, draw_day, drawn_requests, model, ran

from model.demand import STREAM_CONSULT

NO_SEASON = {"world.demand.seasonality": False}


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


def test_no_refiling_means_no_repeat_requests():
    # issue 9 item 3: diverted requesters can also call again or complain; switch that route off too
    m = ran({"world.citizens.refile_prob": 0.0, "world.citizens.divert_recall": 0.0,
             "world.citizens.divert_complaint_wrong": 0.0, "world.citizens.divert_complaint_right": 0.0},
            seed=1, scale=0.002, days=35)
    assert not (m.orders.n_prior > 0).any()
    assert all(d["repeat_contacts"] == 0 for d in m.daily)


def test_unresolved_requesters_call_again_when_refiling_is_certain():
    m = ran({"world.citizens.refile_prob": 1.0}, seed=3, scale=0.002, days=35)
    wo = m.orders
    assert (wo.n_prior > 0).sum() > 0
    assert sum(d["repeat_contacts"] for d in m.daily) >= (wo.n_prior > 0).sum()
