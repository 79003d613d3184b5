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

from .argtypes import CliError, add_executor_flags, check_out_folder, positive_int, positive_scale, seed_int


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
    c = subparsers.add_parser("calibrate", help="fit a calibration spec to published targets: ABC rejection over its "
                                                "design (a stored sweep) or ABC-SMC (pyabc, --method smc)")
    _add_common(c)
    c.add_argument("--accept", type=float, help="share of design rows kept (default: the spec's calibration.accept)")
    c.add_argument("--method", choices=("rejection", "smc"), default="rejection",
                   help="rejection: run/resume the design and keep the closest rows (default); smc: sequential "
                        "ABC-SMC from the factors' ranges as uniform priors (needs the 'calibrate' extra: pyabc)")
    c.add_argument("--population", type=positive_int, metavar="N", help="smc: particles per generation "
                   "(default: calibration.smc.population_size)")
    c.add_argument("--generations", type=positive_int, metavar="N", help="smc: most generations "
                   "(default: calibration.smc.generations)")
    c.add_argument("--max-simulations", type=positive_int, metavar="N", help="smc: stop after N runs in all")
    c.add_argument("--seed", type=seed_int, metavar="N", help="smc: seed of the sampler (default: calibration.smc.seed)")
    c.add_argument("--scale", type=positive_scale, metavar="S", help="smc: city.scale of the runs "
                   "(default: calibration.smc.scale, else the spec's)")
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


def _check_calibration(path, spec, arms) -> None:
    """A calibration spec: a [calibration] table, one scenario, decimal factors with ranges (one line, exit 2)."""
    from .spec import field_kind, schema_field

    if spec.calibration is None:
        raise CliError(f"{path}: calibration: missing; a calibration spec needs a [calibration] table "
                       f"with [[calibration.targets]] (see experiments/README.md)")
    if len(arms) != 1:
        raise CliError(f"{path}: scenarios: calibrate one scenario at a time (got {len(arms)})")
    if not spec.factors:
        raise CliError(f"{path}: factors: none; a calibration needs the uncertain parameters as factors")
    for key, factor in spec.factors.items():
        if factor.range is None:
            raise CliError(f"{path}: factors.{key}: calibration needs continuous ranges "
                           f"(range = [low, high]); a posterior of levels is not computed")
        if field_kind(schema_field(key)) != "float":
            raise CliError(f"{path}: factors.{key}: calibration needs decimal-valued keys "
                           f"(a posterior mean of a whole-number key would not be a valid value)")


def cmd_calibrate(args) -> int:
    """Rejection: run (or resume) the spec's runs, then fit: calibration.csv, posterior.csv, fit.csv,
    TOMLs, plot. SMC: see cmd_calibrate_smc."""
    if args.method == "smc":
        return cmd_calibrate_smc(args)
    smc_only = [f for f in ("population", "generations", "max_simulations", "seed", "scale")
                if getattr(args, f) is not None]
    if smc_only:
        raise CliError(f"--{smc_only[0].replace('_', '-')}: only with --method smc")
    plan, out = _prepare(args)     # a bad spec is refused here, before pandas loads
    _check_calibration(args.spec, plan.spec, plan.arms)
    cal = plan.spec.calibration
    if args.accept is not None:
        if not 0 < args.accept <= 1:
            raise CliError(f"--accept must be in (0, 1], got {args.accept}")
        cal = cal.model_copy(update={"accept": args.accept})
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


def _smc_settings(args, cal):
    """The spec's calibration.smc with the command line's values on top (checked like the spec)."""
    from pydantic import ValidationError

    from .targets import SMC

    update = {k: v for k, v in (("population_size", args.population), ("generations", args.generations),
                                ("max_simulations", args.max_simulations), ("seed", args.seed),
                                ("scale", args.scale)) if v is not None}
    if "generations" in update and cal.smc.epsilons is not None:
        raise CliError("--generations: the spec sets a fixed calibration.smc.epsilons schedule (one per generation); "
                       "change the spec instead")
    try:
        return SMC.model_validate({**cal.smc.model_dump(), **update})
    except ValidationError as err:
        e = err.errors()[0]
        raise CliError(f"--{'-'.join(str(x) for x in e['loc']) or 'smc'}: {e['msg']}") from None


def cmd_calibrate_smc(args) -> int:
    """ABC-SMC (pyabc) of the spec's one scenario; writes into --out (default results/<name>_smc):
    smc_particles.csv (every generation: parameters, weight, distance, statistics), smc_generations.csv
    (epsilon, simulations, acceptance), posterior.csv, fit.csv, posterior_mean.toml, best.toml,
    calibration.png, smc.json and pyabc's smc_history.db, each written whole (temporary file, rename)."""
    import importlib.util
    import json

    from .spec import load_spec

    if args.accept is not None:
        raise CliError("--accept: only with --method rejection (SMC keeps a population, not a share)")
    if args.batch_size is not None:
        raise CliError("--batch-size: only with --method rejection (SMC stores no run batches)")
    spec, arms = load_spec(args.spec)
    _check_calibration(args.spec, spec, arms)
    out = Path(args.out) if args.out else Path("results") / f"{spec.name}_smc"
    check_out_folder(out)
    settings = _smc_settings(args, spec.calibration)
    if importlib.util.find_spec("pyabc") is None:
        raise CliError("--method smc needs pyabc: pip install -e '.[calibrate]'")
    if args.dask_local:
        raise CliError("--dask-local: not for --method smc; start a cluster and pass --scheduler ADDR, "
                       "or use --workers N")
    workers = 1 if args.serial else (args.workers or (spec.executor.workers if spec.executor.kind == "process"
                                                      else None) or os.cpu_count() or 1)
    scheduler = args.scheduler or (spec.executor.scheduler if spec.executor.kind == "dask" and not args.workers
                                   and not args.serial else None)
    from model import with_overrides

    from . import smc as smc_mod
    from .calibrate import overrides_toml, plot

    arm = next(iter(arms.values()))
    if settings.scale is not None:
        arm = with_overrides(arm, {"city.scale": settings.scale})
    cal = spec.calibration
    factors = list(spec.factors)
    prior = {k: tuple(f.range) for k, f in spec.factors.items()}
    sampler = smc_mod.make_sampler(workers=workers, scheduler=scheduler)
    where = f"Dask scheduler {scheduler}" if scheduler else f"{workers} local process(es)"
    print(f"{spec.name}: ABC-SMC at scale {arm.city.scale}, {len(factors)} parameters, population {settings.population_size}, "
          f"at most {settings.generations} generations, seed {settings.seed}, on {where}", flush=True)
    res = smc_mod.run_smc(smc_mod.ScenarioSimulator(arm, cal, spec.outcomes.monthly),
                          {t.label: t.value for t in cal.targets}, smc_mod.Misfit(cal), prior, settings, out,
                          sampler)
    final, post, fit, plot_rows = smc_mod.summarise(res, cal, factors, prior)
    print(f"\nABC-SMC: {res.simulations} runs in {res.seconds:.0f} s, {len(res.generations)} generations")
    print(res.generations.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(post.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print()
    print(fit.drop(columns="source").to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    _atomic_save(out / "smc_particles.csv", lambda p: res.particles.to_csv(p, index=False))
    _atomic_save(out / "smc_generations.csv", lambda p: res.generations.to_csv(p, index=False))
    _atomic_save(out / "posterior.csv", lambda p: post.to_csv(p, index=False))
    _atomic_save(out / "fit.csv", lambda p: fit.to_csv(p, index=False))
    head = (f"{spec.name}: ABC-SMC, population {settings.population_size}, generation {int(final['t'].iloc[0])}, "
            f"epsilon {res.generations['epsilon'].iloc[-1]:.3f}, seed {settings.seed}")
    best = {f: final[f].iloc[0] for f in factors}
    mean = dict(zip(post["parameter"], post["mean"]))
    _atomic_save(out / "best.toml", lambda p: p.write_text(overrides_toml(
        best, f"{head}\nthe final particle closest to the targets (distance {final['distance'].iloc[0]:.3f})")))
    _atomic_save(out / "posterior_mean.toml", lambda p: p.write_text(overrides_toml(
        mean, f"{head}\nweighted posterior means (check them with replicates: a mean of a ridge may lie off it)")))
    _atomic_save(out / "calibration.png", lambda p: plot(
        plot_rows, cal, p, "ABC-SMC: earlier generations (grey), final (blue), published ± tolerance (red)"))
    meta = {"spec": str(args.spec), "method": "smc", "settings": settings.model_dump(), "sampler": where,
            "parameters": factors, "prior": prior, "seconds": round(res.seconds, 1), "simulations": res.simulations,
            "generations": len(res.generations), "scale": arm.city.scale, "days": arm.city.days}
    _atomic_save(out / "smc.json", lambda p: p.write_text(json.dumps(meta, indent=1)))
    print(f"\nwritten: {out}/smc_particles.csv, smc_generations.csv, posterior.csv, fit.csv, best.toml, "
          f"posterior_mean.toml, calibration.png, smc.json, smc_history.db")
    return 0
