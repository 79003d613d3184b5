"""The ``jiesu compare`` sub-command: scenarios side by side on common random numbers.

    jiesu compare A.toml B.toml [more ...] [--replicates N] [--scale S] [--days D] [--seed K]
                  [--workers W | --dask-local N | --scheduler ADDR | --serial] [--out DIR] [--quiet]

Every scenario runs the same replicates: replicate ``r`` uses the seed
``experiments.seeds.run_seed(K, 0, r)`` in every arm (common random numbers; the same seeds
as row 0 of a sweep with root seed ``K``), so the paired difference ``arm_r - first_r``
removes the noise the arms share. Runs go through ``experiments.executors.open_executor``
like a sweep's (local process pool, Dask, or this process). The outcomes and their labels
are the key outcomes of the registry (``model.outcomes.KEY_OUTCOMES``). The table shows,
per outcome, each arm's mean and its paired difference from the first scenario with a 95% confidence
interval from the t distribution on the ``N`` paired
differences (``*`` marks an interval that excludes 0). Two identical scenarios give a
difference of exactly 0.

Written to ``--out`` (default ``results/compare-<timestamp>/``), each file atomically:
``comparison.csv`` (one row per scenario x outcome: mean, sd, diff, diff_sd, ci_low,
ci_high, p_value, n), ``replicates.csv`` (every run's outcomes, for re-analysis) and
``comparison.png`` (paired differences with their intervals, one panel per outcome).

Exit codes: 0 done; 2 bad input (one line on stderr, nothing run, nothing written).
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from model.outcomes import KEY_OUTCOMES, SUMMARY

from .argtypes import CliError, add_executor_flags, check_out_folder, positive_int, positive_scale, seed_int

OUTCOMES = KEY_OUTCOMES     # what is compared: the registry's key outcomes (keys of Results.summary)
CONF = 0.95


def outcome_label(key: str, lang: str = "both") -> str:
    """The registry's label of an outcome (its name if the registry does not know it)."""
    return SUMMARY[key].label(lang) if key in SUMMARY else key


def replicate_seeds(root: int, replicates: int) -> list[int]:
    """The model seed of each replicate: row 0 of the sweep seed scheme, the same in every arm."""
    from .seeds import run_seed

    return [run_seed(root, 0, r) for r in range(replicates)]


# ------------------------------------------------------------------ running
def run_summary(cfg, seed: int) -> dict:
    """One replicate's summary (top-level, picklable; only the small dict travels back)."""
    from model import run_one

    return dict(run_one(cfg, seed).summary)


def load_arms(paths: list[str], scale: float | None, days: int | None) -> list[tuple[str, str, object]]:
    """(label, file, config) per scenario, all validated before anything runs."""
    from model import load_scenario

    overrides = {}
    if scale is not None:
        overrides["city.scale"] = scale
    if days is not None:
        overrides["city.days"] = days
    arms, seen = [], {}
    for p in paths:
        cfg = load_scenario(p, overrides)
        n = seen[cfg.name] = seen.get(cfg.name, 0) + 1
        label = cfg.name if n == 1 else f"{cfg.name}#{n}"   # the same scenario twice stays two arms
        arms.append((label, str(p), cfg))
    return arms


def run_all(arms, seeds: list[int], executor: dict | None = None, progress: bool = True
            ) -> tuple[dict[tuple[str, int], dict], str]:
    """({(label, seed): summary} for every arm x seed, executor description).

    ``executor`` holds the keyword arguments of :func:`experiments.executors.open_executor`
    (kind, workers, scheduler, dask_local); ``{"kind": "serial"}`` runs in this process.
    """
    from concurrent.futures import FIRST_COMPLETED, wait

    from tqdm import tqdm

    from .executors import open_executor

    jobs = [(label, cfg, s) for s in seeds for label, _, cfg in arms]
    out: dict[tuple[str, int], dict] = {}
    with open_executor(**(executor or {})) as (ex, _slots, desc), \
            tqdm(total=len(jobs), desc="compare", unit="run", disable=not progress) as bar:
        pending = {ex.submit(run_summary, cfg, s): (label, s) for label, cfg, s in jobs}
        try:
            waiting = set(pending)
            while waiting:
                done, waiting = wait(waiting, return_when=FIRST_COMPLETED)
                for f in done:
                    out[pending[f]] = f.result()
                    bar.update()
        finally:
            for f in pending:
                f.cancel()
    return out, desc


# ------------------------------------------------------------------ statistics
def compare_table(arms, seeds: list[int], runs: dict, outcomes=OUTCOMES):
    """Long table: one row per scenario x outcome with paired differences vs the first arm."""
    import numpy as np
    import pandas as pd
    from scipy import stats

    first = arms[0][0]
    rows = []
    for arm, path, _ in arms:
        for key in outcomes:
            name = outcome_label(key)
            x = np.array([_num(runs[(arm, s)].get(key)) for s in seeds], dtype=float)
            base = np.array([_num(runs[(first, s)].get(key)) for s in seeds], dtype=float)
            d = x - base
            ok = ~np.isnan(d)
            n = int(ok.sum())
            mean = float(np.nanmean(x)) if (~np.isnan(x)).any() else math.nan
            sd = float(np.nanstd(x, ddof=1)) if (~np.isnan(x)).sum() > 1 else math.nan
            diff = float(d[ok].mean()) if n else math.nan
            dsd = float(d[ok].std(ddof=1)) if n > 1 else math.nan
            if n > 1 and dsd == 0.0:
                lo = hi = diff
                p = 1.0 if diff == 0.0 else 0.0
            elif n > 1:
                half = stats.t.ppf(0.5 + CONF / 2, n - 1) * dsd / math.sqrt(n)
                lo, hi = diff - half, diff + half
                p = float(2 * stats.t.sf(abs(diff) / (dsd / math.sqrt(n)), n - 1))
            else:
                lo = hi = p = math.nan
            rows.append({"scenario": arm, "file": path, "outcome": key, "label": name, "mean": mean, "sd": sd,
                         "diff": diff, "diff_sd": dsd, "ci_low": lo, "ci_high": hi, "p_value": p, "n": n,
                         "baseline": first})
    return pd.DataFrame(rows)


def _num(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def format_table(df, arms) -> str:
    """One block per scenario after the first: outcome, baseline mean, mean, paired Δ and its 95% CI."""
    labels = [a[0] for a in arms]
    first = labels[0]
    rows_by = {(r.scenario, r.outcome): r for r in df.itertuples()}
    outcomes = list(dict.fromkeys(df["outcome"]))
    blocks = []
    for lab in labels[1:]:
        head = ["outcome", f"{first}", f"{lab}", "Δ (paired)", "95% CI", ""]
        rows = []
        for k in outcomes:
            b, r = rows_by.get((first, k)), rows_by.get((lab, k))
            if b is None or r is None:
                continue
            excl = not math.isnan(r.ci_low) and (r.ci_low > 0 or r.ci_high < 0)
            ci = "" if math.isnan(r.ci_low) else f"[{_f(r.ci_low, sign=True)}, {_f(r.ci_high, sign=True)}]"
            rows.append([outcome_label(k), _f(b.mean), _f(r.mean), _f(r.diff, sign=True), ci, "*" if excl else ""])
        widths = [max(_w(x[i]) for x in rows + [head]) for i in range(len(head))]
        right = {1, 2, 3}
        def fmt_row(cells, widths=widths, right=right):
            return "  ".join(_rpad(c, w) if i in right else _pad(c, w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
        blocks.append("\n".join([f"{lab} vs {first} (means; Δ = {lab} - {first} on the same seeds)",
                                  fmt_row(head), "  ".join("-" * w for w in widths).rstrip()]
                                 + [fmt_row(x) for x in rows]))
    return "\n\n".join(blocks)


def _f(v: float, sign: bool = False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    a = abs(v)
    spec = ".2e" if 0 < a < 0.001 else (".3f" if a < 10 else (".1f" if a < 1000 else ",.0f"))
    return format(v, ("+" if sign else "") + spec)


def _w(s: str) -> int:
    """Display width (CJK characters take two columns)."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def _pad(s: str, w: int) -> str:
    return s + " " * (w - _w(s))


def _rpad(s: str, w: int) -> str:
    return " " * (w - _w(s)) + s


# ------------------------------------------------------------------ output
def _atomic(path: Path, write) -> None:
    """Write via a temp file in the same folder, then os.replace (never a half-written file)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)   # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def plot(df, path: Path) -> None:
    """Paired differences vs the first scenario with 95% CIs, one panel per outcome."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import seaborn as sns
    from matplotlib.ticker import MaxNLocator

    try:
        from model.report import cjk_font
        font = cjk_font()
    except ImportError:
        font = None
    sns.set_theme(style="whitegrid", context="notebook", font=font or "DejaVu Sans")
    df = df.assign(panel=[outcome_label(k, "both" if font else "en") for k in df["outcome"]])
    order = list(dict.fromkeys(df["scenario"]))
    pal = dict(zip(order, sns.color_palette("colorblind", len(order))))

    def panel(data, color=None, **_):
        ax = plt.gca()
        y = np.array([order.index(s) for s in data["scenario"]])
        err = np.vstack([data["diff"] - data["ci_low"], data["ci_high"] - data["diff"]])
        err = np.nan_to_num(err, nan=0.0)
        for yi, (_, r), lo, hi in zip(y, data.iterrows(), err[0], err[1]):
            ax.errorbar(r["diff"], yi, xerr=[[lo], [hi]], fmt="o", color=pal[r["scenario"]], capsize=3)
        ax.axvline(0, color="0.4", lw=0.8, ls="--")
        ax.set_yticks(range(len(order)), order)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.set_ylim(len(order) - 0.5, -0.5)

    g = sns.FacetGrid(df, col="panel", col_wrap=4, sharex=False, sharey=True, height=2.2, aspect=1.5)
    g.map_dataframe(panel)
    g.set_titles("{col_name}", size=9)
    g.set_axis_labels("", "")
    g.figure.supxlabel(f"paired difference vs {order[0]}, mean and 95% CI (t)", y=-0.01)
    g.figure.suptitle(f"Paired differences vs {order[0]}, n = {int(df['n'].max())} common-seed replicates", y=1.02)
    _atomic(path, lambda tmp: g.figure.savefig(tmp, dpi=120, bbox_inches="tight", format="png"))
    plt.close(g.figure)


def write_outputs(out: Path, table, runs: dict, arms, seeds, with_plot: bool = True) -> None:
    import pandas as pd

    out.mkdir(parents=True, exist_ok=True)
    _atomic(out / "comparison.csv", lambda tmp: table.to_csv(tmp, index=False))
    keys = list(dict.fromkeys(table["outcome"]))
    reps = pd.DataFrame([{"scenario": arm, "file": path, "replicate": r, "seed": s,
                          **{k: runs[(arm, s)].get(k) for k in keys}}
                         for arm, path, _ in arms for r, s in enumerate(seeds)])
    _atomic(out / "replicates.csv", lambda tmp: reps.to_csv(tmp, index=False))
    if with_plot:
        plot(table, out / "comparison.png")


# ------------------------------------------------------------------ command
def register(subparsers) -> None:
    c = subparsers.add_parser("compare", help="run scenarios on common random numbers and compare key outcomes")
    c.add_argument("scenarios", nargs="+", metavar="SCENARIO.toml",
                   help="two or more scenario files; differences are taken against the first")
    c.add_argument("--replicates", type=positive_int, default=10, metavar="N",
                   help="replicates per scenario, same seeds in every arm (default 10; >= 2 for intervals)")
    c.add_argument("--scale", type=positive_scale, help="share of Beijing's population, in (0, 1] (default: each scenario's)")
    c.add_argument("--days", type=positive_int, help="days to simulate (default: each scenario's city.days)")
    c.add_argument("--seed", type=seed_int, default=0, metavar="K",
                   help="root seed: replicate r uses experiments.seeds.run_seed(K, 0, r) in every arm (default 0)")
    add_executor_flags(c, "local process pool of N workers (default: all cores, at most one per run)")
    c.add_argument("--out", metavar="DIR", help="output folder (default results/compare-<timestamp>)")
    c.add_argument("--no-plot", action="store_true", help="skip comparison.png")
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    c.set_defaults(func=cmd_compare)


def cmd_compare(args) -> int:
    if len(args.scenarios) < 2:
        raise CliError("compare: give at least two scenario files (differences are taken against the first)")
    out = Path(args.out) if args.out else Path("results") / f"compare-{datetime.now():%Y%m%d-%H%M%S}"
    check_out_folder(out)
    arms = load_arms(args.scenarios, args.scale, args.days)        # bad input stops here: nothing run
    seeds = replicate_seeds(args.seed, args.replicates)
    setups = {(cfg.city.scale, cfg.city.days) for _, _, cfg in arms}
    if len(setups) > 1:
        print("note: the scenarios differ in city.scale or city.days; give --scale and --days to compare like with like",
              file=sys.stderr)
    if args.serial:
        executor = {"kind": "serial"}
    else:
        executor = {"kind": "process", "workers": min(args.workers or os.cpu_count() or 1, len(arms) * len(seeds)),
                    "dask_local": args.dask_local, "scheduler": args.scheduler}
    t0 = time.perf_counter()
    runs, where = run_all(arms, seeds, executor, progress=not args.quiet)
    table = compare_table(arms, seeds, runs)
    write_outputs(out, table, runs, arms, seeds, with_plot=not args.no_plot)
    cfg0 = arms[0][2]
    print(f"compare: {len(arms)} scenarios x {len(seeds)} replicates (root seed {args.seed}, the same replicate "
          f"seeds in every arm), scale {cfg0.city.scale}, {cfg0.city.days} days, {where}, "
          f"{time.perf_counter() - t0:.1f} s")
    print(format_table(table, arms))
    if len(seeds) < 2:
        print("(one replicate: no confidence intervals; use --replicates 2 or more)")
    else:
        print(f"Δ: paired difference vs {arms[0][0]}; [..]: {CONF:.0%} CI (t, {len(seeds) - 1} df); * excludes 0")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":   # python -m experiments.compare A.toml B.toml ...
    from experiments.cli import main

    sys.exit(main(["compare", *sys.argv[1:]]))
