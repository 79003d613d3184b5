"""From stored runs to the report's content: the template context, ``report.html`` and
``differences.csv`` (the paired-difference table the HTML shows, one row per arm x outcome)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

from model.outcomes import SUMMARY

from . import analysis as an
from . import figures
from .posterior import describe
from .render import render, write_atomic
from .runs import OUTCOMES, TIME

ZH_DIGITS = "零一二三四五六七八九"


def zh_number(n: int) -> str:
    """1..99 in Chinese numerals (第十四条)."""
    tens, ones = divmod(n, 10)
    return (("" if tens == 1 else ZH_DIGITS[tens]) + "十" if tens else "") + (ZH_DIGITS[ones] if ones else "")


def both(zh: str, en: str) -> dict:
    return {"zh": zh, "en": en}


def _label(key: str) -> dict:
    o = SUMMARY[key]
    return both(o.zh, o.en)


def _unit(key: str) -> str:
    return "pts" if key in an.POINTS else SUMMARY[key].unit


def outcome_rows(table: pd.DataFrame, base: str, arm: str) -> list[dict]:
    t = table[table["scenario"] == arm].set_index("outcome")
    b = table[table["scenario"] == base].set_index("outcome")
    rows = []
    for k in OUTCOMES:
        r = t.loc[k]
        diff, ci = an.fmt_diff(k, r["diff"], r["ci_low"], r["ci_high"])
        rows.append({"key": k, "label": _label(k), "unit": "(%)" if k in an.POINTS else f"({SUMMARY[k].unit})",
                     "base": an.fmt_value(k, b.loc[k, "mean"]), "arm": an.fmt_value(k, r["mean"]),
                     "diff": diff, "ci": ci,
                     "diff_raw": repr(float(r["diff"])), "ci_low_raw": repr(float(r["ci_low"])),
                     "ci_high_raw": repr(float(r["ci_high"])),
                     "holds": f"{int(r['sign_holds'])}/{int(r['sets'])}", "verdict": r["verdict"]})
    return rows


def article_sections(plan) -> list[dict]:
    base = plan.arms[0][2]
    out = []
    for label, path, cfg in plan.arms[1:]:
        groups = an.by_article(an.config_diff(base, cfg))
        for g in groups:
            g["number_zh"] = zh_number(g["number"]) if g["number"] else ""
        out.append({"arm": label, "file": path, "groups": groups})
    return out


def setup_text(plan, where: str, seconds: float, ran: int, cpu: float) -> dict:
    n_pairs = plan.ensemble * plan.replicates
    arms = ", ".join(a[0] for a in plan.arms[1:])
    base = plan.arms[0][0]
    if plan.state:
        m = plan.state_meta
        city = m["config_in_force"]["city"]
        from model.calendar import calendar_month, calendar_year, month_of

        mo = month_of(m["day"])
        y, cm = calendar_year(mo, city["start_month"], city["start_year"]), calendar_month(mo, city["start_month"])
        start_en = (f"from the state {plan.state} (day {m['day']} of {m['scenario']}, seed {m['seed']}: "
                    f"the system as it stood at the start of {y}-{cm:02d})")
        start_zh = f"从状态文件 {plan.state} 出发（{m['scenario']} 第{m['day']}天，种子{m['seed']}：{y}年{cm}月初的系统状态）"
    else:
        start_en, start_zh = "from a fresh start (no state file)", "从初始状态出发（未使用状态文件）"
    en = (f"Arms {arms} against the baseline {base}, each run {start_en} for {plan.days} days at scale {plan.scale}. "
          f"Every arm meets the baseline on common random numbers: {plan.replicates} replicate(s) x {plan.ensemble} "
          f"parameter set(s) from the calibration posterior = {n_pairs} paired runs per arm "
          f"({len(plan.tasks)} runs taking {cpu:.0f} s in all; {ran} run by this command on {where} in {seconds:.0f} s).")
    zh = (f"方案 {arms} 与基准 {base} 比较，每次运行{start_zh}，模拟{plan.days}天，规模{plan.scale}。"
          f"各方案与基准使用相同随机数（同一种子）：{plan.replicates}次重复 × {plan.ensemble}组校准后验参数 = "
          f"每个方案{n_pairs}对配对运行（共{len(plan.tasks)}次运行，合计{cpu:.0f}秒；本次命令运行{ran}次，{where}，{seconds:.0f}秒）。")
    return both(zh, en)


def window_note(plan) -> dict:
    if plan.state:
        return both(f"从状态文件出发的运行在其日表中保留了历史（日表从历史的第0天开始）。"
                    f"本报告的所有结果只计算状态日（第{plan.state_meta['day']}天）之后的{plan.days}天：比率按此区间内办结的工单计算，数量按此区间内派发的工单计算，工时按状态所在月之后各月的单位月表计算，倦怠按此区间的日表计算。",
                    f"A run from a state carries the history in its tables (its daily rows start at day 0 of the history). "
                    f"Every outcome here is computed over the {plan.days} days after the state's day "
                    f"({plan.state_meta['day']}) only: rates over the orders closed in that window, counts over the "
                    f"orders dispatched in it, staff time over the monthly unit rows of the months after the state's "
                    f"month, exhaustion over the window's daily rows.")
    return both(f"结果按整个运行（{plan.days}天）计算，与 jiesu run 的摘要相同。",
                f"Outcomes are over the whole run ({plan.days} days), as in the summary of jiesu run.")


def rule_text() -> dict:
    return both(
        "差值为同一种子、同一参数组下的 方案 − 基准；"
        "95%置信区间为全部（参数组×重复）配对差值上的t区间（与 jiesu compare 相同）。"
        f"“方向一致的参数组”：各参数组内配对差值的均值与总体差值同号的组数。判断：置信区间不含0且至少{an.SIGN_SHARE:.0%}的参数组方向一致"
        f"（至少{an.MIN_SETS}组）为“稳健”；置信区间不含0但方向一致的组少于{an.SIGN_SHARE:.0%}为“取决于假设”；参数组少于{an.MIN_SETS}组时为“未跨参数检验”；"
        f"置信区间含0为“无明显差异”。比率以百分点表示。",
        f"The difference is arm − baseline on the same seed and parameter set; the 95% CI is the t interval over all "
        f"(parameter set x replicate) pairs (as in jiesu compare). 'Sign holds in sets': the parameter sets whose mean "
        f"paired difference has the sign of the overall difference. Verdict: robust = the CI excludes 0 and the sign "
        f"holds in at least {an.SIGN_SHARE:.0%} of the sets (with at least {an.MIN_SETS} sets); depends on assumptions = "
        f"the CI excludes 0 but the sign holds in fewer than {an.SIGN_SHARE:.0%}; not tested across assumptions = fewer "
        f"than {an.MIN_SETS} sets; no clear difference = the CI includes 0. Rates are in percentage points.")


def stored_sensitivity() -> pd.DataFrame | None:
    """Total-order (or Morris mu*) indices of any stored sensitivity run under results/, if one exists."""
    files = sorted(Path("results").glob("*/indices.csv"))
    if not files:
        return None
    ind = pd.concat([pd.read_csv(f).assign(file=str(f)) for f in files], ignore_index=True)
    return ind[ind["index"].isin(["ST", "mu_star"])]


def assumptions(plan, df: pd.DataFrame) -> dict:
    post = plan.posterior
    base = plan.arms[0][0]
    notes = []
    sens = stored_sensitivity()
    if sens is None:
        notes.append(both("仓库中没有已存储的敏感性分析结果"
                          "（jiesu sensitivity experiments/studies/sobol_behaviour/spec.toml 可生成）。"
                          "因此下表列出校准后验约束不足的假设参数（宽度 = 90%后验区间/先验范围，接近1表示数据几乎没有约束），"
                          "以及本报告的参数组之间各结果差值与参数的相关。",
                          "No stored sensitivity analysis was available (jiesu sensitivity "
                          "experiments/studies/sobol_behaviour/spec.toml makes one). Listed instead: the assumption "
                          "parameters the calibration posterior leaves wide (width = 90% posterior interval / prior "
                          "range; near 1 the data say nothing), and, across this report's parameter sets, how the "
                          "differences correlate with them."))
    else:
        top = sens[sens["value"] >= 0.1].sort_values("value", ascending=False)
        listed = "; ".join(f"{r.factor} ({r.outcome}, {r.index} {r.value:.2f})" for r in top.head(8).itertuples())
        notes.append(both(f"已存储的敏感性分析（{', '.join(sorted(set(sens['file'])))}）认为有影响的参数：{listed or '无'}。",
                          f"Stored sensitivity analysis ({', '.join(sorted(set(sens['file'])))}): influential "
                          f"parameters {listed or 'none above 0.1'}."))
    drawn = ", ".join(f"{p.key} ({'90% interval' if p.constrained(post.threshold) else 'prior range'})"
                      for p in post.drawn)
    if post.sample:
        notes.append(both(f"参数组：第0组为模型默认值；其余{plan.ensemble - 1}组为校准接受的样本行"
                          f"（按权重从高到低），保留参数间的相关。来源：{post.source}。",
                          f"Parameter sets: set 0 is the model's defaults; the other {plan.ensemble - 1} are the "
                          f"calibration's accepted rows, highest weight first (the joint sample, correlations kept). "
                          f"Source: {post.source}."))
    else:
        notes.append(both(f"参数组：第0组为校准采用值（后验均值，即模型默认值）；"
                          f"其余{plan.ensemble - 1}组为对各参数90%后验区间的拉丁超立方抽样，"
                          f"数据未约束的参数（宽度≥{post.threshold}）取整个先验范围。各参数独立抽样（只存储了边际分布），因此比联合后验更宽。"
                          f"2019年的初始条件（启动时人员比例、2019年来电量、初始期望）不抽样。来源：{post.source}。",
                          f"Parameter sets: set 0 is the adopted values (posterior means, the model's defaults); the other "
                          f"{plan.ensemble - 1} are a Latin hypercube over each parameter's 90% posterior interval, or its "
                          f"whole prior range where the data do not constrain it (width >= {post.threshold}): {drawn}. The "
                          f"marginals are drawn independently (only they are stored), a box wider than the joint posterior. "
                          f"The launch conditions of 2019 (staffing ratio, 2019 volume, initial expectation) are not drawn. "
                          f"Source: {post.source}."))
    if plan.state:
        notes.append(both("状态文件是用校准采用值生成的：其他参数组只从状态日起生效，历史并未在该参数组下重演。",
                          "The state was made with the adopted values: another parameter set takes effect from the "
                          "state's day only; the history was not re-lived under it."))
    params = [p.key for p in post.drawn]
    infl = []
    for label, _, _ in plan.arms[1:]:
        for k in ("resolution_rate", "true_resolution_rate", "measured_true_gap"):
            top = an.influence(df, base, label, k, params)
            if top:
                infl.append({"arm": label, "label": _label(k), "param": top[0][0], "rho": top[0][1]})
    levers = []
    for label, _, cfg in plan.arms[1:]:
        for row in an.config_diff(plan.arms[0][2], cfg):
            numeric = isinstance(row["arm"], (int, float)) and not isinstance(row["arm"], bool)
            if numeric and str(row["source"]).startswith("assumption"):
                levers.append({**row, "arm_name": label})
    return {"notes": notes, "posterior": describe(post), "influence": infl, "levers": levers,
            "levers_title": both("方案改变的、数值为假设（无公开来源）的杠杆",
                                 "Levers the arms change whose magnitude is an assumption (no published source)")}


def provenance(plan, args, where: str) -> list[tuple[str, str]]:
    from model import config_hash

    env = plan.manifest["environment"]
    stored = plan.out / "manifest.json"           # the environment the runs were made in
    first = json.loads(stored.read_text())["environment"] if stored.exists() else env

    def commit(e):
        return f"{e['git_commit']}" + (" (model/ had uncommitted changes)" if e.get("model_dirty") else "")

    rows = [("jiesu", str(env["packages"].get("jiesu"))), ("git commit (runs)", f"{commit(first)}, {first['created']}"),
            ("git commit (this report)", f"{commit(env)}, {env['created']}"),
            ("packages", ", ".join(f"{k} {v}" for k, v in env["packages"].items() if v and k != "jiesu"))]
    rows += [(f"config {label}", f"{path} · hash {config_hash(cfg)}") for label, path, cfg in plan.arms]
    rows += [("root seed", str(plan.seed)),
             ("seeds (set, replicate)", ", ".join(f"({t.set},{t.replicate}) {t.seed}" for t in plan.tasks
                                                  if t.arm == plan.arms[0][0]))]
    if plan.state:
        m = plan.state_meta
        rows += [("state file", f"{plan.state} · sha256 {plan.state_sha[:16]} · day {m['day']} · seed {m['seed']} · "
                                f"{m['scenario']} (config {m['config_hash']}) · model {m['model_version']}")]
    sha = hashlib.sha256(Path(plan.posterior.path).read_bytes()).hexdigest()[:16]
    rows += [("posterior", f"{plan.posterior.path} · sha256 {sha}"), ("executor", where),
             ("runs", f"{plan.out / 'runs'} (plan {plan.manifest['plan_hash']})")]
    return rows


def context(plan, df: pd.DataFrame, table: pd.DataFrame, args, where: str, seconds: float, ran: int) -> dict:
    base = plan.arms[0][0]
    labels = [a[0] for a in plan.arms]
    names, names_zh = _district_names()
    figs = [
        {"key": "fig_series", "src": figures.series_figure(df, labels),
         "caption": both("实线：考核解决率；虚线：真实解决率；所有运行的均值。",
                         "Solid: measured resolution; dashed: true; mean of all runs.")},
        {"key": "fig_time", "src": figures.time_figure(df, labels, TIME),
         "caption": both("各类活动占工时的比例（计算区间内，所有运行的均值）。",
                         "Share of staff hours in each activity (window, mean of all runs).")},
        {"key": "fig_scores", "src": figures.scores_figure(df, labels),
         "caption": both("最后一个月各街乡的考评得分（所有运行合并）；红色为被评为治理类的街乡，虚线为其中的最高分。",
                         "Township scores in the last month (all runs pooled); red: designated remedial (治理类); "
                         "dashed: the highest remedial score.")},
        {"key": "fig_tiles", "src": figures.tiles_figure(df, base, labels, names, names_zh),
         "caption": both("各区真实解决率的配对差值（方案 − 基准，百分点，所有配对的均值）。",
                         "Paired difference in true resolution by district (arm − baseline, points, mean of all pairs).")},
    ]
    summ = {lang: an.summary_sentences(table, base, lang) for lang in ("zh", "en")}
    return {"setup": {"baseline": base, "arms": labels[1:], "text": setup_text(plan, where, seconds, ran,
                                                                                float(df["elapsed_s"].sum()))},
            "provenance_short": f"{plan.manifest['environment']['created']} · plan {plan.manifest['plan_hash']}",
            "summary": summ, "window_note": window_note(plan), "article_sections": article_sections(plan),
            "outcome_note": both("比率以百分点计（差值为百分点）；数量为模拟规模下的数量。",
                                 "Rates in % (differences in percentage points); counts at the simulated scale."),
            "outcome_tables": [{"arm": a, "rows": outcome_rows(table, base, a)} for a in labels[1:]],
            "verdicts": {k: both(zh, en) for k, (en, zh) in an.VERDICTS.items()}, "rule": rule_text(),
            "figures": figs, "assumptions": assumptions(plan, df), "provenance": provenance(plan, args, where),
            "command": _command(plan, args)}


def _command(plan, args) -> str:
    from .build import command

    return command(plan, args)


def _district_names() -> tuple[list[str], list[str]]:
    import csv

    from model import data

    with open(Path(data.__file__).with_name("districts.csv"), encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [r["district"] for r in rows], [r["name_zh"] for r in rows]


def write_report(plan, df: pd.DataFrame, args, where: str, seconds: float, ran: int) -> tuple[Path, list[str]]:
    """Write differences.csv and report.html into the output folder; (html path, summary lines)."""
    table = an.difference_table(df, plan.arms)
    write_atomic(plan.out / "differences.csv", table.to_csv(index=False))
    ctx = context(plan, df, table, args, where, seconds, ran)
    html = write_atomic(plan.out / "report.html", render(ctx, plan.langs))
    lines = ctx["summary"]["en" if "en" in plan.langs else "zh"]
    return html, lines
