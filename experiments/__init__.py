"""Experiments on the model: sweeps, sensitivity analysis, comparisons (built on model.run_one).

Modules: ``spec`` (sweep spec TOML, checked against the scenario schema), ``design`` (grid,
LHS, Sobol', Morris), ``seeds`` (one root SeedSequence, common random numbers across rule
arms), ``executors`` (concurrent.futures: process pool, Dask, serial), ``storage``
(atomic Parquet batches, manifest, resume), ``sweep`` (plan and run), ``sensitivity``
(SALib analysis with guarded pitfalls), ``ema`` (EMA Workbench adapter), ``commands``
(the ``jiesu sweep`` and ``jiesu sensitivity`` sub-commands). See experiments/README.md.
"""
