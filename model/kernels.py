"""Compiled kernels for the hot loops of the daily step (issue 13), with the pure-numpy path kept.

Each kernel does, element by element and in the same order, the integer and float operations
of the numpy code it stands for, so that results are bit-identical: the keyed splitmix64
hash and its uniform (streams.py), the Poisson search, pouring a unit's hours down its sorted
queue and the queue priority (handling.py), picking requesters, counting the year's callers,
residents' trust, expectation and unresolved counts after callback (citizens.py), per-unit
counts under many masks (assessment.Tally.add_masks), classes from cumulative shares (intake.py).
What they never do: transcendental functions (numpy's SIMD exp/log/power round differently
from libm) or reductions whose order numpy sets otherwise (pairwise sums); those stay in numpy, as do the
sorts, except handling.allocate's stable one (a stable order is unique: ``_queue_order`` and, for
long queues, ``_radix_order``).

The kernels are compiled with numba on first use and cached beside this file (``cache=True``;
numba falls back to a user cache directory when that is not writable), so only the first run
after an install or a change pays the compilation.

Which path: ``JIESU_PURE=1`` in the environment (or a missing numba) selects the pure-numpy
path everywhere and ``JIESU_PURE=0`` the kernels everywhere. Unset, the process starts on numpy
and switches to the kernels for good (calls on ``LARGE_MIN`` items or more) once it runs a large
city or a long run: a call on ``AUTO_MIN`` items or more (about scale 0.1 and up), or ``Model.run``
asked for ``RUN_MIN_DAYS`` days or more at scale ``RUN_MIN_SCALE`` or more (:func:`expect_run`).
Loading numba and LLVM costs ~0.45 s a process. Measured 2026-12-07, in fresh processes (the load
included), numpy against kernels: scale 0.01, 240 days 1.47-1.48 s against 1.47-1.51 s (even);
0.02, 240 days 1.61-1.70 against 1.58-1.61; 0.05, 120 days 1.07-1.15 against 1.19-1.24, 180 days
1.64-1.65 against 1.54-1.58. Once loaded they save ~1.9 ms a simulated day at 0.01 and ~2.7 ms at
0.05 (a year, seeds 2-3 after seed 1 in one process: 2.3 -> 1.64 s and 3.5 -> 2.5 s), so every
later run of the process takes them (a sweep's worker runs many; so does the classroom app's model
process after it has replayed the history). A process that has run neither a long run nor a large
city (most tests, the app before a replay) never imports numba. Results are the same either way.
:func:`set_active` forces a path (tests); :func:`active` says whether the kernels are on offer.
Importing this module imports neither numba nor LLVM.
``python -m model.kernels`` compiles and caches every kernel ahead of a first large run.
"""

from __future__ import annotations

import contextlib
import os

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11, _S54 = (np.uint64(s) for s in (30, 27, 31, 11, 54))
_TO_UNIT = 1.0 / 9007199254740992.0        # 2^-53: uniform from the top 53 bits
_SIGN, _ALL_ONES, _DIGIT = np.uint64(1 << 63), np.uint64(0xFFFFFFFFFFFFFFFF), np.uint64(2047)   # radix sort

AUTO_MIN = 8192        # a call on this many items marks a large run (JIESU_PURE unset) ...
RUN_MIN_DAYS = 240     # ... as does a run of this many days (expect_run) ...
RUN_MIN_SCALE = 0.01   # ... at this scale or more (below it the kernels save too little a day) ...
LARGE_MIN = 64         # ... whose calls from this many items on use the kernels (256 before 2026-12-07:
                       # at scale 0.01 a year took 1.93 s with 256, 1.67 s with 64, 1.68 s with 16)
_state: dict = {"forced": None, "kernels": None, "failed": False, "large": False}


def active() -> bool:
    """Whether the kernels are on offer (not forced off, JIESU_PURE not 1, numba importable)."""
    return _choice() is not False and _load() is not None


def set_active(on: bool | None) -> None:
    """Force the kernels on for every size (True) or off (False); None: the environment's
    choice. For tests."""
    _state["forced"] = on


@contextlib.contextmanager
def forced(on: bool | None):
    """Within the block, force a path as :func:`set_active` does; the earlier choice comes back
    after it (long test runs take the kernels without switching the rest of their process)."""
    before = _state["forced"]
    set_active(on)
    try:
        yield
    finally:
        set_active(before)


def _choice() -> bool | None:
    """True: always the kernels; False: never; None: by size (AUTO_MIN)."""
    if _state["forced"] is not None:
        return bool(_state["forced"])
    env = os.environ.get("JIESU_PURE", "")
    return None if env == "" else env == "0"


def expect_run(days: int, scale: float) -> None:
    """A run of ``days`` days at ``scale`` is starting: from ``RUN_MIN_DAYS`` days at
    ``RUN_MIN_SCALE`` on, the kernels pay for numba's load, so the process takes them from now on
    (unless a path is forced)."""
    if days >= RUN_MIN_DAYS and scale >= RUN_MIN_SCALE and _choice() is None:
        _state["large"] = True


def get(n: int = AUTO_MIN):
    """The compiled kernels (a namespace) for a call on ``n`` items, or None (pure numpy)."""
    choice = _choice()
    if choice is None:
        if n >= AUTO_MIN:
            _state["large"] = True             # from now on this process runs a large city
        if not _state["large"] or n < LARGE_MIN:
            return None
    elif not choice:
        return None
    return _load()


def _load():
    if _state["failed"]:
        return None
    k = _state["kernels"]
    if k is None:
        try:
            k = _state["kernels"] = _compile()
        except ImportError:                    # numba not installed: the pure path
            _state["failed"] = True
            return None
    return k


# ---------------------------------------------------------------------------- kernel sources
# Plain Python over numpy scalars: numba compiles them; the pure path never calls them.

def _mix(z):
    """splitmix64 finaliser of one uint64 (wrapping), as streams.mix."""
    z = z + _GOLDEN
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def _chain(h0, keys, i):
    """The keyed hash of item ``i``: mix(h ^ key) for each key in turn (a key of length 1 is a
    scalar broadcast over the items), as Streams._key_numpy."""
    h = h0
    for k in keys:
        h = _mix(h ^ (k[i] if k.size > 1 else k[0]))
    return h


def _hash_keys(h0, keys, n):
    out = np.empty(n, np.uint64)
    for i in range(n):
        out[i] = _chain(h0, keys, i)
    return out


def _hash_uniform(h0, keys, n):
    out = np.empty(n, np.float64)
    for i in range(n):
        out[i] = np.float64(_chain(h0, keys, i) >> _S11) * _TO_UNIT
    return out


def _allocate_sorted(order, unit, need, budget):
    """handling.allocate after its sort: each item in queue ``order`` gets what is left of its
    unit's budget after the items before it, at most its need (cumulative sum, group starts,
    clip to [0, need], in numpy's order of operations); returned in the items' own order."""
    out = np.empty(order.size, np.float64)
    cum = 0.0
    before = 0.0
    last = -1
    for j in range(order.size):
        i = order[j]
        u = unit[i]
        n = np.float64(need[i])
        cum = cum + n
        start = cum - n
        if j == 0 or u != last:
            before = start
            last = u
        g = budget[u] - (start - before)
        g = g if g > 0.0 else 0.0              # np.clip: max(x, lo) then min(., hi), as numpy writes them
        out[i] = g if g < n else n
    return out


def _queue_order(unit, key):
    """handling.allocate's sort: the permutation ``np.argsort(key, kind="stable")`` gives when
    ``key`` orders items by unit first (units far apart in ``key``): a counting sort on the unit
    (stable), then a stable sort of each unit's items by ``key`` (insertion for short queues,
    numba's merge sort for long ones). Stable orders are unique, so both paths agree."""
    n = unit.size
    top = unit.max() if n else 0
    start = np.zeros(top + 2, np.int64)
    for i in range(n):
        start[unit[i] + 1] += 1
    for u in range(top + 1):
        start[u + 1] += start[u]
    fill = start[:-1].copy()
    out = np.empty(n, np.int64)
    for i in range(n):
        u = unit[i]
        out[fill[u]] = i
        fill[u] += 1
    for u in range(top + 1):
        a, b = start[u], start[u + 1]
        if b - a > 32:
            seg = out[a:b].copy()
            out[a:b] = seg[np.argsort(key[seg], kind="mergesort")]
            continue
        for j in range(a + 1, b):              # insertion: equal keys keep their order
            item = out[j]
            k = key[item]
            m = j - 1
            while m >= a and key[out[m]] > k:
                out[m + 1] = out[m]
                m -= 1
            out[m + 1] = item
    return out


def _radix_order(key):
    """``np.argsort(key, kind="stable")`` for a large queue: a stable LSD radix sort on the
    float keys' bits in six passes of 11 bits (a pass whose digit is the same for every item is
    skipped). The bits are turned so that their unsigned order is the float order: negative keys
    flipped whole, positive ones with the sign bit set; -0.0 counts as 0.0 and every NaN as equal
    and last, as numpy orders them. A stable order is unique, so it is numpy's. ``key`` must be
    C-contiguous float64: it is read through a uint64 view (handling.allocate converts it)."""
    n = key.size
    bits = key.view(np.uint64)
    a = np.empty(n, np.uint64)
    for i in range(n):
        b = bits[i]
        if key[i] != key[i]:
            a[i] = _ALL_ONES                   # NaN: after everything, in arrival order
        elif b == _SIGN:
            a[i] = _SIGN                       # -0.0 as 0.0
        else:
            a[i] = ~b if b & _SIGN else b | _SIGN
    hist = np.zeros((6, 2048), np.int64)
    for i in range(n):
        v = a[i]
        for d in range(6):
            hist[d, np.int64((v >> np.uint64(11 * d)) & _DIGIT)] += 1
    idx = np.arange(n)
    tmp_i = np.empty(n, np.int64)
    tmp_a = np.empty(n, np.uint64)
    pos = np.empty(2048, np.int64)
    for d in range(6):
        shift = np.uint64(11 * d)
        if n == 0 or hist[d, np.int64((a[0] >> shift) & _DIGIT)] == n:
            continue                           # one digit for all: this pass moves nothing
        total = 0
        for j in range(2048):
            pos[j] = total
            total += hist[d, j]
        for i in range(n):
            digit = np.int64((a[i] >> shift) & _DIGIT)
            p = pos[digit]
            tmp_i[p] = idx[i]
            tmp_a[p] = a[i]
            pos[digit] = p + 1
        idx, tmp_i = tmp_i, idx
        a, tmp_a = tmp_a, a
    return idx


def _count_callers(calls, who):
    """Add each contact to its resident's calls this year; returns how many residents called
    for the first time this year (each counted once however often they called today)."""
    first = 0
    for i in range(who.size):
        w = who[i]
        if calls[w] == 0:
            first += 1
        calls[w] += 1
    return first


def _pick_step(township, keys, attempt, h_class, h_person, h_trust, thresholds, flat_start, counts,
               n_classes, tf_max):
    """One attempt of citizens.pick_requesters for each request: the propensity class by the
    binary search of Citizens._class_draw, the person in the class, and the acceptance
    threshold u x tf_max (compared with the person's trust factor in numpy)."""
    n = township.size
    idx = np.empty(n, np.int64)
    thr = np.empty(n, np.float64)
    a = np.uint64(attempt)
    for i in range(n):
        t = township[i]
        k = keys[i]
        m = _mix(_mix(h_class ^ k) ^ a) >> _S11
        target = (np.uint64(t) << _S54) | m
        # searchsorted(side='left') over all thresholds: those of earlier townships lie below
        # t x 2^54 <= target and later ones above, so the position is t x n_classes plus the
        # count of township t's own (sorted) thresholds below the target: counted without branches
        base = t * n_classes
        below = 0
        for j in range(n_classes):
            below += thresholds[base + j] < target
        cls = min(below, n_classes - 1)
        cell = t * n_classes + cls
        u2 = np.float64(_mix(_mix(h_person ^ k) ^ a) >> _S11) * _TO_UNIT
        idx[i] = flat_start[cell] + np.int64(u2 * counts[cell])
        thr[i] = np.float64(_mix(_mix(h_trust ^ k) ^ a) >> _S11) * _TO_UNIT * tf_max
    return idx, thr


def _count_masks(unit, masks, n_units):
    """Per-unit counts of ``unit`` under each row of ``masks`` (K x n): K bincounts in one pass."""
    out = np.zeros((masks.shape[0], n_units), np.int64)
    for i in range(unit.size):
        u = unit[i]
        for k in range(masks.shape[0]):
            if masks[k, i]:
                out[k, u] += 1
    return out


def _move_trust(trust, who, outcome, learning):
    """trust[who] += float32(learning x (outcome - trust[who])) for distinct residents ``who``
    (float32 trust, float64 outcome, as citizens._move_trust writes it); returns the trust
    before and after, so the township sums need no second gather."""
    old = np.empty(who.size, np.float32)
    new = np.empty(who.size, np.float32)
    for i in range(who.size):
        w = who[i]
        o = trust[w]
        n = o + np.float32(learning * (outcome[i] - np.float64(o)))
        trust[w] = n
        old[i] = o
        new[i] = n
    return old, new


def _move_expectation(expectation, who, performance, learning, cap):
    """expectation[who] moves toward ``performance`` (float64), clipped to [0, cap] and stored
    as float32, as citizens.update_after_callback writes it."""
    for i in range(who.size):
        w = who[i]
        e = np.float64(expectation[w])
        v = e + learning * (performance[i] - e)
        v = v if v > 0.0 else 0.0
        expectation[w] = np.float32(v if v < cap else cap)


def _count_unresolved(n_unresolved, idx, resolved):
    """Each unresolved callback adds one to its requester's unresolved count, then a resolved
    one resets it (in that order, as citizens.update_after_callback)."""
    for i in range(idx.size):
        if not resolved[i]:
            n_unresolved[idx[i]] += 1
    for i in range(idx.size):
        if resolved[i]:
            n_unresolved[idx[i]] = 0


def _poisson_search(u, lam, p):
    """The exact sequential search of streams.poisson_inverse for small means: ``p`` is
    exp(-lam) from numpy; terms p x lam / i added to the CDF until it reaches u (i < 400)."""
    out = np.zeros(u.size, np.int64)
    for j in range(u.size):
        pj = p[j]
        cdf = pj
        i = 1
        while u[j] > cdf and i < 400:
            pj = pj * (lam[j] / np.float64(i))
            cdf = cdf + pj
            out[j] = i
            i += 1
    return out


def _priority(rows, unit, day, tier, deadline, remaining, threat, weights, urgent, ease_scale,
              p_deadline, p_ease, p_threat, urgent_tier):
    """handling.priority for orders ``rows`` queued at ``unit``: urgent tiers, then deadline,
    ease and threats, with numpy's dtypes (ease in float32 from the float32 remaining work and
    the Python-float scale) and its order of additions."""
    out = np.empty(rows.size, np.float64)
    one = np.float32(1.0)
    for i in range(rows.size):
        r = rows[i]
        u = unit[i]
        left = max(np.int64(deadline[r]) - day, 0)
        ease = one / (one + remaining[r] / ease_scale)
        v = (urgent if tier[r] <= urgent_tier else 0.0) + weights[u, p_deadline] / (1.0 + np.float64(left))
        v = v + weights[u, p_ease] * np.float64(ease)
        out[i] = v + weights[u, p_threat] * (1.0 if threat[r] else 0.0)
    return out


def _count_exceeded(u, rows, table):
    """For each item, how many entries of its row of ``table`` (R x K) lie below its draw:
    ``(u[:, None] > table[rows]).sum(1)`` without the (n x K) gather."""
    out = np.empty(u.size, np.int64)
    for i in range(u.size):
        r = rows[i]
        n = 0
        for j in range(table.shape[1]):
            if u[i] > table[r, j]:
                n += 1
        out[i] = n
    return out


def _select_open(rows, state, available, day, open_state):
    """Rows of ``rows`` that are open and have reached their unit by ``day`` (work_day's queue)."""
    out = np.empty(rows.size, np.int64)
    n = 0
    for i in range(rows.size):
        r = rows[i]
        if state[r] == open_state and available[r] <= day:
            out[n] = r
            n += 1
    return out[:n]


def _work_items(idx, prio, contact, remaining, coop_state, coop_remaining, unit, coop_unit, cap, engaged):
    """Today's work items (handling.work_day step 2): own orders of contacted rows with work
    left, then cooperation items of engaged cooperating units with work left. Returns whether
    each row of ``idx`` is contacted, the own and cooperation rows, the items' unit, need
    (float32, at most ``cap`` hours) and, for own items, the queue priority."""
    mine = np.empty(idx.size, np.bool_)
    n_own = 0
    n_co = 0
    for i in range(idx.size):
        r = idx[i]
        mine[i] = contact[r] >= 0
        if mine[i] and remaining[r] > 0:
            n_own += 1
        if coop_state[r] == engaged and coop_remaining[r] > 0:
            n_co += 1
    own = np.empty(n_own, np.int64)
    co = np.empty(n_co, np.int64)
    items_unit = np.empty(n_own + n_co, np.int64)
    need = np.empty(n_own + n_co, np.float32)
    pr_own = np.empty(n_own, np.float64)
    a = 0
    b = 0
    for i in range(idx.size):
        r = idx[i]
        if mine[i] and remaining[r] > 0:
            own[a] = r
            items_unit[a] = unit[r]
            need[a] = remaining[r] if remaining[r] < cap else cap      # np.minimum(float32, cap)
            pr_own[a] = prio[i]
            a += 1
        if coop_state[r] == engaged and coop_remaining[r] > 0:
            co[b] = r
            items_unit[n_own + b] = coop_unit[r]
            need[n_own + b] = coop_remaining[r] if coop_remaining[r] < cap else cap
            b += 1
    return mine, own, co, items_unit, need, pr_own


def _apply_work(own, co, given, remaining, coop_remaining, unit, coop_unit, n_units):
    """Take today's hours off the items' remaining work (float32, never below 0) and sum them
    per unit in item order (np.bincount's order): own work, cooperation work."""
    used_own = np.zeros(n_units, np.float64)
    used_co = np.zeros(n_units, np.float64)
    for a in range(own.size):
        r = own[a]
        g = given[a]
        v = np.float64(remaining[r]) - g
        remaining[r] = np.float32(v if v >= 0.0 else 0.0)
        used_own[unit[r]] += g
    for b in range(co.size):
        r = co[b]
        g = given[own.size + b]
        v = np.float64(coop_remaining[r]) - g
        coop_remaining[r] = np.float32(v if v >= 0.0 else 0.0)
        used_co[coop_unit[r]] += g
    return used_own, used_co


def _talk(idx, mine, unit, pressing, deadline, month_end, satisfy_hours, explain, n_units):
    """Step 3 of work_day: each unit spreads its satisfaction hours over the contacted orders it
    talks to (a pressing unit only to those due by the month's end, or to all if none is);
    adds each order's share to ``explain`` (float32) and returns the orders talked to per unit."""
    talk = np.zeros(idx.size, np.bool_)
    due = np.zeros(n_units, np.int64)
    for i in range(idx.size):
        u = unit[i]
        talk[i] = mine[i] and not (pressing[u] and deadline[idx[i]] > month_end)
        if talk[i]:
            due[u] += 1
    n_talk = np.zeros(n_units, np.int64)
    for i in range(idx.size):
        u = unit[i]
        if mine[i] and due[u] == 0:
            talk[i] = True
        if talk[i]:
            n_talk[u] += 1
    for i in range(idx.size):
        if talk[i]:
            u = unit[i]
            r = idx[i]
            explain[r] = np.float32(np.float64(explain[r]) + satisfy_hours[u] / np.float64(max(n_talk[u], 1)))
    return n_talk


def _select_not(rows, state, closed):
    """Rows of ``rows`` whose state is not ``closed``."""
    out = np.empty(rows.size, np.int64)
    n = 0
    for i in range(rows.size):
        if state[rows[i]] != closed:
            out[n] = rows[i]
            n += 1
    return out[:n]


def _select_worked(idx, done, contact, remaining, need_coop, coop_remaining):
    """Rows whose own work and needed cooperation are complete (handling.finish_worked)."""
    out = np.empty(idx.size, np.int64)
    n = 0
    for i in range(idx.size):
        r = idx[i]
        if done[r] < 0 and contact[r] >= 0 and remaining[r] <= 0 and (not need_coop[r] or coop_remaining[r] <= 0):
            out[n] = r
            n += 1
    return out[:n]


def _merge_unique(a, b, c):
    """The sorted union of three ascending arrays of distinct rows (np.unique of their
    concatenation); ``ok`` is False (and the union empty) if an input does not ascend."""
    out = np.empty(a.size + b.size + c.size, np.int64)
    for x in (a, b, c):
        for i in range(1, x.size):
            if x[i] <= x[i - 1]:
                return out[:0], False
    i = j = k = n = 0
    big = np.iinfo(np.int64).max
    while i < a.size or j < b.size or k < c.size:
        va = a[i] if i < a.size else big
        vb = b[j] if j < b.size else big
        vc = c[k] if k < c.size else big
        v = min(va, min(vb, vc))
        out[n] = v
        n += 1
        if va == v:
            i += 1
        if vb == v:
            j += 1
        if vc == v:
            k += 1
    return out[:n], True


def _finish_day(idx, day, done, contact, remaining, need_coop, coop_remaining, ending, unit, right_unit, hard,
                linkage, unreasonable, label_kind, true_resolved, key, deadline, overdue, extended, overdue_day,
                explain, coop_state, gamed, solve_probs, central_success, h_solve, extensions, p_extend, h_extend,
                extension_days, extension_hours, p_explain, p_explain_blocked, h_explain, unsolvable_hours,
                error_tolerance, n_units, codes):
    """handling.finish_and_close up to the claim, in one pass over the open rows ``idx`` (the
    numpy path runs finish_worked, flag_overdue, explain_unsolvable and union_of_rows in turn;
    each step reads only its own row, so doing all three steps row by row gives the same rows,
    draws and sums). ``solve_probs``: (solve, hard, misrouted); ``codes``: (END_WORKED,
    END_EXPLAINED, LABEL_HONEST, LINK_CENTRAL, COOP_REFUSED). Returns today's ended rows in ``idx``
    order, whether ``idx`` ascends, and the flag_overdue tally: counts (extend_candidates,
    extensions, overdue, extended_overdue, overdue_hard; 5 x n_units) and sums (overdue_hours,
    overdue_forgiven; 2 x n_units), each added in row order as np.bincount adds them."""
    end_worked, end_explained, label_honest, link_central, coop_refused = codes
    counts = np.zeros((5, n_units), np.int64)
    sums = np.zeros((2, n_units), np.float64)
    closing = np.empty(idx.size, np.int64)
    n_closing = 0
    ascending = True
    day_key = np.uint64(day)
    for i in range(idx.size):
        r = idx[i]
        if i > 0 and r <= idx[i - 1]:
            ascending = False
        u = unit[r]
        ended = False
        # finish_worked: own work and needed cooperation complete: the fix is tried
        if done[r] < 0 and contact[r] >= 0 and remaining[r] <= 0 and (not need_coop[r] or coop_remaining[r] <= 0):
            done[r] = day
            ending[r] = end_worked
            p = solve_probs[1] if hard[r] else solve_probs[0]
            if u != right_unit[r]:
                p = solve_probs[2]
            if linkage[r] == link_central:
                p = p * central_success
            if unreasonable[r] or label_kind[r] == label_honest:
                p = 0.0
            true_resolved[r] = _uniform1(h_solve, key[r]) < p
            ended = True
        # flag_overdue: at the deadline extend once (the unit's choice) or flag overdue
        if deadline[r] <= day and done[r] < 0 and not overdue[r]:
            extend = False
            if extensions and hard[r] and not extended[r] and contact[r] >= 0:
                counts[0, u] += 1
                if _uniform1(h_extend, key[r]) < p_extend[u]:
                    extend = True
                    counts[1, u] += 1
                    extended[r] = True
                    deadline[r] = deadline[r] + extension_days
                    explain[r] = explain[r] + extension_hours
            if not extend:
                overdue[r] = True
                overdue_day[r] = day
                counts[2, u] += 1
                if extended[r]:
                    counts[3, u] += 1
                if hard[r]:
                    counts[4, u] += 1
                sums[0, u] += np.float64(remaining[r] + coop_remaining[r])
                if hard[r]:
                    sums[1, u] += error_tolerance
        # explain_unsolvable: an overdue order flagged before today may be explained and ended
        if overdue[r] and done[r] < 0 and overdue_day[r] < day and contact[r] >= 0:
            blocked = hard[r] or coop_state[r] == coop_refused or linkage[r] == link_central or u != right_unit[r]
            p = p_explain_blocked[u] if blocked else p_explain[u]
            if _uniform1(_mix(h_explain ^ key[r]), day_key) < p:     # keyed by (order, day)
                done[r] = day
                ending[r] = end_explained
                explain[r] = explain[r] + unsolvable_hours
                ended = True
        if ended or (done[r] == day and gamed[r]):
            closing[n_closing] = r
            n_closing += 1
    return closing[:n_closing], ascending, counts, sums


def _close(closing, claim, true_resolved, contact, ending, gamed, remaining, difficulty, rework_share,
           claimed, carry, state, closed_day, day, end_worked, closed):
    """handling.finish_and_close for today's ended orders: the unit's claim, the work a repeat
    carries (float32: the work left, or rework_share x difficulty when the fix failed), closed."""
    for i in range(closing.size):
        r = closing[i]
        solved = true_resolved[r]
        claimed[r] = solved or (claim[i] and contact[r] >= 0 and ending[r] == end_worked) or gamed[r]
        if solved:
            carry[r] = np.float32(0.0)
        elif remaining[r] > 0:
            carry[r] = remaining[r]
        else:
            carry[r] = rework_share * difficulty[r]
        state[r] = closed
        closed_day[r] = day


def _select_eq(rows, col, value):
    """Rows of ``rows`` where ``col`` equals ``value``."""
    out = np.empty(rows.size, np.int64)
    n = 0
    for i in range(rows.size):
        if col[rows[i]] == value:
            out[n] = rows[i]
            n += 1
    return out[:n]


def _select_supervised(idx, unit, unit_kind, township_kind, deadline, done, supervised, day):
    """escalation.supervise's rows: township orders at or past their deadline, unfinished, not
    yet followed up."""
    out = np.empty(idx.size, np.int64)
    n = 0
    for i in range(idx.size):
        r = idx[i]
        if unit_kind[unit[r]] == township_kind and deadline[r] <= day and done[r] < 0 and not supervised[r]:
            out[n] = r
            n += 1
    return out[:n]


def _select_stuck(idx, day, available, coop_state, hard, supervised, esc_level, done, remaining, coop_remaining,
                  refused_after, hard_after, refused_state, esc_none):
    """escalation.to_district's candidates: not yet escalated, stuck (unfinished, and cooperation
    refused or hard), and refused or hard long enough (days as floats, as numpy compares them)
    or followed up by the district."""
    out = np.empty(idx.size, np.int64)
    n = 0
    for i in range(idx.size):
        r = idx[i]
        if esc_level[r] != esc_none:
            continue
        age = np.float64(day - np.int64(available[r]))
        refused = coop_state[r] == refused_state
        went = (refused and age >= refused_after) or (hard[r] and age >= hard_after) or supervised[r]
        unfinished = done[r] < 0 and (remaining[r] + coop_remaining[r]) > 0
        if went and unfinished and (refused or hard[r]):
            out[n] = r
            n += 1
    return out[:n]


def _select_city(idx, esc_level, city_day, esc_city):
    """escalation.to_city's queue: at the city level, not yet taken up."""
    out = np.empty(idx.size, np.int64)
    n = 0
    for i in range(idx.size):
        r = idx[i]
        if esc_level[r] == esc_city and city_day[r] < 0:
            out[n] = r
            n += 1
    return out[:n]


def _select_arrived(rows, available, state, day, closed):
    """Rows reaching a unit today and not closed (dispatch.receive, route_fallback)."""
    out = np.empty(rows.size, np.int64)
    n = 0
    for i in range(rows.size):
        r = rows[i]
        if available[r] == day and state[r] != closed:
            out[n] = r
            n += 1
    return out[:n]


def _game_queue(idx, state, done, deadline, remaining, coop_remaining, labelled, hard, coop_state, unit, day,
                open_state, refused):
    """handling.game's queue: the rows of ``idx`` open and not yet ended, their unit, whether each is
    at risk (due by tomorrow with work left), the at-risk rows' unit and work left (float32, their
    priority) and whether a row could take a gamed label (not labelled; hard or refused
    cooperation)."""
    keep = np.empty(idx.size, np.bool_)
    n = 0
    n_risk = 0
    for i in range(idx.size):
        r = idx[i]
        keep[i] = state[r] == open_state and done[r] < 0
        if keep[i]:
            n += 1
            if np.int64(deadline[r]) - day <= 1 and remaining[r] + coop_remaining[r] > 0:
                n_risk += 1
    rows = np.empty(n, np.int64)
    u = np.empty(n, np.int64)
    at_risk = np.empty(n, np.bool_)
    label_base = np.empty(n, np.bool_)
    risk_unit = np.empty(n_risk, np.int64)
    risk_left = np.empty(n_risk, np.float32)
    a = 0
    b = 0
    for i in range(idx.size):
        if not keep[i]:
            continue
        r = idx[i]
        rows[a] = r
        u[a] = unit[r]
        left = remaining[r] + coop_remaining[r]
        at_risk[a] = np.int64(deadline[r]) - day <= 1 and left > 0
        label_base[a] = not labelled[r] and (hard[r] or coop_state[r] == refused)
        if at_risk[a]:
            risk_unit[b] = unit[r]
            risk_left[b] = np.float32(left)
            b += 1
        a += 1
    return rows, u, at_risk, label_base, risk_unit, risk_left


def _game_close(rows, u, got, whole_at, day, gamed, ending, done, end_formal, n_units):
    """Formal closures of the whole acts (``got >= whole_at``): marked gamed, ended formally and
    done today; returns which rows and the hours per unit in row order (np.bincount's order)."""
    whole = np.empty(rows.size, np.bool_)
    used = np.zeros(n_units, np.float64)
    for a in range(rows.size):
        whole[a] = got[a] >= whole_at
        if whole[a]:
            r = rows[a]
            gamed[r] = True
            ending[r] = end_formal
            done[r] = day
            used[u[a]] += got[a]
    return whole, used


def _game_label_items(rows, u, label_base, whole, remaining):
    """Rows that may take a gamed label today (label_base and not closed formally just now), their
    unit and their work left (the label queue's priority)."""
    n = 0
    for a in range(rows.size):
        if label_base[a] and not whole[a]:
            n += 1
    cand = np.empty(n, np.int64)
    cu = np.empty(n, np.int64)
    left = np.empty(n, np.float32)
    b = 0
    for a in range(rows.size):
        if label_base[a] and not whole[a]:
            cand[b] = rows[a]
            cu[b] = u[a]
            left[b] = remaining[rows[a]]
            b += 1
    return cand, cu, left


def _uniform1(h_name, key):
    """U[0,1) of one key under a name's hash (streams.Streams.uniform of a single key)."""
    return np.float64(_mix(h_name ^ key) >> _S11) * _TO_UNIT


def _rate(closing, key, true_resolved, contact, claimed_col, labelled, unreasonable, rtype,
          pressure, explained, noise, expectation, h, f, flags,
          said_col, satisfaction_col, unreached_col, measured_col, audited_col, detected_col, rejected_col,
          excluded_col):
    """callback.call_back after the pressure lines, order by order, with numpy's dtypes (float32
    pressure and explanation effects and their products with Python-float weights, float64
    score). ``h``: the name hashes of the draws (honest, sway, confirm, unreached, audit.sample,
    audit.detect, label.check, label.verdict, refile.decide, source.fix); ``f``: the float
    parameters; ``flags``: unreached excluded, resolved_by (0 unit report, 1 requester, 2 audit),
    unreached counted unresolved, exclude unreasonable. Writes the order columns and returns
    the satisfaction answer (int64), unreached, measured, detected, refile and fixed.
    ``expectation``: each requester's, gathered by numpy beforehand (random reads of the
    residents' array overlap better in numpy's tight loop than in this long one)."""
    n = closing.size
    sat = np.empty(n, np.int64)
    unreached = np.empty(n, np.bool_)
    measured = np.empty(n, np.bool_)
    detected = np.empty(n, np.bool_)
    refile = np.empty(n, np.bool_)
    fixed = np.empty(n, np.bool_)
    pe32, ep32, cs1_32 = np.float32(f[1]), np.float32(f[2]), np.float32(1.0 - f[7])
    zero32, one32 = np.float32(0.0), np.float32(1.0)
    for i in range(n):
        r = closing[i]
        k = key[r]
        true = true_resolved[r]
        contacted = contact[r] >= 0
        honest = _uniform1(h[0], k) < f[0]
        p = pe32 * pressure[i] + ep32 * explained[i]                   # float32, clipped to [0, 1]
        p = p if p > zero32 else zero32
        p = p if p < one32 else one32
        swayed = _uniform1(h[1], k) < np.float64(p)
        said = (_uniform1(h[2], k) < f[3]) if true else ((not honest) or swayed)
        perf = f[4] if true else f[5]
        mix = f[7] * (1.0 if contacted else 0.0) + np.float64(cs1_32 * explained[i])
        score = perf - np.float64(expectation[i]) + f[6] * mix
        score = score + np.float64(pe32 * pressure[i])
        score = score + f[8] * noise[i]
        s_i = 2 if score > f[9] else (1 if score > f[10] else 0)
        sat[i] = s_i
        unr = _uniform1(h[3], k) < f[11]
        unreached[i] = unr
        unreached_col[r] = unr and flags[0] == 1
        said = said and not unr
        said_col[r] = said
        satisfaction_col[r] = -1 if unr else s_i
        claimed = claimed_col[r]
        m = claimed if flags[1] == 0 else said
        audited = _uniform1(h[4], k) < f[12]
        if flags[1] == 2 and audited:
            m = true
        det = audited and (claimed and not true) and _uniform1(h[5], k) < f[13]
        m = m and not det and not (unr and flags[2] == 1)
        measured[i] = m
        detected[i] = det
        measured_col[r] = m
        audited_col[r] = audited
        detected_col[r] = det
        lab = labelled[r]
        checked = lab and _uniform1(h[6], k) < f[14]
        p_reject = f[15] if unreasonable[r] else f[16]
        rej = checked and _uniform1(h[7], k) < p_reject
        rejected_col[r] = rej
        excluded_col[r] = lab and not rej and flags[3] == 1
        refile[i] = (not true) and s_i == 0 and _uniform1(h[8], k) < f[17]
        fixed[i] = true and (not unreasonable[r] and rtype[r] > 0) and _uniform1(h[9], k) < f[18]
    return sat, unreached, measured, detected, refile, fixed


def _right_unit(township, category, key, h_muni, h_ent, municipal_share, township_district, line, resp,
                distdept_unit, muni_unit, ent_cum, enterprise_unit, codes):
    """dispatch.Catalogue.right_unit order by order: the unit the catalogue should name (np.select's
    first matching responsibility, else 0), the district department of the line, the linkage.
    ``codes``: territorial, functional, joint, utility, linkage, central, link none, jingjinji,
    central link."""
    n = township.size
    unit = np.empty(n, np.int64)
    dept = np.empty(n, np.int64)
    link = np.empty(n, np.int64)
    for i in range(n):
        t = township[i]
        c = category[i]
        ln = line[c]
        rp = resp[c]
        dp = distdept_unit[township_district[t], ln]
        mu = muni_unit[ln]
        dept[i] = dp
        if rp == codes[0] or rp == codes[2]:
            unit[i] = t
        elif rp == codes[3]:
            u = _uniform1(h_ent, key[i])
            pick = 0
            for j in range(ent_cum.size):
                pick += ent_cum[j] < u                  # searchsorted(side='left')
            unit[i] = enterprise_unit[min(pick, ent_cum.size - 1)]
        elif rp == codes[4] or rp == codes[5]:
            unit[i] = mu
        elif rp == codes[1]:
            unit[i] = mu if _uniform1(h_muni, key[i]) < municipal_share else dp
        else:
            unit[i] = 0
        link[i] = codes[7] if rp == codes[4] else (codes[8] if rp == codes[5] else codes[6])
    return unit, dept, link


def _wrong_unit(right, key, h_tag, size, first, pos, members):
    """dispatch.Catalogue.wrong_unit: another unit of the same peer group, a keyed step away."""
    out = np.empty(right.size, np.int64)
    for i in range(right.size):
        r = right[i]
        n = size[r]
        step = 1 + np.int64(_uniform1(h_tag, key[i]) * np.float64(max(n - 1, 1)))
        out[i] = members[first[r] + (pos[r] + step) % n]
    return out


def _closure_counts(closing, unit, tier, contact, available, response_days, excluded, unreached, satisfaction,
                    sat_basic, hard, true_resolved, measured, gamed, ending, end_explained, claimed, detected, audited,
                    labelled, rejected, label_kind, label_none, label_honest, label_gamed, unreasonable, whistled,
                    n_units):
    """assessment.closure_tally's 29 unweighted per-unit counts (rows in CLOSURE_MASKS order) in one
    pass over today's closed orders, from the same definitions as measures.py: responded within
    the tier's response days of receipt, in scope (not excluded, not unreached), satisfied or
    basically satisfied."""
    out = np.zeros((29, n_units), np.int64)
    for i in range(closing.size):
        r = closing[i]
        u = unit[r]
        c = contact[r]
        responded = c >= 0 and np.float64(c) <= np.float64(available[r]) + response_days[tier[r]]
        scope = not excluded[r] and not unreached[r]
        sat = satisfaction[r] >= sat_basic
        hd, tr, ms, cl, kd, ur = hard[r], true_resolved[r], measured[r], claimed[r], label_kind[r], unreasonable[r]
        rj, wh = rejected[r], whistled[r]
        out[0, u] += 1
        out[1, u] += scope
        out[2, u] += scope and responded
        out[3, u] += scope and ms
        out[4, u] += scope and sat
        out[5, u] += tr
        out[6, u] += gamed[r]
        out[7, u] += ending[r] == end_explained
        out[8, u] += cl and not tr
        out[9, u] += cl and not tr and ms
        out[10, u] += not cl and not tr
        out[11, u] += not cl and not tr and ms
        out[12, u] += detected[r]
        out[13, u] += audited[r]
        out[14, u] += hd and scope
        out[15, u] += hd and scope and ms
        out[16, u] += hd and tr
        out[17, u] += labelled[r]
        out[18, u] += rj
        out[19, u] += excluded[r]
        out[20, u] += kd == label_honest
        out[21, u] += kd == label_gamed
        out[22, u] += kd != label_none and not ur
        out[23, u] += rj and kd == label_honest
        out[24, u] += rj and kd == label_gamed
        out[25, u] += ur and kd == label_none
        out[26, u] += not tr and c < 0
        out[27, u] += wh
        out[28, u] += wh and ms
    return out


def _trust_sums(who, old_tf, new_tf, old_trust, new_trust, flat_start, level, township_of_class, n_classes,
                n_townships):
    """citizens._move_trust's township sums: each resident's (township, propensity class) cell as
    searchsorted(flat_start, who, 'right') - 1 (a pointer walk when ``who`` ascends), then the
    changes of filing factor and trust (float32) times the class level, summed per township in
    the order of ``who`` (np.bincount's)."""
    num = np.zeros(n_townships, np.float64)
    tot = np.zeros(n_townships, np.float64)
    c = 0
    for i in range(who.size):
        w = who[i]
        if i == 0 or w < who[i - 1]:                  # start, or not ascending: binary search
            lo, hi = 0, flat_start.size
            while lo < hi:
                mid = (lo + hi) >> 1
                if flat_start[mid] <= w:
                    lo = mid + 1
                else:
                    hi = mid
            c = lo - 1
        else:
            while c + 1 < flat_start.size and flat_start[c + 1] <= w:
                c += 1
        lv = level[c % n_classes]
        t = township_of_class[c]
        num[t] += np.float64(new_tf[i] - old_tf[i]) * lv
        tot[t] += np.float64(new_trust[i] - old_trust[i]) * lv
    return num, tot


class _Kernels:
    """The compiled functions (attributes named as the sources without the underscore)."""


def _compile() -> _Kernels:
    import numba

    jit = numba.njit(cache=True, nogil=True)
    g = globals()
    inline = {name: numba.njit(inline="always")(g[name]) for name in ("_mix", "_chain", "_uniform1")}
    g.update(inline)                              # kernels see the compiled helpers by name
    k = _Kernels()
    for name in ("_hash_keys", "_hash_uniform", "_queue_order", "_radix_order", "_allocate_sorted", "_count_callers",
                 "_pick_step", "_count_masks", "_move_trust", "_move_expectation", "_count_unresolved", "_poisson_search",
                 "_priority", "_count_exceeded", "_select_open", "_work_items", "_apply_work", "_talk",
                 "_select_not", "_select_worked", "_merge_unique", "_finish_day", "_close", "_select_eq", "_select_supervised",
                 "_select_stuck", "_select_city", "_select_arrived", "_rate", "_right_unit", "_wrong_unit",
                 "_closure_counts", "_trust_sums", "_game_queue", "_game_close", "_game_label_items"):
        setattr(k, name.lstrip("_"), jit(g[name]))
    return k


def warm_up() -> float:
    """Compile (or load from the cache) every kernel with the types the model passes, by a few
    days of a tiny run on the compiled path; returns the seconds it took."""
    import time
    from pathlib import Path

    from .model import Model
    from .scenario import load_scenario

    t0 = time.perf_counter()
    with forced(True):
        final = Path(__file__).resolve().parents[1] / "scenarios" / "final_2021.toml"
        cfg = load_scenario(final, overrides={"city.scale": 0.002, "city.sampling": "thin", "city.days": 40})
        Model(cfg, seed=1).run(40)
    return time.perf_counter() - t0


if __name__ == "__main__":          # run as a script this file is a second module: warm the package's own
    from model import kernels as _package_kernels

    print(f"kernels compiled or loaded from the cache in {_package_kernels.warm_up():.1f} s")
