"""Keyed random streams: common random numbers across policy arms.

Every random draw is a pure function of (run seed, decision name, keys). The keys are what
the draw is *about*: a day, a township, a category, an order's own key, a citizen's index.
So changing a rule for one township cannot reshuffle the draws of any other township, and
two scenarios run with the same seed face the same luck wherever their states agree
(DESIGN.md "Random streams"). The hash is splitmix64, vectorised over numpy uint64.
"""

from __future__ import annotations

import zlib

import numpy as np
from scipy import special

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))


def mix(z: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on a uint64 array (wrapping arithmetic)."""
    z = z + _GOLDEN
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def name_id(name: str) -> np.uint64:
    """Stable 64-bit id of a decision name."""
    return np.uint64(zlib.crc32(name.encode()) | (zlib.adler32(name.encode()) << 32))


class Streams:
    """Random numbers keyed by (seed, decision name, keys...)."""

    def __init__(self, seed: int):
        self.seed = int(seed) & 0xFFFFFFFFFFFFFFFF
        self._base = mix(np.array([self.seed], dtype=np.uint64))[0]

    def key(self, name: str, *keys) -> np.ndarray:
        """64-bit hash of the name and keys (broadcast); usable as an order's own key."""
        with np.errstate(over="ignore"):
            h = mix(np.asarray(self._base ^ name_id(name), dtype=np.uint64))
            for k in keys:
                h = mix(h ^ np.asarray(k).astype(np.uint64))
        return h

    def uniform(self, name: str, *keys) -> np.ndarray:
        """U[0,1) for each broadcast key tuple."""
        return (self.key(name, *keys) >> _S11).astype(np.float64) * (1.0 / 9007199254740992.0)

    def normal(self, name: str, *keys) -> np.ndarray:
        u = self.uniform(name, *keys)
        return special.ndtri(np.clip(u, 1e-12, 1 - 1e-12))

    def bernoulli(self, p, name: str, *keys) -> np.ndarray:
        return self.uniform(name, *keys) < p

    def poisson(self, lam: np.ndarray, name: str, *keys) -> np.ndarray:
        """Poisson counts by inversion of keyed uniforms (exact for lam <= 60, else normal)."""
        lam = np.asarray(lam, dtype=np.float64)
        u = self.uniform(name, *keys) * np.ones_like(lam)
        return poisson_inverse(u, lam)

    def generator(self, name: str, *keys) -> np.random.Generator:
        """A numpy Generator for draws where per-item keys do not matter (set-up)."""
        return np.random.default_rng(int(self.key(name, *keys).ravel()[0]))


def poisson_inverse(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Inverse Poisson CDF at ``u``: exact sequential search for small means, normal beyond."""
    out = np.empty(lam.shape, dtype=np.int64)
    big = lam > 60.0
    if big.any():
        z = special.ndtri(np.clip(u[big], 1e-12, 1 - 1e-12))
        out[big] = np.maximum(0, np.floor(lam[big] + z * np.sqrt(lam[big]) + 0.5)).astype(np.int64)
    small = ~big
    if small.any():
        us, ls = u[small], lam[small]
        k = np.zeros(us.shape, dtype=np.int64)
        p = np.exp(-ls)
        cdf = p.copy()
        todo = np.flatnonzero(us > cdf)
        for i in range(1, 400):
            if todo.size == 0:
                break
            p[todo] *= ls[todo] / i
            cdf[todo] += p[todo]
            k[todo] = i
            todo = todo[us[todo] > cdf[todo]]
        out[small] = k
    return out
