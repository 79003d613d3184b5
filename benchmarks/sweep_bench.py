"""Sweep benchmark: overhead of the sweep machinery and parallel efficiency on 2 workers.

The same 40 runs (final_2021 at scale 0.05 for one simulated year; an LHS over capacity
and audit share, 20 rows x 2 replicates) are timed four ways:

1. ``run_one`` called directly in a loop (the reference, T_direct);
2. ``run_sweep`` on a 1-worker process pool (T_1; includes process start, pickling, IPC,
   Parquet batches, progress bar): per-run overhead = (T_1 - T_direct) / T_direct;
3. ``run_sweep`` on a 2-worker process pool (T_2): parallel efficiency = T_direct / (2 T_2);
4. ``run_sweep`` on a Dask LocalCluster of 2 workers (T_dask), same formula.

Not a test: the numbers go into experiments/README.md. Other load on the machine lowers
the efficiency (runs slow down when they share a core with other work): the script prints
the load average, the mean time of a run inside each worker, and the *scheduling*
efficiency (worker busy time / (workers x wall time)), which isolates the sweep machinery
from such contention. Any failed run aborts the benchmark.
Usage: python benchmarks/sweep_bench.py [--scale 0.05] [--days 365] [--rows 20] [--reps 2] [--no-dask]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def spec_text(scale: float, days: int, rows: int, reps: int) -> str:
    return f"""
name = "bench"
scenarios = ["{ROOT / 'scenarios' / 'final_2021.toml'}"]
replicates = {reps}
seed = 2021
[set]
"city.scale" = {scale}
"city.days" = {days}
[design]
method = "lhs"
samples = {rows}
[factors]
"world.capacity.ratio" = {{ range = [1.0, 1.3] }}
"rules.audit.sample_share" = {{ range = [0.0, 0.1] }}
[outcomes]
summary = "all"
monthly = {{ contacts = "sum", resolution_rate = "mean" }}
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=0.05)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--rows", type=int, default=20)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--only-pool2", action="store_true", help="skip the 1-worker pool and Dask (efficiency only)")
    a = ap.parse_args()

    import pandas as pd

    from experiments.spec import load_spec
    from experiments.sweep import make_plan, run_sweep
    from model import run_one

    tmp = Path(tempfile.mkdtemp(prefix="sweep-bench-"))
    (tmp / "bench.toml").write_text(spec_text(a.scale, a.days, a.rows, a.reps))
    spec, arms = load_spec(tmp / "bench.toml")
    plan = make_plan(spec, arms, "bench.toml")
    n = len(plan.tasks)
    out = {"runs": n, "scale": a.scale, "days": a.days, "cpus": os.cpu_count(),
           "python": platform.python_version(), "load_before": os.getloadavg()}

    t0 = time.perf_counter()
    for task in plan.tasks:
        run_one(task.config, task.seed)
    out["direct_s"] = time.perf_counter() - t0
    print(f"direct run_one loop: {out['direct_s']:.1f} s ({out['direct_s'] / n:.2f} s/run)", flush=True)

    modes = [("pool1", 1, {"workers": 1}), ("pool2", 2, {"workers": 2})][a.only_pool2:]
    if not (a.no_dask or a.only_pool2):
        modes.append(("dask2", 2, {"dask_local": 2}))
    for name, workers, kw in modes:
        rep = run_sweep(plan, tmp / name, progress=False, **kw)
        if rep.failed:
            raise SystemExit(f"{name}: {rep.failed} runs failed (see {tmp / name}); no numbers reported")
        busy = pd.read_parquet(tmp / name / "runs")["elapsed_s"].sum()
        out[f"{name}_s"] = rep.seconds
        out[f"{name}_mean_run_s"] = busy / n                    # inside the worker, run plus row building
        out[f"{name}_scheduling_eff"] = busy / (workers * rep.seconds)   # workers kept busy by the sweep
        print(f"sweep, {rep.executor}: {rep.seconds:.1f} s (mean run {busy / n:.2f} s)", flush=True)

    if "pool1_s" in out:
        out["overhead_per_run"] = out["pool1_s"] / out["direct_s"] - 1
        out["overhead_ms_per_run"] = 1000 * (out["pool1_s"] - out["direct_s"]) / n
    out["efficiency_pool2"] = out["direct_s"] / (2 * out["pool2_s"])
    if "dask2_s" in out:
        out["efficiency_dask2"] = out["direct_s"] / (2 * out["dask2_s"])
    out["load_after"] = os.getloadavg()
    print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in out.items()}, indent=1))
    if "overhead_per_run" in out:
        print(f"per-run overhead {out['overhead_per_run']:+.1%} (target < 5%)")
    print(f"parallel efficiency on 2 workers {out['efficiency_pool2']:.0%} (target >= 85%)")


if __name__ == "__main__":
    main()
