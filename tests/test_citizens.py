"""Citizens (诉求人): who files, the heavy tail of frequent callers, trust and acceptance."""


from __future__ import annotations

import numpy as np
import pytest
from conftest import K_SD, binomial_tolerance, model, ran

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
    mass = c.users[t] * c.level                           # only users are picked
    p = mass / mass.sum()
    obs = np.bincount(cls, minlength=N_CLASSES)
    for k in np.flatnonzero(n * p >= 5):
        assert abs(obs[k] - n * p[k]) < K_SD * np.sqrt(n * p[k] * (1 - p[k])), k


def _top_share_expected(c, t: int, top: float = 0.01) -> tuple[np.ndarray, float]:
    """The most call-prone ``top`` share of a township's citizens and their expected share of requests."""
    members = np.concatenate([np.arange(a, a + u) for a, u in zip(c.start[t], c.users[t])])   # the township's users
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
    mass = c.users[t] * c.level                           # only users are picked
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


def _users_sums(c) -> tuple[np.ndarray, np.ndarray]:
    """The township sums of users' filing factor and trust, recomputed from every user."""
    num, tot = np.zeros(c.n_townships), np.zeros(c.n_townships)
    for cell, (a, u) in enumerate(zip(c.start.ravel(), c.users.ravel())):
        t, lev = cell // N_CLASSES, c.level[cell % N_CLASSES]
        num[t] += lev * c.trust_factor(c.trust[a:a + u]).astype(np.float64).sum()
        tot[t] += lev * c.trust[a:a + u].astype(np.float64).sum()
    return num, tot


def test_requesters_are_picked_among_users_and_the_reach_is_volume_over_use():
    """Reach x use (pattern 13): the users' share is contacts per resident over a user's contacts."""
    m = model({"world.demand.contacts_per_capita_year": 0.3, "world.demand.contacts_per_user_year": 1.5}, scale=0.003)
    c = m.citizens
    share = c.users.sum() / c.count.sum()
    assert abs(share - 0.2) < 3 * np.sqrt(c.users.size) / c.count.sum() + 1e-9, share   # rounding: < 1 per cell
    t = np.arange(c.n_townships).repeat(50)
    idx = c.pick_requesters(t, m.streams.key("test.pick", np.arange(t.size)), m.streams)
    assert c.is_user(idx).all()                                                # every requester is a user


def test_the_reach_grows_with_reputation_and_volume_and_users_stay_users():
    m = model({"world.demand.contacts_per_capita_year": 0.3, "world.demand.contacts_per_user_year": 1.5}, scale=0.003)
    c = m.citizens
    before = c.users.copy()
    for _ in range(12):                                    # a year of word of mouth: service praised everywhere
        c.hear_about_service(np.full(c.n_townships, 0.95))
    grown = float(np.average(c.trust_factor(c.reputation), weights=c.count.sum(1)))   # reputation's filing factor
    assert (c.users >= before).all() and grown > 1.03
    assert abs(c.users.sum() / before.sum() - grown) < 0.02, (c.users.sum() / before.sum(), grown)
    widened = c.users.copy()
    c.hear_about_service(np.full(c.n_townships, 0.0))      # scorned: fewer would start, but users stay users
    assert np.array_equal(c.users, widened)
    reach = c.reach.copy()
    cfg = m.cfg.model_copy(deep=True)
    cfg.world.demand.contacts_per_capita_year = 0.6
    c.reconfigure(cfg)                                     # twice the volume: the reach follows the new target
    assert np.allclose(c.reach, np.maximum(reach, 2 * 0.2 * c.trust_factor(c.reputation)))
    assert abs(c.users.sum() - (c.reach[:, None] * c.count).sum()) < 3 * np.sqrt(c.users.size)   # rounding per cell
    assert c.users.sum() > 1.5 * widened.sum()
    num, tot = _users_sums(c)
    assert np.allclose(c.trust_num, num) and np.allclose(c.trust_sum, tot)


def test_the_township_sums_stay_those_of_the_users_after_callbacks_and_new_users():
    m = ran({"world.demand.contacts_per_capita_year": 0.3}, scale=0.003, days=60)
    c = m.citizens
    num, tot = _users_sums(c)
    assert np.allclose(c.trust_num, num, rtol=1e-5) and np.allclose(c.trust_sum, tot, rtol=1e-5)
    user = c.is_user(np.arange(c.n))
    assert (c.trust[~user] == np.float32(c.trust0)).all()       # outside the reach nobody has called
    assert (c.trust[user] != np.float32(c.trust0)).any()
