"""Problem sources (问题源) and proactive governance (Art. 24-27)."""

from __future__ import annotations

import numpy as np
from conftest import K_SD, draw_day, model, ran

from model.demand import STREAM_SOURCE


def test_initial_stock_produces_the_calibrated_reasonable_requests():
    # the published volume (population x contacts per capita, less consultations and the
    # unreasonable share) against what the initial problem stock really files over many
    # independent days' draws (keyed by day, from the same fresh state)
    m = model(scale=0.002)
    d = m.cfg.world.demand
    target = (m.city.township_pop.sum() * m.cfg.city.scale * d.contacts_per_capita_year / 365.0
              * (1 - d.consultation_share) * (1 - d.unreasonable_share))
    days = 300
    filed = sum(int((draw_day(m, day)["requests"]["stream"] == STREAM_SOURCE).sum()) for day in range(days))
    assert abs(filed - days * target) < K_SD * np.sqrt(days * target)        # a sum of Poisson counts
    # the stock is in balance at the calibration resolution rate: problems arising = problems
    # decaying + problems fixed when the requests they produce are resolved at that rate
    c = m.cfg.world.sources
    outflow = c.natural_decay * m.sources.total() + c.calibration_resolution * c.fix_on_resolution * filed / days
    tol = c.calibration_resolution * c.fix_on_resolution * K_SD * np.sqrt(days * target) / days
    assert abs(m.sources.arrival.sum() - outflow) < tol


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
