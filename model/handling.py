"""Handling a day's work orders (Art. 13-20): contact, work, cooperate, whistle, close.

Each unit has limited staff hours (behaviour.Units.daily_budgets). Its open orders form a
queue ordered by its priority (urgency tier, deadline, ease, escalation threats); staff
time is poured down the queue, first for first contact (Art. 15(1)), then for real work.
Orders that need another unit (joint or hard cross-jurisdiction) wait for its
contribution, which a township obtains by whistling (街乡吹哨, Art. 16) or any lead by
asking (Art. 14(2)); refused or stuck ones escalate to the district (Art. 20).
At first contact a unit judges in good faith whether a request is unreasonable (with a
detection error both ways) and labels it when it expects the label to count (Art. 32(3)).
Gaming hours close orders on paper, label reasonable ones unreasonable, or press requesters.
At the deadline (Art. 13) a unit may ask to extend a hard order once (Art. 15(2); its choice,
granted where the rules let the hotline grant extensions); otherwise the order is flagged overdue
and stays open with its remaining work until it ends: worked to the end (and perhaps truly
solved), explained to the requester as temporarily unsolvable (暂不能解决, Art. 15(2), as often
as the unit chooses to), or closed formally (形式办结, gaming). The units' choices come from
the consequences they expect (decisions.py), never from the rules' values. The callback
(Art. 23) follows the end. Everything is vectorised over orders, grouped by unit with one
sort (no per-order Python loop).

:func:`work_day` returns what the units did today (hours by use, the balances they carry
to tomorrow, the pressure hours waiting for callback, whistles and co-handling for the
network, and per-unit counts for the ledger); it writes only the work orders it handles.
"""

from __future__ import annotations

import numpy as np

from . import escalation, kernels
from .assessment import Tally
from .behaviour import E_GAME, E_RESOLVE, E_SATISFY, P_DEADLINE, P_EASE, P_THREAT
from .calendar import month_end_day
from .orders import (
    CLOSED,
    COOP_ENGAGED,
    COOP_NONE,
    COOP_REFUSED,
    END_EXPLAINED,
    END_FORMAL,
    END_WORKED,
    LABEL_GAMED,
    LABEL_HONEST,
    OPEN,
    TIER_24H,
)
from .world import KIND_TOWNSHIP, LINK_CENTRAL

# columns of the hours a unit used today (work_day's "used"), beside the four effort columns
USED_COLUMNS = ["resolve", "satisfy", "game", "proactive", "contact", "coop"]
U_RESOLVE, U_SATISFY, U_GAME, U_PROACTIVE, U_CONTACT, U_COOP = range(6)
FINISH_COUNTS = ["extend_candidates", "extensions", "overdue", "extended_overdue", "overdue_hard"]   # _finish_day's
RADIX_MIN = 20_000     # from this many queue items allocate sorts by radix (measured faster, issue 13)


def allocate(unit: np.ndarray, need: np.ndarray, priority: np.ndarray, budget: np.ndarray) -> np.ndarray:
    """Pour each unit's budget down its queue in priority order; returns hours given to each item."""
    if unit.size == 0:
        return np.zeros(0)
    # one float key: unit first, then priority (bounded well inside the unit spacing). Equal
    # priorities keep the queue's order (first come, first served): a stable sort, whose order is
    # the same on every machine (numpy's default sort orders ties by the CPU's SIMD level).
    key = unit * 1e4 - np.clip(priority, -4e3, 4e3)
    k = kernels.get(unit.size)
    if k is not None:        # the sort and the pour below in compiled passes (model/kernels.py): the same hours
        unit = np.ascontiguousarray(unit)
        # a radix sort of the keys is faster on long queues, a sort per unit on short ones (same order)
        order = (k.radix_order(np.ascontiguousarray(key, dtype=np.float64)) if unit.size >= RADIX_MIN
                 else k.queue_order(unit, key))
        return k.allocate_sorted(order, unit, np.ascontiguousarray(need),
                                 np.ascontiguousarray(budget, dtype=np.float64))
    order = np.argsort(key, kind="stable")
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
    k = kernels.get(idx.size)
    if (k is not None and type(U.ease_scale) is float and type(U.priority_urgent) is float
            and U.priority.dtype == np.float64 and wo.remaining.dtype == np.float32):
        # the same sums in one compiled pass (model/kernels.py; Python-float scales as numpy reads them)
        return k.priority(np.ascontiguousarray(idx), np.ascontiguousarray(unit), int(day), wo.tier, wo.ti_deadline,
                          wo.remaining, wo.threat, np.ascontiguousarray(U.priority),
                          U.priority_urgent, np.float32(U.ease_scale), P_DEADLINE, P_EASE, P_THREAT, TIER_24H)
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
    # the whistle channel exists where the rules open it (Art. 16); townships choose to use it (decisions.py)
    whistle = township_lead & model.cfg.rules.whistle.enabled & s.bernoulli(U.p_whistle[lead], "whistle.blow", wo.key[ask])
    p_yes = np.where(whistle, U.p_answer_whistle[coop], U.p_cooperate[coop])
    yes = s.bernoulli(p_yes, "whistle.answer", wo.key[ask])
    wo.whistled[ask] = whistle
    wo.coop_state[ask] = np.where(yes, COOP_ENGAGED, COOP_REFUSED)
    L.add("whistles_sent", lead[whistle])
    L.add("whistles_answered_lead", lead[whistle & yes])
    L.add("whistles_received", coop[whistle])
    L.add("whistles_answered", coop[whistle & yes])
    L.add("coop_requests", coop[~whistle])
    L.add("coop_asks", lead[~whistle])
    L.add("coop_answered", coop[~whistle & yes])
    return lead[whistle], coop[whistle], yes[whistle]


def work_day(day: int, model, budgets: np.ndarray, pressing: np.ndarray) -> dict:
    """Contact, cooperate and work the open queue (``pressing``: units in their month-end push).

    Returns ``used`` (hours, U x 6: USED_COLUMNS), ``banked`` and ``game_banked`` (what each
    unit carries to tomorrow), ``pressure_hours`` (spent at today's callbacks), ``whistles``
    and ``cohandling`` (for the network) and ``tally`` (per-unit counts for the ledger)."""
    wo, U, cfg = model.orders, model.units, model.cfg
    idx = wo.open_idx
    k = kernels.get(idx.size)     # compiled steps (model/kernels.py): the same rows, hours and sums
    if k is not None:
        idx = k.select_open(idx, wo.state, wo.ti_available, int(day), OPEN)
    else:
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
    spent = np.bincount(unit[fresh], weights=got, minlength=nU) + judge_unreasonable(contacted, model)
    used[:, U_CONTACT] = spent
    resolve -= spent
    # 2. real work: own orders plus cooperation items of engaged cooperating units
    cap = cfg.world.handling.max_hours_per_day
    if k is not None:
        mine, own, co, items_unit, need, pr_own = k.work_items(idx, prio, wo.ti_contact, wo.remaining, wo.coop_state,
                                                               wo.coop_remaining, wo.unit, wo.coop_unit,
                                                               np.float32(cap), COOP_ENGAGED)
    else:
        mine = wo.ti_contact[idx] >= 0
        own = idx[mine & (wo.remaining[idx] > 0)]
        co = idx[(wo.coop_state[idx] == COOP_ENGAGED) & (wo.coop_remaining[idx] > 0)]
        items_unit = np.concatenate([wo.unit[own], wo.coop_unit[co]]).astype(np.int64)
        need = np.minimum(np.concatenate([wo.remaining[own], wo.coop_remaining[co]]), cap)
        pr_own = prio[mine & (wo.remaining[idx] > 0)]
    co_unit = wo.coop_unit[co].astype(np.int64)
    pr = np.concatenate([pr_own, U.coop_priority[co_unit] * priority(co, day, model, co_unit)])
    given = allocate(items_unit, need, pr, resolve)
    g_own, g_co = given[: own.size], given[own.size:]
    if k is not None:
        used[:, U_RESOLVE], used[:, U_COOP] = k.apply_work(own, co, given, wo.remaining, wo.coop_remaining, wo.unit,
                                                           wo.coop_unit, nU)
    else:
        wo.remaining[own] = np.maximum(wo.remaining[own] - g_own, 0.0)
        wo.coop_remaining[co] = np.maximum(wo.coop_remaining[co] - g_co, 0.0)
        used[:, U_RESOLVE] = np.bincount(wo.unit[own], weights=g_own, minlength=nU)
        used[:, U_COOP] = np.bincount(co_unit, weights=g_co, minlength=nU)
    cohandling = (wo.unit[co].astype(np.int64), co_unit, g_co) if co.size else ()
    # the balance carried to tomorrow: positive is banked slack, negative is overtime to repay
    banked = np.clip(resolve - used[:, U_RESOLVE] - used[:, U_COOP] - flex, -flex, flex)   # resolve is net of contact time
    # 3. satisfaction management: explanation spread over contacted orders (Art. 15(2));
    # units pressing their standing at month end talk only to requesters of orders due by the
    # month's end, whose callback falls in this month at the latest (Art. 23, 28)
    if k is not None:
        n_talk = k.talk(idx, mine, unit, pressing, wo.ti_deadline, month_end_day(model.month),
                        np.ascontiguousarray(budgets[:, E_SATISFY]), wo.explain, nU)
    else:
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


def judge_unreasonable(rows: np.ndarray, model) -> np.ndarray:
    """Good-faith judgement at first contact (Art. 9, 32(3)): a unit recognises a truly
    unreasonable order with a detection error (and misjudges a few reasonable ones) and labels
    what it judges unreasonable when it expects that to count (Units.label_value); a labelled
    order gets an explanation instead of further work. Returns the label hours per unit."""
    wo, h, s, U = model.orders, model.cfg.world.handling, model.streams, model.units
    rows = rows[~wo.labelled[rows]]
    key, unit = wo.key[rows], wo.unit[rows].astype(np.int64)
    believe = np.where(wo.unreasonable[rows], s.bernoulli(h.recognise_unreasonable, "label.recognise", key),
                       s.bernoulli(h.misjudge_reasonable, "label.misjudge", key))
    label = believe & s.bernoulli(U.label_value(unit), "label.honest", key)
    lab = rows[label]
    wo.labelled[lab] = True
    wo.label_kind[lab] = LABEL_HONEST
    wo.remaining[lab] = 0.0
    wo.coop_remaining[lab] = 0.0
    return np.bincount(unit[label], minlength=model.city.n_units) * h.label_hours


def game(idx: np.ndarray, day: int, model, hours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gaming hours: formal closures of orders missing (or past) their deadline, unreasonable
    labels on reasonable orders, pressure on raters. Returns the gaming hours saved for
    tomorrow and the pressure hours for today's callbacks."""
    wo, cfg, nU = model.orders, model.cfg, model.city.n_units
    h, b = cfg.world.handling, cfg.world.behaviour
    k = kernels.get(idx.size)     # the queue and the closures in compiled passes (model/kernels.py): the same values
    if k is not None:
        idx, unit, at_risk, label_base, risk_unit, risk_left = k.game_queue(
            np.ascontiguousarray(idx, dtype=np.int64), wo.state, wo.ti_done, wo.ti_deadline, wo.remaining,
            wo.coop_remaining, wo.labelled, wo.hard, wo.coop_state, wo.unit, int(day), OPEN, COOP_REFUSED)
    else:
        idx = idx[(wo.state[idx] == OPEN) & (wo.ti_done[idx] < 0)]
        unit = wo.unit[idx]
        # orders that will miss or have missed their deadline, with work left, hardest first
        at_risk = (wo.ti_deadline[idx] - day <= 1) & (wo.remaining[idx] + wo.coop_remaining[idx] > 0)
        risky = idx[at_risk]
        risk_unit, risk_left = unit[at_risk], wo.remaining[risky] + wo.coop_remaining[risky]
    # labelling pays only as far as a unit expects labels to leave its score (the
    # consequence it has seen, Units.label_belief); the rest of that time goes to closures.
    # Closures and labels share what pressure (the unit's choice, Units.pressure_share) leaves.
    belief, pressure_share = model.units.label_belief, model.units.pressure_share
    rest = (1.0 - pressure_share) / max(1.0 - b.game_pressure_share, 1e-12)
    split_label = b.game_label_share * belief * rest
    split_close = (b.game_false_close_share + b.game_label_share * (1.0 - belief)) * rest
    split = np.maximum(split_close + split_label, 1e-12)
    # closures and labels are whole acts: hours accumulate until a unit can afford one
    # (a small unit games every few days, not never), up to game_bank_days' worth
    daily = hours * (split_close + split_label)
    pool = model.units.game_banked + daily
    # formal closure (形式办结): orders at risk of missing (or past) their deadline, hardest first
    close_budget = pool * split_close / split
    got = np.zeros(idx.size)
    got[at_risk] = allocate(risk_unit, np.full(risk_unit.size, h.false_close_hours), risk_left, close_budget)
    whole_at = h.false_close_hours - 1e-9           # only finished acts use up saved hours
    if k is not None:
        whole, used = k.game_close(idx, unit, got, whole_at, int(day), wo.gamed, wo.ending, wo.ti_done, END_FORMAL, nU)
    else:
        whole = got >= whole_at
        fake = idx[whole]
        wo.gamed[fake] = True
        wo.ending[fake] = END_FORMAL
        wo.ti_done[fake] = day
        used = np.bincount(unit[whole], weights=got[whole], minlength=nU).astype(float)
    if (split_label > 0).any():
        # labels go on orders unlikely to be solved: hard ones or those refused cooperation (~whole: not in fake)
        if k is not None:
            cand, cu, left = k.game_label_items(idx, unit, label_base, whole, wo.remaining)
        else:
            rest = ~whole & ~wo.labelled[idx] & (wo.hard[idx] | (wo.coop_state[idx] == COOP_REFUSED))
            cand, cu = idx[rest], unit[rest]
            left = wo.remaining[cand]
        got = allocate(cu, np.full(cand.size, h.label_hours), left, pool * split_label / split)
        whole = got >= h.label_hours - 1e-9
        wo.labelled[cand[whole]] = True
        wo.label_kind[cand[whole]] = LABEL_GAMED
        used += np.bincount(cu[whole], weights=got[whole], minlength=nU)
    game_banked = np.clip(pool - used, 0.0, b.game_bank_days * daily)
    # pressure hours are spent at callback on this unit's unsolved orders (Art. 35(5) forbids it)
    return game_banked, hours * pressure_share


def finish_and_close(day: int, model) -> dict:
    """Orders that end today: worked to the end, explained as temporarily unsolvable, or
    closed formally (gaming, marked by :func:`game`); deadlines extend hard orders once and
    flag the rest overdue, which stay open (Art. 13, 15). Returns ``closing`` (today's ended
    orders, for the callback) and ``tally`` (orders falling overdue today, booked in the month
    they fall due, Art. 35(2), with the share Art. 36 forgives on hard ones)."""
    wo, cfg = model.orders, model.cfg
    idx = wo.open_idx
    k = kernels.get(idx.size)     # compiled steps (model/kernels.py): the same rows and values
    idx = k.select_not(idx, wo.state, CLOSED) if k is not None else idx[wo.state[idx] != CLOSED]
    if k is not None:             # the three steps and the union in one compiled pass: the same rows and sums
        closing, tally = _finish_compiled(k, idx, day, model)
    else:
        worked = finish_worked(idx, day, model)
        tally = flag_overdue(idx, day, model)
        explained = explain_unsolvable(idx, day, model)
        closing = union_of_rows(idx, (worked, explained, idx[(wo.ti_done[idx] == day) & wo.gamed[idx]]))
    claim = model.streams.bernoulli(model.units.claim_probability(wo.unit[closing]), "handling.claim", wo.key[closing])
    if k is not None:
        k.close(closing, claim, wo.true_resolved, wo.ti_contact, wo.ending, wo.gamed, wo.remaining, wo.difficulty,
                np.float32(cfg.world.handling.rework_share), wo.claimed_resolved, wo.carry, wo.state, wo.ti_closed,
                int(day), END_WORKED, CLOSED)
        return {"closing": closing, "tally": tally}
    solved = wo.true_resolved[closing]
    # a unit reports 'resolved' what it solved, some unsolved worked orders (弄虚作假) and its
    # formal closures; an order explained as temporarily unsolvable is reported as such
    contacted = wo.ti_contact[closing] >= 0
    worked_end = wo.ending[closing] == END_WORKED
    wo.claimed_resolved[closing] = solved | (claim & contacted & worked_end) | wo.gamed[closing]
    # what a repeat about the same problem still needs: the work left, or a share of it again
    # when the fix failed (the repeat continues, it does not start from full difficulty)
    rework = cfg.world.handling.rework_share * wo.difficulty[closing]
    wo.carry[closing] = np.where(solved, 0.0, np.where(wo.remaining[closing] > 0, wo.remaining[closing], rework))
    wo.state[closing] = CLOSED
    wo.ti_closed[closing] = day
    return {"closing": closing, "tally": tally}


def _finish_compiled(k, idx: np.ndarray, day: int, model) -> tuple[np.ndarray, Tally]:
    """finish_worked, flag_overdue, explain_unsolvable and union_of_rows as one compiled pass
    (kernels._finish_day; issue 13): the same rows, draws, columns and tally."""
    wo, cfg, U, s = model.orders, model.cfg, model.units, model.streams
    h, nU = cfg.world.handling, model.city.n_units
    closing, ascending, counts, sums = k.finish_day(
        np.ascontiguousarray(idx, dtype=np.int64), int(day), wo.ti_done, wo.ti_contact, wo.remaining, wo.need_coop,
        wo.coop_remaining, wo.ending, wo.unit, wo.right_unit, wo.hard, wo.linkage, wo.unreasonable, wo.label_kind,
        wo.true_resolved, wo.key, wo.ti_deadline, wo.overdue, wo.extended, wo.ti_overdue, wo.explain, wo.coop_state,
        wo.gamed, (float(h.solve_prob), float(h.hard_solve_prob), float(h.misrouted_solve_prob)),
        float(cfg.world.linkage.central_success), s._name_hash("handling.solve")[()],
        bool(cfg.rules.deadlines.extensions), np.ascontiguousarray(U.p_extend, dtype=np.float64),
        s._name_hash("handling.extend")[()], int(cfg.rules.deadlines.extension_days),
        np.float32(h.extension_explain_hours), np.ascontiguousarray(U.p_explain, dtype=np.float64),
        np.ascontiguousarray(U.p_explain_blocked, dtype=np.float64), s._name_hash("handling.explain")[()],
        np.float32(h.unsolvable_explain_hours), float(cfg.rules.sanctions.error_tolerance), nU,
        (END_WORKED, END_EXPLAINED, LABEL_HONEST, LINK_CENTRAL, COOP_REFUSED))
    if not ascending:             # union_of_rows sorts its rows
        closing = np.sort(closing)
    # flag_overdue's tally, name by name in its order; Tally.add leaves out a name with no events
    first = 0 if cfg.rules.deadlines.extensions else 2
    named = [(n, counts[j], counts[j]) for j, n in enumerate(FINISH_COUNTS)][first:]
    named += [("overdue_hours", sums[0], counts[2]), ("overdue_forgiven", sums[1], counts[4])]
    tally = Tally(nU)
    tally.items += [(name, values) for name, values, events in named if events.any()]
    return closing, tally


def union_of_rows(idx: np.ndarray, parts: tuple) -> np.ndarray:
    """np.unique of the concatenated ``parts``, all rows of ``idx``: when ``idx`` ascends (the open
    list does: rows are appended in order and pruning keeps it), marking their positions in it
    gives the same sorted rows without a sort (issue 13)."""
    k = kernels.get(idx.size)
    if k is not None and len(parts) == 3:     # a merge of the ascending parts (model/kernels.py)
        out, ok = k.merge_unique(*(np.ascontiguousarray(p, dtype=np.int64) for p in parts))
        if ok:
            return out
    rows = np.concatenate(parts)
    if idx.size > 1 and not (idx[1:] > idx[:-1]).all():
        return np.unique(rows)
    pos = np.searchsorted(idx, rows)
    if rows.size and (pos.max() >= idx.size or not (idx[pos] == rows).all()):
        return np.unique(rows)              # not all rows of idx: the general way
    mark = np.zeros(idx.size, bool)
    mark[pos] = True
    return idx[mark]


def finish_worked(idx: np.ndarray, day: int, model) -> np.ndarray:
    """Orders whose own work and needed cooperation are complete today: the fix is tried."""
    wo, cfg, h = model.orders, model.cfg, model.cfg.world.handling
    k = kernels.get(idx.size)
    if k is not None:             # the same rows in one compiled pass (model/kernels.py)
        done = k.select_worked(idx, wo.ti_done, wo.ti_contact, wo.remaining, wo.need_coop, wo.coop_remaining)
    else:
        done = idx[(wo.ti_done[idx] < 0) & (wo.ti_contact[idx] >= 0) & (wo.remaining[idx] <= 0)
                   & (~wo.need_coop[idx] | (wo.coop_remaining[idx] <= 0))]
    wo.ti_done[done] = day
    wo.ending[done] = END_WORKED
    misrouted = wo.unit[done] != wo.right_unit[done]
    p = np.where(wo.hard[done], h.hard_solve_prob, h.solve_prob)
    p = np.where(misrouted, h.misrouted_solve_prob, p)
    p = np.where(wo.linkage[done] == LINK_CENTRAL, p * cfg.world.linkage.central_success, p)
    # unreasonable requests have nothing to solve; an order labelled in good faith got an explanation, not work
    p = np.where(wo.unreasonable[done] | (wo.label_kind[done] == LABEL_HONEST), 0.0, p)
    wo.true_resolved[done] = model.streams.bernoulli(p, "handling.solve", wo.key[done])
    return done


def flag_overdue(idx: np.ndarray, day: int, model) -> Tally:
    """Art. 13, 15(2): at the deadline a unit may ask to extend a hard, contacted order once (its
    choice, Units.p_extend; granted where the rules let the hotline grant extensions); the rest are
    flagged overdue and stay open."""
    wo, cfg = model.orders, model.cfg
    due = idx[(wo.ti_deadline[idx] <= day) & (wo.ti_done[idx] < 0) & ~wo.overdue[idx]]
    tally = Tally(model.city.n_units)
    # the channel: whether the hotline grants extensions at all is the rule (Art. 15(2))
    if cfg.rules.deadlines.extensions:
        cand = due[wo.hard[due] & ~wo.extended[due] & (wo.ti_contact[due] >= 0)]
        ask = model.streams.bernoulli(model.units.p_extend[wo.unit[cand]], "handling.extend", wo.key[cand])
        ext = cand[ask]
        wo.extended[ext] = True
        wo.ti_deadline[ext] += cfg.rules.deadlines.extension_days
        wo.explain[ext] += cfg.world.handling.extension_explain_hours
        due = due[~np.isin(due, ext)]
        tally.add("extend_candidates", wo.unit[cand].astype(np.int64))
        tally.add("extensions", wo.unit[ext].astype(np.int64))
    wo.overdue[due] = True
    wo.ti_overdue[due] = day
    u = wo.unit[due].astype(np.int64)
    tally.add("overdue", u)
    tally.add("extended_overdue", u[wo.extended[due]])      # extended, and still unfinished at the new deadline
    tally.add("overdue_hard", u[wo.hard[due]])
    # the work still left on them: what working on, rather than explaining, would cost (decisions.py)
    tally.add("overdue_hours", u, wo.remaining[due] + wo.coop_remaining[due])
    # Art. 36: good-faith failure on hard requests is partly forgiven
    hard = wo.hard[due]
    tally.add("overdue_forgiven", u[hard], np.full(int(hard.sum()), cfg.rules.sanctions.error_tolerance))
    return tally


def explain_unsolvable(idx: np.ndarray, day: int, model) -> np.ndarray:
    """Art. 15(2): a unit may explain an overdue order it cannot solve for now to the requester as
    temporarily unsolvable (暂不能解决), which ends it; its daily chance (Units.p_explain, chosen
    from what explained orders do to its rates, decisions.py) is higher when objective factors hold
    the order back (a hard request, cooperation refused, a central-unit linkage, a unit whose duty
    it is not)."""
    wo, h, U = model.orders, model.cfg.world.handling, model.units
    late = idx[wo.overdue[idx] & (wo.ti_done[idx] < 0) & (wo.ti_overdue[idx] < day) & (wo.ti_contact[idx] >= 0)]
    blocked = (wo.hard[late] | (wo.coop_state[late] == COOP_REFUSED) | (wo.linkage[late] == LINK_CENTRAL)
               | (wo.unit[late] != wo.right_unit[late]))
    unit = wo.unit[late].astype(np.int64)
    p = np.where(blocked, U.p_explain_blocked[unit], U.p_explain[unit])
    out = late[model.streams.bernoulli(p, "handling.explain", wo.key[late], day)]
    wo.ti_done[out] = day
    wo.ending[out] = END_EXPLAINED
    wo.explain[out] += h.unsolvable_explain_hours
    return out


def join_open(parents: np.ndarray, model) -> np.ndarray:
    """A repeat contact about an order still open joins it (the requester is told the
    progress, Art. 11(2)3; the order gains weight in the queue as an escalation threat);
    returns the parents that have ended, whose repeats become new orders."""
    wo = model.orders
    live = wo.state[parents] != CLOSED
    joined = parents[live]
    wo.n_joined[joined] = np.minimum(wo.n_joined[joined].astype(np.int16) + 1, 100).astype(np.int8)
    wo.threat[joined] = True
    return parents[~live]
