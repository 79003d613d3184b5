"""Sweeps on real executors: identical results everywhere, failures recorded, SIGKILL then resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import Future
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from experiments.cli import main
from experiments.executors import SerialExecutor
from experiments.spec import load_spec
from experiments.storage import RunStore, file_provenance
from experiments.sweep import make_plan, run_sweep
from model import run_one
from model.calendar import months_of

ROOT = Path(__file__).resolve().parents[1]
SCEN = ROOT / "scenarios" / "final_2021.toml"


def spec_file(tmp_path: Path, rows: int = 2, reps: int = 2, arms: int = 2, days: int = 20) -> Path:
    names = [str(SCEN)]
    if arms == 2:
        (tmp_path / "arm_b.toml").write_text(f'extends = "{SCEN}"\nname = "arm_b"\n'
                                             '[rules.assessment]\nresolved_by = "unit_report"\n')
        names.append("arm_b.toml")
    p = tmp_path / "sweep.toml"
    p.write_text(f"""
name = "t_sweep"
scenarios = {names!r}
replicates = {reps}
seed = 5
[set]
"city.scale" = 0.002
"city.days" = {days}
[design]
method = "lhs"
samples = {rows}
[factors]
"world.capacity.ratio" = {{ range = [0.9, 1.4] }}
"rules.audit.sample_share" = {{ range = [0.0, 0.2] }}
[outcomes]
summary = ["contacts", "work_orders", "resolution_rate", "true_resolution_rate", "mean_days_to_close"]
monthly = {{ contacts = "sum", resolution_rate = "mean" }}
""".replace("'", '"'))
    return p


def results_only(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["elapsed_s", "traceback"]).sort_values("run_id").reset_index(drop=True)


def test_dask_local_cluster_process_pool_and_serial_runs_give_identical_results(tmp_path):
    spec, arms = load_spec(spec_file(tmp_path))
    plan = make_plan(spec, arms)
    pool = run_sweep(plan, tmp_path / "pool", workers=2, progress=False)
    dask = run_sweep(plan, tmp_path / "dask", dask_local=2, progress=False)
    assert (pool.ran, pool.failed, dask.ran, dask.failed) == (8, 0, 8, 0)
    a, b = results_only(RunStore(tmp_path / "pool").read()), results_only(RunStore(tmp_path / "dask").read())
    pd.testing.assert_frame_equal(a, b)
    for task in plan.tasks:                                # serial: run_one called directly
        res = run_one(task.config, task.seed)
        row = a[a["run_id"] == task.run_id].iloc[0]
        for key in task.summary_keys:
            want = res.summary[key]
            assert (pd.isna(row[key]) and want is None) or row[key] == want, (task.run_id, key)
        month = months_of(res.daily["day"]).astype(int)
        assert list(row["monthly.contacts"]) == res.daily.groupby(month)["contacts"].sum().astype(float).tolist()
    # arms are paired: same seeds per (row, replicate), and the rule difference shows in the results
    paired = a.pivot_table(index=["row", "replicate"], columns="arm", values="seed")
    assert (paired["arm_b"] == paired["final_2021"]).all()
    measured = a.pivot_table(index=["row", "replicate"], columns="arm", values="resolution_rate")
    assert (measured["arm_b"] != measured["final_2021"]).any()


def raise_on_row_1_replicate_0(config, seed):
    """A model run that fails for one particular world (design row 1, replicate 0)."""
    if config.world.capacity.ratio == RAISE_AT[0] and seed == RAISE_AT[1]:
        raise RuntimeError("synthetic failure in the model")
    return run_one(config, seed)


RAISE_AT: list = [None, None]


def test_a_run_that_raises_is_a_row_with_its_error_and_the_others_complete(tmp_path, capsys):
    spec, arms = load_spec(spec_file(tmp_path, arms=1))
    plan = make_plan(spec, arms)
    target = next(t for t in plan.tasks if t.row == 1 and t.replicate == 0)
    RAISE_AT[:] = [target.config.world.capacity.ratio, target.seed]
    rep = run_sweep(plan, tmp_path / "out", kind="serial", run_fn=raise_on_row_1_replicate_0, progress=False)
    df = RunStore(tmp_path / "out").read()
    assert (rep.ran, rep.failed, len(df)) == (4, 1, 4)
    bad = df[df["error"].notna()]
    assert list(bad["run_id"]) == [target.run_id]
    assert bad["error"].iloc[0] == "RuntimeError: synthetic failure in the model"
    assert "raise_on_row_1_replicate_0" in bad["traceback"].iloc[0]
    assert bad["contacts"].isna().all() and df.loc[df["error"].isna(), "contacts"].gt(0).all()
    # resume does not re-run stored runs, failed ones included; the CLI says the sweep had failures
    again = run_sweep(plan, tmp_path / "out", kind="serial", progress=False)
    assert (again.already, again.ran) == (4, 0)
    assert main(["sweep", str(tmp_path / "sweep.toml"), "--out", str(tmp_path / "out"), "--quiet"]) == 1
    assert target.run_id in capsys.readouterr().err


def test_sweep_killed_with_sigkill_then_rerun_stores_every_run_exactly_once(tmp_path):
    spec_path = spec_file(tmp_path, rows=5, reps=2, arms=2, days=25)       # 20 runs
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "experiments.cli", "sweep", str(spec_path), "--workers", "2", "--out", str(out),
           "--batch-size", "1", "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(RunStore(out).batch_files()) < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)                  # the CLI process and its worker processes
    proc.wait()
    stored_before = len(RunStore(out).done_ids())
    assert 3 <= stored_before < 20, "the kill should land partway through the sweep"
    assert main(["sweep", str(spec_path), "--workers", "2", "--out", str(out), "--quiet"]) == 0
    files = RunStore(out).batch_files()
    ids = [i for f in files for i in pq.read_table(f).column("run_id").to_pylist()]   # every file readable
    assert len(ids) == len(set(ids)) == 20
    assert not list((out / "runs").glob(".tmp-*"))
    prov = file_provenance(files[-1])
    assert prov["root_seed"] == 5 and prov["arms"]["arm_b"]["config"]["rules"]["assessment"]["resolved_by"] == "unit_report"
    assert "numpy" in prov["environment"]["packages"] and "git_commit" in prov["environment"]
    assert RunStore(out).manifest()["n_runs"] == 20
    assert len(pd.read_parquet(out / "runs")) == 20      # readable as one Parquet dataset


def test_a_different_spec_into_the_same_folder_is_refused(tmp_path, capsys):
    spec_path = spec_file(tmp_path, rows=1, reps=1, arms=1)
    out = tmp_path / "out"
    assert main(["sweep", str(spec_path), "--serial", "--out", str(out), "--quiet"]) == 0
    spec_path.write_text(spec_path.read_text().replace("seed = 5", "seed = 6"))
    assert main(["sweep", str(spec_path), "--serial", "--out", str(out), "--quiet"]) == 2
    assert "holds a different sweep" in capsys.readouterr().err
    assert len(RunStore(out).done_ids()) == 1


@pytest.mark.parametrize("flags", [["--workers", "2", "--serial"], ["--dask-local", "0"]])
def test_bad_executor_flags_are_one_line_exit_2(tmp_path, flags, capsys):
    assert main(["sweep", str(spec_file(tmp_path, arms=1)), *flags, "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.count("\n") == 1 and not (tmp_path / "o").exists()


# ---------------------------------------------------------------- losing a Dask worker, Ctrl-C

def _kill_a_busy_dask_worker(out: Path, seen: dict) -> None:
    """From a side thread: once a run is stored, SIGKILL the process of a worker that has runs in flight."""
    from distributed import default_client

    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        try:
            client = default_client()                    # the sweep's own Client (set as default)
            break
        except ValueError:
            time.sleep(0.05)
    else:
        return
    while time.monotonic() < deadline and not RunStore(out).batch_files():
        time.sleep(0.05)
    pids = client.run(os.getpid)                         # worker address -> process id
    while time.monotonic() < deadline:
        busy = [a for a, keys in client.processing().items() if keys and a in pids]
        if busy:
            break
        time.sleep(0.02)
    else:
        return
    addr = busy[0]
    seen["in_flight"] = len(client.processing()[addr])
    seen["stored_before"] = len(RunStore(out).done_ids())
    seen["pid"] = pids[addr]
    os.kill(pids[addr], signal.SIGKILL)
    while time.monotonic() < deadline and addr in client.scheduler_info()["workers"]:
        time.sleep(0.05)
    seen["suspicious"] = client.run_on_scheduler(
        lambda dask_scheduler: sum(p.suspicious for p in dask_scheduler.task_prefixes.values()))


def _sweep_losing_a_worker(tmp_path: Path, allowed_failures: int):
    import threading

    import dask
    import distributed  # noqa: F401 - loaded first: leaving dask.config.set would drop its defaults otherwise

    spec, arms = load_spec(spec_file(tmp_path, rows=4, reps=2, arms=1, days=25))   # 8 runs
    plan = make_plan(spec, arms)
    out, seen = tmp_path / "dask", {}
    killer = threading.Thread(target=_kill_a_busy_dask_worker, args=(out, seen), daemon=True)
    killer.start()
    with dask.config.set({"distributed.scheduler.allowed-failures": allowed_failures}):
        rep = run_sweep(plan, out, dask_local=2, progress=False, batch_size=1)
    killer.join(10)
    assert "suspicious" in seen, "the worker should have been killed mid-sweep"
    with pytest.raises(ProcessLookupError):
        os.kill(seen["pid"], 0)                          # that worker process is gone
    assert 1 <= seen["stored_before"] < len(plan.tasks) and seen["in_flight"] >= 1
    ids = [i for f in RunStore(out).batch_files() for i in pq.read_table(f).column("run_id").to_pylist()]
    assert sorted(ids) == sorted(t.run_id for t in plan.tasks)           # every run id exactly once
    df = RunStore(out).read()
    assert df["error"].isna().all() and rep.failed == 0
    for task in plan.tasks:                              # and the same numbers as a run nobody disturbed
        want = run_one(task.config, task.seed).summary
        assert df.loc[df["run_id"] == task.run_id, "contacts"].item() == want["contacts"]
    return rep, seen


def test_a_dask_worker_killed_mid_sweep_is_rescheduled_by_dask_and_every_run_is_stored_once(tmp_path):
    rep, seen = _sweep_losing_a_worker(tmp_path, allowed_failures=3)     # Dask's default
    assert seen["suspicious"] >= 1                       # Dask saw the runs of the dead worker ...
    assert rep.resubmitted == 0                          # ... and rescheduled them itself
    print(f"dask rescheduled {seen['suspicious']} task(s); the sweep resubmitted {rep.resubmitted}")


def test_when_dask_gives_up_on_a_lost_worker_the_sweep_resubmits_the_run(tmp_path):
    rep, seen = _sweep_losing_a_worker(tmp_path, allowed_failures=0)     # KilledWorker at the first death
    assert rep.resubmitted == seen["suspicious"] >= 1    # each KilledWorker future was submitted again
    print(f"dask gave up on {seen['suspicious']} task(s); the sweep resubmitted {rep.resubmitted}")


class _WorkerAlwaysDies(SerialExecutor):
    """Runs in this process, but every submission of one run id fails as if its worker died."""

    def __init__(self, run_id: str):
        from distributed.scheduler import KilledWorker

        self.run_id, self.error, self.submissions = run_id, KilledWorker, 0

    def submit(self, fn, /, task, *args):
        if task.run_id != self.run_id:
            return super().submit(fn, task, *args)
        self.submissions += 1
        fut: Future = Future()
        from types import SimpleNamespace

        fut.set_exception(self.error("execute-123", SimpleNamespace(address="tcp://127.0.0.1:1"), 3))
        return fut


def test_a_run_whose_worker_always_dies_is_resubmitted_a_bounded_number_of_times_then_recorded(tmp_path):
    pytest.importorskip("distributed")
    from experiments.sweep import LOST_WORKER_RESUBMITS

    spec, arms = load_spec(spec_file(tmp_path, rows=2, reps=1, arms=1, days=10))
    plan = make_plan(spec, arms)
    ex = _WorkerAlwaysDies(plan.tasks[1].run_id)
    rep = run_sweep(plan, tmp_path / "out", executor=ex, progress=False)
    assert ex.submissions == 1 + LOST_WORKER_RESUBMITS == 1 + rep.resubmitted
    df = RunStore(tmp_path / "out").read()
    assert sorted(df["run_id"]) == sorted(t.run_id for t in plan.tasks) and (rep.ran, rep.failed) == (2, 1)
    err = df.set_index("run_id").loc[plan.tasks[1].run_id, "error"]
    assert err.startswith("KilledWorker") and f"resubmitted {LOST_WORKER_RESUBMITS} times" in err


def test_ctrl_c_leaves_only_whole_readable_files_and_rerunning_resumes_to_every_run_once(tmp_path):
    spec_path = spec_file(tmp_path, rows=4, reps=2, arms=2, days=25)       # 16 runs
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "experiments.cli", "sweep", str(spec_path), "--workers", "2", "--out", str(out),
           "--batch-size", "2", "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(RunStore(out).batch_files()) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)                  # Ctrl-C: the whole foreground process group
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "interrupted" in err and "resumes" in err, err
    assert "Traceback" not in err, err           # one line for the user, not a stack
    files = RunStore(out).batch_files()
    ids = [i for f in files for i in pq.read_table(f).column("run_id").to_pylist()]   # every file whole
    assert 4 <= len(ids) < 16 and len(ids) == len(set(ids)), "the interrupt should land partway through"
    assert not list((out / "runs").glob(".tmp-*"))      # an interrupted write removes its temporary file
    # a temporary file left by a hard crash mid-write is invisible to readers and removed on resume
    (out / "runs" / ".tmp-0123-batch-000099.parquet").write_bytes(b"PAR1 half a file")
    assert len(pd.read_parquet(out / "runs")) == len(ids)
    assert main(["sweep", str(spec_path), "--workers", "2", "--out", str(out), "--quiet"]) == 0
    ids = [i for f in RunStore(out).batch_files() for i in pq.read_table(f).column("run_id").to_pylist()]
    assert len(ids) == len(set(ids)) == 16
    assert not list((out / "runs").glob(".tmp-*"))
    assert RunStore(out).read()["error"].isna().all()


@pytest.mark.parametrize("when", ["before the rename", "after the rename"])
def test_an_interrupt_during_a_batch_write_neither_loses_nor_repeats_runs(tmp_path, monkeypatch, when):
    """Ctrl-C while a batch is written: in the rename window or just after it, before the buffer is cleared."""
    spec, arms = load_spec(spec_file(tmp_path, rows=3, reps=1, arms=1, days=10))
    plan = make_plan(spec, arms)
    real, calls = RunStore.write_batch, []

    def interrupted_once(self, rows, schema, provenance):
        calls.append([r["run_id"] for r in rows])
        if len(calls) == 1:
            if when == "after the rename":
                real(self, rows, schema, provenance)
            raise KeyboardInterrupt
        return real(self, rows, schema, provenance)

    monkeypatch.setattr(RunStore, "write_batch", interrupted_once)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(plan, tmp_path / "out", kind="serial", progress=False, batch_size=2)
    stored = [i for f in RunStore(tmp_path / "out").batch_files() for i in pq.read_table(f).column("run_id").to_pylist()]
    assert sorted(stored) == sorted(calls[0])           # the finished runs are on disk, once each
    monkeypatch.setattr(RunStore, "write_batch", real)
    rep = run_sweep(plan, tmp_path / "out", kind="serial", progress=False)
    assert (rep.already, rep.already + rep.ran) == (len(calls[0]), 3)
    ids = [i for f in RunStore(tmp_path / "out").batch_files() for i in pq.read_table(f).column("run_id").to_pylist()]
    assert sorted(ids) == sorted(t.run_id for t in plan.tasks)


# ---------------------------------------------------------------- outcomes from the registry

def _no_model_runs(monkeypatch):
    import model as model_pkg

    def boom(*_a, **_k):
        raise AssertionError("a model was built while planning (a probe run)")

    monkeypatch.setattr(model_pkg.Model, "__init__", boom)


def test_stored_outcome_types_come_from_the_registry_and_planning_runs_no_model(tmp_path, monkeypatch):
    import pyarrow as pa

    from model.outcomes import SUMMARY, numeric_summary

    spec, arms = load_spec(spec_file(tmp_path, rows=1, reps=1, arms=1, days=10))
    with monkeypatch.context() as mp:
        _no_model_runs(mp)
        plan = make_plan(spec, arms)
        spec_all = spec.model_copy(update={"outcomes": spec.outcomes.model_copy(update={"summary": "all"})})
        plan_all = make_plan(spec_all, arms)
    want = {"int": pa.int64(), "float": pa.float64(), "str": pa.string()}
    for key in plan.tasks[0].summary_keys:
        assert plan.schema.field(key).type == want[SUMMARY[key].dtype], key
    assert plan.schema.field("contacts").type == pa.int64()            # a count: int in the registry
    assert plan.schema.field("resolution_rate").type == pa.float64()
    assert list(plan_all.tasks[0].summary_keys) == numeric_summary()   # "all" = every numeric figure
    assert plan_all.manifest["plan_hash"] != plan.manifest["plan_hash"]
    run_sweep(plan, tmp_path / "out", kind="serial", progress=False)
    stored = pq.read_schema(RunStore(tmp_path / "out").batch_files()[0])
    assert stored.field("contacts").type == pa.int64() and stored.field("mean_days_to_close").type == pa.float64()
    assert stored.field("monthly.contacts").type == pa.list_(pa.float64())


def test_a_figure_that_does_not_fit_its_registered_dtype_is_a_failed_run_not_a_lost_batch():
    from experiments.sweep import stored_value

    assert stored_value("contacts", 12.0) == 12 and type(stored_value("contacts", 12.0)) is int
    assert stored_value("resolution_rate", float("nan")) is None and stored_value("resolution_rate", None) is None
    with pytest.raises(TypeError, match="'contacts' is registered as int"):
        stored_value("contacts", 2.5)


def test_a_registered_figure_the_run_did_not_report_fails_that_run_by_name(tmp_path):
    from types import SimpleNamespace

    from experiments.sweep import execute

    spec, arms = load_spec(spec_file(tmp_path, rows=1, reps=1, arms=1, days=10))
    task = make_plan(spec, arms).tasks[0]
    full = {k: 1 for k in task.summary_keys}
    for summary, error in [({**full, "contacts": 2.5}, "TypeError: summary figure 'contacts' is registered as int"),
                           ({k: v for k, v in full.items() if k != "work_orders"},
                            "KeyError: \"summary figure 'work_orders' is in the outcome registry")]:
        row = execute(task, lambda cfg, seed, s=summary: SimpleNamespace(summary=s, daily=None))
        assert row["error"].startswith(error) and "contacts" not in row


@pytest.mark.parametrize("table, bad, allowed", [
    ("summary", '"contacts", "contactz"', "true_resolution_rate"),
    ("monthly", None, "resolution_rate"),
])
def test_unknown_outcomes_are_one_line_naming_the_spec_the_key_and_the_allowed_names(tmp_path, capsys,
                                                                                    table, bad, allowed):
    path = spec_file(tmp_path, arms=1)
    text = path.read_text()
    if table == "summary":
        text = text.replace('"contacts", "work_orders"', bad)
    else:
        text = text.replace('contacts = "sum"', 'contacts_x = "sum"')
    path.write_text(text)
    assert main(["sweep", str(path), "--serial", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and f"outcomes.{table}:" in err
    assert ("'contactz'" if table == "summary" else "'contacts_x'") in err
    assert "allowed: " in err and allowed in err and not (tmp_path / "o").exists()


def test_monthly_outcomes_named_without_an_aggregation_take_the_registry_one(tmp_path):
    from experiments.spec import Outcomes
    from experiments.sweep import _outcomes
    from model.outcomes import DAILY

    spec, _ = load_spec(spec_file(tmp_path, arms=1))
    listed = spec.model_copy(update={"outcomes": Outcomes.model_construct(
        summary=["contacts"], monthly=["contacts", "resolution_rate", "open_orders"])})
    _, monthly = _outcomes(listed, "spec.toml")
    assert monthly == (("contacts", "sum"), ("resolution_rate", "mean"), ("open_orders", "last"))
    assert all(agg == DAILY[col].agg for col, agg in monthly)
