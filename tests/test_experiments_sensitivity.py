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
    # contacts are driven by contacts per capita far more than by the solve probability
    st = ind[(ind["outcome"] == "contacts") & (ind["index"] == "ST")].set_index("factor")["value"]
    assert st["world.demand.contacts_per_capita_year"] > st["world.handling.solve_prob"]


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
