"""Units (model/behaviour.py, MECHANISMS.md section 4): staff time and its split, exhaustion, the
month-end push, district rebalancing, learned decisions; and learning: evidence from peers, aspiration
learning with imitation, and the learned policy offsets (model/behaviour.py).

Each test builds ``Units`` from a tiny model and calls the method with hand-made
utilities, classes and splits, so the right answer is known. Units outside the hand-made
classes get a NaN utility: they are not ranked and must not learn.
"""
from __future__ import annotations

import numpy as np
import pytest
from conftest import K_SD, model

from model.agents import DistrictGovernment
from model.behaviour import POLICY_NAMES, evidence_steps
from model.world import KIND_DISTGOV, KIND_HOTLINE, KIND_TOWNSHIP

# |tanh(t / 2)| for a slope that is really zero: t is about standard normal, so K_SD bounds it
NO_EVIDENCE = np.tanh(K_SD / 2)


def in_role_floor(m) -> float:
    """The least share of time a unit keeps on real work (world.behaviour.min_resolve_share)."""
    return float(m.cfg.world.behaviour.min_resolve_share)


def assert_valid_split(effort: np.ndarray) -> None:
    assert np.isfinite(effort).all()
    assert (effort >= 0).all()
    assert np.allclose(effort.sum(1), 1.0)


def only(units: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """A utility vector: ``values`` for ``units``, NaN (not ranked) for every other unit."""
    u = np.full(n, np.nan)
    u[units] = values
    return u


# ------------------------------------------------------------ evidence_steps: a pure function
def test_evidence_recovers_the_sign_of_a_planted_within_class_slope():
    rng = np.random.default_rng(0)
    n = 60
    X = rng.normal(size=(2 * n, 2))
    cls = np.repeat([0, 1], n)
    y = np.where(cls == 0, 3 * X[:, 0] - 2 * X[:, 1], -3 * X[:, 0]) + 0.1 * rng.normal(size=2 * n)
    # a level shift between classes must not matter: each class is regressed on its own
    y = y + 100 * cls
    step = evidence_steps(X, y, cls, np.ones(2 * n, bool))
    a, b = step[cls == 0], step[cls == 1]
    assert (a == a[0]).all() and (b == b[0]).all()          # one step per class, shared by its members
    assert a[0, 0] > NO_EVIDENCE and a[0, 1] < -NO_EVIDENCE  # strong evidence: near +1 and -1
    assert b[0, 0] < -NO_EVIDENCE
    assert abs(b[0, 1]) < NO_EVIDENCE                       # no slope planted: no confident step
    assert (np.abs(step) <= 1).all()


def test_evidence_is_zero_for_small_classes_no_variation_and_units_not_acting():
    rng = np.random.default_rng(1)
    k = 2
    cls = np.repeat([0, 1, 2, 3], [30, 10, 5, 1])   # classes 2 and 3: fewer than 3 members per column
    n = cls.size
    X = rng.normal(size=(n, k))
    y = 2 * X[:, 0] + X[:, 1]
    X[cls == 1, 1] = 0.5               # class 1: the second column never varies
    acting = np.ones(n, bool)
    acting[:5] = False                 # not ranked this month
    step = evidence_steps(X, y, cls, acting)
    assert (step[~acting] == 0).all()
    assert (step[cls >= 2] == 0).all()
    c1 = step[cls == 1]
    assert (c1[:, 1] == 0).all() and (c1[:, 0] > NO_EVIDENCE).all()   # the varying column is still fitted
    X[cls == 0] = 1.0                  # no variation at all in class 0
    assert (evidence_steps(X, y, cls, acting)[cls == 0] == 0).all()


# ------------------------------------------------------------ Units.learn: the effort split
def test_a_unit_below_its_aspiration_imitates_a_top_quarter_peer():
    m = model({"world.behaviour.imitation": 1.0, "world.behaviour.exploration": 0.0}, scale=0.001)
    U = m.units
    n = m.city.n_units
    members = np.arange(8)             # one class of 8 townships: its top quarter is 2 units
    cls = np.full(n, 9)
    cls[members] = 0
    top1, top2 = [0.5, 0.1, 0.3, 0.1], [0.4, 0.4, 0.1, 0.1]
    third = [0.9, 0.0, 0.0, 0.1]       # third by utility: not in the top quarter, nobody copies it
    rest = [0.7, 0.2, 0.0, 0.1]
    U.effort[members] = [top1, top2, third, rest, rest, rest, rest, rest]
    before = U.effort.copy()
    utility = only(members, np.array([8.0, 7.0, 6.0, 1.0, 1.0, 1.0, 1.0, 1.0]), n)
    U.aspiration[:] = 100.0            # everyone is below aspiration, so everyone imitates
    U.learn(utility, cls, m.streams, month=0)
    lr = m.cfg.world.behaviour.learning_rate
    assert 0 < lr < 1
    # each unit moved learning_rate of the way toward the split of one of the two top units
    copied = (U.effort[members] - (1 - lr) * before[members]) / lr
    is_top = [np.allclose(c, top1) or np.allclose(c, top2) for c in copied]
    assert all(is_top), copied
    assert not np.allclose(U.effort[members[3:]], before[members[3:]])
    # units without a utility (not ranked) keep their split
    others = np.setdiff1d(np.arange(n), members)
    assert np.allclose(U.effort[others], before[others], rtol=0, atol=1e-12)


def test_a_unit_above_its_aspiration_does_not_imitate():
    m = model({"world.behaviour.imitation": 1.0, "world.behaviour.exploration": 0.0}, scale=0.001)
    U = m.units
    n = m.city.n_units
    members = np.arange(8)
    cls = np.full(n, 9)
    cls[members] = 0
    U.effort[members] = [[0.5, 0.1, 0.3, 0.1]] * 2 + [[0.7, 0.2, 0.0, 0.1]] * 6
    before = U.effort.copy()
    U.aspiration[:] = -100.0           # everyone is content
    U.learn(only(members, np.arange(8.0)[::-1], n), cls, m.streams, month=0)
    assert np.allclose(U.effort, before)      # no exploration asked for, no reason to copy


@pytest.mark.parametrize("source_work", [True, False])
def test_learning_keeps_every_split_valid_even_with_wild_exploration(source_work):
    m = model({"world.behaviour.exploration": 0.5, "world.behaviour.learning_rate": 1.0,
               "rules.proactive.unit_source_work": source_work}, scale=0.001)
    U = m.units
    n = m.city.n_units
    rng = np.random.default_rng(2)
    cls = m.city.unit_class
    # some units start at the edges: all on gaming, all on satisfaction, nearly all on real work
    U.effort[:3] = [[0.2, 0.0, 0.8, 0.0], [0.2, 0.8, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]]
    if not source_work:
        U.effort[:, 0] += U.effort[:, 3]
        U.effort[:, 3] = 0.0
    for month in range(6):
        # the worse a unit games, the better it scores: learning pushes toward gaming
        utility = 5 * U.effort[:, 2] + rng.normal(size=n)
        U.learn(utility, cls, m.streams, month)
        assert_valid_split(U.effort)
        if not source_work:
            assert (U.effort[:, 3] == 0).all()      # nothing learned toward work the rules do not allow


def test_learning_never_takes_in_role_work_below_the_floor():
    m = model(scale=0.001)
    U = m.units
    n = m.city.n_units
    floor = in_role_floor(m)
    U.effort[:] = [floor, 0.0, 1 - floor, 0.0]             # every unit at the floor, the rest on gaming
    utility = 5 * U.effort[:, 2] + np.random.default_rng(6).normal(size=n)
    U.learn(utility, m.city.unit_class, m.streams, month=0)
    assert_valid_split(U.effort)
    assert (U.effort[:, 0] >= floor - 1e-12).all()


def test_the_split_steps_along_the_consequences_gradient():
    """With aspiration, imitation, exploration and peer learning all still, learn() moves each
    acting unit's split by exactly its consequences step (decisions.split_move), real work paying
    for it; units that do not act, or are unranked this month, keep theirs."""
    m = model({"world.behaviour.imitation": 0.0, "world.behaviour.exploration": 0.0,
               "world.behaviour.peer_step": 0.0}, scale=0.001)
    U = m.units
    n = m.city.n_units
    U.effort[:] = [0.6, 0.2, 0.1, 0.1]
    U.split_step[:] = [0.01, -0.02, 0.005]
    utility = np.zeros(n)
    utility[5] = np.nan
    acting = U.acting & np.isfinite(utility)
    U.aspiration[:] = -1.0                                   # all above aspiration: no imitation
    U.learn(utility, m.city.unit_class, m.streams, month=0)
    np.testing.assert_allclose(U.effort[acting], [[0.605, 0.21, 0.08, 0.105]] * acting.sum(), atol=1e-12)
    np.testing.assert_allclose(U.effort[~acting], [[0.6, 0.2, 0.1, 0.1]] * (~acting).sum(), atol=1e-12)


def test_consequences_steps_follow_the_gain_and_vanish_at_zero_weight_but_for_real_resolution():
    from model.decisions import SPLIT_DELTA, split_move
    m = model({"world.behaviour.incentive_weight": 0.0}, scale=0.001)
    pay = np.array([[1.0, -1.0, 0.0]])
    assert np.allclose(split_move(pay, np.zeros((1, 3)), m.cfg), 0.0)       # the assessment ignored
    step = split_move(pay, np.array([[0.0, -0.5, 0.2]]), m.cfg)
    assert step[0, 0] == 0 and step[0, 1] < 0 < step[0, 2]                 # real resolution still counts
    m1 = model({}, scale=0.001)
    b = m1.cfg.world.behaviour
    step = split_move(pay, np.zeros((1, 3)), m1.cfg)
    gain = b.decision_sensitivity * SPLIT_DELTA * b.incentive_weight * pay[0]
    np.testing.assert_allclose(step[0], b.learning_rate * b.consequence_step * np.tanh(gain / 2))


def test_aspiration_follows_utility():
    m = model(scale=0.001)
    U = m.units
    n = m.city.n_units
    kind = m.city.unit_kind
    utility = np.random.default_rng(3).normal(2.0, 1.0, n)
    utility[10] = np.nan                                   # not ranked this month
    acting = ~np.isin(kind, [KIND_DISTGOV, KIND_HOTLINE]) & np.isfinite(utility)
    U.aspiration[:] = 0.0
    start = U.aspiration.copy()
    U.learn(utility, m.city.unit_class, m.streams, month=0)
    moved = U.aspiration - start
    assert (np.sign(moved[acting]) == np.sign(utility[acting] - start[acting])).all()
    assert (np.abs(utility[acting] - U.aspiration[acting]) < np.abs(utility[acting] - start[acting])).all()
    assert np.array_equal(U.aspiration[~acting], start[~acting])    # governments, hotline, unranked: unchanged
    for month in range(1, 40):                                        # the same experience, month after month
        U.learn(utility, m.city.unit_class, m.streams, month)
    assert np.allclose(U.aspiration[acting], utility[acting], atol=1e-3)


# ------------------------------------------------------------ Units.learn_policy: priorities and decisions
def policy_setup(offsets: np.ndarray, utility_of, lr: float = 0.5):
    """40 townships in one class with the given policy offsets and a utility built from them."""
    m = model({"world.behaviour.learning_rate": lr}, scale=0.001)
    U = m.units
    n = m.city.n_units
    members = np.arange(40)
    cls = np.full(n, 9)
    cls[members] = 0
    U.policy_offset[members] = offsets
    U.set_policy(m.cfg)                 # re-applies the offsets (learned offsets persist across rule changes)
    return m, U, members, cls, only(members, utility_of(offsets), n)


def test_policy_offsets_move_in_the_direction_of_the_evidence():
    rng = np.random.default_rng(4)
    k = len(POLICY_NAMES)
    whistle, ease = POLICY_NAMES.index("p_whistle"), POLICY_NAMES.index("priority_ease")
    offsets = rng.normal(0.0, 0.5, (40, k))
    # peers who whistled more and favoured easy orders less scored better
    m, U, members, cls, utility = policy_setup(offsets, lambda x: 2 * x[:, whistle] - 2 * x[:, ease])
    before = U.policy_offset.copy()
    p_whistle, p_ease = U.p_whistle.copy(), U.priority[:, 1].copy()
    U.learn_policy(utility, cls)
    d = U.policy_offset - before
    assert (d[members, whistle] > 0).all() and (d[members, ease] < 0).all()
    assert (U.p_whistle[members] > p_whistle[members]).all()          # the decisions follow the offsets
    assert (U.priority[members, 1] < p_ease[members]).all()
    others = np.setdiff1d(np.arange(m.city.n_units), members)
    assert np.array_equal(U.policy_offset[others], before[others])    # unranked units learn nothing


def test_policy_offsets_are_clipped():
    rng = np.random.default_rng(5)
    k = len(POLICY_NAMES)
    whistle, answer = POLICY_NAMES.index("p_whistle"), POLICY_NAMES.index("p_answer_whistle")
    offsets = rng.normal(0.0, 0.3, (40, k))
    offsets[:, whistle] = rng.uniform(3.7, 3.99, 40)       # near the top of the range, pushed up
    offsets[:, answer] = rng.uniform(-3.99, -3.7, 40)      # near the bottom, pushed down
    m, U, members, cls, utility = policy_setup(offsets, lambda x: 5 * x[:, whistle] - 5 * x[:, answer], lr=1.0)
    for _ in range(3):
        U.learn_policy(utility, cls)
    off = U.policy_offset[members]
    assert (np.abs(U.policy_offset) <= 4.0).all()
    assert (off[:, whistle] == 4.0).all() and (off[:, answer] == -4.0).all()
    assert np.isfinite(U.p_whistle).all() and (U.p_whistle < 1).all() and (U.p_answer_whistle > 0).all()


def test_daily_budgets_split_capacity_by_effort_shares():
    m = model(scale=0.001)
    U = m.units
    b = U.daily_budgets(np.zeros(m.city.n_units))
    assert np.allclose(b.sum(1), U.capacity)
    # units that handle orders split by their effort shares; district governments and the
    # hotline spend all their time in role (coordination; changed with issue 9 item 4)
    a = U.acting
    assert np.allclose(b[a] / U.capacity[a, None], U.effort[a])
    assert np.allclose(b[~a, 0], U.capacity[~a]) and (~a).sum() == 17


def test_full_exhaustion_cuts_capacity_by_the_exhaustion_loss_and_discretionary_work_most():
    m = model({"world.behaviour.exhaustion_capacity_loss": 0.4}, scale=0.001)
    U = m.units
    U.exhaustion[:] = 1.0
    b = U.daily_budgets(np.zeros(m.city.n_units))[U.acting]   # others: all in role (test above)
    e = U.effort[U.acting]
    assert np.allclose(b.sum(1), U.capacity[U.acting] * (1 - 0.4))
    hours = U.capacity[U.acting] * 0.6
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


def test_exhaustion_grows_with_overload_and_recovers_without_it():
    m = model({"world.behaviour.exhaustion_gain": 0.2, "world.behaviour.exhaustion_recovery": 0.5,
               "world.behaviour.exhaustion_sanction_gain": 0.0}, scale=0.001)
    U = m.units
    n = m.city.n_units
    U.update_exhaustion(np.full(n, 200.0), np.full(n, 100.0), np.zeros(n))   # overload 1
    assert np.allclose(U.exhaustion, 0.2)
    U.update_exhaustion(np.full(n, 50.0), np.full(n, 100.0), np.zeros(n))    # no overload
    assert np.allclose(U.exhaustion, 0.1)


def test_a_probability_of_one_is_certain_for_unit_decisions():
    m = model({"world.behaviour.p_whistle": 1.0, "world.behaviour.p_object_bucketpass": 1.0,
               "world.behaviour.effort_heterogeneity": 0.0}, scale=0.001)
    assert (m.units.p_whistle == 1.0).all()
    assert (m.units.p_object_bucketpass == 1.0).all()


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


def test_districts_move_township_staff_toward_the_work_and_keep_their_total():
    for sampling in ("thin", "townships"):
        district_keeps_its_total(sampling)


def district_keeps_its_total(sampling: str) -> None:
    """One township's work triples: it gains staff from its district's other townships (in a
    sampled city, from its pool's: the pool staffs as one district, model/sample.py)."""
    m = model({"world.capacity.district_rebalancing": 0.5, "city.sampling": sampling}, scale=0.05)
    U, tw = m.units, m.city.unit_kind == KIND_TOWNSHIP
    d = m.city.district_pool[np.maximum(m.city.unit_district, 0)]
    before = U.capacity.copy()
    demanded = np.where(tw, before, 0.0)
    first = np.flatnonzero(tw)[0]
    demanded[first] *= 3.0                              # one township's work triples
    U.observe_demand(demanded)
    m.agents_by_type[DistrictGovernment].do("rebalance_staff", 0.5)
    def totals(c):
        return np.bincount(d[tw], weights=c[tw])
    assert np.allclose(totals(U.capacity), totals(before))
    assert U.capacity[first] > before[first]                                   # it gains staff
    same = tw & (d == d[first]) & (np.arange(tw.size) != first)
    assert np.all(U.capacity[same] < before[same])                             # its neighbours give
    assert np.allclose(U.capacity[~tw], before[~tw])                           # departments untouched


def test_each_district_moves_its_own_townships_and_a_sampled_pool_moves_as_one_district():
    thin = model(scale=0.01)                 # thinned (conftest): every district its own pool, as at scale 1
    city = thin.city
    for gov in thin.agents_by_type[DistrictGovernment]:
        d = city.unit_district[gov.uid]
        assert np.array_equal(gov.townships, np.flatnonzero((city.unit_kind == KIND_TOWNSHIP) & (city.unit_district == d)))
    sampled = model({"city.sampling": "townships"}, scale=0.05)
    city = sampled.city
    assert city.district_pool.max() == 0                          # one pool at 0.05: one average district
    moved = [gov.townships for gov in sampled.agents_by_type[DistrictGovernment]]
    assert np.array_equal(moved[0], np.flatnonzero(city.unit_kind == KIND_TOWNSHIP))
    assert all(t.size == 0 for t in moved[1:])
    sampled.units.observe_demand(np.ones(city.n_units))
    sampled.agents_by_type[DistrictGovernment].do("rebalance_staff", 0.5)   # the empty ones do nothing


def test_no_rebalancing_leaves_staff_alone():
    m = model({"world.capacity.district_rebalancing": 0.0})
    before = m.units.capacity.copy()
    m.units.observe_demand(np.arange(before.size, dtype=float))
    m.month_end(0)                         # district_rebalancing 0: districts leave staff alone
    assert np.array_equal(m.units.capacity, before)
