"""Generate docs/rules.md and scenarios/README.md from the schema and the scenario files.

    python -m experiments.rules_table            # writes both files
    python -m experiments.rules_table --check    # exit 1 if either file is out of date

Both documents are derived, never hand-edited, so they cannot drift from the code:

- ``docs/rules.md``: article of 北京市接诉即办工作条例 -> lever -> config key -> value in every
  scenario, grouped by article. Article, unit and source come from each field's
  ``json_schema_extra`` in model/config.py (the ``P(...)`` helper), the explanation from its
  ``description``.
- ``scenarios/README.md``: what each scenario file is (its header comment) and a table of
  every key whose value differs between any two scenarios.

Each scenario is loaded with :func:`model.load_scenario` (``extends`` resolved) and its
``cfg.model_dump()`` flattened to dotted keys. A scenario with a ``timeline`` (history
replay) is shown with its values at month 0; its dated changes are listed separately.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel

from model.config import Config
from model.scenario import SCENARIO_DIR, load_scenario

ROOT = SCENARIO_DIR.parent
RULES_MD = ROOT / "docs" / "rules.md"
OUTCOMES_MD = ROOT / "docs" / "outcomes.md"
README_MD = SCENARIO_DIR / "README.md"
BASELINE = "final_2021"
SKIP = {"name", "description", "timeline"}

# Scenario column order: the baseline, the two historical texts, then counterfactuals (alphabetical).
FIRST = ["final_2021", "second_draft_2021", "reform_2019", "history_2019_2021"]

# What each article of the regulation is about (short English gist, Chinese key phrase).
ARTICLES = {
    2: "scope: request types (咨询、求助、投诉、举报、建议); 12345 as the main channel",
    5: "duties of city, districts, hotline centre, townships and departments (投入保障)",
    6: "society and media; reasonable public expectations (合理预期)",
    7: "commendation and rewards (表彰、奖励)",
    8: "requesters' rights: channels, follow-up, rating",
    9: "requesters' duties: truthful requests, objective rating, no malicious calls",
    10: "recording every request (记录, 形成诉求工单); the hotline centre's operators answer the calls",
    11: "intake and triage: consultations answered at once, dispatch catalogue (派单目录), diversion",
    12: "dispatch: direct and double dispatch (直派、双派), district fallback, pre-dispatch consultation (会商), "
        "objection review (派单异议审核)",
    13: "deadlines on every order (办理时限; four-level response 四级响应)",
    14: "first-receiver responsibility (首接负责制); lead and cooperating units (首接单位、配合单位)",
    15: "handling duties: contact the requester, extensions with explanation, feedback",
    16: "township whistles, departments report (街乡吹哨、部门报到)",
    20: "escalation of hard requests to district or city (报请协调)",
    21: "Beijing-Tianjin-Hebei hotline linkage (京津冀热线联动)",
    22: "central units in Beijing (在京单位协调联动)",
    23: "callback after the deadline (回访)",
    24: "comprehensive analysis and scheduling; focused governance, topic of the month (每月一题)",
    25: "units' proactive governance (主动发现问题、解决问题; 源头治理)",
    26: "townships' proactive governance (网格化、民主协商)",
    32: "assessment (考评): three rates 三率, graded and classified 分级分类考评, third party, "
        "dynamic adjustment 动态调整, incentives for proactive and hard work (考评激励)",
    33: "dual assessment of whistling townships and reporting departments (双考核)",
    35: "sanctions (责令改正、处分): overdue, buck-passing 推诿, perfunctory 敷衍, falsification 弄虚作假, "
        "pressure on or retaliation against requesters (压制和打击报复)",
    36: "error tolerance (容错纠错)",
    37: "requesters who break the rules (e.g. malicious calls) are dissuaded, criticised, educated (劝阻、批评、教育)",
}

# Short names of the main levers, English with the Chinese term (MECHANISMS.md, terms table).
LEVERS = {
    "rules.assessment.weights.response": "weight of response rate 响应率 (三率)",
    "rules.assessment.weights.resolution": "weight of resolution rate 解决率 (三率)",
    "rules.assessment.weights.satisfaction": "weight of satisfaction rate 满意率 (三率)",
    "rules.assessment.resolved_by": "who decides 'resolved' (回访 / 第三方评估)",
    "rules.assessment.graded_classified": "graded and classified assessment 分级分类考评",
    "rules.assessment.per_capita_weight": "requests per 10,000 residents 万人诉求比",
    "rules.assessment.cooperation_scoring": "lead/cooperating differential assessment 首接/配合单位差别化考评",
    "rules.assessment.cooperation_weight": "weight of cooperation orders (差别化考评)",
    "rules.assessment.dual_whistle": "dual assessment 双考核 (吹哨街乡、报到部门)",
    "rules.assessment.dual_weight": "weight of dual assessment (双考核)",
    "rules.assessment.exclude_unreasonable": "dynamic adjustment of scope 动态调整 (exclude unreasonable requests)",
    "rules.assessment.label_check": "check of 'unreasonable' labels (动态调整)",
    "rules.assessment.commend_share": "commended share 表彰",
    "rules.assessment.remedial_share": "remedial designation 治理类街乡",
    "rules.assessment.reward": "reward for commendation 表彰奖励",
    "rules.assessment.proactive_credit": "credit for proactive governance 主动治理考评激励",
    "rules.assessment.hard_credit": "credit for hard requests 疑难复杂诉求考评激励",
    "rules.sanctions.strength": "penalty of remedial designation (治理类)",
    "rules.sanctions.overdue": "sanction: overdue 逾期",
    "rules.sanctions.buck_passing": "sanction: buck-passing 推诿",
    "rules.sanctions.perfunctory": "sanction: perfunctory work 敷衍",
    "rules.sanctions.falsification": "sanction: falsification 弄虚作假",
    "rules.sanctions.remedial_support": "support for remedial townships (治理类街乡帮扶)",
    "rules.sanctions.error_tolerance": "error tolerance 容错纠错",
    "rules.audit.sample_share": "third-party audit sample 第三方评估",
    "rules.audit.detection": "audit detection of false closures",
    "rules.proactive.topic_of_month": "topic of the month 每月一题",
    "rules.proactive.topics_per_month": "topics per month (每月一题)",
    "rules.proactive.campaign_months": "campaign length (每月一题)",
    "rules.proactive.campaign_removal": "campaign source removal (每月一题)",
    "rules.proactive.unit_source_work": "units' own source governance 主动治理 / 未诉先办",
    "rules.whistle.enabled": "township whistle 吹哨报到 (街乡吹哨、部门报到)",
    "rules.whistle.escalation_days": "escalation after (报请协调)",
    "rules.whistle.hard_escalation_days": "hard request escalated after (提级协调)",
    "rules.proactive.campaign_staff_share": "campaign staff time set aside (每月一题)",
    "rules.dispatch.catalogue_accuracy": "dispatch catalogue accuracy 派单目录",
    "rules.dispatch.catalogue_learning": "catalogue adjustment 派单目录动态调整",
    "rules.dispatch.district_fallback": "unit unclear: to the district 派单至区政府",
    "rules.dispatch.copy_to_district": "double dispatch 双派 (copy to district)",
    "rules.dispatch.preconsult_hard": "pre-dispatch consultation 派单前会商",
    "rules.dispatch.objection_review": "dispatch objection review 派单异议审核",
    "rules.dispatch.review_accuracy": "objection review accuracy 派单异议审核",
    "rules.dispatch.municipal_share": "share to municipal departments (市级部门)",
    "rules.deadlines.tier_days": "four-level deadlines 四级响应 / 办理时限",
    "rules.deadlines.response_days": "first contact 响应 by tier",
    "rules.deadlines.extensions": "extensions 延期 with explanation",
    "rules.deadlines.extension_days": "length of extension 延期",
    "world.demand.consultation_share": "consultations 咨询 share",
    "world.demand.consultation_answered_directly": "consultations answered at once 即时答复",
    "world.demand.request_type_mix": "request types 求助/投诉/举报/建议",
    "world.demand.unreasonable_share": "unreasonable requests 不合理诉求",
    "world.triage.detect_unreasonable": "operator diverts unreasonable requests (分类处理)",
    "world.triage.repeat_divert": "repeat with no new facts told progress (重复诉求)",
    "world.triage.detect_by_matter": "operator recognises emergency/legal/secret/unlawful matters (分类处理)",
    "world.hotline.operators": "hotline operators 话务员 (answering capacity)",
    "rules.hotline.malicious_handling": "malicious callers warned or restricted (恶意反复拨打, 劝阻、批评、教育)",
    "rules.hotline.complaint_review": "complaints about a diversion reviewed",
    "rules.hotline.pressure_check": "reports of pressure on requesters checked (压制和打击报复)",
    "rules.hotline.unreached_callback": "unreached callback: excluded or counted unresolved (回访未联系上)",
    "rules.sanctions.pressure": "sanction for pressure on requesters (打击报复)",
    "world.behaviour.p_whistle": "townships whistle 吹哨",
    "world.behaviour.p_answer_whistle": "departments report 报到 (before weighing the assessment)",
    "world.behaviour.p_object_misrouted": "objection to misrouted order 派单异议",
    "world.behaviour.p_object_bucketpass": "buck-passing objection 推诿",
    "world.behaviour.p_cooperate_unscored": "cooperating unit contributes (before weighing the assessment) 配合单位",
    "world.citizens.honesty": "honest rating 客观评价",
    "world.linkage.jingjinji_delay_days": "Jing-Jin-Ji linkage delay 京津冀联动",
    "world.linkage.central_delay_days": "central units channel delay 在京单位",
    "world.linkage.central_success": "central units act 在京单位",
}


# ------------------------------------------------------------------ schema metadata
def field_info(dotted: str):
    """The pydantic FieldInfo of a dotted key of :class:`Config` (None if not a field)."""
    model: type[BaseModel] = Config
    info = None
    for part in dotted.split("."):
        if model is None or part not in model.model_fields:
            return None
        info = model.model_fields[part]
        ann = info.annotation
        model = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
    return info


def meta(dotted: str) -> dict:
    """Article, unit, source, description and range of a scenario key."""
    info = field_info(dotted)
    if info is None:
        return {"article": "", "unit": "", "source": "", "doc": "", "range": ""}
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    lo = hi = None
    for m in info.metadata:
        lo = getattr(m, "ge", None) if getattr(m, "ge", None) is not None else lo
        lo = f">{m.gt}" if getattr(m, "gt", None) is not None else lo
        hi = getattr(m, "le", None) if getattr(m, "le", None) is not None else hi
    ann = info.annotation
    if get_origin(ann) is not None and get_args(ann) and all(isinstance(a, str) for a in get_args(ann)):
        rng = " / ".join(get_args(ann))
    elif ann is bool:
        rng = "on / off"
    elif lo is not None or hi is not None:
        rng = f"{lo if lo is not None else ''} .. {hi if hi is not None else ''}".strip()
    else:
        rng = ""
    return {"article": extra.get("article", ""), "unit": extra.get("unit", ""),
            "source": extra.get("source", ""), "doc": info.description or "", "range": rng}


def articles_of(citation: str) -> list[int]:
    """Article numbers cited: 'Art. 32(3); seed' -> [32]; 'Art. 9, 11' -> [9, 11]; 'Art. 25-26' -> [25, 26]."""
    out: list[int] = []
    for chunk in re.findall(r"Art\.\s*([0-9][0-9()\s,\-–]*)", citation):
        # article, paragraphs "(2)", items right after a paragraph "3,5" (not articles), range "-26"
        for m in re.finditer(r"(\d+)((?:\([^)]*\))*)(?:(?<=\))\d+(?:,\d+)*)?(?:\s*[-–]\s*(\d+))?", chunk):
            a = int(m.group(1))
            b = int(m.group(3)) if m.group(3) else a
            out.extend(n for n in range(a, b + 1) if n not in out)
    return out


# ------------------------------------------------------------------ scenarios
def flatten(d: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def header_comment(path: Path) -> list[str]:
    """The comment lines at the top of a scenario file, without the '# '."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line[1:].strip())
    return lines


def load_all(scenario_dir: Path = SCENARIO_DIR) -> dict[str, dict]:
    """name -> {path, cfg, flat, header, extends} for every scenarios/*.toml, in display order."""
    import tomllib

    found = {}
    for path in sorted(scenario_dir.glob("*.toml")):
        cfg = load_scenario(path)
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
        found[cfg.name] = {"path": path, "cfg": cfg, "flat": flatten(cfg.model_dump(mode="json")),
                           "header": header_comment(path), "extends": raw.get("extends", "")}
    order = [n for n in FIRST if n in found] + sorted(n for n in found if n not in FIRST)
    return {n: found[n] for n in order}


def fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, list):
        return "[" + ", ".join(fmt(x) for x in v) + "]"
    if isinstance(v, str):
        return v
    return str(v)


def differing_keys(scen: dict[str, dict]) -> list[str]:
    keys = sorted({k for s in scen.values() for k in s["flat"]} - SKIP)
    return [k for k in keys if len({repr(s["flat"].get(k)) for s in scen.values()}) > 1]


def _cell(scen: dict, name: str, key: str) -> str:
    v = scen[name]["flat"].get(key)
    base = scen[BASELINE]["flat"].get(key) if BASELINE in scen else v
    txt = fmt(v)
    return f"**{txt}**" if name != BASELINE and v != base else txt


# ------------------------------------------------------------------ documents
GENERATED = "<!-- generated by `python -m experiments.rules_table`; do not edit by hand -->"


def scenarios_readme(scen: dict[str, dict]) -> str:
    names = list(scen)
    out = [GENERATED, "", "# Scenarios (情景)", "",
           "Each file fills the scenario schema (model/config.py); `extends` names the file it starts from, "
           "and a file overrides only the keys its scenario is about, so changes to the baseline flow into "
           "every arm. Validate them with `jiesu validate scenarios/*.toml`; compare any of them on common "
           "random numbers with `jiesu compare A.toml B.toml ... --replicates N`. The article of each lever, "
           "and its value in every scenario, is in [docs/rules.md](../docs/rules.md). The paired comparison "
           "of `final_2021` against every counterfactual (10 replicates, scale 0.05, with and without units "
           "weighing the assessment) is in [docs/comparisons.md](../docs/comparisons.md); regenerate it with "
           "`python experiments/studies/comparisons/run.py` after a model change.", "",
           "| scenario | extends | what it is |", "|---|---|---|"]
    for n in names:
        s = scen[n]
        ext = f"`{s['extends']}`" if s["extends"] else "(schema defaults)"
        out.append(f"| [`{s['path'].name}`]({s['path'].name}) | {ext} | {s['cfg'].description} |")
    out += ["", "## What differs between the scenarios", "",
            f"Every key whose value is not the same in all scenarios. **Bold**: differs from `{BASELINE}`. "
            "Values are those at the start of the run; dated changes (`timeline`) are listed below the table.", ""]
    keys = differing_keys(scen)
    out.append("| key | article | " + " | ".join(names) + " |")
    out.append("|---|---|" + "---|" * len(names))
    for k in keys:
        out.append(f"| `{k}` | {meta(k)['article'] or '–'} | " + " | ".join(_cell(scen, n, k) for n in names) + " |")
    for n in names:
        tl = scen[n]["cfg"].timeline
        if tl:
            out += ["", f"### `{n}`: dated changes (timeline)", "", "| month | change | overrides |", "|---|---|---|"]
            for e in tl:
                ov = ", ".join(f"`{k}` = {fmt(v)}" for k, v in e.overrides.items())
                out.append(f"| {e.month} | {e.label} | {ov} |")
    out += ["", "## Header of each file", "",
            "Each file's header says what it changes (`changes:` lines, checked by "
            "tests/test_scenario_files.py against the resolved values) and which articles.", ""]
    for n in names:
        out += [f"### `{scen[n]['path'].name}`", "", "```"] + scen[n]["header"] + ["```", ""]
    return "\n".join(out).rstrip() + "\n"


def rules_doc(scen: dict[str, dict]) -> str:
    names = list(scen)
    keys = [k for k in next(iter(scen.values()))["flat"] if k not in SKIP]
    by_art: dict[int, list[str]] = {}
    seed_only: list[str] = []
    no_article: list[str] = []
    for k in keys:
        arts = articles_of(meta(k)["article"])
        if arts:
            by_art.setdefault(arts[0], []).append(k)
        elif meta(k)["article"]:
            seed_only.append(k)
        elif k.startswith("rules."):
            no_article.append(k)
    index: dict[int, list[str]] = {}
    for k in keys:
        for a in articles_of(meta(k)["article"]):
            index.setdefault(a, []).append(k)

    cols = " | ".join(names)
    head = f"| article | lever | config key | unit / range | {cols} |"
    sep = "|---|---|---|---|" + "---|" * len(names)

    def row(k: str) -> str:
        m = meta(k)
        lever = LEVERS.get(k, k.rsplit(".", 1)[1].replace("_", " "))
        unit = " ".join(x for x in (m["unit"], f"[{m['range']}]" if m["range"] else "") if x)
        return (f"| {m['article'] or '–'} | {lever} | `{k}` | {unit or '–'} | "
                + " | ".join(_cell(scen, n, k) for n in names) + " |")

    def notes(ks: list[str]) -> list[str]:
        out = []
        for k in ks:
            m = meta(k)
            bits = [m["doc"]] if m["doc"] else []
            if m["source"] and m["source"] != "assumption":
                bits.append(f"Source: {m['source']}.")
            elif m["source"] == "assumption" and "on / off" not in m["range"] and " / " not in m["range"]:
                bits.append("Value: assumption (sweep it).")   # switches and choices are rules, not guesses
            if bits:
                out.append(f"- `{k}`: " + " ".join(bits))
        return out

    out = [GENERATED, "", "# Rules: article → lever → config key → value in each scenario", "",
           "Every lever of the model traced to the article of 北京市接诉即办工作条例 (adopted 2021-09-24; "
           "`reference/regulation-2021.zh.md`) it implements, and to the seed article on the second-review "
           "draft (\"seed\"). Article, unit, range and source come from the schema (model/config.py, the "
           "`P(...)` declarations); values from the scenario files in scenarios/ (`extends` resolved). "
           f"**Bold**: differs from `{BASELINE}`. `history_2019_2021` is shown at month 0 (its dated changes "
           "are in [scenarios/README.md](../scenarios/README.md)).", "",
           "Values marked *assumption* under each table have no published source: sweep them "
           "(`jiesu sweep`, `jiesu sensitivity`) and name them as assumptions in any report.", "",
           "## Index: article → config keys", "", "| article | about | config keys |", "|---|---|---|"]
    for a in sorted(index):
        out.append(f"| Art. {a} | {ARTICLES.get(a, '')} | " + ", ".join(f"`{k}`" for k in index[a]) + " |")
    if seed_only:
        out.append("| seed only | " + "levers the seed names without an article of the final text | "
                   + ", ".join(f"`{k}`" for k in seed_only) + " |")
    out.append("")
    for a in sorted(by_art):
        out += [f"## Art. {a} — {ARTICLES.get(a, '')}", "", head, sep] + [row(k) for k in by_art[a]]
        out += [""] + notes(by_art[a]) + [""]
    if seed_only:
        out += ["## Seed only", "", head, sep] + [row(k) for k in seed_only] + [""] + notes(seed_only) + [""]
    if no_article:
        out += ["## Rules without an article (implementation choices)", "", head, sep] + [row(k) for k in no_article]
        out += [""] + notes(no_article) + [""]
    return "\n".join(out).rstrip() + "\n"


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def outcomes_doc() -> str:
    """docs/outcomes.md: every figure the model reports, from the outcome registry (model/outcomes.py)."""
    from model.outcomes import DAILY, SUMMARY

    out = [GENERATED, "", "# Outcomes (结果指标)", "",
           "Every figure a run reports, from the outcome registry `model/outcomes.py` (which `summary.json`, "
           "`jiesu compare`, sweeps, the EMA adapter and the app read). *measured*: what the assessment sees; "
           "*true*: what really happened, never seen by the assessment. Aggregation: how daily values combine "
           "over a month or a run.", ""]
    for title, reg in (("summary.json (one run)", SUMMARY), ("daily.parquet (one row a day)", DAILY)):
        out += [f"## {title}", "", "| name | label | 中文 | unit | nature | aggregation | description |",
                "|---|---|---|---|---|---|---|"]
        out += [f"| `{o.name}` | {o.en} | {o.zh} | {o.unit} | {o.nature} | {o.agg} | {o.description} |" for o in reg.values()]
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m experiments.rules_table", description=__doc__.split("\n")[0])
    p.add_argument("--check", action="store_true", help="exit 1 if docs/rules.md or scenarios/README.md is out of date")
    args = p.parse_args(argv)
    scen = load_all()
    docs = {RULES_MD: rules_doc(scen), README_MD: scenarios_readme(scen), OUTCOMES_MD: outcomes_doc()}
    if args.check:
        stale = [str(f.relative_to(ROOT)) for f, t in docs.items() if not f.exists() or f.read_text(encoding="utf-8") != t]
        if stale:
            print("out of date: " + ", ".join(stale) + " (run python -m experiments.rules_table)", file=sys.stderr)
            return 1
        return 0
    for f, t in docs.items():
        write_atomic(f, t)
        print(f"wrote {f.relative_to(ROOT)} ({len(scen)} scenarios)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
