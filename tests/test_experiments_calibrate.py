"""Calibration by ABC rejection (experiments/calibrate.py, ``jiesu calibrate``) and ABC-SMC
(experiments/smc.py, ``jiesu calibrate --method smc``).

The statistics are checked against hand computations; the whole loop is checked on a
stand-in model whose answer is known (it recovers the parameter that produced the data);
ABC-SMC is checked on a normal-mean model whose posterior is known in closed form, and for
reproducibility on one core; small end-to-end runs use the real model and the real command.
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


# ---------------------------------------------------------------- ratio and difference targets


def test_ratio_and_difference_targets_follow_their_definitions():
    cal = C.Calibration(targets=[
        C.Target(label="cb", outcome="sat", months=(1, 1), value=0.92, tolerance=0.03, source="s"),
        C.Target(label="survey", outcome="ok", denominator="asked", months=(0, 1), value=0.9, tolerance=0.03,
                 source="s"),
        C.Target(label="gap", outcome="ok", denominator="asked", months=(0, 1), minus="cb", value=0.0,
                 tolerance=0.02, source="s"),
        C.Target(label="callers", outcome="ytd", months=(1, 1), value=0, tolerance=1, per_population=True,
                 source="s")])
    monthly = {"sat": "mean", "ok": "sum", "asked": "sum", "ytd": "last"}
    series = {"sat": [0.5, 0.95], "ok": [8.0, 10.0], "asked": [10.0, 10.0], "ytd": [3.0, 5.0]}
    st = C.statistics(series, cal, monthly, scale=0.01)
    assert st["survey"] == pytest.approx(18 / 20)
    assert st["gap"] == pytest.approx(18 / 20 - 0.95)
    assert st["callers"] == pytest.approx(500.0)
    # the rejection path's table gives the same statistics
    runs = pd.DataFrame({f"monthly.{k}": [v] for k, v in series.items()})
    assert C.simulated(runs, cal, monthly, 0.01).iloc[0].to_dict() == pytest.approx(st)


def test_a_ratio_with_an_empty_denominator_has_no_statistic():
    t = C.Target(label="r", outcome="ok", denominator="asked", months=(0, 0), value=1, tolerance=1, source="s")
    assert np.isnan(C.target_stat({"ok": [0.0], "asked": [0.0]}, t, {"ok": "sum", "asked": "sum"}, 1.0))


@pytest.mark.parametrize("targets, message", [
    ([dict(label="a", minus="b")], "'b' is not the label of another target"),
    ([dict(label="a", minus="a")], "'a' is not the label of another target"),
    ([dict(label="a"), dict(label="a")], "label 'a' is used twice"),
    ([dict(label="a"), dict(label="b", minus="a"), dict(label="c", minus="b")], "itself a difference"),
])
def test_bad_differences_are_refused(targets, message):
    base = dict(outcome="x", months=(0, 0), value=0.0, tolerance=1.0, source="s")
    with pytest.raises(ValueError, match=message):
        C.Calibration(targets=[{**base, **t} for t in targets])


# ---------------------------------------------------------------- ABC-SMC (pyabc)

pyabc = pytest.importorskip("pyabc")   # the 'calibrate' extra; make .venv/.installed installs it
from experiments import smc as S  # noqa: E402
from experiments.targets import SMC  # noqa: E402

N_OBS = 25
Y_BAR = 1.3          # the observed mean of N_OBS draws from N(mu, 1)


def normal_mean(params: dict) -> dict:
    """The sample mean of N_OBS draws from N(mu, 1): numpy's global generator, which run_smc seeds."""
    return {"m": float(np.mean(np.random.normal(params["mu"], 1.0, N_OBS)))}


def normal_distance(stats: dict) -> float:
    return abs(stats["m"] - Y_BAR)


def toy(seed: int, population: int = 200, generations: int = 7):
    settings = SMC(population_size=population, generations=generations, epsilon_quantile=0.5, seed=seed)
    return S.run_smc(normal_mean, {"m": Y_BAR}, normal_distance, {"mu": (-5.0, 5.0)}, settings)


def test_smc_recovers_the_known_posterior_of_a_normal_mean():
    """Flat prior on (-5, 5), 25 draws of N(mu, 1) with mean 1.3: the posterior is N(1.3, 0.2^2)
    (the sample mean is sufficient; the prior's cut at +-5 is 18 sd away). Tolerances from
    replicates: over seeds 7-12 the weighted posterior mean was 1.276-1.320 (sd 0.017 between
    seeds) and the posterior sd 0.179-0.217 (the last threshold, 0.06-0.10, widens it a little);
    the bounds are about 4 sd of those spreads around the exact answer."""
    res = toy(seed=7)
    last = res.particles[res.particles["t"] == res.particles["t"].max()]
    w = last["weight"].to_numpy()
    mean = float(np.average(last["mu"], weights=w))
    sd = float(np.sqrt(np.average((last["mu"] - mean) ** 2, weights=w)))
    assert len(res.generations) == 7 and len(last) == 200
    assert np.all(np.diff(res.generations["epsilon"]) < 0)          # the threshold falls every generation
    assert res.generations["epsilon"].iloc[-1] < 0.15               # from about 2.5 (the prior's spread)
    assert abs(mean - Y_BAR) < 0.07
    assert 0.14 < sd < 0.27                                          # the prior's sd is 2.9
    assert w.sum() == pytest.approx(1.0)
    assert (res.generations["acceptance"] <= 1).all() and res.simulations >= 7 * 200


def test_smc_on_one_core_is_reproducible_given_the_seed():
    a, b, c = toy(seed=3, population=50, generations=3), toy(seed=3, population=50, generations=3), \
        toy(seed=4, population=50, generations=3)
    pd.testing.assert_frame_equal(a.particles, b.particles)
    pd.testing.assert_frame_equal(a.generations, b.generations)
    assert not np.allclose(a.particles["mu"].to_numpy(), c.particles["mu"].to_numpy())


def test_smc_history_db_is_written_whole_under_its_final_name(tmp_path):
    settings = SMC(population_size=20, generations=2, seed=1)
    res = S.run_smc(normal_mean, {"m": Y_BAR}, normal_distance, {"mu": (-5.0, 5.0)}, settings, out=tmp_path)
    assert res.db == tmp_path / "smc_history.db" and res.db.stat().st_size > 0
    assert [p.name for p in tmp_path.iterdir()] == ["smc_history.db"]       # no temporary file left
    h = pyabc.History(f"sqlite:///{res.db}")
    assert h.max_t == 1


def smc_spec(tmp_path: Path, smc: str = "population_size = 4\ngenerations = 2\nseed = 5", extra_targets: str = "") -> Path:
    """The history replay at scale 0.01 for its first 70 days (November 2018 - January 2019)."""
    p = tmp_path / "smc.toml"
    p.write_text(f"""
name = "t_smc"
scenarios = ["{ROOT / 'scenarios' / 'history_2019_2021.toml'}"]
seed = 3
[set]
"city.scale" = 0.01
"city.days" = 70
[design]                             # the rejection path's prior sample (unused by --method smc)
method = "lhs"
samples = 4
[factors]
"world.citizens.pressure_effect" = {{ range = [0.3, 1.2] }}
"world.survey.explain_persistence" = {{ range = [0.0, 1.0] }}
[outcomes]
monthly = {{ satisfaction_rate = "mean", survey_sampled = "sum", survey_satisfied = "sum", distinct_callers_ytd = "last" }}
[calibration]
[calibration.smc]
{smc}
[[calibration.targets]]
label = "satisfaction Jan 2019"
outcome = "satisfaction_rate"
months = [2, 2]
value = 0.6461
tolerance = 0.03
source = "facts.md: zt.bjdj.gov.cn 2019-10-30 (monthly)"
[[calibration.targets]]
label = "survey - callback"
outcome = "survey_satisfied"
denominator = "survey_sampled"
months = [1, 2]
minus = "satisfaction Jan 2019"
value = -0.0069
tolerance = 0.02
source = "facts.md: 91.31% against 92% (北京青年报 2021-12-20), here only as a test target"
[[calibration.targets]]
label = "distinct callers Dec 2018"
outcome = "distinct_callers_ytd"
months = [1, 1]
value = 3.0e5
tolerance = 1.0e5
per_population = true
source = "a test target (no published value for December 2018)"
{extra_targets}""")
    return p


def test_smc_command_on_a_tiny_history_run_writes_the_posterior(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["calibrate", str(smc_spec(tmp_path)), "--method", "smc", "--serial", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "ABC-SMC" in text and "2 generations" in text
    for name in ("smc_particles.csv", "smc_generations.csv", "posterior.csv", "fit.csv", "best.toml",
                 "posterior_mean.toml", "calibration.png", "smc.json", "smc_history.db"):
        assert (out / name).stat().st_size > 0
    assert not [p.name for p in out.iterdir() if p.name.startswith(".tmp")]
    parts = pd.read_csv(out / "smc_particles.csv")
    assert sorted(parts["t"].unique()) == [0, 1] and (parts.groupby("t").size() == 4).all()
    assert parts.groupby("t")["weight"].sum().to_numpy() == pytest.approx([1.0, 1.0])
    assert parts["world.survey.explain_persistence"].between(0, 1).all()
    assert np.isfinite(parts["survey - callback"]).all() and (parts["distinct callers Dec 2018"] > 0).all()
    gens = pd.read_csv(out / "smc_generations.csv")
    assert gens["epsilon"].iloc[1] <= gens["epsilon"].iloc[0] and gens["acceptance"].between(0, 1).all()
    post = pd.read_csv(out / "posterior.csv").set_index("parameter")
    assert set(post.index) == {"world.citizens.pressure_effect", "world.survey.explain_persistence"}
    import tomllib
    mean = tomllib.loads((out / "posterior_mean.toml").read_text())
    assert mean["world.citizens.pressure_effect"] == pytest.approx(post.loc["world.citizens.pressure_effect", "mean"],
                                                                   rel=1e-3)


@pytest.mark.parametrize("smc, flags, message", [
    ("population_size = 2", [], "population_size"),
    ("epsilon_quantile = 1.5", [], "epsilon_quantile"),
    ("generations = 2\nepsilons = [1.0]", [], "one per generation"),
    ("generations = 2\nepsilons = [1.0, 2.0]", [], "non-increasing"),
    ("popsize = 10", [], "popsize"),
    ("seed = -1", [], "seed"),
    ("", ["--population", "0"], "--population"),
    ("", ["--accept", "0.5"], "--accept: only with --method rejection"),
    ("", ["--dask-local", "2"], "--dask-local"),
])
def test_bad_smc_settings_give_one_line_and_exit_2(tmp_path, capsys, smc, flags, message):
    p = smc_spec(tmp_path, smc=smc)
    out = tmp_path / "o"
    assert main(["calibrate", str(p), "--method", "smc", "--serial", "--out", str(out), *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert not out.exists()


def test_smc_flags_are_refused_for_rejection(tmp_path, capsys):
    assert main(["calibrate", str(write_spec(tmp_path)), "--serial", "--population", "10",
                 "--out", str(tmp_path / "o")]) == 2
    assert "--population: only with --method smc" in capsys.readouterr().err


@pytest.mark.slow
def test_smc_of_the_real_model_on_one_core_is_reproducible(tmp_path):
    """Two ABC-SMC runs of the tiny history replay with the same seed on one core: identical particles,
    weights, distances and statistics (each run's seed comes from the seeded global generator)."""
    spec, arms = load_spec(smc_spec(tmp_path))
    arm, cal = next(iter(arms.values())), spec.calibration
    prior = {k: tuple(f.range) for k, f in spec.factors.items()}

    def once():
        return S.run_smc(S.ScenarioSimulator(arm, cal, spec.outcomes.monthly), {t.label: t.value for t in cal.targets},
                         S.Misfit(cal), prior, cal.smc)

    a, b = once(), once()
    pd.testing.assert_frame_equal(a.particles, b.particles)
    pd.testing.assert_frame_equal(a.generations, b.generations)


@pytest.mark.parametrize("name, factors", [
    ("spec_survey.toml", {"world.citizens.pressure_effect", "world.survey.explain_persistence"}),
    ("spec_launch.toml", {"world.capacity.ratio", "world.citizens.initial_expectation", "world.citizens.contact_effect",
                          "world.citizens.explain_persuasion", "world.handling.solve_prob",
                          "world.behaviour.consequence_step"})])
def test_the_conditional_rounds_fit_the_same_targets_as_the_full_calibration(name, factors):
    """spec_survey.toml (rounds 9-11) and spec_launch.toml (round 12) copy spec.toml's targets, since a
    sweep spec cannot extend another: they must stay in step, or the rounds' fits are not comparable;
    and their factors keep spec.toml's ranges (the same priors)."""
    study = Path(__file__).resolve().parents[1] / "experiments" / "studies" / "history_calibration"
    full, _ = load_spec(study / "spec.toml")
    part, _ = load_spec(study / name)
    assert part.calibration.targets == full.calibration.targets
    assert set(part.factors) == factors
    assert all(part.factors[k] == full.factors[k] for k in part.factors)
