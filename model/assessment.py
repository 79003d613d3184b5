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
from .orders import COOP_ENGAGED, SAT_BASIC
from .world import KIND_DISTGOV, KIND_HOTLINE, KIND_TOWNSHIP

CLOSURE_FIELDS = ["closed", "in_scope", "responded", "measured_resolved", "satisfied", "true_resolved",
                  "overdue", "overdue_forgiven", "gamed", "false_claims", "detected", "audited", "hard",
                  "hard_measured_resolved", "hard_true_resolved", "labelled", "label_rejected", "excluded",
                  "perfunctory", "coop_orders", "coop_delivered", "coop_measured_resolved",
                  "whistled_orders", "whistled_resolved", "days_to_close"]
EVENT_FIELDS = ["objections", "objections_rejected_bucketpass", "whistles_sent", "whistles_answered_lead",
                "whistles_received", "whistles_answered", "coop_requests", "coop_answered", "escalations",
                "dispatched", "copies_to_district", "sources_removed", "surge_days"]
HOUR_FIELDS = ["hours_resolve", "hours_satisfy", "hours_game", "hours_proactive", "hours_contact",
               "hours_coop", "hours_available", "hours_demanded", "hours_overtime"]


class Ledger:
    """Per-unit counters for the current month (reset after assessment)."""

    def __init__(self, n_units: int):
        self.n = n_units
        self.fields = CLOSURE_FIELDS + EVENT_FIELDS + HOUR_FIELDS
        self.reset()

    def reset(self) -> None:
        self.v = {f: np.zeros(self.n) for f in self.fields}
        self.pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def add_units(self, name: str, units: np.ndarray, weights: np.ndarray | None = None) -> None:
        if units.size:
            self.v[name] += np.bincount(units.astype(np.int64), weights=weights, minlength=self.n)

    def add_pairs(self, lead: np.ndarray, coop: np.ndarray, hours: np.ndarray) -> None:
        """Co-handling between a lead and a cooperating unit (network edge weights)."""
        if lead.size:
            self.pairs.append((lead.astype(np.int64), coop.astype(np.int64), hours))

    def record_closures(self, closing: np.ndarray, model) -> None:
        """Count today's closed orders for their lead unit (and cooperating unit)."""
        wo, rules = model.orders, model.cfg.rules
        u = wo.unit[closing].astype(np.int64)
        resp_days = np.asarray(rules.deadlines.response_days)[wo.tier[closing]]
        responded = (wo.ti_contact[closing] >= 0) & (wo.ti_contact[closing] <= wo.ti_created[closing] + resp_days)
        scope = ~wo.excluded[closing]
        hard = wo.hard[closing]
        true, meas = wo.true_resolved[closing], wo.measured_resolved[closing]
        sat = wo.satisfaction[closing] >= SAT_BASIC
        overdue = wo.overdue[closing]
        tol = rules.sanctions.error_tolerance
        add = lambda name, mask, w=None: self.add_units(name, u[mask], None if w is None else w[mask])  # noqa: E731
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
        self.add_units("coop_orders", cu)
        self.add_units("coop_delivered", cu[delivered])
        self.add_units("coop_measured_resolved", cu[wo.measured_resolved[co]])


def standing(model) -> np.ndarray:
    """Month-to-date percentile of each unit in its class on the three rates (what units can
    compute from the data the hotline pushes them, Art. 28)."""
    v, a, city = model.ledger.v, model.cfg.rules.assessment, model.city
    w = a.weights
    score = 100 * (w.response * _rate(v["responded"], v["in_scope"])
                   + w.resolution * _rate(v["measured_resolved"], v["in_scope"])
                   + w.satisfaction * _rate(v["satisfied"], v["in_scope"]))
    cls = city.unit_class if a.graded_classified else np.where(city.unit_kind == KIND_TOWNSHIP, 0, 2)
    ok = np.isfinite(score) & ~np.isin(city.unit_kind, [KIND_DISTGOV, KIND_HOTLINE]) & (v["in_scope"] >= 5)
    return _percentile_in_class(score, cls, ok)


def _rate(num, den):
    return np.where(den > 0, num / np.maximum(den, 1e-12), np.nan)


def assess(model, month: int) -> dict[str, np.ndarray]:
    """Score, rank, reward and sanction every unit for the month just ended."""
    v, cfg, city = model.ledger.v, model.cfg, model.city
    a, sn = cfg.rules.assessment, cfg.rules.sanctions
    w = a.weights
    resp = _rate(v["responded"], v["in_scope"])
    res = _rate(v["measured_resolved"], v["in_scope"])
    sat = _rate(v["satisfied"], v["in_scope"])
    true = _rate(v["true_resolved"], v["closed"])
    if a.cooperation_scoring == "equal":   # cooperating units share the joint outcome
        res = _rate(v["measured_resolved"] + v["coop_measured_resolved"], v["in_scope"] + v["coop_orders"])
    base = 100 * (w.response * resp + w.resolution * res + w.satisfaction * sat)
    score = base.copy()
    coop_rate = _rate(v["coop_delivered"], v["coop_orders"])
    if a.cooperation_scoring == "differential":
        has = np.isfinite(coop_rate)
        both = has & np.isfinite(base)
        score = np.where(both, (1 - a.cooperation_weight) * base + a.cooperation_weight * 100 * coop_rate,
                         np.where(has, 100 * coop_rate, base))
    if a.dual_whistle:  # Art. 33: districts score whistling townships and reporting departments
        answered = _rate(v["whistles_answered"], v["whistles_received"])
        whistle_ok = _rate(v["whistled_resolved"], v["whistled_orders"])
        dual = np.where(city.unit_kind == KIND_TOWNSHIP, whistle_ok, answered)
        score = np.where(np.isfinite(dual) & np.isfinite(score), (1 - a.dual_weight) * score + a.dual_weight * 100 * dual, score)
    volume = np.full(city.n_units, np.nan)
    pop10k = model.unit_population_scaled / 1e4
    volume[: city.n_townships] = v["dispatched"][: city.n_townships] / np.maximum(pop10k[: city.n_townships], 1e-9)
    # Art. 32(4): credit for proactive governance and for solving hard requests
    score = score + a.proactive_credit * 100 * np.minimum(v["sources_removed"] / np.maximum(v["closed"], 1.0), 0.2)
    score = score + a.hard_credit * 100 * np.nan_to_num(_rate(v["hard_measured_resolved"], v["hard"]))
    cls = city.unit_class if a.graded_classified else np.where(city.unit_kind == KIND_TOWNSHIP, 0, 2)
    assessable = np.isfinite(score) & ~np.isin(city.unit_kind, [KIND_DISTGOV, KIND_HOTLINE])
    if a.per_capita_weight > 0:   # 万人诉求比: fewer requests per 10,000 residents scores better
        score = score - a.per_capita_weight * 100 * _within_class_scaled(volume, cls, assessable)
    pct = _percentile_in_class(score, cls, assessable)
    commended = assessable & (pct >= 1 - a.commend_share)
    remedial = assessable & (pct < a.remedial_share)
    closed = np.maximum(v["closed"], 1.0)
    overdue_pen = (v["overdue"] - v["overdue_forgiven"]) / closed
    sanction = (sn.overdue * overdue_pen
                + sn.buck_passing * v["objections_rejected_bucketpass"] / closed
                + sn.perfunctory * (1 - sn.error_tolerance * _rate_or0(v["hard"], v["closed"])) * v["perfunctory"] / closed
                + sn.falsification * v["detected"] / np.maximum(v["audited"], 1.0)
                + sn.falsification * v["label_rejected"] / closed)
    sanction = np.where(assessable, sanction, 0.0)
    b = cfg.world.behaviour
    standing = prospect_value(pct - a.remedial_share, b.value_exponent, b.loss_aversion)
    payoff = np.where(assessable, standing + a.reward * commended - sn.strength * remedial - sanction, 0.0)
    # what units value: their payoff plus public-service motivation for real resolution
    true_rel = np.nan_to_num(true - _class_mean(true, cls, assessable))
    utility = np.where(assessable, payoff + b.intrinsic_motivation * true_rel * 10, np.nan)
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


def _rate_or0(num, den):
    return np.where(den > 0, num / np.maximum(den, 1e-12), 0.0)


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
