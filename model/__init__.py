"""jiesu: an agent-based model of Beijing's 接诉即办 (immediate response to requests) system.

Public interface (DESIGN.md)::

    from model import Model, load_scenario, run_one
    cfg = load_scenario("scenarios/final_2021.toml", overrides={"city.scale": 0.05})
    m = Model(cfg, seed=7); m.run(days=365); res = m.results()
"""

from .config import Config
from .model import Model
from .results import Results
from .scenario import ScenarioError, config_hash, load_scenario, with_overrides


def run_one(config: Config | dict, seed: int, days: int | None = None) -> Results:
    """Run one replicate: a picklable top-level function for any executor (DESIGN.md)."""
    if isinstance(config, dict):
        from .scenario import validate

        config = validate(config)
    model = Model(config, seed=seed)
    model.run(days)
    return model.results()


__all__ = ["Config", "Model", "Results", "ScenarioError", "config_hash", "load_scenario", "run_one",
           "with_overrides"]
