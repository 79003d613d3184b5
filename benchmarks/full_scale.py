"""Full-scale benchmark: one simulated year of all Beijing (scale 1.0), and scale 0.05.

Prints wall time (set-up and run), work orders per second and peak memory (max RSS of a
fresh process per scale, so the two measurements do not share memory). Not a test: the
numbers go into the README. Usage: python benchmarks/full_scale.py [--days 365] [--scales 1.0 0.05]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import time


def measure(scenario: str, scale: float, days: int, seed: int, learning: bool, queue) -> None:
    from model import Model, load_scenario

    over = {"city.scale": scale}
    if learning is not None:
        over["world.behaviour.learning"] = learning
    cfg = load_scenario(scenario, overrides=over)
    t0 = time.perf_counter()
    m = Model(cfg, seed=seed)
    t1 = time.perf_counter()
    m.run(days)
    t2 = time.perf_counter()
    res = m.results()
    t3 = time.perf_counter()
    queue.put({"scale": scale, "days": days, "learning": cfg.world.behaviour.learning,
               "citizens": m.citizens.n, "contacts": res.summary["contacts"],
               "work_orders": m.orders.n, "setup_s": round(t1 - t0, 2), "run_s": round(t2 - t1, 2),
               "results_s": round(t3 - t2, 2), "total_s": round(t3 - t0, 2),
               "orders_per_s": round(m.orders.n / (t3 - t0)),
               "ms_per_day": round(1000 * (t2 - t1) / days, 1),
               "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2)})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="scenarios/final_2021.toml")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--scales", type=float, nargs="+", default=[1.0, 0.05])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--learning", choices=["on", "off", "scenario"], default="scenario")
    args = ap.parse_args()
    learning = None if args.learning == "scenario" else args.learning == "on"
    ctx = mp.get_context("spawn")
    rows = []
    for scale in args.scales:
        q = ctx.Queue()
        p = ctx.Process(target=measure, args=(args.scenario, scale, args.days, args.seed, learning, q))
        p.start()
        rows.append(q.get())
        p.join()
        r = rows[-1]
        print(f"scale {scale:>5}: {r['citizens']:>11,} citizens, {r['contacts']:>11,} contacts, "
              f"{r['work_orders']:>11,} work orders | set-up {r['setup_s']:5.1f} s, run {r['run_s']:6.1f} s "
              f"({r['ms_per_day']} ms/day), results {r['results_s']:4.1f} s, total {r['total_s']:6.1f} s | "
              f"{r['orders_per_s']:>9,} orders/s | peak RSS {r['peak_rss_gb']:.2f} GB", flush=True)
    if len(rows) == 2 and rows[1]["work_orders"]:
        a, b = rows
        print(f"cost ratio {a['run_s'] / max(b['run_s'], 1e-9):.1f}x for volume ratio "
              f"{a['work_orders'] / b['work_orders']:.1f}x")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
