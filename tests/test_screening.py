"""The Morris screening of the history calibration (experiments/studies/history_calibration/screen.py):
a known response gives back its effects, and the noise floor is what replicates differ by."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("screen", ROOT / "experiments/studies/history_calibration/screen.py")
screen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(screen)


@pytest.fixture(scope="module")
def plan():
    return screen.screening_plan(screen.SPEC, trajectories=3, levels=4, scale=0.02)


def test_the_screening_plan_is_the_calibration_spec_as_a_morris_design(plan):
    n_factors = len(plan.spec.factors)
    assert plan.spec.design.method == "morris" and len(plan.design) == 3 * (n_factors + 1)
    assert plan.spec.replicates == 1 and len({t.seed for t in plan.tasks}) == len(plan.tasks)   # a seed per point
    assert all(t.config.city.scale == 0.02 for t in plan.tasks)
    assert plan.spec.calibration.targets and list(plan.spec.factors) == list(screen.load_spec(screen.SPEC)[0].factors)


def _fake_targets(plan, monkeypatch, response):
    """Replace the runs' statistics by ``response(design)`` in tolerances off each target."""
    cal = plan.spec.calibration
    value = np.array([t.value for t in cal.targets])
    tol = np.array([t.tolerance for t in cal.targets])

    def simulated(runs, cal_, monthly, scale):
        z = response(plan.design.loc[runs["row"].to_numpy()].reset_index(drop=True))
        return pd.DataFrame(value + z * tol, index=runs.index, columns=[t.label for t in cal.targets])

    monkeypatch.setattr(screen, "simulated", simulated)
    return pd.DataFrame({"row": np.arange(len(plan.design)), "replicate": 0, "error": None})


def test_a_target_moved_by_one_factor_shows_that_factor_alone(plan, monkeypatch):
    key = "world.citizens.pressure_effect"
    lo, hi = plan.spec.factors[key].range
    n_targets = len(plan.spec.calibration.targets)
    first = plan.spec.calibration.targets[0].label

    def response(design):          # the first target moves 3 tolerances over the factor's range
        z = np.zeros((len(design), n_targets))
        z[:, 0] = 3.0 * (design[key].to_numpy() - lo) / (hi - lo)
        return z

    eff = screen.target_effects(plan, _fake_targets(plan, monkeypatch, response), 0.02)
    on_first = eff[eff["target"] == first].set_index("factor")["mu_star"]
    assert on_first[key] == pytest.approx(3.0, rel=1e-6)          # mu*: the change over the whole range
    assert (on_first.drop(key) == 0).all()
    others = eff[(eff["target"] != first) & (eff["target"] != screen.DISTANCE)]
    assert (others["mu_star"] == 0).all()


def test_the_noise_floor_is_the_replicates_difference_over_the_morris_step(monkeypatch):
    noise = screen.noise_plan(screen.SPEC, pairs=4, scale=0.02)
    cal = noise.spec.calibration
    labels = [t.label for t in cal.targets]
    value = np.array([t.value for t in cal.targets])
    tol = np.array([t.tolerance for t in cal.targets])
    runs = pd.DataFrame({"row": np.repeat(np.arange(4), 2), "replicate": np.tile([0, 1], 4), "error": None})

    def simulated(r, cal_, monthly, scale):   # replicate 1 sits 0.5 tolerances above replicate 0 on every target
        return pd.DataFrame(value + (0.5 * r["replicate"].to_numpy())[:, None] * tol, index=r.index, columns=labels)

    monkeypatch.setattr(screen, "simulated", simulated)
    floor = screen.noise_floor(noise, runs, 0.02, levels=4)
    step = 4 / (2 * 3)
    assert floor[labels[0]] == pytest.approx(0.5 / step) and floor[labels[-1]] == pytest.approx(0.5 / step)
