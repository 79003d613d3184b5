"""A reduced scale is a faithful sample of the city (model/sample.py, DESIGN.md "Scale", issue 9 item 11).

Structure of the sample (whole townships, every district, both classes, pooled district
departments, scale 1.0 untouched) on the city alone; and the headline rates at two small
scales agreeing within the one point the design promises, where the thinned city of old
(``city.sampling = "thin"``) drifts by more (the test can fail).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import FINAL

from model import Model, load_scenario
from model.sample import district_pools, sample_townships
from model.streams import Streams
from model.world import KIND_DISTDEPT, KIND_TOWNSHIP, build_city

T, D, L = 343, 16, 12


def city(scale: float, seed: int = 1, sampling: str = "townships"):
    cfg = load_scenario(FINAL, overrides={"city.scale": scale, "city.sampling": sampling})
    return build_city(Streams(seed), cfg.world.demand, cfg.city)


def test_scale_one_is_the_whole_city_unchanged():
    full, thin = city(1.0), city(0.05, sampling="thin")
    assert full.n_townships == T and not full.sampled and (full.township_scale == 1.0).all()
    assert full.unit_name == thin.unit_name                      # the same id space as ever
    assert len(np.unique(full.distdept_unit)) == D * L           # one department per district and line
    np.testing.assert_array_equal(full.served_population(), full.unit_population())


def test_sample_keeps_whole_townships_of_every_district_and_class():
    full, c = city(1.0), city(0.05)
    assert c.sampled and c.n_townships < T / 10
    assert set(c.township_district.tolist()) == set(range(D))           # all 16 districts
    assert c.township_urban.any() and (~c.township_urban).any()         # streets and rural townships
    np.testing.assert_array_equal(c.township_pop, full.township_pop[c.township_id])   # whole townships
    # each district simulates scale x its residents; kept townships at about full volume
    sim = np.bincount(c.township_district, weights=c.township_pop * c.township_scale, minlength=D)
    np.testing.assert_allclose(sim, 0.05 * c.district_pop)
    assert 0.5 < np.exp(np.log(c.township_scale).mean()) < 2.0
    assert (c.unit_kind == KIND_TOWNSHIP).sum() == c.n_townships


def test_district_departments_are_pooled_so_each_carries_about_one_district():
    c = city(0.05)
    depts = np.unique(c.distdept_unit)
    assert len(depts) == L and (c.unit_kind[depts] == KIND_DISTDEPT).all()   # one pool of 16 at 0.05
    pop = c.served_population()
    np.testing.assert_allclose(pop[depts], (c.township_pop * c.township_scale).sum())
    pools = district_pools(c.district_pop, 0.3)
    assert len(np.unique(pools)) == 5                                    # round(0.3 x 16)
    load = np.bincount(pools, weights=c.district_pop)
    assert load.max() / load.min() < 1.6                                  # balanced pools


def test_the_sample_is_keyed_by_the_seed():
    full = city(1.0)
    a, _ = sample_townships(full, 0.05, Streams(1))
    b, _ = sample_townships(full, 0.05, Streams(1))
    c, _ = sample_townships(full, 0.05, Streams(2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_a_sampled_model_runs_and_ranks_within_the_sampled_classes():
    cfg = load_scenario(FINAL, overrides={"city.scale": 0.05, "city.days": 31})
    m = Model(cfg, seed=1).run(31)
    m.check_invariants()
    res = m.unit_months[0]
    tw = np.arange(m.city.n_townships)
    for urban in (True, False):          # each township class ranks its sampled members (Art. 32)
        members = tw[m.city.township_urban == urban]
        pct = res["percentile"][members]
        assert np.isfinite(pct).all() and pct.max() - pct.min() > 0.5
    assert res["remedial"][tw].sum() >= 1 and res["commended"][tw].sum() >= 1
    assert m.results().summary["townships"] == m.city.n_townships < T     # the sample shows in the summary


RATES = ("resolution_rate", "satisfaction_rate", "true_resolution_rate", "measured_true_gap", "response_rate")
ONE_POINT = 0.01       # the design's promise (DESIGN.md "Scale"): rates agree within a point


def _paired_diffs(sampling: str, seeds=(1, 2, 3), days: int = 120) -> dict:
    out = {k: [] for k in RATES}
    for seed in seeds:
        s = {}
        for scale in (0.02, 0.05):
            cfg = load_scenario(FINAL, overrides={"city.scale": scale, "city.sampling": sampling})
            s[scale] = Model(cfg, seed=seed).run(days).results().summary
        for k in RATES:
            out[k].append(s[0.02][k] - s[0.05][k])
    return {k: np.array(v) for k, v in out.items()}


def _within(d: np.ndarray) -> bool:
    """|mean paired difference| within one point plus 2 standard errors of the seeds' spread."""
    return abs(d.mean()) <= ONE_POINT + 2 * d.std(ddof=1) / np.sqrt(len(d))


@pytest.mark.slow
def test_rates_at_two_small_scales_agree_within_a_point():
    sampled = _paired_diffs("townships")
    for k, d in sampled.items():
        assert _within(d), f"{k}: 0.02 - 0.05 = {d.mean():+.4f} (seeds {np.round(d, 4)})"


@pytest.mark.slow
def test_the_thinned_city_does_not_agree_across_the_same_scales():
    """The contrast that shows the sample matters (a separate test: pytest-xdist runs the two in parallel):
    the thinned city's resolution rate drifts between 0.02 and 0.05 far beyond its seeds' noise and by
    more than half a point (measured 2026-12: -1.12 points, se 0.06, where the sampled city's
    -0.16, se 0.28, is within noise)."""
    d = _paired_diffs("thin")["resolution_rate"]
    se = d.std(ddof=1) / np.sqrt(len(d))
    assert abs(d.mean()) > max(ONE_POINT / 2, 3 * se), f"the thinned city should drift (small queues): {d}"
