"""What the classroom app says, in English and Chinese: the interface strings, the rule sets, starts
and levers a class can pick, and the lesson material (lesson.toml). No solara, no model: the page,
the runs and the model process all read it."""

from __future__ import annotations

import tomllib
from pathlib import Path

LESSON_FILE = Path(__file__).resolve().parent / "lesson.toml"
LESSON = tomllib.loads(LESSON_FILE.read_text(encoding="utf-8"))
RULE_SETS = list(LESSON["rule_sets"])                 # scenario files a class can pick
STARTS = list(LESSON["starts"])                       # "fresh_2021", "launch_2019", "late_2021"

# levers run B may change (scenario key -> article, choices); labels in TEXT
LEVERS = {
    "rules.audit.sample_share": ("Art. 32(2)", [0.0, 0.02, 0.05, 0.1, 0.2, 0.3]),
    "rules.assessment.remedial_share": ("Art. 32(3)", [0.0, 0.05, 0.1, 0.2, 0.3]),
    "rules.sanctions.strength": ("Art. 35", [0.0, 1.0, 2.0, 3.0, 5.0]),
    "world.capacity.ratio": ("Art. 5", [0.7, 0.8, 0.9, 1.0, 1.15, 1.3, 1.5]),
    "world.behaviour.learning": ("-", [True, False]),
}

TEXT = {   # interface strings: (English, 中文)
    "title": ("jiesu 接诉即办 - classroom", "jiesu 接诉即办 - 课堂演示"),
    "run": ("Run", "运行"), "setup": ("Setup", "设置"), "play": ("Play", "播放"), "pause": ("Pause", "暂停"),
    "step": ("+1 day", "前进 1 天"), "run_to": ("Run to day", "运行到第几天"), "go": ("Run to day N", "运行到该天"),
    "speed": ("speed (simulated days per second)", "速度（每秒模拟天数）"), "max": ("as fast as possible", "尽可能快"),
    "new_run": ("New run", "重新开始"), "start": ("start from", "起点"), "arm_a": ("run A: rule set", "A 方案：规则集"),
    "b_mode": ("run B is", "B 方案"), "b_rule": ("another rule set", "另一套规则"),
    "b_lever": ("A with one lever changed", "A 方案改一个杠杆"), "arm_b": ("run B: rule set", "B 方案：规则集"),
    "lever": ("lever", "杠杆"), "value": ("value in B", "B 方案取值"),
    "scale": ("scale (share of Beijing)", "规模（占北京的比例）"),
    "seed": ("seed (both runs)", "随机种子（两次运行相同）"),
    "stale": ("Settings changed: they take effect when you press New run.", "设置已修改：按“重新开始”后生效。"),
    "day": ("Day", "第"), "day_suffix": ("", "天"), "month": ("month", "月份"),
    "tab_compare": ("Measured vs true", "考核与真实"), "tab_staff": ("Staff time", "工作时间"),
    "tab_scores": ("Township scores", "街乡得分"), "tab_districts": ("Districts", "各区"),
    "tab_lesson": ("Lesson", "课程"), "tab_export": ("Export", "导出"),
    "colour_by": ("colour the districts by", "各区着色依据"), "load": ("Load this experiment", "载入这个实验"),
    "watch": ("What to watch", "观察什么"), "questions": ("Questions for discussion", "讨论题"),
    "csv_daily": ("daily series of both runs (CSV)", "两次运行的逐日数据（CSV）"),
    "csv_units": ("township scores by month (CSV)", "街乡月度考评（CSV）"),
    "png": ("PNG", "PNG"), "export_note": ("Figures: the PNG button under each plot.", "图片：每幅图下方的 PNG 按钮。"),
    "no_cjk": ("No CJK font found: plot labels are in English only. Install one (Debian: apt-get install fonts-noto-cjk) "
               "and restart the app for bilingual plots.",
               "未找到中文字体：图中标签只显示英文。请安装中文字体（Debian：apt-get install fonts-noto-cjk）后重启应用。"),
    "last30": ("last 30 days", "最近 30 天"),
    "preparing": ("preparing the two runs...", "正在准备两次运行……"), "experiments": ("Prepared experiments", "预设实验"),
    "lever:rules.audit.sample_share": ("audit sample 第三方抽查", "第三方抽查比例"),
    "lever:rules.assessment.remedial_share": ("remedial group 治理类 share", "治理类比例"),
    "lever:rules.sanctions.strength": ("sanction strength 问责", "问责力度"),
    "lever:world.capacity.ratio": ("staff / workload 人力", "人力/工作量"),
    "lever:world.behaviour.learning": ("units learn from their scores", "单位根据分数学习"),
}


def t(key: str, lang: str) -> str:
    en, zh = TEXT[key]
    return zh if lang == "zh" else en


def name_of(table: str, key: str, lang: str) -> str:
    en, zh = LESSON[table][key]
    return zh if lang == "zh" else en
