"""Parameter sets for a report's ensemble, drawn from the stored calibration posterior.

The history calibration (experiments/studies/history_calibration, docs/calibration.md) kept
10 of 96 design rows; what is stored in the repository is its summary per parameter
(``posterior.toml``: prior range, posterior mean, 5% and 95% quantiles, and the width of the
90% interval over the prior range). A report draws its ``K`` parameter sets from it:

- set 0 is the adopted values (the posterior means, which are the model's defaults);
- sets 1..K-1 are a Latin hypercube over, per parameter, its 90% posterior interval — or its
  whole prior range where the data do not constrain it (``width >= unconstrained_width``).

Only the "behaviour" parameters are drawn (model defaults for every scenario); the "launch"
conditions of January 2019 are not (a later scenario has its own values, and a state file
already carries their consequences). The marginals are drawn independently: correlations
between parameters in the accepted rows (ridges) are not stored, so the box is wider than the
joint posterior. ``K`` may not exceed the accepted rows the summary describes.

Given the output of ``jiesu calibrate`` instead (``--posterior results/history_calibration``, the
folder or its ``calibration.csv``), the parameter sets after set 0 are the accepted rows
themselves, highest weight first: the joint posterior sample, correlations kept.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..argtypes import CliError

POSTERIOR = Path(__file__).resolve().parents[1] / "studies" / "history_calibration" / "posterior.toml"
LAUNCH = {"world.capacity.ratio", "world.demand.contacts_per_capita_year", "world.citizens.initial_expectation"}


@dataclass(frozen=True)
class Param:
    key: str
    prior: tuple[float, float]
    mean: float
    q05: float
    q95: float
    width: float
    role: str

    def constrained(self, threshold: float) -> bool:
        return self.width < threshold

    def box(self, threshold: float) -> tuple[float, float]:
        """Where this parameter is drawn: the 90% interval, or the prior where unconstrained."""
        return (self.q05, self.q95) if self.constrained(threshold) else self.prior


@dataclass(frozen=True)
class Posterior:
    path: Path
    source: str
    accepted_rows: int
    threshold: float
    params: tuple[Param, ...]
    sample: tuple[dict, ...] = ()        # accepted rows (from calibration.csv), highest weight first

    @property
    def drawn(self) -> list[Param]:
        return [p for p in self.params if p.role == "behaviour"]


def load_posterior(path: str | Path = POSTERIOR) -> Posterior:
    """The stored posterior summary; a missing or malformed file is one line (CliError)."""
    path = Path(path)
    if path.is_dir() or path.name == "calibration.csv":
        return _from_calibration(path / "calibration.csv" if path.is_dir() else path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        params = tuple(Param(k, tuple(v["prior"]), float(v["mean"]), float(v["q05"]), float(v["q95"]),
                             float(v["width"]), v.get("role", "behaviour"))
                       for k, v in data["parameters"].items())
        return Posterior(path, data.get("source", str(path)), int(data["accepted_rows"]),
                         float(data.get("unconstrained_width", 0.9)), params)
    except OSError as err:
        raise CliError(f"--posterior {path}: cannot be read ({err.strerror or err})") from None
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as err:
        raise CliError(f"--posterior {path}: not a posterior summary ({type(err).__name__}: {err})") from None


def _from_calibration(path: Path) -> Posterior:
    """The accepted rows of a ``jiesu calibrate`` output (calibration.csv: factors, distance, weight)."""
    import numpy as np
    import pandas as pd

    from ..calibrate import weighted_quantile

    try:
        df = pd.read_csv(path)
        keys = [c for c in df.columns if c.startswith(("world.", "rules."))]
        kept = df[df["weight"] > 0].sort_values("weight", ascending=False, kind="stable")
    except (OSError, ValueError, KeyError) as err:
        raise CliError(f"--posterior {path}: not a calibration table ({type(err).__name__}: {err})") from None
    if kept.empty or not keys:
        raise CliError(f"--posterior {path}: no accepted rows (weight > 0) or no parameter columns")
    w = kept["weight"].to_numpy(float)
    params = []
    for k in keys:
        x, lo, hi = kept[k].to_numpy(float), float(df[k].min()), float(df[k].max())
        q05, q95 = weighted_quantile(x, w, 0.05), weighted_quantile(x, w, 0.95)
        params.append(Param(k, (lo, hi), float(np.average(x, weights=w)), q05, q95,
                            (q95 - q05) / (hi - lo) if hi > lo else 0.0, "launch" if k in LAUNCH else "behaviour"))
    sample = tuple({k: float(r[k]) for k in keys} for r in kept.to_dict("records"))
    return Posterior(path, f"{path} (accepted rows of jiesu calibrate)", len(sample), 0.9, tuple(params), sample)


def check_ensemble(post: Posterior, k: int) -> None:
    if k > post.accepted_rows:
        raise CliError(f"--ensemble {k}: the stored posterior ({post.path.name}) summarises {post.accepted_rows} "
                       f"accepted rows; draw at most {post.accepted_rows} parameter sets")


def parameter_sets(post: Posterior, k: int, root_seed: int) -> list[dict[str, float]]:
    """``k`` override dicts: {} (the adopted values) first, then a Latin hypercube over the boxes."""
    from ..seeds import design_rng

    check_ensemble(post, k)
    sets: list[dict[str, float]] = [{}]
    n = k - 1
    if n <= 0:
        return sets
    if post.sample:                                         # the accepted rows themselves
        drawn = [p.key for p in post.drawn]
        return sets + [{key: round(row[key], 4) for key in drawn} for row in post.sample[:n]]
    rng = design_rng(root_seed)
    cols = {}
    for p in post.drawn:
        lo, hi = p.box(post.threshold)
        strata = (rng.permutation(n) + rng.random(n)) / n          # one draw per stratum, shuffled
        cols[p.key] = lo + strata * (hi - lo)
    for i in range(n):
        sets.append({key: round(float(v[i]), 4) for key, v in cols.items()})
    return sets


def describe(post: Posterior) -> list[dict]:
    """One row per parameter: how the ensemble treats it (for the report's assumptions section)."""
    rows = []
    for p in post.params:
        lo, hi = p.box(post.threshold)
        if p.role != "behaviour":
            how = "not drawn (launch condition)"
        elif post.sample:
            how = "the accepted rows (joint posterior sample)"
        elif p.constrained(post.threshold):
            how = "90% posterior interval"
        else:
            how = "prior range (not constrained by the data)"
        rows.append({"key": p.key, "prior": p.prior, "mean": p.mean, "q05": p.q05, "q95": p.q95,
                     "width": p.width, "role": p.role, "drawn_from": how,
                     "box": (lo, hi) if p.role == "behaviour" else None})
    return rows

