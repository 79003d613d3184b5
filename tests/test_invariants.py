"""Invariants checked after every day of random valid runs (property-based, hypothesis).

Every contact is in exactly one state; nothing is closed or contacted before it is
created; no negative capacity, stock or remaining effort; the open list is exactly the
orders not closed. ``Model.check_invariants`` holds the core rules; a few more are
checked here.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import config_from, model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import Model
from model.orders import CLOSED, SAT_NONE


def extra_invariants(m: Model) -> None:
    wo = m.orders
    closed = wo.state == CLOSED
    assert (wo.ti_available >= wo.ti_created).all(), "no order is available before it exists"
    assert (wo.ti_created <= m.day - 1).all() and (wo.ti_created >= 0).all()
    assert (wo.satisfaction[~closed] == SAT_NONE).all(), "only closed orders are rated"
    assert not (wo.measured_resolved & ~closed).any(), "only closed orders count as resolved"
    assert ((wo.ti_done < 0) | (wo.ti_done >= wo.ti_created)).all()
    assert (wo.ti_done[closed & (wo.ti_done >= 0)] <= wo.ti_closed[closed & (wo.ti_done >= 0)]).all()
    assert not (wo.excluded & ~wo.labelled).any(), "only labelled orders leave the score"
    assert not (wo.detected & ~wo.audited).any(), "only audited orders are found out"
    assert not (wo.true_resolved & wo.unreasonable).any(), "an unreasonable request has nothing to solve"
    # banked slack (+) or overtime borrowed ahead (-) is bounded by flex_days of staff time
    bound = m.cfg.world.capacity.flex_days * m.units.capacity * (1 + m.units.support) + 1e-6
    assert np.isfinite(m.units.banked).all() and (np.abs(m.units.banked) <= bound).all()
    assert ((m.units.exhaustion >= 0) & (m.units.exhaustion <= 1)).all()
    assert np.allclose(m.units.effort.sum(1), 1.0) and (m.units.effort >= -1e-12).all()
    assert ((m.citizens.trust >= -1e-6) & (m.citizens.trust <= 1 + 1e-6)).all()
    assert m.citizens.n_unresolved.min() >= 0
    budgets = m.units.daily_budgets(m.proactive.campaign_hours)
    assert (budgets >= 0).all() and np.isfinite(budgets).all()
    d = m.daily[-1]
    assert d["dispatched"] <= d["requests"] <= d["contacts"]
    for k in ("response_rate", "resolution_rate", "satisfaction_rate", "true_resolution_rate"):
        assert 0.0 <= d[k] <= 1.0, k


def run_checking(m: Model, days: int) -> None:
    for _ in range(days):
        m.step()
        m.check_invariants()
        extra_invariants(m)


effort = st.tuples(*[st.floats(0.01, 1.0) for _ in range(4)]).map(lambda x: [v / sum(x) for v in x])


@st.composite
def valid_configs(draw):
    e = draw(effort)
    overrides = {
        "rules.dispatch.catalogue_accuracy": draw(st.floats(0.0, 1.0)),
        "world.capacity.ratio": draw(st.floats(0.2, 3.0)),
        "rules.audit.sample_share": draw(st.floats(0.0, 1.0)),
        "rules.assessment.resolved_by": draw(st.sampled_from(["unit_report", "requester", "audit"])),
        "rules.assessment.cooperation_scoring": draw(st.sampled_from(["none", "equal", "differential"])),
        "rules.whistle.enabled": draw(st.booleans()),
        "rules.deadlines.extensions": draw(st.booleans()),
        "rules.assessment.exclude_unreasonable": draw(st.booleans()),
        "world.behaviour.learning": draw(st.booleans()),
        "world.behaviour.effort_resolve": e[0], "world.behaviour.effort_satisfy": e[1],
        "world.behaviour.effort_game": e[2],
        "world.behaviour.effort_proactive": 1.0 - e[0] - e[1] - e[2],
    }
    scale = draw(st.floats(0.001, 0.003))
    days = draw(st.integers(20, 45))
    return overrides, scale, days, draw(st.integers(0, 2**31))


@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(valid_configs())
def test_invariants_hold_every_day_for_random_valid_configs(case):
    overrides, scale, days, seed = case
    m = Model(config_from(overrides, scale=scale, days=days), seed=seed)
    run_checking(m, days)


@pytest.mark.parametrize("overrides", [
    # overloaded units, heavy gaming, no audit: the stressed corner
    {"world.capacity.ratio": 0.2, "world.behaviour.effort_resolve": 0.3, "world.behaviour.effort_satisfy": 0.1,
     "world.behaviour.effort_game": 0.5, "world.behaviour.effort_proactive": 0.1, "rules.audit.sample_share": 0.0},
    # everything diverted or objected to
    {"world.triage.false_divert": 0.5, "world.triage.detect_unreasonable": 1.0, "rules.dispatch.catalogue_accuracy": 0.0,
     "world.behaviour.p_object_misrouted": 1.0, "world.behaviour.p_object_bucketpass": 1.0,
     "rules.dispatch.objection_review": False, "rules.dispatch.objection_delay_days": 0},
    # generous staffing, all proactive work and campaigns on
    {"world.capacity.ratio": 5.0, "rules.proactive.campaign_removal": 0.2, "rules.proactive.topics_per_month": 10,
     "world.sources.proactive_hours_per_source": 0.01},
])
def test_invariants_hold_in_extreme_corners(overrides):
    m = model(overrides, seed=3, scale=0.002, days=40)
    run_checking(m, 40)


def test_invariants_hold_across_a_timeline_rule_change():
    cfg = config_from(scale=0.002, days=40).model_dump(mode="json")
    cfg["timeline"] = [{"month": 1, "label": "test", "overrides": {
        "world.demand.contacts_per_capita_year": 2.0, "world.capacity.ratio": 0.5,
        "rules.whistle.enabled": False, "rules.assessment.resolved_by": "unit_report"}}]
    from model.scenario import validate

    m = Model(validate(cfg), seed=5)
    run_checking(m, 40)
    assert m.rule_changes and m.rule_changes[0]["month"] == 1
    assert m.cfg.rules.whistle.enabled is False


def test_check_invariants_catches_a_broken_order():
    m = model(seed=1, scale=0.001, days=5)
    m.run(5)
    m.check_invariants()
    wo = m.orders
    i = int(np.flatnonzero(wo.state == CLOSED)[0])
    wo.ti_closed[i] = wo.ti_created[i] - 1
    with pytest.raises(AssertionError, match="closes before"):
        m.check_invariants()
