"""Keyed random streams: draws are pure functions of (seed, name, keys)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import K_SD
from scipy import stats

from model.streams import Streams, poisson_inverse


def test_a_draw_depends_only_on_seed_name_and_keys():
    a, b = Streams(11), Streams(11)
    keys = np.arange(1000)
    x = a.uniform("demand.source", 5, keys)
    b.uniform("something.else", 1, 2, 3)           # other draws in between change nothing
    assert np.array_equal(x, b.uniform("demand.source", 5, keys))
    # one key alone gives the same number as inside a batch, in any order
    assert b.uniform("demand.source", 5, 717) == x[717]
    assert np.array_equal(b.uniform("demand.source", 5, keys[::-1]), x[::-1])


def test_different_seed_name_or_keys_give_different_draws():
    keys = np.arange(1000)
    x = Streams(11).uniform("n", 0, keys)
    assert not np.array_equal(x, Streams(12).uniform("n", 0, keys))
    assert not np.array_equal(x, Streams(11).uniform("m", 0, keys))
    assert not np.array_equal(x, Streams(11).uniform("n", 1, keys))
    assert len(np.unique(x)) == x.size


def test_keys_broadcast_like_numpy():
    s = Streams(3)
    grid = s.uniform("g", np.arange(4)[:, None], np.arange(5)[None, :])
    assert grid.shape == (4, 5)
    assert grid[2, 3] == s.uniform("g", 2, 3)


def test_uniforms_are_uniform_and_normals_normal():
    s = Streams(2024)
    u = s.uniform("u", np.arange(20000))
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-4
    z = s.normal("z", np.arange(20000))
    assert stats.kstest(z, "norm").pvalue > 1e-4


def test_bernoulli_share_matches_p_within_binomial_tolerance():
    n, p = 20000, 0.3
    share = Streams(5).bernoulli(p, "b", np.arange(n)).mean()
    assert abs(share - p) < K_SD * np.sqrt(p * (1 - p) / n)


def test_generator_is_reproducible():
    a = Streams(9).generator("set-up", 1).random(5)
    assert np.array_equal(a, Streams(9).generator("set-up", 1).random(5))
    assert not np.array_equal(a, Streams(9).generator("set-up", 2).random(5))


@pytest.mark.parametrize("lam", [1e-4, 0.01, 0.3, 1.0, 2.5, 7.0, 15.0, 33.3, 59.9, 60.0])
def test_poisson_inverse_matches_scipy_ppf_for_small_means(lam):
    u = np.linspace(0.0005, 0.9995, 1999)
    got = poisson_inverse(u, np.full(u.shape, lam))
    expected = stats.poisson.ppf(u, lam)
    assert np.array_equal(got, expected.astype(np.int64))


@pytest.mark.parametrize("lam", [61.0, 150.0, 1000.0, 1e5])
def test_poisson_inverse_for_large_means_is_close_to_scipy_ppf(lam):
    # normal approximation: off by the Cornish-Fisher skew term (z^2 - 1) / 6 plus rounding
    u = np.linspace(0.001, 0.999, 999)
    got = poisson_inverse(u, np.full(u.shape, lam))
    z = stats.norm.ppf(u)
    bound = np.abs(z**2 - 1) / 6 + 1.0 + 0.05 * np.abs(z) ** 3
    assert (np.abs(got - stats.poisson.ppf(u, lam)) <= bound).all()
    assert (got >= 0).all()


def test_poisson_draws_have_mean_and_variance_lambda():
    lam = np.full(40000, 3.7)
    x = Streams(4).poisson(lam, "p", np.arange(lam.size))
    n = lam.size
    assert abs(x.mean() - 3.7) < K_SD * np.sqrt(3.7 / n)
    # sd of the sample variance of a Poisson: sqrt((mu4 - sigma^4 (n-3)/(n-1)) / n), mu4 = lam(1 + 3 lam)
    sd_var = np.sqrt((3.7 * (1 + 3 * 3.7) - 3.7**2 * (n - 3) / (n - 1)) / n)
    assert abs(x.var(ddof=1) - 3.7) < K_SD * sd_var


def test_poisson_with_a_larger_mean_never_draws_fewer():
    s = Streams(8)
    keys = np.arange(5000)
    lo = s.poisson(np.full(5000, 2.0), "p", keys)
    hi = s.poisson(np.full(5000, 5.0), "p", keys)
    assert (hi >= lo).all()   # inversion of the same uniform: monotone in the mean (common random numbers)
