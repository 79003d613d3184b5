"""The work-order store (诉求工单, Art. 10): a struct of arrays that grows by doubling.

Every dispatched request is one row. Rows are never deleted; ``open_idx`` lists the rows
still being handled, so a day costs O(new + open orders), not O(all orders ever).
Column prefixes follow Starsim: ``ti_`` is a day index (-1 = not yet), ``n_`` a count.
"""

from __future__ import annotations

import contextlib

import numpy as np

# request types (Art. 2): consultation, help, complaint, report, suggestion
RTYPE_NAMES = ["consultation", "help", "complaint", "report", "suggestion"]
RTYPE_CONSULTATION = 0
# urgency tiers (Art. 13): 2 hours, 24 hours, 7 days, 15 days (hard requests)
TIER_2H, TIER_24H, TIER_7D, TIER_15D = range(4)
# handling state: every order is in exactly one
OPEN, OBJECTED, CLOSED = 0, 1, 2
# how a closed order ended (``ending``; NONE while it lives): worked to the end (and the fix
# tried), explained as temporarily unsolvable (暂不能解决, Art. 15(2)), or closed formally
# on paper (形式办结, gaming). An order past its deadline stays OPEN, flagged ``overdue``,
# until one of these happens (Art. 13, 15).
END_NONE, END_WORKED, END_EXPLAINED, END_FORMAL = 0, 1, 2, 3
ENDING_NAMES = ["open", "worked", "explained_unsolvable", "formal_close"]
# who put an 'unreasonable' label on an order (Art. 32(3)): nobody, the unit in good faith
# (it judged the request unreasonable, rightly or not), or the unit to escape the score (gaming)
LABEL_NONE, LABEL_HONEST, LABEL_GAMED = 0, 1, 2
# cooperation state for orders that need another unit (Art. 14, 16, 20)
COOP_NONE, COOP_ENGAGED, COOP_REFUSED = 0, 1, 2
# satisfaction answer at callback (satisfied / basically satisfied / dissatisfied)
SAT_NONE, SAT_NO, SAT_BASIC, SAT_YES = -1, 0, 1, 2

COLUMNS: dict[str, tuple[type, int | float]] = {
    "key": (np.uint64, 0), "requester": (np.int32, -1), "township": (np.int16, -1),
    "category": (np.int8, -1), "rtype": (np.int8, -1), "tier": (np.int8, 2),
    "hard": (np.bool_, False), "unreasonable": (np.bool_, False), "n_prior": (np.int8, 0),
    "threat": (np.bool_, False), "online": (np.bool_, False),
    "difficulty": (np.float32, 0.0), "remaining": (np.float32, 0.0),
    "need_coop": (np.bool_, False), "coop_unit": (np.int16, -1), "coop_remaining": (np.float32, 0.0),
    "coop_state": (np.int8, COOP_NONE), "whistled": (np.bool_, False), "escalated": (np.bool_, False),
    "unit": (np.int16, -1), "right_unit": (np.int16, -1), "via_district": (np.bool_, False),
    "linkage": (np.int8, 0), "n_objections": (np.int8, 0), "n_redispatch": (np.int8, 0),
    "ti_created": (np.int16, -1), "ti_available": (np.int16, -1), "ti_deadline": (np.int16, -1),
    "ti_contact": (np.int16, -1), "ti_done": (np.int16, -1), "ti_closed": (np.int16, -1),
    "ti_refile": (np.int16, -1), "extended": (np.bool_, False),
    "explain": (np.float32, 0.0), "pressure": (np.float32, 0.0),
    "state": (np.int8, OPEN), "true_resolved": (np.bool_, False), "claimed_resolved": (np.bool_, False),
    "said_resolved": (np.bool_, False), "satisfaction": (np.int8, SAT_NONE),
    "measured_resolved": (np.bool_, False), "audited": (np.bool_, False), "detected": (np.bool_, False),
    "labelled": (np.bool_, False), "label_rejected": (np.bool_, False), "excluded": (np.bool_, False),
    "overdue": (np.bool_, False), "gamed": (np.bool_, False),
    "ending": (np.int8, END_NONE), "ti_overdue": (np.int16, -1), "carry": (np.float32, 0.0),
    "label_kind": (np.int8, LABEL_NONE), "n_joined": (np.int8, 0),
    # district supervision and three-level escalation (escalation.py, Art. 12(1)1, 20, 24)
    "supervised": (np.bool_, False), "esc_level": (np.int8, 0),
    "ti_escalated": (np.int16, -1), "ti_city": (np.int16, -1),
    "unreached": (np.bool_, False),   # requester not reached at callback, left out of the rates (Art. 23, 32)
}


@contextlib.contextmanager
def small_pages():
    """Large arrays allocated inside are mapped without numpy's transparent-huge-page advice.
    With that advice each first touch of a 2 MB page may wait for the kernel to compact memory
    (THP defrag 'madvise', as on the benchmark machine), which cost more than the 4 kB page
    faults it saves: the order store's rows are first touched a day's worth at a time, the
    residents' arrays once at set-up (issue 13). Values are the same either way."""
    mu = getattr(getattr(np, "_core", None), "multiarray", None)
    get, put = getattr(mu, "_get_madvise_hugepage", None), getattr(mu, "_set_madvise_hugepage", None)
    if get is None or put is None:
        yield
        return
    before = get()
    put(False)
    try:
        yield
    finally:
        put(before)


def _zeros_small_pages(n: int, dtype) -> np.ndarray:
    with small_pages():
        return np.zeros(n, dtype=dtype)


class WorkOrders:
    """Columns of all work orders; ``wo.col`` is a view of the first ``n`` rows."""

    def __init__(self, capacity: int = 1024):
        self.n = 0
        self._cap = max(int(capacity), 16)
        # zeros are allocated lazily by the OS: over-reserving rows costs no memory until used
        self._cols = {k: _zeros_small_pages(self._cap, dt) for k, (dt, _fill) in COLUMNS.items()}
        self.open_idx = np.empty(0, dtype=np.int64)

    def __getattr__(self, name: str) -> np.ndarray:
        cols = self.__dict__.get("_cols")
        if cols is not None and name in cols:
            return cols[name][: self.n]
        raise AttributeError(name)

    def _grow(self, need: int) -> None:
        new_cap = max(need, int(self._cap * 1.5) + 16)
        for k, (dt, _fill) in COLUMNS.items():
            arr = _zeros_small_pages(new_cap, dt)
            arr[: self.n] = self._cols[k][: self.n]
            self._cols[k] = arr
        self._cap = new_cap

    def add(self, **values: np.ndarray) -> np.ndarray:
        """Append rows (all given arrays have the same length); returns their indices."""
        m = len(next(iter(values.values())))
        if self.n + m > self._cap:
            self._grow(self.n + m)
        rows = np.arange(self.n, self.n + m)
        for k, (_dt, fill) in COLUMNS.items():
            if k in values:
                self._cols[k][self.n: self.n + m] = values[k]
            elif fill != 0:        # rows past n are still zero (np.zeros, never reused): only other fills are written
                self._cols[k][self.n: self.n + m] = fill
        self.n += m
        self.open_idx = np.concatenate([self.open_idx, rows])
        return rows

    def overdue_backlog(self, n_units: int) -> np.ndarray:
        """Hours of work left on open orders past their deadline, per unit: the lead's own work, and
        a cooperating unit's share (Art. 16-18) counted to the cooperating unit."""
        c, idx = self._cols, self.open_idx
        late = idx[c["overdue"][idx] & (c["state"][idx] != CLOSED)]
        out = np.bincount(c["unit"][late].astype(np.int64), weights=c["remaining"][late].astype(np.float64),
                          minlength=n_units)
        co = late[c["coop_unit"][late] >= 0]
        out += np.bincount(c["coop_unit"][co].astype(np.int64), weights=c["coop_remaining"][co].astype(np.float64),
                           minlength=n_units)
        return out

    def prune_open(self) -> None:
        """Drop closed rows from the open list."""
        self.open_idx = self.open_idx[self._cols["state"][self.open_idx] != CLOSED]

    def nbytes(self) -> int:
        return sum(a.nbytes for a in self._cols.values())

    def frame(self, columns: list[str] | None = None):
        """All orders as a pandas DataFrame (for analysis; not used in the daily path)."""
        import pandas as pd

        cols = columns or list(COLUMNS)
        return pd.DataFrame({c: getattr(self, c) for c in cols})
