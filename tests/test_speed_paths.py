"""The fast paths of issue 13 give exactly what the plain computations give.

Each faster formulation (in-place hashing, the integer binary search for requester classes,
np.add.at counts, one sort to split schedules by day, per-phase timers, the union of closing
rows, small pages) is checked against the direct computation it replaced, bit for bit,
including edge cases (draws exactly at a class threshold, repeated callers, ties in a queue,
empty inputs). The compiled kernels (model/kernels.py) are checked against the pure-numpy
path they stand for, one by one and on a whole run. No timing asserts.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest
from conftest import model, ran

from model import kernels
from model.assessment import rank_average
from model.citizens import N_CLASSES, add_counts, class_thresholds, last_per_person
from model.handling import RADIX_MIN, allocate, priority, union_of_rows
from model.hotline import split_by_day
from model.orders import small_pages
from model.streams import Streams, _as_u64, mix, mix_inplace
from model.timers import NO_TIMERS, PhaseTimers, make_timers


def test_mix_in_place_gives_the_bits_of_mix_and_leaves_no_alias():
    z = np.random.default_rng(0).integers(0, 2**63, 5000, dtype=np.int64).astype(np.uint64)
    with np.errstate(over="ignore"):
        ref = mix(z)
        out = mix_inplace(z.copy())
        assert np.array_equal(out, ref) and np.array_equal(mix(z), ref)    # mix leaves its input alone
        assert mix_inplace(np.asarray(np.uint64(7))) == mix(np.asarray(np.uint64(7)))


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint64, np.bool_])
def test_keys_of_every_integer_dtype_hash_as_their_uint64_conversion(dtype):
    k = np.array([0, 1, 5, 100], dtype=np.int64).astype(dtype)
    if np.issubdtype(dtype, np.signedinteger):
        k = np.r_[k, np.array([-1, -3], dtype=dtype)]
    assert np.array_equal(_as_u64(k), k.astype(np.uint64))
    s = Streams(4)
    assert np.array_equal(s.key("n", 3, k), s.key("n", 3, k.astype(np.uint64)))
    assert np.array_equal(s.uniform("n", k, 2), s.uniform("n", k.astype(np.uint64), 2))


def _direct_classes(cum: np.ndarray, t: np.ndarray, u: np.ndarray) -> np.ndarray:
    return (cum[t] < u[:, None]).sum(1).clip(0, N_CLASSES - 1)


def test_requester_classes_by_binary_search_equal_the_direct_comparison():
    c = model().citizens
    s = Streams(3)
    t = np.random.default_rng(1).integers(0, c.n_townships, 50000)
    h = s.key("k", np.arange(t.size))
    u = (h >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
    assert np.array_equal(c._class_draw(t, h), _direct_classes(c._cum, t, u))
    # draws exactly at a threshold (and one unit of 2^-53 either side)
    tt = np.repeat(np.arange(c.n_townships), N_CLASSES)
    m = np.floor(c._cum.ravel() * 9007199254740992.0).astype(np.uint64)
    for d in (-1, 0, 1):
        mm = np.clip(m.astype(np.int64) + d, 0, 2**53 - 1).astype(np.uint64)
        hh = mm << np.uint64(11)
        uu = mm.astype(np.float64) * (1.0 / 9007199254740992.0)
        assert np.array_equal(c._class_draw(tt, hh), _direct_classes(c._cum, tt, uu))


def test_class_thresholds_fall_back_when_townships_do_not_fit():
    assert class_thresholds(np.tile(np.linspace(0.05, 1, N_CLASSES), (1024, 1))).size == 0
    thr = class_thresholds(np.tile(np.linspace(0.05, 1, N_CLASSES), (3, 1)))
    assert thr.size == 3 * N_CLASSES and (np.diff(thr.astype(np.float64)) >= 0).all()


def test_add_counts_counts_repeats_like_unique():
    idx = np.array([3, 1, 3, 3, 0, 9, 1])
    a = np.zeros(10, np.int16)
    add_counts(a, idx)
    who, n = np.unique(idx, return_counts=True)
    b = np.zeros(10, np.int16)
    b[who] += n.astype(np.int16)
    assert np.array_equal(a, b)
    add_counts(a, np.zeros(0, np.int64))
    assert np.array_equal(a, b)


def test_distinct_callers_count_each_person_once_with_repeats_within_a_day():
    c = model().citizens
    rng = np.random.default_rng(2)
    seen = set()
    for _ in range(5):
        who = rng.integers(0, 300, 400)
        c.count_callers(who)
        seen |= set(who.tolist())
    assert c.distinct_ytd == len(seen) and c.contacts_ytd == 2000
    assert c.calls_this_year[:300].sum() == 2000


def test_split_by_day_selects_what_a_mask_per_day_selects():
    days = np.array([5, 3, 5, 9, 3, 3, 5])
    got = split_by_day(days)
    assert [d for d, _ in got] == [3, 5, 9]
    for d, sel in got:
        assert np.array_equal(sel, np.flatnonzero(days == d))
    assert split_by_day(np.zeros(0, np.int64)) == []


def test_timers_book_every_phase_and_change_nothing(monkeypatch):
    monkeypatch.delenv("JIESU_TIMERS", raising=False)
    assert make_timers(None) is NO_TIMERS
    monkeypatch.setenv("JIESU_TIMERS", "1")
    assert isinstance(make_timers(None), PhaseTimers)
    a, b = model(days=20), model(days=20)
    b.timers = PhaseTimers()
    a.run(20)
    b.run(20)
    assert pd.DataFrame(a.daily).equals(pd.DataFrame(b.daily))
    phases = {r["phase"]: r for r in b.timers.table()}
    assert {"handling.work_day", "callback.call_back", "dispatch.dispatch_new"} <= set(phases)
    assert phases["handling.work_day"]["seconds"] > 0 and b.timers.calls["handling.work_day"] == 20
    assert abs(sum(r["share"] for r in phases.values()) - 1) < 1e-9
    assert "handling.work_day" in b.timers.report()


# ---------------------------------------------------------------------------- compiled kernels
# model/kernels.py: the numba path and the pure-numpy path (JIESU_PURE=1) give the same bits.

@pytest.fixture
def both_paths():
    """Yields a switch between the paths; the environment's choice is restored afterwards."""
    pytest.importorskip("numba")
    yield kernels.set_active
    kernels.set_active(None)


def _run_tables(days: int = 40, overrides: dict | None = None) -> dict:
    from model.orders import COLUMNS

    m = model({"world.behaviour.learning": True, **(overrides or {})}, days=days)
    m.run(days)
    r = m.results()
    return {"daily": r.daily, "units": r.units_monthly, "summary": r.summary,
            "orders": {k: getattr(m.orders, k).copy() for k in COLUMNS}, "open": m.orders.open_idx.copy()}


@pytest.mark.parametrize("rules", [
    {},
    {"rules.assessment.resolved_by": "audit", "rules.hotline.unreached_callback": "counted_unresolved"},
    {"rules.assessment.resolved_by": "unit_report", "rules.assessment.exclude_unreasonable": False,
     "rules.dispatch.copy_to_district": False, "world.demand.trust_elasticity": 0.6},
    {"rules.deadlines.extensions": False, "rules.sanctions.error_tolerance": 0.0},   # finishing without extensions
    {"rules.deadlines.extension_days": 1},             # extended orders fall overdue again within the run
])
def test_compiled_and_pure_paths_give_identical_runs(both_paths, rules):
    both_paths(False)
    pure = _run_tables(overrides=rules)
    both_paths(True)
    assert kernels.active()
    fast = _run_tables(overrides=rules)
    pd.testing.assert_frame_equal(pure["daily"], fast["daily"])
    pd.testing.assert_frame_equal(pure["units"], fast["units"])
    assert pure["summary"].keys() == fast["summary"].keys()
    for k, v in pure["summary"].items():
        w = fast["summary"][k]
        assert (v == w) or (isinstance(v, float) and np.isnan(v) and np.isnan(w)), k
    for k, v in pure["orders"].items():
        assert np.array_equal(v, fast["orders"][k]), k
    assert np.array_equal(pure["open"], fast["open"])


def test_jiesu_pure_selects_the_numpy_path(monkeypatch):
    kernels.set_active(None)
    monkeypatch.setenv("JIESU_PURE", "1")
    assert not kernels.active() and kernels.get() is None
    monkeypatch.setenv("JIESU_PURE", "0")
    assert kernels.active() == (importlib.util.find_spec("numba") is not None)
    monkeypatch.delenv("JIESU_PURE")
    monkeypatch.setitem(kernels._state, "large", False)
    assert kernels.get(kernels.AUTO_MIN - 1) is None            # a small city: numpy, numba never loaded
    assert kernels.get(kernels.LARGE_MIN) is None
    has_numba = importlib.util.find_spec("numba") is not None
    assert (kernels.get(kernels.AUTO_MIN) is not None) == has_numba   # a large call marks a large run ...
    assert (kernels.get(kernels.LARGE_MIN) is not None) == has_numba  # ... whose smaller calls use them too
    assert kernels.get(kernels.LARGE_MIN - 1) is None
    kernels.set_active(False)
    assert not kernels.active() and kernels.get(10**9) is None
    kernels.set_active(None)


def test_a_long_run_takes_the_kernels_and_a_short_one_does_not(monkeypatch):
    kernels.set_active(None)
    monkeypatch.delenv("JIESU_PURE", raising=False)
    monkeypatch.setitem(kernels._state, "large", False)
    calls = []
    monkeypatch.setattr(kernels, "expect_run", lambda days, scale: calls.append((days, scale)))
    model({}, days=3, scale=0.002).run(2)
    assert calls == [(2, 0.002)]                                 # Model.run says how long and how large
    monkeypatch.undo()
    monkeypatch.setitem(kernels._state, "large", False)
    days, scale = kernels.RUN_MIN_DAYS, kernels.RUN_MIN_SCALE
    kernels.expect_run(days - 1, scale)
    kernels.expect_run(days * 10, scale / 2)
    assert kernels.get(kernels.LARGE_MIN) is None                # a short run or a tiny city stays on numpy
    with kernels.forced(False):
        kernels.expect_run(days, scale)
    assert kernels.get(kernels.LARGE_MIN) is None                # a forced path is left alone
    kernels.expect_run(days, scale)
    has_numba = importlib.util.find_spec("numba") is not None
    assert (kernels.get(kernels.LARGE_MIN) is not None) == has_numba   # a long one: the kernels, for good
    assert kernels.get(kernels.LARGE_MIN - 1) is None


def test_forced_takes_a_path_for_its_block_and_gives_the_earlier_choice_back(both_paths):
    both_paths(False)
    with kernels.forced(True):
        assert kernels.get(1) is not None                      # every size takes the kernels in the block
        with kernels.forced(False):
            assert kernels.get(10**9) is None
        assert kernels.get(1) is not None
    assert kernels.get(10**9) is None                          # the earlier (forced off) choice is back


@pytest.mark.parametrize("keys", [
    lambda r: (r.integers(0, 2**63, 5000).astype(np.uint64),),
    lambda r: (7, r.integers(-9, 60, 5000), r.integers(0, 2**63, 5000).astype(np.uint64)),
    lambda r: (r.integers(0, 2**63, 10000).astype(np.uint64)[::2], np.int8(3)),
    lambda r: (r.integers(0, 400, 3000).astype(np.int16), np.array([5]), r.random(3000) < 0.5),
    lambda r: (r.integers(0, 100, 30),),                      # below the kernel's size: numpy
    lambda r: (r.integers(0, 100, (40, 3)),),                 # 2-D keys: numpy
])
def test_keyed_hash_and_uniform_are_the_same_on_both_paths(both_paths, keys):
    s = Streams(11)
    k = keys(np.random.default_rng(3))
    both_paths(False)
    ref = s.key("a", *k), s.uniform("b", *k), s.bernoulli(0.3, "c", *k)
    both_paths(True)
    got = s.key("a", *k), s.uniform("b", *k), s.bernoulli(0.3, "c", *k)
    for a, b in zip(ref, got):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)


def _allocate_cases():
    rng = np.random.default_rng(5)
    n, nU = 4000, 37
    unit = rng.integers(0, nU, n)
    yield unit, np.full(n, 0.25), rng.integers(0, 3, n).astype(float), rng.random(nU) * 20   # many ties
    yield unit.astype(np.int16), (rng.random(n) * 3).astype(np.float32), rng.normal(0, 5, n), rng.normal(2, 4, nU)
    yield unit, np.zeros(n), rng.random(n), np.zeros(nU)                                   # nothing to give
    yield np.zeros(1, np.int64), np.ones(1), np.zeros(1), np.full(1, 0.5)
    n = RADIX_MIN + 5000                                                                    # a long queue: radix sort
    unit = rng.integers(0, 300, n)
    yield unit, (rng.random(n) * 2).astype(np.float32), rng.integers(-3, 3, n) * 0.5, rng.random(300) * 40


def test_allocate_pours_the_same_hours_on_both_paths(both_paths):
    for unit, need, prio, budget in _allocate_cases():
        both_paths(False)
        ref = allocate(unit, need, prio, budget)
        both_paths(True)
        got = allocate(unit, need, prio, budget)
        assert got.dtype == ref.dtype and np.array_equal(got.view(np.uint64), ref.view(np.uint64))   # bits, signs of zero too


@pytest.mark.parametrize("keys", [
    lambda r: r.integers(-4, 4, 50_000) * 0.25,                               # many ties, negatives
    lambda r: r.integers(0, 550, 30_000) * 1e4 - r.normal(0, 50, 30_000),      # allocate's keys
    lambda r: np.array([0.0, -0.0, np.nan, -1.0, -np.nan, np.inf, -np.inf, 0.0, -0.0, np.nan, 1e-300, -1e-300]),
    lambda r: np.full(1000, 3.5),                                             # one value: every pass skipped
    lambda r: np.zeros(0),
])
def test_radix_order_is_numpys_stable_argsort(keys):
    key = keys(np.random.default_rng(13))
    with kernels.forced(True):
        got = kernels.get(1).radix_order(np.ascontiguousarray(key, dtype=np.float64))
    assert np.array_equal(got, np.argsort(key, kind="stable"))


def test_counting_callers_is_the_same_on_both_paths(both_paths):
    rng = np.random.default_rng(7)
    days = [rng.integers(0, 500, 3000) for _ in range(4)] + [np.zeros(0, np.int64), np.array([3, 3, 3])]
    got = {}
    for on in (False, True):
        both_paths(on)
        c = model().citizens
        got[on] = [(c.count_callers(w), c.distinct_ytd, c.contacts_ytd, c.calls_this_year[:600].copy())[1:]
                   for w in days]
    for a, b in zip(got[False], got[True]):
        assert a[0] == b[0] and a[1] == b[1] and np.array_equal(a[2], b[2])


def test_picking_requesters_is_the_same_on_both_paths(both_paths):
    c = model().citizens
    s = Streams(2)
    rng = np.random.default_rng(8)
    c.trust[:] = rng.random(c.n).astype(np.float32)          # many rejections: every attempt is used
    t = rng.integers(0, c.n_townships, 20000)
    key = s.key("req", np.arange(t.size))
    both_paths(False)
    ref = c.pick_requesters(t, key, s)
    both_paths(True)
    assert np.array_equal(c.pick_requesters(t, key, s), ref)


@pytest.mark.parametrize("compiled", [False, True])
def test_union_of_rows_equals_unique(both_paths, compiled):
    both_paths(compiled)
    rng = np.random.default_rng(9)
    idx = np.sort(rng.choice(100000, 5000, replace=False))
    parts = (idx[rng.random(idx.size) < 0.2], idx[rng.random(idx.size) < 0.1], idx[rng.random(idx.size) < 0.05])
    assert np.array_equal(union_of_rows(idx, parts), np.unique(np.concatenate(parts)))
    assert np.array_equal(union_of_rows(idx[::-1], parts), np.unique(np.concatenate(parts)))   # not ascending
    outside = (np.array([idx[3], 100001, idx[0]]), parts[1], parts[0])
    assert np.array_equal(union_of_rows(idx, outside), np.unique(np.concatenate(outside)))    # not rows of idx, unsorted
    twice = (parts[0], parts[0], parts[2])
    assert np.array_equal(union_of_rows(idx, twice), np.unique(np.concatenate(twice)))        # the same rows twice
    empty = union_of_rows(idx, (np.zeros(0, np.int64),) * 3)
    assert empty.size == 0 and empty.dtype == np.int64


def test_small_pages_gives_zeros_and_restores_numpy_setting():
    mu = np._core.multiarray
    before = mu._get_madvise_hugepage()
    with small_pages():
        a = np.zeros(3_000_000, np.int16)
    assert mu._get_madvise_hugepage() == before and not a.any()


def test_last_per_person_equals_unique_of_the_reversed_list():
    rng = np.random.default_rng(10)
    for idx in (rng.integers(0, 300, 2000).astype(np.int32), rng.integers(0, 10**7, 50), np.array([4]),
                np.zeros(0, np.int64), np.array([-1, 3, -1])):
        who, pos = last_per_person(idx)
        ref_who, ref_rev = np.unique(idx[::-1], return_index=True)
        assert np.array_equal(who, ref_who) and who.dtype == ref_who.dtype
        assert np.array_equal(pos, idx.size - 1 - ref_rev)


def test_callback_updates_of_residents_are_the_same_on_both_paths(both_paths):
    rng = np.random.default_rng(11)
    n = 3000
    idx = rng.integers(0, 400, n)                                  # repeats: the last answer wins
    sat, perf, res = rng.integers(-1, 3, n), rng.random(n) * 1.4 - 0.2, rng.random(n) < 0.5
    trust0, target, unresolved0 = rng.random(500).astype(np.float32), rng.random(900), rng.integers(0, 3, 400)
    got = {}
    for on in (False, True):
        both_paths(on)
        c = model({"world.demand.trust_elasticity": 0.7}).citizens     # a real power in the trust factor
        c.trust[:500] = trust0
        c.n_unresolved[:400] = unresolved0
        c.update_after_callback(idx, sat, perf, res)
        c.update_after_contact(idx[:900], target)
        got[on] = (c.trust.copy(), c.expectation.copy(), c.n_unresolved.copy(), c.trust_num.copy(), c.trust_sum.copy())
    for a, b in zip(got[False], got[True]):
        assert a.dtype == b.dtype and np.array_equal(a, b)


@pytest.mark.parametrize("lam", [
    lambda r: r.random(5000) * 3,
    lambda r: np.r_[r.random(3000) * 0.01, r.random(3000) * 59.9, 61 + r.random(100) * 500, [0.0, 60.0]],
])
def test_poisson_counts_are_the_same_on_both_paths(both_paths, lam):
    s = Streams(12)
    lam = lam(np.random.default_rng(12))
    both_paths(False)
    ref = s.poisson(lam, "p", 3, np.arange(lam.size))
    both_paths(True)
    assert np.array_equal(s.poisson(lam, "p", 3, np.arange(lam.size)), ref)


def test_queue_priority_is_the_same_on_both_paths(both_paths):
    m = ran(days=12)
    wo, idx = m.orders, m.orders.open_idx
    units = (wo.unit[idx], wo.coop_unit[idx].clip(0).astype(np.int64))
    out = {}
    for on in (False, True):
        both_paths(on)
        out[on] = [priority(idx, 12, m, u) for u in units]
    for a, b in zip(out[False], out[True]):
        assert a.dtype == b.dtype and np.array_equal(a.view(np.uint64), b.view(np.uint64))


def test_average_ranks_equal_scipy_rankdata():
    from scipy.stats import rankdata

    rng = np.random.default_rng(13)
    cases = [rng.random(50), rng.integers(0, 5, 40).astype(float), np.array([1.0]), np.array([2.0, np.nan, 1.0]),
             np.zeros(0), np.array([-0.0, 0.0, 1.0, np.inf, -np.inf, np.inf]), rng.integers(0, 3, 343) / 7]
    for x in cases:
        ref, got = rankdata(x), rank_average(x)
        assert got.dtype == ref.dtype and np.array_equal(got, ref, equal_nan=True)


def test_gaming_closes_and_labels_the_same_orders_on_both_paths(both_paths):
    from model.handling import game

    m = model({"world.behaviour.learning": True}, days=40)
    m.run(30)
    wo = m.orders
    idx = wo.open_idx[wo.ti_contact[wo.open_idx] >= 0]
    hours = np.linspace(0.0, 6.0, m.city.n_units)       # enough gaming time for acts in most units
    start = {k: a.copy() for k, a in wo._cols.items()}
    out = {}
    for on in (False, True):
        for k, a in start.items():
            wo._cols[k][:] = a
        both_paths(on)
        banked, pressure = game(idx, 30, m, hours)
        out[on] = (banked, pressure, {k: getattr(wo, k).copy() for k in ("gamed", "ending", "ti_done", "labelled",
                                                                           "label_kind")})
    assert out[True][2]["gamed"].sum() > start["gamed"][: wo.n].sum()      # some orders were closed formally today
    for a, b in zip(out[False][:2], out[True][:2]):
        assert np.array_equal(a.view(np.uint64), b.view(np.uint64))
    for k, v in out[False][2].items():
        assert np.array_equal(v, out[True][2][k]), k
