"""Global sensitivity analysis of a Sobol' or Morris sweep with SALib, with its pitfalls guarded.

SALib fails silently in ways that produce confident nonsense; this module refuses them:

- NaN outputs (a failed run, an undefined figure) would propagate into every index, so
  they are refused, naming the runs;
- ``calc_second_order`` must be the same at sampling and at analysis, or SALib slices Y
  into the wrong blocks: both read it from the one spec;
- Sobol' N must be a power of two (checked when the spec is read);
- the model is stochastic, so replicates are averaged per design row before analysis
  (SALib expects one Y per row of the sample matrix, in its order);
- an outcome that is constant across the design has no variance to apportion; it is
  reported as skipped instead of being divided by zero.

Results are a long table (arm, outcome, factor, index, value, conf), printed, saved as
CSV, and drawn as bar charts with confidence intervals (seaborn).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from model.outcomes import SUMMARY

from .design import salib_problem
from .seeds import design_seed


class SensitivityError(Exception):
    """The stored runs cannot be analysed (missing or NaN outputs); str() says which runs."""


def row_means(df: pd.DataFrame, n_rows: int, outcomes: list[str], arm: str) -> pd.DataFrame:
    """Outcomes averaged over replicates per design row, in design order; refuses NaN and gaps."""
    sub = df[df["arm"] == arm]
    bad = sub[sub["error"].notna() | sub[outcomes].isna().any(axis=1)]
    if len(bad):
        ids = ", ".join(bad["run_id"].head(8)) + (" ..." if len(bad) > 8 else "")
        raise SensitivityError(f"{len(bad)} run(s) of arm {arm} have errors or NaN outcomes ({ids}); "
                               f"SALib would turn them into NaN indices. Fix or drop those outcomes")
    means = sub.groupby("row")[outcomes].mean()
    missing = sorted(set(range(n_rows)) - set(means.index))
    if missing:
        raise SensitivityError(f"arm {arm}: design rows {missing[:8]} have no stored runs; run the sweep to the end")
    return means.sort_index()


def analyse(plan, df: pd.DataFrame, outcomes: list[str] | None = None, conf_level: float = 0.95,
            num_resamples: int = 100) -> tuple[pd.DataFrame, list[str]]:
    """Sobol' (S1, ST) or Morris (mu_star, sigma) indices per arm and outcome; plus skipped outcomes."""
    from SALib.analyze import morris, sobol

    spec = plan.spec
    method = spec.design.method
    if method not in ("sobol", "morris"):
        raise SensitivityError(f"design.method is {method!r}; sensitivity needs sobol or morris")
    problem = salib_problem(spec)
    numeric = [k for k in plan.tasks[0].summary_keys if SUMMARY[k].dtype in ("float", "int")]   # the registry's
    outcomes = outcomes or numeric
    unknown = [o for o in outcomes if o not in numeric]
    if unknown:
        raise SensitivityError(f"outcome {unknown[0]!r} is not a stored numeric outcome ({', '.join(numeric)})")
    x = plan.design[problem["names"]].to_numpy(dtype=float)
    rows, skipped = [], []
    for arm in plan.arms:
        means = row_means(df, len(plan.design), outcomes, arm)
        for out in outcomes:
            y = means[out].to_numpy(dtype=float)
            if np.ptp(y) <= 1e-12 * max(1.0, abs(y).max()):
                skipped.append(f"{arm}/{out}")
                continue
            if method == "sobol":
                si = sobol.analyze(problem, y, calc_second_order=spec.design.calc_second_order,
                                   num_resamples=num_resamples, conf_level=conf_level, seed=design_seed(spec.seed))
                pairs = (("S1", "S1_conf"), ("ST", "ST_conf"))
            else:
                si = morris.analyze(problem, x, y, num_levels=spec.design.num_levels, conf_level=conf_level,
                                    num_resamples=num_resamples, seed=design_seed(spec.seed))
                pairs = (("mu_star", "mu_star_conf"), ("sigma", None))
            for i, name in enumerate(problem["names"]):
                for idx, conf in pairs:
                    rows.append({"arm": arm, "outcome": out, "factor": name, "index": idx,
                                 "value": float(si[idx][i]), "conf": float(si[conf][i]) if conf else np.nan})
    return pd.DataFrame(rows), skipped


def format_table(ind: pd.DataFrame) -> str:
    """Indices as text: one line per (arm, outcome, factor), value ± half-width of the CI."""
    lines = []
    for (arm, out), g in ind.groupby(["arm", "outcome"], sort=False):
        lines.append(f"{arm} / {out}")
        wide = g.pivot_table(index="factor", columns="index", values=["value", "conf"], sort=False)
        for factor in g["factor"].unique():
            cells = []
            for idx in g["index"].unique():
                v, c = wide.loc[factor, ("value", idx)], wide.loc[factor].get(("conf", idx), np.nan)
                cells.append(f"{idx} {v:7.3f}" + (f" ± {c:.3f}" if np.isfinite(c) else "        "))
            lines.append(f"  {factor:<48} " + "   ".join(cells))
    return "\n".join(lines)


def plot(ind: pd.DataFrame, path, title: str = "") -> None:
    """Grouped bar chart (one panel per outcome) with confidence-interval error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="paper")
    outs = list(ind["outcome"].unique())
    factors = list(ind["factor"].unique())
    hue_order = list(ind["index"].unique())
    ncol = min(3, len(outs))
    nrow = -(-len(outs) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 0.5 * len(factors) + 2.8 * nrow), squeeze=False)
    for ax, out in zip(axes.flat, outs):
        sub = ind[ind["outcome"] == out].copy()
        sub["label"] = sub["factor"].str.split(".").str[-2:].str.join(".")
        order = [".".join(f.split(".")[-2:]) for f in factors]
        sns.barplot(data=sub, y="label", x="value", hue="index", order=order, hue_order=hue_order,
                    errorbar=None, ax=ax, orient="h")
        for container, idx in zip(ax.containers, hue_order):
            conf = sub[sub["index"] == idx].set_index("label").reindex(order)["conf"].to_numpy()
            ys = [b.get_y() + b.get_height() / 2 for b in container]
            xs = [b.get_width() for b in container]
            ax.errorbar(xs, ys, xerr=np.nan_to_num(conf), fmt="none", ecolor="black", elinewidth=0.8, capsize=2)
        ax.set_title(out)
        ax.set_xlabel("index")
        ax.set_ylabel("")
    for ax in list(axes.flat)[len(outs):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
