"""Sequential calibration by ABC-SMC (pyabc; Toni et al. 2009, J. R. Soc. Interface 6:187;
Klinger, Rickert & Hasenauer 2018, Bioinformatics 34:3591 for pyabc).

ABC rejection over a stored sweep (experiments/calibrate.py) spends most of its runs far from
the targets. ABC-SMC spends them where the data point: generation 0 samples the uniform
priors (the spec's factor ranges), each later generation perturbs the previous one's
particles (pyabc's adaptive multivariate normal kernel) and keeps those within a threshold
that falls generation by generation (the ``epsilon_quantile`` of the last distances, or a
fixed ``epsilons`` schedule), with importance weights prior / proposal. With the quantile
schedule generation 0 accepts every prior draw (threshold infinite): no separate calibration
sample is spent on a first threshold, which matters when one run costs 20 CPU seconds.

The distance is the rejection path's: ``experiments.calibrate.statistics`` gives each target's
statistic of one run from its monthly series, ``experiments.calibrate.misfit`` the root mean
square of (simulated - published) / tolerance. One run per particle: the model's noise is part
of the ABC likelihood.

Samplers: ``--serial`` (pyabc SingleCoreSampler), ``--workers N`` (MulticoreEvalParallelSampler,
forked local processes), ``--scheduler tcp://HOST:PORT`` (DaskDistributedSampler on a running
Dask cluster: many machines).

Reproducibility: pyabc draws from numpy's global generator (proposals, kernel, and here each
run's seed). ``run_smc`` seeds it (and ``random``) from ``calibration.smc.seed``; on one core the
posterior is then identical from run to run (tested). The parallel samplers hand proposals to
whichever worker is free and each worker process draws from its own generator, so their
posteriors are valid ABC samples but not bit-identical between runs.

pyabc writes its history to SQLite: into ``.tmp-<pid>-smc_history.db`` in the output folder
while running, renamed to ``smc_history.db`` when the run ends; an interrupted or failed run
removes its temporary file, and an existing ``smc_history.db`` is replaced only by a complete run.
"""

from __future__ import annotations

import os
import random
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from .targets import SMC


def safe_name(key: str) -> str:
    """pyabc parameter names: dotted config keys with the dots spelled out."""
    return key.replace(".", "__")


@dataclass
class SMCResult:
    particles: pd.DataFrame      # every generation: t, one column per parameter, weight, distance, statistics
    generations: pd.DataFrame    # t, epsilon, simulations, particles, acceptance
    seconds: float
    simulations: int
    db: Path | None


def make_sampler(workers: int | None = None, scheduler: str | None = None):
    """pyabc sampler: one core (reproducible), a local multicore pool, or a Dask cluster."""
    from pyabc.sampler import MulticoreEvalParallelSampler, SingleCoreSampler

    if scheduler:
        from dask.distributed import Client
        from pyabc.sampler import DaskDistributedSampler

        return DaskDistributedSampler(dask_client=Client(scheduler))
    if workers and workers > 1:
        return MulticoreEvalParallelSampler(n_procs=workers)
    return SingleCoreSampler()


class _Distance:
    """pyabc distance(x, x_0) from a function of the simulated statistics alone (picklable)."""

    def __init__(self, distance: Callable[[dict], float]):
        self.distance = distance

    def __call__(self, x: dict, x_0: dict) -> float:
        d = float(self.distance(x))
        return d if np.isfinite(d) else np.inf


def run_smc(simulate: Callable[[dict], dict], observed: dict[str, float], distance: Callable[[dict], float],
            prior: dict[str, tuple[float, float]], settings: SMC, out: Path | None = None, sampler=None,
            db_name: str = "smc_history.db") -> SMCResult:
    """ABC-SMC of ``simulate`` (parameters by key -> statistics by label) against ``observed``.

    ``prior``: uniform ranges by parameter key. ``distance``: of one statistics dict to the
    published values. The SQLite history goes to ``out`` (atomically renamed at the end) or to
    memory when ``out`` is None.
    """
    import pyabc

    keys = list(prior)
    names = {safe_name(k): k for k in keys}
    dist = pyabc.Distribution(**{safe_name(k): pyabc.RV("uniform", lo, hi - lo) for k, (lo, hi) in prior.items()})

    def model(par) -> dict:
        return simulate({names[n]: float(par[n]) for n in names})

    eps = (pyabc.ListEpsilon(list(settings.epsilons)) if settings.epsilons is not None
           else pyabc.QuantileEpsilon(initial_epsilon=np.inf, alpha=settings.epsilon_quantile))
    np.random.seed(settings.seed)
    random.seed(settings.seed)
    abc = pyabc.ABCSMC(model, dist, _Distance(distance), population_size=settings.population_size,
                       sampler=sampler or make_sampler(), eps=eps)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        tmp = out / f".tmp-{os.getpid()}-{db_name}"
        tmp.unlink(missing_ok=True)
        db = f"sqlite:///{tmp}"
    else:
        tmp, db = None, "sqlite://"
    t0 = time.perf_counter()
    run_kw = {"minimum_epsilon": settings.min_epsilon, "max_nr_populations": settings.generations}
    if settings.max_simulations:
        run_kw["max_total_nr_simulations"] = settings.max_simulations
    final = None
    try:
        abc.new(db, dict(observed))
        with warnings.catch_warnings():
            # pyabc compares each threshold with the last; generation 0's is infinite (inf - inf)
            warnings.filterwarnings("ignore", "invalid value encountered in scalar subtract", RuntimeWarning)
            history = abc.run(**run_kw)
        seconds = time.perf_counter() - t0
        particles, generations = _tables(history, names)
        if tmp is not None:
            final = out / db_name
            os.replace(tmp, final)
    finally:
        if tmp is not None and final is None:
            tmp.unlink(missing_ok=True)          # interrupted or failed: no half-written history is left
    return SMCResult(particles, generations, seconds, int(generations["simulations"].sum()), final)


def _tables(history, names: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Particles of every generation (parameters, weight, distance, statistics) and per-generation figures."""
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].sort_values("t")
    rows = []
    for t in pops["t"].astype(int):
        for p in history.get_population(t=int(t)).particles:       # one particle: its own values together
            rows.append({"t": int(t), **{k: float(p.parameter[n]) for n, k in names.items()},
                         "weight": float(p.weight), "distance": float(p.distance),
                         **{label: float(v) for label, v in p.sum_stat.items()}})
    particles = pd.DataFrame(rows)
    particles["weight"] = particles.groupby("t")["weight"].transform(lambda w: w / w.sum())
    gens = pd.DataFrame({"t": pops["t"].astype(int).to_numpy(), "epsilon": pops["epsilon"].to_numpy(float),
                         "simulations": pops["samples"].astype(int).to_numpy(),
                         "particles": pops["particles"].astype(int).to_numpy()})
    gens["acceptance"] = gens["particles"] / gens["simulations"]
    return particles, gens


class Misfit:
    """The rejection path's distance (experiments.calibrate.misfit) of one run's statistics."""

    def __init__(self, cal):
        self.cal = cal

    def __call__(self, stats: dict) -> float:
        from .calibrate import misfit

        return float(misfit(np.array([stats[t.label] for t in self.cal.targets], dtype=float), self.cal))


class ScenarioSimulator:
    """One jiesu run of a scenario with a particle's parameter values -> the targets' statistics.

    The run's seed is drawn from numpy's global generator, which ``run_smc`` seeds: a particle's
    run is reproducible on one core. A run that fails raises (a crash is a bug, not a misfit).
    """

    def __init__(self, arm, cal, monthly: dict[str, str]):
        self.arm, self.cal, self.monthly = arm, cal, dict(monthly)
        self.columns = sorted({c for t in cal.targets for c in (t.outcome, t.denominator) if c})

    def __call__(self, params: dict) -> dict:
        from model import run_one, with_overrides

        from .calibrate import statistics
        from .sweep import monthly_series

        seed = int(np.random.randint(0, 2 ** 31 - 1))
        cfg = with_overrides(self.arm, params)
        res = run_one(cfg, seed)
        series = {c: monthly_series(res.daily, c, self.monthly[c]) for c in self.columns}
        return statistics(series, self.cal, self.monthly, cfg.city.scale)


def summarise(result: SMCResult, cal, factors: list[str], prior: dict[str, tuple[float, float]]):
    """(final generation sorted by distance, posterior summary, fit table, plot table) of an SMC run."""
    from .calibrate import fit_table, posterior

    last_t = int(result.particles["t"].max())
    final = result.particles[result.particles["t"] == last_t].sort_values("distance", kind="stable")
    final = final.reset_index(drop=True)
    plot_rows = result.particles.assign(weight=np.where(result.particles["t"] == last_t,
                                                        result.particles["weight"], 0.0))
    return final, posterior(final, factors, prior), fit_table(final, cal), plot_rows
