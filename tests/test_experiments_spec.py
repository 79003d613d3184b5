"""Sweep specs are checked like scenarios; seeds pair rule arms; designs are reproducible."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from experiments.cli import main
from experiments.design import build_design
from experiments.seeds import run_seed
from experiments.spec import load_spec
from experiments.sweep import make_plan
from model import ScenarioError

SCEN = Path(__file__).resolve().parents[1] / "scenarios" / "final_2021.toml"

GOOD = f"""
name = "t"
scenarios = ["{SCEN}"]
replicates = 2
seed = 11
[set]
"city.scale" = 0.002
"city.days" = 10
[design]
method = "lhs"
samples = 4
[factors]
"world.capacity.ratio" = {{ range = [0.9, 1.4] }}
"rules.deadlines.extension_days" = {{ range = [5, 30] }}
[outcomes]
summary = ["resolution_rate", "contacts"]
"""


def write(tmp_path: Path, text: str, name: str = "spec.toml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


BAD = {
    "unknown factor key": (GOOD.replace('"world.capacity.ratio"', '"world.capacity.ratoi"'), "not a scenario key"),
    "range outside the schema": (GOOD.replace("[0.9, 1.4]", "[0.9, 7.0]"), "outside the allowed range"),
    "reversed range": (GOOD.replace("[0.9, 1.4]", "[1.4, 0.9]"), "low < high"),
    "sobol N not a power of two": (GOOD.replace('"lhs"', '"sobol"').replace("samples = 4", "samples = 6")
                                   .replace('"rules.deadlines.extension_days" = { range = [5, 30] }',
                                            '"rules.audit.sample_share" = { range = [0.0, 0.3] }'), "power of two"),
    "sobol on an integer key": (GOOD.replace('"lhs"', '"sobol"'), "continuous factors"),
    "levels in a sampled design": (GOOD.replace("{ range = [5, 30] }", "{ levels = [5, 30] }"), "levels are for grids"),
    "unknown top-level key": (GOOD.replace("replicates = 2", "replicate = 2"), "replicate: unknown key"),
    "unknown outcome": (GOOD.replace('"contacts"]', '"contactz"]'), "unknown figure 'contactz'"),
    "unknown monthly series": (GOOD + '\nmonthly = { nope = "sum" }\n', "unknown daily column 'nope'"),
    "missing scenario file": (GOOD.replace(str(SCEN), "no_such_scenario.toml"), "scenario file not found"),
    "bad value in set": (GOOD.replace('"city.scale" = 0.002', '"city.scale" = 3.0'), "city.scale"),
    "choice level not allowed": (GOOD.replace('method = "lhs"\nsamples = 4', 'method = "grid"')
                                 .replace('"world.capacity.ratio" = { range = [0.9, 1.4] }',
                                          '"rules.assessment.resolved_by" = { levels = ["mayor"] }')
                                 .replace("{ range = [5, 30] }", "{ levels = [5] }"), "must be one of"),
    "factor breaks a cross-field rule": (GOOD.replace('method = "lhs"\nsamples = 4', 'method = "grid"')
                                         .replace('"world.capacity.ratio" = { range = [0.9, 1.4] }',
                                                  '"rules.assessment.weights.response" = { levels = [0.5] }')
                                         .replace("{ range = [5, 30] }", "{ levels = [5] }"), "must sum to 1"),
    "TOML syntax error": ("name = ", "TOML syntax error"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_spec_is_one_line_exit_2_and_writes_nothing(case, tmp_path, capsys):
    text, expected = BAD[case]
    spec = write(tmp_path, text)
    out = tmp_path / "out"
    code = main(["sweep", str(spec), "--out", str(out), "--quiet", "--serial"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and expected in err, err
    assert not out.exists()


def test_sensitivity_refuses_a_non_sobol_spec_before_running(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["sensitivity", str(write(tmp_path, GOOD)), "--out", str(out), "--quiet"]) == 2
    assert "sobol" in capsys.readouterr().err and not out.exists()


def test_run_seeds_are_shared_across_rule_arms_and_distinct_across_rows_and_replicates(tmp_path):
    arm_b = write(tmp_path, f'extends = "{SCEN}"\nname = "arm_b"\n[rules.assessment]\nresolved_by = "unit_report"\n',
                  "arm_b.toml")
    spec, arms = load_spec(write(tmp_path, GOOD.replace(f'["{SCEN}"]', f'["{SCEN}", "{arm_b.name}"]')))
    plan = make_plan(spec, arms)
    by_arm = {a: {(t.row, t.replicate): t.seed for t in plan.tasks if t.arm == a} for a in arms}
    assert set(arms) == {"final_2021", "arm_b"}
    assert by_arm["final_2021"] == by_arm["arm_b"]                      # common random numbers
    seeds = list(by_arm["arm_b"].values())
    assert len(set(seeds)) == len(seeds) == 4 * 2
    assert all(isinstance(s, int) and 0 <= s < 2**63 for s in seeds)
    assert run_seed(11, 3, 1) == int(np.random.SeedSequence(11).spawn(1)[0].spawn(4)[3].spawn(2)[1]
                                      .generate_state(1, np.uint64)[0] >> np.uint64(1))
    assert len({t.run_id for t in plan.tasks}) == len(plan.tasks) == 2 * 4 * 2


def test_designs_are_reproducible_within_bounds_and_integers_stay_integers(tmp_path):
    spec, _ = load_spec(write(tmp_path, GOOD))
    d1, d2 = build_design(spec), build_design(spec)
    assert d1.equals(d2) and len(d1) == 4
    assert d1["world.capacity.ratio"].between(0.9, 1.4).all()
    assert (d1["rules.deadlines.extension_days"] == d1["rules.deadlines.extension_days"].round()).all()
    # LHS: one sample in each quarter of each range
    assert sorted((d1["world.capacity.ratio"] - 0.9) // (0.5 / 4)) == [0, 1, 2, 3]


def test_grid_is_the_product_of_levels_and_steps(tmp_path):
    text = GOOD.replace('method = "lhs"\nsamples = 4', 'method = "grid"').replace(
        "{ range = [0.9, 1.4] }", "{ range = [0.9, 1.4], steps = 3 }").replace(
        "{ range = [5, 30] }", "{ levels = [5, 30] }")
    spec, _ = load_spec(write(tmp_path, text))
    d = build_design(spec)
    assert len(d) == 6 and sorted(set(d["world.capacity.ratio"])) == pytest.approx([0.9, 1.15, 1.4])


def test_load_spec_raises_scenario_error_with_the_file_and_key(tmp_path):
    p = write(tmp_path, GOOD.replace("replicates = 2", "replicates = 0"))
    with pytest.raises(ScenarioError, match=r"spec.toml: replicates: "):
        load_spec(p)
