"""The 2022-2025 forecast and the history replay's shape, year by year (docs/calibration.md).

    python experiments/studies/forecast/run.py [--scenario scenarios/forecast_2022_2025.toml]
                                               [--scale 0.05] [--seeds 1 2] [--workers 2]

Runs the scenario on each seed and prints, per calendar year, the mean over seeds (and the
range) of measured resolution, callback satisfaction, true resolution, open orders (mean
over the year), exhaustion and the real-work share of staff time, plus the staff the
governments hold (staff hours a day of the units they staff, end of year, relative to
January 2019) and the published monthly points of the replay (January and October 2019,
November 2021). Nothing here is fitted: it reports what the scenario's dynamics produce.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from model import load_scenario, run_one

ROOT = Path(__file__).resolve().parents[3]
YEARLY = {"resolution_rate": "mean", "satisfaction_rate": "mean", "true_resolution_rate": "mean",
          "open_orders": "mean", "mean_exhaustion": "mean", "effort_resolve": "mean", "effort_satisfy": "mean",
          "effort_game": "mean", "effort_proactive": "mean", "contacts": "sum"}
# (label, calendar year, month) of the published monthly points (facts.md)
POINTS = [("Jan 2019", 2019, 1), ("Oct 2019", 2019, 10), ("Nov 2021", 2021, 11)]


def one(args: tuple[str, float, int]) -> dict:
    scenario, scale, seed = args
    t0 = time.perf_counter()
    res = run_one(load_scenario(scenario, overrides={"city.scale": scale}), seed=seed)
    d = res.daily
    yearly = d.groupby("year").agg(YEARLY)
    points = {label: d[(d.year == y) & (d.month == m)][["resolution_rate", "satisfaction_rate"]].mean().to_dict()
              for label, y, m in POINTS if ((d.year == y) & (d.month == m)).any()}
    um = res.units_monthly if hasattr(res, "units_monthly") else res.unit_months
    staff = staff_by_year(um, d)
    return {"seed": seed, "yearly": yearly, "points": points, "staff": staff, "seconds": time.perf_counter() - t0}


def staff_by_year(um: pd.DataFrame, daily: pd.DataFrame) -> pd.DataFrame:
    """Staff hours a day of order-handling units at each year's last month, and staff added and
    withdrawn during the year (when the staffing mechanism records them)."""
    month_year = daily.groupby(daily["day"] * 12 // 365)["year"].first()
    um = um.assign(year=month_year.reindex(um["month"]).to_numpy())
    last = um[um.month == um.groupby("year")["month"].transform("max")]
    out = pd.DataFrame({"staff_end": last.groupby("year")["capacity_hours"].sum()})
    for k in ("staff_added", "staff_withdrawn"):
        if k in um:
            out[k] = um.groupby("year")[k].sum()
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", default=str(ROOT / "scenarios" / "forecast_2022_2025.toml"))
    p.add_argument("--scale", type=float, default=0.05)
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    p.add_argument("--workers", type=int, default=2)
    a = p.parse_args()
    t0 = time.perf_counter()
    with ProcessPoolExecutor(a.workers) as ex:
        runs = list(ex.map(one, [(a.scenario, a.scale, s) for s in a.seeds]))
    wall = time.perf_counter() - t0
    print(f"{Path(a.scenario).name} at scale {a.scale}, seeds {a.seeds}: wall {wall:.0f} s on {a.workers} workers, "
          f"per run {', '.join('%.0f s' % r['seconds'] for r in runs)}")
    ys = pd.concat([r["yearly"] for r in runs], keys=[r["seed"] for r in runs], names=["seed"])
    mean, lo, hi = (ys.groupby("year").agg(f) for f in ("mean", "min", "max"))
    table = mean.copy()
    for c in ("resolution_rate", "satisfaction_rate", "true_resolution_rate", "effort_resolve", "effort_satisfy",
              "effort_game", "effort_proactive", "mean_exhaustion"):
        table[c] = [f"{m:.3f} [{a_:.3f}-{b:.3f}]" for m, a_, b in zip(mean[c], lo[c], hi[c])]
    table["open_orders"] = [f"{m:.0f} [{a_:.0f}-{b:.0f}]" for m, a_, b in zip(mean.open_orders, lo.open_orders,
                                                                              hi.open_orders)]
    table["contacts"] = (mean.contacts / a.scale / 1e6).map(lambda v: f"{v:.2f} M")
    staff = pd.concat([r["staff"] for r in runs]).groupby(level=0).mean()
    base = staff["staff_end"].iloc[0]
    table["staff_vs_first_year"] = (staff["staff_end"] / base).map(lambda v: f"{v:.2f}")
    for k in ("staff_added", "staff_withdrawn"):
        if k in staff:
            table[k] = (staff[k] / base).map(lambda v: f"{v:.2f}")
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table.to_string())
    print("\npublished monthly points (measured resolution / satisfaction), per seed:")
    for label, _, _ in POINTS:
        vals = [r["points"].get(label) for r in runs]
        if all(v is not None for v in vals):
            print(f"  {label}: " + "; ".join(f"{v['resolution_rate']:.3f} / {v['satisfaction_rate']:.3f}" for v in vals)
                  + f"  (mean {np.mean([v['resolution_rate'] for v in vals]):.3f} / "
                    f"{np.mean([v['satisfaction_rate'] for v in vals]):.3f})")


if __name__ == "__main__":
    main()
