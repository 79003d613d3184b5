"""Where runs execute: anything with the ``concurrent.futures.Executor`` interface.

- ``process`` (default): a local ``ProcessPoolExecutor`` (``--workers N``), started with
  the *forkserver* method so worker processes never inherit the parent's threads (progress
  bar, Dask client).
- ``dask``: Dask distributed, either an existing scheduler (``--scheduler tcp://HOST:PORT``,
  e.g. one started by dask-jobqueue on SLURM/PBS) or a ``LocalCluster`` of N single-threaded
  worker processes (``--dask-local N``). ``Client.get_executor(pure=False)`` is used, so
  Dask never merges two submissions that look alike; seeds travel inside each task anyway.
- ``serial``: runs in this process, in order (debugging, profiling, pdb).

The sweep loop only calls ``submit`` and waits on futures, so any other executor
(``mpi4py.futures.MPIPoolExecutor``, ``loky``) can be passed to
:func:`experiments.sweep.run_sweep` directly.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Iterator

from .argtypes import CliError


class SerialExecutor(Executor):
    """Runs each submission at once in the calling process; futures are already done."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as err:  # noqa: BLE001 - handed to the caller through the future
            fut.set_exception(err)
        return fut


def mixed_platforms(levels: dict) -> str | None:
    """A one-line warning when workers run numpy at different SIMD levels (their results for the
    same seed differ in the last bits, then in the draws: model.numeric.numeric_platform);
    ``levels`` maps a worker to its platform string. None when they all agree."""
    distinct = sorted(set(levels.values()))
    if len(distinct) < 2:
        return None
    return (f"warning: the Dask workers run numpy at {len(distinct)} numeric levels ({'; '.join(distinct)}), so a "
            "run's results depend on the worker it lands on; start every worker with the same "
            "NPY_DISABLE_CPU_FEATURES (README: Reproducibility)")


def _warn_if_mixed(client) -> None:
    from model.numeric import numeric_platform

    try:
        msg = mixed_platforms(client.run(numeric_platform))
    except Exception:  # noqa: BLE001 - a worker that cannot answer is the sweep's business, not this check's
        return
    if msg:
        print(msg, file=sys.stderr)


def _dask():
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise CliError("Dask executors need the optional extra: pip install 'jiesu[distributed]'") from None
    return Client, LocalCluster


@contextmanager
def open_executor(kind: str = "process", workers: int | None = None, scheduler: str | None = None,
                  dask_local: int | None = None) -> Iterator[tuple[Executor, int, str]]:
    """Yield ``(executor, slots, description)``; ``slots`` is how many runs can go at once."""
    if scheduler or dask_local:
        kind = "dask"
    if kind == "serial":
        yield SerialExecutor(), 1, "serial (this process)"
    elif kind == "dask":
        Client, LocalCluster = _dask()
        if scheduler:
            try:
                client = Client(scheduler, timeout="20s")
            except OSError as err:
                raise CliError(f"--scheduler {scheduler}: cannot connect ({err})") from None
            with client:
                _warn_if_mixed(client)
                slots = max(sum(client.nthreads().values()), 1)
                yield client.get_executor(pure=False), slots, f"dask scheduler {scheduler} ({slots} threads)"
        else:
            with LocalCluster(n_workers=dask_local, threads_per_worker=1, processes=True,
                              dashboard_address=None) as cluster, Client(cluster) as client:
                yield client.get_executor(pure=False), dask_local, f"dask LocalCluster ({dask_local} workers)"
    else:
        n = workers or os.cpu_count() or 1
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["model.model", "model.results", "experiments.sweep"])   # import once, fork per worker
        with ProcessPoolExecutor(max_workers=n, mp_context=ctx) as pool:
            yield pool, n, f"process pool ({n} workers)"
