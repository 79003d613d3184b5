"""Reproducibility across machines: what a run's bits depend on (model/numeric.py).

numpy runs exp, log, tanh and power in SIMD code chosen for the CPU, and each level rounds the
last bit its own way; a sort without a stable tie order also orders ties by the CPU's level. The
model records the level in its provenance, warns when Dask workers differ, and keeps its own
orderings independent of it. A machine with AVX-512 is simulated at a lower level with numpy's
``NPY_DISABLE_CPU_FEATURES``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from experiments.executors import mixed_platforms
from model.numeric import numeric_platform

LOWER = {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR"}   # AVX-512 code off: the AVX2 one runs
HAS_V4 = numeric_platform().endswith("X86_V4")
needs_v4 = pytest.mark.skipif(not HAS_V4, reason="needs a CPU on which numpy runs its AVX-512 (X86_V4) code")

QUEUE = """
import hashlib, json, numpy as np
from model import kernels
from model.handling import allocate
from model.numeric import numeric_platform
kernels.set_active(False)
rng = np.random.default_rng(11)
n, units = 60000, 900
unit = rng.integers(0, units, n)
prio = np.round(rng.random(n) * 3, 1)            # many ties, as queues have
got = allocate(unit, np.full(n, 0.5), prio, rng.random(units) * 20)
print(json.dumps({"platform": numeric_platform(), "hours": hashlib.sha256(got.tobytes()).hexdigest(),
                  "default_sort": hashlib.sha256(np.argsort(unit * 1e4 - prio).tobytes()).hexdigest()}))
"""


def _run(code: str, extra: dict) -> dict:
    env = {**os.environ, **extra, "JIESU_PURE": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@needs_v4
def test_the_queue_pours_the_same_hours_at_every_simd_level():
    here, lower = _run(QUEUE, {}), _run(QUEUE, LOWER)
    assert here["platform"] != lower["platform"]            # the two processes do run different code
    assert here["default_sort"] != lower["default_sort"]    # numpy's default sort orders ties by CPU level ...
    assert here["hours"] == lower["hours"]                  # ... the queue's stable order does not


def test_the_platform_string_names_machine_numpy_and_level():
    s = numeric_platform()
    assert s.split()[1] == "numpy" and ":" in s and s.split(": ")[1]


@needs_v4
def test_the_platform_string_changes_with_the_simd_level():
    lower = _run("from model.numeric import numeric_platform; import json; print(json.dumps({'p': numeric_platform()}))",
                 LOWER)["p"]
    assert lower != numeric_platform() and "X86_V4" not in lower


def test_mixed_workers_are_warned_about_and_agreeing_ones_are_not():
    same = {"tcp://a:1": "x86_64 numpy 2.5.5: X86_V4", "tcp://b:1": "x86_64 numpy 2.5.5: X86_V4"}
    assert mixed_platforms(same) is None and mixed_platforms({}) is None
    msg = mixed_platforms({**same, "tcp://c:1": "x86_64 numpy 2.5.5: X86_V3"})
    assert "2 numeric levels" in msg and "X86_V3" in msg and "NPY_DISABLE_CPU_FEATURES" in msg and "\n" not in msg


def test_a_runs_provenance_records_the_platform():
    from model import load_scenario
    from model.results import provenance

    cfg = load_scenario("scenarios/final_2021.toml")
    assert provenance(cfg, 1, "h")["numeric_platform"] == numeric_platform()
