"""Seeds for a sweep: one root ``SeedSequence``, spawned per (design row, replicate).

Run seeds ignore the rule arm, so every arm meets the same replicate worlds (common
random numbers): a difference between arms is the rules, not luck. The design's own
sampling (LHS, Sobol scrambling, Morris trajectories) draws from a separate branch of the
same root, so adding replicates never changes the design. Explicit spawn keys are used,
``SeedSequence(root, spawn_key=(0, row, rep))``, which is exactly what
``SeedSequence(root).spawn(...)[0].spawn(...)[row].spawn(...)[rep]`` produces, but
independent of the order or number of earlier spawns (needed for resume).
"""

from __future__ import annotations

import numpy as np

RUNS_BRANCH, DESIGN_BRANCH = 0, 1


def run_seed(root: int, row: int, replicate: int) -> int:
    """The model seed of one (design row, replicate): a plain int below 2**63."""
    ss = np.random.SeedSequence(root, spawn_key=(RUNS_BRANCH, row, replicate))
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def design_rng(root: int) -> np.random.Generator:
    """The generator that samples the design (never shared with runs)."""
    return np.random.default_rng(np.random.SeedSequence(root, spawn_key=(DESIGN_BRANCH,)))


def design_seed(root: int) -> int:
    """An int seed for libraries that take one (SALib), from the design branch."""
    ss = np.random.SeedSequence(root, spawn_key=(DESIGN_BRANCH,))
    return int(ss.generate_state(1, dtype=np.uint32)[0])
