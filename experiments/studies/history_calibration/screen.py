"""Which calibration factors move the published targets: a Morris screening of the history replay.

Why: ABC-SMC over all the factors of spec.toml (17-18 of them) collapses at the populations this
machine affords (rounds 6-8: effective sample size 2-4 of 19-30 particles after one generation),
and a particle population fills 18 dimensions only in the hundreds. Elementary effects (Morris
1991; Campolongo, Cariboni & Saltelli 2007, mu*) rank the factors by how far each moves every
target, in tolerances, and the distance ABC uses, so the next fit can keep the factors the
published series constrain and fix the rest as named assumptions.

The runs are a stored, resumable sweep (the spec's scenario, outcomes and seeds; a Morris design
from SALib over the spec's factor ranges; one replicate per design point, at ``--scale``). Each
run's statistics and distance come from the calibration's own functions
(experiments.calibrate.statistics and misfit), so the screening measures what the fit compares.
mu* is in tolerances of each target (the distance is in its own unit, root mean square
tolerances); sigma > mu* marks effects that depend on the other factors (interactions or
non-linearity); the confidence half-widths are SALib's bootstrap over trajectories. Model noise
enters every elementary effect, so the script also measures the noise floor: pairs of runs at the
same parameters with different seeds (an LHS over the same ranges, two replicates each), whose
mean absolute difference divided by Morris' step is the mu* a factor with no effect would show.
A factor whose mu* on a target is near that floor is not constrained by that target.

Usage (about 11 CPU seconds a run at scale 0.02; 4 trajectories over 18 factors are 76 runs, plus
2 x 8 runs for the noise floor):
    python experiments/studies/history_calibration/screen.py --trajectories 4 --workers 2
Written atomically to results/history_screening/: the sweeps' runs (noise pairs under noise/),
screening.csv (long table, the floor as factor "noise floor"), screening.md (mu* per factor and target).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from experiments.calibrate import misfit, simulated  # noqa: E402
from experiments.design import salib_problem  # noqa: E402
from experiments.rules_table import write_atomic  # noqa: E402
from experiments.seeds import design_seed  # noqa: E402
from experiments.spec import load_spec  # noqa: E402
from experiments.storage import RunStore  # noqa: E402
from experiments.sweep import make_plan, run_sweep  # noqa: E402
from model.scenario import with_overrides  # noqa: E402

SPEC = Path(__file__).with_name("spec.toml")
DISTANCE = "distance (rms tolerances)"


def _plan(spec_path: Path, name: str, design: dict, replicates: int, scale: float):
    """The calibration spec with another design, replicates and scale: same factors, targets,
    outcomes and root seed."""
    spec, arms = load_spec(spec_path)
    spec = spec.model_copy(update={"design": spec.design.model_copy(update=design), "replicates": replicates,
                                   "name": name})
    arms = {arm: with_overrides(cfg, {"city.scale": scale}) for arm, cfg in arms.items()}
    return make_plan(spec, arms, str(spec_path), spec_path.read_text(encoding="utf-8"))


def screening_plan(spec_path: Path, trajectories: int, levels: int, scale: float):
    """The calibration spec as a Morris sweep, one run per design point."""
    return _plan(spec_path, "history_screening", {"method": "morris", "samples": trajectories, "num_levels": levels},
                 1, scale)


def noise_plan(spec_path: Path, pairs: int, scale: float):
    """Pairs of runs at the same parameters (an LHS of ``pairs`` rows over the factor ranges, two
    replicates each, the replicates' own seeds): what the model's noise alone does to a statistic."""
    return _plan(spec_path, "history_screening_noise", {"method": "lhs", "samples": pairs}, 2, scale)


def target_columns(runs: pd.DataFrame, cal, monthly: dict, scale: float) -> pd.DataFrame:
    """Each run's targets in tolerances off the published value, and its distance."""
    stats = simulated(runs, cal, monthly, scale)
    value = np.array([t.value for t in cal.targets])
    tol = np.array([t.tolerance for t in cal.targets])
    out = pd.DataFrame((stats.to_numpy(float) - value) / tol, index=runs.index, columns=[t.label for t in cal.targets])
    out[DISTANCE] = misfit(stats.to_numpy(float), cal)
    return out


def noise_floor(plan, runs: pd.DataFrame, scale: float, levels: int) -> pd.Series:
    """mu* of a factor without effect on each target: mean |replicate 0 - replicate 1| at the same
    parameters over Morris' step (SALib's elementary effect is the change over the step)."""
    runs = runs[runs["error"].isna()]
    z = target_columns(runs, plan.spec.calibration, plan.spec.outcomes.monthly, scale)
    z[["row", "replicate"]] = runs[["row", "replicate"]]
    wide = z.pivot(index="row", columns="replicate")
    step = levels / (2.0 * (levels - 1))
    return pd.Series({c: float(np.nanmean(np.abs(wide[(c, 0)] - wide[(c, 1)]))) / step
                      for c in z.columns if c not in ("row", "replicate")})


def target_effects(plan, runs: pd.DataFrame, scale: float) -> pd.DataFrame:
    """Morris mu*, its confidence half-width and sigma of every factor on every target (in its
    tolerances) and on the calibration distance; one row per (target, factor)."""
    from SALib.analyze import morris

    cal, spec = plan.spec.calibration, plan.spec
    runs = runs[runs["error"].isna()].sort_values("row", kind="stable")
    if len(runs) != len(plan.design):
        raise SystemExit(f"screening: {len(plan.design) - len(runs)} of {len(plan.design)} runs failed or are "
                         "missing; re-run the command to finish them")
    z = target_columns(runs, cal, spec.outcomes.monthly, scale)
    problem = salib_problem(spec)
    x = plan.design[problem["names"]].to_numpy(float)
    rows = []
    for target in z.columns:
        y = z[target].to_numpy(float)
        ok = np.isfinite(y)
        if not ok.all():
            raise SystemExit(f"screening: target {target!r} has no value in {int((~ok).sum())} runs")
        si = morris.analyze(problem, x, y, num_levels=spec.design.num_levels, num_resamples=200,
                            seed=design_seed(spec.seed))
        for i, name in enumerate(problem["names"]):
            rows.append({"target": target, "factor": name, "mu_star": float(si["mu_star"][i]),
                         "mu_star_conf": float(si["mu_star_conf"][i]), "sigma": float(si["sigma"][i]),
                         "mean_at_design": float(np.mean(y))})
    return pd.DataFrame(rows)


def markdown(effects: pd.DataFrame, floor: pd.Series, plan, scale: float, pairs: int) -> str:
    """mu* per factor (rows, by their effect on the distance) and target (columns), in tolerances,
    with the noise floor's row first."""
    wide = effects.pivot(index="factor", columns="target", values="mu_star")
    dist = DISTANCE
    conf = effects[effects["target"] == dist].set_index("factor")["mu_star_conf"]
    order = wide[dist].sort_values(ascending=False).index
    targets = [dist] + [t.label for t in plan.spec.calibration.targets]
    short = {f: f.split(".")[-1] for f in wide.index}
    head = "| factor | " + " | ".join(targets) + " |"
    lines = [f"Morris screening of the history replay (scale {scale}, {len(plan.design)} runs, "
             f"{plan.spec.design.samples} trajectories, {plan.spec.design.num_levels} levels): mu* in tolerances "
             f"of each target; the distance column gives mu* ± its 95% bootstrap half-width. The noise floor "
             f"is the mu* of a factor without effect (from {pairs} pairs of runs at the same parameters).",
             "", head, "|" + "---|" * (len(targets) + 1),
             "| *noise floor* | " + " | ".join(f"*{floor[t]:.2f}*" for t in targets) + " |"]
    for f in order:
        cells = [f"{wide.loc[f, dist]:.2f} ± {conf[f]:.2f}"] + [f"{wide.loc[f, t]:.2f}" for t in targets[1:]]
        lines.append(f"| {short[f]} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spec", type=Path, default=SPEC)
    ap.add_argument("--trajectories", type=int, default=4)
    ap.add_argument("--levels", type=int, default=4)
    ap.add_argument("--scale", type=float, default=0.02)
    ap.add_argument("--noise-pairs", type=int, default=8, help="pairs of same-parameter runs for the noise floor")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "history_screening")
    args = ap.parse_args()
    plan = screening_plan(args.spec, args.trajectories, args.levels, args.scale)
    report = run_sweep(plan, args.out, kind="process", workers=args.workers)
    print(f"{report.ran} runs now, {report.already} stored before, {report.failed} failed, {report.seconds:.0f} s")
    noise = noise_plan(args.spec, args.noise_pairs, args.scale)
    report = run_sweep(noise, args.out / "noise", kind="process", workers=args.workers)
    print(f"noise pairs: {report.ran} runs now, {report.already} stored before, {report.failed} failed")
    floor = noise_floor(noise, RunStore(args.out / "noise").read(), args.scale, args.levels)
    effects = target_effects(plan, RunStore(args.out).read(), args.scale)
    floor_rows = pd.DataFrame({"target": floor.index, "factor": "noise floor", "mu_star": floor.to_numpy()})
    write_atomic(args.out / "screening.csv", pd.concat([effects, floor_rows], ignore_index=True).to_csv(index=False))
    text = markdown(effects, floor, plan, args.scale, args.noise_pairs)
    write_atomic(args.out / "screening.md", text)
    print(text)


if __name__ == "__main__":
    main()
