"""The paired comparisons of scenarios/README.md, with and without units weighing the rules (issue 10, "Check").

    python experiments/studies/comparisons/run.py [--replicates 10] [--scale 0.05] [--days 365]
                                                  [--workers 2] [--seed 1] [--out docs/comparisons.md]

Runs ``final_2021`` against each counterfactual of scenarios/README.md on common random numbers
(the seeds and the statistics of ``jiesu compare``: experiments.compare), twice:

- **now**: the scenarios as they are (units weigh the assessment at the calibrated
  ``world.behaviour.incentive_weight``);
- **weight 0**: every arm with ``world.behaviour.incentive_weight = 0`` (units ignore the
  assessment; the rules still change what is measured, audited and sanctioned, the districts'
  support of remedial units and the hotline's channels).

From the two it computes the share of each difference that comes from decisions:
``1 - diff(weight 0) / diff(now)``, for differences whose interval excludes 0. The
**before** column (the model of 2026-12-01, commit 7565107, when rule switches set whistle
answering and cooperation directly) cannot be re-run on today's code; it is read from
``before_2026-12-01.csv`` beside this script, measured then with the same command.

Writes the markdown table (``--out``, atomically) and the long tables of both runs as CSV beside
it in ``results/comparisons-<date>/`` for re-analysis. The reading of the table written by hand
below the line ``MARKER`` in the document is kept when the table is regenerated. Nothing here is fitted or typed in: every
number but the before column is measured by this run.
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
BASE = "final_2021"
# the counterfactuals of scenarios/README.md ("Paired comparisons"), each compared with BASE
ARMS = ["harsh_sanctions", "no_audit", "no_whistle", "per_capita_volume", "resolution_only",
        "satisfaction_only", "second_draft_2021", "strong_audit"]
OUTCOMES = ["resolution_rate", "satisfaction_rate", "true_resolution_rate", "measured_true_gap",
            "effort_share_game", "whistles_answered", "overdue_share"]
MARKER = "<!-- reading: written by hand, kept when the table is regenerated -->"
COUNTS = {"whistles_answered"}      # shown as counts of orders; the rest are shares, shown in points


def arms_for(scale: float, days: int, weight: float | None):
    """(label, file, config) of BASE and every arm, ``incentive_weight`` overridden when given."""
    from model import load_scenario

    over = {"city.scale": scale, "city.days": days}
    if weight is not None:
        over["world.behaviour.incentive_weight"] = weight
    return [(name, f"scenarios/{name}.toml", load_scenario(ROOT / "scenarios" / f"{name}.toml", over))
            for name in [BASE, *ARMS]]


def measure(scale: float, days: int, weight: float | None, seeds: list[int], workers: int):
    """The long comparison table of one weight setting (experiments.compare.compare_table)."""
    from experiments.compare import compare_table, run_all

    arms = arms_for(scale, days, weight)
    runs, _ = run_all(arms, seeds, executor={"kind": "process", "workers": workers})
    return compare_table(arms, seeds, runs, outcomes=OUTCOMES)


def cell(row) -> str:
    """A difference as the table shows it: points (or orders) with its 95% interval, * when it excludes 0."""
    star = "*" if _excludes_zero(row) else ""
    if row["outcome"] in COUNTS:
        return f"{row['diff']:+,.0f}{star}"
    k = 100.0
    return f"{row['diff'] * k:+.2f} [{row['ci_low'] * k:+.2f}, {row['ci_high'] * k:+.2f}]{star}"


def _excludes_zero(row) -> bool:
    lo, hi = row["ci_low"], row["ci_high"]
    return not (math.isnan(lo) or math.isnan(hi)) and (lo > 0 or hi < 0) and row["diff"] != 0


def share_from_decisions(now, zero) -> str:
    """1 - diff(weight 0) / diff(now) where the difference now is clearly not 0, else a dash."""
    if not _excludes_zero(now):
        return "–"
    return f"{1.0 - zero['diff'] / now['diff']:.0%}"


def read_before() -> dict[tuple[str, str], str]:
    with open(HERE / "before_2026-12-01.csv", newline="", encoding="utf-8") as f:
        return {(r["arm"], r["outcome"]): r["before"] for r in csv.DictReader(f)}


def table(now, zero, before: dict) -> list[str]:
    """The markdown rows: arm | outcome | before | now | weight 0 | from decisions."""
    key = lambda df: {(r["scenario"], r["outcome"]): r for r in df.to_dict("records")}   # noqa: E731
    a, z = key(now), key(zero)
    lines = ["| arm | outcome | before | now | weight 0 | from decisions |", "|---|---|---|---|---|---|"]
    for arm in ARMS:
        for out in OUTCOMES:
            lines.append(f"| {arm} | {out} | {before.get((arm, out), '–')} | {cell(a[(arm, out)])} | "
                         f"{cell(z[(arm, out)])} | {share_from_decisions(a[(arm, out)], z[(arm, out)])} |")
    return lines


def document(lines: list[str], args, seconds: float, commit: str) -> str:
    return f"""# Paired comparisons of the scenarios, before and after units weigh the rules (issue 10, "Check")

`final_2021` against each counterfactual of scenarios/README.md: {args.replicates} common-random-number
replicates (the seeds of `jiesu compare`, root seed {args.seed}), scale {args.scale}, {args.days} days.
Differences are arm − final_2021, in percentage points for rates and shares (whistles answered: orders),
with 95% intervals from the t distribution over the paired replicates; * marks an interval that excludes 0.

Generated by `python experiments/studies/comparisons/run.py` on {date.today().isoformat()} (commit {commit},
{seconds / 60:.0f} min on {args.workers} workers). Re-run it after any change to the model; do not edit the
table by hand.

- **before**: the model of 2026-12-01 (commit 7565107: rule switches set whistle answering and
  cooperation; thinned city at 0.05), measured then with `jiesu compare` and kept in
  experiments/studies/comparisons/before_2026-12-01.csv (today's code cannot run it).
- **now**: today's model, units choosing from the consequences the rules attach (issue 10 item 1).
- **weight 0**: the same model with `world.behaviour.incentive_weight = 0` in every arm (units ignore
  the assessment; rules still change what is measured, audited and sanctioned, the districts' support
  of remedial units, and the channels).
- **from decisions**: 1 − (difference at weight 0) / (difference now), for differences whose interval
  excludes 0: the share of the rule's effect that comes from what units choose in answer to it rather
  than from the rule's direct working on the measures. Above 100% means the direct working goes the
  other way; noisy where the difference is small.

The before and now columns differ in more than the decision model (issue 9 changed the life of a
request and the scale design in between), so read their difference as "what the model now says", not
as the effect of the decision model alone; the weight-0 column isolates that.

{chr(10).join(lines)}
"""


def main() -> None:
    from experiments.compare import replicate_seeds
    from experiments.rules_table import write_atomic
    from experiments.storage import environment

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replicates", type=int, default=10)
    p.add_argument("--scale", type=float, default=0.05)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", default=str(ROOT / "docs" / "comparisons.md"))
    args = p.parse_args()
    seeds = replicate_seeds(args.seed, args.replicates)
    t0 = time.perf_counter()
    now = measure(args.scale, args.days, None, seeds, args.workers)
    zero = measure(args.scale, args.days, 0.0, seeds, args.workers)
    seconds = time.perf_counter() - t0
    folder = ROOT / "results" / f"comparisons-{date.today().isoformat()}"
    write_atomic(folder / "now.csv", now.to_csv(index=False))
    write_atomic(folder / "weight0.csv", zero.to_csv(index=False))
    commit = (environment()["git_commit"] or "unknown")[:7]
    out = Path(args.out)
    reading = out.read_text(encoding="utf-8").partition(MARKER)[2] if out.exists() else ""
    text = document(table(now, zero, read_before()), args, seconds, commit)
    write_atomic(out, text + (f"\n{MARKER}{reading}" if reading else ""))
    print(f"wrote {args.out} and {folder}/ in {seconds / 60:.1f} min")


if __name__ == "__main__":
    main()
