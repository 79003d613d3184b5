"""Keyed random streams: common random numbers across policy arms.

Every random draw is a pure function of (run seed, decision name, keys). The keys are what
the draw is *about*: a day, a township, a category, an order's own key, a citizen's index.
So changing a rule for one township cannot reshuffle the draws of any other township, and
two scenarios run with the same seed face the same luck wherever their states agree
(DESIGN.md "Random streams"). The hash is splitmix64, vectorised over numpy uint64 (mixed in
place), or, for arrays of keys, one compiled pass that chains every key and ends in the
uniform (model/kernels.py, the same bits; ``JIESU_PURE=1`` keeps numpy, issue 13).
"""

from __future__ import annotations

import functools
import zlib

import numpy as np
from scipy import special

from . import kernels

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))
_KERNEL_MIN = 64     # below this many items the numpy path is as fast as a kernel call


def mix(z: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on a uint64 array (wrapping arithmetic); ``z`` is left unchanged."""
    z = z + _GOLDEN
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def mix_inplace(z: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser computed in place on a uint64 array that the caller owns: the same
    bits as :func:`mix` with one scratch array instead of nine temporaries (the keyed draws are
    a large share of the daily loop, issue 13)."""
    if z.ndim == 0:
        return mix(z)
    tmp = np.empty_like(z)
    z += _GOLDEN
    for shift, mult in ((_S30, _M1), (_S27, _M2)):
        np.right_shift(z, shift, out=tmp)
        z ^= tmp
        z *= mult
    np.right_shift(z, _S31, out=tmp)
    z ^= tmp
    return z


def _as_u64(k) -> np.ndarray:
    """A key as uint64 bits (int64 reinterpreted, which is what astype does, without a copy)."""
    k = np.asarray(k)
    if k.dtype == np.uint64:
        return k
    if k.dtype == np.int64:
        return k.view(np.uint64)
    return k.astype(np.uint64)


@functools.lru_cache(maxsize=4096)
def name_id(name: str) -> np.uint64:
    """Stable 64-bit id of a decision name (cached: names are few, calls many)."""
    return np.uint64(zlib.crc32(name.encode()) | (zlib.adler32(name.encode()) << 32))


class Streams:
    """Random numbers keyed by (seed, decision name, keys...)."""

    def __init__(self, seed: int):
        self.seed = int(seed) & 0xFFFFFFFFFFFFFFFF
        self._base = mix(np.array([self.seed], dtype=np.uint64))[0]
        self._names: dict[str, np.ndarray] = {}

    def key(self, name: str, *keys) -> np.ndarray:
        """64-bit hash of the name and keys (broadcast); usable as an order's own key."""
        fast = _flat_keys(keys)
        if fast is not None:
            return fast[0].hash_keys(self._name_hash(name)[()], fast[1], fast[2])
        return self._key_numpy(self._name_hash(name), keys)

    @staticmethod
    def _key_numpy(h: np.ndarray, keys: tuple) -> np.ndarray:
        """The keyed hash from the name's hash ``h``, key by key (broadcast)."""
        with np.errstate(over="ignore"):
            for k in keys:
                h = mix_inplace(np.bitwise_xor(h, _as_u64(k)))   # a fresh array: mixed in place
        return h

    def _name_hash(self, name: str) -> np.ndarray:
        """mix(base ^ name id), the first step of every key of ``name`` (cached per name)."""
        h = self._names.get(name)
        if h is None:
            with np.errstate(over="ignore"):
                h = self._names[name] = mix(np.asarray(self._base ^ name_id(name), dtype=np.uint64))
        return h

    def uniform(self, name: str, *keys) -> np.ndarray:
        """U[0,1) for each broadcast key tuple."""
        fast = _flat_keys(keys)
        if fast is not None:
            return fast[0].hash_uniform(self._name_hash(name)[()], fast[1], fast[2])
        h = self._key_numpy(self._name_hash(name), keys)
        if h.ndim == 0:
            return (h >> _S11).astype(np.float64) * (1.0 / 9007199254740992.0)
        np.right_shift(h, _S11, out=h)
        u = h.astype(np.float64)
        u *= 1.0 / 9007199254740992.0
        return u

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


def _flat_keys(keys: tuple):
    """(kernels, keys as 1-D uint64 arrays, item count) when the compiled hash applies: the keys
    are scalars or 1-D arrays of one length n >= _KERNEL_MIN (so the broadcast is flat: a scalar
    key is a length-1 array) and kernels.get(n) offers the kernels; else None (numpy path).
    Called for every keyed draw (about 50 a day), so arrays are read by attribute, not np.shape."""
    n = 1
    for key in keys:
        if type(key) is np.ndarray:
            if key.ndim > 1:
                return None
            m = key.shape[0] if key.ndim else 1
        else:
            shape = np.shape(key)
            if len(shape) > 1:
                return None
            m = shape[0] if shape else 1
        if m != 1:
            if n not in (1, m):
                return None
            n = m
    k = kernels.get(n) if n >= _KERNEL_MIN else None
    if k is None:
        return None
    return k, tuple(_flat_u64(key) for key in keys), n


def _flat_u64(key) -> np.ndarray:
    """A key as a C-contiguous 1-D uint64 array (a scalar as length 1), without a copy where
    the bits are already there."""
    a = _as_u64(key).reshape(-1)
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


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
        p = np.exp(-ls)
        fast = kernels.get(us.size) if us.size >= _KERNEL_MIN else None
        if fast is not None:     # the same search in one compiled pass (model/kernels.py)
            out[small] = fast.poisson_search(np.ascontiguousarray(us, dtype=np.float64), np.ascontiguousarray(ls), p)
            return out
        k = np.zeros(us.shape, dtype=np.int64)
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
