"""Sensitivity analysis: Sobol' and Morris through the CLI, with SALib's pitfalls refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.cli import main
from experiments.sensitivity import SensitivityError, analyse, row_means
from experiments.spec import load_spec
from experiments.storage import RunStore
from experiments.sweep import make_plan, run_sweep

SCEN = Path(__file__).resolve().parents[1] / "scenarios" / "final_2021.toml"


def spec(tmp_path: Path, method: str = "sobol", samples: int = 4, second: bool = False, reps: int = 2) -> Path:
    p = tmp_path / f"{method}.toml"
    p.write_text(f"""
name = "t_{method}"
scenarios = ["{SCEN}"]
replicates = {reps}
seed = 9
[set]
"city.scale" = 0.002
"city.days" = 20
[design]
method = "{method}"
samples = {samples}
calc_second_order = {str(second).lower()}
[factors]
"world.demand.contacts_per_capita_year" = {{ range = [0.5, 1.5] }}
"world.handling.solve_prob" = {{ range = [0.6, 0.98] }}
[outcomes]
summary = ["contacts", "true_resolution_rate", "days"]
""")
    return p


def test_sobol_cli_prints_first_and_total_order_with_intervals_and_plots(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["sensitivity", str(spec(tmp_path)), "--workers", "2", "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "S1" in text and "ST" in text and "±" in text
    assert "skipped (constant over the design): final_2021/days" in text
    ind = pd.read_csv(out / "indices.csv")
    assert set(ind["index"]) == {"S1", "ST"} and ind["conf"].notna().all()
    assert (out / "sensitivity-final_2021.png").stat().st_size > 10_000
    # 4 x (2 + 2) = 16 design rows, 2 replicates each, averaged before analysis
    assert len(RunStore(out).read()) == 32
    # every (outcome with variance, factor, index) is there once; which index values are
    # right is checked on a function with known indices below
    assert len(ind) == 2 * 2 * 2


CPC, SOLVE = "world.demand.contacts_per_capita_year", "world.handling.solve_prob"


def test_sobol_indices_of_a_known_function_are_recovered_through_the_same_analysis(tmp_path):
    # Stored runs whose outcomes are analytic functions of the design row (u = factor scaled
    # to [0, 1], so each u is uniform): the indices are known exactly, and a wrong pairing of
    # rows, factors, replicates or S1/ST would show. The two replicates of a row carry
    # opposite noise, so only a per-row replicate mean leaves the function.
    s, arms = load_spec(spec(tmp_path, samples=256, reps=2))
    plan = make_plan(s, arms)
    u1 = (plan.design[CPC].to_numpy() - 0.5) / 1.0
    u2 = (plan.design[SOLVE].to_numpy() - 0.6) / 0.38
    truth = {                                   # outcome: (values per row, {factor: (S1, ST)})
        "contacts": (2 * u1 + u2, {CPC: (0.8, 0.8), SOLVE: (0.2, 0.2)}),         # additive: 4/5 and 1/5
        "true_resolution_rate": (u2, {CPC: (0.0, 0.0), SOLVE: (1.0, 1.0)}),      # CPC does nothing
        "days": ((u1 - 0.5) * (u2 - 0.5), {CPC: (0.0, 1.0), SOLVE: (0.0, 1.0)}),  # pure interaction
    }
    noise = np.random.default_rng(0).normal(0.0, 5.0, len(plan.design))
    rows = []
    for t in plan.tasks:
        sign = 1.0 if t.replicate == 0 else -1.0
        rows.append({"run_id": t.run_id, "arm": t.arm, "row": t.row, "replicate": t.replicate, "error": None,
                     **{out: f[t.row] + sign * noise[t.row] for out, (f, _) in truth.items()}})
    df = pd.DataFrame(rows).sample(frac=1.0, random_state=1)            # stored runs come in any order
    ind, skipped = analyse(plan, df, list(truth))
    assert not skipped
    got = ind.set_index(["outcome", "factor", "index"])
    for out, (_, expected) in truth.items():
        for factor, (s1, st) in expected.items():
            for idx, want in (("S1", s1), ("ST", st)):
                value, conf = got.loc[(out, factor, idx), ["value", "conf"]]
                # SALib's bootstrap 95% half-width is ~2 sd: 2 of them is ~K_SD sd; an inert factor is exactly 0
                assert abs(value - want) <= 2 * conf + 1e-9, (out, factor, idx, value, conf)


def test_second_order_setting_is_the_same_for_sampling_and_analysis(tmp_path):
    s, arms = load_spec(spec(tmp_path, second=True, reps=1))
    plan = make_plan(s, arms)
    assert len(plan.design) == 4 * (2 * 2 + 2)            # Saltelli with second order: N(2D+2)
    run_sweep(plan, tmp_path / "o", kind="serial", progress=False)
    ind, _ = analyse(plan, RunStore(tmp_path / "o").read(), ["contacts"])
    assert len(ind) == 2 * 2


def test_morris_gives_mu_star_with_intervals(tmp_path):
    s, arms = load_spec(spec(tmp_path, method="morris", samples=3, reps=1))
    plan = make_plan(s, arms)
    assert len(plan.design) == 3 * (2 + 1)
    run_sweep(plan, tmp_path / "o", workers=2, progress=False)
    ind, _ = analyse(plan, RunStore(tmp_path / "o").read(), ["contacts"])
    mu = ind[ind["index"] == "mu_star"]
    assert len(mu) == 2 and mu["conf"].notna().all() and (mu["value"] >= 0).all()


def test_nan_outputs_and_missing_rows_are_refused_naming_the_runs(tmp_path):
    s, arms = load_spec(spec(tmp_path, reps=1))
    plan = make_plan(s, arms)
    df = pd.DataFrame([{"run_id": t.run_id, "arm": t.arm, "row": t.row, "replicate": t.replicate,
                        "contacts": float(t.row), "error": None} for t in plan.tasks])
    df.loc[3, "contacts"] = np.nan
    with pytest.raises(SensitivityError, match=r"1 run\(s\) .*final_2021:r3:s0"):
        row_means(df, len(plan.design), ["contacts"], "final_2021")
    with pytest.raises(SensitivityError, match=r"design rows \[3, 5\] have no stored runs"):
        row_means(df.drop(index=[3, 5]), len(plan.design), ["contacts"], "final_2021")
