"""The numeric platform a run's bits depend on (reproducibility across machines).

numpy dispatches exp, log, log1p, tanh, cos and power to SIMD code chosen for the CPU at import
(AVX-512, AVX2 or the baseline), and those versions round the last bit differently (checked
2026-12-03 on numpy 2.5: every one of them differs between the X86_V4 and X86_V3 code). A
simulation compares its uniforms against probabilities made with them, so one differing bit
becomes a different draw and then a different history: the same config and seed give the same
results only on machines with the same platform string. Runs and sweeps record it in their
provenance, and a Dask sweep warns when its workers differ (experiments.executors). To make
machines agree, start every process with the same ``NPY_DISABLE_CPU_FEATURES`` (README,
"Reproducibility"). The model's own kernels (model/kernels.py) compute no transcendental
functions and depend on no sort's tie order, so they add no platform dependence.
"""

from __future__ import annotations

# numpy functions the model calls whose results depend on the SIMD level (float32 and float64)
SIMD_FUNCTIONS = ("exp", "log", "log1p", "tanh", "cos", "power")


def numeric_platform() -> str:
    """The machine, the numpy version and the SIMD level numpy runs for :data:`SIMD_FUNCTIONS`,
    e.g. ``"x86_64 numpy 2.5.5: X86_V4"`` (``numpy.lib.introspect.opt_func_info``); two machines
    give the same results for the same seed when their strings are equal."""
    import platform

    import numpy as np
    from numpy.lib.introspect import opt_func_info

    info = opt_func_info(func_name="^(" + "|".join(SIMD_FUNCTIONS) + ")$", signature="^(f|d)+$")
    levels = sorted({sig["current"] for fn in info.values() for sig in fn.values()})
    return f"{platform.machine()} numpy {np.__version__}: {'/'.join(levels) or 'baseline'}"
