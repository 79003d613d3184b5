"""The fast paths of issue 13 give exactly what the plain computations give.

Each faster formulation (in-place hashing, the integer binary search for requester classes,
np.add.at counts, one sort to split schedules by day, per-phase timers) is checked against
the direct computation it replaced, bit for bit, including edge cases (draws exactly at a
class threshold, repeated callers, empty inputs). No timing asserts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import model

from model.citizens import N_CLASSES, add_counts, class_thresholds
from model.hotline import split_by_day
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
