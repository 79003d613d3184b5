"""Sweep specifications: a TOML file naming rule arms, factors, design, replicates, outcomes.

A sweep spec says *what* to run; the executor says *where*. Everything is checked before a
single run starts or a single file is written, and a problem is one :class:`ScenarioError`
line naming the spec file, the key and what is allowed (exit code 2 in the CLI), exactly
as for scenario files. Factor keys must exist in the scenario schema (model/config.py)
and their ranges or levels must lie within the field's bounds, so a misspelt or
impossible factor can never be silently ignored. Example::

    name = "rules_by_world"
    scenarios = ["../scenarios/final_2021.toml"]   # rule arms (relative to this file)
    replicates = 3
    seed = 20211224                               # root of every random number in the sweep
    [set]                                         # fixed overrides for every arm
    "city.scale" = 0.05
    [design]
    method = "lhs"                                # grid | lhs | sobol | morris
    samples = 16
    [factors]
    "world.demand.contacts_per_capita_year" = { range = [0.8, 1.5] }
    "rules.audit.sample_share" = { levels = [0.02, 0.1] }   # grid only
    [outcomes]
    summary = ["resolution_rate", "true_resolution_rate"]
    monthly = { contacts = "sum", resolution_rate = "mean" }
    [executor]
    kind = "process"                              # process | serial | dask
    workers = 2
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any, Literal

from annotated_types import Ge, Gt, Le
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from model import Config, ScenarioError, load_scenario
from model.scenario import SCENARIO_DIR, read_toml

from .targets import Calibration, check_targets

MONTHLY_AGG = ("sum", "mean", "last")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Factor(_Strict):
    """One swept key: a continuous ``range`` (lhs, sobol, morris, grid with ``steps``) or ``levels``."""

    range: tuple[float, float] | None = None
    levels: list[Any] | None = None
    steps: int | None = Field(None, ge=2, le=1000)

    @model_validator(mode="after")
    def _one_kind(self):
        if (self.range is None) == (self.levels is None):
            raise ValueError("give either range = [low, high] or levels = [...]")
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(f"range must be [low, high] with low < high (got {list(self.range)})")
        if self.levels is not None and len(self.levels) == 0:
            raise ValueError("levels must not be empty")
        return self


class Design(_Strict):
    method: Literal["grid", "lhs", "sobol", "morris"] = "grid"
    samples: int | None = Field(None, ge=1, le=1_000_000,
                                description="lhs: rows; sobol: base sample N (a power of two); morris: trajectories")
    calc_second_order: bool = False
    num_levels: int = Field(4, ge=2, le=100, description="morris grid levels")

    @model_validator(mode="after")
    def _samples(self):
        if self.method != "grid" and self.samples is None:
            raise ValueError(f"design.samples is required for method {self.method!r}")
        if self.method == "grid" and self.samples is not None:
            raise ValueError("design.samples is not used by a grid (its size is the product of the levels)")
        if self.method == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(f"sobol needs samples (N) to be a power of two, got {self.samples} "
                             f"(SALib's Sobol' sequence loses its balance properties otherwise)")
        return self


class Outcomes(_Strict):
    summary: list[str] | Literal["all"] = "all"
    monthly: dict[str, Literal["sum", "mean", "last"]] = {}


class Executor(_Strict):
    kind: Literal["process", "serial", "dask"] = "process"
    workers: int | None = Field(None, ge=1, le=4096)
    scheduler: str | None = None
    dask_local: int | None = Field(None, ge=1, le=4096)
    batch_size: int = Field(50, ge=1, le=100_000, description="runs per Parquet file")

    @model_validator(mode="after")
    def _dask_needs_a_cluster(self):
        if self.kind == "dask" and not (self.scheduler or self.dask_local):
            raise ValueError("kind = 'dask' needs scheduler = 'tcp://HOST:PORT' or dask_local = N")
        return self


class SweepSpec(_Strict):
    name: str = ""
    description: str = ""
    scenarios: list[str] = Field(min_length=1)
    replicates: int = Field(1, ge=1, le=100_000)
    seed: int = Field(0, ge=0, lt=2**63)
    set: dict[str, Any] = {}
    design: Design = Design()
    factors: dict[str, Factor] = {}
    outcomes: Outcomes = Outcomes()
    executor: Executor = Executor()
    calibration: Calibration | None = None   # published targets for `jiesu calibrate` (experiments/calibrate.py)


def schema_field(key: str):
    """The pydantic field for a dotted scenario key, or a ValueError saying what exists."""
    node: type[BaseModel] = Config
    parts = key.split(".")
    for i, part in enumerate(parts):
        fields = node.model_fields
        if part not in fields:
            where = ".".join(parts[:i]) or "(top level)"
            raise ValueError(f"not a scenario key ({part!r} is not in {where}; see model/config.py)")
        field = fields[part]
        ann = field.annotation
        if i == len(parts) - 1:
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                raise ValueError("is a table, not a value; sweep one of its keys")
            return field
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            raise ValueError(f"{'.'.join(parts[:i + 1])} is a value, not a table")
        node = ann
    raise ValueError("empty key")


def field_kind(field) -> str:
    """'float', 'int', 'bool', 'choice' or 'other' for a schema field."""
    ann = field.annotation
    if ann is bool:
        return "bool"
    if ann is int:
        return "int"
    if ann is float:
        return "float"
    if typing.get_origin(ann) is Literal:
        return "choice"
    return "other"


def field_bounds(field) -> tuple[float | None, float | None, bool]:
    """(low, high, low_is_strict) from the field's ge/gt/le constraints."""
    lo = hi = None
    strict = False
    for m in field.metadata:
        if isinstance(m, Ge):
            lo = m.ge
        elif isinstance(m, Gt):
            lo, strict = m.gt, True
        elif isinstance(m, Le):
            hi = m.le
    return lo, hi, strict


def _check_value(key: str, field, value) -> None:
    kind = field_kind(field)
    if kind == "bool" and not isinstance(value, bool):
        raise ValueError(f"{key} is true/false, got {value!r}")
    if kind == "choice":
        allowed = typing.get_args(field.annotation)
        if value not in allowed:
            raise ValueError(f"{key} must be one of {list(allowed)}, got {value!r}")
        return
    if kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{key} is a number, got {value!r}")
        if kind == "int" and float(value) != int(value):
            raise ValueError(f"{key} is a whole number, got {value!r}")
        lo, hi, strict = field_bounds(field)
        if lo is not None and (value <= lo if strict else value < lo):
            raise ValueError(f"{value} is outside the allowed range of {key} ({'>' if strict else '>='} {lo})")
        if hi is not None and value > hi:
            raise ValueError(f"{value} is outside the allowed range of {key} (<= {hi})")


def check_factor(key: str, factor: Factor, method: str) -> str:
    """Check one factor against the schema and the design; returns the field kind."""
    field = schema_field(key)
    kind = field_kind(field)
    if kind == "other":
        raise ValueError("lists and free-form keys cannot be swept; sweep a number, true/false or a choice")
    if factor.range is not None:
        if kind not in ("int", "float"):
            raise ValueError(f"a range needs a numeric key; {key} is {kind}: give levels = [...]")
        for v in factor.range:
            _check_value(key, field, v)
        if method == "grid" and factor.steps is None:
            raise ValueError("a grid factor with a range needs steps = N (or give levels)")
    else:
        if method != "grid":
            raise ValueError(f"design {method!r} samples ranges; give range = [low, high] (levels are for grids)")
        for v in factor.levels:
            _check_value(key, field, v)
    if method in ("sobol", "morris") and kind != "float":
        raise ValueError(f"{method} needs continuous factors; {key} is {kind} (use grid or lhs for it)")
    if factor.steps is not None and method != "grid":
        raise ValueError("steps is only used by grid designs")
    return kind


def resolve_scenario(name: str, spec_dir: Path) -> Path:
    """A scenario path: relative to the spec file, then the working directory, then scenarios/."""
    for cand in (spec_dir / name, Path(name), SCENARIO_DIR / name):
        if cand.exists():
            return cand.resolve()
    raise ValueError(f"scenario file not found: {name} (looked next to the spec, here and in scenarios/)")


def _explain(err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        msg = "unknown key (see experiments/README.md for the sweep spec format)"
    elif "input" in first and first["type"] not in ("value_error", "missing"):
        msg = f"{msg} (got {first['input']!r})"
    return f"{loc or '(top level)'}: {msg}"


def load_spec(path: str | Path) -> tuple[SweepSpec, dict[str, Config]]:
    """Read and check a sweep spec; returns it and its rule arms (resolved base configs by name)."""
    path = Path(path)
    raw = read_toml(path, "sweep spec")        # missing, directory, binary, not UTF-8, empty, huge: one line
    try:
        spec = SweepSpec.model_validate(raw)
    except ValidationError as err:
        raise ScenarioError(f"{path}: {_explain(err)}") from None
    if not spec.name:
        spec.name = path.stem
    if not spec.name.replace("-", "_").replace(".", "_").isidentifier():
        raise ScenarioError(f"{path}: name: use letters, digits, '_', '-' or '.' (it names the results folder)")
    for key, factor in spec.factors.items():
        try:
            check_factor(key, factor, spec.design.method)
        except ValueError as err:
            raise ScenarioError(f"{path}: factors.{key}: {err}") from None
        if key in spec.set:
            raise ScenarioError(f"{path}: factors.{key}: also fixed in [set]; keep it in one place")
    if spec.design.method in ("sobol", "morris") and len(spec.factors) < 2:
        raise ScenarioError(f"{path}: factors: {spec.design.method} needs at least two factors")
    for key in spec.set:
        try:
            schema_field(key)
        except ValueError as err:
            raise ScenarioError(f"{path}: set.{key}: {err}") from None
    arms: dict[str, Config] = {}
    for name in spec.scenarios:
        try:
            scen = resolve_scenario(name, path.parent)
        except ValueError as err:
            raise ScenarioError(f"{path}: scenarios: {err}") from None
        cfg = load_scenario(scen, overrides=dict(spec.set))   # ScenarioError names the scenario file
        if cfg.name in arms:
            raise ScenarioError(f"{path}: scenarios: two arms are both named {cfg.name!r}")
        arms[cfg.name] = cfg
    if spec.calibration is not None:
        days = min(c.city.days for c in arms.values())
        check_targets(spec.calibration, spec.outcomes.monthly, days, str(path))
    return spec, arms
