"""Intake and triage at the hotline centre (Art. 10-11).

Each contact is recorded (Art. 10) with its type, urgency tier, difficulty and requester,
then sorted into exactly one state: answered at once (consultations, Art. 11(1)),
diverted in one of the six ways of Art. 11(2), or dispatched as a work order.

What a request truly is (:func:`classify`) follows from the request: its category and type
(model/data/triage.csv, triage_types.csv: relative propensities, all assumptions, scaled to
the city-wide shares of world.triage), the requester's history (a repeat about an order with
no new facts, Art. 11(2)3) and trait (malicious repeated calling, Art. 9(3)). The operator's
triage (:func:`triage`) errs both ways: it misses some that should be diverted (they are
dispatched, flagged unreasonable) and wrongly diverts some that should be dispatched.
The hotline warns or restricts malicious callers it recognises (rules.hotline, Art. 37).
Diverted requesters get an outcome (:func:`divert_outcomes`: answered, told where to go,
refused) that moves their trust; some call again or complain about the diversion, and the
hotline (hotline.py) offers them again as new contacts.
"""

from __future__ import annotations

import functools

import numpy as np

from . import kernels
from .demand import STREAM_CONSULT, STREAM_UNREASONABLE
from .handling import join_open
from .orders import RTYPE_CONSULTATION, TIER_7D, TIER_15D
from .outcomes import DIVERT_NAMES, DIVERT_OUTCOMES
from .world import read_table

# Art. 11(2) items 1-6 (names in outcomes.DIVERT_NAMES, in this order)
DIV_EMERGENCY, DIV_LEGAL, DIV_REPEAT, DIV_SECRET, DIV_OUT_OF_SCOPE, DIV_UNLAWFUL = range(len(DIVERT_NAMES))
NOT_DIVERTED = -1
# what the diverted requester gets (outcomes.DIVERT_OUTCOMES): answered, told where to go, refused
ANSWERED, TOLD, REFUSED = range(len(DIVERT_OUTCOMES))
# emergency: transferred and handled; legal channel: told; repeat: told the progress (an answer);
# secret/privacy: explained why not (refused); out of scope: told other channels; unlawful: dissuaded
OUTCOME_OF = np.array([ANSWERED, TOLD, ANSWERED, REFUSED, TOLD, REFUSED])
MATTER_CLASSES = [DIV_EMERGENCY, DIV_LEGAL, DIV_SECRET, DIV_UNLAWFUL]     # set by category x type
_TABLE_COLS = ["emergency", "legal_channel", "secret_privacy", "unlawful"]


def record(drawn: dict, refiles: np.ndarray, model) -> dict:
    """Art. 10: today's requests as recorded: new ones with their attributes, then repeat
    contacts of requesters whose earlier order closed unresolved."""
    new = describe_requests(drawn["requests"], model)
    refiles = join_open(refiles, model)   # a repeat about a still-open order joins it (H1, issue 9 item 1)
    if refiles.size:
        rep = repeat_requests(refiles, model)
        new = {k: np.concatenate([new[k], rep[k]]) for k in new}
    back = model.hotline.due(model.day)      # unanswered callers retrying, diverted ones calling again
    if back is not None:
        new = {k: np.concatenate([new[k], back[k]]) for k in new}
    return new


def count_exceeded(u: np.ndarray, rows: np.ndarray, table: np.ndarray) -> np.ndarray:
    """How many entries of row ``rows[i]`` of ``table`` lie below each draw ``u[i]`` (a class
    from cumulative shares): ``(u[:, None] > table[rows]).sum(1)``, or one compiled pass
    without the gathered table (model/kernels.py; the same counts)."""
    k = kernels.get(u.size)
    if k is None:
        return (u[:, None] > table[rows]).sum(1)
    return k.count_exceeded(np.ascontiguousarray(u, dtype=np.float64), np.ascontiguousarray(rows, dtype=np.int64),
                            np.ascontiguousarray(table, dtype=np.float64))


def describe_requests(req: dict, model) -> dict:
    """Add the recorded attributes of new requests (Art. 10): type, tier, effort, requester."""
    cfg, s, cats = model.cfg.world, model.streams, model.city.categories
    key, c, stream = req["key"], req["category"], req["stream"]
    consult = stream == STREAM_CONSULT
    u_tier = s.uniform("attr.tier", key)
    tier = count_exceeded(u_tier, c, np.cumsum(cats.tier_p, 1)[:, :3])   # the category's cumulative tier shares
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
    return _fresh_flags(req)


def _fresh_flags(req: dict) -> dict:
    """Flags of a request that is not a contact coming back after a diversion."""
    n = req["key"].size
    req["true_class"] = np.full(n, NOT_DIVERTED, dtype=np.int8)
    req["via_divert"] = np.zeros(n, bool)
    req["complaint"] = np.zeros(n, bool)
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
    return _fresh_flags(req)


@functools.lru_cache(maxsize=4)
def _tables(names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Relative propensities by category (rows in ``names`` order) and by request type."""
    rows = {r["category"]: r for r in read_table("triage.csv")}
    cat = np.array([[float(rows[n][k]) for k in _TABLE_COLS] for n in names])
    typ = np.array([[float(r[k]) for k in _TABLE_COLS] for r in read_table("triage_types.csv")])
    return cat, typ


def matter_probabilities(model) -> np.ndarray:
    """P(class | category, type) for the four classes set by the matter (C x 5 x 4): the
    tables' relative propensities scaled so the city-wide mean shares are world.triage's."""
    t, cats = model.cfg.world.triage, model.city.categories
    cat, typ = _tables(tuple(cats.names))
    mix = np.concatenate([[0.0], model.cfg.world.demand.request_type_mix])
    raw = cat[:, None, :] * typ[None, :, :]
    mean = np.einsum("c,t,ctk->k", cats.share / cats.share.sum(), mix, raw)
    share = np.array([t.emergency_share, t.legal_channel_share, t.secret_privacy_share, t.unlawful_share])
    p = raw * (share / np.maximum(mean, 1e-12))
    total = p.sum(2, keepdims=True)
    return p / np.maximum(total, 1.0)        # never more than certainty


def classify(req: dict, model) -> np.ndarray:
    """What each request truly is: its Art. 11(2) class, or NOT_DIVERTED (the hotline's to
    dispatch). Contacts coming back after a diversion keep the class of their matter."""
    t, s, key = model.cfg.world.triage, model.streams, req["key"]
    consult = req["rtype"] == RTYPE_CONSULTATION
    out = np.full(key.size, NOT_DIVERTED, dtype=np.int8)
    cum = np.cumsum(matter_probabilities(model), 2)                    # (C, 5, 4): per category and type
    u = s.uniform("triage.class", key)
    k = count_exceeded(u, req["category"].astype(np.int64) * cum.shape[1] + req["rtype"], cum.reshape(-1, cum.shape[2]))
    by_matter = k < len(MATTER_CLASSES)
    out[by_matter] = np.array(MATTER_CLASSES)[k[by_matter]]
    # Art. 11(2)3: the same matter again with no new facts (only about an order)
    repeat = (req["n_prior"] > 0) & ~req["via_divert"] & (out == NOT_DIVERTED)
    out[repeat & s.bernoulli(t.repeat_divert, "triage.repeat", key)] = DIV_REPEAT
    out[req["unreasonable"] & (out == NOT_DIVERTED)] = DIV_OUT_OF_SCOPE
    out[req["malicious"] & ~consult] = DIV_UNLAWFUL                 # Art. 9(3): malicious calling
    out[consult] = NOT_DIVERTED
    return np.where(req["via_divert"], req["true_class"], out).astype(np.int8)


def triage(req: dict, model) -> np.ndarray:
    """Art. 11(2): the operator's diversion class of each request, or NOT_DIVERTED to dispatch it.

    Sets in ``req``: ``true_class`` (what it is), ``malicious``, ``warned`` / ``restricted``
    (malicious callers handled, Art. 37) and ``unreasonable`` for what is dispatched though it
    should have been diverted."""
    cfg, s, key = model.cfg, model.streams, req["key"]
    t, h = cfg.world.triage, cfg.rules.hotline
    consult = req["rtype"] == RTYPE_CONSULTATION
    malicious, warnings = model.citizens.malicious_status(req["requester"])   # warnings as they stand before today's
    req["malicious"] = malicious & ~consult
    true = req["true_class"] = classify(req, model)
    mal = req["malicious"]
    out = np.full(key.size, NOT_DIVERTED, dtype=np.int8)
    seen = np.isin(true, MATTER_CLASSES + [DIV_REPEAT]) & ~mal & s.bernoulli(t.detect_by_matter, "triage.matter", key)
    out[seen] = true[seen]
    ordinary_unreasonable = (true == DIV_OUT_OF_SCOPE) | (mal & (h.malicious_handling == "none"))
    caught = ordinary_unreasonable & s.bernoulli(t.detect_unreasonable, "triage.unreasonable", key)
    out[caught] = DIV_OUT_OF_SCOPE
    # Art. 37: recognised malicious callers are dissuaded and warned (a warned caller is known)
    handles = h.malicious_handling != "none"
    warned = handles & mal & ((warnings > 0) | s.bernoulli(t.detect_malicious, "triage.malicious", key))
    restricted = (h.malicious_handling == "restrict") & (warnings >= h.restrict_after) & ~consult
    out[warned | restricted] = DIV_UNLAWFUL
    # triage error: a request the hotline should dispatch is turned away
    wrong = (true == NOT_DIVERTED) & (out == NOT_DIVERTED) & ~consult & s.bernoulli(t.false_divert, "triage.false", key)
    prior = (req["n_prior"] > 0) & ~req["via_divert"]
    out[wrong] = np.where(prior[wrong], DIV_REPEAT, DIV_OUT_OF_SCOPE)
    # a complaint about a diversion is reviewed: the matter is then judged as it is
    reviewed = req["complaint"] & ~restricted & s.bernoulli(h.complaint_review, "triage.review", key)
    fair = np.where(mal & (not handles), DIV_OUT_OF_SCOPE, true)
    out[reviewed] = fair[reviewed]
    req["warned"], req["restricted"] = warned & (out == DIV_UNLAWFUL), restricted
    req["deterred"] = np.zeros(key.size, bool)
    req["deterred"][req["warned"]] = model.citizens.warn(req["requester"][req["warned"]], s, key[req["warned"]])
    # dispatched though it should not be: not the unit's duty (a missed repeat keeps its matter)
    req["unreasonable"] = req["unreasonable"] | ((out == NOT_DIVERTED) & (true >= 0) & (true != DIV_REPEAT))
    return out


def divert_outcomes(req: dict, divert: np.ndarray, day: int, model) -> dict:
    """What diverted requesters get and do next: trust moves toward the outcome (answered,
    told where to go, refused; toward 0 if wrongly diverted); some call again or complain
    about the diversion, offered again by the hotline as new contacts. Returns the counts."""
    c, s = model.cfg.world.citizens, model.streams
    d = np.flatnonzero(divert >= 0)
    cls, true = divert[d], req["true_class"][d]
    outcome = OUTCOME_OF[cls]
    wrong = true == NOT_DIVERTED
    target = np.where(wrong, 0.0, np.asarray(c.divert_trust)[outcome])
    model.citizens.update_after_contact(req["requester"][d], target)
    remains = wrong | (cls == DIV_REPEAT)               # the problem is still there
    u = s.uniform("divert.next", req["key"][d])
    p_complain = np.where(wrong, c.divert_complaint_wrong, c.divert_complaint_right)
    complain = u < p_complain
    recall = ~complain & remains & (u < p_complain + c.divert_recall)
    back = np.flatnonzero(complain | recall)
    if back.size:
        rows = d[back]
        again = {k: v[rows] for k, v in req.items() if k in _RETURN_KEYS}
        again["key"] = s.key("divert.return", req["key"][rows])
        again["n_prior"] = np.minimum(again["n_prior"].astype(np.int16) + 1, 100).astype(np.int8)
        again["via_divert"] = np.ones(back.size, bool)
        again["complaint"] = complain[back]
        delay = 1 + np.floor(-c.refile_delay_days * np.log1p(-s.uniform("divert.delay", again["key"])))
        model.hotline.schedule(again, day + delay.astype(np.int64))
    n_cls = len(DIVERT_NAMES)
    return {"divert_by_outcome": np.bincount(outcome, minlength=len(DIVERT_OUTCOMES)),
            "wrongly_diverted": int(wrong.sum()), "wrongly_diverted_by_class": np.bincount(cls[wrong], minlength=n_cls),
            "divert_complaints": int(complain.sum()), "divert_recalls": int(recall.sum()),
            "complaints_about_diversion": int(req["complaint"].sum()),
            "missed_diversions": int(((divert < 0) & (req["true_class"] >= 0)).sum()),
            "malicious_calls": int(req["malicious"].sum()), "malicious_warned": int(req["warned"].sum()),
            "malicious_restricted": int(req["restricted"].sum()), "malicious_deterred": int(req["deterred"].sum())}


# what a contact coming back after a diversion carries (the recorded request, Art. 10)
_RETURN_KEYS = ("key", "township", "category", "stream", "rtype", "tier", "hard", "difficulty", "unreasonable",
                "online", "requester", "n_prior", "true_class", "via_divert", "complaint")
