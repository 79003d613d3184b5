"""Intake and triage at the hotline (Art. 10-11): recording, answering, the six diversions."""

from __future__ import annotations

import numpy as np
from conftest import binomial_tolerance, drawn_requests, model, ran

from model import intake

NO_SEASON = {"world.demand.seasonality": False}


def test_emergency_share_diverts_that_share_of_non_consultation_requests():
    m = model({"world.triage.emergency_share": 0.2, "world.demand.contacts_per_capita_year": 4.0,
               "world.triage.detect_by_matter": 1.0}, scale=0.003)   # issue 9: recognised with certainty
    req = drawn_requests(m)
    non_consult = req["rtype"] != 0
    share = (req["divert"][non_consult] == 0).mean()
    assert non_consult.sum() > 1000
    assert abs(share - 0.2) < binomial_tolerance(int(non_consult.sum()), 0.2)
    assert not (req["divert"][~non_consult] == 0).any(), "consultations are never sent to 110/119/120/122"


def test_perfect_triage_diverts_every_unreasonable_request_and_no_reasonable_one():
    # issue 9 item 3: the matter classes are recognised with detect_by_matter, malicious callers apart
    m = model({"world.triage.detect_unreasonable": 1.0, "world.triage.false_divert": 0.0,
               "world.triage.detect_by_matter": 1.0, "world.citizens.malicious_share": 0.0,
               "world.demand.unreasonable_share": 0.3}, scale=0.003)
    req = drawn_requests(m)
    fixed = np.isin(req["divert"], [0, 1, 3, 5])          # Art. 11(2) 1, 2, 4, 6: by the matter itself
    rest = ~fixed & (req["n_prior"] == 0)
    assert (req["divert"][rest & req["unreasonable"]] == 4).all()
    assert (req["divert"][rest & ~req["unreasonable"]] == intake.NOT_DIVERTED).all()
    assert (rest & req["unreasonable"]).sum() > 50


def test_without_triage_errors_or_detection_nothing_is_diverted_as_out_of_scope():
    m = model({"world.triage.detect_unreasonable": 0.0, "world.triage.false_divert": 0.0}, scale=0.003)
    req = drawn_requests(m)
    assert not (req["divert"] == 4).any()


def test_consultations_answered_directly_never_become_work_orders():
    m = ran({"world.demand.consultation_answered_directly": 1.0}, seed=1, scale=0.002, days=12)
    assert m.orders.n > 0
    assert not (m.orders.rtype == 0).any()


def test_no_direct_answers_sends_every_consultation_to_dispatch():
    m = ran({"world.demand.consultation_answered_directly": 0.0}, seed=1, scale=0.002, days=12)
    assert all(d["consultations_answered"] == 0 for d in m.daily)
    assert (m.orders.rtype == 0).sum() > 0


def test_every_contact_is_answered_diverted_or_dispatched_each_day():
    m = ran(seed=3, scale=0.002, days=35)
    for d in m.daily:
        diverted = sum(d[f"diverted_{n}"] for n in intake.DIVERT_NAMES)
        assert d["consultations_answered"] + diverted + d["dispatched"] == d["contacts"]
        assert d["requests"] == diverted + d["dispatched"]


# ------------------------------------------------------------ who files: the heavy tail
