"""EMA Workbench adapter: the model as a ``ReplicatorModel`` (optional extra ``[ema]``).

Exploratory Modelling and Analysis splits inputs the way our scenarios do: ``rules.*``
keys become *levers* (what the drafter chooses) and ``world.*`` keys *uncertainties*
(how the city might be); the summary figures become ``ScalarOutcome``s, averaged over
replications. Every experiment reuses the same replication seeds (from the root seed via
:func:`experiments.seeds.run_seed`), so policies are compared on common random numbers.
With it, ``perform_experiments``, PRIM and CART run on the model unchanged::

    from experiments.ema import jiesu_model
    from ema_workbench import perform_experiments
    m = jiesu_model("final_2021.toml", fixed={"city.scale": 0.01, "city.days": 120},
                    levers={"rules.audit.sample_share": (0.0, 0.2)},
                    uncertainties={"world.capacity.ratio": (0.8, 1.4)},
                    outcomes=["true_resolution_rate", "measured_true_gap"], replications=3)
    experiments, outcomes = perform_experiments(m, scenarios=16, policies=4)

Outcome names are checked against the outcome registry (model/outcomes.py,
``numeric_summary()``); nothing is run to discover them.

EMA names must be Python identifiers, so dots become double underscores
(``rules__audit__sample_share``); :func:`to_key` turns them back.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from model import ScenarioError, load_scenario, run_one
from model.outcomes import numeric_summary

from .seeds import run_seed
from .spec import Factor, check_factor, resolve_scenario

SEP = "__"


def to_name(key: str) -> str:
    """A dotted scenario key as an EMA parameter name (a Python identifier)."""
    return key.replace(".", SEP)


def to_key(name: str) -> str:
    return name.replace(SEP, ".")


def run_for_ema(scenario: str, fixed: str, seed: int, **params) -> dict:
    """One replication as EMA calls it: parameters by EMA name, returns the summary figures."""
    overrides = {**json.loads(fixed), **{to_key(k): (v.item() if hasattr(v, "item") else v)
                                         for k, v in params.items()}}
    return run_one(load_scenario(scenario, overrides=overrides), seed=int(seed)).summary


def _parameter(key: str, spec, role: str):
    from ema_workbench import BooleanParameter, CategoricalParameter, IntegerParameter, RealParameter

    factor = Factor(levels=list(spec)) if isinstance(spec, list) else Factor(range=tuple(spec))
    try:
        kind = check_factor(key, factor, "lhs" if factor.range is not None else "grid")
    except ValueError as err:
        raise ScenarioError(f"ema {role}: {key}: {err}") from None
    name = to_name(key)
    if factor.levels is not None:
        if kind == "bool" and sorted(factor.levels) == [False, True]:
            return BooleanParameter(name)
        return CategoricalParameter(name, factor.levels)
    lo, hi = factor.range
    if kind == "int":
        return IntegerParameter(name, int(lo), int(hi))
    return RealParameter(name, float(lo), float(hi))


def jiesu_model(scenario: str = "final_2021.toml", *, levers: dict | None = None,
                uncertainties: dict | None = None, outcomes: list[str] | None = None,
                fixed: dict | None = None, replications: int = 3, root_seed: int = 0,
                name: str = "jiesu"):
    """A ``ReplicatorModel`` of one scenario file.

    ``levers`` (``rules.*`` keys) and ``uncertainties`` (``world.*`` keys) map a dotted key to
    ``(low, high)`` or to a list of levels; ranges are checked against the scenario schema.
    ``fixed`` overrides are applied to every run (e.g. ``city.scale``, ``city.days``).
    ``outcomes`` are numeric summary figures of the outcome registry (an unknown name is one
    ScenarioError line listing the allowed names).
    """
    from ema_workbench import Constant, ReplicatorModel, ScalarOutcome

    levers, uncertainties, fixed = levers or {}, uncertainties or {}, fixed or {}
    for key in levers:
        if not key.startswith("rules."):
            raise ScenarioError(f"ema levers: {key}: levers are rules.* keys (what policy chooses)")
    for key in uncertainties:
        if not key.startswith("world."):
            raise ScenarioError(f"ema uncertainties: {key}: uncertainties are world.* keys (how the city might be)")
    try:
        path = str(resolve_scenario(str(scenario), Path.cwd()))   # absolute: workers may run elsewhere
    except ValueError as err:
        raise ScenarioError(f"ema scenario: {err}") from None
    base = load_scenario(path, overrides=fixed)              # fails early, one line, if anything is wrong
    numeric = numeric_summary()                              # the outcome registry, model/outcomes.py
    outcomes = outcomes or ["resolution_rate", "satisfaction_rate", "true_resolution_rate",
                            "measured_true_gap", "overdue_share", "source_stock_change"]
    bad = [o for o in outcomes if o not in numeric]
    if bad:
        raise ScenarioError(f"ema outcomes: {bad[0]!r} is not a numeric summary figure ({', '.join(numeric)})")
    m = ReplicatorModel(name, function=run_for_ema)
    m.levers = [_parameter(k, v, "levers") for k, v in levers.items()]
    m.uncertainties = [_parameter(k, v, "uncertainties") for k, v in uncertainties.items()]
    m.constants = [Constant("scenario", path), Constant("fixed", json.dumps(fixed, sort_keys=True))]
    m.outcomes = [ScalarOutcome(o, function=np.mean) for o in outcomes]
    m.replications = [{"seed": run_seed(root_seed, 0, r)} for r in range(replications)]
    m.jiesu_base_name = base.name
    return m
