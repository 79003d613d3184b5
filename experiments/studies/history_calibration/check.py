"""Check the history replay against the calibration targets on fresh seeds (docs/calibration.md).

    python experiments/studies/history_calibration/check.py [--scale 0.05] [--seeds 3] [--workers 2]
                                                            [--overrides results/.../best.toml]

Runs scenarios/history_2019_2021.toml (with its calibrated values) on seeds the calibration
never saw, at a scale of its own, and prints each target beside the model's mean and spread
over seeds, plus what the published series cannot show (true resolution, the gap, effort).
"""

from __future__ import annotations

import argparse
import tomllib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.calibrate import simulated
from experiments.spec import load_spec
from experiments.sweep import monthly_series
from model import load_scenario, run_one

HERE = Path(__file__).resolve().parent
SPEC = HERE / "spec.toml"
SCENARIO = HERE.parents[2] / "scenarios" / "history_2019_2021.toml"
EXTRA = {"true_resolution_rate": "mean", "effort_satisfy": "mean", "effort_game": "mean", "mean_exhaustion": "mean"}


def one(args: tuple[float, int, dict, dict]) -> dict:
    scale, seed, monthly, overrides = args
    res = run_one(load_scenario(SCENARIO, overrides={**overrides, "city.scale": scale}), seed=seed)
    row = {f"monthly.{c}": monthly_series(res.daily, c, a) for c, a in {**monthly, **EXTRA}.items()}
    row.update(seed=seed, gap=res.summary["measured_true_gap"])
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", type=float, default=0.05)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--first-seed", type=int, default=1001, help="seeds the calibration did not use")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--overrides", help="dotted overrides to try (e.g. best.toml written by jiesu calibrate)")
    p.add_argument("--figure", help="also draw the monthly series against the published points (PNG path)")
    a = p.parse_args()
    overrides = tomllib.loads(Path(a.overrides).read_text()) if a.overrides else {}
    spec, _arms = load_spec(SPEC)
    monthly = dict(spec.outcomes.monthly)
    jobs = [(a.scale, a.first_seed + i, monthly, overrides) for i in range(a.seeds)]
    with ProcessPoolExecutor(a.workers) as ex:
        runs = pd.DataFrame(list(ex.map(one, jobs)))
    stats = simulated(runs, spec.calibration, monthly, a.scale)
    rows = [{"target": t.label, "published": t.value, "model mean": stats[t.label].mean(),
             "model sd": stats[t.label].std(ddof=1), "off by (tolerances)": (stats[t.label].mean() - t.value) / t.tolerance}
            for t in spec.calibration.targets]
    print(f"history_2019_2021 at scale {a.scale}, seeds {[j[1] for j in jobs]}, overrides {overrides or 'none'}")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    off = np.array([r["off by (tolerances)"] for r in rows])
    print(f"root mean square over the {len(off)} targets: {np.sqrt(np.mean(off ** 2)):.2f} tolerances")
    print("\nwhat the published series cannot show (model mean over seeds):")
    for label, months in (("January 2019", 2), ("October 2019", 11), ("November 2021", 36)):
        get = lambda c, m=months: np.mean([s[m] for s in runs[f"monthly.{c}"]])  # noqa: E731
        print(f"  {label}: measured resolution {get('resolution_rate'):.3f}, true {get('true_resolution_rate'):.3f}, "
              f"rating management {get('effort_satisfy'):.3f} and gaming {get('effort_game'):.3f} of staff time, "
              f"exhaustion {get('mean_exhaustion'):.3f}")
    if a.figure:
        figure(runs, spec.calibration, Path(a.figure))
        print(f"figure: {a.figure}")


def figure(runs: pd.DataFrame, cal, path: Path) -> None:
    """Monthly measured resolution, satisfaction and true resolution (mean and range over seeds)
    with the published monthly points (the rate targets whose window is one month)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    colours = {"resolution_rate": "tab:blue", "satisfaction_rate": "tab:orange", "true_resolution_rate": "tab:green"}
    names = {"resolution_rate": "measured resolution", "satisfaction_rate": "satisfaction",
             "true_resolution_rate": "true resolution (model only)"}
    for col, colour in colours.items():
        m = np.array([s[:37] for s in runs[f"monthly.{col}"]])
        x = np.arange(2, m.shape[1])                     # from January 2019 (month 2)
        ax.plot(x, m.mean(0)[2:], color=colour, label=names[col])
        ax.fill_between(x, m.min(0)[2:], m.max(0)[2:], color=colour, alpha=0.2)
    for t in cal.targets:
        if t.outcome in colours and t.months[0] == t.months[1]:
            ax.errorbar(t.months[0], t.value, yerr=t.tolerance, fmt="o", color=colours[t.outcome], mec="k")
    ticks = [2, 8, 14, 20, 26, 32, 36]
    ax.set_xticks(ticks, ["2019-01", "2019-07", "2020-01", "2020-07", "2021-01", "2021-07", "2021-11"])
    ax.set_ylim(0.3, 1.0)
    ax.set_ylabel("monthly rate")
    ax.set_title("history replay (line: mean over seeds, band: range) vs published (points ± tolerance)", fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    tmp = path.with_name(f".tmp-{path.name}")
    fig.savefig(tmp, dpi=110, format="png")
    tmp.replace(path)
    plt.close(fig)


if __name__ == "__main__":
    main()
