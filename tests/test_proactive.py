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


def _campaign(overrides=None):
    """A fresh model with one campaign on the first removable category."""
    m = model({"rules.proactive.campaign_removal": 0.1, **(overrides or {})}, scale=0.001)
    c = int(np.flatnonzero(m.city.categories.removable)[0])
    m.proactive.campaigns = [{"category": c, "until": 99}]
    return m, c


def test_a_campaign_with_ample_hours_removes_its_reachable_share_of_the_stock_present():
    # expectation changed with issue 9 item 7: removal is paid from the departments' hours;
    # with hours for everything it is campaign_removal of the stock actually present
    m, c = _campaign({"rules.proactive.campaign_staff_share": 1.0})
    before = m.sources.stock.copy()
    hours = m.proactive.campaign_day(m.sources, m.cfg, np.full(m.city.n_units, 1e9))
    assert np.allclose(m.sources.stock[:, c], 0.9 * before[:, c])
    other = np.arange(m.city.categories.n) != c
    assert np.array_equal(m.sources.stock[:, other], before[:, other])
    assert np.isclose(hours.sum(), 0.1 * before[:, c].sum() * m.cfg.rules.proactive.campaign_cost_hours)
    # only the lead line's municipal and district departments pay
    line = m.city.categories.line[c]
    payers = set(np.flatnonzero(hours > 0))
    assert payers <= {int(m.city.muni_unit[line]), *m.city.distdept_unit[:, line].tolist()}


def test_a_campaign_with_zero_hours_removes_nothing():
    for share, staff in ((0.0, 1e9), (1.0, 0.0)):     # nothing set aside, or nobody with time today
        m, c = _campaign({"rules.proactive.campaign_staff_share": share})
        before = m.sources.stock.copy()
        hours = m.proactive.campaign_day(m.sources, m.cfg, np.full(m.city.n_units, staff))
        assert np.array_equal(m.sources.stock, before) and hours.sum() == 0
        assert m.proactive.campaigns[0]["sources_removed"] == 0


def test_a_campaign_removes_what_its_hours_pay_for_where_the_department_has_them():
    # one district department has 3 hours set aside, nobody else any: it removes 3 / cost
    # sources in its own district (fewer if fewer are reachable), nothing elsewhere
    m, c = _campaign({"rules.proactive.campaign_staff_share": 1.0, "rules.proactive.campaign_cost_hours": 0.5})
    line = m.city.categories.line[c]
    staff = np.zeros(m.city.n_units)
    staff[m.city.distdept_unit[2, line]] = 3.0
    before = m.sources.stock.copy()
    hours = m.proactive.campaign_day(m.sources, m.cfg, staff)
    removed = before[:, c] - m.sources.stock[:, c]
    in_d = m.city.township_district == 2
    expected = min(3.0 / 0.5, 0.1 * before[in_d, c].sum())
    assert np.isclose(removed[in_d].sum(), expected)
    assert removed[~in_d].sum() == 0
    assert np.isclose(hours.sum(), expected * 0.5) and np.isclose(hours[m.city.distdept_unit[2, line]], hours.sum())


def test_the_lead_department_covers_districts_whose_departments_fall_short():
    m, c = _campaign({"rules.proactive.campaign_staff_share": 1.0, "rules.proactive.campaign_cost_hours": 1.0})
    line = m.city.categories.line[c]
    staff = np.zeros(m.city.n_units)
    staff[m.city.muni_unit[line]] = 2.0
    before = m.sources.stock[:, c].sum()
    hours = m.proactive.campaign_day(m.sources, m.cfg, staff)
    assert np.isclose(before - m.sources.stock[:, c].sum(), min(2.0, 0.1 * before))
    assert np.isclose(hours[m.city.muni_unit[line]], hours.sum())


def test_campaign_hours_come_out_of_the_departments_budget_before_other_work():
    m = ran({"rules.proactive.topics_per_month": 2}, seed=1, scale=0.002, days=45)
    topics = m.results().topics
    assert {"hours_used", "sources_removed"} <= set(topics.columns)
    assert (topics["hours_used"] > 0).all() and (topics["sources_removed"] > 0).all()
    cost = m.cfg.rules.proactive.campaign_cost_hours
    assert np.isclose(topics["hours_used"].sum(), topics["sources_removed"].sum() * cost)
    assert np.isclose(m.results().summary["campaign_hours"], topics["hours_used"].sum())


def test_proactive_hours_are_booked_only_for_units_that_have_sources_to_work_on():
    m = ran(seed=1, scale=0.002, days=35)
    um = m.results().units_monthly
    idle = ~m.proactive.has_cells[um["unit"].to_numpy()]
    assert idle.any() and (um.loc[idle, "hours_proactive"] == 0).all()


def test_in_a_run_campaigns_without_staff_time_set_aside_remove_nothing():
    m = ran({"rules.proactive.campaign_staff_share": 0.0}, seed=1, scale=0.002, days=45)
    assert len(m.proactive.history) > 0                     # topics are still chosen (Art. 24)
    assert m.sources.removed_campaign.sum() == 0 and m.results().summary["campaign_hours"] == 0
