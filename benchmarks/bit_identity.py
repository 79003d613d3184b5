"""Bit-identity check for speed work (issue 13): same seed, same tables, same order arrays.

Runs a scenario at a small scale and saves (``--save``) or compares (``--compare``) the
run's ``results()`` tables (daily, units_monthly, summary) and every work-order column.
A speed change is kept only if it compares equal to the code before it. Not a test (the
reference is made by the code before a change). Usage:
python benchmarks/bit_identity.py --save /tmp/ref.pkl [--scale 0.01 --days 120 --seed 1]
python benchmarks/bit_identity.py --compare /tmp/ref.pkl
The reference is a local pickle of plain tables written by this script (never load one
from elsewhere).
"""

from __future__ import annotations

import argparse
import math
import pickle
import time


def snapshot(scenario: str, scale: float, days: int, seed: int) -> dict:
    """What a run gives: its three result tables and the work-order columns."""
    from model import Model, load_scenario
    from model.orders import COLUMNS

    cfg = load_scenario(scenario, overrides={"city.scale": scale})
    t0 = time.perf_counter()
    m = Model(cfg, seed=seed).run(days)
    took = time.perf_counter() - t0
    r = m.results()
    return {"daily": r.daily, "units_monthly": r.units_monthly, "summary": r.summary,
            "orders": {k: getattr(m.orders, k).copy() for k in COLUMNS}, "open_idx": m.orders.open_idx.copy(),
            "seconds": took}


def _same_value(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_value(a[k], b[k]) for k in a)
    return bool(a == b)


def differences(ref: dict, got: dict) -> list[str]:
    """Names of everything that differs (empty: bit-identical)."""
    import numpy as np

    out = []
    for name in ("daily", "units_monthly"):
        if not ref[name].equals(got[name]):
            cols = [c for c in ref[name] if c not in got[name] or not ref[name][c].equals(got[name][c])]
            out.append(f"{name}: {cols[:10] or 'shape/columns'}")
    keys = set(ref["summary"]) | set(got["summary"])
    bad = [k for k in sorted(keys) if not _same_value(ref["summary"].get(k), got["summary"].get(k))]
    if bad:
        out.append(f"summary: {bad[:10]}")
    bad = [k for k in ref["orders"] if not np.array_equal(ref["orders"][k], got["orders"].get(k), equal_nan=False)]
    if bad:
        out.append(f"orders: {bad[:10]}")
    if not np.array_equal(ref["open_idx"], got["open_idx"]):
        out.append("open_idx")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="scenarios/final_2021.toml")
    ap.add_argument("--scale", type=float, default=None, help="default 0.01, or the reference's")
    ap.add_argument("--days", type=int, default=None, help="default 120, or the reference's")
    ap.add_argument("--seed", type=int, default=None, help="default 1, or the reference's")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--save", help="write the reference here")
    g.add_argument("--compare", help="compare with the reference saved here")
    args = ap.parse_args()
    ref = None
    if args.compare:
        with open(args.compare, "rb") as f:
            ref = pickle.load(f)   # noqa: S301 (a local file this script wrote)
    run = {"scenario": args.scenario, "scale": 0.01, "days": 120, "seed": 1, **(ref or {}).get("run", {})}
    run.update({k: v for k, v in (("scale", args.scale), ("days", args.days), ("seed", args.seed)) if v is not None})
    snap = snapshot(**run)
    snap["run"] = run
    print(f"run {run}: {snap['seconds']:.1f} s, {snap['orders']['key'].size:,} work orders")
    if args.save:
        with open(args.save, "wb") as f:
            pickle.dump(snap, f)
        print("saved", args.save)
        return
    diff = differences(ref, snap)
    print("IDENTICAL" if not diff else "DIFFERENT:\n  " + "\n  ".join(diff))
    raise SystemExit(1 if diff else 0)


if __name__ == "__main__":
    main()
