"""Calibration by approximate Bayesian computation (ABC rejection) on a stored sweep.

A calibration spec is a sweep spec (an LHS or Sobol' design over the uncertain parameters
acts as the prior sample) with a ``[calibration]`` table naming published targets::

    [calibration]
    accept = 0.1                      # share of design rows kept as the posterior sample
    [[calibration.targets]]
    label = "measured resolution, January 2019"
    outcome = "resolution_rate"       # a daily column kept in [outcomes] monthly
    months = [2, 2]                   # first and last month index (month 0 = the run's first month)
    value = 0.5309
    tolerance = 0.03                  # how far off still counts as close (definitions differ)
    source = "facts.md: zt.bjdj.gov.cn 2019-10-30"

The statistic of a target (experiments/targets.py: plain, ratio or difference) comes from a
run's monthly series through ``statistics``; ``per_population = true`` divides counts by
``city.scale`` so they compare with the whole city. Each design row's replicates are
averaged first (noise is the model's, not the parameters'), then its distance to the
targets (``misfit``) is the root mean square of (simulated - published) / tolerance. Rows
within the ``accept`` quantile of that distance form the posterior sample, weighted by the
Epanechnikov kernel of their distance (Beaumont, Zhang & Balding 2002, Genetics 162:2025;
rejection ABC as in Pritchard et al. 1999). This is the simplest ABC there is: with a
prior sample of a few hundred rows it locates the region that fits the shape of the
published curves and shows which parameters the data do and do not constrain (a wide
posterior is an answer too), and it reuses the sweep store, its executors and resume.
The sequential refinement, ABC-SMC with pyabc (experiments/smc.py, ``jiesu calibrate
--method smc``), uses the same ``statistics`` and ``misfit``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from model import ScenarioError

from .targets import Calibration, Target, check_targets  # noqa: F401 (the spec's schema, re-exported)


def target_stat(series: dict[str, np.ndarray], t: Target, monthly: dict[str, str], scale: float) -> float:
    """The statistic of one plain or ratio target from one run's monthly series (no ``minus``)."""
    a, b = t.months
    window = lambda col: np.asarray(series[col], dtype=float)[a: b + 1]  # noqa: E731
    if t.denominator is not None:
        den = float(np.sum(window(t.denominator)))
        return float(np.sum(window(t.outcome))) / den if den > 0 else np.nan
    w = window(t.outcome)
    if len(w) < b - a + 1:                      # a run shorter than the target's months
        return np.nan
    stat = float(np.sum(w) if monthly[t.outcome] == "sum" else np.mean(w))
    return stat / scale if t.per_population else stat


def statistics(series: dict[str, np.ndarray], cal: Calibration, monthly: dict[str, str], scale: float) -> dict[str, float]:
    """Every target's statistic of one run, by label: what ABC rejection and ABC-SMC both compare."""
    plain = {t.label: target_stat(series, t, monthly, scale) for t in cal.targets}
    return {t.label: plain[t.label] - plain[t.minus] if t.minus else plain[t.label] for t in cal.targets}


def simulated(runs: pd.DataFrame, cal: Calibration, monthly: dict[str, str], scale: float) -> pd.DataFrame:
    """One column per target: the run's statistic comparable with the published value."""
    cols = sorted({c for t in cal.targets for c in (t.outcome, t.denominator) if c})
    rows = [statistics({c: runs[f"monthly.{c}"].iloc[i] for c in cols}, cal, monthly, scale) for i in range(len(runs))]
    return pd.DataFrame(rows, index=runs.index, columns=[t.label for t in cal.targets], dtype=float)


def misfit(stats: np.ndarray, cal: Calibration) -> np.ndarray:
    """Root mean square of (simulated - published) / tolerance over the targets (last axis)."""
    value = np.array([t.value for t in cal.targets])
    tol = np.array([t.tolerance for t in cal.targets])
    z = (np.asarray(stats, dtype=float) - value) / tol
    return np.sqrt(np.mean(z ** 2, axis=-1))


def distances(stats: pd.DataFrame, cal: Calibration) -> pd.Series:
    """The misfit of each row of ``stats`` (one column per target label)."""
    d = misfit(stats[[t.label for t in cal.targets]].to_numpy(float), cal)
    return pd.Series(d, index=stats.index, name="distance")


def accept(dist: pd.Series, share: float) -> pd.Series:
    """Epanechnikov weights inside the ``share`` quantile of the distances, zero outside."""
    if dist.notna().sum() == 0:
        raise ScenarioError("calibration: no design row has a finite distance to the targets "
                            "(are the target months covered by the runs?)")
    n_keep = max(int(np.ceil(share * dist.notna().sum())), 1)
    h = np.sort(dist.dropna().to_numpy())[n_keep - 1]
    if h == 0:
        return (dist == 0).astype(float).rename("weight")
    w = np.where(dist <= h, 1.0 - (dist / (h * (1 + 1e-9))) ** 2, 0.0)
    return pd.Series(np.nan_to_num(w), index=dist.index, name="weight")


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    """Quantile of a weighted sample: each point sits at the middle of its weight (no bias to
    either end; two equal points give their midpoint as the median)."""
    order = np.argsort(x)
    xs, ws = x[order], w[order]
    p = (np.cumsum(ws) - ws / 2) / ws.sum()
    return float(np.interp(q, p, xs))


def posterior(table: pd.DataFrame, factors: list[str],
              prior: dict[str, tuple[float, float]] | None = None) -> pd.DataFrame:
    """Prior range and weighted posterior mean, sd and 5/50/95% quantiles of each factor.
    ``prior`` gives the declared ranges (else the design's own minimum and maximum)."""
    w = table["weight"].to_numpy()
    keep = w > 0
    rows = []
    for f in factors:
        x = table[f].to_numpy(float)
        mean = float(np.average(x[keep], weights=w[keep]))
        sd = float(np.sqrt(np.average((x[keep] - mean) ** 2, weights=w[keep])))
        lo, hi = prior[f] if prior and f in prior else (float(np.min(x)), float(np.max(x)))
        q = [weighted_quantile(x[keep], w[keep], p) for p in (0.05, 0.5, 0.95)]
        rows.append({"parameter": f, "prior_low": lo, "prior_high": hi, "mean": mean, "sd": sd,
                     "q05": q[0], "median": q[1], "q95": q[2],
                     # how much the data narrowed it: posterior 90% width / prior width
                     "width_ratio": (q[2] - q[0]) / (hi - lo) if hi > lo else np.nan})
    return pd.DataFrame(rows)


def calibrate(runs: pd.DataFrame, cal: Calibration, factors: list[str], monthly: dict[str, str],
              scale: float, prior: dict[str, tuple[float, float]] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per design row: factors, replicate-mean statistics, distance, weight; posterior summary)."""
    ok = runs[runs["error"].isna()].copy()
    if ok.empty:
        raise ScenarioError("calibration: no successful runs to calibrate on")
    stats = simulated(ok, cal, monthly, scale)
    per_row = pd.concat([ok[["arm", "row", *factors]], stats], axis=1) \
        .groupby(["arm", "row"], sort=True).mean(numeric_only=True).reset_index()
    per_row["replicates"] = ok.groupby(["arm", "row"], sort=True).size().to_numpy()
    per_row["distance"] = distances(per_row, cal)
    per_row["weight"] = accept(per_row["distance"], cal.accept)
    per_row = per_row.sort_values("distance", kind="stable").reset_index(drop=True)
    return per_row, posterior(per_row, factors, prior)


def fit_table(per_row: pd.DataFrame, cal: Calibration) -> pd.DataFrame:
    """Published value beside the best row and the weighted posterior mean of each target."""
    best = per_row.iloc[0]
    kept = per_row[per_row["weight"] > 0]
    rows = []
    for t in cal.targets:
        rows.append({"target": t.label, "published": t.value, "tolerance": t.tolerance,
                     "best_row": best[t.label],
                     "posterior_mean": float(np.average(kept[t.label], weights=kept["weight"])),
                     "posterior_min": float(kept[t.label].min()), "posterior_max": float(kept[t.label].max()),
                     "source": t.source})
    return pd.DataFrame(rows)


def overrides_toml(values: dict[str, float], header: str) -> str:
    """A scenario fragment of dotted overrides (usable in a [[timeline]] or with --set)."""
    lines = [f"# {line}" for line in header.splitlines()]
    lines += [f'"{k}" = {float(v):.4g}' for k, v in values.items()]
    return "\n".join(lines) + "\n"


def plot(per_row: pd.DataFrame, cal: Calibration, path: Path,
         title: str = "ABC: design rows (grey), accepted (blue), published ± tolerance (red)") -> None:
    """Each target: all rows (grey), the accepted rows (blue), the published value (red)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    n = len(cal.targets)
    cols = min(n, 4)
    fig, axes = plt.subplots((n + cols - 1) // cols, cols, figsize=(3.2 * cols, 2.6 * ((n + cols - 1) // cols)),
                             squeeze=False)
    kept = per_row["weight"] > 0
    for ax, t in zip(axes.flat, cal.targets):
        sns.stripplot(y=per_row.loc[~kept, t.label], ax=ax, color="0.75", size=3, jitter=0.25)
        sns.stripplot(y=per_row.loc[kept, t.label], ax=ax, color="tab:blue", size=4, jitter=0.25)
        ax.axhline(t.value, color="tab:red", lw=1.5)
        ax.axhspan(t.value - t.tolerance, t.value + t.tolerance, color="tab:red", alpha=0.12)
        ax.set_title(t.label, fontsize=8)
        ax.set_ylabel("")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
