"""Sweeps: plan every run of a spec, execute them on any executor, store them resumably.

A *plan* crosses rule arms x design rows x replicates. Each run has a readable id
(``final_2021:r12:s3``), a fully resolved config (arm + that row's factor values, validated
like any scenario) and a seed from :func:`experiments.seeds.run_seed`, which depends on
(row, replicate) but not on the arm: arms are paired on common random numbers.

Execution submits :func:`execute` (a picklable top-level function) through the
``concurrent.futures`` interface, keeps a bounded number of runs in flight, and writes a
Parquet batch every ``batch_size`` runs (or every minute). A run that raises becomes a row
with its error and traceback; the sweep goes on. Running the same spec into the same
folder again skips the run ids already stored (resume), so each run id is stored once.

Outcomes come from the registry (model/outcomes.py), never from a probe run: the spec's
summary figures and daily columns are checked against ``SUMMARY`` and ``DAILY``, and each
stored column's Arrow type is the registry's dtype. A lost worker is not a failed run: a
future that errs because its worker died (Dask's ``KilledWorker``, raised once a task has
outlived ``distributed.scheduler.allowed-failures`` worker deaths) is submitted again, at
most ``LOST_WORKER_RESUBMITS`` times, and only then stored as a failed row.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd
import pyarrow as pa

from model import Config, ScenarioError, config_hash, run_one, with_overrides
from model.calendar import months_of
from model.outcomes import DAILY, SUMMARY, daily_series, numeric_summary

from .design import build_design
from .executors import open_executor
from .seeds import run_seed
from .spec import SweepSpec, field_kind, schema_field
from .storage import RunStore, environment

FLUSH_SECONDS = 60.0
ID_COLUMNS = {"run_id": pa.string(), "arm": pa.string(), "row": pa.int64(), "replicate": pa.int64(),
              "seed": pa.int64(), "config_hash": pa.string()}
ARROW_KIND = {"float": pa.float64(), "int": pa.int64(), "bool": pa.bool_(), "choice": pa.string()}
ARROW_DTYPE = {"float": pa.float64(), "int": pa.int64(), "str": pa.string()}   # registry dtype -> column type
LOST_WORKER_RESUBMITS = 3     # times a run whose worker died is submitted again before it is stored as failed


@dataclass(frozen=True)
class Task:
    """One run: everything a worker needs, nothing it must look up."""

    run_id: str
    arm: str
    row: int
    replicate: int
    seed: int
    config: Config
    config_hash: str
    factors: dict
    summary_keys: tuple[str, ...]
    monthly: tuple[tuple[str, str], ...] = ()


@dataclass
class Plan:
    spec: SweepSpec
    arms: dict[str, Config]
    design: pd.DataFrame
    tasks: list[Task]
    schema: pa.Schema
    manifest: dict = field(default_factory=dict)


def monthly_series(daily: pd.DataFrame, column: str, agg: str) -> list[float]:
    """A daily column aggregated by run month (model.calendar.month_of)."""
    month = months_of(daily["day"]).astype(int)
    return daily.groupby(month)[column].agg(agg).astype(float).tolist()


def stored_value(key: str, value):
    """A summary figure as its registry dtype (None stays None); a value that does not fit raises."""
    if value is None:
        return None
    dtype = SUMMARY[key].dtype
    if dtype == "str":
        return str(value)
    if dtype == "int":
        if isinstance(value, bool) or not float(value).is_integer():
            raise TypeError(f"summary figure {key!r} is registered as int (model/outcomes.py) but the run "
                            f"reported {value!r}")
        return int(value)
    value = float(value)
    return None if math.isnan(value) else value


def execute(task: Task, run_fn: Callable = run_one) -> dict:
    """Run one task and return its stored row; an exception becomes the row's error."""
    t0 = time.perf_counter()
    row = {"run_id": task.run_id, "arm": task.arm, "row": task.row, "replicate": task.replicate,
           "seed": task.seed, "config_hash": task.config_hash, **task.factors}
    try:
        res = run_fn(task.config, task.seed)
        missing = [k for k in task.summary_keys if k not in res.summary]
        if missing:
            raise KeyError(f"summary figure {missing[0]!r} is in the outcome registry (model/outcomes.py) "
                           f"but the run did not report it")
        values = {key: stored_value(key, res.summary[key]) for key in task.summary_keys}
        monthly = {f"monthly.{col}": monthly_series(res.daily, col, agg) for col, agg in task.monthly}
        row.update(values)
        row.update(monthly)
        row["error"] = row["traceback"] = None
    except Exception as err:  # noqa: BLE001 - recorded, the sweep goes on
        row["error"] = f"{type(err).__name__}: {err}"
        row["traceback"] = traceback.format_exc(limit=-8)
    row["elapsed_s"] = time.perf_counter() - t0
    return row


# Summary figures a spec may keep: every registered figure but "seed" (already the run's seed column).
KEEPABLE = [k for k in SUMMARY if k != "seed"]


def _outcomes(spec: SweepSpec, source: str) -> tuple[dict[str, pa.DataType], tuple]:
    """Kept summary figures with their Arrow types, and (daily column, aggregation) pairs."""
    if spec.outcomes.summary == "all":
        keys = numeric_summary()
    else:
        keys = list(spec.outcomes.summary)
        unknown = [k for k in keys if k not in KEEPABLE]
        if unknown:
            raise ScenarioError(f"{source}: outcomes.summary: unknown figure {unknown[0]!r} "
                                f"(allowed: {', '.join(KEEPABLE)})")
    types = {k: ARROW_DTYPE[SUMMARY[k].dtype] for k in keys}
    series = daily_series()
    monthly = spec.outcomes.monthly
    if not isinstance(monthly, dict):                    # a list of names: each at its registry aggregation
        monthly = dict.fromkeys(monthly)
    for col in monthly:
        if col not in series:
            raise ScenarioError(f"{source}: outcomes.monthly: unknown daily column {col!r} "
                                f"(allowed: {', '.join(series)})")
    return types, tuple((col, agg or DAILY[col].agg) for col, agg in monthly.items())


def _resolve_rows(arm: Config, design: pd.DataFrame, source: str) -> list[Config]:
    out = []
    for i, values in enumerate(design.to_dict("records")):
        values = {k: (v.item() if hasattr(v, "item") else v) for k, v in values.items()}
        try:
            out.append(with_overrides(arm, values) if values else arm)
        except ScenarioError as err:
            raise ScenarioError(f"{source}: design row {i} of arm {arm.name}: {err}") from None
    return out


def make_plan(spec: SweepSpec, arms: dict[str, Config], source: str = "<spec>", spec_text: str = "") -> Plan:
    """Every run of the spec, its storage schema and provenance; raises ScenarioError on bad input."""
    design = build_design(spec)
    outcome_types, monthly = _outcomes(spec, source)
    records = [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
               for r in design.to_dict("records")]
    seeds = [[run_seed(spec.seed, r, s) for s in range(spec.replicates)] for r in range(len(design))]
    tasks = []
    for arm_name, arm in arms.items():
        for r, cfg in enumerate(_resolve_rows(arm, design, source)):
            chash = config_hash(cfg)
            for s in range(spec.replicates):
                tasks.append(Task(f"{arm_name}:r{r}:s{s}", arm_name, r, s, seeds[r][s], cfg, chash,
                                  records[r], tuple(outcome_types), monthly))
    fields = [pa.field(k, t) for k, t in ID_COLUMNS.items()]
    fields += [pa.field(k, ARROW_KIND[field_kind(schema_field(k))]) for k in spec.factors]
    fields += [pa.field(k, t) for k, t in outcome_types.items()]
    fields += [pa.field(f"monthly.{c}", pa.list_(pa.float64())) for c, _ in monthly]
    fields += [pa.field("error", pa.string()), pa.field("traceback", pa.string()),
               pa.field("elapsed_s", pa.float64())]
    plan_key = {"arms": {n: config_hash(c) for n, c in arms.items()}, "design": records,
                "method": spec.design.model_dump(), "seed": spec.seed, "replicates": spec.replicates,
                "outcomes": [[[k, str(t)] for k, t in outcome_types.items()], [list(m) for m in monthly]]}
    plan_hash = hashlib.sha256(json.dumps(plan_key, sort_keys=True, default=str).encode()).hexdigest()[:16]
    manifest = {"sweep": spec.name, "description": spec.description, "spec_file": source,
                "spec_text": spec_text, "plan_hash": plan_hash, "root_seed": spec.seed,
                "replicates": spec.replicates, "design_method": spec.design.model_dump(),
                "factors": {k: f.model_dump(exclude_none=True) for k, f in spec.factors.items()},
                "design": records, "outcomes": plan_key["outcomes"], "n_runs": len(tasks),
                "arms": {n: {"config_hash": config_hash(c), "config": c.model_dump(mode="json")}
                         for n, c in arms.items()},
                "environment": environment()}
    return Plan(spec, arms, design, tasks, pa.schema(fields), manifest)


@dataclass
class SweepReport:
    out: Path
    total: int
    already: int
    ran: int
    failed: int
    seconds: float
    executor: str
    resubmitted: int = 0        # submissions repeated because the worker running them died


def lost_worker_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "the worker died", not "the run failed" (Dask's KilledWorker).

    Looked up only if Dask is already imported (it is whenever a Dask executor is in use), so
    the process pool and serial paths never import it. A local process pool cannot lose a
    worker this way: it breaks as a whole (BrokenProcessPool), the sweep stops, and re-running
    the command resumes it.
    """
    mod = sys.modules.get("distributed.scheduler")
    return (mod.KilledWorker,) if mod is not None and hasattr(mod, "KilledWorker") else ()


def _lost_row(task: Task, err: BaseException, resubmits: int) -> dict:
    row = {"run_id": task.run_id, "arm": task.arm, "row": task.row, "replicate": task.replicate,
           "seed": task.seed, "config_hash": task.config_hash, **task.factors,
           "error": f"{type(err).__name__}: {err} (resubmitted {resubmits} times; its worker died every time)",
           "traceback": None, "elapsed_s": None}
    return row


def run_sweep(plan: Plan, out: str | Path, kind: str = "process", workers: int | None = None,
              scheduler: str | None = None, dask_local: int | None = None, executor=None,
              run_fn: Callable = run_one, progress: bool = True, batch_size: int | None = None,
              lost_worker_resubmits: int = LOST_WORKER_RESUBMITS) -> SweepReport:
    """Execute the runs of ``plan`` not yet stored under ``out``; returns counts and wall time.

    ``executor`` may be any ``concurrent.futures.Executor`` (then kind/workers/... are unused).
    A run whose worker died (see :func:`lost_worker_errors`) is submitted again up to
    ``lost_worker_resubmits`` times, then stored as failed. Rows are buffered in memory and
    written ``batch_size`` at a time, each batch file atomically; an interrupt (Ctrl-C) still
    writes the finished runs it holds (those not already on disk) and re-raises, so a re-run
    resumes from whole files and stores each run id once.
    """
    from contextlib import nullcontext

    from tqdm import tqdm

    store = RunStore(out)
    store.open(plan.manifest)
    done = store.done_ids()
    todo = [t for t in plan.tasks if t.run_id not in done]
    batch_size = batch_size or plan.spec.executor.batch_size
    file_meta = {k: v for k, v in plan.manifest.items() if k != "design"}
    file_meta["note"] = "design rows are the factor columns of this file; the full design is in manifest.json"
    t0 = time.perf_counter()
    ctx = nullcontext((executor, 4, type(executor).__name__)) if executor is not None else \
        open_executor(kind, workers, scheduler, dask_local)
    with ctx as (ex, slots, desc), tqdm(total=len(plan.tasks), initial=len(plan.tasks) - len(todo),
                                        unit="run", desc=plan.spec.name, disable=not progress,
                                        dynamic_ncols=True) as bar:
        ran, failed, resubmitted = store_runs(
            ex, slots, todo, lambda task: ex.submit(execute, task, run_fn), store, plan.schema, file_meta,
            batch_size, bar, _lost_row, seen=set(done), lost_worker_resubmits=lost_worker_resubmits)
    return SweepReport(Path(out), len(plan.tasks), len(plan.tasks) - len(todo), ran, failed,
                       time.perf_counter() - t0, desc, resubmitted)


def store_runs(ex, slots: int, tasks, submit: Callable, store: RunStore, schema, file_meta: dict, batch_size: int,
               bar, lost_row: Callable, seen: set | None = None,
               lost_worker_resubmits: int = LOST_WORKER_RESUBMITS, prepare: Callable = lambda row: row) -> tuple:
    """Keep ``2 x slots + 2`` runs in flight on ``ex`` (``submit(task)`` gives a future whose result
    is the run's row) and store the rows in ``store``, ``batch_size`` at a time, each batch file
    atomically. A run whose worker died (:func:`lost_worker_errors`) is submitted again up to
    ``lost_worker_resubmits`` times, then stored as ``lost_row(task, err, n)``. An interrupt
    (Ctrl-C) still writes the finished rows not already on disk and re-raises, so a re-run resumes
    from whole files and stores each run id once. Returns (runs stored, failed, resubmitted)."""
    lost = lost_worker_errors()
    queue, last_flush = iter(tasks), time.monotonic()
    pending: dict = {}                      # future -> its task
    buffer: list[dict] = []
    seen = set() if seen is None else seen  # run ids stored or buffered: none is stored twice
    resubmits: dict[str, int] = {}
    ran = failed = resubmitted = 0

    def flush(final: bool = False):
        nonlocal buffer, last_flush
        rows = buffer
        if final and rows:
            # An interrupt can land after a batch file was renamed into place but before the
            # buffer was emptied; the files on disk say which rows are already stored.
            on_disk = store.done_ids()
            rows = [r for r in rows if r["run_id"] not in on_disk]
        if rows:
            store.write_batch([prepare(r) for r in rows], schema, {**file_meta, "environment": environment()})
        buffer, last_flush = [], time.monotonic()

    try:
        while True:
            while len(pending) < 2 * slots + 2 and (task := next(queue, None)) is not None:
                pending[submit(task)] = task
            if not pending:
                break
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                task = pending.pop(fut)
                try:
                    row = fut.result()
                except lost as err:
                    n = resubmits.get(task.run_id, 0)
                    if n < lost_worker_resubmits:
                        resubmits[task.run_id] = n + 1
                        resubmitted += 1
                        pending[submit(task)] = task
                        continue
                    row = lost_row(task, err, n)
                if row["run_id"] in seen:   # an executor delivered a run twice: keep the first
                    continue
                seen.add(row["run_id"])
                buffer.append(row)
                ran += 1
                failed += row.get("error") is not None
                bar.update()
            if len(buffer) >= batch_size or time.monotonic() - last_flush > FLUSH_SECONDS:
                flush()
    finally:
        for fut in pending:
            fut.cancel()
        flush(final=True)       # also after Ctrl-C: finished runs are kept, each file whole
    return ran, failed, resubmitted
