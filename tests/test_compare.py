"""``jiesu compare``: common random numbers, the CSV, the arithmetic, executors and bad input.

Small worlds (scale 0.002, 20 days, 2-3 replicates): the statistics are not the point here,
the bookkeeping is. Identical scenarios must differ by exactly zero in every outcome,
because replicate r uses the same seed (``run_seed(K, 0, r)``) in every arm; the table must
equal a hand computation of paired differences from replicates.csv; and every executor
must give the same numbers.
"""

from __future__ import annotations

import math
import subprocess

import pandas as pd
import pytest
from conftest import FINAL, JIESU, SCENARIOS

from experiments.cli import main
from experiments.seeds import run_seed
from model import load_scenario, run_one
from model.outcomes import KEY_OUTCOMES, SUMMARY

SMALL = ["--replicates", "2", "--scale", "0.002", "--days", "20", "--seed", "3", "--quiet"]
COLUMNS = {"scenario", "outcome", "mean", "sd", "diff", "ci_low", "ci_high", "n"}


def test_two_scenarios_csv_rows_labels_seeds_and_files(tmp_path):
    out = tmp_path / "out"
    rc = main(["compare", str(FINAL), str(SCENARIOS / "reform_2019.toml"), *SMALL, "--serial", "--out", str(out)])
    assert rc == 0
    # one row per scenario x key outcome of the registry, labelled by the registry
    df = pd.read_csv(out / "comparison.csv")
    assert COLUMNS <= set(df.columns)
    assert len(df) == 2 * len(KEY_OUTCOMES)
    assert set(df["scenario"]) == {"final_2021", "reform_2019"}
    assert list(df["outcome"][df["scenario"] == "final_2021"]) == KEY_OUTCOMES
    assert all(df["label"] == [SUMMARY[k].label() for k in df["outcome"]])
    assert (df["n"] == 2).all() and df["mean"].notna().all()
    # the first scenario is the baseline; replicate r uses run_seed(--seed, 0, r) in every arm
    reps = pd.read_csv(out / "replicates.csv")
    for arm in ("final_2021", "reform_2019"):
        rows = reps[reps["scenario"] == arm].sort_values("replicate")
        assert list(rows["seed"]) == [run_seed(3, 0, 0), run_seed(3, 0, 1)]
    first = df[df["scenario"] == "final_2021"]
    assert (first["diff"] == 0).all() and (first["ci_low"] == 0).all() and (first["ci_high"] == 0).all()
    # outputs written whole, no temp files left
    names = {p.name for p in out.iterdir()}
    assert {"comparison.csv", "comparison.png", "replicates.csv"} <= names
    assert not [n for n in names if n.startswith(".")], f"temp files left behind: {names}"
    assert (out / "comparison.png").stat().st_size > 1000


@pytest.fixture(scope="module")
def three_replicates(tmp_path_factory):
    """final_2021 vs reform_2019 (differs from day 1), 3 replicates in a 2-process pool."""
    out = tmp_path_factory.mktemp("compare") / "out"
    rc = main(["compare", str(FINAL), str(SCENARIOS / "reform_2019.toml"), "--replicates", "3", "--scale", "0.002",
               "--days", "20", "--seed", "11", "--quiet", "--workers", "2", "--no-plot", "--out", str(out)])
    assert rc == 0
    return pd.read_csv(out / "comparison.csv"), pd.read_csv(out / "replicates.csv")


def test_paired_differences_and_intervals_equal_a_hand_computation_from_the_replicates(three_replicates):
    from scipy import stats

    table, reps = three_replicates
    checked = 0
    for key in KEY_OUTCOMES:
        w = reps.pivot(index="replicate", columns="scenario", values=key)
        d = (w["reform_2019"] - w["final_2021"]).to_numpy()          # paired by replicate
        row = table[(table["scenario"] == "reform_2019") & (table["outcome"] == key)].iloc[0]
        assert row["diff"] == pytest.approx(d.mean(), rel=1e-9, abs=1e-12), key
        assert row["mean"] == pytest.approx(w["reform_2019"].mean(), rel=1e-9, abs=1e-12), key
        sd = d.std(ddof=1)
        assert row["diff_sd"] == pytest.approx(sd, rel=1e-9, abs=1e-12), key
        if sd > 0:
            half = stats.t.ppf(0.975, 2) * sd / math.sqrt(3)
            assert row["ci_low"] == pytest.approx(d.mean() - half, rel=1e-9, abs=1e-12), key
            assert row["ci_high"] == pytest.approx(d.mean() + half, rel=1e-9, abs=1e-12), key
            checked += 1
    assert checked >= 6, "too few outcomes vary between replicates to check the intervals"


def test_each_stored_replicate_is_the_run_of_its_arm_on_its_seed(three_replicates):
    """The seeds in replicates.csv are the seeds the runs used (so the pairing above is real)."""
    _, reps = three_replicates
    for arm, path in (("final_2021", FINAL), ("reform_2019", SCENARIOS / "reform_2019.toml")):
        row = reps[(reps["scenario"] == arm) & (reps["replicate"] == 2)].iloc[0]
        assert row["seed"] == run_seed(11, 0, 2)
        cfg = load_scenario(path, {"city.scale": 0.002, "city.days": 20})
        summary = run_one(cfg, int(row["seed"])).summary
        for key in KEY_OUTCOMES:
            assert row[key] == pytest.approx(summary[key], rel=1e-12, abs=1e-12), (arm, key)


def test_identical_scenarios_give_exactly_zero_paired_difference(tmp_path):
    twin = tmp_path / "twin.toml"
    twin.write_text(f'extends = "{FINAL}"\nname = "twin"\n', encoding="utf-8")
    out = tmp_path / "out"
    # the same file twice and a twin extending it, in a process pool: CRN must hold across workers
    rc = main(["compare", str(FINAL), str(twin), str(FINAL), *SMALL, "--workers", "2", "--no-plot", "--out", str(out)])
    assert rc == 0
    df = pd.read_csv(out / "comparison.csv")
    assert set(df["scenario"]) == {"final_2021", "twin", "final_2021#2"}
    assert (df["diff"] == 0.0).all(), df[df["diff"] != 0][["scenario", "outcome", "diff"]]
    assert (df["ci_low"] == 0.0).all() and (df["ci_high"] == 0.0).all()
    means = df.pivot(index="outcome", columns="scenario", values="mean")
    assert (means["twin"] == means["final_2021"]).all()


def test_every_executor_gives_the_same_comparison(tmp_path):
    """--serial, a process pool and a Dask LocalCluster all go through experiments/executors.py."""
    pytest.importorskip("distributed")
    args = [str(FINAL), str(SCENARIOS / "no_audit.toml"), "--replicates", "2", "--scale", "0.001", "--days", "5",
            "--seed", "5", "--quiet", "--no-plot"]
    tables = {}
    for name, flags in {"serial": ["--serial"], "pool": ["--workers", "2"], "dask": ["--dask-local", "2"]}.items():
        assert main(["compare", *args, *flags, "--out", str(tmp_path / name)]) == 0, name
        tables[name] = (tmp_path / name / "comparison.csv").read_bytes()
    assert tables["serial"] == tables["pool"] == tables["dask"]


BAD = {
    "one_scenario": [str(FINAL)],
    "missing_file": [str(FINAL), "no_such_scenario.toml"],
    "zero_replicates": [str(FINAL), str(FINAL), "--replicates", "0"],
    "scale_above_1": [str(FINAL), str(FINAL), "--scale", "2"],
    "days_not_a_number": [str(FINAL), str(FINAL), "--days", "many"],
    "negative_seed": [str(FINAL), str(FINAL), "--seed", "-1"],
    "zero_workers": [str(FINAL), str(FINAL), "--workers", "0"],
    "unknown_flag": [str(FINAL), str(FINAL), "--bogus", "3"],
    "two_executors": [str(FINAL), str(FINAL), "--workers", "2", "--serial"],
    "dask_local_zero": [str(FINAL), str(FINAL), "--dask-local", "0"],
    "bad_key_in_scenario": [str(FINAL), "BADFILE"],
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_arguments_exit_2_with_one_line_and_write_nothing(case, tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(f'extends = "{FINAL}"\n[rules.audit]\nsampel_share = 0.1\n', encoding="utf-8")
    out = tmp_path / "out"
    argv = [str(bad) if a == "BADFILE" else a for a in BAD[case]]
    rc = main(["compare", *argv, "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert err.startswith("error:") and "\n" not in err and "Traceback" not in err, err
    assert not out.exists()


def test_bad_arguments_through_the_real_command(tmp_path):
    out = tmp_path / "out"
    p = subprocess.run([str(JIESU), "compare", str(FINAL), "--out", str(out)], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 2
    assert len(p.stderr.strip().splitlines()) == 1 and "at least two" in p.stderr
    assert not out.exists()


def test_ci_uses_the_t_distribution():
    from scipy import stats

    from experiments.compare import compare_table

    arms = [("a", "a.toml", None), ("b", "b.toml", None)]
    seeds = [0, 1, 2, 3]
    d = [1.0, 2.0, 4.0, 5.0]
    runs = {("a", s): {"resolution_rate": 0.5} for s in seeds}
    runs |= {("b", s): {"resolution_rate": 0.5 + d[i]} for i, s in enumerate(seeds)}
    row = compare_table(arms, seeds, runs, ["resolution_rate"]).iloc[1]
    sd = pd.Series(d).std(ddof=1)
    half = stats.t.ppf(0.975, 3) * sd / math.sqrt(4)
    assert row["diff"] == pytest.approx(3.0)
    assert row["ci_low"] == pytest.approx(3.0 - half) and row["ci_high"] == pytest.approx(3.0 + half)
