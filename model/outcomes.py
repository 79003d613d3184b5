"""The outcome registry: every figure the model reports, named once.

Each outcome has a name (the key in ``summary.json`` or the column of ``daily.parquet``),
an English and a Chinese label, a unit, how daily values aggregate over time (``sum`` for
counts, ``mean`` for rates and levels), whether it is *measured* (what the assessment
sees), *true* (what really happened, invisible to the assessment) or a *count*/*state*,
and a one-line description. ``summary.json``, ``jiesu compare``, sweeps, the EMA
adapter, the classroom app and the docs all read this table; nothing discovers outcome
names by running the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Aggregation = Literal["sum", "mean", "last"]
Nature = Literal["measured", "true", "count", "state", "behaviour", "id"]


@dataclass(frozen=True)
class Outcome:
    name: str
    en: str
    zh: str
    unit: str
    agg: Aggregation
    nature: Nature
    description: str
    dtype: Literal["float", "int", "str"] = "float"

    def label(self, lang: str = "both") -> str:
        """'en', 'zh' or 'both' (English with the Chinese term beside it)."""
        if lang == "en" or not self.zh:
            return self.en
        if lang == "zh":
            return self.zh
        return f"{self.en} {self.zh}"


def _o(name, en, zh, unit, agg, nature, description, dtype="float"):
    return Outcome(name, en, zh, unit, agg, nature, description, dtype)


DIVERT_NAMES = ["emergency", "legal_channel", "repeat_no_new_facts", "secret_privacy", "out_of_scope", "unlawful"]
DIVERT_ZH = ["转紧急热线", "告知法定途径", "告知办理进展", "做好解释", "告知市场社会渠道", "劝导教育"]
# what a diverted requester gets (Art. 11(2)); and township reporting classes for equity
DIVERT_OUTCOMES = ["answered", "told", "refused"]
DIVERT_OUTCOMES_EN = ["answered", "told where to go", "refused"]
DIVERT_OUTCOMES_ZH = ["分流并答复", "分流并告知渠道", "分流并拒绝"]
REPORT_CLASSES = ["low", "mid", "high"]

# ---------------------------------------------------------------- summary.json (one run)
SUMMARY: dict[str, Outcome] = {o.name: o for o in [
    _o("scenario", "scenario", "情景", "", "last", "id", "Name of the scenario that was run.", "str"),
    _o("seed", "seed", "随机种子", "", "last", "id", "Random seed of the run.", "int"),
    _o("days", "days simulated", "模拟天数", "days", "last", "id", "Length of the run.", "int"),
    _o("scale", "scale", "规模", "share of Beijing", "last", "id", "Share of Beijing's population simulated."),
    _o("population", "residents", "常住人口", "people", "last", "state", "Residents simulated (scaled).", "int"),
    # scale as a sample (H4, issue 9 item 11, model/sample.py)
    _o("townships", "townships simulated", "模拟街乡镇数", "townships", "last", "id",
       "Townships simulated: all 343 at scale 1 (or sampling 'thin'), else the sample (by district x class).", "int"),
    _o("contacts", "contacts", "来电来件", "contacts", "sum", "count",
       "Calls and online contacts to 12345 (Art. 8).", "int"),
    _o("consultations_answered", "consultations answered at once", "直接答复咨询", "contacts", "sum", "count",
       "Consultations answered by the hotline without dispatch (Art. 11(1)).", "int"),
    _o("diverted", "diverted requests", "不予派单", "requests", "sum", "count",
       "Requests diverted in one of the six ways of Art. 11(2).", "int"),
    _o("work_orders", "work orders", "工单", "orders", "sum", "count", "Work orders dispatched (Art. 12).", "int"),
    _o("closed_orders", "closed orders", "办结工单", "orders", "sum", "count", "Work orders closed during the run.", "int"),
    _o("response_rate", "response rate", "响应率", "share", "mean", "measured",
       "In-scope closed orders whose requester was contacted within the tier's response time (Art. 15(1), 32)."),
    _o("resolution_rate", "resolution rate (measured)", "解决率", "share", "mean", "measured",
       "In-scope closed orders counted as resolved by the rule in force (Art. 23, 32)."),
    _o("satisfaction_rate", "satisfaction rate", "满意率", "share", "mean", "measured",
       "In-scope closed orders rated satisfied or basically satisfied at callback (Art. 23, 32)."),
    _o("true_resolution_rate", "true resolution (real)", "真实解决率", "share", "mean", "true",
       "Closed orders whose problem was really solved (the model's truth; never seen by the assessment)."),
    _o("measured_true_gap", "measured - true gap", "考核与真实之差", "share", "mean", "true",
       "Measured resolution rate minus true resolution rate."),
    _o("true_resolution_hard", "true resolution, hard requests", "疑难诉求真实解决率", "share", "mean", "true",
       "True resolution of hard (complex) requests (selective responsiveness)."),
    _o("true_resolution_easy", "true resolution, other requests", "一般诉求真实解决率", "share", "mean", "true",
       "True resolution of requests that are not hard."),
    _o("mean_days_to_close", "mean days to close", "平均办结天数", "days", "mean", "count",
       "Mean days from dispatch to closure."),
    _o("overdue_share", "overdue share", "逾期率", "share", "mean", "count",
       "Closed orders that passed their deadline (Art. 13, 35(2))."),
    _o("gamed_closures", "formal closures", "形式办结", "orders", "sum", "true",
       "Orders closed on paper without being solved (gaming).", "int"),
    _o("false_claims", "false 'resolved' claims", "虚报解决", "orders", "sum", "true",
       "Closed orders the unit reported resolved that were not (弄虚作假).", "int"),
    _o("detected_falsifications", "falsifications detected", "查实弄虚作假", "orders", "sum", "measured",
       "False claims caught by the audit sample (Art. 35(3)).", "int"),
    _o("excluded_unreasonable", "excluded as unreasonable", "剔除不合理诉求", "orders", "sum", "measured",
       "Orders left out of the score as unreasonable (动态调整, Art. 32(3)).", "int"),
    _o("objections", "objections", "派单异议", "objections", "sum", "count",
       "Dispatch objections raised by receiving units (Art. 12(3)).", "int"),
    _o("redispatches", "re-dispatches", "改派", "orders", "sum", "count", "Orders re-dispatched after an objection.", "int"),
    _o("whistles", "whistles", "吹哨", "orders", "sum", "count", "Orders on which a township whistled (Art. 16).", "int"),
    _o("whistles_answered", "whistles answered", "报到", "orders", "sum", "count",
       "Whistled orders on which the department reported and worked (Art. 16(2)).", "int"),
    _o("escalations", "escalations", "提级", "orders", "sum", "count", "Orders escalated for coordination (Art. 20).", "int"),
    _o("requests_per_10k", "requests per 10k residents/month", "万人诉求比", "orders/10k/month", "mean", "measured",
       "Work orders per 10,000 residents per month (Art. 32)."),
    _o("repeat_share", "repeat share", "重复诉求占比", "share", "mean", "count",
       "Work orders that are repeats of an earlier request."),
    _o("unreasonable_share_dispatched", "unreasonable share dispatched", "不合理诉求派单占比", "share", "mean", "true",
       "Dispatched orders that were in truth unreasonable (Art. 9, 11)."),
    _o("source_stock_start", "problem sources at start", "问题源(期初)", "problems", "last", "true",
       "Latent problem sources at the start."),
    _o("source_stock_end", "problem-source stock", "问题源", "problems", "last", "true",
       "Latent problem sources at the end (问题源, seed article)."),
    _o("source_stock_change", "problem-source stock change", "问题源变化", "share", "last", "true",
       "Relative change of the problem-source stock over the run."),
    _o("sources_removed_proactive", "sources removed by units' own work", "主动治理消除问题源", "problems", "sum", "true",
       "Problem sources removed by units' proactive work (Art. 25-26)."),
    _o("sources_removed_campaign", "sources removed by topic campaigns", "每月一题消除问题源", "problems", "sum", "true",
       "Problem sources removed by topic-of-the-month campaigns (Art. 24)."),
    _o("mean_trust_end", "public trust (end)", "公众信任", "0-1", "last", "state",
       "Residents' mean trust in the system at the end (Art. 6)."),
    _o("filing_factor_end", "filing factor (end)", "诉求意愿系数", "x baseline", "last", "state",
       "How much more residents file than at baseline trust, at the end."),
    _o("mean_exhaustion", "mean exhaustion", "倦怠", "0-1", "mean", "state",
       "Staff exhaustion, capacity-weighted mean over the run (JD-R)."),
    _o("effort_share_game", "effort share: gaming", "应付考核", "share of staff time", "mean", "behaviour",
       "Share of staff hours spent gaming the measures."),
    _o("effort_share_proactive", "effort share: proactive", "主动治理", "share of staff time", "mean", "behaviour",
       "Share of staff hours spent removing problem sources."),
    _o("effort_share_satisfy", "effort share: rating management", "满意度管理", "share of staff time", "mean", "behaviour",
       "Share of staff hours spent on contact, explanation and persuasion."),
    _o("topics_of_the_month", "topics of the month", "每月一题", "topics", "sum", "count",
       "Topic-of-the-month campaigns started (Art. 24).", "int"),
    # -- orders live until they end, rates as defined, both sides of dynamic scope (issue 9 items 1, 2, 6; H1)
    _o("explained_unsolvable", "explained as temporarily unsolvable", "暂不能解决(已解释)", "orders", "sum", "count",
       "Orders that ended explained to the requester as temporarily unsolvable (Art. 15(2)); in scope, not resolved "
       "unless the rule in force counts them so.", "int"),
    _o("explained_share", "explained-unsolvable share", "暂不能解决占比", "share", "mean", "count",
       "Closed orders that ended explained as temporarily unsolvable (Art. 15(2))."),
    _o("resolved_after_deadline", "truly solved after the deadline", "逾期后真实解决", "orders", "sum", "true",
       "Orders past their deadline that stayed open and were later really solved (Art. 13, 15).", "int"),
    _o("overdue_open_end", "overdue orders still open (end)", "逾期在办工单", "orders", "last", "state",
       "Orders past their deadline still open at the end of the run.", "int"),
    *[_o(f"days_to_true_resolution_{t}", f"days to true resolution, {t} tier", f"真实解决天数({z})", "days", "mean",
         "true", f"Mean days from the call to the end of truly solved orders of the {t} tier (Art. 13).")
      for t, z in (("2h", "2小时"), ("24h", "24小时"), ("7d", "7天"), ("15d", "15天"))],
    _o("routing_days", "days from call to responsible unit", "派单至承办单位用时", "days", "mean", "measured",
       "The hotline's and dispatch's own indicator: mean days from the call to receipt by the unit that handled "
       "the order (pre-dispatch consultation, linkage, district forwarding, re-dispatch; Art. 11-12, 21-22)."),
    _o("redispatch_share", "re-dispatched share", "改派率", "share", "mean", "measured",
       "Closed orders re-dispatched at least once (dispatch's own indicator, Art. 12(3))."),
    _o("repeats_joined", "repeats joined to an open order", "重复来电并入在办工单", "contacts", "sum", "count",
       "Repeat contacts about an order still open, joined to it instead of a new order.", "int"),
    _o("labels_honest", "honest 'unreasonable' labels", "如实标注不合理诉求", "orders", "sum", "count",
       "Closed orders the unit labelled unreasonable in good faith (Art. 32(3)), rightly or by misjudgement.", "int"),
    _o("labels_gamed", "gaming 'unreasonable' labels", "借标注规避考核", "orders", "sum", "true",
       "Closed orders labelled unreasonable to escape the score (gaming).", "int"),
    _o("labels_false", "false 'unreasonable' labels", "错误标注", "orders", "sum", "true",
       "Closed labelled orders that were in truth reasonable (gaming labels and honest misjudgements).", "int"),
    _o("unreasonable_missed", "unreasonable orders never labelled", "未标注不合理诉求", "orders", "sum", "true",
       "Dispatched, closed, truly unreasonable orders that were never labelled (they stay in the score).", "int"),
    _o("labels_rejected_honest", "honest labels rejected", "如实标注被驳回", "orders", "sum", "measured",
       "Good-faith labels the hotline's check rejected (wrongly when the order was unreasonable).", "int"),
    _o("labels_rejected_gamed", "gaming labels rejected", "规避标注被驳回", "orders", "sum", "measured",
       "Gaming labels the hotline's check rejected (Art. 32(3)).", "int"),
    # -- district and city coordination, catalogue learning, campaigns (H3, issue 9 items 4, 5, 7)
    _o("escalations_district", "escalations to the district", "提级至区", "orders", "sum", "count",
       "Stuck orders the district governments took up for coordination (Art. 20).", "int"),
    _o("escalations_city", "escalations to the city", "提级至市", "orders", "sum", "count",
       "Escalated orders the district could not settle, sent on to the city (Art. 20, 24).", "int"),
    _o("city_cases_taken", "cases taken up by the city", "市级协调", "orders", "sum", "count",
       "Escalated orders the city took up within its coordination capacity (Art. 20, 24).", "int"),
    _o("city_queue_end", "city queue (end)", "市级待协调", "orders", "last", "state",
       "Open orders waiting for the city's coordination at the end of the run.", "int"),
    _o("district_hours_fallback", "district hours: fallback routing", "区政府派单协调工时", "staff hours", "sum", "count",
       "District government staff hours spent routing orders of unclear unit (Art. 12(1)2)."),
    _o("district_hours_supervision", "district hours: supervision", "区政府督办工时", "staff hours", "sum", "count",
       "District government staff hours following up township orders at or past their deadline (Art. 12(1)1)."),
    _o("district_hours_escalation", "district hours: escalated cases", "区政府提级协调工时", "staff hours", "sum", "count",
       "District government staff hours coordinating escalated cases (Art. 20)."),
    _o("district_hours_used_share", "district hours used", "区政府协调工时使用率", "share", "mean", "state",
       "District governments' coordination hours used over hours available."),
    _o("fallback_routing_accuracy", "district routing accuracy", "区政府派单准确率", "share", "mean", "true",
       "Orders of unclear unit the district governments routed to the right unit (Art. 12(1)2)."),
    _o("catalogue_accuracy_end", "catalogue accuracy (last month)", "派单目录准确率", "share", "mean", "true",
       "Dispatch-weighted accuracy of the catalogue over the last 30 days (Art. 11(2))."),
    _o("catalogue_corrections", "catalogue corrections", "派单目录调整", "cells", "sum", "count",
       "Category x township cells of the catalogue corrected after accepted objections (动态调整, Art. 11(2)).", "int"),
    _o("campaign_hours", "campaign staff hours", "每月一题工时", "staff hours", "sum", "count",
       "Staff hours the lead and cooperating departments spent on topic-of-the-month campaigns (Art. 24)."),
    # -- requesters' side (issue 9 items 3, 8, 9: hotline operators, triage with consequences,
    #    malicious callers, pressure reports, callback non-response, equity by reporting class)
    *[_o(f"{k}", en, zh, unit, agg, nat, desc, dt) for k, en, zh, unit, agg, nat, desc, dt in [
        ("calls_offered", "calls offered", "呼入", "calls", "sum", "count",
         "Calls and online contacts offered to the hotline, incl. retries (Art. 8(2)).", "int"),
        ("calls_unanswered", "calls unanswered", "未接通", "calls", "sum", "count",
         "Phone calls the operators could not answer (load above capacity, Art. 10).", "int"),
        ("calls_given_up", "callers who gave up", "放弃来电", "calls", "sum", "count",
         "Unanswered callers who did not try again (their trust falls).", "int"),
        ("hotline_answer_rate", "hotline answer rate", "接通率", "share", "mean", "measured",
         "Share of phone calls the operators answered, daily mean over the run (facts.md target: >= 95%).",
         "float"),
        ("mean_wait_seconds", "mean waiting time", "平均等待时长", "seconds", "mean", "measured",
         "Mean waiting time of a caller, daily mean over the run (fluid queue approximation).", "float"),
        *[(f"divert_{o}", f"diverted and {en}", zh, "requests", "sum", "count",
           f"Diverted requesters who were {en} (Art. 11(2)).", "int")
          for o, en, zh in zip(DIVERT_OUTCOMES, DIVERT_OUTCOMES_EN, DIVERT_OUTCOMES_ZH)],
        ("wrongly_diverted", "wrongly diverted", "误分流", "requests", "sum", "true",
         "Requests the hotline should have dispatched but diverted (triage error; trust falls).", "int"),
        ("missed_diversions", "dispatched though to be diverted", "应分流未分流", "requests", "sum", "true",
         "Requests that should have been diverted (Art. 11(2)) but were dispatched.", "int"),
        ("divert_complaints", "complaints about diversion", "对分流的投诉", "requests", "sum", "count",
         "Diverted requesters who complain about the diversion (they come back as new contacts).", "int"),
        ("divert_recalls", "calls again after diversion", "分流后再次来电", "requests", "sum", "count",
         "Diverted requesters whose problem remains and who call again.", "int"),
        ("malicious_calls", "calls by malicious callers", "恶意来电", "requests", "sum", "true",
         "Requests recorded from malicious repeated callers (Art. 9(3)).", "int"),
        ("malicious_warned", "malicious callers warned", "劝阻教育恶意来电", "requests", "sum", "count",
         "Malicious calls recognised, dissuaded and warned (Art. 37).", "int"),
        ("malicious_restricted", "calls of restricted callers", "限制来电", "requests", "sum", "count",
         "Calls of callers restricted after repeated warnings, diverted at once (Art. 37).", "int"),
        ("malicious_deterred", "malicious callers deterred", "停止恶意来电", "residents", "sum", "count",
         "Warned malicious callers who stopped calling maliciously.", "int"),
        ("pressure_reports", "pressure reports", "反映被施压", "orders", "sum", "count",
         "Requesters who reported pressure or retaliation at callback (Art. 8(3), 35(5)).", "int"),
        ("pressure_confirmed", "pressure reports confirmed", "查实施压", "orders", "sum", "measured",
         "Reports of pressure the hotline's check substantiated (sanctioned, Art. 35(5)).", "int"),
        ("unreached_callbacks", "unreached callbacks", "回访未联系上", "orders", "sum", "count",
         "Closed orders whose requester could not be reached at callback (Art. 23).", "int"),
        *[(f"equity_{m}_{c}", f"{m.replace('_', ' ')} per need, {c} reporting", f"{zh}/需求({czh})", "x city",
           "last", nat, f"{m.replace('_', ' ').capitalize()} per unit of need in townships of {c} reporting "
           "propensity (terciles), relative to the city (1 = proportional to need).", "float")
          for m, zh, nat in (("contacts", "诉求", "count"), ("orders", "工单", "count"),
                             ("true_resolved", "真实解决", "true"))
          for c, czh in zip(REPORT_CLASSES, ("低", "中", "高"))],
    ]],
    # -- measurement from outside (issue 10 item 5; literature.md patterns 12, 13)
    _o("survey_satisfaction_rate", "independent survey satisfaction", "第三方调查满意率", "share", "mean", "true",
       "Satisfied or basically satisfied among past requesters a third party asked, later and with nobody from the "
       "unit on the line (no pressure; part of the explanation's effect faded; orders excluded as "
       "unreasonable asked too); beside the hotline's callback."),
    _o("survey_sampled", "independent survey sample", "第三方调查样本", "requesters", "sum", "count",
       "Requesters the independent survey asked.", "int"),
    _o("distinct_caller_share", "distinct callers a year (share of residents)", "年度来电人数占常住人口比",
       "share of residents", "mean", "count",
       "Residents who got through to the hotline at least once in a calendar year, over the residents simulated "
       "(mean over the run's complete calendar years; facts.md: 2.82 M, 4.35 M, 5.62 M in 2019-2021)."),
    _o("contacts_per_distinct_caller", "contacts per distinct caller", "人均来电次数", "contacts/caller", "mean", "count",
       "Contacts over distinct callers, complete calendar years (facts.md: about 2.5, 2.5, 2.4 in 2019-2021)."),
]}

# ---------------------------------------------------------------- daily.parquet (one row a day)

DAILY: dict[str, Outcome] = {o.name: o for o in [
    _o("day", "day", "日", "day index", "last", "id", "Day of the run (0 = first).", "int"),
    _o("year", "calendar year", "年", "year", "last", "id", "Calendar year of the day.", "int"),
    _o("month", "calendar month", "月", "month", "last", "id", "Calendar month (1-12) of the day.", "int"),
    _o("objections", "objections", "派单异议", "objections", "sum", "count", "Objections raised today (Art. 12(3)).", "int"),
    _o("objections_accepted", "objections accepted", "异议成立", "objections", "sum", "count",
       "Objections the review accepted today.", "int"),
    _o("redispatched", "re-dispatched", "改派", "orders", "sum", "count", "Orders re-dispatched today.", "int"),
    _o("contacts", "contacts", "来电来件", "contacts", "sum", "count", "Contacts today (Art. 8).", "int"),
    _o("consultations_answered", "consultations answered at once", "直接答复咨询", "contacts", "sum", "count",
       "Consultations answered at once today (Art. 11(1)).", "int"),
    _o("requests", "requests recorded", "受理诉求", "requests", "sum", "count",
       "Contacts recorded as requests today (dispatched or diverted).", "int"),
    _o("repeat_contacts", "repeat contacts", "重复来电", "requests", "sum", "count",
       "Requests today from requesters calling again about the same matter.", "int"),
    *[_o(f"diverted_{n}", f"diverted: {n.replace('_', ' ')}", z, "requests", "sum", "count",
         f"Requests diverted today as Art. 11(2) item {i + 1}.", "int")
      for i, (n, z) in enumerate(zip(DIVERT_NAMES, DIVERT_ZH))],
    _o("dispatched", "dispatched", "派单", "orders", "sum", "count", "Work orders dispatched today (Art. 12).", "int"),
    _o("closed", "closed", "办结", "orders", "sum", "count", "Work orders closed today.", "int"),
    _o("response_rate", "response rate", "响应率", "share", "mean", "measured", SUMMARY["response_rate"].description),
    _o("resolution_rate", "resolution rate (measured)", "解决率", "share", "mean", "measured",
       SUMMARY["resolution_rate"].description),
    _o("satisfaction_rate", "satisfaction rate", "满意率", "share", "mean", "measured",
       SUMMARY["satisfaction_rate"].description),
    _o("true_resolution_rate", "true resolution (real)", "真实解决率", "share", "mean", "true",
       SUMMARY["true_resolution_rate"].description),
    _o("overdue", "overdue closures", "逾期办结", "orders", "sum", "count", "Orders closed today past their deadline.", "int"),
    _o("gamed", "formal closures", "形式办结", "orders", "sum", "true", "Orders closed today on paper only.", "int"),
    _o("open_orders", "open orders", "在办工单", "orders", "last", "state", "Work orders open at the end of the day.", "int"),
    _o("source_stock", "problem-source stock", "问题源", "problems", "last", "true", "Latent problem sources today."),
    _o("mean_trust", "public trust", "公众信任", "0-1", "mean", "state", "Residents' mean trust in the system (Art. 6)."),
    _o("filing_factor", "filing factor", "诉求意愿系数", "x baseline", "mean", "state",
       "How much more residents file than at baseline trust."),
    _o("mean_exhaustion", "mean exhaustion", "倦怠", "0-1", "mean", "state", "Staff exhaustion, capacity-weighted (JD-R)."),
    _o("effort_resolve", "real work", "实际解决", "share of staff time", "mean", "behaviour",
       "Capacity-weighted share of staff time planned for real resolution."),
    _o("effort_satisfy", "rating management", "满意度管理", "share of staff time", "mean", "behaviour",
       "Capacity-weighted share of staff time planned for contact, explanation and persuasion."),
    _o("effort_game", "gaming", "应付考核", "share of staff time", "mean", "behaviour",
       "Capacity-weighted share of staff time planned for gaming the measures."),
    _o("effort_proactive", "proactive work", "主动治理", "share of staff time", "mean", "behaviour",
       "Capacity-weighted share of staff time planned for removing problem sources."),
    _o("refiled", "re-filings scheduled", "再次来电", "requests", "sum", "count",
       "Unresolved, dissatisfied requesters who will call again.", "int"),
    _o("detected", "falsifications detected", "查实弄虚作假", "orders", "sum", "measured",
       "False claims caught by today's audit sample.", "int"),
    _o("whistles", "whistles", "吹哨", "orders", "sum", "count", "Orders closed today on which a township whistled.", "int"),
    # -- orders live until they end, rates as defined, both sides of dynamic scope (issue 9 items 1, 2, 6; H1)
    _o("closed_worked", "ended worked", "办理完结", "orders", "sum", "count",
       "Orders closed today after their work was done (the fix tried).", "int"),
    _o("explained_unsolvable", "explained as temporarily unsolvable", "暂不能解决(已解释)", "orders", "sum", "count",
       "Orders that ended today explained as temporarily unsolvable (Art. 15(2)).", "int"),
    _o("fell_overdue", "fell overdue", "新增逾期", "orders", "sum", "count",
       "Orders that passed their deadline unfinished today and stay open (Art. 13).", "int"),
    _o("overdue_open", "overdue orders open", "逾期在办工单", "orders", "last", "state",
       "Orders past their deadline still open at the end of the day.", "int"),
    _o("overdue_open_share", "overdue share of open orders", "在办逾期占比", "share", "mean", "state",
       "Share of open orders that are past their deadline."),
    _o("routing_days", "days from call to responsible unit", "派单至承办单位用时", "days", "mean", "measured",
       "Mean days from the call to receipt by the handling unit, orders closed today (hotline and dispatch indicator)."),
    _o("redispatch_per_order", "re-dispatches per order", "单均改派次数", "re-dispatches/order", "mean", "measured",
       "Mean re-dispatch count of orders closed today (dispatch's own indicator, Art. 12(3))."),
    _o("labels_honest", "honest labels", "如实标注", "orders", "sum", "count",
       "Orders closed today labelled unreasonable in good faith (Art. 32(3)).", "int"),
    _o("labels_gamed", "gaming labels", "规避标注", "orders", "sum", "true",
       "Orders closed today labelled unreasonable to escape the score.", "int"),
    _o("labels_false", "false labels", "错误标注", "orders", "sum", "true",
       "Orders closed today labelled unreasonable that were reasonable.", "int"),
    _o("unreasonable_missed", "unreasonable orders not labelled", "未标注不合理诉求", "orders", "sum", "true",
       "Truly unreasonable orders closed today without a label.", "int"),
    _o("labels_rejected", "labels rejected", "标注被驳回", "orders", "sum", "measured",
       "Labels the hotline's check rejected today (Art. 32(3)).", "int"),
    # -- district and city coordination, catalogue learning, campaigns (H3, issue 9 items 4, 5, 7)
    _o("district_hours_available", "district hours available", "区政府协调工时", "staff hours", "sum", "state",
       "District governments' staff hours for coordination today."),
    _o("district_hours_fallback", "district hours: fallback routing", "区政府派单协调工时", "staff hours", "sum", "count",
       SUMMARY["district_hours_fallback"].description),
    _o("district_hours_supervision", "district hours: supervision", "区政府督办工时", "staff hours", "sum", "count",
       SUMMARY["district_hours_supervision"].description),
    _o("district_hours_escalation", "district hours: escalated cases", "区政府提级协调工时", "staff hours", "sum", "count",
       SUMMARY["district_hours_escalation"].description),
    _o("fallback_routed", "routed by the district", "区政府派单", "orders", "sum", "count",
       "Orders of unclear unit the district governments routed today (Art. 12(1)2).", "int"),
    _o("fallback_right", "routed right by the district", "区政府派单准确", "orders", "sum", "true",
       "Orders the district governments routed to the right unit today.", "int"),
    _o("fallback_waiting", "waiting at the district", "区政府待派", "orders", "last", "state",
       "Orders of unclear unit waiting for district staff time today.", "int"),
    _o("supervised", "followed up by the district", "区政府督办", "orders", "sum", "count",
       "Township orders at or past their deadline the district followed up today (Art. 12(1)1).", "int"),
    _o("escalations_district", "escalations to the district", "提级至区", "orders", "sum", "count",
       SUMMARY["escalations_district"].description, "int"),
    _o("escalations_city", "escalations to the city", "提级至市", "orders", "sum", "count",
       SUMMARY["escalations_city"].description, "int"),
    _o("city_cases_taken", "cases taken up by the city", "市级协调", "orders", "sum", "count",
       SUMMARY["city_cases_taken"].description, "int"),
    _o("city_queue", "city queue", "市级待协调", "orders", "last", "state",
       "Open orders waiting for the city's coordination today.", "int"),
    _o("catalogue_accuracy", "catalogue accuracy", "派单目录准确率", "share", "mean", "true",
       "Accuracy of the catalogue cells of today's catalogue-routed orders (Art. 11(2)); monthly: the month's mean."),
    _o("catalogue_corrections", "catalogue corrections", "派单目录调整", "cells", "sum", "count",
       SUMMARY["catalogue_corrections"].description, "int"),
    _o("campaign_hours", "campaign staff hours", "每月一题工时", "staff hours", "sum", "count",
       SUMMARY["campaign_hours"].description),
    # -- requesters' side (issue 9 items 3, 8): the hotline's operators, diversion outcomes,
    #    malicious callers, pressure reports, callback non-response
    *[_o(k, SUMMARY[k].en, SUMMARY[k].zh, SUMMARY[k].unit, SUMMARY[k].agg, SUMMARY[k].nature,
         SUMMARY[k].description.replace(", daily mean over the run", " today"), SUMMARY[k].dtype) for k in
      ["calls_offered", "calls_unanswered", "calls_given_up", "mean_wait_seconds",
       *[f"divert_{o}" for o in DIVERT_OUTCOMES], "wrongly_diverted", "missed_diversions", "divert_complaints",
       "divert_recalls", "malicious_calls", "malicious_warned", "malicious_restricted", "malicious_deterred",
       "pressure_reports", "pressure_confirmed", "unreached_callbacks"]],
    _o("answer_rate", "hotline answer rate", "接通率", "share", "mean", "measured",
       "Share of today's phone calls the operators answered."),
    *[_o(f"wrongly_diverted_{n}", f"wrongly diverted: {n.replace('_', ' ')}", f"误分流: {z}", "requests", "sum", "true",
         f"Requests wrongly diverted today as Art. 11(2) item {i + 1}.", "int")
      for i, (n, z) in enumerate(zip(DIVERT_NAMES, DIVERT_ZH))],
    _o("complaints_about_diversion", "complaints about diversion received", "收到分流投诉", "requests", "sum", "count",
       "Complaints about an earlier diversion recorded today (reviewed by the hotline).", "int"),
    # -- measurement from outside (issue 10 item 5; literature.md patterns 12, 13)
    _o("survey_sampled", "independent survey sample", "第三方调查样本", "requesters", "sum", "count",
       "Requesters whose order closed today that the independent survey asked.", "int"),
    _o("survey_satisfied", "satisfied in the independent survey", "第三方调查满意", "requesters", "sum", "true",
       "Of those, satisfied or basically satisfied.", "int"),
    _o("distinct_callers_ytd", "distinct callers this year", "本年来电人数", "residents", "last", "count",
       "Residents who got through at least once since 1 January (simulated residents).", "int"),
    _o("contacts_ytd", "contacts this year", "本年来电次数", "contacts", "last", "count",
       "Contacts answered since 1 January, with their callers known.", "int"),
]}


def outcome(name: str) -> Outcome:
    """The registry entry of a summary figure or daily column."""
    if name in SUMMARY:
        return SUMMARY[name]
    if name in DAILY:
        return DAILY[name]
    raise KeyError(f"{name!r} is not an outcome of the model (see model/outcomes.py)")


def numeric_summary() -> list[str]:
    """Summary figures that are numbers (what sweeps, comparisons and sensitivity analyse)."""
    return [k for k, o in SUMMARY.items() if o.dtype != "str" and o.nature != "id"]


def daily_series() -> list[str]:
    """Daily columns that are series (everything but the calendar)."""
    return [k for k, o in DAILY.items() if o.nature != "id"]


# The headline figures a comparison of rule sets reports first (jiesu compare, the app).
KEY_OUTCOMES = ["resolution_rate", "satisfaction_rate", "true_resolution_rate", "measured_true_gap",
                "requests_per_10k", "source_stock_end", "effort_share_game", "effort_share_proactive",
                "mean_exhaustion", "objections", "whistles_answered", "overdue_share"]
