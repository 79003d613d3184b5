"""Experimental designs: the table of factor values, one row per design point.

Grids are the product of the levels; Latin hypercubes come from ``scipy.stats.qmc``;
Sobol' (Saltelli) and Morris samples come from SALib, so the analysis in
:mod:`experiments.sensitivity` can use SALib on exactly the matrix it expects. All
sampling draws from the design branch of the sweep's root seed (:mod:`experiments.seeds`).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy.stats import qmc

from .seeds import design_rng, design_seed
from .spec import SweepSpec, field_kind, schema_field


def salib_problem(spec: SweepSpec) -> dict:
    """The SALib ``problem`` dict for a spec's continuous factors (names are the dotted keys)."""
    names = list(spec.factors)
    return {"num_vars": len(names), "names": names,
            "bounds": [list(spec.factors[k].range) for k in names]}


def _grid_levels(key: str, factor) -> list:
    if factor.levels is not None:
        return list(factor.levels)
    vals = np.linspace(factor.range[0], factor.range[1], factor.steps)
    if field_kind(schema_field(key)) == "int":
        return sorted({int(round(v)) for v in vals})
    return [float(v) for v in vals]


def _round_ints(spec: SweepSpec, df: pd.DataFrame) -> pd.DataFrame:
    for key in spec.factors:
        if field_kind(schema_field(key)) == "int":
            df[key] = df[key].round().astype(int)
    return df


def build_design(spec: SweepSpec) -> pd.DataFrame:
    """The design table: columns are the factor keys, the index is the design row number.

    A spec without factors has one design row (the arms as they are).
    """
    keys = list(spec.factors)
    method = spec.design.method
    if not keys:
        return pd.DataFrame(index=pd.RangeIndex(1, name="row"))
    if method == "grid":
        levels = [_grid_levels(k, spec.factors[k]) for k in keys]
        df = pd.DataFrame(list(itertools.product(*levels)), columns=keys)
    elif method == "lhs":
        unit = qmc.LatinHypercube(d=len(keys), rng=design_rng(spec.seed)).random(spec.design.samples)
        lo = [spec.factors[k].range[0] for k in keys]
        hi = [spec.factors[k].range[1] for k in keys]
        df = _round_ints(spec, pd.DataFrame(qmc.scale(unit, lo, hi), columns=keys))
    elif method == "sobol":
        from SALib.sample import sobol

        x = sobol.sample(salib_problem(spec), spec.design.samples,
                         calc_second_order=spec.design.calc_second_order, seed=design_seed(spec.seed))
        df = pd.DataFrame(x, columns=keys)
    elif method == "morris":
        from SALib.sample import morris

        x = morris.sample(salib_problem(spec), spec.design.samples, num_levels=spec.design.num_levels,
                          seed=design_seed(spec.seed))
        df = pd.DataFrame(x, columns=keys)
    else:  # pragma: no cover - the spec schema allows only the four above
        raise ValueError(method)
    df.index.name = "row"
    return df
