"""The measured figures (model/measures.py), each defined once and used by daily series, summary and assessment."""

from __future__ import annotations

import numpy as np
from conftest import binomial_tolerance, ran

from model.assessment import unit_rates
from model.calendar import month_end_day
from model.measures import city_rates, in_scope, responded_on_time, routing_days, three_rate_score
from model.orders import CLOSED, SAT_BASIC, WorkOrders


def tiny_orders() -> WorkOrders:
    wo = WorkOrders(16)
    # received by the responsible unit the day they were created (no routing delay)
    wo.add(tier=np.array([0, 2, 2, 3], np.int8), ti_created=np.array([5, 5, 5, 5], np.int16),
           ti_available=np.array([5, 5, 5, 5], np.int16),
           ti_contact=np.array([5, 6, 7, -1], np.int16), excluded=np.array([False, False, False, True]),
           measured_resolved=np.array([True, False, True, True]), true_resolved=np.array([False, False, True, False]),
           satisfaction=np.array([2, 0, 1, 2], np.int8), state=np.full(4, CLOSED, np.int8))
    return wo


def test_response_counts_contact_within_the_tier_response_time():
    wo = tiny_orders()
    # tiers 2 h / 7 d / 7 d / 15 d with response days [0, 0, 1, 1]: day 5 ok, day 6 ok (1 day), day 7 late, never
    assert responded_on_time(wo, np.arange(4), [0, 0, 1, 1]).tolist() == [True, True, False, False]


def test_city_rates_are_shares_of_in_scope_orders_and_truth_of_all():
    wo = tiny_orders()
    r = city_rates(wo, np.arange(4), [0, 0, 1, 1])
    assert in_scope(wo, np.arange(4)).tolist() == [True, True, True, False]
    assert r["response_rate"] == 2 / 3 and r["resolution_rate"] == 2 / 3 and r["satisfaction_rate"] == 2 / 3
    assert r["true_resolution_rate"] == 1 / 4


def test_three_rate_score_weighs_the_rates():
    class W:
        response, resolution, satisfaction = 0.2, 0.5, 0.3
    assert np.isclose(three_rate_score(1.0, 0.5, 0.0, W), 100 * (0.2 + 0.25))


def test_the_daily_series_and_the_monthly_unit_rates_count_the_same_orders():
    m = ran(days=40)
    end = month_end_day(0)
    d0 = [x for x in m.daily if x["day"] <= end]
    month0 = m.results().units_monthly.query("month == 0")
    # the first month's closed in-scope orders, from the unit table and from the daily series
    assert month0["closed"].sum() == sum(x["closed"] for x in d0)
    wo = m.orders
    rows = np.flatnonzero((wo.state == CLOSED) & (wo.ti_closed <= end))
    r = city_rates(wo, rows, m.cfg.rules.deadlines.response_days)
    v = {k: month0[k].to_numpy() for k in ("responded", "in_scope", "measured_resolved", "satisfied",
                                             "true_resolved", "closed")}
    per_unit = unit_rates(v)
    assert np.isclose(np.nansum(per_unit["resolution_rate"] * v["in_scope"]) / v["in_scope"].sum(), r["resolution_rate"])
    assert np.isclose(v["satisfied"].sum() / v["in_scope"].sum(), r["satisfaction_rate"])
    assert ((wo.satisfaction[rows] >= SAT_BASIC) & ~wo.excluded[rows]).sum() == v["satisfied"].sum()


# ------------------------------------------------------------ response from receipt (issue 9 item 2)
def test_a_routing_delay_does_not_lower_the_receiving_units_response():
    # created day 5; received by the responsible unit on day 8 (district forwarding, re-dispatch,
    # linkage...); contacted on day 8 or 9 (within the 1-day response time) or day 10 (late)
    wo = WorkOrders(16)
    wo.add(tier=np.full(3, 2, np.int8), ti_created=np.full(3, 5, np.int16), ti_available=np.full(3, 8, np.int16),
           ti_contact=np.array([8, 9, 10], np.int16), state=np.full(3, CLOSED, np.int8))
    assert responded_on_time(wo, np.arange(3), [0, 0, 1, 1]).tolist() == [True, True, False]
    assert routing_days(wo, np.arange(3)).tolist() == [3.0, 3.0, 3.0]   # the hotline's and dispatch's time


def test_in_a_run_delayed_orders_respond_as_well_as_the_others():
    # the shortcut (response counted from creation) put linkage and forwarded orders near 0
    m = ran(seed=3, scale=0.002, days=35)
    wo = m.orders
    rows = np.flatnonzero(wo.state == CLOSED)
    ok = responded_on_time(wo, rows, m.cfg.rules.deadlines.response_days)
    delayed = routing_days(wo, rows) > 0
    assert delayed.sum() > 100
    p_all = ok.mean()
    assert ok[delayed].mean() >= p_all - binomial_tolerance(int(delayed.sum()), p_all)
    s = m.results().summary
    assert np.isclose(s["routing_days"], routing_days(wo, rows).mean())
    assert np.isclose(s["redispatch_share"], (wo.n_redispatch[rows] > 0).mean())
    daily = m.results().daily
    assert {"routing_days", "redispatch_per_order", "overdue_open_share", "explained_unsolvable"} <= set(daily)
