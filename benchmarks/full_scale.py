"""Full-scale benchmark: one simulated year of all Beijing (scale 1.0) beside smaller scales.

Two measurements per scale, each in a fresh process (so they share no memory):

* the model loop (``Model.run`` in a spawned process, with the per-phase timers of
  model/timers.py on): set-up, run, results, ms per day, peak RSS, and where the time goes,
  one line per mechanism call;
* the whole command a user types, ``jiesu run SCENARIO --scale S --days D`` (import, set-up,
  run, results, writing the tables and plots), timed as a process: wall time, and the child's
  own peak RSS from ``os.wait4``.

Orders/s is work orders over wall time. The compiled kernels (model/kernels.py) are used as a
run would use them; ``--pure`` sets JIESU_PURE=1 in the children (the numpy path), and
``--cold`` empties numba's cache first, so the first measurement pays the compilation (later
ones find the cache). Not a test: the numbers go into the README's "Speed" section (state the
machine load: the script prints ``uptime`` before and after each measurement). Usage:
python benchmarks/full_scale.py [--days 365] [--scales 0.05 0.2 1.0] [--no-loop] [--no-cli] [--pure] [--cold]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def measure_loop(scenario: str, scale: float, days: int, seed: int, queue) -> None:
    """The model loop alone, in this (spawned) process, with per-phase timers."""
    from model import Model, kernels, load_scenario

    cfg = load_scenario(scenario, overrides={"city.scale": scale})
    t0 = time.perf_counter()
    m = Model(cfg, seed=seed, timers=True)
    t1, c1 = time.perf_counter(), time.process_time()
    m.run(days)
    t2, c2 = time.perf_counter(), time.process_time()
    res = m.results()
    t3 = time.perf_counter()
    queue.put({"scale": scale, "days": days, "citizens": m.citizens.n, "contacts": res.summary["contacts"],
               "work_orders": m.orders.n, "setup_s": round(t1 - t0, 2), "run_s": round(t2 - t1, 2),
               "results_s": round(t3 - t2, 2), "total_s": round(t3 - t0, 2),
               "orders_per_s": round(m.orders.n / (t3 - t0)), "ms_per_day": round(1000 * (t2 - t1) / days, 1),
               "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2),
               "run_cpu_s": round(c2 - c1, 2), "kernels": "numba" in sys.modules and kernels.active(),
               "phases": m.timers.table(), "phase_report": m.timers.report()})


def loop_row(scenario: str, scale: float, days: int, seed: int) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=measure_loop, args=(scenario, scale, days, seed, q))
    p.start()
    row = q.get()
    p.join()
    return row


def cli_row(scenario: str, scale: float, days: int, seed: int, plot: bool) -> dict:
    """``jiesu run`` as a whole process: wall time and the child's own peak RSS (os.wait4)."""
    exe = Path(sys.executable).with_name("jiesu")
    cmd = [str(exe) if exe.exists() else "jiesu", "run", scenario, "--scale", str(scale), "--days", str(days),
           "--seed", str(seed), "--quiet"]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        cmd += ["--out", str(out)] + ([] if plot else ["--no-plot"])
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _pid, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        err = p.stderr.read().decode(errors="replace")
        p.stderr.close()
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{err[-2000:]}")
        summary = json.loads((out / "summary.json").read_text())
    return {"scale": scale, "days": days, "wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_gb": round(usage.ru_maxrss / 1e6, 2), "work_orders": summary["work_orders"],
            "contacts": summary["contacts"], "orders_per_s": round(summary["work_orders"] / wall)}


def load() -> str:
    """The machine's load averages (1, 5, 15 min), to print beside every timing."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def clear_numba_cache() -> int:
    """Remove numba's cached kernels beside model/kernels.py; returns how many files went."""
    cache = Path(__file__).resolve().parents[1] / "model" / "__pycache__"
    files = [f for f in cache.glob("kernels.*") if f.suffix in (".nbi", ".nbc")] if cache.exists() else []
    for f in files:
        f.unlink()
    return len(files)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="scenarios/final_2021.toml")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--scales", type=float, nargs="+", default=[0.05, 0.2, 1.0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-loop", action="store_true", help="skip the model-loop measurement")
    ap.add_argument("--no-cli", action="store_true", help="skip the whole-process measurement")
    ap.add_argument("--no-plot", action="store_true", help="jiesu run without its plots")
    ap.add_argument("--phases", action="store_true", help="print the per-phase table of each scale")
    ap.add_argument("--pure", action="store_true", help="JIESU_PURE=1 in the children: the numpy path")
    ap.add_argument("--cold", action="store_true", help="empty numba's cache first (the first run compiles)")
    args = ap.parse_args()
    if args.pure:
        os.environ["JIESU_PURE"] = "1"           # inherited by the spawned and the jiesu processes
    if args.cold:
        print(f"numba cache emptied ({clear_numba_cache()} files)")
    print("load:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(), flush=True)
    rows = []
    for scale in args.scales:
        row = {"scale": scale}
        if not args.no_loop:
            before = load()
            r = row["loop"] = loop_row(args.scenario, scale, args.days, args.seed)
            r["load_before"], r["load_after"] = before, load()
            print(f"scale {scale:>5} loop: {r['citizens']:>11,} citizens, {r['contacts']:>11,} contacts, "
                  f"{r['work_orders']:>10,} work orders | set-up {r['setup_s']:5.1f} s, run {r['run_s']:6.1f} s "
                  f"({r['ms_per_day']} ms/day), results {r['results_s']:4.1f} s, total {r['total_s']:6.1f} s "
                  f"| run cpu {r['run_cpu_s']:.1f} s | {r['orders_per_s']:>9,} orders/s | peak RSS {r['peak_rss_gb']:.2f} GB"
                  f" | kernels {'on' if r['kernels'] else 'off'} | load {before} -> {r['load_after']}", flush=True)
            if args.phases:
                print(r.pop("phase_report"), flush=True)
            else:
                r.pop("phase_report")
        if not args.no_cli:
            before = load()
            c = row["cli"] = cli_row(args.scenario, scale, args.days, args.seed, plot=not args.no_plot)
            c["load_before"], c["load_after"] = before, load()
            print(f"scale {scale:>5} jiesu run: wall {c['wall_s']:6.1f} s (cpu {c['cpu_s']:6.1f} s) | "
                  f"{c['orders_per_s']:>9,} orders/s | peak RSS {c['peak_rss_gb']:.2f} GB | load {before} -> "
                  f"{c['load_after']}", flush=True)
        rows.append(row)
    if len(rows) >= 2:
        a, b = rows[0], rows[-1]
        for kind, t in (("loop", "run_s"), ("cli", "wall_s")):
            if kind in a and a[kind]["work_orders"]:
                print(f"{kind}: {b[kind][t] / max(a[kind][t], 1e-9):.1f}x the time for "
                      f"{b[kind]['work_orders'] / a[kind]['work_orders']:.1f}x the work orders "
                      f"(scale {b['scale']} vs {a['scale']})")
    print("load:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
