"""The ``jiesu sweep`` and ``jiesu sensitivity`` sub-commands (registered into experiments/cli.py).

``jiesu sweep SPEC.toml [--workers N | --dask-local N | --scheduler ADDR | --serial] [--out DIR]``
runs every run of a sweep spec not yet stored in DIR (default ``results/<sweep name>``);
running it again resumes. ``jiesu sensitivity SPEC.toml`` does the same for a Sobol' or
Morris spec, then prints the indices with confidence intervals and writes
``indices.csv`` and ``sensitivity-<arm>.png`` next to the runs.

Exit codes: 0 all runs stored without error; 1 some runs failed (their errors are in the
``error`` column; the rest completed) or the sensitivity analysis was refused; 2 bad input
(one line on stderr, nothing written).

Only the standard library is imported here: the parser is built for every ``jiesu`` call,
so the spec, the sweep machinery and their dependencies load when a sub-command runs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .argtypes import CliError, add_executor_flags, check_out_folder, positive_int


def _add_common(p) -> None:
    p.add_argument("spec", help="sweep spec TOML (see experiments/README.md)")
    add_executor_flags(p, "local process pool of N workers (default: spec, else all cores)")
    p.add_argument("--out", metavar="DIR", help="results folder (default results/<sweep name>)")
    p.add_argument("--batch-size", type=positive_int, metavar="N", help="runs per Parquet file (default: spec, else 50)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def register(subparsers) -> None:
    s = subparsers.add_parser("sweep", help="run a sweep spec (designs x rule arms x replicates), resumable")
    _add_common(s)
    s.set_defaults(func=cmd_sweep)
    a = subparsers.add_parser("sensitivity", help="run a Sobol'/Morris spec and print its sensitivity indices")
    _add_common(a)
    a.add_argument("--outcomes", help="comma-separated outcomes to analyse (default: all numeric outcomes kept)")
    a.add_argument("--conf", type=float, default=0.95, help="confidence level of the intervals (default 0.95)")
    a.add_argument("--resamples", type=positive_int, default=100, help="bootstrap resamples (default 100)")
    a.set_defaults(func=cmd_sensitivity)
    c = subparsers.add_parser("calibrate", help="run a calibration spec (design = prior sample) and fit it to "
                                                "published targets by ABC rejection")
    _add_common(c)
    c.add_argument("--accept", type=float, help="share of design rows kept (default: the spec's calibration.accept)")
    c.set_defaults(func=cmd_calibrate)
    from . import report  # jiesu report (issue 11): its module is as light as this one

    report.register(subparsers)


def _executor_args(args, spec) -> dict:
    e = spec.executor
    if args.serial:
        return {"kind": "serial"}
    if args.workers or args.dask_local or args.scheduler:
        return {"kind": "process", "workers": args.workers, "dask_local": args.dask_local,
                "scheduler": args.scheduler}
    return {"kind": e.kind, "workers": e.workers, "dask_local": e.dask_local, "scheduler": e.scheduler}


def _prepare(args, sensitivity: bool = False):
    from model.scenario import read_text

    from .spec import load_spec

    spec, arms = load_spec(args.spec)
    if sensitivity and spec.design.method not in ("sobol", "morris"):
        raise CliError(f"{args.spec}: design.method: sensitivity needs 'sobol' or 'morris' (got {spec.design.method!r})")
    out = Path(args.out) if args.out else Path("results") / spec.name
    check_sweep_folder(out)
    from .sweep import make_plan

    plan = make_plan(spec, arms, str(args.spec), read_text(args.spec, "sweep spec"))
    return plan, out


def check_sweep_folder(out: Path) -> None:
    """Refuse an --out that is not a folder, or whose stored sweep cannot be read (one line, exit 2).

    A sweep folder is the state a resumed sweep starts from: its manifest must be a JSON
    object and every batch file a Parquet file, or the resume would end in a traceback.
    """
    import json

    check_out_folder(out)
    manifest = out / "manifest.json"
    if manifest.exists() or manifest.is_symlink():
        try:
            data = json.loads(manifest.read_bytes().decode("utf-8"))
        except (OSError, ValueError) as err:       # unreadable, a directory, not UTF-8, not JSON
            why = "permission denied" if isinstance(err, PermissionError) else (
                err.strerror if isinstance(err, OSError) and err.strerror else type(err).__name__)
            raise CliError(f"--out {out}: manifest.json cannot be read as a sweep manifest ({why}); "
                           f"choose another --out") from None
        if not isinstance(data, dict):
            raise CliError(f"--out {out}: manifest.json is not a sweep manifest (not a JSON object); "
                           f"choose another --out")
    from .storage import BATCH_RE

    runs = out / "runs"
    batches = sorted(p for p in runs.iterdir() if BATCH_RE.match(p.name)) if runs.is_dir() else []
    if batches:
        import pyarrow.parquet as pq

        for f in batches:
            try:
                pq.read_schema(f)
            except Exception as err:  # noqa: BLE001 - pyarrow raises ArrowInvalid, OSError, ...
                raise CliError(f"{f}: is not a readable batch file of this sweep ({type(err).__name__}); "
                               f"move it away or choose another --out") from None


def _run(args, plan, out) -> int:
    from .storage import RunStore
    from .sweep import run_sweep

    rep = run_sweep(plan, out, progress=not args.quiet, batch_size=args.batch_size, **_executor_args(args, plan.spec))
    df = RunStore(out).read()
    failed = df[df["error"].notna()] if len(df) else df
    print(f"{plan.spec.name}: {rep.total} runs ({rep.already} already stored, {rep.ran} run now) "
          f"in {rep.seconds:.1f} s on {rep.executor} -> {out}")
    if len(failed):
        print(f"{len(failed)} run(s) failed, recorded with their error; first: "
              f"{failed['run_id'].iloc[0]}: {failed['error'].iloc[0]}", file=sys.stderr)
        return 1
    return 0


def cmd_sweep(args) -> int:
    plan, out = _prepare(args)
    return _run(args, plan, out)


def _atomic_save(path: Path, save) -> None:
    tmp = path.parent / f".tmp-{os.getpid()}-{path.name}"
    save(tmp)
    os.replace(tmp, path)


def cmd_sensitivity(args) -> int:
    from .sensitivity import SensitivityError, analyse, format_table, plot
    from .storage import RunStore

    if not 0 < args.conf < 1:
        raise CliError(f"--conf must be in (0, 1), got {args.conf}")
    plan, out = _prepare(args, sensitivity=True)
    outcomes = [o.strip() for o in args.outcomes.split(",")] if args.outcomes else None
    if outcomes:
        kept = plan.tasks[0].summary_keys
        bad = [o for o in outcomes if o not in kept]
        if bad:
            raise CliError(f"--outcomes: {bad[0]!r} is not kept by the spec (kept: {', '.join(kept)})")
    code = _run(args, plan, out)
    try:
        ind, skipped = analyse(plan, RunStore(out).read(), outcomes, args.conf, args.resamples)
    except SensitivityError as err:
        print(f"sensitivity refused: {err}", file=sys.stderr)
        return 1
    method = plan.spec.design.method
    print(f"\n{method} indices ({args.conf:.0%} confidence intervals, replicates averaged per design row)")
    print(format_table(ind))
    if skipped:
        print(f"skipped (constant over the design): {', '.join(skipped)}")
    _atomic_save(out / "indices.csv", lambda p: ind.to_csv(p, index=False))
    for arm in ind["arm"].unique():
        path = out / f"sensitivity-{arm}.png"
        _atomic_save(path, lambda p, a=arm: plot(ind[ind["arm"] == a], p, f"{plan.spec.name}: {a} ({method})"))
        print(f"plot: {path}")
    return code


def cmd_calibrate(args) -> int:
    """Run (or resume) the spec's runs, then fit: calibration.csv, posterior.csv, fit.csv, TOMLs, plot."""
    from .spec import field_kind, schema_field

    plan, out = _prepare(args)     # a bad spec is refused here, before pandas loads
    cal = plan.spec.calibration
    if cal is None:
        raise CliError(f"{args.spec}: calibration: missing; a calibration spec needs a [calibration] table "
                       f"with [[calibration.targets]] (see experiments/README.md)")
    if args.accept is not None:
        if not 0 < args.accept <= 1:
            raise CliError(f"--accept must be in (0, 1], got {args.accept}")
        cal = cal.model_copy(update={"accept": args.accept})
    if len(plan.arms) != 1:
        raise CliError(f"{args.spec}: scenarios: calibrate one scenario at a time (got {len(plan.arms)})")
    for key, factor in plan.spec.factors.items():
        if factor.range is None:
            raise CliError(f"{args.spec}: factors.{key}: calibration needs continuous ranges "
                           f"(range = [low, high]); a posterior of levels is not computed")
        if field_kind(schema_field(key)) != "float":
            raise CliError(f"{args.spec}: factors.{key}: calibration needs decimal-valued keys "
                           f"(a posterior mean of a whole-number key would not be a valid value)")
    from . import calibrate as cal_mod
    from .storage import RunStore

    code = _run(args, plan, out)
    arm = next(iter(plan.arms.values()))
    factors = list(plan.spec.factors)
    prior = {k: tuple(f.range) for k, f in plan.spec.factors.items()}
    per_row, post = cal_mod.calibrate(RunStore(out).read(), cal, factors, plan.spec.outcomes.monthly,
                                      arm.city.scale, prior)
    fit = cal_mod.fit_table(per_row, cal)
    kept = int((per_row["weight"] > 0).sum())
    print(f"\nABC rejection: {kept} of {len(per_row)} design rows accepted "
          f"(distance <= {per_row.loc[per_row['weight'] > 0, 'distance'].max():.3f}; best {per_row['distance'].iloc[0]:.3f})")
    print(post.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print()
    print(fit.drop(columns="source").to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    _atomic_save(out / "calibration.csv", lambda p: per_row.to_csv(p, index=False))
    _atomic_save(out / "posterior.csv", lambda p: post.to_csv(p, index=False))
    _atomic_save(out / "fit.csv", lambda p: fit.to_csv(p, index=False))
    best = {f: per_row[f].iloc[0] for f in factors}
    mean = dict(zip(post["parameter"], post["mean"]))
    head = f"{plan.spec.name}: ABC rejection on {len(per_row)} design rows, accept {cal.accept}"
    _atomic_save(out / "best.toml", lambda p: p.write_text(cal_mod.overrides_toml(
        best, f"{head}\nthe design row closest to the targets (distance {per_row['distance'].iloc[0]:.3f})")))
    _atomic_save(out / "posterior_mean.toml", lambda p: p.write_text(cal_mod.overrides_toml(
        mean, f"{head}\nweighted posterior means (check them with replicates: a mean of a ridge may lie off it)")))
    _atomic_save(out / "calibration.png", lambda p: cal_mod.plot(per_row, cal, p))
    print(f"\nwritten: {out}/calibration.csv, posterior.csv, fit.csv, best.toml, posterior_mean.toml, calibration.png")
    return code
