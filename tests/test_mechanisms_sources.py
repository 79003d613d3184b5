"""Problem sources (问题源) and proactive governance (Art. 24-27)."""

from __future__ import annotations

import numpy as np
from conftest import model, ran


def test_initial_stock_produces_the_calibrated_reasonable_requests():
    m = model(scale=0.002)
    s, d = m.sources, m.demand
    assert np.isclose(s.expected_requests(np.ones(m.city.n_townships)).sum(), d.reasonable_per_day)
    # the stock is in balance at the calibration resolution rate: arrivals = outflow
    c = m.cfg.world.sources
    out = s.stock * (c.natural_decay + s.hazard * c.calibration_resolution * c.fix_on_resolution)
    assert np.allclose(out, s.arrival)


def test_problems_arise_with_need_not_with_reporting():
    m = model(scale=0.002)
    per_capita = m.sources.arrival.sum(1) / m.city.township_pop
    assert np.allclose(per_capita / m.city.township_need, (per_capita / m.city.township_need)[0])


def test_resolving_removes_at_most_the_stock():
    m = model(scale=0.001)
    s = m.sources
    t = np.zeros(10_000, dtype=np.int64)
    c = np.zeros(10_000, dtype=np.int64)
    before = s.stock[0, 0]
    s.remove_resolved(t, c, np.ones(10_000, bool))
    assert s.stock[0, 0] == 0.0 and np.isclose(s.removed_resolution[0, 0], before)


def test_without_unit_source_work_nothing_is_removed_proactively():
    m = ran({"rules.proactive.unit_source_work": False}, seed=1, scale=0.001, days=10)
    assert m.sources.removed_proactive.sum() == 0
    assert (m.units.effort[:, 3] == 0).all()


def test_without_topic_of_the_month_there_are_no_campaigns():
    m = ran({"rules.proactive.topic_of_month": False}, seed=1, scale=0.002, days=35)
    assert m.proactive.history == [] and m.sources.removed_campaign.sum() == 0


def test_topic_of_the_month_targets_the_most_frequent_removable_categories():
    m = ran({"rules.proactive.topics_per_month": 2}, seed=1, scale=0.002, days=35)
    topics = m.proactive.history
    assert len(topics) == 2
    cats = m.city.categories
    wo = m.orders
    vol = np.bincount(wo.category[wo.ti_created <= 30], minlength=cats.n).astype(float)
    vol[~cats.removable] = -1
    assert {t["category"] for t in topics} == set(np.argsort(-vol, kind="stable")[:2].tolist())


def test_a_campaign_removes_its_share_of_the_targeted_sources_each_day():
    m = model({"rules.proactive.campaign_removal": 0.1}, scale=0.001)
    cats = m.city.categories
    c = int(np.flatnonzero(cats.removable)[0])
    m.proactive.campaigns = [{"category": c, "until": 99}]
    before = m.sources.stock.copy()
    hours = m.proactive.campaign_day(m.sources, m.cfg.rules)
    assert np.allclose(m.sources.stock[:, c], 0.9 * before[:, c])
    other = np.arange(cats.n) != c
    assert np.array_equal(m.sources.stock[:, other], before[:, other])
    assert np.isclose(hours.sum(), 0.1 * before[:, c].sum() * m.cfg.rules.proactive.campaign_cost_hours)
