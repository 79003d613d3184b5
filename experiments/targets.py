"""The ``[calibration]`` table of a sweep spec: published targets (schema and checks only).

Kept apart from experiments/calibrate.py, which needs pandas, so that reading and refusing
a spec stays fast (``jiesu sweep BAD.toml`` answers before pandas loads).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from model import ScenarioError
from model.calendar import month_of


class Target(BaseModel):
    """One published figure the model should reproduce."""

    model_config = ConfigDict(extra="forbid")
    label: str
    outcome: str
    months: tuple[int, int]
    value: float
    tolerance: float = Field(gt=0)
    per_population: bool = False
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _months(self):
        if not 0 <= self.months[0] <= self.months[1]:
            raise ValueError(f"months must be [first, last] with 0 <= first <= last (got {list(self.months)})")
        return self


class Calibration(BaseModel):
    model_config = ConfigDict(extra="forbid")
    accept: float = Field(0.1, gt=0, le=1, description="share of design rows kept as the posterior sample")
    targets: list[Target] = Field(min_length=1)


def check_targets(cal: Calibration, monthly: dict[str, str], days: int, source: str) -> None:
    """Every target must name a kept monthly outcome and months the runs cover."""
    last_month = month_of(days - 1)          # the month of the last day (index days - 1)
    for i, t in enumerate(cal.targets):
        where = f"{source}: calibration.targets[{i}] ({t.label})"
        if t.outcome not in monthly:
            raise ScenarioError(f"{where}: outcome {t.outcome!r} is not kept; add it to [outcomes] monthly "
                                f"(kept: {', '.join(monthly) or 'none'})")
        if t.months[1] > last_month:
            raise ScenarioError(f"{where}: months: the runs last {days} days (months 0..{last_month}), "
                                f"got {list(t.months)}")
