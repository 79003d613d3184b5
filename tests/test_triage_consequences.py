"""Triage with consequences (Art. 11(2), 9(3), 37): classes from the request, errors both ways,
what diverted requesters get and do, malicious callers."""

from __future__ import annotations

import numpy as np
from conftest import draw_day, model, ran

from model import intake


def _triaged(overrides, scale=0.005, days=range(3)):
    m = model(overrides, scale=scale)
    parts = []
    for d in days:
        req = intake.describe_requests(draw_day(m, d)["requests"], m)
        req["divert"] = intake.triage(req, m)
        parts.append(req)
    return m, {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def test_class_propensities_follow_the_tables_and_average_to_the_configured_shares():
    m = model(scale=0.002)
    p = intake.matter_probabilities(m)
    names = m.city.categories.names
    po, ed = names.index("public_order"), names.index("education")
    # triage.csv: emergency 5.0 (public order) vs 0.3 (education); same request type (help)
    assert np.isclose(p[po, 1, 0] / p[ed, 1, 0], 5.0 / 0.3)
    assert (p[:, 0] == 0).all(), "consultations are never diverted"
    share = m.city.categories.share / m.city.categories.share.sum()
    mix = np.concatenate([[0.0], m.cfg.world.demand.request_type_mix])
    mean = np.einsum("c,t,ctk->k", share, mix, p)
    t = m.cfg.world.triage
    assert np.allclose(mean, [t.emergency_share, t.legal_channel_share, t.secret_privacy_share, t.unlawful_share])


def test_the_diversion_class_is_a_property_of_the_request_not_a_random_label():
    m, req = _triaged({"world.triage.detect_by_matter": 1.0, "world.triage.false_divert": 0.0,
                       "world.citizens.malicious_share": 0.0, "world.triage.emergency_share": 0.05,
                       "world.demand.contacts_per_capita_year": 4.0}, scale=0.01, days=range(12))
    cats = m.city.categories.names
    emerg = req["true_class"] == intake.DIV_EMERGENCY
    po = req["category"] == cats.index("public_order")
    ed = req["category"] == cats.index("education")
    assert po.sum() > 400 and ed.sum() > 300    # expected ratio 5 / 0.3 = 16.7; tested at 5
    assert emerg[po].mean() > 5 * emerg[ed].mean()
    # with perfect recognition what is diverted by the matter is exactly what the request is
    fixed = np.isin(req["true_class"], intake.MATTER_CLASSES)
    assert np.array_equal(req["divert"][fixed], req["true_class"][fixed])


def test_triage_errs_both_ways_and_missed_diversions_are_dispatched_as_unreasonable():
    m, req = _triaged({"world.triage.detect_by_matter": 0.5, "world.triage.false_divert": 0.2})
    should = req["true_class"] >= 0
    missed = should & (req["divert"] == intake.NOT_DIVERTED)
    wrong = ~should & (req["divert"] >= 0)
    assert missed.sum() > 20 and wrong.sum() > 20
    assert req["unreasonable"][missed & (req["true_class"] != intake.DIV_REPEAT)].all()
    assert not req["unreasonable"][~should & (req["stream"] != 1)].any()


def test_a_wrongly_diverted_requester_loses_trust_and_calls_again():
    m = model({"world.triage.false_divert": 0.5, "world.citizens.divert_recall": 1.0,
               "world.citizens.divert_complaint_wrong": 0.0, "world.citizens.divert_complaint_right": 0.0},
              scale=0.005)
    req = intake.describe_requests(draw_day(m, 0)["requests"], m)
    divert = intake.triage(req, m)
    before = m.citizens.trust.copy()
    out = intake.divert_outcomes(req, divert, 0, m)
    wrong = (divert >= 0) & (req["true_class"] == intake.NOT_DIVERTED)
    who = np.unique(req["requester"][wrong])
    assert out["wrongly_diverted"] == wrong.sum() > 30
    assert (m.citizens.trust[who] < before[who]).all(), "a wrong diversion moves trust toward 0"
    back = [m.hotline.due(d) for d in range(1, 200)]
    back = {k: np.concatenate([b[k] for b in back if b is not None]) for k in req if k in intake._RETURN_KEYS}
    assert back["via_divert"].all() and (back["n_prior"] >= 1).all()
    assert np.isin(req["requester"][wrong], back["requester"]).all(), "every wrongly diverted requester calls again"
    assert out["divert_recalls"] == back["key"].size


def test_a_reviewed_complaint_about_a_wrong_diversion_is_dispatched():
    m = model({"world.triage.false_divert": 0.5, "world.citizens.divert_complaint_wrong": 1.0,
               "rules.hotline.complaint_review": 1.0}, scale=0.005)
    req = intake.describe_requests(draw_day(m, 0)["requests"], m)
    divert = intake.triage(req, m)
    out = intake.divert_outcomes(req, divert, 0, m)
    assert out["divert_complaints"] >= out["wrongly_diverted"] > 30
    parts = [m.hotline.due(d) for d in range(1, 200)]
    back = {k: np.concatenate([b[k] for b in parts if b is not None]) for k in next(p for p in parts if p)}
    complaints = back["complaint"] & (back["true_class"] == intake.NOT_DIVERTED)
    again = intake.triage(back, m)
    assert complaints.sum() > 30
    assert (again[complaints] == intake.NOT_DIVERTED).all(), "the review dispatches what should be dispatched"


def test_rightly_diverted_requesters_move_toward_the_trust_of_their_outcome():
    m = model({"world.triage.false_divert": 0.0, "world.citizens.divert_trust": [1.0, 1.0, 1.0],
               "world.citizens.initial_trust": 0.5, "world.demand.contacts_per_capita_year": 4.0}, scale=0.01)
    req = intake.describe_requests(draw_day(m, 0)["requests"], m)
    divert = intake.triage(req, m)
    intake.divert_outcomes(req, divert, 0, m)
    who = np.unique(req["requester"][divert >= 0])
    assert who.size > 30 and (m.citizens.trust[who] > 0.5).all()


def test_with_zero_malicious_callers_nothing_is_handled_as_malicious():
    m = ran({"world.citizens.malicious_share": 0.0}, seed=2, scale=0.002, days=20)
    assert m.citizens.malicious_idx.size == 0
    for k in ("malicious_calls", "malicious_warned", "malicious_restricted", "malicious_deterred"):
        assert sum(d[k] for d in m.daily) == 0, k


def test_malicious_callers_sit_in_the_heavy_tail_and_are_warned_only_when_the_hotline_handles_them():
    over = {"world.citizens.malicious_share": 0.005, "world.triage.detect_malicious": 1.0,
            "world.citizens.warning_deterrence": 0.0}
    m = model(over, scale=0.005)
    c = m.citizens
    lvl = c.level[c.class_of(c.malicious_idx) % len(c.level)]
    everyone = (c.count * c.level).sum() / c.count.sum()
    assert c.malicious_idx.size > 10 and lvl.mean() > 2 * everyone
    warn = ran({**over, "rules.hotline.malicious_handling": "warn"}, seed=2, scale=0.002, days=20)
    none = ran({**over, "rules.hotline.malicious_handling": "none"}, seed=2, scale=0.002, days=20)
    restrict = ran({**over, "rules.hotline.malicious_handling": "restrict", "rules.hotline.restrict_after": 1},
                   seed=2, scale=0.002, days=20)
    tot = lambda m, k: sum(d[k] for d in m.daily)  # noqa: E731
    assert tot(none, "malicious_calls") > 10 and tot(none, "malicious_warned") == 0
    assert tot(warn, "malicious_warned") == tot(warn, "malicious_calls") > 10, "detect 1: every malicious call is warned"
    assert tot(restrict, "malicious_restricted") > 0 and tot(warn, "malicious_restricted") == 0


def test_warned_malicious_callers_who_are_deterred_stop_calling_maliciously():
    m = ran({"world.citizens.malicious_share": 0.005, "world.triage.detect_malicious": 1.0,
             "world.citizens.warning_deterrence": 1.0}, seed=2, scale=0.002, days=20)
    c = m.citizens
    deterred = sum(d["malicious_deterred"] for d in m.daily)
    assert deterred == (~c.malicious_active).sum() > 5
    assert sum(d["malicious_warned"] for d in m.daily) == deterred, "each warned caller stops at once"
