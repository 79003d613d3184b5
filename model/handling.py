"""Handling a day's work orders (Art. 13-20): contact, work, cooperate, whistle, close.

Each unit has limited staff hours (behaviour.Units.daily_budgets). Its open orders form a
queue ordered by its priority (urgency tier, deadline, ease, escalation threats); staff
time is poured down the queue, first for first contact (Art. 15(1)), then for real work.
Orders that need another unit (joint or hard cross-jurisdiction) wait for its
contribution, which a township obtains by whistling (街乡吹哨, Art. 16) or any lead by
asking (Art. 14(2)); refused or stuck ones escalate to the district (Art. 20).
Gaming hours close hard orders on paper, label them unreasonable, or press requesters.
At the deadline (Art. 13) an unfinished order is extended once if hard (Art. 15(2)) or
closed: the callback then happens (Art. 23). Everything is vectorised over orders,
grouped by unit with one sort (no per-order Python loop).

:func:`work_day` returns what the units did today (hours by use, the balances they carry
to tomorrow, the pressure hours waiting for callback, whistles and co-handling for the
network, and per-unit counts for the ledger); it writes only the work orders it handles.
"""

from __future__ import annotations

import numpy as np

from . import escalation
from .assessment import Tally
from .behaviour import E_GAME, E_RESOLVE, E_SATISFY, P_DEADLINE, P_EASE, P_THREAT
from .calendar import month_end_day
from .orders import CLOSED, COOP_ENGAGED, COOP_NONE, COOP_REFUSED, OPEN, TIER_24H
from .world import KIND_TOWNSHIP, LINK_CENTRAL

# columns of the hours a unit used today (work_day's "used"), beside the four effort columns
USED_COLUMNS = ["resolve", "satisfy", "game", "proactive", "contact", "coop"]
U_RESOLVE, U_SATISFY, U_GAME, U_PROACTIVE, U_CONTACT, U_COOP = range(6)


def allocate(unit: np.ndarray, need: np.ndarray, priority: np.ndarray, budget: np.ndarray) -> np.ndarray:
    """Pour each unit's budget down its queue in priority order; returns hours given to each item."""
    if unit.size == 0:
        return np.zeros(0)
    # one float key: unit first, then priority (bounded well inside the unit spacing)
    order = np.argsort(unit * 1e4 - np.clip(priority, -4e3, 4e3))
    u, n = unit[order], need[order].astype(np.float64)
    cum = np.cumsum(n)
    starts = np.flatnonzero(np.r_[True, u[1:] != u[:-1]])
    group = np.cumsum(np.r_[True, u[1:] != u[:-1]]) - 1
    before = (cum - n)[starts][group]
    prev = cum - n - before
    given = np.clip(budget[u] - prev, 0.0, n)
    out = np.empty_like(given)
    out[order] = given
    return out


def priority(idx: np.ndarray, day: int, model, unit: np.ndarray) -> np.ndarray:
    """Queue priority: urgent tiers first (Art. 13), then deadline, ease and escalation threats."""
    wo, U = model.orders, model.units
    w = U.priority[unit]
    left = np.maximum(wo.ti_deadline[idx] - day, 0)
    urgent = np.where(wo.tier[idx] <= TIER_24H, U.priority_urgent, 0.0)
    ease = 1.0 / (1.0 + wo.remaining[idx] / U.ease_scale)
    return urgent + w[:, P_DEADLINE] / (1.0 + left) + w[:, P_EASE] * ease + w[:, P_THREAT] * wo.threat[idx]


def seek_cooperation(idx: np.ndarray, day: int, model, tally: Tally) -> tuple:
    """First day of work on an order that needs another unit: whistle or ask (Art. 14, 16).
    Returns today's whistles as (lead, department, answered) for the network."""
    wo, U, s, L = model.orders, model.units, model.streams, tally
    ask = idx[wo.need_coop[idx] & (wo.coop_state[idx] == COOP_NONE)]
    if ask.size == 0:
        return ()
    lead, coop = wo.unit[ask], wo.coop_unit[ask]
    township_lead = model.city.unit_kind[lead] == KIND_TOWNSHIP
    whistle = township_lead & s.bernoulli(U.p_whistle[lead], "whistle.blow", wo.key[ask])
    p_yes = np.where(whistle, U.p_answer_whistle[coop], U.p_cooperate[coop])
    yes = s.bernoulli(p_yes, "whistle.answer", wo.key[ask])
    wo.whistled[ask] = whistle
    wo.coop_state[ask] = np.where(yes, COOP_ENGAGED, COOP_REFUSED)
    L.add("whistles_sent", lead[whistle])
    L.add("whistles_answered_lead", lead[whistle & yes])
    L.add("whistles_received", coop[whistle])
    L.add("whistles_answered", coop[whistle & yes])
    L.add("coop_requests", coop[~whistle])
    L.add("coop_answered", coop[~whistle & yes])
    return lead[whistle], coop[whistle], yes[whistle]


def work_day(day: int, model, budgets: np.ndarray, pressing: np.ndarray) -> dict:
    """Contact, cooperate and work the open queue (``pressing``: units in their month-end push).

    Returns ``used`` (hours, U x 6: USED_COLUMNS), ``banked`` and ``game_banked`` (what each
    unit carries to tomorrow), ``pressure_hours`` (spent at today's callbacks), ``whistles``
    and ``cohandling`` (for the network) and ``tally`` (per-unit counts for the ledger)."""
    wo, U, cfg = model.orders, model.units, model.cfg
    idx = wo.open_idx
    idx = idx[(wo.state[idx] == OPEN) & (wo.ti_available[idx] <= day)]
    unit = wo.unit[idx]
    nU = model.city.n_units
    tally = Tally(nU)
    used = np.zeros((nU, len(USED_COLUMNS)))
    whistles = seek_cooperation(idx, day, model, tally)
    escalation.escalate(idx, day, model, tally)
    prio = priority(idx, day, model, unit)
    # flexible time: quieter days bank hours, busy days borrow ahead (overtime), both bounded
    flex = cfg.world.capacity.flex_days * budgets[:, E_RESOLVE]
    resolve = budgets[:, E_RESOLVE] + U.banked + flex
    # 1. first contact with the requester (Art. 15(1)), in queue order
    fresh = wo.ti_contact[idx] < 0
    c_hours = cfg.world.capacity.contact_hours
    got = allocate(unit[fresh], np.full(fresh.sum(), c_hours), prio[fresh], resolve)
    contacted = idx[fresh][got >= c_hours - 1e-9]
    wo.ti_contact[contacted] = day
    spent = np.bincount(unit[fresh], weights=got, minlength=nU)
    used[:, U_CONTACT] = spent
    resolve -= spent
    # 2. real work: own orders plus cooperation items of engaged cooperating units
    mine = wo.ti_contact[idx] >= 0
    own = idx[mine & (wo.remaining[idx] > 0)]
    co = idx[(wo.coop_state[idx] == COOP_ENGAGED) & (wo.coop_remaining[idx] > 0)]
    items_unit = np.concatenate([wo.unit[own], wo.coop_unit[co]]).astype(np.int64)
    cap = cfg.world.handling.max_hours_per_day
    need = np.minimum(np.concatenate([wo.remaining[own], wo.coop_remaining[co]]), cap)
    pr = np.concatenate([prio[mine & (wo.remaining[idx] > 0)],
                         U.coop_priority * priority(co, day, model, wo.coop_unit[co].astype(np.int64))])
    given = allocate(items_unit, need, pr, resolve)
    g_own, g_co = given[: own.size], given[own.size:]
    wo.remaining[own] = np.maximum(wo.remaining[own] - g_own, 0.0)
    wo.coop_remaining[co] = np.maximum(wo.coop_remaining[co] - g_co, 0.0)
    used[:, U_RESOLVE] = np.bincount(wo.unit[own], weights=g_own, minlength=nU)
    used[:, U_COOP] = np.bincount(wo.coop_unit[co].astype(np.int64), weights=g_co, minlength=nU)
    cohandling = (wo.unit[co].astype(np.int64), wo.coop_unit[co].astype(np.int64), g_co) if co.size else ()
    # the balance carried to tomorrow: positive is banked slack, negative is overtime to repay
    banked = np.clip(resolve - used[:, U_RESOLVE] - used[:, U_COOP] - flex, -flex, flex)   # resolve is net of contact time
    # 3. satisfaction management: explanation spread over contacted orders (Art. 15(2));
    # units pressing their standing at month end talk only to requesters of orders due by the
    # month's end, whose callback falls in this month at the latest (Art. 23, 28)
    talk_mask = mine & ~(pressing[unit] & (wo.ti_deadline[idx] > month_end_day(model.month)))
    talk_mask |= mine & (np.bincount(unit[talk_mask], minlength=nU) == 0)[unit]   # nobody due: talk to all
    talk = idx[talk_mask]
    n_talk = np.bincount(unit[talk_mask], minlength=nU)
    per = budgets[:, E_SATISFY] / np.maximum(n_talk, 1)            # hours of explanation per order today
    wo.explain[talk] += per[unit[talk_mask]]
    used[:, U_SATISFY] = np.where(n_talk > 0, budgets[:, E_SATISFY], 0.0)
    # 4. gaming
    game_banked, pressure_hours = game(idx[mine], day, model, budgets[:, E_GAME])
    used[:, U_GAME] = budgets[:, E_GAME]   # all of today's gaming time is spent on gaming (some saved for whole acts)
    return {"used": used, "banked": banked, "game_banked": game_banked, "pressure_hours": pressure_hours,
            "whistles": whistles, "cohandling": cohandling, "tally": tally}


def game(idx: np.ndarray, day: int, model, hours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gaming hours: false closures of hard orders, unreasonable labels, pressure on raters.
    Returns the gaming hours saved for tomorrow and the pressure hours for today's callbacks."""
    wo, cfg, nU = model.orders, model.cfg, model.city.n_units
    h, b = cfg.world.handling, cfg.world.behaviour
    idx = idx[(wo.state[idx] == OPEN) & (wo.ti_done[idx] < 0)]
    unit = wo.unit[idx]
    label_on = cfg.rules.assessment.exclude_unreasonable
    split_label = b.game_label_share if label_on else 0.0
    split_close = b.game_false_close_share + (0.0 if label_on else b.game_label_share)
    # closures and labels are whole acts: hours accumulate until a unit can afford one
    # (a small unit games every few days, not never), up to game_bank_days' worth
    daily = hours * (split_close + split_label)
    pool = model.units.game_banked + daily
    # formal closure (形式办结): orders that will miss their deadline, hardest first
    at_risk = (wo.ti_deadline[idx] - day <= 1) & (wo.remaining[idx] + wo.coop_remaining[idx] > 0)
    close_budget = pool * split_close / (split_close + split_label)
    risky = idx[at_risk]
    got = np.zeros(idx.size)
    got[at_risk] = allocate(unit[at_risk], np.full(risky.size, h.false_close_hours),
                            wo.remaining[risky] + wo.coop_remaining[risky], close_budget)
    whole = got >= h.false_close_hours - 1e-9       # only finished acts use up saved hours
    fake = idx[whole]
    wo.gamed[fake] = True
    wo.ti_done[fake] = day
    used = np.bincount(unit[whole], weights=got[whole], minlength=nU).astype(float)
    if split_label > 0:
        # labels go on orders unlikely to be solved: hard ones or those refused cooperation
        rest = ~np.isin(idx, fake) & ~wo.labelled[idx] & (wo.hard[idx] | (wo.coop_state[idx] == COOP_REFUSED))
        cand, cu = idx[rest], unit[rest]
        got = allocate(cu, np.full(cand.size, h.label_hours), wo.remaining[cand],
                       pool * split_label / (split_close + split_label))
        whole = got >= h.label_hours - 1e-9
        wo.labelled[cand[whole]] = True
        used += np.bincount(cu[whole], weights=got[whole], minlength=nU)
    game_banked = np.clip(pool - used, 0.0, b.game_bank_days * daily)
    # pressure hours are spent at callback on this unit's unsolved orders (Art. 35(5) forbids it)
    return game_banked, hours * b.game_pressure_share


def finish_and_close(day: int, model) -> np.ndarray:
    """Mark finished orders, extend or close those at their deadline; returns today's closures."""
    wo, cfg, s, U = model.orders, model.cfg, model.streams, model.units
    h = cfg.world.handling
    idx = wo.open_idx
    idx = idx[wo.state[idx] != CLOSED]
    # finished today: own work and any needed cooperation complete
    done = idx[(wo.ti_done[idx] < 0) & (wo.ti_contact[idx] >= 0) & (wo.remaining[idx] <= 0)
               & (~wo.need_coop[idx] | (wo.coop_remaining[idx] <= 0))]
    wo.ti_done[done] = day
    misrouted = wo.unit[done] != wo.right_unit[done]
    p = np.where(wo.hard[done], h.hard_solve_prob, h.solve_prob)
    p = np.where(misrouted, h.misrouted_solve_prob, p)
    p = np.where(wo.linkage[done] == LINK_CENTRAL, p * cfg.world.linkage.central_success, p)
    p = np.where(wo.unreasonable[done], 0.0, p)
    wo.true_resolved[done] = s.bernoulli(p, "handling.solve", wo.key[done])
    # Art. 13, 15(2): at the deadline, extend hard orders once, else close and call back
    due = idx[(wo.ti_deadline[idx] <= day) & (wo.ti_done[idx] < 0)]
    if cfg.rules.deadlines.extensions:
        ext = due[wo.hard[due] & ~wo.extended[due] & (wo.ti_contact[due] >= 0)]
        wo.extended[ext] = True
        wo.ti_deadline[ext] += cfg.rules.deadlines.extension_days
        wo.explain[ext] += h.extension_explain_hours
        due = due[~np.isin(due, ext)]
    wo.overdue[due] = True
    closing = np.concatenate([idx[wo.ti_done[idx] == day], due])
    closing = np.unique(closing)
    solved = wo.true_resolved[closing]
    claim = s.bernoulli(U.claim_probability(wo.unit[closing]), "handling.claim", wo.key[closing])
    wo.claimed_resolved[closing] = solved | (claim & (wo.ti_contact[closing] >= 0)) | wo.gamed[closing]
    wo.state[closing] = CLOSED
    wo.ti_closed[closing] = day
    return closing
