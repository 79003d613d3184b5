"""Proactive governance (主动治理, Art. 24-27): units' own source work and the topic of the month (每月一题)."""


from __future__ import annotations

import numpy as np
from conftest import model, ran


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
