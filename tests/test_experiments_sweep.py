"""Sweeps on real executors: identical results everywhere, failures recorded, SIGKILL then resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from experiments.cli import main
from experiments.spec import load_spec
from experiments.storage import RunStore, file_provenance
from experiments.sweep import make_plan, run_sweep
from model import run_one

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
        month = (res.daily["day"] // (365 / 12)).astype(int)
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
