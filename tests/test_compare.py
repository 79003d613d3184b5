"""``jiesu compare``: common random numbers, the CSV, and bad input.

Small worlds (scale 0.002, 20 days, 2 replicates): the statistics are not the point here,
the bookkeeping is. Identical scenarios must differ by exactly zero in every outcome,
because replicate r uses the same seed in every arm.
"""

from __future__ import annotations

import math
import subprocess

import pandas as pd
import pytest
from conftest import FINAL, JIESU, SCENARIOS

from experiments.cli import main
from experiments.compare import OUTCOMES

SMALL = ["--replicates", "2", "--scale", "0.002", "--days", "20", "--seed", "3", "--quiet"]
COLUMNS = {"scenario", "outcome", "mean", "sd", "diff", "ci_low", "ci_high", "n"}


def test_two_scenarios_csv_rows_paired_differences_and_files(tmp_path):
    out = tmp_path / "out"
    rc = main(["compare", str(FINAL), str(SCENARIOS / "reform_2019.toml"), *SMALL, "--workers", "1", "--out", str(out)])
    assert rc == 0
    # one row per scenario x outcome, every column the brief asks for
    df = pd.read_csv(out / "comparison.csv")
    assert COLUMNS <= set(df.columns)
    assert len(df) == 2 * len(OUTCOMES)
    assert set(df["scenario"]) == {"final_2021", "reform_2019"}
    assert set(df["outcome"]) == set(OUTCOMES)
    assert (df.groupby("scenario").size() == len(OUTCOMES)).all()
    assert (df["n"] == 2).all()
    assert df["mean"].notna().all()
    # the first scenario is the baseline; replicate r uses seed --seed + r in every arm
    reps = pd.read_csv(out / "replicates.csv")
    assert sorted(reps["seed"].unique()) == [3, 4]
    first = df[df["scenario"] == "final_2021"]
    assert (first["diff"] == 0).all() and (first["ci_low"] == 0).all() and (first["ci_high"] == 0).all()
    # diff is the mean of per-seed differences, and the interval contains it
    w = reps.pivot(index="seed", columns="scenario", values="requests_per_10k")
    row = df[(df["scenario"] == "reform_2019") & (df["outcome"] == "requests_per_10k")].iloc[0]
    assert row["diff"] == pytest.approx((w["reform_2019"] - w["final_2021"]).mean())
    assert row["ci_low"] <= row["diff"] <= row["ci_high"]
    assert row["ci_high"] < 0          # the 2019 volume is far lower: the interval excludes 0
    # outputs written whole, no temp files left
    names = {p.name for p in out.iterdir()}
    assert {"comparison.csv", "comparison.png", "replicates.csv"} <= names
    assert not [n for n in names if n.startswith(".")], f"temp files left behind: {names}"
    assert (out / "comparison.png").stat().st_size > 1000


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


BAD = {
    "one_scenario": [str(FINAL)],
    "missing_file": [str(FINAL), "no_such_scenario.toml"],
    "zero_replicates": [str(FINAL), str(FINAL), "--replicates", "0"],
    "scale_above_1": [str(FINAL), str(FINAL), "--scale", "2"],
    "days_not_a_number": [str(FINAL), str(FINAL), "--days", "many"],
    "negative_seed": [str(FINAL), str(FINAL), "--seed", "-1"],
    "zero_workers": [str(FINAL), str(FINAL), "--workers", "0"],
    "unknown_flag": [str(FINAL), str(FINAL), "--bogus", "3"],
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
    row = compare_table(arms, seeds, runs, {"resolution_rate": ("r", "")}).iloc[1]
    sd = pd.Series(d).std(ddof=1)
    half = stats.t.ppf(0.975, 3) * sd / math.sqrt(4)
    assert row["diff"] == pytest.approx(3.0)
    assert row["ci_low"] == pytest.approx(3.0 - half) and row["ci_high"] == pytest.approx(3.0 + half)
