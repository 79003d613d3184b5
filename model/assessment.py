"""Monthly assessment (考评, Art. 32, 33, 35, 36, 7): scores, ranks, rewards and sanctions.

Each month every unit is scored on its in-scope orders by the three rates (三率: response,
resolution, satisfaction; Art. 32), combined with configurable weights. Levers, each a
``rules.*`` field: who decides "resolved"; graded and classified ranking (分级分类) with
optional requests per 10,000 residents (万人诉求比); differential scoring of lead and
cooperating units (seed: 首接、配合单位差别化考评); dual assessment of whistles (双考核,
Art. 33); exclusion of unreasonable requests (动态调整, Art. 32(3)); credit for proactive
governance and hard requests (Art. 32(4)); sanctions (Art. 35) softened by error tolerance
(容错纠错, Art. 36); commendation of the top group (Art. 7) and remedial designation
(治理类) of the bottom group. The measured score is what units see; the true resolution
rate is recorded beside it but never enters the score.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from .behaviour import prospect_value
from .measures import in_scope, rate, rate_or0, responded_on_time, satisfied, three_rate_score
from .orders import COOP_ENGAGED
from .world import KIND_TOWNSHIP, acting_units

CLOSURE_FIELDS = ["closed", "in_scope", "responded", "measured_resolved", "satisfied", "true_resolved",
                  "overdue", "overdue_forgiven", "gamed", "false_claims", "detected", "audited", "hard",
                  "hard_measured_resolved", "hard_true_resolved", "labelled", "label_rejected", "excluded",
                  "perfunctory", "coop_orders", "coop_delivered", "coop_measured_resolved",
                  "whistled_orders", "whistled_resolved", "days_to_close"]
EVENT_FIELDS = ["objections", "objections_rejected_bucketpass", "whistles_sent", "whistles_answered_lead",
                "whistles_received", "whistles_answered", "coop_requests", "coop_answered", "escalations",
                "dispatched", "copies_to_district", "sources_removed", "surge_days",
                "pressure_reports", "pressure_confirmed"]   # requesters' side: Art. 8(3), 35(5)
HOUR_FIELDS = ["hours_resolve", "hours_satisfy", "hours_game", "hours_proactive", "hours_contact",
               "hours_coop", "hours_available", "hours_demanded", "hours_overtime"]


class Tally:
    """Per-unit counts that one mechanism reports for today (what it did), in the order it
    counted them; the model books them into the month's :class:`Ledger`."""

    def __init__(self, n_units: int):
        self.n = n_units
        self.items: list[tuple[str, np.ndarray]] = []

    def add(self, name: str, units: np.ndarray, weights: np.ndarray | None = None) -> None:
        """Count ``units`` (one per event, or ``weights`` each) under ``name``."""
        if units.size:
            self.items.append((name, np.bincount(units.astype(np.int64), weights=weights, minlength=self.n)))

    def add_array(self, name: str, values: np.ndarray) -> None:
        """Add a per-unit array under ``name``."""
        self.items.append((name, values))


class Ledger:
    """Per-unit counters for the current month (reset after assessment); owned by the assessment."""

    def __init__(self, n_units: int):
        self.n = n_units
        self.fields = CLOSURE_FIELDS + EVENT_FIELDS + HOUR_FIELDS
        self.reset()

    def reset(self) -> None:
        self.v = {f: np.zeros(self.n) for f in self.fields}

    def book(self, *tallies: Tally) -> None:
        """Add what the day's mechanisms reported, tally by tally, in order."""
        for t in tallies:
            for name, values in t.items:
                self.v[name] += values

    def tally(self) -> Tally:
        return Tally(self.n)


def closure_tally(orders, closing: np.ndarray, rules, n_units: int) -> Tally:
    """Today's closed orders, counted for their lead unit (and cooperating unit)."""
    wo, t = orders, Tally(n_units)
    u = wo.unit[closing].astype(np.int64)
    responded = responded_on_time(wo, closing, rules.deadlines.response_days)
    scope = in_scope(wo, closing)
    hard = wo.hard[closing]
    true, meas = wo.true_resolved[closing], wo.measured_resolved[closing]
    sat = satisfied(wo, closing)
    overdue = wo.overdue[closing]
    tol = rules.sanctions.error_tolerance
    add = lambda name, mask, w=None: t.add(name, u[mask], None if w is None else w[mask])  # noqa: E731
    add("closed", np.ones(u.size, bool))
    add("in_scope", scope)
    add("responded", scope & responded)
    add("measured_resolved", scope & meas)
    add("satisfied", scope & sat)
    add("true_resolved", true)
    add("overdue", overdue)
    # Art. 36: good-faith failure on hard requests is partly forgiven
    add("overdue_forgiven", overdue & hard, np.full(u.size, tol))
    add("gamed", wo.gamed[closing])
    add("false_claims", wo.claimed_resolved[closing] & ~true)
    add("detected", wo.detected[closing])
    add("audited", wo.audited[closing])
    add("hard", hard & scope)
    add("hard_measured_resolved", hard & scope & meas)
    add("hard_true_resolved", hard & true)
    add("labelled", wo.labelled[closing])
    add("label_rejected", wo.label_rejected[closing])
    add("excluded", wo.excluded[closing])
    add("perfunctory", ~true & (wo.ti_contact[closing] < 0))
    add("whistled_orders", wo.whistled[closing])
    add("whistled_resolved", wo.whistled[closing] & meas)
    add("days_to_close", np.ones(u.size, bool), (wo.ti_closed[closing] - wo.ti_created[closing]).astype(float))
    co = closing[wo.need_coop[closing]]
    cu = wo.coop_unit[co].astype(np.int64)
    delivered = (wo.coop_state[co] == COOP_ENGAGED) & (wo.coop_remaining[co] <= 0)
    t.add("coop_orders", cu)
    t.add("coop_delivered", cu[delivered])
    t.add("coop_measured_resolved", cu[wo.measured_resolved[co]])
    return t


def assessment_class(city, assessment) -> np.ndarray:
    """The class each unit is ranked in: its own class under 分级分类 (Art. 32), else two
    classes (townships, everyone else)."""
    return city.unit_class if assessment.graded_classified else np.where(city.unit_kind == KIND_TOWNSHIP, 0, 2)


def unit_rates(v: dict) -> dict[str, np.ndarray]:
    """The three rates and the true resolution rate of each unit from its month's counts."""
    return {"response_rate": rate(v["responded"], v["in_scope"]),
            "resolution_rate": rate(v["measured_resolved"], v["in_scope"]),
            "satisfaction_rate": rate(v["satisfied"], v["in_scope"]),
            "true_resolution_rate": rate(v["true_resolved"], v["closed"])}


def standing(v: dict, cfg, city) -> np.ndarray:
    """Month-to-date percentile of each unit in its class on the three rates (what units can
    compute from the data the hotline pushes them, Art. 28)."""
    a = cfg.rules.assessment
    r = unit_rates(v)
    score = three_rate_score(r["response_rate"], r["resolution_rate"], r["satisfaction_rate"], a.weights)
    ok = np.isfinite(score) & acting_units(city) & (v["in_scope"] >= cfg.world.behaviour.standing_min_orders)
    return _percentile_in_class(score, assessment_class(city, a), ok)


def assess(v: dict, cfg, city, population: np.ndarray) -> dict[str, np.ndarray]:
    """Score, rank, reward and sanction every unit for the month just ended (counts ``v``;
    ``population``: residents each unit serves, scaled, for 万人诉求比)."""
    a, sn = cfg.rules.assessment, cfg.rules.sanctions
    r = unit_rates(v)
    resp, res, sat, true = r["response_rate"], r["resolution_rate"], r["satisfaction_rate"], r["true_resolution_rate"]
    if a.cooperation_scoring == "equal":   # cooperating units share the joint outcome
        res = rate(v["measured_resolved"] + v["coop_measured_resolved"], v["in_scope"] + v["coop_orders"])
    base = three_rate_score(resp, res, sat, a.weights)
    score = base.copy()
    coop_rate = rate(v["coop_delivered"], v["coop_orders"])
    if a.cooperation_scoring == "differential":
        has = np.isfinite(coop_rate)
        both = has & np.isfinite(base)
        score = np.where(both, (1 - a.cooperation_weight) * base + a.cooperation_weight * 100 * coop_rate,
                         np.where(has, 100 * coop_rate, base))
    if a.dual_whistle:  # Art. 33: districts score whistling townships and reporting departments
        answered = rate(v["whistles_answered"], v["whistles_received"])
        whistle_ok = rate(v["whistled_resolved"], v["whistled_orders"])
        dual = np.where(city.unit_kind == KIND_TOWNSHIP, whistle_ok, answered)
        score = np.where(np.isfinite(dual) & np.isfinite(score), (1 - a.dual_weight) * score + a.dual_weight * 100 * dual, score)
    volume = np.full(city.n_units, np.nan)
    pop10k = population / 1e4
    T = city.n_townships
    volume[:T] = v["dispatched"][:T] / np.maximum(pop10k[:T], 1e-9)
    # Art. 32(4): credit for proactive governance and for solving hard requests
    removed_per_order = np.minimum(v["sources_removed"] / np.maximum(v["closed"], 1.0), a.proactive_credit_cap)
    score = score + a.proactive_credit * 100 * removed_per_order
    score = score + a.hard_credit * 100 * np.nan_to_num(rate(v["hard_measured_resolved"], v["hard"]))
    cls = assessment_class(city, a)
    assessable = np.isfinite(score) & acting_units(city)
    if a.per_capita_weight > 0:   # 万人诉求比: fewer requests per 10,000 residents scores better
        score = score - a.per_capita_weight * 100 * _within_class_scaled(volume, cls, assessable)
    pct = _percentile_in_class(score, cls, assessable)
    commended = assessable & (pct >= 1 - a.commend_share)
    remedial = assessable & (pct < a.remedial_share)
    closed = np.maximum(v["closed"], 1.0)
    overdue_pen = (v["overdue"] - v["overdue_forgiven"]) / closed
    sanction = (sn.overdue * overdue_pen
                + sn.buck_passing * v["objections_rejected_bucketpass"] / closed
                + sn.perfunctory * (1 - sn.error_tolerance * rate_or0(v["hard"], v["closed"])) * v["perfunctory"] / closed
                + sn.falsification * v["detected"] / np.maximum(v["audited"], 1.0)
                + sn.falsification * v["label_rejected"] / closed
                + sn.pressure * v["pressure_confirmed"] / closed)         # Art. 35(5): pressure on requesters
    sanction = np.where(assessable, sanction, 0.0)
    b = cfg.world.behaviour
    standing_value = prospect_value(pct - a.remedial_share, b.value_exponent, b.loss_aversion)
    payoff = np.where(assessable, standing_value + a.reward * commended - sn.strength * remedial - sanction, 0.0)
    # what units value: their payoff plus public-service motivation for real resolution
    true_rel = np.nan_to_num(true - _class_mean(true, cls, assessable))
    utility = np.where(assessable, payoff + b.intrinsic_motivation * true_rel * b.intrinsic_scale, np.nan)
    return {"response_rate": resp, "resolution_rate": res, "satisfaction_rate": sat,
            "true_resolution_rate": true, "score": score, "percentile": pct, "commended": commended,
            "remedial": remedial, "sanction_points": sanction, "payoff": payoff, "utility": utility, "class": cls,
            "requests_per_10k": volume, "coop_delivery_rate": coop_rate, "assessable": assessable}


def _class_mean(x, cls, ok) -> np.ndarray:
    out = np.full(x.shape, np.nan)
    for c in np.unique(cls[ok]):
        m = ok & (cls == c) & np.isfinite(x)
        if m.any():
            out[ok & (cls == c)] = x[m].mean()
    return out


def _percentile_in_class(score, cls, ok) -> np.ndarray:
    """Rank percentile (0 = worst, 1 = best) within each class; ties share the mean rank."""
    out = np.full(score.shape, np.nan)
    for c in np.unique(cls[ok]):
        m = np.flatnonzero(ok & (cls == c))
        out[m] = (rankdata(score[m]) - 0.5) / len(m)
    return out


def _within_class_scaled(x, cls, ok) -> np.ndarray:
    """x rescaled to 0-1 within each class (0 for units without a value)."""
    out = np.zeros(x.shape)
    for c in np.unique(cls[ok]):
        m = ok & (cls == c) & np.isfinite(x)
        if m.sum() > 1 and np.ptp(x[m]) > 0:
            out[m] = (x[m] - x[m].min()) / np.ptp(x[m])
    return out
