"""Units' rule-sensitive decisions, chosen from the consequences the rules attach to them.

MECHANISMS.md section 4; issue 10. A unit decides whether to answer a whistle (报到, Art. 16,
33), to contribute to an order another unit leads (Art. 14(2)), to whistle rather than ask
(Art. 16), to object to a hard order that is its duty (buck-passing, Art. 12(3), 14(1)) and
to report an unsolved order as resolved (弄虚作假, Art. 35(3)), to ask for an extension of a
hard order at its deadline (Art. 15(2); whether the hotline grants one is the rule, the channel),
to explain an overdue order as temporarily unsolvable rather than work on (暂不能解决, Art.
15(2)) and to press the requester of an unsolved order at callback (Art. 35(5) forbids it). No
rule sets any of these: each month the unit weighs, for each decision, the month's assessment
as it would come out if it took that act at every opportunity against never taking it:

    logit p = logit p0 + learned offset + sensitivity x incentive_weight x (payoff(yes) - payoff(no))
              - load_aversion x overload            (for taking on others' work)
              - hour_price x hours x (1 + overload)  (for an extension's explanation)
              + hour_price x hours saved x overload  (for explaining an overdue order rather than
                                                      working on: the work it believes is left
                                                      on it less the explanation; freed hours
                                                      are worth something only when work waits)

``p0`` is the propensity without any assessment (world.behaviour: duty, habit and
public-service motivation, i.e. the intrinsic value of the real outcome), the overload term
the price of the hours at last month's load, payoff is
:func:`assessment.payoff` of the percentile that :func:`assessment.score` (the one score
function that ranks units) would give, with the commendation and remedial lines smoothed by
the unit's uncertainty about its rank, minus :func:`assessment.sanction_points`. What an act
does to the month's counts (a whistle answered, an order objected away, a false claim that
passes or is caught) comes from the unit's *beliefs* about how the system answers such acts,
learned from its own and its class peers' experience (:class:`Beliefs`), never from the rules'
parameters. So the rules reach decisions only through the consequences units meet; with
``incentive_weight = 0`` no rule changes any decision.

The effort split (real work, rating management, gaming, source removal) is weighed the same way
(:func:`split_gains`): what moving a small share of staff time from real work to each use would
have done to the month's counts, from the unit's beliefs about each use's yield (:class:`Yields`,
learned from how its class peers' counts vary with their splits; how often gaming's acts are
caught read act by act, :func:`gaming_sanctions`), through the same score and
payoff, weighed by incentive_weight, plus the intrinsic value of the real resolution the move
gains or loses. Units.learn moves the split a step along it, beside aspiration, imitation and
peer-gradient learning.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .assessment import Tally, payoff, rank_lines, sanction_points, score, unit_classes
from .measures import in_scope, rate, satisfied
from .orders import END_EXPLAINED, END_WORKED
from .world import KIND_TOWNSHIP, acting_units

# beliefs: name -> (numerator field, denominator field, world.behaviour prior attribute or value)
BELIEFS = {
    "whistle_answered": ("whistles_answered_lead", "whistles_sent", "p_answer_whistle"),
    "ask_answered": ("coop_answered", "coop_requests", "p_cooperate_unscored"),
    "claim_measured": ("false_claims_measured", "false_claims", 0.8),
    "unclaimed_measured": ("unclaimed_measured", "unclaimed_unsolved", 0.5),
    "claim_detected": ("detected", "false_claims", 0.05),
    "bucketpass_rejected": ("objections_rejected_bucketpass", "objections_bucketpass", 0.5),
    # priors below are assumptions (no published source); pairs compared with each other start equal,
    # so no unit expects an explanation or pressure to change a rating before it has seen one
    "extension_late": ("extended_overdue", "extensions", 0.3),
    "explained_measured": ("explained_measured", "explained_scope", 0.5),
    "explained_satisfied": ("explained_satisfied", "explained_scope", 0.5),
    "late_measured": ("late_measured", "late_scope", 0.5),
    "late_satisfied": ("late_satisfied", "late_scope", 0.5),
    "pressed_measured": ("pressed_measured", "pressed_scope", 0.5),
    "pressed_satisfied": ("pressed_satisfied", "pressed_scope", 0.5),
    "unpressed_measured": ("unpressed_measured", "unpressed_scope", 0.5),
    "unpressed_satisfied": ("unpressed_satisfied", "unpressed_scope", 0.5),
    "pressure_confirmed": ("pressure_confirmed", "pressed", 0.05),
    "label_excluded": ("excluded", "labelled", 1.0),
    # staff hours still left on an order when it falls due unfinished (a mean, not a share; assumption prior)
    "overdue_work": ("overdue_hours", "overdue", 4.0),
    "label_rejected": ("label_rejected", "labelled", 0.1),
}
DECISIONS = ["answer_whistle", "cooperate", "whistle", "object_bucketpass", "claim_resolved",
             "extend", "explain", "press"]
# the uses staff time can move to from real work (behaviour.ACTIVITIES[1:]) and the month's counts
# units believe each moves (per closed order): what the effort split is weighed on (split_gains)
SPLIT_USES = ["satisfy", "game", "proactive"]
YIELD_FIELDS = ["in_scope", "responded", "measured_resolved", "satisfied", "true_resolved", "hard",
                "hard_measured_resolved", "overdue", "overdue_forgiven", "perfunctory", "detected",
                "label_rejected", "pressure_confirmed", "sources_removed"]
SPLIT_DELTA = 0.05     # share of staff time moved in the counterfactual (a small move)


class Beliefs:
    """What each unit believes about how the system answers its acts: the share of whistles
    answered, of false claims counted resolved or caught, of buck-passing objections rejected.
    Beta-style: each month keeps ``belief_memory`` of the past and takes the rest from the
    month's experience, its own pooled with its class peers' (``peer_evidence`` orders' worth)."""

    def __init__(self, city, cfg):
        b = cfg.world.behaviour
        self.city = city
        self.value = {k: np.full(city.n_units, float(getattr(b, prior) if isinstance(prior, str) else prior))
                      for k, (_, _, prior) in BELIEFS.items()}

    def update(self, v: dict, cfg) -> None:
        b = cfg.world.behaviour
        cls = unit_classes(self.city, cfg)
        for k, (num, den, _) in BELIEFS.items():
            n, d = v[num], v[den]
            peer = np.zeros(self.city.n_units)
            for c in np.unique(cls):
                m = cls == c
                peer[m] = rate(n[m].sum(), d[m].sum()) if d[m].sum() > 0 else np.nan
            peer = np.where(np.isfinite(peer), peer, self.value[k])
            seen = (n + b.peer_evidence * peer) / (d + b.peer_evidence)
            self.value[k] = b.belief_memory * self.value[k] + (1 - b.belief_memory) * seen


def policy_payoff(v: dict, cfg, city, population: np.ndarray, peers: np.ndarray, cls: np.ndarray) -> np.ndarray:
    """Expected payoff of month counts ``v`` to each unit: its score (assessment.score) placed among
    its class peers' scores ``peers``, commendation and remedial lines smoothed by rank uncertainty."""
    b = cfg.world.behaviour
    commend_share, remedial_share = rank_lines(cfg)
    s = score(v, cfg, city, population)
    pct = np.full(city.n_units, np.nan)
    for c in np.unique(cls):
        m = cls == c
        ref = np.sort(peers[m & np.isfinite(peers)])
        if ref.size:
            q = (np.arange(ref.size) + 0.5) / ref.size
            pct[m] = np.interp(s[m], ref, q, left=0.0, right=1.0)
    ru = b.rank_uncertainty
    commended = special.ndtr((pct - (1 - commend_share)) / ru)
    remedial = special.ndtr((remedial_share - pct) / ru)
    return payoff(pct, commended, remedial, sanction_points(v, cfg), cfg)


def _with(v: dict, changes: dict[str, np.ndarray]) -> dict:
    out = dict(v)
    for k, dv in changes.items():
        out[k] = np.maximum(v[k] + dv, 0.0)
    return out


def consequences(v: dict, cfg, city, population: np.ndarray, beliefs: Beliefs, current: dict) -> dict:
    """Payoff difference (taking the act at every opportunity minus never) of each decision, per unit.

    ``v``: the month's counts just assessed; ``current``: the probabilities the units used, so
    the month's acts can be taken out before each option is put in."""
    bel, b = beliefs.value, cfg.world.behaviour
    cls = unit_classes(city, cfg)
    peers = np.where(acting_units(city), score(v, cfg, city, population), np.nan)
    res_rate = np.nan_to_num(rate(v["measured_resolved"], v["in_scope"]), nan=0.8)
    sat_rate = np.nan_to_num(rate(v["satisfied"], v["in_scope"]), nan=0.9)
    resp_rate = np.nan_to_num(rate(v["responded"], v["in_scope"]), nan=0.95)
    hard_res = np.nan_to_num(rate(v["hard_measured_resolved"], v["hard"]), nan=0.5)

    def gap(per_yes: dict[str, np.ndarray], n: np.ndarray, p_now: np.ndarray) -> np.ndarray:
        none = _with(v, {k: -n * p_now * d for k, d in per_yes.items()})
        every = _with(none, {k: n * d for k, d in per_yes.items()})
        return (policy_payoff(every, cfg, city, population, peers, cls)
                - policy_payoff(none, cfg, city, population, peers, cls))

    out = {}
    # a department answering a whistle (Art. 16(2), 33) or a cooperation request (Art. 14(2)):
    # its delivery counts where cooperation is scored; equal scoring shares the lead's result
    for name, asked, answered in (("answer_whistle", "whistles_received", "whistles_answered"),
                                  ("cooperate", "coop_requests", "coop_answered")):
        n = v[asked]
        share = np.minimum(n / np.maximum(v["coop_orders"], 1.0), 1.0)
        out[name] = gap({answered: np.ones_like(n), "coop_delivered": share, "coop_measured_resolved": share * res_rate},
                        n, current[name])
    # a township whistling rather than asking: more answers, and its whistled orders are scored (Art. 33)
    n = v["whistles_sent"] + v["coop_asks"]
    lift = np.maximum(bel["whistle_answered"] - bel["ask_answered"], 0.0)
    out["whistle"] = gap({"whistled_orders": np.ones_like(n), "whistled_resolved": bel["whistle_answered"] * res_rate,
                          "measured_resolved": lift * b.cooperation_resolution_gain,
                          "satisfied": lift * b.cooperation_resolution_gain},
                         n, current["whistle"])
    # buck-passing objection on a hard order of its own (Art. 12(3), 14(1)): accepted, the order
    # leaves its books; rejected, it is sanctioned (Art. 35(1))
    n = v["hard"]
    acc = 1.0 - bel["bucketpass_rejected"]
    out["object_bucketpass"] = gap({"in_scope": -acc, "measured_resolved": -acc * hard_res, "satisfied": -acc * sat_rate,
                                    "responded": -acc * resp_rate, "hard": -acc, "hard_measured_resolved": -acc * hard_res,
                                    "objections_bucketpass": np.ones_like(n), "objections_rejected_bucketpass": 1 - acc},
                                   n, current["object_bucketpass"])
    # reporting an unsolved, contacted order as resolved (Art. 35(3)): counted resolved as often as
    # false claims pass, against as often as unclaimed unsolved orders are counted resolved anyway
    # (by the requester's answer), and sanctioned as often as the audit catches one
    n = np.maximum(v["closed"] - v["true_resolved"] - v["perfunctory"], 0.0)
    lift = bel["claim_measured"] - bel["unclaimed_measured"]
    out["claim_resolved"] = gap({"false_claims": np.ones_like(n), "measured_resolved": lift,
                                 "false_claims_measured": bel["claim_measured"], "detected": bel["claim_detected"]},
                                n, current["claim_resolved"])
    # asking the hotline to extend a hard, contacted order at its deadline (Art. 15(2)): not booked
    # overdue now, only as often as extended orders still fall due unfinished (with the share of a
    # hard order's overdue it has seen forgiven, Art. 36)
    n = v["extend_candidates"]
    late = bel["extension_late"]
    forgive = np.nan_to_num(rate(v["overdue_forgiven"], v["overdue_hard"]), nan=0.0)
    out["extend"] = gap({"overdue": -(1 - late), "overdue_forgiven": -(1 - late) * forgive,
                         "extensions": np.ones_like(n), "extended_overdue": late}, n, current["extend"])
    # explaining an overdue order as temporarily unsolvable (暂不能解决, Art. 15(2)) rather than working
    # on: it stays in scope and is counted resolved and rated as the unit has seen explained orders
    # be, instead of as overdue orders worked to the end (measures.py: END_EXPLAINED)
    n = v["overdue"]
    out["explain"] = gap({"measured_resolved": bel["explained_measured"] - bel["late_measured"],
                          "satisfied": bel["explained_satisfied"] - bel["late_satisfied"],
                          "explained": np.ones_like(n)}, n, current["explain"])
    # pressing the requester of an unsolved order at callback (Art. 35(5) forbids it): counted and
    # rated as pressed orders are against unpressed ones, and confirmed as often as it has seen
    n = v["pressed_scope"] + v["unpressed_scope"]
    out["press"] = gap({"measured_resolved": bel["pressed_measured"] - bel["unpressed_measured"],
                        "satisfied": bel["pressed_satisfied"] - bel["unpressed_satisfied"],
                        "pressure_confirmed": bel["pressure_confirmed"], "pressed": np.ones_like(n)},
                       n, current["press"])
    township = city.unit_kind == KIND_TOWNSHIP
    out["whistle"] = np.where(township, out["whistle"], 0.0)
    return {k: np.where(np.isfinite(x) & acting_units(city), x, 0.0) for k, x in out.items()}


def current_shares(v: dict) -> dict:
    """The share of their opportunities units took this month for the decisions counted in the
    ledger (extensions asked, overdue orders explained, unsolved closures pressed)."""
    return {"extend": np.clip(np.nan_to_num(rate(v["extensions"], v["extend_candidates"])), 0, 1),
            "explain": np.clip(np.nan_to_num(rate(v["explained"], v["overdue"])), 0, 1),
            "press": np.clip(np.nan_to_num(rate(v["pressed_scope"], v["pressed_scope"] + v["unpressed_scope"])), 0, 1)}


def evidence_tally(orders, closing: np.ndarray, n_units: int) -> Tally:
    """What today's rated closures show their units (the evidence of :class:`Beliefs`): in-scope
    orders explained as temporarily unsolvable against overdue orders worked to the end (Art. 15(2)),
    and unsolved contacted orders whose requester was pressed against those not pressed (Art. 35(5)),
    each with how many were counted resolved and rated satisfied."""
    wo, t = orders, Tally(n_units)
    u = wo.unit[closing].astype(np.int64)
    scope = in_scope(wo, closing)
    meas = wo.measured_resolved[closing] & scope
    sat = satisfied(wo, closing) & scope
    unsolved = ~wo.true_resolved[closing] & (wo.ti_contact[closing] >= 0)
    pressed = unsolved & (wo.pressure[closing] > 0)
    groups = {"explained": wo.ending[closing] == END_EXPLAINED,
              "late": wo.overdue[closing] & (wo.ending[closing] == END_WORKED),
              "pressed": pressed, "unpressed": unsolved & ~pressed}
    # the counts, in this order, from one pass over the units on the compiled path (Tally.add_masks)
    t.add_masks(u, [(f"{name}_{what}", m & w) for name, m in groups.items()
                    for what, w in (("scope", scope), ("measured", meas), ("satisfied", sat))] + [("pressed", pressed)])
    return t


class Yields:
    """What each unit believes one more share of its staff time in each use (rating management,
    gaming, source removal; SPLIT_USES), taken from real work, does to its month's counts per closed
    order (YIELD_FIELDS): the within-class regression of its peers' counts on their effort splits (the
    experience of units that split their time differently), each slope shrunk by its evidence
    (t^2 / (t^2 + 4)) and remembered like the other beliefs (belief_memory)."""

    def __init__(self, city):
        self.city = city
        self.slope = np.zeros((city.n_units, len(SPLIT_USES), len(YIELD_FIELDS)))

    def update(self, v: dict, effort: np.ndarray, cfg) -> None:
        """Month end: the month's counts ``v`` against the splits ``effort`` (U x 4) they came from."""
        b = cfg.world.behaviour
        cls = unit_classes(self.city, cfg)
        ok = acting_units(self.city) & (v["closed"] > 0)
        X = effort[:, 1:]
        Y = np.column_stack([v[f] / np.maximum(v["closed"], 1.0) for f in YIELD_FIELDS])
        seen = self.slope.copy()           # a class without enough evidence keeps its belief
        for c in np.unique(cls[ok]):
            m = np.flatnonzero(ok & (cls == c))
            if len(m) >= max(b.yield_min_units, 2 * X.shape[1] + 2):
                seen[m] = class_slopes(X[m], Y[m])[None]
        self.slope = b.belief_memory * self.slope + (1 - b.belief_memory) * seen


def class_slopes(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """OLS slopes of each column of Y on the columns of X (k x F), shrunk by t^2 / (t^2 + 4);
    columns of X that do not vary get slope 0."""
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    keep = Xc.std(0) > 1e-9
    out = np.zeros((X.shape[1], Y.shape[1]))
    if not keep.any():
        return out
    Z = Xc[:, keep]
    inv = np.linalg.inv(Z.T @ Z + 1e-9 * np.eye(Z.shape[1]))
    beta = inv @ Z.T @ Yc
    dof = max(len(X) - Z.shape[1] - 1, 1)
    se = np.sqrt(np.maximum(np.outer(np.diag(inv), ((Yc - Z @ beta) ** 2).sum(0) / dof), 1e-18))
    t2 = (beta / se) ** 2
    out[keep] = beta * t2 / (t2 + 4.0)
    return out


STAFF_HOURS = ["hours_resolve", "hours_contact", "hours_coop", "hours_satisfy", "hours_game", "hours_proactive"]


def gaming_sanctions(v: dict, beliefs: Beliefs, hours: np.ndarray) -> dict[str, np.ndarray]:
    """What ``hours`` more gaming would bring in caught acts, read act by act (the rare events a
    comparison of peers' months cannot show): the formal closures and false labels the unit's own
    gaming bought per hour, caught as often as it believes the audit catches a false claim (Art.
    35(3)) and the hotline rejects a label (Art. 32(3))."""
    bel = beliefs.value
    per_hour = lambda num: np.nan_to_num(rate(v[num], v["hours_game"]))   # noqa: E731
    return {"detected": hours * per_hour("gamed") * bel["claim_detected"],
            "label_rejected": hours * per_hour("labels_gamed") * bel["label_rejected"]}


def split_gains(v: dict, cfg, city, population: np.ndarray, yields: Yields,
                beliefs: Beliefs) -> tuple[np.ndarray, np.ndarray]:
    """What moving staff time from real work to each use (SPLIT_USES) is worth to each unit, per unit
    share moved: the assessment payoff of the month its beliefs say it would have had
    (assessment.score, sanction_points and payoff, through :func:`policy_payoff`) minus the actual
    month's, and the public-service value of the true resolution it would gain or lose (the intrinsic
    term of assessment.assess's utility). Each use's yield comes from the peers' experience
    (:class:`Yields`), except what gaming brings in caught acts, read act by act
    (:func:`gaming_sanctions`).
    Returns (payoff gain, intrinsic gain), each U x 3."""
    b = cfg.world.behaviour
    cls = unit_classes(city, cfg)
    acting = acting_units(city) & (v["closed"] > 0)
    peers = np.where(acting_units(city), score(v, cfg, city, population), np.nan)
    now = policy_payoff(v, cfg, city, population, peers, cls)
    pay = np.zeros((city.n_units, len(SPLIT_USES)))
    for j, use in enumerate(SPLIT_USES):
        change = {f: SPLIT_DELTA * v["closed"] * yields.slope[:, j, i] for i, f in enumerate(YIELD_FIELDS)}
        if use == "game":
            change.update(gaming_sanctions(v, beliefs, SPLIT_DELTA * sum(v[h] for h in STAFF_HOURS)))
        pay[:, j] = (policy_payoff(_with(v, change), cfg, city, population, peers, cls) - now) / SPLIT_DELTA
    # the public-service value of the move (the intrinsic term of assessment.assess's utility, in true
    # resolutions per closed order): every use gives up the problems the moved hours would have solved;
    # source removal also prevents problems (a source removed counts as one solved before it is reported);
    # rating management and gaming solve none (peers who explain more are not evidence that explaining solves)
    own = np.zeros((city.n_units, len(SPLIT_USES)))
    own[:, SPLIT_USES.index("proactive")] = yields.slope[:, SPLIT_USES.index("proactive"), YIELD_FIELDS.index("sources_removed")]
    intrinsic = b.intrinsic_motivation * b.intrinsic_scale * (own - real_work_lost(v)[:, None])
    ok = acting[:, None]
    return np.where(ok & np.isfinite(pay), pay, 0.0), np.where(ok, intrinsic, 0.0)


def real_work_lost(v: dict) -> np.ndarray:
    """True resolutions per closed order lost by moving one unit share of staff time off real work:
    the hours moved times the unit's own true resolutions per hour of real work last month, as far
    as work waits for them (the hours of work that arrived against the in-role hours budgeted for
    it, ``hours_available``; a unit with slack loses less). What the move costs in the unit's own production, which a comparison
    of peers cannot show (peers who solve more are also those with less load)."""
    staff = sum(v[h] for h in STAFF_HOURS)
    busy = np.clip(v["hours_demanded"] / np.maximum(v["hours_available"], 1e-9), 0.0, 1.0)
    per_hour = np.nan_to_num(rate(v["true_resolved"], v["hours_resolve"]))
    return staff * per_hour * busy / np.maximum(v["closed"], 1.0)


def split_move(pay: np.ndarray, intrinsic: np.ndarray, cfg) -> np.ndarray:
    """The step of each use's share (U x 3, real work takes the opposite of their sum) along the
    consequences gradient: tanh of the sensitivity-scaled gain of the small move (SPLIT_DELTA of
    staff time; ``pay`` and ``intrinsic`` are per unit share), the assessment part weighed by
    incentive_weight, times learning_rate x consequence_step."""
    b = cfg.world.behaviour
    gain = b.decision_sensitivity * SPLIT_DELTA * (b.incentive_weight * pay + intrinsic)
    return b.learning_rate * b.consequence_step * np.tanh(gain / 2.0)


def remedial_stake(cfg) -> float:
    """What being designated remedial (治理类) costs a unit standing at the line (assessment.payoff)."""
    line = rank_lines(cfg)[1]
    return float(payoff(line, 0.0, 0.0, 0.0, cfg) - payoff(line, 0.0, 1.0, 0.0, cfg))


def shift(p0, offset, gain, cfg) -> np.ndarray:
    """A decision probability: the unit's propensity, its learned offset, and the payoff gain it expects."""
    b = cfg.world.behaviour
    if np.ndim(p0) == 0 and (p0 <= 0.0 or p0 >= 1.0):
        return np.broadcast_to(float(p0 >= 1.0), np.shape(gain)).copy()   # certain and impossible stay so
    p0 = np.clip(p0, 1e-6, 1 - 1e-6)
    return special.expit(special.logit(p0) + offset + b.decision_sensitivity * b.incentive_weight * gain)
