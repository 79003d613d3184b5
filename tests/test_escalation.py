"""District supervision and three-level escalation (Art. 12(1)1, 20, 24; escalation.py)."""

from __future__ import annotations

import numpy as np
from conftest import ran

from model.escalation import ESC_CITY, ESC_DISTRICT, first_affordable, unlock
from model.orders import COOP_ENGAGED, COOP_NONE, COOP_REFUSED, WorkOrders

# a strained city whose districts have hours to coordinate; the district settles nothing, so
# every escalated case goes on to the city
STRAINED = {"world.capacity.ratio": 0.6, "world.capacity.district_coordination_share": 0.5,
            "world.district.resolve_share": 0.0}
SCALE, DAYS = 0.002, 45


def test_each_district_pays_for_items_in_rank_order_as_far_as_its_hours_go():
    group = np.array([0, 0, 0, 1, 1, 2])
    rank = np.array([3, 1, 2, 9, 8, 0])
    ok = first_affordable(group, rank, 1.5, np.array([3.0, 10.0, 1.0]))
    assert ok.tolist() == [False, True, True, True, True, False]
    assert first_affordable(group, rank, 0.0, np.zeros(3)).all()       # free work needs no hours


def test_coordination_unlocks_cooperation_and_its_hours_count_as_work():
    wo = WorkOrders(8)
    rows = wo.add(remaining=np.array([3.0, 0.5, 2.0], np.float32), coop_remaining=np.array([1.0, 1.0, 0.0], np.float32),
                  need_coop=np.array([True, True, False]),
                  coop_state=np.array([COOP_REFUSED, COOP_NONE, COOP_NONE], np.int8))
    unlock(wo, rows, 2.0)
    assert wo.coop_state.tolist() == [COOP_ENGAGED, COOP_ENGAGED, COOP_NONE]   # no cooperation needed: none sought
    assert np.allclose(wo.remaining, [1.0, 0.0, 0.0])
    assert np.allclose(wo.coop_remaining, [1.0, 0.0, 0.0])                      # what own work left goes to the part


def test_escalation_to_the_city_is_limited_by_its_capacity():
    # 500 cases a day at full scale x 0.002 = one case a day
    m = ran({**STRAINED, "world.capacity.city_cases_per_day": 500.0}, seed=1, scale=SCALE, days=DAYS)
    d = m.results().daily
    assert d["escalations_city"].sum() == d["escalations_district"].sum() > d["city_cases_taken"].sum() > 0
    assert d["city_cases_taken"].max() == 1 and d["city_cases_taken"].sum() <= DAYS
    assert d["city_queue"].max() > 10
    wo = m.orders
    assert (wo.esc_level[wo.ti_city >= 0] == ESC_CITY).all()
    # the city takes the oldest escalations first: none it took was escalated after one still waiting
    waiting = (wo.esc_level == ESC_CITY) & (wo.ti_city < 0) & (wo.state != 2)
    if waiting.any():
        assert wo.ti_escalated[wo.ti_city >= 0].min() <= wo.ti_escalated[waiting].min()
    # with capacity to spare the city takes every case the day it arrives; without any, none
    ample = ran({**STRAINED, "world.capacity.city_cases_per_day": 1e5}, seed=1, scale=SCALE, days=DAYS)
    a = ample.results().daily
    assert a["city_cases_taken"].sum() == a["escalations_city"].sum() > 0 and a["city_queue"].max() == 0
    none = ran({**STRAINED, "world.capacity.city_cases_per_day": 0.0}, seed=1, scale=SCALE, days=DAYS)
    assert none.results().daily["city_cases_taken"].sum() == 0


def test_the_district_settles_its_share_and_sends_only_the_rest_to_the_city():
    m = ran({**STRAINED, "world.district.resolve_share": 1.0}, seed=1, scale=SCALE, days=DAYS)
    d, wo = m.results().daily, m.orders
    assert d["escalations_district"].sum() > 0 and d["escalations_city"].sum() == 0
    up = wo.esc_level == ESC_DISTRICT
    assert (wo.coop_state[up & wo.need_coop] == COOP_ENGAGED).all()


def test_a_district_without_hours_escalates_nothing():
    m = ran({**STRAINED, "world.district.case_hours": 100.0}, seed=1, scale=SCALE, days=DAYS)
    d = m.results().daily
    assert d["escalations_district"].sum() == 0 and not m.orders.escalated.any()
    assert d["district_hours_escalation"].sum() == 0


def test_district_hours_are_spent_by_kind_within_what_the_district_has():
    m = ran(STRAINED, seed=1, scale=SCALE, days=DAYS)
    d, w = m.results().daily, m.cfg.world.district
    used = d["district_hours_fallback"] + d["district_hours_supervision"] + d["district_hours_escalation"]
    assert (used <= d["district_hours_available"] + 1e-6).all()
    assert np.allclose(d["district_hours_supervision"], d["supervised"] * w.supervision_hours)
    assert np.allclose(d["district_hours_escalation"], d["escalations_district"] * w.case_hours)
    s = m.results().summary
    assert s["escalations_district"] == int(m.orders.escalated.sum())


def test_supervision_of_the_copies_needs_the_copy_and_speeds_escalation():
    on = ran(STRAINED, seed=1, scale=SCALE, days=DAYS)
    off = ran({**STRAINED, "rules.dispatch.copy_to_district": False}, seed=1, scale=SCALE, days=DAYS)
    assert off.results().daily["supervised"].sum() == 0 and not off.orders.supervised.any()
    assert off.results().daily["district_hours_supervision"].sum() == 0
    r, factor = on.cfg.rules.whistle, on.cfg.world.handling.uncopied_escalation_factor

    def ages(m):
        wo = m.orders
        e = wo.esc_level > 0
        return (wo.ti_escalated - wo.ti_available)[e], wo.supervised[e], wo.hard[e]

    age, sup, hard = ages(off)
    assert age.size > 0 and (age >= r.escalation_days * factor).all()      # without the copy it takes longer
    age, sup, hard = ages(on)
    # followed-up stuck hard requests go up at their deadline, before the hard-request threshold
    early = sup & hard & (age < r.hard_escalation_days)
    assert early.sum() > 0
    # supervision follows up only township orders at or past their deadline
    wo = on.orders
    assert (on.city.unit_kind[wo.unit[wo.supervised]] == 0).all()


def test_a_district_government_agent_reads_its_hours_left():
    from model.agents import DistrictGovernment

    m = ran(STRAINED, seed=1, scale=SCALE, days=DAYS)
    govs = list(m.agents_by_type[DistrictGovernment])
    assert len(govs) == 16
    assert np.allclose([g.coordination_hours_left for g in govs], m.districts.hours_left)
