"""Intake and triage at the hotline centre (Art. 10-11).

Each contact is recorded (Art. 10) with its type, urgency tier, difficulty and requester,
then sorted into exactly one state: answered at once (consultations, Art. 11(1)),
diverted in one of the six ways of Art. 11(2), or dispatched as a work order.
Triage is imperfect: some unreasonable requests slip through, some reasonable ones are
wrongly diverted as out of scope.
"""

from __future__ import annotations

import numpy as np

from .demand import STREAM_CONSULT, STREAM_UNREASONABLE
from .handling import join_open
from .orders import RTYPE_CONSULTATION, TIER_7D, TIER_15D
from .outcomes import DIVERT_NAMES

# Art. 11(2) items 1-6 (names in outcomes.DIVERT_NAMES, in this order)
DIV_EMERGENCY, DIV_LEGAL, DIV_REPEAT, DIV_SECRET, DIV_OUT_OF_SCOPE, DIV_UNLAWFUL = range(len(DIVERT_NAMES))
NOT_DIVERTED = -1


def record(drawn: dict, refiles: np.ndarray, model) -> dict:
    """Art. 10: today's requests as recorded: new ones with their attributes, then repeat
    contacts of requesters whose earlier order closed unresolved."""
    new = describe_requests(drawn["requests"], model)
    refiles = join_open(refiles, model)   # a repeat about a still-open order joins it (H1, issue 9 item 1)
    if refiles.size:
        rep = repeat_requests(refiles, model)
        new = {k: np.concatenate([new[k], rep[k]]) for k in new}
    return new


def describe_requests(req: dict, model) -> dict:
    """Add the recorded attributes of new requests (Art. 10): type, tier, effort, requester."""
    cfg, s, cats = model.cfg.world, model.streams, model.city.categories
    key, c, stream = req["key"], req["category"], req["stream"]
    consult = stream == STREAM_CONSULT
    u_tier = s.uniform("attr.tier", key)
    tier = (u_tier[:, None] > np.cumsum(cats.tier_p[c], 1)[:, :3]).sum(1)
    tier = np.where(consult, TIER_7D, tier).astype(np.int8)
    hard = tier == TIER_15D
    median = cats.difficulty_hours[c] * np.where(hard, cfg.handling.hard_effort_factor, 1.0)
    effort = median * np.exp(cats.difficulty_sigma[c] * s.normal("attr.difficulty", key))
    effort = np.where(consult, cfg.handling.consultation_hours, effort).astype(np.float32)
    req["rtype"] = model.demand.request_type(key, stream, s)
    req["tier"], req["hard"], req["difficulty"] = tier, hard, effort
    req["unreasonable"] = stream == STREAM_UNREASONABLE
    req["online"] = s.bernoulli(cfg.demand.online_share, "attr.online", key)
    req["requester"] = model.citizens.pick_requesters(req["township"], key, s)
    req["n_prior"] = np.zeros(key.size, dtype=np.int8)
    return req


def repeat_requests(parents: np.ndarray, model) -> dict:
    """Repeat contacts of requesters whose earlier order closed unresolved (voice)."""
    wo = model.orders
    req = {k: getattr(wo, k)[parents].copy() for k in
           ("township", "category", "rtype", "tier", "hard", "unreasonable", "online", "requester")}
    req["difficulty"] = wo.carry[parents].copy()   # continues from the parent's remaining work (H1, issue 9 item 1)
    req["key"] = model.streams.key("repeat", wo.key[parents])
    req["n_prior"] = np.minimum(wo.n_prior[parents].astype(np.int16) + 1, 100).astype(np.int8)
    req["stream"] = np.where(wo.rtype[parents] == RTYPE_CONSULTATION, STREAM_CONSULT, 0).astype(np.int8)
    return req


def triage(req: dict, model) -> np.ndarray:
    """Art. 11(2): the diversion class of each request, or NOT_DIVERTED to dispatch it."""
    t, s, key = model.cfg.world.triage, model.streams, req["key"]
    consult = req["rtype"] == RTYPE_CONSULTATION
    out = np.full(key.size, NOT_DIVERTED, dtype=np.int8)
    u = s.uniform("triage.class", key)
    edges = np.cumsum([t.emergency_share, t.legal_channel_share, t.secret_privacy_share, t.unlawful_share])
    fixed_class = np.array([DIV_EMERGENCY, DIV_LEGAL, DIV_SECRET, DIV_UNLAWFUL])[
        np.minimum(np.searchsorted(edges, u, side="right"), 3)]
    fixed = (u < edges[-1]) & ~consult
    out[fixed] = fixed_class[fixed]
    repeat = (req["n_prior"] > 0) & (out == NOT_DIVERTED)
    # Art. 11(2)3: same matter, no new facts -> told the progress
    told = repeat & s.bernoulli(t.repeat_divert, "triage.repeat", key)
    out[told] = DIV_REPEAT
    unreasonable = req["unreasonable"] & (out == NOT_DIVERTED)
    caught = unreasonable & s.bernoulli(t.detect_unreasonable, "triage.unreasonable", key)
    out[caught] = np.where(req["n_prior"][caught] > 0, DIV_REPEAT, DIV_OUT_OF_SCOPE)
    # triage error: a reasonable request wrongly told to use market or society channels
    wrong = ~req["unreasonable"] & (out == NOT_DIVERTED) & ~consult & s.bernoulli(t.false_divert, "triage.false", key)
    out[wrong] = DIV_OUT_OF_SCOPE
    return out
