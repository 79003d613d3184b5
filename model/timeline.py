"""Dated rule and world changes (``[[timeline]]``): the history replay's calendar of reforms.

A timeline entry changes dotted keys at a month of the run, at once or phased in over
several months (equal monthly steps of decimal values). :class:`Timeline` owns that
calendar: each month it returns the config now in force, and the model hands it to every
mechanism through ``reconfigure`` (model.py), so a change reaches every mechanism from
that month on.

Some keys build the model's structure or its initial state (the city, the residents'
reporting classes, initial trust and effort). No mechanism applies a later change of
them, so a timeline that names one is refused when the scenario is loaded.
"""

from __future__ import annotations

from .config import Config

# keys (or whole tables, ending in ".") that are read only when the model is built
SETUP_ONLY = (
    "city.",
    "world.demand.consultation_share", "world.demand.unreasonable_share",
    "world.demand.neighbourhood_spread", "world.demand.need_reporting_correlation",
    "world.demand.caller_tail_shape", "world.demand.need_spread", "world.demand.township_pop_sigma",
    "world.sources.calibration_resolution",
    "world.citizens.initial_trust", "world.citizens.initial_expectation",
    "world.capacity.township_load_spread", "world.capacity.unit_load_spread",
    "world.behaviour.effort_resolve", "world.behaviour.effort_satisfy", "world.behaviour.effort_game",
    "world.behaviour.effort_proactive", "world.behaviour.effort_heterogeneity",
)


def setup_only(key: str) -> bool:
    """Whether ``key`` is read only when the model is built (a timeline cannot change it)."""
    return any(key == k or (k.endswith(".") and key.startswith(k)) for k in SETUP_ONLY)


def refused_key(overrides: dict) -> str | None:
    """The first timeline key no mechanism applies, or None."""
    return next((k for k in overrides if setup_only(k)), None)


def _dotted_get(data: dict, key: str):
    """The value at a dotted key of a nested dict (a config dump)."""
    for part in key.split("."):
        data = data[part]
    return data


class Timeline:
    """The scenario's dated changes; ``rule_changes`` records what took effect when."""

    def __init__(self, base: Config):
        self.base = base
        self.ramps: dict[str, tuple] = {}     # keys being phased in: key -> (start, end, first month, n)
        self.rule_changes: list[dict] = []

    def config_for(self, month: int, current: Config) -> Config | None:
        """The config in force from ``month`` on, or None when nothing changes this month."""
        from .scenario import deep_merge, dotted_to_nested, validate

        entries = [e for e in self.base.timeline if e.month == month]
        if not entries and not self.ramps:
            return None
        data = current.model_dump(mode="json")
        for e in entries:
            at_once = {}
            for key, value in e.overrides.items():
                now = _dotted_get(data, key)
                if e.phase_in_months > 1 and isinstance(now, float) and isinstance(value, (int, float)) \
                        and not isinstance(value, bool):
                    self.ramps[key] = (now, float(value), month, e.phase_in_months)
                else:
                    at_once[key] = value
                    self.ramps.pop(key, None)          # a later change of the same key ends its phase-in
            data = deep_merge(data, dotted_to_nested(at_once))
            self.rule_changes.append({"month": month, "label": e.label, "overrides": dict(e.overrides),
                                      "phase_in_months": e.phase_in_months})
        steps = {}
        for key, (start, end, first, n) in list(self.ramps.items()):
            k = month - first + 1
            steps[key] = start + (end - start) * min(k, n) / n
            if k >= n:
                del self.ramps[key]
        data = deep_merge(data, dotted_to_nested(steps))
        data["timeline"] = []
        return validate(data, self.base.name)
