"""The ``[calibration]`` table of a sweep spec: published targets and the ABC-SMC settings
(schema and checks only).

Kept apart from experiments/calibrate.py, which needs pandas, so that reading and refusing
a spec stays fast (``jiesu sweep BAD.toml`` answers before pandas loads).

A target's statistic is computed from a run's monthly series (experiments/calibrate.py,
``statistics``), the same way for the rejection path over a stored sweep and for ABC-SMC:

- plain: the series of ``outcome`` over ``months``, summed when it is aggregated with
  "sum", else averaged; ``per_population`` divides by ``city.scale``;
- a ratio (``denominator``): sum of ``outcome`` over sum of ``denominator`` over ``months``
  (both kept with "sum"), e.g. satisfied over sampled in the independent survey;
- a difference (``minus``): this target's statistic less the statistic of the target
  labelled ``minus`` (one level, no chains), e.g. the third-party survey less the hotline's
  own callback satisfaction, where definitions differ less than between levels.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from model import ScenarioError
from model.calendar import month_of


class Target(BaseModel):
    """One published figure the model should reproduce."""

    model_config = ConfigDict(extra="forbid")
    label: str = Field(min_length=1)
    outcome: str
    months: tuple[int, int]
    value: float
    tolerance: float = Field(gt=0)
    per_population: bool = False
    denominator: str | None = Field(None, description="a ratio: sum of outcome / sum of this kept monthly column")
    minus: str | None = Field(None, description="a difference: less the statistic of the target with this label")
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _months(self):
        if not 0 <= self.months[0] <= self.months[1]:
            raise ValueError(f"months must be [first, last] with 0 <= first <= last (got {list(self.months)})")
        if self.denominator and self.per_population:
            raise ValueError("a ratio (denominator) cannot also be per_population")
        return self


class SMC(BaseModel):
    """ABC-SMC settings (pyabc; experiments/smc.py). The factors' ranges are uniform priors."""

    model_config = ConfigDict(extra="forbid")
    population_size: int = Field(40, ge=4, le=100_000, description="accepted particles per generation")
    generations: int = Field(3, ge=1, le=100, description="most generations (pyabc max_nr_populations)")
    epsilon_quantile: float = Field(0.5, gt=0, lt=1, description="each generation's threshold: this quantile of "
                                    "the previous generation's distances (pyabc QuantileEpsilon alpha)")
    epsilons: list[float] | None = Field(None, description="a fixed decreasing schedule instead (one per generation)")
    min_epsilon: float = Field(0.0, ge=0, description="stop once the threshold is at or below this")
    max_simulations: int | None = Field(None, ge=1, description="no new generation once this many simulations "
                                        "are spent (CPU budget; pyabc checks it between generations)")
    seed: int = Field(20190101, ge=0, lt=2 ** 32, description="seeds numpy's global generator that pyabc draws from")
    scale: float | None = Field(None, gt=0, le=1, description="city.scale of the SMC's runs (default: the spec's)")

    @model_validator(mode="after")
    def _schedule(self):
        if self.epsilons is not None:
            if len(self.epsilons) != self.generations:
                raise ValueError(f"epsilons: one per generation ({self.generations}), got {len(self.epsilons)}")
            if any(e <= 0 for e in self.epsilons) or any(b > a for a, b in zip(self.epsilons, self.epsilons[1:])):
                raise ValueError(f"epsilons must be positive and non-increasing, got {self.epsilons}")
        return self


class Calibration(BaseModel):
    model_config = ConfigDict(extra="forbid")
    accept: float = Field(0.1, gt=0, le=1, description="share of design rows kept as the posterior sample")
    smc: SMC = Field(default_factory=SMC)
    targets: list[Target] = Field(min_length=1)

    @model_validator(mode="after")
    def _labels(self):
        labels = [t.label for t in self.targets]
        dup = sorted({x for x in labels if labels.count(x) > 1})
        if dup:
            raise ValueError(f"targets: label {dup[0]!r} is used twice (labels name the statistics)")
        by_label = {t.label: t for t in self.targets}
        for t in self.targets:
            if t.minus is None:
                continue
            ref = by_label.get(t.minus)
            if ref is None or ref is t:
                raise ValueError(f"targets ({t.label}): minus: {t.minus!r} is not the label of another target "
                                 f"(labels: {', '.join(labels)})")
            if ref.minus is not None:
                raise ValueError(f"targets ({t.label}): minus: {t.minus!r} is itself a difference; one level only")
        return self


def check_targets(cal: Calibration, monthly: dict[str, str], days: int, source: str) -> None:
    """Every target must name kept monthly outcomes and months the runs cover."""
    last_month = month_of(days - 1)          # the month of the last day (index days - 1)
    for i, t in enumerate(cal.targets):
        where = f"{source}: calibration.targets[{i}] ({t.label})"
        for key, col in (("outcome", t.outcome), ("denominator", t.denominator)):
            if col is not None and col not in monthly:
                raise ScenarioError(f"{where}: {key} {col!r} is not kept; add it to [outcomes] monthly "
                                    f"(kept: {', '.join(monthly) or 'none'})")
        if t.denominator is not None and not (monthly[t.outcome] == monthly[t.denominator] == "sum"):
            raise ScenarioError(f"{where}: a ratio needs outcome and denominator kept with \"sum\" in [outcomes] "
                                f"monthly (got {monthly[t.outcome]!r} and {monthly[t.denominator]!r})")
        if t.months[1] > last_month:
            raise ScenarioError(f"{where}: months: the runs last {days} days (months 0..{last_month}), "
                                f"got {list(t.months)}")
