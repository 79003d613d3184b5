"""The scenario schema: every knob of the model, typed, ranged, with its unit and article.

A scenario (情景) is a TOML file that fills this schema. ``world.*`` says how the city is
(uncertainties a researcher may sweep); ``rules.*`` says what policy chooses (the levers a
drafter compares, each citing the article of 北京市接诉即办工作条例 it implements).
Unknown keys are errors, so a misspelt lever can never be silently ignored.

Every field is declared with :func:`P`, which records range, unit, article and whether
the default value is published (with its source) or an assumption.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


def P(default: Any, *, lo: float | None = None, hi: float | None = None, unit: str = "",
      article: str = "", source: str = "assumption", doc: str = "", gt: float | None = None):
    """Declare one scenario parameter with its range, unit, article and source."""
    extra = {"unit": unit, "article": article, "source": source}
    return Field(default, ge=lo, le=hi, gt=gt, description=doc, json_schema_extra=extra)


class Strict(BaseModel):
    """Base for all config sections: unknown keys are errors, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


# ---------------------------------------------------------------------------- city
class City(Strict):
    scale: float = P(0.05, gt=0.0, hi=1.0, unit="share of Beijing",
                     doc="Share of Beijing simulated: at 1.0 all of it; below, a sample (see city.sampling).")
    sampling: Literal["townships", "thin"] = P(
        "townships", doc="How a scale below 1 reduces the city (DESIGN.md 'Scale', model/sample.py): 'townships' "
                         "keeps whole townships at full volume, sampled by district and urban/rural class, with "
                         "district departments pooled across districts (a faithful sample); 'thin' keeps all 343 "
                         "townships at thinned volume (small queues: rates drift with scale; unit-test worlds).")
    days: int = P(365, lo=1, hi=3650, unit="days", doc="Default run length; one step is one day.")
    start_month: int = P(1, lo=1, hi=12, unit="month", doc="Calendar month of day 0 (seasonality).")
    start_year: int = P(2021, lo=2018, hi=2030, unit="year", doc="Calendar year of day 0 (labels only).")


# ---------------------------------------------------------------------------- world
class Demand(Strict):
    contacts_per_capita_year: float = P(
        1.15, lo=0.01, hi=5.0, unit="contacts/person/year",
        source="facts.md: ~25 M contacts a year on 21.89 M people (2025 level); 2019 was 0.32",
        doc="Contact volume at baseline trust; calibrates problem-source arrival.")
    consultation_share: float = P(
        0.585, lo=0.0, hi=0.95, unit="share of contacts", article="Art. 11(1)",
        source="facts.md: 58.5% consultations, 2019-01 to 2021-11 (北京青年报 2021-12-20)")
    consultation_answered_directly: float = P(
        0.90, lo=0.0, hi=1.0, unit="share of consultations", article="Art. 11(1)",
        doc="Consultations answered at once from the hotline database (Art. 31); the rest are dispatched.")
    request_type_mix: list[float] = P(
        [0.30, 0.45, 0.15, 0.10], unit="shares of help/complaint/report/suggestion", article="Art. 2",
        doc="Mix of the four non-consultation request types (求助/投诉/举报/建议).")
    neighbourhood_spread: float = P(
        3.0, lo=1.0, hi=10.0, unit="ratio P95/P5",
        source="literature.md: reporting differs ~threefold between tracts (Liu, Bhandaram & Garg 2023)",
        doc="Spread of township reporting propensity.")
    need_reporting_correlation: float = P(
        -0.4, lo=-1.0, hi=1.0, unit="correlation",
        source="literature.md: poorer areas under-report relative to need (Kontokosta & Hong 2021); value assumed",
        doc="Correlation between a township's problem arrival (need) and its reporting propensity.")
    caller_tail_shape: float = P(1.6, lo=1.05, hi=5.0, unit="Pareto shape",
                                 doc="Heavy tail of very frequent callers (smaller = heavier).")
    contacts_per_user_year: float = P(
        1.5, lo=0.1, hi=20.0, unit="contacts/user/year",
        source="assumption, set from facts.md's 2019 figures (0.32 contacts per resident, 2.5 per distinct caller)",
        doc="Contacts a year of a resident who knows and uses 12345 (a user), at baseline trust. The contact "
            "volume is read as reach x use: contacts_per_capita_year / this is the share of residents who are "
            "users, and that share grows with the township's reputation (word of mouth). Users stay users: the "
            "hotline grows by drawing in new callers (literature.md pattern 13), while a resident's own trust "
            "moves how often a user calls.")
    trust_elasticity: float = P(1.0, lo=0.0, hi=3.0, unit="elasticity",
                                doc="How strongly filing rises with trust in the system.")
    unreasonable_share: float = P(0.08, lo=0.0, hi=0.5, unit="share of requests", article="Art. 9, 11",
                                  doc="Requests that are unreasonable (out of duty, malicious, no new facts) at baseline trust.")
    unreasonable_trust_elasticity: float = P(
        2.0, lo=0.0, hi=5.0, unit="elasticity",
        doc="Unreasonable and out-of-scope filing rises faster with trust (pattern 4: rising low-value share).")
    online_share: float = P(0.093, lo=0.0, hi=1.0, unit="share of contacts", article="Art. 8(2)",
                            source="facts.md: 2020 phone 90.7%, online 9.3% (新京报 2021)")
    seasonality: bool = P(True, doc="Category-specific seasonal cycles (heating in winter, flooding in summer).")
    need_spread: float = P(0.3, lo=0.0, hi=2.0, unit="lognormal sigma",
                           doc="Spread of problem arrival per capita (need) between townships.")
    township_pop_sigma: float = P(0.45, lo=0.0, hi=2.0, unit="lognormal sigma",
                                  doc="Spread of township populations inside a district (no township census is "
                                      "shipped; district totals are the 2020 census).")


class Sources(Strict):
    report_hazard: float = P(0.05, lo=0.001, hi=1.0, unit="1/day",
                             doc="Daily chance an active problem source produces a request at baseline reporting.")
    natural_decay: float = P(0.01, lo=0.0, hi=0.5, unit="1/day", doc="Problems that go away on their own.")
    fix_on_resolution: float = P(0.7, lo=0.0, hi=1.0, unit="probability",
                                 doc="A truly resolved request removes its problem source (else it was a symptom fix).")
    calibration_resolution: float = P(0.6, lo=0.0, hi=1.0, unit="share",
                                      doc="True resolution rate at which the initial problem stock is in balance.")
    proactive_hours_per_source: float = P(30.0, gt=0.0, hi=1000.0, unit="staff hours",
                                          doc="Staff time proactive work needs to remove one problem source.")
    proactive_daily_cap: float = P(0.05, lo=0.0, hi=1.0, unit="share of a unit's removable stock per day",
                                   article="Art. 25-26", doc="Proactive work reaches at most this share of the sources "
                                                            "in a unit's jurisdiction a day (they must be found first).")


class Handling(Strict):
    solve_prob: float = P(0.92, lo=0.0, hi=1.0, unit="probability", source="calibrated (assumption fitted, not published): history replay, ABC, docs/calibration.md; 90% posterior 0.88-0.96",
                          doc="A fully worked order by the right unit really solves the problem.")
    hard_solve_prob: float = P(0.6, lo=0.0, hi=1.0, unit="probability",
                               doc="The same for hard (complex) requests.")
    hard_effort_factor: float = P(2.5, lo=1.0, hi=20.0, unit="x median effort",
                                  doc="Hard requests need this many times the category's median staff time.")
    max_hours_per_day: float = P(4.0, gt=0.0, hi=100.0, unit="staff hours per order per day",
                                 doc="Work on one order in one day is limited (visits, calls, waiting on others take calendar time).")
    misrouted_solve_prob: float = P(0.15, lo=0.0, hi=1.0, unit="probability",
                                    doc="A wrong unit that keeps an order can still get it solved.")
    consultation_hours: float = P(0.5, gt=0.0, hi=10.0, unit="staff hours", article="Art. 11(1)",
                                  doc="Answering a dispatched consultation.")
    false_close_hours: float = P(0.5, gt=0.0, hi=10.0, unit="staff hours",
                                 doc="Staff time to close an order on paper without solving it (gaming).")
    label_hours: float = P(0.3, gt=0.0, hi=10.0, unit="staff hours", doc="Labelling an order unreasonable.")
    claim_resolved: float = P(4.0, lo=0.0, hi=20.0, unit="x gaming share",
                              doc="An unsolved order closes as 'resolved' with probability claim_resolved x effort_game.")
    extension_explain_hours: float = P(0.5, lo=0.0, hi=10.0, unit="staff hours", article="Art. 15(2)",
                                       doc="Explanation the requester gets when a hard order is extended.")
    uncopied_escalation_factor: float = P(2.0, lo=1.0, hi=10.0, unit="x escalation_days", article="Art. 12(1)1, 20",
                                          doc="Without the copy to the district, stuck orders reach the district "
                                              "this many times later.")
    # orders live until they end (issue 9 item 1, H1 "orders"): an overdue order stays open
    explain_daily_blocked: float = P(0.10, lo=0.0, hi=1.0, unit="probability per overdue day", article="Art. 15(2)",
                                     doc="An overdue order held back by objective factors (hard, cooperation refused, "
                                         "a central-unit linkage, or held by a unit whose duty it is not) is explained "
                                         "to the requester as temporarily unsolvable (暂不能解决) and ends.")
    explain_daily: float = P(0.02, lo=0.0, hi=1.0, unit="probability per overdue day", article="Art. 15(2)",
                             doc="The same for any other overdue order. Both are the units' propensities before "
                                 "they weigh what explaining does to their assessment and the hours it frees at "
                                 "their load (decisions.py); world.behaviour.hour_price prices those hours.")
    unsolvable_explain_hours: float = P(1.0, lo=0.0, hi=10.0, unit="staff hours", article="Art. 15(2)",
                                        doc="Explanation the requester gets when an order is explained as temporarily "
                                            "unsolvable (raises the callback's explanation).")
    rework_share: float = P(0.3, lo=0.0, hi=1.0, unit="share of difficulty",
                            doc="A worked order whose fix failed leaves this share of its work for a repeat about the "
                                "same problem (a repeat otherwise continues from the parent's remaining work).")
    # both sides of dynamic scope (issue 9 item 6): good-faith judgement of unreasonable requests
    recognise_unreasonable: float = P(0.8, lo=0.0, hi=1.0, unit="probability", article="Art. 9, 32(3)",
                                      doc="At first contact a unit recognises a truly unreasonable order as such.")
    misjudge_reasonable: float = P(0.01, lo=0.0, hi=1.0, unit="probability", article="Art. 32(3)",
                                   doc="At first contact a unit judges a reasonable order unreasonable in good faith "
                                       "(the detection error the other way).")


class Triage(Strict):
    """Art. 11(2): what a request truly is (its diversion class) and the operator's errors.

    The class follows from the request: its category and type (model/data/triage.csv,
    triage_types.csv), the requester's history (repeats) and trait (malicious callers).
    The four shares below are the city-wide mean shares of the classes set by the matter;
    the tables only redistribute them between categories and types."""

    emergency_share: float = P(0.01, lo=0.0, hi=0.2, unit="share", article="Art. 11(2)1", doc="To 110/119/120/122.")
    legal_channel_share: float = P(0.02, lo=0.0, hi=0.2, unit="share", article="Art. 11(2)2")
    secret_privacy_share: float = P(0.002, lo=0.0, hi=0.1, unit="share", article="Art. 11(2)4")
    unlawful_share: float = P(0.003, lo=0.0, hi=0.1, unit="share", article="Art. 11(2)6")
    detect_unreasonable: float = P(0.5, lo=0.0, hi=1.0, unit="probability", article="Art. 11(2)5",
                                   doc="Chance the operator diverts a request that is truly out of scope (unreasonable); "
                                       "the rest are dispatched (triage error: dispatched though it should be diverted).")
    detect_by_matter: float = P(0.95, lo=0.0, hi=1.0, unit="probability", article="Art. 11(2)",
                                doc="Chance the operator recognises a request whose class follows from the matter "
                                    "(emergency, legal channel, repeat with no new facts, secret/privacy, unlawful); "
                                    "missed ones are dispatched.")
    false_divert: float = P(0.01, lo=0.0, hi=0.5, unit="probability",
                            doc="Chance a request that should be dispatched is wrongly diverted (out of scope, or "
                                "'repeat' if the requester called before): triage error the other way.")
    repeat_divert: float = P(0.6, lo=0.0, hi=1.0, unit="probability", article="Art. 11(2)3",
                             doc="A repeat contact about an order brings no new facts (its class is 'repeat': told the "
                                 "progress instead of re-dispatched).")
    detect_malicious: float = P(0.7, lo=0.0, hi=1.0, unit="probability", article="Art. 9(3), 37",
                                doc="Chance the operator recognises a call of a malicious caller (恶意反复拨打) when the "
                                    "hotline handles malicious calling.")


class Hotline(Strict):
    """The hotline centre's own capacity (话务): operators answer phone calls (Art. 8(2), 10)."""

    operators: float = P(1400.0, lo=0.0, hi=20000.0, unit="staff at scale 1", article="Art. 10",
                         source="facts.md: 1,400+ staff, 600+ seats (2021)",
                         doc="Hotline operators at full scale; the daily answering capacity scales with city.scale.")
    shifts_per_week: float = P(5.0, lo=0.0, hi=7.0, unit="shifts per operator per week",
                               doc="Shifts each operator works a week (assumption: a five-day week).")
    calls_per_shift: float = P(90.0, gt=0.0, hi=500.0, unit="calls per operator per shift",
                               source="facts.md: 80-100 calls per operator per 8-hour shift",
                               doc="Calls one operator answers in a shift.")
    peak_factor: float = P(1.25, lo=1.0, hi=5.0, unit="peak / mean load",
                           doc="Calls bunch in busy hours: the load that meets capacity is this many times the "
                               "day's mean (a daily model of an hourly queue).")
    seats: float = P(600.0, gt=0.0, hi=10000.0, unit="seats at scale 1", article="Art. 10",
                     source="facts.md: 600+ seats (2021)",
                     doc="Operator seats staffed at once; with the handling time per call (8 h / calls_per_shift) "
                         "they set the waiting time: wait = handling time / seats x load / (1 - load).")
    patience_seconds: float = P(120.0, gt=0.0, hi=3600.0, unit="seconds (mean)",
                                doc="Callers hang up after waiting this long on average (abandonment 1 - exp(-wait / "
                                    "patience)); facts.md: target answer within 15 s, connection rate >= 95%.")
    retry_prob: float = P(0.6, lo=0.0, hi=1.0, unit="probability",
                          doc="An unanswered caller tries again the next day; the rest give up.")
    online_queued: bool = P(True, article="Art. 8(2)",
                            doc="Online contacts (web, app) are read from a queue and never lost to busy lines.")
    pressure_evidence: float = P(0.5, lo=0.0, hi=1.0, unit="probability", article="Art. 35(5)",
                                 doc="Chance the hotline's check of a report of pressure or retaliation substantiates it.")


class Capacity(Strict):
    ratio: float = P(1.15, gt=0.05, hi=5.0, unit="capacity / expected workload",
                     doc="Staff time of each unit relative to the workload expected from its catalogue share.")
    township_load_spread: float = P(0.25, lo=0.0, hi=2.0, unit="lognormal sigma",
                                    doc="Heterogeneity of staffing relative to load between townships.")
    flex_days: float = P(2.0, lo=0.0, hi=30.0, unit="days of in-role staff time",
                         doc="In-role hours a unit can bank on quiet days or borrow ahead on busy ones (slack and "
                             "overtime even out daily swings; keeps small-scale runs close to full-scale queueing).")
    district_rebalancing: float = P(0.13, lo=0.0, hi=1.0, unit="share of the staffing gap per month", article="Art. 5(2)",
                                    source="calibrated (assumption fitted, not published): history replay, ABC, docs/calibration.md; 90% posterior 0.02-0.23",
                                    doc="District governments (投入保障) move township staff toward the work: each month "
                                        "this share of the gap between a township's staff and its share of the district's "
                                        "demanded hours (smoothed) is closed; the district total is kept (assumption).")
    contact_hours: float = P(0.3, gt=0.0, hi=10.0, unit="staff hours/order", article="Art. 15(1)",
                             doc="First contact with the requester (response).")
    coordination_factor: float = P(0.5, lo=0.0, hi=5.0, unit="share of difficulty",
                                   doc="Extra effort a cooperating unit must put into a joint order.")
    unit_load_spread: float = P(0.1, lo=0.0, hi=2.0, unit="lognormal sigma",
                                doc="Heterogeneity of staffing relative to load of units other than townships.")
    demand_smoothing: float = P(0.5, lo=0.0, hi=1.0, unit="weight of the past month",
                                doc="Districts judge a township's work by demanded hours smoothed with this memory.")
    # district and city coordination (H3, issue 9 item 4): staff time of 区人民政府 and the city
    district_coordination_share: float = P(
        0.02, lo=0.0, hi=1.0, unit="share of the district's expected order hours", article="Art. 5, 12, 20",
        doc="Staff time of each district government (区人民政府) for coordination (fallback routing, supervision of "
            "the copies, escalated cases), as a share of the expected order hours of its townships and district "
            "departments (then sized like other units: times ratio / effort_resolve, with their staffing spread).")
    city_cases_per_day: float = P(
        200.0, lo=0.0, hi=1e5, unit="cases/day at full scale", article="Art. 20, 24",
        doc="Escalated cases the city (市级) can take up for coordination a day at full scale (times city.scale); "
            "the rest wait in the city's queue.")


class Citizens(Strict):
    initial_trust: float = P(0.5, lo=0.0, hi=1.0, unit="0-1")
    trust_learning: float = P(0.2, lo=0.0, hi=1.0, unit="weight per outcome")
    word_of_mouth: float = P(0.2, lo=0.0, hi=1.0, unit="weight per month", article="Art. 6",
                             doc="A township's reputation moves toward its satisfaction rate; it scales everyone's filing.")
    initial_expectation: float = P(0.77, lo=0.0, hi=1.0, unit="0-1",
                                   source="calibrated (assumption fitted, not published): history replay, ABC, "
                                          "docs/calibration.md; 90% posterior 0.60-0.95 (weakly constrained)",
                                   doc="Expected performance (expectancy-disconfirmation, Van Ryzin 2004).")
    expectation_learning: float = P(0.1, lo=0.0, hi=1.0, unit="weight per outcome")
    contact_effect: float = P(0.88, lo=0.0, hi=2.0, unit="satisfaction points", source="calibrated (assumption fitted, not published): history replay, ABC, docs/calibration.md; 90% posterior 0.63-1.18",
                              doc="Satisfaction gained from contact and explanation (Art. 15(1)-(2)).")
    explain_hours: float = P(1.0, gt=0.0, hi=20.0, unit="staff hours",
                             doc="Explanation time per order that gives ~63% of the full contact effect (diminishing returns).")
    pressure_effect: float = P(0.47, lo=0.0, hi=2.0, unit="satisfaction points",
                               source="calibrated (assumption fitted, not published): history replay, ABC-SMC round 9 "
                                      "(2026-12-07, with the third-party survey targets; every other parameter at its "
                                      "default; 90% posterior 0.05-0.54), filtered by pattern 3 (bunching needs 0.33 "
                                      "or more): the mean of that part of the posterior; round 11, after pressure "
                                      "was priced as falsification, 0.60 (0.07-1.01): kept, docs/calibration.md",
                               doc="Rating bent by pressure from the unit when it games.")
    explain_persuasion: float = P(0.45, lo=0.0, hi=1.0, unit="probability", article="Art. 15(2), 23",
                                  source="calibrated (assumption fitted, not published): history replay, ABC, docs/calibration.md; 90% posterior 0.18-0.62",
                                  doc="Chance that full explanation (解释说明) makes a requester answer 'resolved' for an "
                                      "unresolved request, e.g. when a policy limit is explained (assumption; calibrated).")
    honesty: float = P(0.84, lo=0.0, hi=1.0, unit="probability", article="Art. 9",
                       source="calibrated (assumption fitted, not published): history replay, ABC, docs/calibration.md; 90% posterior 0.71-0.96: not constrained by the published series",
                       doc="Chance a requester reports an unresolved problem as unresolved despite pressure.")
    rating_noise: float = P(0.25, lo=0.0, hi=2.0, unit="sd of satisfaction points")
    refile_prob: float = P(0.45, lo=0.0, hi=1.0, unit="probability",
                           doc="Unresolved and dissatisfied requesters call again (voice, Hirschman 1970).")
    refile_delay_days: float = P(5.0, gt=0.0, hi=120.0, unit="days (mean)")
    escalation_threat_after: int = P(2, lo=1, hi=20, unit="unresolved requests",
                                     doc="After this many unresolved requests the requester threatens escalation.")
    confirm_resolved: float = P(0.97, lo=0.0, hi=1.0, unit="probability", article="Art. 23",
                                doc="A requester whose problem was solved says so at callback.")
    performance_resolved: float = P(1.0, lo=0.0, hi=2.0, unit="0-1", doc="Perceived performance of a solved request.")
    performance_unresolved: float = P(0.1, lo=0.0, hi=1.0, unit="0-1", doc="Perceived performance of an unsolved one.")
    contact_share: float = P(0.4, lo=0.0, hi=1.0, unit="share of contact_effect",
                             doc="Part of the contact effect from first contact; the rest comes from explanation.")
    contact_performance: float = P(0.2, lo=0.0, hi=1.0, unit="0-1",
                                   doc="What being contacted adds to the performance a requester remembers (expectation).")
    pressure_hours: float = P(0.5, gt=0.0, hi=10.0, unit="staff hours",
                              doc="Pressure time per order that gives ~63% of the full pressure effect.")
    satisfied_cut: float = P(0.15, lo=-2.0, hi=2.0, unit="satisfaction points",
                             doc="Above this score the requester answers 'satisfied'.")
    basic_cut: float = P(-0.15, lo=-2.0, hi=2.0, unit="satisfaction points",
                         doc="Above this (and up to satisfied_cut) the answer is 'basically satisfied'; below, 'dissatisfied'.")
    basic_trust_outcome: float = P(0.6, lo=0.0, hi=1.0, unit="0-1",
                                   doc="Trust target of a 'basically satisfied' answer (dissatisfied 0, satisfied 1).")
    expectation_cap: float = P(1.5, lo=0.5, hi=5.0, unit="0-1 scale", doc="Highest expectation a requester can form.")
    # requesters' side (issue 9 items 3, 8): diversion outcomes, malicious callers, pressure reports
    divert_trust: list[float] = P([0.6, 0.4, 0.2], unit="trust target of answered / told where to go / refused",
                                  article="Art. 11(2)",
                                  doc="Trust target of a rightly diverted requester by outcome; a wrongly diverted one "
                                      "(the matter was the hotline's to dispatch) moves toward 0, like a dissatisfied answer.")
    divert_recall: float = P(0.3, lo=0.0, hi=1.0, unit="probability", article="Art. 11(2)",
                             doc="A diverted requester whose problem remains (wrongly diverted, or told the progress of "
                                 "an unresolved order) calls again.")
    divert_complaint_wrong: float = P(0.15, lo=0.0, hi=1.0, unit="probability", article="Art. 8(2)",
                                      doc="A wrongly diverted requester complains about the diversion (a new contact).")
    divert_complaint_right: float = P(0.02, lo=0.0, hi=1.0, unit="probability", article="Art. 8(2)",
                                      doc="A rightly diverted requester complains about the diversion.")
    unanswered_trust: float = P(0.2, lo=0.0, hi=1.0, unit="0-1", article="Art. 10",
                                doc="Trust target of a caller who gives up after an unanswered call.")
    malicious_share: float = P(0.0005, lo=0.0, hi=0.05, unit="share of residents", article="Art. 9(3), 37",
                               doc="Residents who call maliciously and repeatedly (恶意反复拨打); the chance rises with "
                                   "calling propensity, so they sit in the heavy tail.")
    warning_deterrence: float = P(0.3, lo=0.0, hi=1.0, unit="probability", article="Art. 37",
                                  doc="A malicious caller warned by the hotline (劝阻、批评、教育) stops calling maliciously.")
    pressure_report: float = P(0.3, lo=0.0, hi=1.0, unit="probability at full pressure", article="Art. 8(3), 35(5)",
                               doc="Chance a pressed requester reports the pressure at callback; it rises with the "
                                   "pressure applied (x 1 - exp(-hours / pressure_hours)).")
    callback_unreachable: float = P(0.08, lo=0.0, hi=1.0, unit="probability", article="Art. 23",
                                    doc="A requester cannot be reached at callback by phone, SMS or online (Art. 23).")


class Linkage(Strict):
    jingjinji_delay_days: float = P(3.0, lo=0.0, hi=30.0, unit="days", article="Art. 21",
                                    doc="Extra delay of the Tianjin-Hebei hotline linkage.")
    central_delay_days: float = P(5.0, lo=0.0, hi=60.0, unit="days", article="Art. 22",
                                  doc="Extra delay of the central-units-in-Beijing channel.")
    central_success: float = P(0.6, lo=0.0, hi=1.0, unit="probability", article="Art. 22",
                               doc="Chance a central unit acts on a forwarded request.")


class District(Strict):
    """How district governments and the city coordinate (Art. 12(1)2, 20, 24; H3, issue 9 item 4)."""

    fallback_accuracy: float = P(0.9, lo=0.0, hi=1.0, unit="probability", article="Art. 12(1)2",
                                 doc="Chance the district government forwards an order of unclear unit to the right unit.")
    fallback_delay_days: int = P(1, lo=0, hi=10, unit="days", article="Art. 12(1)2",
                                 doc="Days before the district government can route an order sent to it.")
    fallback_hours: float = P(0.5, lo=0.0, hi=20.0, unit="staff hours/order", article="Art. 12(1)2",
                              doc="District staff time to find the unit for one order; without hours left the order waits.")
    supervision_hours: float = P(0.2, lo=0.0, hi=20.0, unit="staff hours/order", article="Art. 12(1)1",
                                 doc="District staff time to follow up one township order (held in copy) that reached "
                                     "its deadline unfinished.")
    case_hours: float = P(2.0, lo=0.0, hi=100.0, unit="staff hours/case", article="Art. 20",
                          doc="District staff time to coordinate one escalated case; the hours also count as work on it.")
    resolve_share: float = P(0.8, lo=0.0, hi=1.0, unit="probability", article="Art. 20",
                             doc="Chance the district's coordination unlocks an escalated case (the department "
                                 "cooperates); the rest go on to the city.")
    city_case_hours: float = P(4.0, lo=0.0, hi=100.0, unit="staff hours/case", article="Art. 20, 24",
                               doc="Work the city's coordination adds to a case it takes up (it always unlocks cooperation).")


class Behaviour(Strict):
    """How units act (MECHANISMS.md section 4). Initial values; learning moves them when on."""

    effort_resolve: float = P(0.70, lo=0.0, hi=1.0, unit="share of staff time")
    effort_satisfy: float = P(0.15, lo=0.0, hi=1.0, unit="share of staff time")
    effort_game: float = P(0.05, lo=0.0, hi=1.0, unit="share of staff time")
    effort_proactive: float = P(0.10, lo=0.0, hi=1.0, unit="share of staff time")
    priority_deadline: float = P(1.0, lo=0.0, hi=10.0, unit="weight", doc="Queue priority on closeness to deadline.")
    priority_ease: float = P(0.5, lo=0.0, hi=10.0, unit="weight", doc="Queue priority on easy orders (selectivity).")
    priority_threat: float = P(1.0, lo=0.0, hi=10.0, unit="weight", doc="Queue priority on escalation threats.")
    priority_urgent: float = P(10.0, lo=0.0, hi=100.0, unit="weight", article="Art. 13",
                               doc="Queue priority of the 2-hour and 24-hour tiers over everything else.")
    ease_scale_hours: float = P(4.0, gt=0.0, hi=100.0, unit="staff hours",
                                doc="Remaining work at which an order counts half as easy in the queue.")
    game_false_close_share: float = P(0.4, lo=0.0, hi=1.0, unit="share of gaming hours",
                                      doc="Gaming time spent closing orders on paper (形式办结).")
    game_label_share: float = P(0.3, lo=0.0, hi=1.0, unit="share of gaming hours", article="Art. 32(3)",
                                doc="Gaming time spent labelling orders unreasonable; the part units do not expect to count "
                                    "(label_belief) goes to closures.")
    game_pressure_share: float = P(0.3, lo=0.0, hi=1.0, unit="share of gaming hours", article="Art. 35(5)",
                                   doc="Gaming time spent pressing requesters for good ratings.")
    game_bank_days: float = P(5.0, lo=0.0, hi=60.0, unit="days of gaming time",
                              doc="Gaming hours a unit can save up for whole acts (a closure, a label).")
    label_clerical_value: float = P(0.1, lo=0.0, hi=1.0, unit="probability", article="Art. 32(3)",
                                    doc="Chance a unit records its good-faith judgement 'unreasonable' as a label when it "
                                        "expects the label to change nothing in its score (duty of record).")
    label_belief0: float = P(1.0, lo=0.0, hi=1.0, unit="share of labels", article="Art. 32(3)",
                             doc="Units' initial expectation that a label takes the order out of the score.")
    label_belief_learning: float = P(0.5, lo=0.0, hi=1.0, unit="weight per month", article="Art. 32(3)",
                                     doc="Each month a unit's expectation moves this far toward the share of its closed "
                                         "labelled orders that were excluded (the consequence it sees).")
    p_object_misrouted: float = P(0.8, lo=0.0, hi=1.0, unit="probability", article="Art. 12(3)",
                                  doc="Unit objects to an order that really is not its duty.")
    p_object_bucketpass: float = P(0.05, lo=0.0, hi=1.0, unit="probability", article="Art. 14(1)",
                                   doc="Unit objects to a hard order that is its duty (buck-passing).")
    p_whistle: float = P(0.7, lo=0.0, hi=1.0, unit="probability", article="Art. 16",
                         doc="Township whistles for a joint order that needs a department.")
    p_answer_whistle: float = P(0.6, lo=0.0, hi=1.0, unit="probability", article="Art. 16(2)",
                                doc="Department answers a whistle out of duty and public-service motivation, before "
                                    "weighing what the assessment makes of it (decisions.py).")
    p_cooperate_unscored: float = P(0.4, lo=0.0, hi=1.0, unit="probability", article="Art. 14(2)",
                                    doc="Cooperating unit contributes before weighing the assessment (free-riding "
                                        "when nothing scores it).")
    coop_priority: float = P(0.5, lo=0.0, hi=5.0, unit="weight",
                             doc="Queue weight of cooperation items against own orders at the propensity "
                                 "p_cooperate_unscored; it grows in proportion as cooperating pays (decisions.py).")
    cooperation_resolution_gain: float = P(0.5, lo=0.0, hi=1.0, unit="resolution per answered request",
                                           doc="How much an answered whistle or request raises the lead's chance "
                                               "that a joint order is resolved, as townships believe it.")
    load_aversion: float = P(1.0, lo=0.0, hi=10.0, unit="logit per unit of overload",
                             doc="How much a unit's overload (demanded / available hours - 1, last month) "
                                 "lowers its willingness to take on others' work (whistles, cooperation).")
    peer_evidence: float = P(5.0, lo=0.0, hi=1000.0, unit="acts",
                             doc="Weight of the class peers' experience in a unit's beliefs, in acts of its own.")
    incentive_weight: float = P(1.0, lo=0.0, hi=5.0, unit="x assessment payoff",
                                doc="How much units weigh the assessment's consequences (score, rank, commendation, "
                                    "remedial designation, sanctions) against intrinsic motivation: 0 = they ignore "
                                    "the assessment; 1 = as in the calibrated history replay.")
    decision_sensitivity: float = P(3.5, lo=0.0, hi=20.0, unit="logit per unit of payoff",
                                    doc="How sharply a decision probability follows the payoff difference between "
                                        "its options (decisions.py). Assumption, not fitted: with it the 2021 scoring "
                                        "of whistles and cooperation moves departments' answering from about 0.57 "
                                        "(incentive_weight 0) to about 0.87, near the 0.6 -> 0.9 earlier versions typed in.")
    rank_uncertainty: float = P(0.08, gt=0.0, hi=0.5, unit="percentile points",
                                doc="How uncertain a unit is of where a score puts it among its peers (smooths the "
                                    "commendation and remedial lines when it weighs a decision).")
    belief_memory: float = P(0.8, lo=0.0, hi=1.0, unit="weight of last month's belief",
                             doc="Units' beliefs about how the system answers their acts (detection, acceptance, "
                                 "answer rates) keep this share of the past each month; the rest is this month's "
                                 "experience, their own and their class peers'.")
    intrinsic_motivation: float = P(0.8, lo=0.0, hi=5.0, unit="utility per unit of true resolution rate",
                                    source="assumption, set by hand 2026-12-03 (docs/calibration.md): with the real work a move of the split gives up "
                                           "(decisions.real_work_lost), the value at which the pattern suite holds (the round-4 ABC value 1.04, "
                                           "90% posterior 0.43-1.63 on the older model, fails patterns 2 and 11; 0.6 fails pattern 3); not fitted "
                                           "to the published series",
                                    doc="Public-service motivation: units value real resolution beyond their score (Braganza 2022).")
    exhaustion_gain: float = P(0.10, lo=0.0, hi=2.0, unit="per unit of overload per month")
    exhaustion_sanction_gain: float = P(0.05, lo=0.0, hi=2.0, unit="per sanction point")
    exhaustion_recovery: float = P(0.15, lo=0.0, hi=1.0, unit="share per month")
    exhaustion_capacity_loss: float = P(0.4, lo=0.0, hi=1.0, unit="capacity lost at full exhaustion")
    disengage_satisfy: float = P(0.5, lo=0.0, hi=1.0, unit="share lost at full exhaustion",
                                 doc="Rating management (discretionary) lost to disengagement (JD-R).")
    disengage_proactive: float = P(1.0, lo=0.0, hi=1.0, unit="share lost at full exhaustion",
                                   doc="Proactive work (extra-role) lost to disengagement (JD-R).")
    overload_cap: float = P(3.0, gt=0.0, hi=20.0, unit="x capacity", doc="Overload beyond this adds no more exhaustion.")
    effort_heterogeneity: float = P(0.25, lo=0.0, hi=1.0, unit="coefficient of variation",
                                    doc="Spread of units' initial effort splits around the mean (Dirichlet).")
    cutoff_surge: float = P(0.15, lo=0.0, hi=0.8, unit="share of staff time", article="Art. 28",
                            doc="Late in a month, units whose month-to-date standing (the hotline pushes them the data, "
                                "Art. 28) is near the remedial cut-off shift this much time from real work to rating "
                                "management and gaming, scaled by loss aversion / 2.25.")
    cutoff_band: float = P(0.1, lo=0.0, hi=0.5, unit="percentile points", doc="How near the cut-off a unit must stand.")
    surge_days: int = P(10, lo=0, hi=30, unit="days before month end")
    surge_band_above: float = P(0.5, lo=0.0, hi=1.0, unit="share of cutoff_band",
                                doc="Units this far above the line (as a share of the band below it) still press.")
    surge_cap: float = P(0.9, lo=0.0, hi=2.0, unit="share of in-role hours", doc="Most overtime a month-end push adds.")
    surge_pressure_norm: float = P(2.25, gt=0.0, hi=10.0, unit="lambda",
                                   doc="The loss aversion at which cutoff_surge is quoted (press = lambda / this below the line).")
    surge_stake_norm: float = P(1.0, gt=0.0, hi=10.0, unit="payoff points",
                                doc="The cost of remedial designation at which cutoff_surge is quoted: the push is "
                                    "stronger as designation costs more (rules.sanctions.strength, via assessment.payoff).")
    standing_min_orders: int = P(5, lo=1, hi=1000, unit="orders",
                                 doc="Closed in-scope orders a unit needs this month before it reads its standing.")
    learning: bool = P(False, doc="Units adapt their effort split from scores (MECHANISMS.md section 4).")
    learning_rate: float = P(0.23, lo=0.0, hi=1.0, unit="share moved per month", source="calibrated (assumption fitted, not published): history replay, ABC, docs/calibration.md; 90% posterior 0.15-0.38")
    imitation: float = P(0.5, lo=0.0, hi=1.0, unit="probability",
                         doc="A unit below its aspiration imitates a better-ranked peer (Braganza 2022).")
    exploration: float = P(0.03, lo=0.0, hi=0.5, unit="sd of monthly change")
    loss_aversion: float = P(2.25, lo=1.0, hi=5.0, unit="lambda", source="Kahneman-Tversky via Braganza 2022")
    value_exponent: float = P(0.88, lo=0.1, hi=1.0, unit="alpha", source="Kahneman-Tversky via Braganza 2022")
    intrinsic_scale: float = P(10.0, lo=0.0, hi=100.0, unit="utility per unit of true resolution above class mean",
                               doc="Scale of intrinsic motivation in utility (x intrinsic_motivation).")
    min_resolve_share: float = P(0.2, lo=0.0, hi=1.0, unit="share of staff time",
                                 doc="Learning never moves real work below this share (in-role duty).")
    aspiration_update: float = P(0.3, lo=0.0, hi=1.0, unit="weight of this month's utility",
                                 doc="Aspiration follows utility: new = (1 - update) x old + update x utility.")
    explore_above_aspiration: float = P(0.3, lo=0.0, hi=1.0, unit="x exploration",
                                        doc="Units above their aspiration explore this much less.")
    peer_step: float = P(0.05, lo=0.0, hi=1.0, unit="x learning_rate",
                         doc="Step of belief learning from peers on the effort split (per unit of evidence).")
    policy_step: float = P(0.5, lo=0.0, hi=5.0, unit="x learning_rate",
                           doc="Step of belief learning on queue priorities and decision probabilities.")
    policy_offset_limit: float = P(4.0, gt=0.0, hi=20.0, unit="log / logit units",
                                   doc="Learned deviations of priorities and probabilities stay within +- this.")
    # issue 10 item 1, the rest: extensions, explaining, pressing and the effort split chosen from consequences
    p_extend: float = P(0.8, lo=0.0, hi=1.0, unit="probability", article="Art. 15(2)",
                        doc="Assumption (no published source): chance a unit asks the hotline to extend a hard, "
                            "contacted order at its deadline before weighing what the assessment makes of it "
                            "(decisions.py); whether the hotline grants extensions is the rule "
                            "(rules.deadlines.extensions).")
    p_press: float = P(0.9, lo=0.0, hi=1.0, unit="probability", article="Art. 35(5)",
                       doc="Assumption (no published source): chance a unit presses the requester of an unsolved "
                           "order it closes, before weighing what the assessment makes of it (decisions.py); the "
                           "gaming hours it spends on pressure follow (game_pressure_share x p_press / this).")
    hour_price: float = P(0.5, lo=0.0, hi=10.0, unit="logit per staff hour per act",
                          doc="Assumption (no published source): how much the staff hours an act costs (the "
                              "explanation an extension needs) lower its probability, times (1 + last month's "
                              "overload): the price of the hours at today's load; and how much the hours an act "
                              "frees (the work left on an overdue order that explaining ends) raise it, times last "
                              "month's overload (freed hours are worth something only when work waits).")
    consequence_step: float = P(0.1, lo=0.0, hi=1.0, unit="x learning_rate",
                                doc="Assumption (no published source): step of the effort split along the "
                                    "consequences gradient (what moving staff time between uses would do to the "
                                    "assessment payoff and to real resolution, from the units' beliefs about each "
                                    "use's yield; decisions.split_gains), per unit of tanh-scaled gain. Hand-set "
                                    "2026-12 (0.02, 0.05, 0.1, 0.25 tried against patterns 2 and 9; not fitted).")
    yield_min_units: int = P(8, lo=3, hi=1000, unit="units",
                             doc="Assumption: a class needs this many acting units with closed orders before its "
                                 "members read each use's yield from their peers' experience (decisions.Yields).")

    @model_validator(mode="after")
    def _shares_sum_to_one(self):
        s = self.effort_resolve + self.effort_satisfy + self.effort_game + self.effort_proactive
        if abs(s - 1.0) > 1e-6:
            raise ValueError(f"effort_resolve + effort_satisfy + effort_game + effort_proactive must sum to 1 (got {s:.4g})")
        g = self.game_false_close_share + self.game_label_share + self.game_pressure_share
        if abs(g - 1.0) > 1e-6:
            raise ValueError("world.behaviour.game_false_close_share: game_false_close_share + game_label_share + "
                             f"game_pressure_share must sum to 1 (got {g:.4g})")
        return self


class Survey(Strict):
    """An independent survey (第三方调查): a third party asks a sample of past requesters, later
    and without the unit present, how satisfied they are (literature.md pattern 12)."""

    sample_share: float = P(0.05, lo=0.0, hi=1.0, unit="share of closed orders",
                            doc="Requesters the third party reaches (the sample, not a rule of the assessment).")
    explain_persistence: float = P(0.81, lo=0.0, hi=1.0, unit="share of the explanation's effect",
                                   source="calibrated (assumption fitted, not published): history replay, ABC-SMC round 9 "
                                          "(2026-12-07) on the third-party survey targets, with pressure_effect 0.33 or "
                                          "more (pattern 3), docs/calibration.md; 90% interval 0.54-0.95, not "
                                          "converged: it enters only the survey, whose targets alone push it to 1; "
                                          "round 11 0.84 (0.66-0.98): kept",
                                   doc="How much of the unit's explanation still colours the answer weeks later, "
                                       "with nobody from the unit on the line (pressure none of it).")


class Staffing(Strict):
    """District and city governments staff the hotline work (投入保障, Art. 5): they add, move or
    withdraw staff, with a lag, when the work that arrives stays above or below what their staff
    can do, and support units designated remedial (治理类), within a yearly budget. No published
    figure gives any of these (facts.md has staff figures only for the hotline's operators), so
    every one is an assumption to sweep."""

    following: bool = P(False, article="Art. 5",
                        doc="Governments re-staff units for the work that arrives (model/staffing.py); off: staff stay "
                            "as set up (only districts' budget-neutral rebalancing of townships moves them). Off by "
                            "default so one-year rule comparisons keep their staffing fixed; the history replay and "
                            "the forecast turn it on.")
    target_ratio: float = P(1.4, gt=0.1, hi=5.0, unit="planned order hours / demanded hours",
                            doc="Staff hours for order work (the set-up's effort_resolve share of staff time) the "
                                "governments plan per hour of work that arrives (demanded hours of orders received and "
                                "cooperation hours on orders others lead): slack for queueing, explanation and re-work. "
                                "Assumption, set for consistency, not fitted: final_2021's set-up staffing "
                                "(world.capacity.ratio 1.15 of the catalogue's expected hours) is then in balance with "
                                "the work that arrives in its first months (capacity-weighted load 0.95-0.99).")
    load_memory: float = P(0.6, lo=0.0, hi=0.99, unit="weight of the past month",
                           doc="Governments judge a unit's load by demanded hours smoothed with this memory (assumption).")
    backlog_months: float = P(3.0, lo=0.0, hi=36.0, unit="months",
                              doc="Governments count a unit's overdue work still open at month end (hours left on "
                                  "orders past their deadline) as load to clear within this many months, beside the "
                                  "work that arrives: an overdue backlog is on every monthly assessment (Art. 28, 32), "
                                  "so a unit that carries one is staffed for it. 0: arrivals alone (assumption).")
    sustain_months: int = P(3, lo=1, hi=24, unit="months",
                            doc="Months in a row a unit's load must stay outside the tolerance band before its "
                                "government acts: a short spike moves no staff (assumption).")
    over_band: float = P(0.1, lo=0.0, hi=2.0, unit="share above the planned load",
                         doc="Load above 1 + over_band (relative to target_ratio) counts as overload (assumption).")
    slack_band: float = P(0.2, lo=0.0, hi=0.95, unit="share below the planned load",
                          doc="Load below 1 - slack_band counts as slack; wider than over_band because posts are "
                              "withdrawn more reluctantly than added (assumption).")
    peak_memory_months: int = P(12, lo=1, hi=36, unit="months",
                                doc="Posts are withdrawn only for the peak of the unit's sustained load over the last "
                                    "this many months (this one included): a government keeps the staff its units needed "
                                    "in the past year's busiest season, so a seasonal lull (the utilities' summer, say) "
                                    "does not cut the staff the next heating season needs. 1: withdrawals follow this "
                                    "month's load alone. Assumption (no published figure): hotline posts are staffed "
                                    "for the year, not the month.")
    adjust_share: float = P(0.5, lo=0.0, hi=1.0, unit="share of the staffing gap per decision",
                            doc="Share of the gap between staff and the sustained load a government closes each "
                                "month it acts (partial adjustment; assumption).")
    lag_months: int = P(3, lo=0, hi=24, unit="months",
                        doc="Months from a staffing decision to the staff being in post (recruiting, reassigning; "
                            "assumption).")
    budget_growth: float = P(0.5, lo=0.0, hi=5.0, unit="share of staff per calendar year",
                             doc="Net staff a government (each district; the city for municipal departments and "
                                 "enterprises) may add in a calendar year, as a share of its staff on 1 January (or of "
                                 "its establishment, if larger). Assumption: the only published staff growth is the "
                                 "hotline's operators, 1,000+ (2019) to 1,400+ (2021), about 18% a year (facts.md).")
    establishment: float = P(1.0, lo=0.0, hi=5.0, unit="x catalogue-expected hours at baseline volume",
                             doc="Posts the governments already hold for the work the dispatch catalogue foresees "
                                 "(world.capacity.ratio 1 at the scenario's baseline volume): staff reassigned into "
                                 "these posts need no new budget, only the lag (assumption; the launch of 2019 staffs "
                                 "up this way).")
    remedial_staff_share: float = P(0.1, lo=0.0, hi=2.0, unit="share of the unit's staff", article="Art. 5, 24",
                                    doc="Lasting staff a district adds to a township designated remedial (治理类), after "
                                        "the lag and within the budget; an overloaded remedial unit is re-staffed "
                                        "without waiting sustain_months (assumption).")


class World(Strict):
    demand: Demand = Demand()
    sources: Sources = Sources()
    triage: Triage = Triage()
    hotline: Hotline = Hotline()
    handling: Handling = Handling()
    capacity: Capacity = Capacity()
    citizens: Citizens = Citizens()
    linkage: Linkage = Linkage()
    district: District = District()
    behaviour: Behaviour = Behaviour()
    survey: Survey = Survey()
    staffing: Staffing = Staffing()


# ---------------------------------------------------------------------------- rules
class Dispatch(Strict):
    catalogue_accuracy: float = P(0.9, lo=0.0, hi=1.0, unit="probability", article="Art. 11(2), 12(2)",
                                  doc="Share of orders the catalogue sends to the right unit.")
    catalogue_learning: float = P(0.2, lo=0.0, hi=1.0, unit="probability per accepted legitimate objection",
                                  article="Art. 11(2)",
                                  doc="Dynamic adjustment (动态调整): chance the hotline corrects the catalogue's category x "
                                      "township cell after an accepted legitimate objection on an order of that cell.")
    district_fallback: float = P(0.03, lo=0.0, hi=1.0, unit="share", article="Art. 12(1)2",
                                 doc="Orders whose unit is unclear go to the district government.")
    copy_to_district: bool = P(True, article="Art. 12(1)1", doc="Orders to a township are also sent to its district.")
    preconsult_hard: bool = P(True, article="Art. 12(2)", doc="Pre-dispatch consultation for hard requests.")
    preconsult_accuracy: float = P(0.98, lo=0.0, hi=1.0, unit="probability", article="Art. 12(2)")
    preconsult_delay_days: int = P(1, lo=0, hi=10, unit="days", article="Art. 12(2)")
    objection_review: bool = P(True, article="Art. 12(3)", doc="Objections are reviewed; without review all are accepted.")
    review_accuracy: float = P(0.8, lo=0.0, hi=1.0, unit="probability", article="Art. 12(3)",
                               doc="Chance the review tells a legitimate objection from buck-passing.")
    objection_delay_days: int = P(1, lo=0, hi=10, unit="days")
    municipal_share: float = P(0.15, lo=0.0, hi=1.0, unit="share of functional orders", article="Art. 11(2)",
                               doc="Functional orders the catalogue sends to the municipal department, not the district one.")
    max_objections: int = P(3, lo=0, hi=20, unit="objections per order", article="Art. 12(3)",
                            doc="After this many objections an order stays with the unit it reached (no endless loops).")


class Deadlines(Strict):
    tier_days: list[int] = P([0, 1, 7, 15], unit="days (2 h, 24 h, 7 d, 15 d)", article="Art. 13",
                             source="facts.md: four-level deadlines (2020 municipal opinion)")
    response_days: list[int] = P([0, 0, 1, 1], unit="days to first contact by tier", article="Art. 15(1)")
    extensions: bool = P(True, article="Art. 15(2)", doc="Hard orders may be extended once with an explanation.")
    extension_days: int = P(15, lo=1, hi=90, unit="days", article="Art. 15(2)")


class Weights(Strict):
    response: float = P(0.30, lo=0.0, hi=1.0, article="Art. 32", source="assumption: one other city uses 30/35/35 (facts.md)")
    resolution: float = P(0.35, lo=0.0, hi=1.0, article="Art. 32")
    satisfaction: float = P(0.35, lo=0.0, hi=1.0, article="Art. 32")

    @model_validator(mode="after")
    def _sum_to_one(self):
        s = self.response + self.resolution + self.satisfaction
        if abs(s - 1.0) > 1e-6:
            raise ValueError(f"response + resolution + satisfaction must sum to 1 (got {s:.4g})")
        return self


class Assessment(Strict):
    weights: Weights = Weights()
    resolved_by: Literal["unit_report", "requester", "audit"] = P(
        "requester", article="Art. 23, 32", doc="Who decides 'resolved': the unit's report, the requester at callback, or audit.")
    graded_classified: bool = P(True, article="Art. 32", doc="Rank units within their class (分级分类考评).")
    per_capita_weight: float = P(0.0, lo=0.0, hi=0.5, article="Art. 32",
                                 doc="Weight of requests per 10,000 residents (万人诉求比) in township scores.")
    cooperation_scoring: Literal["none", "equal", "differential"] = P(
        "differential", article="Art. 14; seed (首接、配合单位差别化考评)",
        doc="none: only the lead is scored; equal: cooperating units share the outcome; differential: "
            "cooperating units scored on their own timely contribution.")
    cooperation_weight: float = P(0.3, lo=0.0, hi=1.0, article="seed", doc="Weight of cooperation orders under differential scoring.")
    dual_whistle: bool = P(True, article="Art. 33", doc="Districts score whistling townships and reporting departments (双考核).")
    dual_weight: float = P(0.15, lo=0.0, hi=0.5, article="Art. 33")
    exclude_unreasonable: bool = P(True, article="Art. 32(3); seed (动态调整)", doc="Requests labelled unreasonable leave the score.")
    label_check: float = P(0.3, lo=0.0, hi=1.0, unit="probability", article="Art. 32(3)",
                           doc="Share of unreasonable labels the hotline checks.")
    label_check_catch: float = P(0.9, lo=0.0, hi=1.0, unit="probability", article="Art. 32(3)",
                                 doc="A checked label on a reasonable order is rejected (the hotline catches it).")
    label_check_wrong_reject: float = P(0.05, lo=0.0, hi=1.0, unit="probability", article="Art. 32(3)",
                                        doc="A checked label on a truly unreasonable order is wrongly rejected.")
    commend_share: float = P(0.1, lo=0.0, hi=1.0, unit="share of class", article="Art. 7")
    remedial_share: float = P(0.1, lo=0.0, hi=1.0, unit="share of class", article="Art. 32(3)", doc="治理类 designation.")
    reward: float = P(0.5, lo=0.0, hi=5.0, unit="payoff points", article="Art. 7")
    proactive_credit: float = P(1.0, lo=0.0, hi=5.0, unit="score points per 1% of closed orders' worth of sources removed",
                                article="Art. 32(4)")
    proactive_credit_cap: float = P(0.2, lo=0.0, hi=1.0, unit="sources removed per closed order", article="Art. 32(4)",
                                    doc="Proactive credit counts removals up to this many per closed order.")
    hard_credit: float = P(0.2, lo=0.0, hi=2.0, unit="score points per hard resolution share", article="Art. 32(4)")


class Sanctions(Strict):
    strength: float = P(1.0, lo=0.0, hi=10.0, unit="payoff points", article="Art. 35", doc="Penalty of remedial designation.")
    overdue: float = P(0.5, lo=0.0, hi=10.0, unit="points per overdue share", article="Art. 35(2)")
    buck_passing: float = P(0.5, lo=0.0, hi=10.0, unit="points per rejected objection share", article="Art. 35(3)")
    perfunctory: float = P(0.5, lo=0.0, hi=10.0, unit="points per detected perfunctory closure share", article="Art. 35(3)")
    falsification: float = P(100.0, lo=0.0, hi=1000.0, unit="points per detected false claim per closed order",
                             article="Art. 35(3)",
                             doc="Each false 'resolved' report the audit finds is sanctioned (弄虚作假): the more "
                                 "audited, the more found. 100 keeps the penalty of earlier versions (2 points per "
                                 "detected share of the audited orders) at the 2% audit of 2021.")
    false_label: float = P(2.0, lo=0.0, hi=20.0, unit="points per rejected label per closed order",
                           article="Art. 32(3), 35(3)",
                           doc="A label 'unreasonable' the hotline's check rejects is sanctioned, far more lightly per "
                               "case than a detected false claim (assumption): a rejection is the check's judgement "
                               "against the unit's, not proof of falsification (the check also rejects correct labels, "
                               "label_check_wrong_reject).")
    pressure: float = P(100.0, lo=0.0, hi=1000.0, unit="points per confirmed case per closed order", article="Art. 35(5)",
                        doc="Each confirmed case of pressure on or retaliation against a requester (压制和打击报复) is "
                            "charged as a detected false claim is: Art. 35 lists it (5) beside falsification (3) with "
                            "the same consequence. Equal per case, not per act: requesters report pressure and every "
                            "report is checked, while false claims face only the audit sample, so pressing one "
                            "requester risks far more than one false claim. 2 until 2026-12-07, a value kept from "
                            "before falsification was counted per case (50 times cheaper per case).")
    remedial_support: float = P(0.2, lo=0.0, hi=2.0, unit="share of capacity added", article="Art. 5, 24",
                                doc="Staff the district or city adds to a township designated remedial (治理类), for the next month.")
    error_tolerance: float = P(0.5, lo=0.0, hi=1.0, unit="share of penalty forgiven", article="Art. 36",
                               doc="Penalty forgiven for good-faith failure on hard requests (容错纠错).")


class Audit(Strict):
    sample_share: float = P(0.02, lo=0.0, hi=1.0, unit="share of closed orders", article="Art. 32(2)",
                            doc="Third-party audit sample.")
    detection: float = P(0.8, lo=0.0, hi=1.0, unit="probability", article="Art. 35(3)",
                         doc="Chance an audit detects a falsely closed order.")


class Proactive(Strict):
    topic_of_month: bool = P(True, article="Art. 24", doc="每月一题: the city targets the most frequent shared problems.")
    topics_per_month: int = P(2, lo=0, hi=10, unit="categories", article="Art. 24",
                              source="facts.md: 27 problems in 2021, 2-3 a month")
    campaign_months: int = P(3, lo=1, hi=24, unit="months", article="Art. 24")
    campaign_removal: float = P(0.01, lo=0.0, hi=0.2, unit="share of targeted sources reachable per day", article="Art. 24",
                                doc="At most this share of the targeted stock can be found and removed a day.")
    campaign_cost_hours: float = P(0.5, lo=0.0, hi=100.0, unit="staff hours per source removed",
                                   doc="Staff time the lead line spends per source removed in a campaign.")
    campaign_staff_share: float = P(0.1, lo=0.0, hi=1.0, unit="share of a department's staff time today", article="Art. 24",
                                    doc="Staff time the campaign asks the lead municipal department and the district "
                                        "departments of its line to set aside each day; removal is bounded by these "
                                        "hours (campaign_cost_hours each) and by campaign_removal of the stock present.")
    unit_source_work: bool = P(True, article="Art. 25-26", doc="Units may spend staff time on their own source removal.")


class Whistle(Strict):
    enabled: bool = P(True, article="Art. 16", doc="Townships can summon district departments (街乡吹哨、部门报到).")
    escalation_days: int = P(5, lo=1, hi=60, unit="days", article="Art. 20",
                             doc="An order refused cooperation this long is escalated to the district government.")
    hard_escalation_days: int = P(20, lo=1, hi=120, unit="days", article="Art. 20, 24",
                                  doc="A hard request still unfinished this long after receipt goes up to the district.")


class HotlineRules(Strict):
    """What the hotline centre does about malicious callers, diversion complaints and pressure reports."""

    malicious_handling: Literal["none", "warn", "restrict"] = P(
        "warn", article="Art. 9(3), 37",
        doc="none: malicious calls go through ordinary triage; warn: recognised ones are dissuaded and warned "
            "(劝阻、批评、教育, diverted as Art. 11(2)6); restrict: as warn, and a caller warned restrict_after times "
            "has every further call diverted at once.")
    restrict_after: int = P(3, lo=1, hi=100, unit="warnings", article="Art. 37")
    complaint_review: float = P(0.8, lo=0.0, hi=1.0, unit="probability", article="Art. 11(2)",
                                doc="Share of complaints about a diversion the hotline reviews (re-triaged without error).")
    pressure_check: float = P(1.0, lo=0.0, hi=1.0, unit="share of reports", article="Art. 35(5)",
                              doc="Share of reports of pressure or retaliation the hotline checks.")
    unreached_callback: Literal["excluded", "counted_unresolved"] = P(
        "excluded", article="Art. 23, 32",
        doc="An order whose requester could not be reached at callback: excluded from the three rates (no rating "
            "was given), or counted as unresolved and not satisfied.")


class Rules(Strict):
    hotline: HotlineRules = HotlineRules()
    dispatch: Dispatch = Dispatch()
    deadlines: Deadlines = Deadlines()
    assessment: Assessment = Assessment()
    sanctions: Sanctions = Sanctions()
    audit: Audit = Audit()
    proactive: Proactive = Proactive()
    whistle: Whistle = Whistle()


class TimelineEntry(Strict):
    """A rule change at a month of the run (history replay): ``overrides`` are dotted keys."""

    month: int = P(0, lo=0, hi=240, unit="months from the start")
    label: str = ""
    overrides: dict[str, Any] = {}
    phase_in_months: int = P(1, lo=1, hi=60, unit="months",
                             doc="Decimal-valued overrides move in equal monthly steps from their value at `month` to "
                                 "the new value, reaching it after this many months (1 = at once); others change at once.")


class Config(Strict):
    """A fully resolved scenario."""

    name: str = "unnamed"
    description: str = ""
    city: City = City()
    world: World = World()
    rules: Rules = Rules()
    timeline: list[TimelineEntry] = []

    @model_validator(mode="after")
    def _groups_fit(self):
        a = self.rules.assessment
        if a.commend_share + a.remedial_share > 1.0:
            raise ValueError(f"rules.assessment.remedial_share: commend_share + remedial_share must not exceed 1, the "
                             f"class they rank (got {a.commend_share} + {a.remedial_share})")
        d = self.rules.deadlines
        if len(d.tier_days) != 4 or len(d.response_days) != 4:
            raise ValueError("rules.deadlines.tier_days and response_days must have 4 entries (2 h, 24 h, 7 d, 15 d)")
        if any(x < 0 for x in d.tier_days + d.response_days):
            raise ValueError("rules.deadlines days must be >= 0")
        m = self.world.demand.request_type_mix
        if len(m) != 4 or any(x < 0 for x in m) or abs(sum(m) - 1) > 1e-6:
            raise ValueError("world.demand.request_type_mix must be 4 non-negative shares summing to 1")
        t = self.world.citizens.divert_trust
        if len(t) != 3 or any(not 0 <= x <= 1 for x in t):
            raise ValueError("world.citizens.divert_trust must be 3 values in 0-1 (answered, told, refused)")
        return self
