"""Results of one run: tidy tables, the summary, and writing them to disk atomically.

``daily`` is the city series (one row a day), ``units_monthly`` one row per unit per
month (scores, ranks, effort, exhaustion, hours), ``summary`` the headline figures.
Measured figures (what the assessment sees) sit beside true ones (what really happened).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from .behaviour import ACTIVITIES
from .calendar import DAYS_PER_MONTH, calendar_month, calendar_year, month_of
from .measures import city_rates, in_scope, rates_of_counts, responded_on_time, routing_days, satisfied
from .orders import CLOSED, COOP_ENGAGED, END_EXPLAINED, END_WORKED, LABEL_GAMED, LABEL_HONEST, LABEL_NONE, RTYPE_NAMES
from .outcomes import DIVERT_NAMES, DIVERT_OUTCOMES, REPORT_CLASSES, SUMMARY
from .outdir import OUTPUT_FILES, OutputError, check_out_dir  # noqa: F401 (re-exported)
from .world import CLASS_NAMES, KIND_NAMES

# what `jiesu run` prints (labels from the outcome registry)
PRINTED = ["contacts", "work_orders", "response_rate", "resolution_rate", "satisfaction_rate", "true_resolution_rate",
           "measured_true_gap", "mean_days_to_close", "overdue_share", "objections", "whistles", "whistles_answered",
           "requests_per_10k", "source_stock_change"]
SUMMARY_LABELS = {k: SUMMARY[k].label() for k in PRINTED}


def day_record(m, drawn: dict, new: dict, divert: np.ndarray, sent: dict, received: dict, rated: dict,
               closing: np.ndarray, used: np.ndarray, req_side: dict | None = None) -> dict:
    """The day's city-level figures (one row of daily.parquet; columns in outcomes.DAILY)."""
    wo, cfg = m.orders, m.cfg
    start = cfg.city.start_month
    month = month_of(m.day)
    div_counts = np.bincount(divert[divert >= 0], minlength=len(DIVERT_NAMES))
    effort = (m.units.effort * m.units.capacity[:, None]).sum(0) / m.units.capacity.sum()
    rec = {"day": m.day, "year": calendar_year(month, start, cfg.city.start_year),
           "month": calendar_month(month, start),
           **{k: received[k] for k in ("objections", "objections_accepted", "redispatched")}}
    rec.update({
        "contacts": int(drawn["consult_answered"] + divert.size),
        "consultations_answered": int(drawn["consult_answered"]),
        "requests": int(divert.size), "repeat_contacts": int((new["n_prior"] > 0).sum()),
        **{f"diverted_{n}": int(c) for n, c in zip(DIVERT_NAMES, div_counts)},
        "dispatched": int(sent["rows"].size), "closed": int(closing.size),
        **city_rates(wo, closing, cfg.rules.deadlines.response_days),
        "overdue": int(wo.overdue[closing].sum()), "gamed": int(wo.gamed[closing].sum()),
        "open_orders": int(wo.open_idx.size), "source_stock": m.sources.total(),
        "mean_trust": float(np.average(m.citizens.township_trust_level(), weights=m.citizens.weight)),
        "filing_factor": float(np.average(m.citizens.township_trust(), weights=m.citizens.weight)),
        "mean_exhaustion": float(np.average(m.units.exhaustion, weights=m.units.capacity)),
        **{f"effort_{a}": effort[j] for j, a in enumerate(ACTIVITIES)},
        "refiled": rated.get("refiled", 0), "detected": rated.get("detected", 0),
        "whistles": int(wo.whistled[closing].sum()),
        **order_life_record(m, closing),
    })
    rec.update(coordination_record(m, sent, received))
    rec.update(requesters_record(req_side or {}, rated))
    rec.update({"survey_sampled": rated.get("survey_sampled", 0), "survey_satisfied": rated.get("survey_satisfied", 0),
                "distinct_callers_ytd": m.citizens.distinct_ytd, "contacts_ytd": m.citizens.contacts_ytd})
    return rec


def order_life_record(m, closing: np.ndarray) -> dict:
    """The day's figures of orders living until they end, routing and labels (issue 9 items 1, 2, 6)."""
    wo = m.orders
    open_rows = wo.open_idx
    overdue_open = wo.overdue[open_rows]
    kind = wo.label_kind[closing]
    mean = lambda x: float(x.mean()) if x.size else float("nan")  # noqa: E731
    return {
        "closed_worked": int((wo.ending[closing] == END_WORKED).sum()),
        "explained_unsolvable": int((wo.ending[closing] == END_EXPLAINED).sum()),
        "fell_overdue": int((wo.ti_overdue[open_rows] == m.day).sum()),
        "overdue_open": int(overdue_open.sum()),
        "overdue_open_share": float(overdue_open.mean()) if open_rows.size else 0.0,
        "routing_days": mean(routing_days(wo, closing)),
        "redispatch_per_order": mean(wo.n_redispatch[closing].astype(float)),
        "labels_honest": int((kind == LABEL_HONEST).sum()), "labels_gamed": int((kind == LABEL_GAMED).sum()),
        "labels_false": int(((kind != LABEL_NONE) & ~wo.unreasonable[closing]).sum()),
        "unreasonable_missed": int((wo.unreasonable[closing] & (kind == LABEL_NONE)).sum()),
        "labels_rejected": int(wo.label_rejected[closing].sum()),
    }


def order_life_summary(m) -> dict:
    """Summary figures of the same (issue 9 items 1, 2, 6): ends, time to true resolution by tier, routing, labels."""
    wo = m.orders
    closed = wo.state == CLOSED
    n_closed = max(int(closed.sum()), 1)
    solved = closed & wo.true_resolved
    days = (wo.ti_closed - wo.ti_created).astype(float)
    rows = np.flatnonzero(closed)
    kind = wo.label_kind
    out = {"explained_unsolvable": int((wo.ending == END_EXPLAINED).sum()),
           "explained_share": float((wo.ending == END_EXPLAINED).sum() / n_closed),
           "resolved_after_deadline": int((solved & wo.overdue).sum()),
           "overdue_open_end": int((~closed & wo.overdue).sum())}
    for t, name in enumerate(("2h", "24h", "7d", "15d")):
        sel = solved & (wo.tier == t)
        out[f"days_to_true_resolution_{name}"] = float(days[sel].mean()) if sel.any() else float("nan")
    out.update({
        "routing_days": float(routing_days(wo, rows).mean()) if rows.size else float("nan"),
        "redispatch_share": float((wo.n_redispatch[closed] > 0).sum() / n_closed),
        "repeats_joined": int(wo.n_joined.sum()),
        "labels_honest": int((closed & (kind == LABEL_HONEST)).sum()),
        "labels_gamed": int((closed & (kind == LABEL_GAMED)).sum()),
        "labels_false": int((closed & (kind != LABEL_NONE) & ~wo.unreasonable).sum()),
        "unreasonable_missed": int((closed & wo.unreasonable & (kind == LABEL_NONE)).sum()),
        "labels_rejected_honest": int((wo.label_rejected & (kind == LABEL_HONEST)).sum()),
        "labels_rejected_gamed": int((wo.label_rejected & (kind == LABEL_GAMED)).sum()),
    })
    return out
def coordination_record(m, sent: dict, received: dict) -> dict:
    """The day's district and city coordination, catalogue learning and campaign work (H3)."""
    t = m.districts.today
    return {"district_hours_available": t["district_hours_available"],
            **{f"district_hours_{k}": t[f"district_hours_{k}"] for k in ("fallback", "supervision", "escalation")},
            "fallback_routed": received["fallback_routed"], "fallback_right": received["fallback_right"],
            "fallback_waiting": received["fallback_waiting"],
            "supervised": t["supervised"], "escalations_district": t["escalated_district"],
            "escalations_city": t["escalated_city"], "city_cases_taken": t["taken_city"], "city_queue": t["city_queue"],
            "catalogue_accuracy": sent["catalogue_accuracy"], "catalogue_corrections": received["catalogue_corrections"],
            "campaign_hours": float(m.proactive.campaign_hours.sum())}




def requesters_record(r: dict, rated: dict) -> dict:
    """The day's figures of the requesters' side: the hotline's answering, diversion outcomes,
    malicious callers, pressure reports and unreached callbacks (outcomes.DAILY)."""
    by_outcome = r.get("divert_by_outcome", np.zeros(len(DIVERT_OUTCOMES), int))
    wrong = r.get("wrongly_diverted_by_class", np.zeros(len(DIVERT_NAMES), int))
    return {
        **{k: r.get(k, 0) for k in ("calls_offered", "calls_unanswered", "calls_given_up")},
        "mean_wait_seconds": float(r.get("mean_wait_seconds", 0.0)),
        **{f"divert_{o}": int(c) for o, c in zip(DIVERT_OUTCOMES, by_outcome)},
        **{k: int(r.get(k, 0)) for k in ("wrongly_diverted", "missed_diversions", "divert_complaints", "divert_recalls",
                                         "malicious_calls", "malicious_warned", "malicious_restricted",
                                         "malicious_deterred")},
        "pressure_reports": rated.get("pressure_reports", 0), "pressure_confirmed": rated.get("pressure_confirmed", 0),
        "unreached_callbacks": rated.get("unreached", 0),
        "answer_rate": float(r.get("answer_rate", 1.0)),
        **{f"wrongly_diverted_{n}": int(c) for n, c in zip(DIVERT_NAMES, wrong)},
        "complaints_about_diversion": int(r.get("complaints_about_diversion", 0)),
    }


@dataclass
class Results:
    daily: pd.DataFrame
    units_monthly: pd.DataFrame
    summary: dict
    topics: pd.DataFrame
    by_type: pd.DataFrame = field(default_factory=pd.DataFrame)
    config: object = None
    seed: int = 0
    extras: dict = field(default_factory=dict)

    @classmethod
    def from_model(cls, m) -> Results:
        daily = pd.DataFrame(m.daily)
        um = pd.DataFrame({k: np.concatenate([r[k] for r in m.unit_months]) for k in m.unit_months[0]}) \
            if m.unit_months else pd.DataFrame()
        if not um.empty:
            um.insert(2, "name", np.array(m.city.unit_name)[um["unit"]])
            um.insert(3, "kind", np.array(KIND_NAMES)[m.city.unit_kind[um["unit"]]])
            um["class"] = np.array(CLASS_NAMES)[um["class"].astype(int)]
            um.insert(4, "district", m.city.unit_district[um["unit"]])
        topics = pd.DataFrame(m.proactive.history)
        counts = closed_counts(m)          # the rates' counts of the closed orders, shared by both tables
        return cls(daily=daily, units_monthly=um, summary=summarise(m, daily, um, counts), topics=topics,
                   by_type=by_type_and_channel(m, counts), config=m.base_cfg, seed=m.seed)

    def write(self, out_dir: str | Path, plot: bool = True, plotter=None) -> Path:
        """Write all outputs into ``out_dir`` atomically (temp dir, then rename). ``plotter``: a
        started report.PlotWorker that draws the figure in its own process (else drawn here)."""
        from .scenario import config_hash, to_toml

        out_dir = check_out_dir(out_dir)
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=out_dir.parent))
        try:
            # a PlotWorker draws the figure in its own process while the tables are written here
            sent = plot and plotter is not None and plotter.send(self.daily, tmp / "overview.png", self.config.name)
            self.daily.to_parquet(tmp / "daily.parquet", index=False)
            self.units_monthly.to_parquet(tmp / "units_monthly.parquet", index=False)
            if not self.topics.empty:
                self.topics.to_parquet(tmp / "topics.parquet", index=False)
            self.by_type.to_parquet(tmp / "requests_by_type.parquet", index=False)
            (tmp / "summary.json").write_text(json.dumps(self.summary, indent=2, ensure_ascii=False))
            (tmp / "config.toml").write_text(to_toml(self.config))
            prov = provenance(self.config, self.seed, config_hash(self.config))
            (tmp / "provenance.json").write_text(json.dumps(prov, indent=2))
            if plot and not (sent and plotter.wait(tmp / "overview.png")):       # else drawn here
                from .report import overview_figure

                overview_figure(self.daily, tmp / "overview.png", title=self.config.name)
            if out_dir.exists():
                shutil.rmtree(out_dir)
            os.replace(tmp, out_dir)
        except BaseException:
            if plotter is not None:
                plotter.close()             # nothing may still write into tmp
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return out_dir


def summarise(m, daily: pd.DataFrame, um: pd.DataFrame, counts: tuple | None = None) -> dict:
    """Headline figures over all orders closed during the run (``counts``: closed_counts(m))."""
    wo = m.orders
    closed = wo.state == CLOSED
    rates = rates_of_counts(*(closed_counts(m) if counts is None else counts)[1].sum(0))   # city_rates of all closed
    months = max(m.day / DAYS_PER_MONTH, 1e-9)
    pop = m.citizens.n
    res, true = rates["resolution_rate"], rates["true_resolution_rate"]
    hard = closed & wo.hard
    easy = closed & ~wo.hard
    col = lambda k: float(daily[k].sum()) if k in daily else 0.0  # noqa: E731
    hours = {k: float(um[f"hours_{k}"].sum()) for k in ("resolve", "satisfy", "game", "proactive", "contact", "coop")} \
        if not um.empty else {}
    total_h = sum(hours.values()) or 1.0
    s = {
        "scenario": m.base_cfg.name, "seed": m.seed, "days": m.day, "scale": m.cfg.city.scale,
        "population": int(pop),
        "townships": int(m.city.n_townships),   # the sampled city's (model/sample.py)
        "contacts": int(col("contacts")), "consultations_answered": int(col("consultations_answered")),
        "diverted": int(sum(col(c) for c in daily.columns if c.startswith("diverted_"))),
        "work_orders": int(wo.n), "closed_orders": int(closed.sum()),
        "response_rate": rates["response_rate"], "resolution_rate": res,
        "satisfaction_rate": rates["satisfaction_rate"],
        "true_resolution_rate": true, "measured_true_gap": res - true,
        "true_resolution_hard": float((wo.true_resolved & hard).sum() / max(int(hard.sum()), 1)),
        "true_resolution_easy": float((wo.true_resolved & easy).sum() / max(int(easy.sum()), 1)),
        "mean_days_to_close": float((wo.ti_closed[closed] - wo.ti_created[closed]).mean()) if closed.any() else float("nan"),
        "overdue_share": float(wo.overdue[closed].sum() / max(int(closed.sum()), 1)),
        "gamed_closures": int(wo.gamed.sum()), "false_claims": int((wo.claimed_resolved & closed & ~wo.true_resolved).sum()),
        "detected_falsifications": int(wo.detected.sum()), "excluded_unreasonable": int(wo.excluded.sum()),
        "objections": int(wo.n_objections.sum()), "redispatches": int(wo.n_redispatch.sum()),
        "whistles": int(wo.whistled.sum()), "whistles_answered": int((wo.whistled & (wo.coop_state == COOP_ENGAGED)).sum()),
        "escalations": int(wo.escalated.sum()),
        "requests_per_10k": float(wo.n / (pop / 1e4) / months),
        "repeat_share": float((wo.n_prior > 0).sum() / max(wo.n, 1)),
        "unreasonable_share_dispatched": float(wo.unreasonable.sum() / max(wo.n, 1)),
        "source_stock_start": float(m.sources.initial.sum()), "source_stock_end": m.sources.total(),
        "source_stock_change": m.sources.total() / max(float(m.sources.initial.sum()), 1e-9) - 1,
        "sources_removed_proactive": float(m.sources.removed_proactive.sum()),
        "sources_removed_campaign": float(m.sources.removed_campaign.sum()),
        "mean_trust_end": float(daily["mean_trust"].iloc[-1]) if len(daily) else float("nan"),
        "filing_factor_end": float(daily["filing_factor"].iloc[-1]) if len(daily) else float("nan"),
        "mean_exhaustion": float(daily["mean_exhaustion"].mean()) if len(daily) else float("nan"),
        "effort_share_game": hours.get("game", 0.0) / total_h,
        "effort_share_proactive": hours.get("proactive", 0.0) / total_h,
        "effort_share_satisfy": hours.get("satisfy", 0.0) / total_h,
        "topics_of_the_month": int(len(m.proactive.history)),
        **order_life_summary(m),
        **coordination_summary(m, daily, col),
        **requesters_summary(m, daily, col),
        **outside_summary(m, daily),
    }
    assert list(s) == list(SUMMARY), "summary figures and the outcome registry (outcomes.SUMMARY) must agree"
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in s.items()}


def coordination_summary(m, daily: pd.DataFrame, col) -> dict:
    """Escalations by level, the city queue, district hours by kind, catalogue and campaigns (H3)."""
    used = sum(col(f"district_hours_{k}") for k in ("fallback", "supervision", "escalation"))
    last = daily["catalogue_accuracy"].iloc[-30:] if "catalogue_accuracy" in daily else pd.Series(dtype=float)
    return {"escalations_district": int(col("escalations_district")), "escalations_city": int(col("escalations_city")),
            "city_cases_taken": int(col("city_cases_taken")),
            "city_queue_end": int(daily["city_queue"].iloc[-1]) if len(daily) else 0,
            **{f"district_hours_{k}": col(f"district_hours_{k}") for k in ("fallback", "supervision", "escalation")},
            "district_hours_used_share": used / max(col("district_hours_available"), 1e-9),
            "fallback_routing_accuracy": col("fallback_right") / col("fallback_routed")
            if col("fallback_routed") else float("nan"),
            "catalogue_accuracy_end": float(last.mean()) if last.notna().any() else float("nan"),
            "catalogue_corrections": int(col("catalogue_corrections")), "campaign_hours": col("campaign_hours")}
def outside_summary(m, daily: pd.DataFrame) -> dict:
    """Measurement from outside (issue 10 item 5): the independent survey beside the callback,
    and distinct callers per complete calendar year (January to December inside the run)."""
    n = daily["survey_sampled"].sum() if len(daily) else 0
    out = {"survey_satisfaction_rate": float(daily["survey_satisfied"].sum() / n) if n else float("nan"),
           "survey_sampled": int(n)}
    share, per = [], []
    if len(daily):
        for _, year in daily.groupby("year", sort=True):
            if year["month"].iloc[0] == 1 and year["month"].iloc[-1] == 12 and len(year) >= 360:
                last = year.iloc[-1]
                share.append(last["distinct_callers_ytd"] / m.citizens.n)
                per.append(last["contacts_ytd"] / max(last["distinct_callers_ytd"], 1))
    out["distinct_caller_share"] = float(np.mean(share)) if share else float("nan")
    out["contacts_per_distinct_caller"] = float(np.mean(per)) if per else float("nan")
    return out


def requesters_summary(m, daily: pd.DataFrame, col) -> dict:
    """Run totals of the requesters' side and equity by township reporting class."""
    s = {k: int(col(k)) for k in ("calls_offered", "calls_unanswered", "calls_given_up")}
    s["hotline_answer_rate"] = float(daily["answer_rate"].mean()) if len(daily) else float("nan")
    s["mean_wait_seconds"] = float(daily["mean_wait_seconds"].mean()) if len(daily) else float("nan")
    for k in [*[f"divert_{o}" for o in DIVERT_OUTCOMES], "wrongly_diverted", "missed_diversions", "divert_complaints",
              "divert_recalls", "malicious_calls", "malicious_warned", "malicious_restricted", "malicious_deterred",
              "pressure_reports", "pressure_confirmed", "unreached_callbacks"]:
        s[k] = int(col(k))
    s.update(equity(m))
    return s


def reporting_class(city) -> np.ndarray:
    """Township reporting class (0 low, 1 mid, 2 high): population-weighted terciles of the
    township's reporting propensity (world data, township_report)."""
    order = np.argsort(city.township_report, kind="stable")
    cum = np.cumsum(city.township_pop[order]) / city.township_pop.sum()
    cls = np.empty(order.size, np.int64)
    cls[order] = np.minimum((cum * 3 - 1e-12).astype(np.int64).clip(0), 2)
    return cls


def equity(m) -> dict:
    """Item 9: contacts, orders and true resolutions per unit of need by township reporting
    class, relative to the city (1 = served in proportion to need). Need is population x the
    township's problem arrival rate (township_need)."""
    city, wo = m.city, m.orders
    cls = reporting_class(city)
    need = np.bincount(cls, weights=city.township_pop * city.township_need, minlength=3)
    T = city.n_townships
    contacts = m.hotline.requests_by_township if m.hotline.requests_by_township is not None else np.zeros(T)
    town = wo.township.astype(np.int64)
    ok = (town >= 0) & (town < T)
    fixed = ok & (wo.state == CLOSED) & wo.true_resolved
    out = {}
    for name, per_town in (("contacts", contacts),
                           ("orders", np.bincount(town[ok], minlength=T)),
                           ("true_resolved", np.bincount(town[fixed], minlength=T))):
        by_cls = np.bincount(cls, weights=per_town[:T], minlength=3)
        city_rate = by_cls.sum() / need.sum()
        for c, label in enumerate(REPORT_CLASSES):
            out[f"equity_{name}_{label}"] = float(by_cls[c] / need[c] / city_rate) if city_rate > 0 else float("nan")
    return out


# closed_counts' bits: in scope, and responded, measured resolved, satisfied (each in scope), truly resolved
_SCOPE, _RESPONDED, _MEASURED, _SATISFIED, _TRUE = (1 << b for b in range(5))


def closed_counts(m) -> tuple[np.ndarray, np.ndarray]:
    """The counts behind measures.city_rates of the closed orders, per request type and channel:
    ``orders`` (all, per group) and ``counts`` (group x 6: closed, in scope, responded, measured
    resolved, satisfied, truly resolved). Groups are 2 x type + online, the last for orders
    without a type. One pass over the orders with the measures' own predicates (issue 13: the
    same integer counts as selecting each group's rows, in a fraction of the time and memory)."""
    wo = m.orders
    n_types = len(RTYPE_NAMES)
    n_groups = 2 * n_types + 1
    # one small code per order (int8: memory stays low at scale 1)
    group = np.where((wo.rtype >= 0) & (wo.rtype < n_types), wo.rtype * 2 + wo.online, 2 * n_types).astype(np.int8)
    orders = np.bincount(group, minlength=n_groups)
    closed = wo.state == CLOSED                 # a mask selects what np.flatnonzero's rows select, in order
    scope = in_scope(wo, closed)
    bits = scope.astype(np.uint8)
    for bit, mask in ((_RESPONDED, responded_on_time(wo, closed, m.cfg.rules.deadlines.response_days) & scope),
                      (_MEASURED, wo.measured_resolved[closed] & scope), (_SATISFIED, satisfied(wo, closed) & scope),
                      (_TRUE, wo.true_resolved[closed])):
        bits[mask] |= bit
    code = group[closed].astype(np.int64) * 32 + bits
    del group, bits
    per = np.bincount(code, minlength=n_groups * 32).reshape(n_groups, 32)
    pattern = np.arange(32)
    counts = np.column_stack([per.sum(1)] + [per[:, (pattern & b) > 0].sum(1)
                                             for b in (_SCOPE, _RESPONDED, _MEASURED, _SATISFIED, _TRUE)])
    return orders, counts


def by_type_and_channel(m, counts: tuple | None = None) -> pd.DataFrame:
    """Work orders by request type (Art. 2: consultation, help, complaint, report, suggestion)
    and channel (phone or online, Art. 8(2)): volume, measured and true outcomes of the closed ones
    (``counts``: closed_counts(m), computed if not given)."""
    orders, per = closed_counts(m) if counts is None else counts
    out = []
    for t, name in enumerate(RTYPE_NAMES):
        for online, channel in ((False, "phone"), (True, "online")):
            i = 2 * t + int(online)
            rates = rates_of_counts(*per[i])
            out.append({"request_type": name, "channel": channel, "orders": int(orders[i]), "closed": int(per[i, 0]),
                        **(rates if per[i, 0] else {k: None for k in rates})})
    return pd.DataFrame(out)


def provenance(cfg, seed: int, chash: str) -> dict:
    """Seed, package versions, git commit, config hash and numeric platform for a run."""
    from .numeric import numeric_platform

    pkgs = {}
    for p in ("jiesu", "mesa", "numpy", "scipy", "pandas", "pyarrow", "networkx", "pydantic"):
        try:
            pkgs[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            pkgs[p] = None
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).parent, timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {"seed": seed, "config_hash": chash, "scenario": cfg.name, "git_commit": commit, "packages": pkgs,
            "numeric_platform": numeric_platform()}
