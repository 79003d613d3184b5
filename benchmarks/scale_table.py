"""Scale table: do the headline rates depend on the scale a user picks? (issue 9 item 11)

Runs ``final_2021`` (or ``--scenario``) for ``--days`` at each scale and seed and prints, per
scale, the mean over seeds (and the seed range) of measured resolution, satisfaction, true
resolution, the measured-true gap, the overdue share and the response rate, plus the
townships simulated and the population. A faithful reduced scale (DESIGN.md "Scale",
model/sample.py) shows the same rates at 0.05 as at 1.0, within a point.
Usage: python benchmarks/scale_table.py --seeds 1 2 [--scales 0.01 0.03 0.05 0.1 0.3 1.0]
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ProcessPoolExecutor

import numpy as np

COLUMNS = [("resolution_rate", "measured res."), ("satisfaction_rate", "satisfaction"),
           ("true_resolution_rate", "true res."), ("measured_true_gap", "gap"),
           ("overdue_share", "overdue"), ("response_rate", "response")]


def one_run(scenario: str, scale: float, seed: int, days: int, overrides: dict) -> dict:
    """One run's summary figures (in a worker process)."""
    from model import Model, load_scenario

    cfg = load_scenario(scenario, overrides={"city.scale": scale, **overrides})
    m = Model(cfg, seed=seed).run(days)
    s = m.results().summary
    return {"scale": scale, "seed": seed, "townships": int(m.city.n_townships), "population": s["population"],
            **{k: s[k] for k, _ in COLUMNS}}


def table(rows: list[dict], scales: list[float]) -> str:
    """Markdown table: mean over seeds, and the spread (max - min) beside each rate."""
    head = "| scale | townships | population | " + " | ".join(label for _, label in COLUMNS) + " |"
    out = [head, "|" + "---|" * (3 + len(COLUMNS))]
    for sc in scales:
        rs = [r for r in rows if r["scale"] == sc]
        cells = []
        for k, _ in COLUMNS:
            v = np.array([r[k] for r in rs], dtype=float)
            cells.append(f"{v.mean():.3f}" + (f" ±{(v.max() - v.min()) / 2:.3f}" if len(v) > 1 else ""))
        out.append(f"| {sc:g} | {rs[0]['townships']} | {int(np.mean([r['population'] for r in rs])):,} | "
                   + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="scenarios/final_2021.toml")
    ap.add_argument("--scales", type=float, nargs="+", default=[0.01, 0.03, 0.05, 0.1, 0.3, 1.0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                    help="extra dotted-key overrides (values parsed as JSON, else strings)")
    ap.add_argument("--json", action="store_true", help="also print every run as JSON")
    args = ap.parse_args()
    over = {}
    for kv in args.set:
        k, v = kv.split("=", 1)
        try:
            over[k] = json.loads(v)
        except json.JSONDecodeError:
            over[k] = v
    jobs = [(args.scenario, sc, seed, args.days, over) for sc in sorted(args.scales, reverse=True) for seed in args.seeds]
    with ProcessPoolExecutor(args.workers) as ex:      # the big scales first: the pool ends together
        rows = list(ex.map(one_run, *zip(*jobs)))
    print(f"{args.scenario}, {args.days} days, seeds {' '.join(map(str, args.seeds))} (mean ± half range)")
    print(table(rows, sorted(args.scales)))
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
