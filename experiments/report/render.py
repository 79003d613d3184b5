"""The report as one self-contained HTML file (jinja2 template ``experiments/templates/report.html.j2``).

Everything is inline (CSS, the small language switch, figures as base64 PNG), so the file opens
offline and prints to PDF (print CSS: A4, no switch, figures kept whole). ``--lang both`` puts
both languages in the file with a switch (中文 / English / both); ``zh`` or ``en`` renders one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
LANGS = ("zh", "en")

# fixed text of the report, in both languages (numbers and generated sentences come from analysis.py)
T = {
    "title": ("立法起草报告：规则比较", "Drafters' report: rule sets compared"),
    "setup": ("设置", "Set-up"),
    "summary": ("结论摘要", "Summary"),
    "summary_note": ("以下句子由下表数字自动生成。", "These sentences are generated from the numbers below."),
    "window": ("计算区间", "What is measured"),
    "articles": ("逐条：各方案改变的条款与杠杆", "Article by article: what each arm changes"),
    "gloss_note": ("英文为本项目所写的简要释义，并非译文；以中文条文为准。",
                   "The English is a short gloss written for this project, not a translation; the Chinese text is the law."),
    "no_change": ("与基准方案的规则与参数完全相同。", "Identical rules and parameters to the baseline."),
    "no_article": ("未引用条款的参数（世界假设或技术设置）",
                   "Levers citing no article (world assumptions or technical settings)"),
    "lever": ("参数", "lever"), "baseline": ("基准", "baseline"), "arm": ("方案", "arm"),
    "source": ("来源", "source"), "meaning": ("含义", "meaning"),
    "outcomes": ("逐项结果", "Outcome by outcome"),
    "outcome": ("结果", "outcome"), "level": ("基准水平", "baseline level"), "arm_level": ("方案水平", "arm level"),
    "diff": ("配对差值 [95%置信区间]", "paired difference [95% CI]"),
    "sign": ("方向一致的参数组", "sign holds in sets"), "verdict": ("判断", "verdict"),
    "rule": ("判断规则", "The rule"),
    "figures": ("图", "Figures"),
    "fig_series": ("考核解决率与真实解决率（按月）", "Measured against true resolution, month by month"),
    "fig_time": ("工作时间分配", "How staff time is split"),
    "fig_scores": ("街乡考评得分分布与治理类线", "Township scores and the remedial line"),
    "fig_tiles": ("十六个区：真实解决率差值", "The 16 districts: difference in true resolution"),
    "assumptions": ("结论所依赖的假设", "The assumptions the result rests on"),
    "provenance": ("来源与复现", "Provenance and how to reproduce it"),
    "command": ("复现命令", "The command that reproduces this report"),
    "param": ("参数", "parameter"), "prior": ("先验范围", "prior range"),
    "posterior": ("后验均值 [90%区间]", "posterior mean [90% interval]"),
    "width": ("宽度", "width"), "drawn": ("抽样范围", "drawn from"),
    "influence": ("跨参数组的相关（Spearman）", "Correlation across parameter sets (Spearman)"),
    "lang_both": ("双语", "both"),
}


def strings(langs: list[str]) -> dict:
    """{key: {lang: text}} for the languages shown."""
    return {k: {lang: v[LANGS.index(lang)] for lang in langs} for k, v in T.items()}


def render(context: dict, langs: list[str]) -> str:
    """The report's HTML text."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape(["j2"]),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html.j2").render(**context, langs=langs, T=strings(langs),
                                                      both=len(langs) > 1)


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
