"""Units' rule-sensitive decisions, chosen from the consequences the rules attach to them.

MECHANISMS.md section 4; issue 10. A unit decides whether to answer a whistle (报到, Art. 16,
33), to contribute to an order another unit leads (Art. 14(2)), to whistle rather than ask
(Art. 16), to object to a hard order that is its duty (buck-passing, Art. 12(3), 14(1)) and
to report an unsolved order as resolved (弄虚作假, Art. 35(3)). No rule sets any of these: each
month the unit weighs, for each decision, the month's assessment as it would come out if it
took that act at every opportunity against never taking it:

    logit p = logit p0 + learned offset + sensitivity x incentive_weight x (payoff(yes) - payoff(no))
              - load_aversion x overload            (for taking on others' work)

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
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .assessment import payoff, rank_lines, sanction_points, score, unit_classes
from .measures import rate
from .world import KIND_TOWNSHIP, acting_units

# beliefs: name -> (numerator field, denominator field, world.behaviour prior attribute or value)
BELIEFS = {
    "whistle_answered": ("whistles_answered_lead", "whistles_sent", "p_answer_whistle"),
    "ask_answered": ("coop_answered", "coop_requests", "p_cooperate_unscored"),
    "claim_measured": ("false_claims_measured", "false_claims", 0.8),
    "unclaimed_measured": ("unclaimed_measured", "unclaimed_unsolved", 0.5),
    "claim_detected": ("detected", "false_claims", 0.05),
    "bucketpass_rejected": ("objections_rejected_bucketpass", "objections_bucketpass", 0.5),
}
DECISIONS = ["answer_whistle", "cooperate", "whistle", "object_bucketpass", "claim_resolved"]


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
    township = city.unit_kind == KIND_TOWNSHIP
    out["whistle"] = np.where(township, out["whistle"], 0.0)
    return {k: np.where(np.isfinite(x) & acting_units(city), x, 0.0) for k, x in out.items()}


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
