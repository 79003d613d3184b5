"""jiesu: an agent-based model of Beijing's 接诉即办 (immediate response to requests) system.

Public interface (DESIGN.md)::

    from model import Model, load_scenario, run_one
    cfg = load_scenario("scenarios/final_2021.toml", overrides={"city.scale": 0.05})
    m = Model(cfg, seed=7); m.run(days=365); res = m.results()

The names are loaded when first used (PEP 562), so ``import model`` or
``from model.scenario import load_scenario`` costs only what it needs: reading and checking
a scenario imports pydantic and the schema, not Mesa, SciPy or pandas (``jiesu validate``
and the command line's refusals answer at once).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:   # for type checkers and IDEs; at run time these load on first use
    from .config import Config
    from .errors import InputError
    from .model import Model
    from .results import Results
    from .scenario import ScenarioError, config_hash, load_scenario, with_overrides

_LAZY = {
    "Config": "config",
    "InputError": "errors",
    "Model": "model",
    "Results": "results",
    "ScenarioError": "scenario",
    "config_hash": "scenario",
    "load_scenario": "scenario",
    "with_overrides": "scenario",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'model' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value          # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


def run_one(config: Config | dict, seed: int, days: int | None = None) -> Results:
    """Run one replicate: a picklable top-level function for any executor (DESIGN.md)."""
    from .model import Model
    from .scenario import validate

    if isinstance(config, dict):
        config = validate(config)
    model = Model(config, seed=seed)
    model.run(days)
    return model.results()


__all__ = ["Config", "InputError", "Model", "Results", "ScenarioError", "config_hash", "load_scenario",
           "run_one", "with_overrides"]
