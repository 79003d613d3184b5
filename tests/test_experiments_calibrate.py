"""Calibration by ABC rejection (experiments/calibrate.py, ``jiesu calibrate``).

The statistics are checked against hand computations; the whole loop is checked on a
stand-in model whose answer is known (it recovers the parameter that produced the data);
one small end-to-end run uses the real model and the real command.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from experiments import calibrate as C
from experiments.cli import main
from experiments.spec import load_spec
from experiments.storage import RunStore
from experiments.sweep import make_plan, run_sweep
from model import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
SCEN = ROOT / "scenarios" / "final_2021.toml"
TRUE_HONESTY = 0.8


def write_spec(tmp_path: Path, *, targets: str | None = None, samples: int = 40, reps: int = 2,
               monthly: str = '{ resolution_rate = "mean", contacts = "sum" }', days: int = 62,
               extra: str = "") -> Path:
    targets = targets if targets is not None else f"""
[[calibration.targets]]
label = "resolution, month 0"
outcome = "resolution_rate"
months = [0, 0]
value = {TRUE_HONESTY}
tolerance = 0.02
source = "stand-in data generated at honesty = {TRUE_HONESTY}"
"""
    p = tmp_path / "cal.toml"
    p.write_text(f"""
name = "t_cal"
scenarios = ["{SCEN}"]
replicates = {reps}
seed = 11
[set]
"city.scale" = 0.002
"city.days" = {days}
[design]
method = "lhs"
samples = {samples}
[factors]
"world.citizens.honesty" = {{ range = [0.5, 1.0] }}
"world.capacity.ratio" = {{ range = [0.9, 1.4] }}
[outcomes]
summary = ["contacts"]
monthly = {monthly}
[calibration]
accept = 0.1
{targets}
{extra}""")
    return p


def stand_in(config, seed):
    """A model whose January resolution rate is honesty plus small seed noise; capacity is irrelevant."""
    rng = np.random.default_rng(seed)
    days = np.arange(62)
    rate = config.world.citizens.honesty + rng.normal(0, 0.01)
    daily = pd.DataFrame({"day": days, "resolution_rate": rate, "contacts": 10.0})
    return SimpleNamespace(summary={"contacts": 620.0}, daily=daily)


def test_distance_is_the_rms_of_standardised_misfits():
    cal = C.Calibration(targets=[
        C.Target(label="a", outcome="x", months=(0, 0), value=1.0, tolerance=0.5, source="s"),
        C.Target(label="b", outcome="y", months=(0, 0), value=10.0, tolerance=2.0, source="s")])
    stats = pd.DataFrame({"a": [1.0, 2.0], "b": [10.0, 6.0]})
    d = C.distances(stats, cal)
    assert d.tolist() == pytest.approx([0.0, np.sqrt((2.0 ** 2 + 2.0 ** 2) / 2)])


def test_simulated_statistics_sum_or_average_the_window_and_scale_counts_up():
    cal = C.Calibration(targets=[
        C.Target(label="n", outcome="contacts", months=(1, 2), value=0, tolerance=1, per_population=True, source="s"),
        C.Target(label="r", outcome="rate", months=(0, 1), value=0, tolerance=1, source="s")])
    runs = pd.DataFrame({"monthly.contacts": [[1.0, 2.0, 3.0, 4.0]], "monthly.rate": [[0.2, 0.4, 0.9]]})
    stats = C.simulated(runs, cal, {"contacts": "sum", "rate": "mean"}, scale=0.01)
    assert stats["n"].iloc[0] == pytest.approx(500.0)      # (2 + 3) / 0.01
    assert stats["r"].iloc[0] == pytest.approx(0.3)


def test_acceptance_keeps_the_closest_share_with_epanechnikov_weights():
    d = pd.Series(np.arange(20, dtype=float))
    w = C.accept(d, 0.2)
    assert (w > 0).sum() == 4 and (w.iloc[:4] > 0).all()
    assert w.iloc[0] == pytest.approx(1.0)
    assert np.all(np.diff(w.iloc[:4]) < 0)                   # closer rows weigh more


def test_abc_recovers_the_parameter_that_made_the_data(tmp_path):
    spec, arms = load_spec(write_spec(tmp_path))
    plan = make_plan(spec, arms)
    run_sweep(plan, tmp_path / "out", kind="serial", run_fn=stand_in, progress=False)
    per_row, post = C.calibrate(RunStore(tmp_path / "out").read(), spec.calibration, list(spec.factors),
                                spec.outcomes.monthly, 0.002)
    assert (per_row["weight"] > 0).sum() == 4
    h = post.set_index("parameter").loc["world.citizens.honesty"]
    assert abs(h["median"] - TRUE_HONESTY) < 0.03
    assert h["q05"] <= TRUE_HONESTY <= h["q95"] + 0.01
    assert h["width_ratio"] < 0.2                            # the data pin honesty down ...
    assert post.set_index("parameter").loc["world.capacity.ratio", "width_ratio"] > 0.4   # ... not capacity


def test_target_of_an_outcome_not_kept_is_refused(tmp_path):
    p = write_spec(tmp_path, monthly='{ contacts = "sum" }')
    with pytest.raises(ScenarioError, match=r"calibration.targets\[0\].*resolution_rate.*not kept"):
        load_spec(p)


def test_target_months_beyond_the_run_are_refused(tmp_path):
    p = write_spec(tmp_path, days=40)
    bad = p.read_text().replace("months = [0, 0]", "months = [0, 5]")
    p.write_text(bad)
    with pytest.raises(ScenarioError, match=r"months: the runs last 40 days"):
        load_spec(p)


@pytest.mark.parametrize("change, message", [
    (("tolerance = 0.02", "tolerance = 0"), "tolerance"),
    (('source = "stand-in', 'sauce = "stand-in'), "source: Field required"),
    (("accept = 0.1", "accept = 1.5"), "accept"),
])
def test_bad_calibration_tables_give_one_line_and_exit_2(tmp_path, capsys, change, message):
    p = write_spec(tmp_path)
    p.write_text(p.read_text().replace(*change))
    assert main(["calibrate", str(p), "--serial", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and str(p) in err
    assert not (tmp_path / "o").exists()


def test_a_spec_without_targets_is_refused_before_running(tmp_path, capsys):
    p = write_spec(tmp_path, targets="")
    p.write_text(p.read_text().replace("[calibration]\naccept = 0.1\n", ""))
    assert main(["calibrate", str(p), "--serial", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "calibration: missing" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_calibrate_command_end_to_end_on_the_real_model(tmp_path, capsys):
    p = write_spec(tmp_path, samples=3, reps=1)
    out = tmp_path / "o"
    assert main(["calibrate", str(p), "--serial", "--out", str(out), "--quiet", "--accept", "0.5"]) == 0
    text = capsys.readouterr().out
    assert "ABC rejection: 2 of 3 design rows accepted" in text
    for name in ("calibration.csv", "posterior.csv", "fit.csv", "best.toml", "posterior_mean.toml", "calibration.png"):
        assert (out / name).stat().st_size > 0
    rows = pd.read_csv(out / "calibration.csv")
    assert rows["distance"].is_monotonic_increasing and np.isfinite(rows["distance"]).all()
    # the best row's values, applied as overrides, are a valid scenario fragment
    import tomllib
    best = tomllib.loads((out / "best.toml").read_text())
    assert set(best) == {"world.citizens.honesty", "world.capacity.ratio"}
    assert best["world.citizens.honesty"] == pytest.approx(rows["world.citizens.honesty"].iloc[0], rel=1e-3)


def test_weighted_quantiles_put_each_point_at_the_middle_of_its_weight():
    x = np.linspace(0.0, 1.0, 11)
    assert C.weighted_quantile(x, np.ones(11), 0.5) == pytest.approx(0.5)
    assert C.weighted_quantile(np.array([0.0, 1.0]), np.array([1.0, 1.0]), 0.5) == pytest.approx(0.5)
    assert C.weighted_quantile(np.array([0.0, 1.0]), np.array([3.0, 1.0]), 0.5) == pytest.approx(0.25)   # points at 3/8 and 7/8


def test_posterior_widths_use_the_declared_prior_ranges():
    table = pd.DataFrame({"a": [0.4, 0.5, 0.6], "weight": [1.0, 1.0, 1.0]})
    post = C.posterior(table, ["a"], {"a": (0.0, 2.0)}).iloc[0]
    assert (post["prior_low"], post["prior_high"]) == (0.0, 2.0)
    assert post["width_ratio"] == pytest.approx((post["q95"] - post["q05"]) / 2.0)


def test_the_last_covered_month_is_the_month_of_the_last_day(tmp_path):
    # 62 days: the last day (index 61) lies in month 2, so month 2 is covered and month 3 is not
    p = write_spec(tmp_path, days=62)
    p.write_text(p.read_text().replace("months = [0, 0]", "months = [2, 2]"))
    load_spec(p)
    p.write_text(p.read_text().replace("months = [2, 2]", "months = [3, 3]"))
    with pytest.raises(ScenarioError, match=r"months 0..2"):
        load_spec(p)


def test_calibrating_whole_number_or_level_factors_is_refused_before_running(tmp_path, capsys):
    p = write_spec(tmp_path)
    p.write_text(p.read_text().replace('"world.capacity.ratio" = { range = [0.9, 1.4] }',
                                       '"world.citizens.escalation_threat_after" = { range = [1, 5] }'))
    assert main(["calibrate", str(p), "--serial", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "decimal-valued" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_no_finite_distance_is_one_clear_error():
    with pytest.raises(ScenarioError, match="no design row has a finite distance"):
        C.accept(pd.Series([np.nan, np.nan]), 0.5)
