"""Citizens (诉求人): who files, the heavy tail of frequent callers, trust and acceptance."""


from __future__ import annotations

import numpy as np
import pytest
from conftest import K_SD, binomial_tolerance, model

from model.citizens import N_CLASSES

NO_SEASON = {"world.demand.seasonality": False}


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


def test_distinct_callers_count_each_resident_once_a_calendar_year():
    c = model(scale=0.002).citizens
    c.count_callers(np.array([3, 3, 5, 7, 7, 7]))
    c.count_callers(np.array([5, 9]))
    assert (c.distinct_ytd, c.contacts_ytd) == (4, 8)
    c.new_calendar_year()
    assert (c.distinct_ytd, c.contacts_ytd) == (0, 0)
    c.count_callers(np.array([3]))
    assert (c.distinct_ytd, c.contacts_ytd) == (1, 1)


def test_a_year_long_run_reports_distinct_callers_and_contacts_per_caller():
    from conftest import ran

    s = ran(scale=0.002, days=365).results().summary
    assert 0 < s["distinct_caller_share"] < 1
    assert s["contacts_per_distinct_caller"] >= 1.0
