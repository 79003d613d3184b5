"""Shared runs for the pattern tests (literature.md, "Patterns a credible model must reproduce").

Arms are run on the same seeds (common random numbers), so paired differences are tight.
Tolerances come from the replicates: a difference must exceed ``K_SE`` standard errors of
the paired differences, never a number copied from an earlier run.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from model import Model, kernels, load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
SCALE, DAYS, REPS, K_SE = 0.01, 300, 3, 2.0
# Tests that read the baseline runs (final_2021, seed 1 and seeds 100-102) can share one pytest-xdist worker
# (``pytest -n 2 --dist loadgroup``), so the per-process cache makes those runs once; `make test` uses xdist's
# work stealing instead (measured 2026-12-02: loadgroup put the long pattern tests on one worker, suite 587 s;
# worksteal keeps both workers busy to the end: suite 343 -> 259 s, with the kernels of simulate() below)
SHARES_BASELINE = pytest.mark.xdist_group("pattern_baseline_runs")


# City-wide comparisons of rule sets (patterns 2 and 9) run on the sampled city (model/sample.py), whose
# townships carry their full volume: the thinned city's small queues under-show what units do in answer
# to sanctions and audit (measured 2026-12-02, seeds 100-102, one year: harsh - base gap +0.15 points
# (se 0.09) thinned at 0.01, +1.4 (se 0.3) sampled at 0.02).
SAMPLED = {"scale": 0.02, "sampling": "townships"}


@functools.lru_cache(maxsize=64)
def _run(scenario: str, overrides: tuple, seed: int, days: int, scale: float, sampling: str) -> Model:
    # By default the thinned city (all 343 townships at reduced volume, city.sampling = "thin"): several
    # patterns compare groups of units within one run (units near the remedial line, overloaded
    # townships, unequal reporting), which needs the 343 townships; at 0.01 the sampled city has
    # 16 (model/sample.py) and 7 of these tests lose their power or their regime there.
    cfg = load_scenario(SCENARIOS / scenario, overrides={"city.scale": scale, "city.sampling": sampling,
                                                         **dict(overrides)})
    return simulate(cfg, seed, days)


def simulate(cfg, seed: int, days: int) -> Model:
    """A model run on the compiled kernels at every size (the same bits as the numpy path,
    tests/test_speed_paths.py): the pattern runs are the suite's largest cost, and the kernels
    take ~15% off a small city's day (issue 13 item 5)."""
    with kernels.forced(True):
        m = Model(cfg, seed=seed)
        m.run(days)
    return m


def run(scenario: str = "final_2021.toml", overrides: dict | None = None, seed: int = 1,
        days: int = DAYS, scale: float = SCALE, sampling: str = "thin") -> Model:
    """One model run, cached per process so several tests can share it."""
    return _run(scenario, tuple(sorted((overrides or {}).items())), seed, days, scale, sampling)


def summaries(scenario: str = "final_2021.toml", overrides: dict | None = None, reps: int = REPS,
              **kw) -> list[dict]:
    return [run(scenario, overrides, seed=100 + r, **kw).results().summary for r in range(reps)]


def paired(a: list[dict], b: list[dict], key: str) -> tuple[float, float]:
    """Mean and standard error of the paired difference b - a over replicates."""
    d = np.array([y[key] - x[key] for x, y in zip(a, b)], dtype=float)
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else 0.0


def assert_larger(a: list[dict], b: list[dict], key: str) -> None:
    """b's `key` exceeds a's by more than K_SE standard errors of the paired difference."""
    mean, se = paired(a, b, key)
    assert mean > K_SE * se and mean > 0, f"{key}: paired difference {mean:.4f} (se {se:.4f}) not clearly > 0"
