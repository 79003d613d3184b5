"""Shared helpers and fixtures for the core-model tests.

Small worlds only (scale 0.001-0.003, days <= 45), thinned (``city.sampling = "thin"``):
all 343 townships at reduced volume, so a small run exercises every mechanism on the
whole structure. (A reduced scale is otherwise a sample of whole townships, model/sample.py;
tests/test_scale.py checks that one.) Runs shared by several tests are cached per process and
must be treated as read-only (never step a cached model further).

Statistical tolerances are derived from the sampling distribution (binomial or Poisson
standard deviations, ``K_SD`` of them), never copied from a run's output.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from model import Model, intake, load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
FINAL = SCENARIOS / "final_2021.toml"
JIESU = ROOT / ".venv" / "bin" / "jiesu"
K_SD = 4.0          # tolerance in standard deviations: false-alarm rate ~6e-5 per check


def config_from(overrides: dict | None = None, scale: float = 0.002, days: int = 35):
    """final_2021 at a small scale, with dotted-key overrides."""
    return load_scenario(FINAL, overrides={"city.scale": scale, "city.days": days, "city.sampling": "thin",
                                           **(overrides or {})})


def model(overrides: dict | None = None, seed: int = 1, scale: float = 0.002, days: int = 35) -> Model:
    """A fresh (not yet run) model."""
    return Model(config_from(overrides, scale=scale, days=days), seed=seed)


@functools.lru_cache(maxsize=32)
def _ran(overrides: tuple, seed: int, scale: float, days: int) -> Model:
    m = model(dict(overrides), seed=seed, scale=scale, days=days)
    m.run(days)
    return m


def ran(overrides: dict | None = None, seed: int = 1, scale: float = 0.002, days: int = 35) -> Model:
    """A model run for ``days`` days, cached per process (read-only!)."""
    return _ran(tuple(sorted((overrides or {}).items())), seed, scale, days)


def binomial_tolerance(n: int, p: float, k: float = K_SD) -> float:
    """Tolerance on an observed share of ``n`` Bernoulli(p) trials."""
    return k * np.sqrt(max(p * (1 - p), 1e-12) / max(n, 1))


def draw_day(m: Model, day: int = 0) -> dict:
    """Today's demand draw of a fresh model (no state change)."""
    season = m.city.categories.season(m.calendar_month(), m.cfg.world.demand.seasonality)
    return m.demand.draw(day, season, m.citizens.township_trust(), m.sources, m.streams)


def drawn_requests(m, days=range(5)) -> dict:
    """Described and triaged requests of several days' draws from the same (fresh) state."""
    parts = []
    for d in days:
        req = intake.describe_requests(draw_day(m, d)["requests"], m)
        req["divert"] = intake.triage(req, m)
        parts.append(req)
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


# ---------------------------------------------------------------------------------------------
# The history replay to late 2021, made once (classroom/runs.py replay_state) and kept between test sessions in
# .pytest_cache (a state records the model's code fingerprint: another model's is remade, model/state.py)
LATE_2021_SCALE = 0.005            # the app's smallest scale: the replay takes a few seconds


@pytest.fixture(scope="session")
def late_2021_states():
    """A directory holding the classroom app's late-2021 state at scale 0.005, seed 1 (built under a file
    lock, so the pytest-xdist workers make it once between them)."""
    import fcntl
    import sys

    sys.path.insert(0, str(ROOT))
    from classroom import runs  # the app's runs (app.py is the page)

    where = ROOT / ".pytest_cache" / "jiesu-states"
    where.mkdir(parents=True, exist_ok=True)
    saved = runs.STATES
    with open(where / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            runs.STATES = where
            runs.replay_state(LATE_2021_SCALE, 1)
        finally:
            runs.STATES = saved
            fcntl.flock(lock, fcntl.LOCK_UN)
    return where
