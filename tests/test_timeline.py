"""Timeline changes (model/timeline.py): dated changes reach every mechanism from their month on.

A ``[[timeline]]`` entry changes keys at a month, at once or phased in; the model hands the
new config to each mechanism (``reconfigure``). Keys that only build the model are refused
when the scenario is loaded.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import config_from

from model import Model, ScenarioError
from model.scenario import validate
from model.timeline import SETUP_ONLY


def with_timeline(entries: list[dict], scale: float = 0.002, days: int = 200, **over) -> Model:
    cfg = config_from(over or None, scale=scale, days=days).model_dump(mode="json")
    cfg["timeline"] = entries
    return Model(validate(cfg), seed=5)


def run_to_month(m: Model, month: int) -> None:
    while m.month < month:
        m.step()


# ------------------------------------------------------------------ phase-in
def test_a_phased_in_change_moves_in_equal_monthly_steps_and_others_change_at_once():
    start = config_from().rules.audit.sample_share
    m = with_timeline([{"month": 2, "label": "phase in", "phase_in_months": 4, "overrides": {
        "rules.audit.sample_share": start + 0.4, "rules.whistle.enabled": False,
        "rules.sanctions.strength": 3}}])             # a whole number given for a decimal field still ramps
    seen = {}
    while m.month < 8:
        m.step()
        seen[m.month] = (m.cfg.rules.audit.sample_share, m.cfg.rules.whistle.enabled, m.cfg.rules.sanctions.strength)
    assert seen[1] == (start, True, 1.0)
    assert [round(seen[k][0] - start, 6) for k in range(2, 8)] == [0.1, 0.2, 0.3, 0.4, 0.4, 0.4]
    assert [seen[k][2] for k in range(2, 7)] == [1.5, 2.0, 2.5, 3.0, 3.0]
    assert all(seen[k][1] is False for k in range(2, 8))    # true/false cannot be phased: at once
    assert m.rule_changes[0]["phase_in_months"] == 4 and not m.ramps


def test_a_later_change_of_a_key_being_phased_in_ends_the_phase_in():
    m = with_timeline([{"month": 1, "phase_in_months": 4, "overrides": {"rules.audit.sample_share": 0.4}},
                       {"month": 2, "overrides": {"rules.audit.sample_share": 0.0}}])
    while m.month < 6:
        m.step()
        if m.month >= 2:
            assert m.cfg.rules.audit.sample_share == 0.0, m.month
    assert not m.ramps


# ------------------------------------------------------------------ every mechanism gets the new config
def test_every_mechanism_reads_the_config_in_force_after_a_change():
    m = with_timeline([{"month": 1, "overrides": {"world.citizens.word_of_mouth": 0.9}}])
    run_to_month(m, 1)
    assert m.cfg.world.citizens.word_of_mouth == 0.9
    for mechanism in m.mechanisms:
        if hasattr(mechanism, "cfg"):
            assert mechanism.cfg is m.cfg, type(mechanism).__name__


def test_word_of_mouth_change_reaches_citizens_from_its_month():
    m = with_timeline([{"month": 1, "overrides": {"world.citizens.word_of_mouth": 0.9}}])
    run_to_month(m, 1)
    c = m.citizens
    before = c.reputation.copy()
    rate = np.full(before.size, 0.2)
    c.hear_about_service(rate)
    assert np.allclose(c.reputation - before, 0.9 * (rate - before))


def test_natural_decay_change_reaches_problem_sources_from_its_month():
    m = with_timeline([{"month": 1, "overrides": {"world.sources.natural_decay": 0.3}}])
    run_to_month(m, 1)
    s = m.sources
    stock = s.stock.copy()
    season = np.ones(stock.shape[1])
    s.step(season)
    assert np.allclose(s.stock, stock + s.arrival - 0.3 * stock)


def test_fewer_consultations_answered_at_once_after_the_change():
    m = with_timeline([{"month": 1, "overrides": {"world.demand.consultation_answered_directly": 0.1}}],
                      scale=0.003, days=70)
    m.run(70)
    d = [x["consultations_answered"] for x in m.daily]
    first, later = sum(d[:30]), sum(d[31:61])
    # 0.9 -> 0.1 of consultations answered at once: about 9x fewer (Poisson counts in the hundreds)
    assert first > 200 and later < first / 4


def test_a_new_reporting_hazard_scales_how_often_each_problem_is_reported():
    m = with_timeline([{"month": 1, "overrides": {"world.sources.report_hazard": 0.1}}])   # from 0.05
    hazard = m.sources.hazard.copy()
    run_to_month(m, 1)
    assert np.allclose(m.sources.hazard, 2 * hazard)


def test_a_new_trust_elasticity_re_weighs_filing_as_if_set_from_the_start():
    m = with_timeline([{"month": 1, "overrides": {"world.demand.trust_elasticity": 2.0}}], scale=0.002)
    run_to_month(m, 1)
    c = m.citizens
    # from scratch: each user's filing factor times their propensity level, summed by township
    cell = c.class_of(np.arange(c.n))
    w = c.level[cell % c.level.size] * c.trust_factor(c.trust) * c.is_user(np.arange(c.n))
    expect = np.bincount(c.township_of_class[cell], weights=w, minlength=c.n_townships)
    assert c.elasticity == 2.0
    assert np.allclose(c.trust_num, expect, rtol=1e-6)


def test_policy_and_catalogue_changes_reach_units_and_the_catalogue():
    m = with_timeline([{"month": 1, "overrides": {"world.behaviour.p_object_misrouted": 0.1,
                                                  "rules.dispatch.catalogue_accuracy": 0.5}}])
    run_to_month(m, 1)
    assert np.allclose(m.units.p_object_misrouted, 0.1)
    assert m.catalogue.accuracy == 0.5


@pytest.mark.parametrize("key", ["city.scale", "world.citizens.initial_trust", "world.behaviour.effort_game",
                                 "world.demand.caller_tail_shape"])
def test_a_timeline_key_no_mechanism_applies_is_refused_in_one_line(key):
    cfg = config_from().model_dump(mode="json")
    cfg["timeline"] = [{"month": 1, "overrides": {key: 0.3}}]
    with pytest.raises(ScenarioError) as err:
        validate(cfg, "s.toml")
    msg = str(err.value)
    assert "\n" not in msg and key in msg and "s.toml" in msg and "timeline" in msg


def test_setup_only_keys_are_real_schema_keys():
    fields = set()

    def walk(model, prefix=""):
        for name in type(model).model_fields:
            value = getattr(model, name)
            if hasattr(value, "model_fields"):
                walk(value, f"{prefix}{name}.")
            else:
                fields.add(f"{prefix}{name}")
    walk(config_from())
    for key in SETUP_ONLY:
        assert key in fields or (key.endswith(".") and any(f.startswith(key) for f in fields)), key
