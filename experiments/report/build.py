"""``jiesu report``: check the input, plan and run the report's runs, and write the HTML.

Everything the user can get wrong is checked before anything runs or is written (one line,
exit 2): the scenario files, a state file (unreadable, foreign, another model version, or
arms of another structure), the ensemble against the stored posterior, the language, the
output folder. Runs are stored resumably in ``OUT/runs/`` (manifest ``OUT/manifest.json``); ``OUT/report.html`` and
``OUT/differences.csv`` are written atomically at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import sys
import time
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..argtypes import CliError
from .posterior import POSTERIOR, Posterior, check_ensemble, load_posterior, parameter_sets

QUICK = {"days": 60, "replicates": 2, "ensemble": 1, "scale": 0.01}
DEFAULT = {"years": 1, "replicates": 2, "ensemble": 10}


@dataclass
class Plan:
    arms: list                       # (label, file, config) — the first is the baseline
    days: int
    replicates: int
    ensemble: int
    scale: float
    seed: int
    langs: list[str]
    out: Path
    posterior: Posterior
    sets: list[dict]
    state: str | None = None
    state_meta: dict = field(default_factory=dict)
    state_sha: str = ""
    tasks: list = field(default_factory=list)
    manifest: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------- input
def read_state_meta(path: str) -> tuple[dict, str]:
    """The metadata of a state file already checked by ``model.state.state_scale``, and its sha256."""
    with zipfile.ZipFile(path) as z:
        meta = json.loads(z.read("meta.json").decode("utf-8"))
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return meta, h.hexdigest()


def check_structure(path: str, meta: dict, label: str, cfg) -> None:
    """Refuse an arm whose set-up differs from the state's (model.state.check_structure)."""
    from model.state import check_structure

    check_structure(meta, cfg, f"--from-state {path}", f"arm {label}")


def settings(args) -> dict:
    """Days, replicates, ensemble and scale from the flags, --quick and the defaults."""
    q = args.quick
    days = args.days or (365 * args.years if args.years else (QUICK["days"] if q else 365 * DEFAULT["years"]))
    return {"days": days,
            "replicates": args.replicates or (QUICK["replicates"] if q else DEFAULT["replicates"]),
            "ensemble": args.ensemble or (QUICK["ensemble"] if q else DEFAULT["ensemble"]),
            "scale": args.scale if args.scale is not None else (QUICK["scale"] if q and not args.from_state else None)}


def prepare(args) -> Plan:
    """Every check and the whole plan; raises an InputError (one line) on bad input, writes nothing."""
    from ..argtypes import check_out_folder
    from ..compare import load_arms

    s = settings(args)
    langs = ["zh", "en"] if args.lang == "both" else [args.lang]
    out = Path(args.out) if args.out else Path("results") / f"report-{datetime.now():%Y%m%d-%H%M%S}"
    check_out_folder(out)
    if (out / "report.html").is_dir():
        raise CliError(f"--out {out}: report.html there is a folder")
    post = load_posterior(args.posterior or POSTERIOR)
    check_ensemble(post, s["ensemble"])
    state, meta, sha, scale = args.from_state, {}, "", s["scale"]
    if state:
        from model.state import state_scale

        made_at = state_scale(state)                        # unreadable / foreign / other version: StateError
        if scale is not None and scale != made_at:
            raise CliError(f"--scale {scale}: the state {state} was made at scale {made_at}; "
                           f"a run from it keeps that scale (leave --scale out)")
        scale = made_at
        meta, sha = read_state_meta(state)
    arms = load_arms([args.baseline, *args.arms], scale, s["days"])
    for label, _, cfg in arms if state else []:
        check_structure(state, meta, label, cfg)
    plan = Plan(arms, s["days"], s["replicates"], s["ensemble"], arms[0][2].city.scale, args.seed, langs, out, post,
                parameter_sets(post, s["ensemble"], args.seed), state, meta, sha)
    plan.tasks = make_tasks(plan)
    plan.manifest = manifest(plan)
    return plan


def make_tasks(plan: Plan) -> list:
    """Arm x parameter set x replicate; the seed depends on (set, replicate) only (CRN)."""
    from model import with_overrides

    from ..seeds import run_seed
    from .analysis import _flat
    from .runs import Task

    base = _flat(plan.arms[0][2].model_dump(mode="json"))
    keys = [p.key for p in plan.posterior.drawn]
    tasks = []
    for label, _, cfg in plan.arms:
        own = _flat(cfg.model_dump(mode="json"))
        mine = {k for k in keys if own.get(k) != base.get(k)}        # an arm that sets a parameter keeps it
        for k, values in enumerate(plan.sets):
            c = with_overrides(cfg, {key: v for key, v in values.items() if key not in mine}) if values else cfg
            flat = _flat(c.model_dump(mode="json"))
            params = {key: float(flat[key]) for key in keys}
            for r in range(plan.replicates):
                tasks.append(Task(f"{label}:k{k}:r{r}", label, k, r, run_seed(plan.seed, k, r), c, plan.days,
                                  str(plan.state) if plan.state else None, params))
    return tasks


def manifest(plan: Plan) -> dict:
    """Provenance of the runs; its plan hash says whether a folder holds the same report's runs."""
    from model import config_hash

    from ..storage import environment

    key = {"arms": [[label, config_hash(cfg)] for label, _, cfg in plan.arms], "sets": plan.sets,
           "days": plan.days, "replicates": plan.replicates, "seed": plan.seed, "state": plan.state_sha,
           "outcomes": 1}
    plan_hash = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return {"report": [label for label, _, _ in plan.arms], "plan_hash": plan_hash, "root_seed": plan.seed,
            "days": plan.days, "replicates": plan.replicates, "ensemble": plan.ensemble, "sets": plan.sets,
            "state": plan.state, "state_sha256": plan.state_sha, "n_runs": len(plan.tasks),
            "arms": {label: {"file": f, "config_hash": config_hash(c)} for label, f, c in plan.arms},
            "environment": environment()}


def command(plan: Plan, args) -> str:
    """The exact command that reproduces the report (every setting explicit)."""
    parts = ["jiesu", "report", *[f for _, f, _ in plan.arms]]
    if plan.state:
        parts += ["--from-state", str(plan.state)]
    else:
        parts += ["--scale", str(plan.scale)]
    parts += ["--days", str(plan.days), "--replicates", str(plan.replicates), "--ensemble", str(plan.ensemble),
              "--seed", str(plan.seed), "--lang", args.lang, "--out", str(plan.out)]
    if args.posterior:
        parts += ["--posterior", args.posterior]
    return shlex.join(parts)


# ---------------------------------------------------------------------------------- command
def executor_kwargs(args, n_tasks: int) -> dict:
    if args.serial:
        return {"kind": "serial"}
    return {"kind": "process", "workers": min(args.workers or os.cpu_count() or 1, max(n_tasks, 1)),
            "dask_local": args.dask_local, "scheduler": args.scheduler}


def cmd_report(args) -> int:
    plan = prepare(args)                                       # bad input stops here: nothing run or written
    from .runs import execute

    t0 = time.perf_counter()
    df, where, ran = execute(plan.tasks, plan.out, plan.manifest, executor_kwargs(args, len(plan.tasks)),
                             progress=not args.quiet)
    seconds = time.perf_counter() - t0
    failed = df[df["error"].notna()] if "error" in df else df.iloc[0:0]
    if len(failed):
        print(f"report: {len(failed)} of {len(df)} runs failed, e.g. {failed['run_id'].iloc[0]}: "
              f"{failed['error'].iloc[0].split(' | ')[0]} (runs kept in {plan.out / 'runs'}; no report written)",
              file=sys.stderr)
        return 1
    from .context import write_report

    html, table = write_report(plan, df, args, where, seconds, ran)
    print(f"report: {len(plan.arms) - 1} arm(s) vs {plan.arms[0][0]}, {plan.ensemble} parameter set(s) x "
          f"{plan.replicates} replicate(s), {plan.days} days "
          f"{'from ' + str(plan.state) if plan.state else 'from the start'}, scale {plan.scale}, {where}, "
          f"{ran} run(s) now, {seconds:.1f} s")
    for line in table:
        print(line)
    print(f"written: {html}")
    return 0
