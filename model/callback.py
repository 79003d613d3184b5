"""Callback and rating (回访, Art. 8, 9, 23), audit (Art. 32) and the measured outcome.

When an order closes, the hotline calls the requester back: was it resolved, are you
satisfied (satisfied / basically satisfied / dissatisfied)? The answer depends on what
really happened, on the requester's expectation, on contact and explanation, on pressure
from the unit and on the requester's honesty (Art. 9: rate objectively):
expectancy-disconfirmation (Van Ryzin 2004). The model keeps the true outcome beside the
measured one. Who decides "resolved" is a rule: the unit's report, the requester, or
the requester corrected by a third-party audit sample. Audits catch false closures
(弄虚作假, Art. 35(3)); the hotline checks a share of 'unreasonable' labels (Art. 32(3)),
rejecting false ones with one probability and correct ones, by mistake, with another.

:func:`call_back` writes the callback's answers into the work orders and returns what the
requesters now do (the model hands it to citizens, demand and problem sources).
"""

from __future__ import annotations

import numpy as np

from . import kernels
from .assessment import Tally
from .decisions import evidence_tally
from .orders import SAT_BASIC, SAT_NO, SAT_NONE, SAT_YES


def call_back(closing: np.ndarray, day: int, model, pressure_hours: np.ndarray) -> dict:
    """Rate today's closed orders (``pressure_hours``: each unit's pressure time today).

    Returns counts for the daily series and, for the other mechanisms, ``requester`` /
    ``satisfaction`` / ``performance`` / ``resolved`` (trust and expectation),
    ``refile_rows`` / ``refile_days`` (who calls again, when) and ``fixed`` (closures whose
    fix reached a problem source)."""
    wo, cfg, s = model.orders, model.cfg, model.streams
    if closing.size == 0:
        return {}
    c = cfg.world.citizens
    key, unit = wo.key[closing], wo.unit[closing].astype(np.int64)
    true = wo.true_resolved[closing]
    contacted = wo.ti_contact[closing] >= 0
    # pressure (Art. 35(5) forbids it): the unit presses the requesters of its unsolved closures
    # as often as it chooses to (Units.p_press, decisions.py); its pressure hours go to those
    unsolved = ~true & contacted
    pressed = unsolved & s.bernoulli(model.units.p_press[unit], "pressure.target", key)
    n_pressed = np.bincount(unit[pressed], minlength=model.city.n_units)
    press_hours = pressure_hours / np.maximum(n_pressed, 1)
    wo.pressure[closing] = np.where(pressed, press_hours[unit], 0.0)
    # diminishing returns: the first half hour of pressure or hour of explanation does most
    pressure = 1.0 - np.exp(-wo.pressure[closing] / c.pressure_hours)
    explained = 1.0 - np.exp(-wo.explain[closing] / c.explain_hours)
    requester = wo.requester[closing]
    perf = np.where(true, c.performance_resolved, c.performance_unresolved)
    k = kernels.get(closing.size)
    rate = _rate_compiled if k is not None and pressure.dtype == explained.dtype == np.float32 else _rate_numpy
    sat, unreached, measured, detected, refile, fixed = rate(closing, key, true, contacted, pressure, explained,
                                                             requester, perf, model)
    delay = 1 + np.floor(-c.refile_delay_days * np.log1p(-s.uniform("refile.delay", key))).astype(np.int64)
    wo.ti_refile[closing[refile]] = day + delay[refile]
    reports = pressure_reports(closing, pressure, unit, ~unreached, model)
    reports["tally"].items += evidence_tally(wo, closing, model.city.n_units).items   # what units learn from
    survey = independent_survey(key, true, contacted, explained, requester, model)
    return {**reports, **survey, "unreached": int(unreached.sum()),
            "closed": int(closing.size), "measured_resolved": int(measured.sum()),
            "satisfied": int((sat >= SAT_BASIC).sum()), "true_resolved": int(true.sum()),
            "refiled": int(refile.sum()), "detected": int(detected.sum()),
            "requester": requester, "satisfaction": sat, "performance": perf + c.contact_performance * contacted,
            "resolved": true, "refile_rows": closing[refile], "refile_days": day + delay[refile],
            "township": wo.township[closing], "category": wo.category[closing], "fixed": fixed}


def _rate_numpy(closing, key, true, contacted, pressure, explained, requester, perf, model) -> tuple:
    """The requester's answers, who decides 'resolved', audits, label checks, who calls again
    and which fixes reach a problem source; writes them into the orders. Returns the
    satisfaction answer, unreached, measured, detected, refile and fixed (per closing order)."""
    wo, cfg, s = model.orders, model.cfg, model.streams
    c, rules = cfg.world.citizens, cfg.rules
    # "was it resolved?" honest unless persuaded or pressed (Art. 9)
    honest = s.bernoulli(c.honesty, "callback.honest", key)
    swayed = s.bernoulli(np.clip(c.pressure_effect * pressure + c.explain_persuasion * explained, 0, 1),
                         "callback.sway", key)
    said = np.where(true, s.bernoulli(c.confirm_resolved, "callback.confirm", key), ~honest | swayed)
    # satisfaction: expectancy-disconfirmation
    score = (perf - model.citizens.expectation[requester]
             + c.contact_effect * (c.contact_share * contacted + (1 - c.contact_share) * explained)
             + c.pressure_effect * pressure + c.rating_noise * s.normal("callback.noise", key))
    sat = np.select([score > c.satisfied_cut, score > c.basic_cut], [SAT_YES, SAT_BASIC], SAT_NO)
    unreached = reachability(closing, model)                  # Art. 23: no answer, no rating
    said = said & ~unreached
    wo.said_resolved[closing] = said
    wo.satisfaction[closing] = np.where(unreached, SAT_NONE, sat)
    # who decides "resolved" (Art. 23, 32)
    measured = wo.claimed_resolved[closing] if rules.assessment.resolved_by == "unit_report" else said.copy()
    audited = s.bernoulli(rules.audit.sample_share, "audit.sample", key)
    if rules.assessment.resolved_by == "audit":
        measured = np.where(audited, true, measured)
    false_claim = wo.claimed_resolved[closing] & ~true
    detected = audited & false_claim & s.bernoulli(rules.audit.detection, "audit.detect", key)
    measured = measured & ~detected & ~(unreached & (rules.hotline.unreached_callback == "counted_unresolved"))
    wo.measured_resolved[closing] = measured
    wo.audited[closing], wo.detected[closing] = audited, detected
    # Art. 32(3): unreasonable labels, checked on a sample; the check rejects a label on a
    # reasonable order with one probability and wrongly rejects a correct one with another
    lab = wo.labelled[closing]
    checked = lab & s.bernoulli(rules.assessment.label_check, "label.check", key)
    a = rules.assessment
    p_reject = np.where(wo.unreasonable[closing], a.label_check_wrong_reject, a.label_check_catch)
    rejected = checked & s.bernoulli(p_reject, "label.verdict", key)
    wo.label_rejected[closing] = rejected
    wo.excluded[closing] = lab & ~rejected & rules.assessment.exclude_unreasonable
    # what the requester does next: trust, expectation, repeat filing (voice)
    refile = ~true & (sat == SAT_NO) & s.bernoulli(c.refile_prob, "refile.decide", key)
    # sources: a real fix of a source-driven request removes its problem
    from_source = ~wo.unreasonable[closing] & (wo.rtype[closing] > 0)
    fixed = true & from_source & s.bernoulli(cfg.world.sources.fix_on_resolution, "source.fix", key)
    return sat, unreached, measured, detected, refile, fixed


_RATE_DRAWS = ("callback.honest", "callback.sway", "callback.confirm", "callback.unreached", "audit.sample",
               "audit.detect", "label.check", "label.verdict", "refile.decide", "source.fix")


def _rate_compiled(closing, key, true, contacted, pressure, explained, requester, perf, model) -> tuple:
    """:func:`_rate_numpy` in one compiled pass (model/kernels.py): the same draws, dtypes and answers."""
    wo, cfg, s = model.orders, model.cfg, model.streams
    c, r = cfg.world.citizens, cfg.rules
    a = r.assessment
    h = np.array([s._name_hash(n)[()] for n in _RATE_DRAWS], dtype=np.uint64)
    f = np.array([c.honesty, c.pressure_effect, c.explain_persuasion, c.confirm_resolved, c.performance_resolved,
                  c.performance_unresolved, c.contact_effect, c.contact_share, c.rating_noise, c.satisfied_cut,
                  c.basic_cut, c.callback_unreachable, r.audit.sample_share, r.audit.detection, a.label_check,
                  a.label_check_wrong_reject, a.label_check_catch, c.refile_prob, cfg.world.sources.fix_on_resolution],
                 dtype=np.float64)
    flags = np.array([r.hotline.unreached_callback == "excluded",
                      {"unit_report": 0, "requester": 1, "audit": 2}[a.resolved_by],
                      r.hotline.unreached_callback == "counted_unresolved", bool(a.exclude_unreasonable)], dtype=np.int64)
    noise = s.normal("callback.noise", key)
    return kernels.get().rate(np.ascontiguousarray(closing, dtype=np.int64), wo.key, wo.true_resolved, wo.ti_contact,
                              wo.claimed_resolved, wo.labelled, wo.unreasonable, wo.rtype, pressure,
                              explained, noise, model.citizens.expectation[requester], h, f, flags, wo.said_resolved,
                              wo.satisfaction, wo.unreached, wo.measured_resolved, wo.audited, wo.detected,
                              wo.label_rejected, wo.excluded)


def reachability(closing: np.ndarray, model) -> np.ndarray:
    """Requesters the hotline cannot reach at callback (by phone, SMS or online, Art. 23).

    How an unreached callback enters the rates is a rule (rules.hotline.unreached_callback):
    'excluded' (default) leaves the order out of all three rates, since Art. 32 rates what the
    requester answered and none was given (the order stays in the true-resolution figures);
    'counted_unresolved' counts it as not resolved and not satisfied. Unreached requesters still
    live the outcome: their trust and re-filing follow what happened."""
    wo = model.orders
    unreached = model.streams.bernoulli(model.cfg.world.citizens.callback_unreachable, "callback.unreached",
                                        wo.key[closing])
    wo.unreached[closing] = unreached & (model.cfg.rules.hotline.unreached_callback == "excluded")
    return unreached


def pressure_reports(closing: np.ndarray, pressure: np.ndarray, unit: np.ndarray, reached: np.ndarray,
                     model) -> dict:
    """Reports of pressure or retaliation at callback (Art. 8(3), 35(5)). A pressed requester
    reports it with a chance rising with the pressure applied (``pressure``: 0-1, the effect
    of the unit's pressure hours); the hotline checks a share of reports and its check
    substantiates a real one with ``world.hotline.pressure_evidence``. Confirmed reports go
    to the unit's ledger (``pressure_confirmed``), which the assessment sanctions."""
    cfg, s, key = model.cfg, model.streams, model.orders.key[closing]
    report = reached & s.bernoulli(cfg.world.citizens.pressure_report * pressure, "pressure.report", key)
    checked = report & s.bernoulli(cfg.rules.hotline.pressure_check, "pressure.check", key)
    confirmed = checked & s.bernoulli(cfg.world.hotline.pressure_evidence, "pressure.evidence", key)
    t = Tally(model.city.n_units)
    t.add("pressure_reports", unit[report])
    t.add("pressure_confirmed", unit[confirmed])
    return {"pressure_reports": int(report.sum()), "pressure_confirmed": int(confirmed.sum()),
            "pressed": int((pressure > 0).sum()), "tally": t}


def independent_survey(key, true, contacted, explained, requester, model) -> dict:
    """A third party asks a sample of today's requesters how satisfied they are (第三方调查), later
    and with nobody from the unit on the line: the same expectancy-disconfirmation as the
    callback, without the unit's pressure and with only part of its explanation still at work.
    Returns the sample size and the satisfied (or basically satisfied) among it."""
    c, v, s = model.cfg.world.citizens, model.cfg.world.survey, model.streams
    asked = s.bernoulli(v.sample_share, "survey.sample", key)
    if not asked.any():
        return {"survey_sampled": 0, "survey_satisfied": 0}
    # only the sample's answers are worked out (each is a function of its own order's key)
    key, true, contacted, explained, requester = (a[asked] for a in (key, true, contacted, explained, requester))
    perf = np.where(true, c.performance_resolved, c.performance_unresolved)
    score = (perf - model.citizens.expectation[requester]
             + c.contact_effect * (c.contact_share * contacted + (1 - c.contact_share) * v.explain_persistence * explained)
             + c.rating_noise * s.normal("survey.noise", key))
    return {"survey_sampled": int(key.size), "survey_satisfied": int((score > c.basic_cut).sum())}
