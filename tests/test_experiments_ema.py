"""The EMA Workbench adapter runs perform_experiments on the real model (optional extra [ema])."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("ema_workbench")

from ema_workbench import SequentialEvaluator  # noqa: E402

from experiments.ema import jiesu_model  # noqa: E402
from model import ScenarioError, load_scenario, run_one  # noqa: E402

FIXED = {"city.scale": 0.002, "city.days": 15}


def test_perform_experiments_runs_levers_against_uncertainties_with_paired_seeds():
    model = jiesu_model("final_2021.toml", fixed=FIXED, replications=2, root_seed=3,
                        levers={"rules.audit.sample_share": (0.0, 0.2),
                                "rules.assessment.resolved_by": ["requester", "unit_report"]},
                        uncertainties={"world.capacity.ratio": (0.9, 1.4)},
                        outcomes=["contacts", "resolution_rate"])
    with SequentialEvaluator(model) as ev:
        experiments, outcomes = ev.perform_experiments(scenarios=2, policies=2)
    assert len(experiments) == 4 and outcomes["contacts"].shape == (4,)
    assert np.isfinite(outcomes["resolution_rate"]).all()
    # one experiment re-run by hand: the mean over the two replication seeds
    e = experiments.iloc[0]
    over = {**FIXED, "rules.audit.sample_share": float(e["rules__audit__sample_share"]),
            "rules.assessment.resolved_by": e["rules__assessment__resolved_by"],
            "world.capacity.ratio": float(e["world__capacity__ratio"])}
    cfg = load_scenario("final_2021.toml", overrides=over)
    seeds = [r["seed"] for r in model.replications]
    assert outcomes["contacts"][0] == pytest.approx(np.mean([run_one(cfg, s).summary["contacts"] for s in seeds]))


def test_levers_must_be_rules_and_ranges_must_fit_the_schema():
    with pytest.raises(ScenarioError, match="levers are rules"):
        jiesu_model(fixed=FIXED, levers={"world.capacity.ratio": (1.0, 1.2)})
    with pytest.raises(ScenarioError, match="outside the allowed range"):
        jiesu_model(fixed=FIXED, uncertainties={"world.capacity.ratio": (1.0, 9.0)})


def test_outcomes_are_checked_against_the_registry_without_running_the_model(monkeypatch):
    import model as model_pkg
    from model.outcomes import numeric_summary

    def boom(*_a, **_k):
        raise AssertionError("jiesu_model built a model (a probe run)")

    monkeypatch.setattr(model_pkg.Model, "__init__", boom)
    m = jiesu_model(fixed=FIXED, outcomes=["contacts", "topics_of_the_month"])
    assert [o.name for o in m.outcomes] == ["contacts", "topics_of_the_month"]
    with pytest.raises(ScenarioError, match=r"'scenario' is not a numeric summary figure") as err:
        jiesu_model(fixed=FIXED, outcomes=["scenario"])               # registered, but a name
    assert ", ".join(numeric_summary()) in str(err.value)
    with pytest.raises(ScenarioError, match=r"'contactz' is not a numeric summary figure"):
        jiesu_model(fixed=FIXED, outcomes=["contactz"])
