"""The runs of a report: every arm x parameter set x replicate, on common random numbers.

Run ``(arm, k, r)`` uses the seed ``experiments.seeds.run_seed(root, k, r)`` in every arm, so
an arm and the baseline meet the same replicate worlds under the same parameter set and their
paired difference removes the noise they share. A run starts from a state file
(``load_state(FILE, arm config, seed)``, the arm's rules in force from the state's day) or
from the start, and runs ``days`` days.

A run from a state carries the history in its tables (the daily rows start at day 0 of the
history, and the order store holds the history's orders). Its outcomes are therefore computed
over the *window* after the state's day only (:func:`window_outcomes`): rates over the orders
closed in the window, counts over the orders dispatched in the window, staff time over the
monthly unit rows of the months after the state's month, exhaustion over the window's days.
From the start the window is the whole run and the figures equal the run's summary.

Runs go through ``experiments.executors.open_executor`` (process pool, Dask, serial) and are
stored as Parquet batches by ``experiments.storage.RunStore`` in ``OUT/runs/``: a report
interrupted and started again with the same command and ``--out`` resumes.
"""

from __future__ import annotations

import math
import time
import traceback
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from model.calendar import DAYS_PER_MONTH, month_of, months_of
from model.outcomes import KEY_OUTCOMES

# what the report compares: the registry's key outcomes and a few more a drafter reads
OUTCOMES = [*KEY_OUTCOMES, "response_rate", "true_resolution_hard", "effort_share_satisfy", "mean_trust_end"]
SERIES = ("resolution_rate", "satisfaction_rate", "true_resolution_rate")     # monthly means, figure 1
TIME = ("resolve", "satisfy", "game", "proactive", "contact", "coop")         # staff hours (units_monthly)
DISTRICT = ("resolution_rate", "true_resolution_rate", "satisfaction_rate")  # per district, the tile grid


@dataclass(frozen=True)
class Task:
    """One run: everything a worker needs."""

    run_id: str
    arm: str
    set: int
    replicate: int
    seed: int
    config: object
    days: int
    state: str | None
    params: dict


# ---------------------------------------------------------------------------------- one run
def run_task(task: Task) -> dict:
    """Run one task (top-level: picklable for any executor); an exception becomes the row's error."""
    from model.model import Model

    t0 = time.perf_counter()
    row = {"run_id": task.run_id, "arm": task.arm, "row": task.set, "replicate": task.replicate,
           "seed": task.seed, **{f"param.{k}": v for k, v in task.params.items()}}
    try:
        if task.state:
            from model.state import load_state

            m = load_state(task.state, task.config, seed=task.seed)
        else:
            m = Model(task.config, seed=task.seed)
        day0 = m.day
        m.run(task.days)
        row.update(window_outcomes(m, day0))
        row.update(window_details(m, day0))
        row["day0"], row["error"] = day0, None
    except Exception as err:  # noqa: BLE001 - recorded; the report refuses to render with failed runs
        row["error"] = f"{type(err).__name__}: {err} | {traceback.format_exc(limit=-3)}"
    row["elapsed_s"] = time.perf_counter() - t0
    return row


def _first_month(day0: int) -> int:
    """The first month wholly inside the window that starts on ``day0``."""
    return month_of(day0) if day0 == 0 or month_of(day0 - 1) < month_of(day0) else month_of(day0) + 1


def window_outcomes(m, day0: int) -> dict[str, float]:
    """The report's outcomes over the days from ``day0`` to the end of the run (module docstring);
    with ``day0 = 0`` they equal the run's summary (model.results.summarise)."""
    from model.measures import city_rates
    from model.orders import CLOSED, COOP_ENGAGED

    wo = m.orders
    n = wo.n
    closed = np.flatnonzero((wo.state[:n] == CLOSED) & (wo.ti_closed[:n] >= day0))
    created = wo.ti_created[:n] >= day0
    rates = city_rates(wo, closed, m.cfg.rules.deadlines.response_days)
    days = [r for r in m.daily if r["day"] >= day0]
    months = max((m.day - day0) / DAYS_PER_MONTH, 1e-9)
    hours = window_hours(m, day0)
    total_h = sum(hours.values()) or 1.0
    hard = wo.hard[closed]
    before = [r["source_stock"] for r in m.daily if r["day"] == day0 - 1]
    stock0 = before[0] if before else float(m.sources.initial.sum())
    out = {
        "response_rate": rates["response_rate"], "resolution_rate": rates["resolution_rate"],
        "satisfaction_rate": rates["satisfaction_rate"], "true_resolution_rate": rates["true_resolution_rate"],
        "measured_true_gap": rates["resolution_rate"] - rates["true_resolution_rate"],
        "true_resolution_hard": float(wo.true_resolved[closed][hard].sum() / max(int(hard.sum()), 1)),
        "requests_per_10k": float(created.sum() / (m.citizens.n / 1e4) / months),
        "source_stock_end": float(m.sources.total()),
        "source_stock_change": float(m.sources.total() / max(stock0, 1e-9) - 1),
        "effort_share_game": hours["game"] / total_h, "effort_share_proactive": hours["proactive"] / total_h,
        "effort_share_satisfy": hours["satisfy"] / total_h,
        "mean_exhaustion": float(np.mean([r["mean_exhaustion"] for r in days])) if days else math.nan,
        "objections": float(wo.n_objections[:n][created].sum()),
        "whistles_answered": float((wo.whistled[:n] & (wo.coop_state[:n] == COOP_ENGAGED))[created].sum()),
        "overdue_share": float(wo.overdue[closed].sum() / max(closed.size, 1)),
        "mean_trust_end": float(days[-1]["mean_trust"]) if days else math.nan,
        **{f"time.{k}": v / total_h for k, v in hours.items()},
    }
    return out


def window_hours(m, day0: int) -> dict[str, float]:
    """Staff hours by activity over the monthly unit rows of the window's months."""
    first = _first_month(day0)
    rows = [r for r in m.unit_months if int(r["month"][0]) >= first]
    return {k: float(sum(r[f"hours_{k}"].sum() for r in rows)) for k in TIME}


def window_details(m, day0: int) -> dict:
    """What the figures need: monthly series, per-district rates, the last month's township scores."""
    import pandas as pd

    from model.measures import city_rates
    from model.orders import CLOSED

    daily = pd.DataFrame([r for r in m.daily if r["day"] >= day0])
    month = months_of(daily["day"]).astype(int) if len(daily) else []
    out = {f"monthly.{c}": daily.groupby(month)[c].mean().astype(float).tolist() if len(daily) else []
           for c in SERIES}
    out["monthly.month"] = sorted(set(int(x) for x in month))
    wo, n = m.orders, m.orders.n
    closed = np.flatnonzero((wo.state[:n] == CLOSED) & (wo.ti_closed[:n] >= day0))
    dist = m.city.township_district[wo.township[closed]]
    per = {c: [] for c in DISTRICT}
    for d in range(m.city.n_districts):
        r = city_rates(wo, closed[dist == d], m.cfg.rules.deadlines.response_days)
        for c in DISTRICT:
            per[c].append(float(r[c]))
    out.update({f"district.{c}": v for c, v in per.items()})
    T = m.city.n_townships
    last = m.unit_months[-1] if m.unit_months and int(m.unit_months[-1]["month"][0]) >= _first_month(day0) else None
    if last is None:
        out["township.score"], out["township.remedial"] = [], []
    else:
        ok = np.asarray(last["assessable"][:T], dtype=bool)
        out["township.score"] = np.asarray(last["score"][:T], dtype=float)[ok].tolist()
        out["township.remedial"] = np.asarray(last["remedial"][:T], dtype=bool)[ok].tolist()
    return out


# ---------------------------------------------------------------------------------- storage
def schema(params=()) -> pa.Schema:
    """The stored row of one run (ids, parameter values, outcomes, series, error); ``row`` is the
    parameter set."""
    f = [pa.field("run_id", pa.string()), pa.field("arm", pa.string()), pa.field("row", pa.int64()),
         pa.field("replicate", pa.int64()), pa.field("seed", pa.int64()), pa.field("day0", pa.int64())]
    f += [pa.field(f"param.{k}", pa.float64()) for k in params]
    f += [pa.field(k, pa.float64()) for k in OUTCOMES]
    f += [pa.field(f"time.{k}", pa.float64()) for k in TIME]
    f += [pa.field(f"monthly.{c}", pa.list_(pa.float64())) for c in SERIES]
    f += [pa.field("monthly.month", pa.list_(pa.int64()))]
    f += [pa.field(f"district.{c}", pa.list_(pa.float64())) for c in DISTRICT]
    f += [pa.field("township.score", pa.list_(pa.float64())), pa.field("township.remedial", pa.list_(pa.bool_()))]
    f += [pa.field("error", pa.string()), pa.field("elapsed_s", pa.float64())]
    return pa.schema(f)


def _clean(row: dict, sch: pa.Schema) -> dict:
    """NaN floats as None (Parquet nulls), and every schema column present."""
    out = {}
    for name in sch.names:
        v = row.get(name)
        out[name] = None if isinstance(v, float) and not math.isfinite(v) else v
    return out


def _lost_row(task: Task, err: BaseException, resubmits: int) -> dict:
    """The row of a run whose worker died every time it was submitted (experiments.sweep.store_runs)."""
    return {"run_id": task.run_id, "arm": task.arm, "row": task.set, "replicate": task.replicate, "seed": task.seed,
            "error": f"{type(err).__name__}: {err} (resubmitted {resubmits} times; its worker died every time)"}


def execute(tasks: list[Task], out, manifest: dict, executor: dict, progress: bool = True,
            batch_size: int = 8) -> tuple[object, str, int]:
    """Run the tasks not yet stored under ``out`` (a RunStore); (all stored rows, executor, runs done now)."""
    from tqdm import tqdm

    from ..executors import open_executor
    from ..storage import RunStore
    from ..sweep import store_runs

    sch = schema(list(tasks[0].params) if tasks else [])
    store = RunStore(out)
    store.open(manifest)
    done = store.done_ids()
    todo = [t for t in tasks if t.run_id not in done]
    meta = {k: v for k, v in manifest.items() if k not in ("arms",)}
    with open_executor(**executor) as (ex, slots, desc), \
            tqdm(total=len(tasks), initial=len(done & {t.run_id for t in tasks}), unit="run", desc="report",
                 disable=not progress, dynamic_ncols=True) as bar:
        ran, _, _ = store_runs(ex, slots, todo, lambda task: ex.submit(run_task, task), store, sch, meta,
                               batch_size, bar, _lost_row, prepare=lambda row: _clean(row, sch))
    return store.read(), desc, ran
