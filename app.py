"""Classroom app (课堂演示): two rule sets side by side, day by day, in the browser.

For seminars on governance reform. Two runs of the model, A and B, start from the same
state on the same seed and advance in lockstep; B is another rule set, or A's rule set with
one lever changed. The page shows what the rules do to the *measured* rates that units are
scored on and to the *true* resolution of citizens' problems, to units' staff time, to
exhaustion and public trust, to township scores and to the 16 districts, with the lesson
material (``classroom/lesson.toml``) in Chinese and English. Every browser session gets its
own pair of runs (built when the page opens, never at import).

Run: ``jiesu app`` or ``solara run app.py``; needs the ``[app]`` extra. ``python app.py --check``
checks the extra and exits 2 with one line when something is missing.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
LESSON_FILE = HERE / "classroom" / "lesson.toml"


def _page_bundle() -> str | None:
    """The Vuetify-2 page bundle solara's template asks for, e.g. '@widgetti/solara-vuetify-app@10.1.1'."""
    spec = importlib.util.find_spec("solara")
    if spec is None or not spec.submodule_search_locations:
        return None
    template = Path(list(spec.submodule_search_locations)[0]) / "server" / "templates" / "solara.html.j2"
    found = re.search(r"@widgetti/solara-vuetify-app@[\d.]+", template.read_text()) if template.exists() else None
    return found.group(0) if found else None


def asset_dir() -> Path:
    """Where solara's server looks for the page's JavaScript and CSS before asking a CDN."""
    return Path(os.environ.get("SOLARA_ASSETS_PROXY_CACHE_DIR") or Path(sys.prefix) / "share" / "solara" / "cdn")


def requirements_problem() -> str | None:
    """One line saying what of the [app] extra is missing or wrong, or None when all is there."""
    fix = "pip install -e '.[app]'"
    if importlib.util.find_spec("solara") is None:
        return f"the classroom app needs the [app] extra (solara): {fix}"
    for pkg in ("ipyvue", "ipyvuetify"):   # solara's Vuetify-2 page; the 3.x releases leave it blank
        try:
            version = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            return f"the classroom app needs {pkg}<2: {fix}"
        if int(version.split(".")[0]) >= 2:
            return f"the classroom app needs {pkg}<2 (found {version}, which leaves the page blank): {fix}"
    bundle = _page_bundle()
    if bundle is None or not (asset_dir() / bundle).is_dir():
        return (f"the page's JavaScript ({bundle or 'solara-vuetify-app'}) is not installed locally, so the page "
                f"would need the internet (solara-assets): {fix}")
    return None


if __name__ == "__main__" and sys.argv[1:] == ["--check"]:   # python app.py --check (solara runs us as __main__ too)
    _problem = requirements_problem()
    print(f"jiesu app: {_problem}" if _problem else "jiesu app: the [app] extra is complete",
          file=sys.stderr if _problem else sys.stdout)
    raise SystemExit(2 if _problem else 0)

_problem = requirements_problem()
if _problem:
    print(f"jiesu app: {_problem}", file=sys.stderr)
    raise SystemExit(2)

# ---------------------------------------------------------------------------------------------
import functools  # noqa: E402
import io  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import tomllib  # noqa: E402
from dataclasses import dataclass, replace  # noqa: E402
from typing import TYPE_CHECKING  # noqa: E402

import markdown  # noqa: E402
import matplotlib  # noqa: E402  - the package only (cheap); solara scopes its rcParams per session when it is loaded
import numpy as np  # noqa: E402
import solara  # noqa: E402
import solara.lab  # noqa: E402

from model.outcomes import DAILY, outcome  # noqa: E402  - the registry only: no Mesa, SciPy or pandas

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _heavy_imports() -> None:
    """Import what the runs and the plots need: the model (Mesa, SciPy, pydantic), the rest of matplotlib,
    pandas; find the CJK font; draw the default setup's first plot at day 0. About 3.5 s of CPU, more than
    half the 5 s start-up budget, so it runs in a thread while the browser fetches and starts the page;
    each session builds its own runs when its page has rendered."""
    import matplotlib.cm  # noqa: F401
    import matplotlib.colors  # noqa: F401
    import matplotlib.figure  # noqa: F401
    import matplotlib.lines  # noqa: F401
    import matplotlib.patches  # noqa: F401
    import matplotlib.ticker  # noqa: F401
    import pandas  # noqa: F401

    import model.model  # noqa: F401
    import model.scenario  # noqa: F401
    import model.state  # noqa: F401

    cjk_font()
    first = Lockstep(Setup()).snapshot()          # the first page's first plot, drawn while the browser loads it
    plot_png("measured_vs_true", lambda: fig_measured_true(first), first)

SCENARIOS = HERE / "scenarios"
LESSON = tomllib.loads(LESSON_FILE.read_text(encoding="utf-8"))
RULE_SETS = list(LESSON["rule_sets"])                 # scenario files a class can pick
STARTS = list(LESSON["starts"])                       # "fresh_2021", "launch_2019"
START_FROM = {"fresh_2021": "final_2021.toml", "launch_2019": "reform_2019.toml",   # whose world and calendar
              "late_2021": "history_2019_2021.toml"}
REPLAYED = "late_2021"          # the start that continues the history replay's state (model/state.py)
STATES = Path(os.environ.get("JIESU_APP_STATES") or HERE / "states")   # replayed states, made once per scale and seed
WINDOW, SMOOTH = 30, 7          # days: number boxes are 30-day means, curves 7-day means
RENDER_SECONDS = 0.8            # while playing, redraw at most this often (drawing costs more than a day)
SPEEDS = {"max": None, "20": 20, "10": 10, "5": 5, "2": 2}   # simulated days per second
MAX_DAY = 3 * 365

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


# ---------------------------------------------------------------------------------------------
# Fonts: plot labels carry the Chinese term; never drop it silently
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "WenQuanYi Zen Hei",
                "WenQuanYi Micro Hei", "AR PL UMing CN")


def find_cjk_font() -> str | None:
    """A font family that draws Chinese, registering system fonts matplotlib's cache has not seen."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    if found := next((f for f in CJK_FAMILIES if f in names), None):
        return found
    for path in font_manager.findSystemFonts():
        if re.search(r"(NotoSansCJK|SourceHanSans|wqy-|uming)", Path(path).name, re.I):
            try:
                font_manager.fontManager.addfont(path)
            except Exception:   # noqa: BLE001 - an unreadable font file is simply not used
                continue
    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((f for f in CJK_FAMILIES if f in names), None)


@functools.cache
def cjk_font() -> str | None:
    """The CJK font of this process (looked up once, off the start-up path)."""
    return find_cjk_font()


def plot_style() -> dict:
    font = cjk_font()
    return {"font.family": ["DejaVu Sans", *([font] if font else [])], "font.size": 9,
            "axes.titlesize": 10, "legend.fontsize": 8, "axes.grid": True, "grid.alpha": 0.3}


def label(name: str) -> str:
    """A plot label from the outcome registry: English with the Chinese term (English only without a CJK font)."""
    return outcome(name).label("both" if cjk_font() else "en")


def both(en: str, zh: str) -> str:
    return f"{en} {zh}" if cjk_font() else en


# ---------------------------------------------------------------------------------------------
# The two runs
@dataclass(frozen=True)
class Setup:
    """What the class chose: where both runs start, run A's rules, what run B changes."""

    start: str = "fresh_2021"
    rule_a: str = "final_2021.toml"
    b_mode: str = "rule_set"                  # "rule_set" or "lever"
    rule_b: str = "harsh_sanctions.toml"
    lever: str = "world.capacity.ratio"
    lever_value: float | bool = 0.8
    scale: float = 0.01
    seed: int = 1

    def arm_b_rules(self) -> str:
        return self.rule_b if self.b_mode == "rule_set" else self.rule_a

    def name(self, arm: str, lang: str = "en") -> str:
        if arm == "A" or self.b_mode == "rule_set":
            return name_of("rule_sets", self.rule_a if arm == "A" else self.rule_b, lang)
        v = self.lever_value
        shown = ("on" if v else "off") if isinstance(v, bool) else f"{v:g}"
        return f"{name_of('rule_sets', self.rule_a, lang)}, {t('lever:' + self.lever, lang)} = {shown}"


def _flatten(prefix: str, data: dict) -> dict:
    out = {}
    for k, v in data.items():
        out.update(_flatten(f"{prefix}.{k}", v) if isinstance(v, dict) else {f"{prefix}.{k}": v})
    return out


def start_overrides(start: str) -> dict:
    """The world and calendar a start stands for (all world.* keys and the start date of its scenario;
    for the replayed late 2021, the world as the replay's timeline leaves it)."""
    from model.scenario import load_scenario

    cfg = load_scenario(SCENARIOS / START_FROM[start])
    world = replay_end_config(cfg).world if start == REPLAYED else cfg.world
    return {**_flatten("world", world.model_dump()), "city.start_year": cfg.city.start_year,
            "city.start_month": cfg.city.start_month}


def replay_end_config(cfg):
    """The config in force at the end of a scenario with a timeline (its changes applied in order)."""
    from model.calendar import month_of
    from model.timeline import Timeline

    line, now = Timeline(cfg), cfg
    for month in range(month_of(cfg.city.days - 1) + 1):
        now = line.config_for(month, now) or now
    return now


def replay_state(scale: float, seed: int) -> Path:
    """The history replay to the end of November 2021 at the class's scale and seed, saved as a
    state file the first time it is asked for (about 15 s at scale 0.01) and reused after (a state
    records the model version: another model's is remade). One replay at a time in this process,
    so two students asking for the same one wait for one replay."""
    from model.model import Model
    from model.scenario import load_scenario
    from model.state import StateError, read_meta, save_state

    path = STATES / f"late_2021-scale{scale:g}-seed{seed}.state"
    with _REPLAY_LOCK:
        try:
            read_meta(path)              # exists and was written by this model version
            return path
        except StateError:
            pass
        cfg = load_scenario(SCENARIOS / START_FROM[REPLAYED], overrides={"city.scale": scale})
        return save_state(Model(cfg, seed=seed).run(cfg.city.days), path)


_REPLAY_LOCK = threading.Lock()


def configs(setup: Setup):
    """Validated configs of runs A and B: the start's world, each run's rules, the class's scale."""
    from model.scenario import load_scenario

    base = {**start_overrides(setup.start), "city.scale": setup.scale}
    a = load_scenario(SCENARIOS / setup.rule_a, overrides=base)
    extra = {setup.lever: setup.lever_value} if setup.b_mode == "lever" else {}
    b = load_scenario(SCENARIOS / setup.arm_b_rules(), overrides={**base, **extra})
    return a, b


class Lockstep:
    """Runs A and B of the model (two ``model.Model``, Mesa models) on one seed, one day each per step
    (common random numbers)."""

    def __init__(self, setup: Setup = Setup()):
        from model.model import Model

        self.setup = setup
        cfg_a, cfg_b = configs(setup)
        if setup.start == REPLAYED:      # both runs continue the replayed system of November 2021
            from model.state import load_state

            state = replay_state(setup.scale, setup.seed)
            self.a, self.b = load_state(state, cfg_a, seed=setup.seed), load_state(state, cfg_b, seed=setup.seed)
        else:
            self.a, self.b = Model(cfg_a, seed=setup.seed), Model(cfg_b, seed=setup.seed)
        self.start_day, self.start_month = self.a.day, len(self.a.unit_months)   # what came before the pair
        self.lock = threading.Lock()

    @property
    def day(self) -> int:
        """Days since the pair started (the model's own calendar may run from an earlier start)."""
        return self.a.day - self.start_day

    def step(self) -> None:
        with self.lock:
            self.a.step()
            self.b.step()

    def snapshot(self) -> Snapshot:
        """What the plots need, copied under the lock (the runs may go on in another thread)."""
        with self.lock:
            d, m = self.start_day, self.start_month
            return Snapshot(self.setup, self.day, self.a.daily[d:], self.b.daily[d:],
                            self.a.unit_months[m:], self.b.unit_months[m:], self.a.city, self.a.cfg, self.b.cfg, d)


@dataclass
class Snapshot:
    setup: Setup
    day: int
    daily_a: list
    daily_b: list
    units_a: list
    units_b: list
    city: object
    cfg_a: object
    cfg_b: object
    start_day: int = 0          # the model's day when the pair started (late 2021: after the replay)

    def series(self, arm: str, column: str, window: int = SMOOTH) -> tuple[np.ndarray, np.ndarray]:
        """Days and the trailing ``window``-day mean of a daily column (NaN days skipped)."""
        rows = self.daily_a if arm == "A" else self.daily_b
        if column == "measured_true_gap":
            x = np.array([r["resolution_rate"] - r["true_resolution_rate"] for r in rows], float)
        else:
            x = np.array([r[column] for r in rows], float)
        ok = np.isfinite(x)
        c, n = np.cumsum(np.where(ok, x, 0.0)), np.cumsum(ok)
        c, n = np.concatenate([[0.0], c]), np.concatenate([[0], n])
        lo = np.maximum(np.arange(len(x)) + 1 - window, 0)
        cnt = n[1:] - n[lo]
        mean = np.where(cnt > 0, (c[1:] - c[lo]) / np.maximum(cnt, 1), np.nan)
        return np.arange(len(x)), mean

    def last(self, arm: str, column: str) -> float:
        """Mean of a daily column over the last 30 days (NaN before the first day)."""
        _, m = self.series(arm, column, WINDOW)
        return float(m[-1]) if len(m) else float("nan")

    def month_units(self, arm: str) -> dict | None:
        units = self.units_a if arm == "A" else self.units_b
        return units[-1] if units else None


# ---------------------------------------------------------------------------------------------
# Figures (matplotlib, drawn off-screen; every label bilingual)
A_COLOUR, B_COLOUR = "#1f77b4", "#d62728"


def _figure(width: float, height: float, cols: int, sharey=False, left=0.05, right=0.99, bottom=0.14, top=0.9,
            wspace=0.22) -> tuple[Figure, list]:
    """A row of axes with fixed margins (half the drawing time of a constrained layout; sizes are fixed)."""
    import matplotlib.cm  # noqa: F401 - every figure starts here: the parts of matplotlib the figures use
    import matplotlib.colors  # noqa: F401
    import matplotlib.figure
    import matplotlib.lines  # noqa: F401
    import matplotlib.patches  # noqa: F401
    import matplotlib.ticker  # noqa: F401

    fig = matplotlib.figure.Figure(figsize=(width, height))
    fig.subplots_adjust(left=left, right=right, bottom=bottom, top=top, wspace=wspace)
    axes = fig.subplots(1, cols, sharey=sharey, squeeze=False)[0]
    return fig, list(axes)


def _pad_limits(ax, values, min_span: float, centre_zero=False, ceiling: float | None = None):
    """y-limits that show the differences: fitted to the data, at least ``min_span`` wide, and
    below ``ceiling`` (a rate never exceeds 100%: the window moves down instead)."""
    v = np.concatenate([np.asarray(x, float).ravel() for x in values])
    v = v[np.isfinite(v)]
    if not len(v):
        lo, hi = (-min_span / 2, min_span / 2) if centre_zero else (0.0, 1.0)
    elif centre_zero:
        m = max(np.abs(v).max() * 1.15, min_span / 2)
        lo, hi = -m, m
    else:
        lo, hi = v.min(), v.max()
        pad = max((hi - lo) * 0.1, (min_span - (hi - lo)) / 2, 0)
        lo, hi = lo - pad, hi + pad
        if ceiling is not None and hi > ceiling:
            lo, hi = lo - (hi - ceiling), ceiling
    ax.set_ylim(lo, hi)


def _empty(ax, text: str):
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=9, wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def _day_axis(ax, day: int):
    ax.set_xlabel(both("day of the run", "模拟天数"))
    ax.set_xlim(0, max(day - 1, 30))


def fig_measured_true(s: Snapshot) -> Figure:
    """Measured resolution above true resolution, the gap shaded; A, B and B - A."""
    with matplotlib.rc_context(plot_style()):
        fig, (ax_a, ax_b, ax_d) = _figure(12, 4.1, 3, bottom=0.25, top=0.92)
        ys = []
        for ax, arm, colour in ((ax_a, "A", A_COLOUR), (ax_b, "B", B_COLOUR)):
            d, meas = s.series(arm, "resolution_rate")
            _, true = s.series(arm, "true_resolution_rate")
            _, sat = s.series(arm, "satisfaction_rate")
            ys += [meas, true, sat]
            ax.plot(d, meas, color=colour, lw=1.8, label=label("resolution_rate"))
            ax.plot(d, true, color="black", lw=1.8, label=label("true_resolution_rate"))
            ax.plot(d, sat, color=colour, lw=1, ls="--", label=label("satisfaction_rate"))
            ax.fill_between(d, true, meas, where=np.isfinite(meas) & np.isfinite(true), color=colour, alpha=0.18,
                            label=label("measured_true_gap"))
            ax.set_title(f"{arm}: {s.setup.name(arm)}")
            ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
            _day_axis(ax, s.day)
        for ax in (ax_a, ax_b):
            _pad_limits(ax, ys, 0.1, ceiling=1.0)
        handles = [matplotlib.lines.Line2D([], [], color="grey", lw=1.8, label=label("resolution_rate")),
                   matplotlib.lines.Line2D([], [], color="black", lw=1.8, label=label("true_resolution_rate")),
                   matplotlib.lines.Line2D([], [], color="grey", lw=1, ls="--", label=label("satisfaction_rate")),
                   matplotlib.patches.Patch(color="grey", alpha=0.3, label=label("measured_true_gap"))]
        diffs = []
        for name, style in (("resolution_rate", "-"), ("true_resolution_rate", "-"), ("measured_true_gap", ":")):
            d, a = s.series("A", name)
            _, b = s.series("B", name)
            diffs.append(b - a)
            ax_d.plot(d, (b - a) * 100, ls=style, lw=1.6, color="black" if name == "true_resolution_rate" else
                      (B_COLOUR if name == "resolution_rate" else "grey"), label=label(name))
        ax_d.axhline(0, color="grey", lw=0.8)
        _pad_limits(ax_d, [np.concatenate(diffs) * 100] if diffs else [], 2.0, centre_zero=True)
        ax_d.set_title(both("B - A (percentage points)", "B 减 A（百分点）"))
        handles += [matplotlib.lines.Line2D([], [], color=line.get_color(), ls=line.get_linestyle(), lw=1.6,
                                            label=f"B - A: {line.get_label()}") for line in ax_d.get_lines()[:3]]
        fig.legend(handles=handles, loc="lower center", ncol=4, frameon=False, fontsize=7.5)
        _day_axis(ax_d, s.day)
        return fig


EFFORTS = ["effort_resolve", "effort_satisfy", "effort_game", "effort_proactive"]


def _percent_axis(ax, values):
    v = np.concatenate([np.asarray(x, float).ravel() for x in values]) if values else np.array([])
    v = v[np.isfinite(v)]
    span = v.max() - v.min() if len(v) else 1.0
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=1 if span < 0.06 else 0))


def fig_staff_time(s: Snapshot) -> Figure:
    """Where staff time goes (A solid, B dashed), and exhaustion and public trust."""
    with matplotlib.rc_context(plot_style()):
        fig, axes = _figure(12, 4.0, 4, left=0.05, wspace=0.3, top=0.92, bottom=0.26)
        colours = dict(zip(EFFORTS, ["#2ca02c", "#ff7f0e", "#d62728", "#9467bd"]))
        colours.update(mean_exhaustion="#8c564b", mean_trust="#17becf")
        panels = [(axes[0], ["effort_resolve"], label("effort_resolve")),
                  (axes[1], EFFORTS[1:], both("other uses of staff time", "其他工作时间")),
                  (axes[2], ["mean_exhaustion"], label("mean_exhaustion")),
                  (axes[3], ["mean_trust"], label("mean_trust"))]
        for ax, names, title in panels:
            ys = []
            for name in names:
                for arm, ls in (("A", "-"), ("B", "--")):
                    d, y = s.series(arm, name)
                    ys.append(y)
                    ax.plot(d, y, ls=ls, lw=1.6, color=colours[name])
            _pad_limits(ax, ys, 0.02)
            if ax in axes[:2]:
                _percent_axis(ax, ys)
            ax.set_title(title)
            _day_axis(ax, s.day)
        handles = [matplotlib.lines.Line2D([], [], color=colours[n], lw=2, label=label(n)) for n in colours]
        handles += [matplotlib.lines.Line2D([], [], color="black", ls=ls, label=f"{arm}: {s.setup.name(arm)}")
                    for arm, ls in (("A", "-"), ("B", "--"))]
        fig.legend(handles=handles, loc="lower center", ncol=4, frameon=False)
        return fig


def _township_rows(s: Snapshot, arm: str):
    last = s.month_units(arm)
    if last is None:
        return None
    tw = np.flatnonzero((s.city.unit_kind == 0) & np.asarray(last["assessable"], bool))
    return last, tw


CLASS_NAMES = {0: ("urban streets", "街道"), 1: ("rural townships", "乡镇")}


def fig_scores(s: Snapshot) -> Figure:
    """Last month's township scores on their points scale, by class, with remedial and commendation lines."""
    with matplotlib.rc_context(plot_style()):
        fig, axes = _figure(12, 4.0, 2, sharey=True, left=0.11, bottom=0.22, wspace=0.06)
        all_scores = []
        for ax, arm in zip(axes, ("A", "B")):
            rows = _township_rows(s, arm)
            ax.set_title(f"{arm}: {s.setup.name(arm)}")
            ax.set_xlabel(both("score (points)", "得分（分）"))
            if rows is None or not len(rows[1]):
                _empty(ax, both("no month assessed yet: the first assessment is at the end of month 1",
                                "尚未考评：首次考评在第 1 个月末"))
                continue
            last, tw = rows
            score, cls = np.asarray(last["score"], float)[tw], np.asarray(last["class"])[tw]
            rem, com = np.asarray(last["remedial"], bool)[tw], np.asarray(last["commended"], bool)[tw]
            all_scores.append(score)
            classes = sorted(set(cls.tolist()))
            jitter = np.random.default_rng(0).uniform(-0.28, 0.28, len(score))   # fixed: the same dots every redraw
            for row, c in enumerate(classes):
                m = cls == c
                y = row + jitter[m]
                for mask, colour, name in ((~rem[m] & ~com[m], "grey", both("other", "其他")),
                                           (rem[m], "#d62728", both("remedial", "治理类")),
                                           (com[m], "#2ca02c", both("commended", "表扬"))):
                    ax.scatter(score[m][mask], y[mask], s=9, color=colour, alpha=0.75, label=name if row == 0 else None)
                sc, r_, c_ = score[m], rem[m], com[m]
                if r_.any() and (~r_).any():
                    ax.vlines((sc[r_].max() + sc[~r_].min()) / 2, row - 0.42, row + 0.42, color="#d62728", lw=1.5)
                if c_.any() and (~c_).any():
                    ax.vlines((sc[c_].min() + sc[~c_].max()) / 2, row - 0.42, row + 0.42, color="#2ca02c", lw=1.5)
            names = [("\n".join(CLASS_NAMES[c]) if cjk_font() else CLASS_NAMES[c][0]) if len(classes) > 1
                     else both("all townships", "全部街乡") for c in classes]
            ax.set_yticks(range(len(classes)), names)
            ax.set_ylim(-0.6, len(classes) - 0.4)
            month = int(np.asarray(last["month"])[0]) + 1 - int(s.start_day * 12 // 365)   # month of the pair
            ax.set_title(f"{arm}: {s.setup.name(arm)} - " + both(f"month {month}", f"第 {month} 月"))
            handles, _ = ax.get_legend_handles_labels()
            handles += [matplotlib.lines.Line2D([], [], color="#d62728", label=both("remedial line", "治理类线")),
                        matplotlib.lines.Line2D([], [], color="#2ca02c", label=both("commendation line", "表扬线"))]
            if ax is axes[0] or not fig.legends:
                fig.legends.clear()
                fig.legend(handles=handles, loc="lower center", ncol=5, frameon=False)
        if all_scores:
            v = np.concatenate(all_scores)
            v = v[np.isfinite(v)]
            if len(v):
                for ax in axes:
                    ax.set_xlim(v.min() - 2, v.max() + 2)
        return fig


# Beijing's 16 districts as tiles, roughly where they lie (row 0 = north)
TILES = {"yanqing": (0, 1), "huairou": (0, 3), "miyun": (0, 4), "changping": (1, 2), "shunyi": (1, 4),
         "pinggu": (1, 5), "mentougou": (2, 0), "haidian": (2, 1), "xicheng": (2, 2), "dongcheng": (2, 3),
         "chaoyang": (2, 4), "tongzhou": (2, 5), "fangshan": (3, 0), "shijingshan": (3, 1), "fengtai": (3, 2),
         "daxing": (3, 3)}
DISTRICT_OUTCOMES = ["true_resolution_rate", "resolution_rate", "measured_true_gap", "satisfaction_rate",
                     "effort_game", "mean_exhaustion"]


def district_values(s: Snapshot, arm: str, name: str) -> np.ndarray | None:
    """Last month's value of an outcome in each district (its townships pooled: rates by orders, shares by staff)."""
    last = s.month_units(arm)
    if last is None:
        return None
    tw = np.arange(s.city.n_townships)
    dist = np.asarray(s.city.unit_district)[tw]
    n = len(s.city.district_names)

    def pooled(num, den):
        top = np.bincount(dist, np.asarray(last[num], float)[tw], n)
        bottom = np.bincount(dist, np.asarray(last[den], float)[tw], n)
        return np.where(bottom > 0, top / np.maximum(bottom, 1e-12), np.nan)

    def weighted(col):
        w = np.asarray(last["capacity_hours"], float)[tw]
        return pooled_w(col, w)

    def pooled_w(col, w):
        top = np.bincount(dist, np.asarray(last[col], float)[tw] * w, n)
        return np.where(np.bincount(dist, w, n) > 0, top / np.maximum(np.bincount(dist, w, n), 1e-12), np.nan)

    return {"true_resolution_rate": lambda: pooled("true_resolved", "closed"),
            "resolution_rate": lambda: pooled("measured_resolved", "in_scope"),
            "satisfaction_rate": lambda: pooled("satisfied", "in_scope"),
            "measured_true_gap": lambda: pooled("measured_resolved", "in_scope") - pooled("true_resolved", "closed"),
            "effort_game": lambda: weighted("effort_game"),
            "mean_exhaustion": lambda: weighted("exhaustion")}[name]()


def fig_districts(s: Snapshot, name: str) -> Figure:
    """The 16 districts as tiles coloured by last month's value of an outcome: A, B and B - A."""
    with matplotlib.rc_context(plot_style()):
        fig, axes = _figure(12, 3.8, 3, left=0.02, right=0.98, bottom=0.1, top=0.84, wspace=0.08)
        va, vb = district_values(s, "A", name), district_values(s, "B", name)
        if va is None or vb is None:
            for ax in axes:
                _empty(ax, both("no month assessed yet: the first month ends on day 30",
                                "尚未有完整月份：第一个月在第 30 天结束"))
            return fig
        both_v = np.concatenate([va, vb])
        lo, hi = np.nanmin(both_v), np.nanmax(both_v)
        if not np.isfinite(lo):
            lo, hi = 0.0, 1.0
        diff = vb - va
        dmax = max(np.nanmax(np.abs(diff)) if np.isfinite(diff).any() else 0.0, 1e-3)
        pct = outcome(name).unit == "share" or name.startswith("effort")
        for ax, values, title, cmap, (vmin, vmax) in (
                (axes[0], va, f"A: {s.setup.name('A')}", "viridis", (lo, hi)),
                (axes[1], vb, f"B: {s.setup.name('B')}", "viridis", (lo, hi)),
                (axes[2], diff, "B - A" + (" (B 减 A)" if cjk_font() else ""), "RdBu", (-dmax, dmax))):
            norm = matplotlib.colors.Normalize(vmin, vmax if vmax > vmin else vmin + 1e-6)
            colours = matplotlib.colormaps[cmap]
            for i, key in enumerate(s.city.district_names):
                r, c = TILES.get(key, (4 + i // 6, i % 6))
                v = values[i]
                face = colours(norm(v)) if np.isfinite(v) else (0.9, 0.9, 0.9, 1)
                ax.add_patch(matplotlib.patches.Rectangle((c, -r), 0.95, 0.95, color=face))
                dark = np.isfinite(v) and sum(face[:3]) < 1.5
                shown = "-" if not np.isfinite(v) else (f"{v * 100:+.1f}" if ax is axes[2] and pct else
                                                        f"{v:.0%}" if pct else f"{v:+.3f}" if ax is axes[2] else f"{v:.2f}")
                zh = s.city.district_zh[i].removesuffix("区") if cjk_font() else ""
                ax.text(c + 0.475, -r + 0.62, f"{key.title()}\n{zh}".strip(), ha="center", va="center", fontsize=6.5,
                        color="white" if dark else "black")
                ax.text(c + 0.475, -r + 0.2, shown, ha="center", va="center", fontsize=8, weight="bold",
                        color="white" if dark else "black")
            ax.set_xlim(-0.1, 6.05)
            ax.set_ylim(-3.1, 1.0)
            ax.set_aspect("equal")
            ax.axis("off")
            ax.set_title(title)
            if not pct:
                fmt = None
            elif ax is axes[2]:
                fmt = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v * 100:+.1f}")
            else:
                fmt = matplotlib.ticker.PercentFormatter(1.0, decimals=0 if vmax - vmin > 0.05 else 1)
            bar = fig.colorbar(matplotlib.cm.ScalarMappable(norm, colours), ax=ax, orientation="horizontal",
                               fraction=0.07, pad=0.02, format=fmt)
            bar.ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(5))
        month = int(np.asarray(s.month_units("A")["month"])[0]) + 1 - int(s.start_day * 12 // 365)
        fig.suptitle(f"{label(name)} - " + both(f"month {month}", f"第 {month} 月")
                     + (both(" (B - A in points)", "（B 减 A，百分点）") if pct else ""), fontsize=10)
        return fig


DRAW_SECONDS = [0.3]      # recent time to draw one figure (this process); the play loop redraws less often when slow


DRAW_LOCK = threading.RLock()   # one figure at a time: rc_context changes matplotlib's rcParams, which outside a
                                # solara session (tests, a late import) are shared by every session's thread


def png(fig: Figure, dpi: int = 90) -> bytes:
    started = time.perf_counter()
    with DRAW_LOCK, matplotlib.rc_context(plot_style()):
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)
    DRAW_SECONDS[0] = 0.7 * DRAW_SECONDS[0] + 0.3 * (time.perf_counter() - started)
    return buf.getvalue()


def draw(make, dpi: int = 90) -> bytes:
    """A figure made and saved as PNG under the drawing lock."""
    with DRAW_LOCK:
        return png(make(), dpi)


DAY0_PNGS: dict = {}     # (plot, setup, options) -> its PNG at day 0, before any data: the same in every session


def plot_png(name: str, make, s: Snapshot, options: tuple = ()) -> bytes:
    """A plot's PNG; at day 0 drawn once per setup and shared (a new session or New run shows it at once)."""
    if s.day != 0:
        return draw(make)
    key = (name, s.setup, options)
    if key not in DAY0_PNGS:
        if len(DAY0_PNGS) > 64:
            DAY0_PNGS.clear()
        DAY0_PNGS[key] = draw(make)
    return DAY0_PNGS[key]


# ---------------------------------------------------------------------------------------------
# Export
def daily_csv(s: Snapshot) -> bytes:
    """Both runs' daily records (model/outcomes.py DAILY columns), one row per run and day."""
    import pandas as pd

    frames = []
    for arm, rows, cfg in (("A", s.daily_a, s.cfg_a), ("B", s.daily_b, s.cfg_b)):
        df = pd.DataFrame(rows)
        months = cfg.city.start_month - 1 + (df["day"] // (365 / 12)).astype(int) if len(df) else []
        if len(df):
            df["year"], df["month"] = cfg.city.start_year + months // 12, months % 12 + 1
        df = df.reindex(columns=list(DAILY))
        df.insert(0, "run", arm)
        df.insert(1, "setup", s.setup.name(arm))
        df.insert(2, "seed", s.setup.seed)
        df.insert(3, "scale", s.setup.scale)
        frames.append(df)
    return pd.concat(frames, ignore_index=True).to_csv(index=False).encode()


UNIT_COLUMNS = ["score", "percentile", "remedial", "commended", "class", "response_rate", "resolution_rate",
                "satisfaction_rate", "true_resolution_rate", "effort_resolve", "effort_satisfy", "effort_game",
                "effort_proactive", "exhaustion"]


def townships_csv(s: Snapshot) -> bytes:
    """Monthly township table of both runs (score, ranking outcome, rates, effort, exhaustion)."""
    import pandas as pd

    frames = []
    tw = np.arange(s.city.n_townships)
    for arm, months in (("A", s.units_a), ("B", s.units_b)):
        for um in months:
            df = pd.DataFrame({"run": arm, "month": np.asarray(um["month"])[tw], "unit": tw,
                               "district": np.asarray(s.city.district_names)[np.asarray(s.city.unit_district)[tw]],
                               **{c: np.asarray(um[c])[tw] for c in UNIT_COLUMNS if c in um}})
            frames.append(df)
    cols = ["run", "month", "unit", "district", *UNIT_COLUMNS]
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)).to_csv(index=False).encode()


# ---------------------------------------------------------------------------------------------
# The page
BOXES = ["resolution_rate", "true_resolution_rate", "measured_true_gap", "satisfaction_rate", "effort_game",
         "effort_proactive", "mean_exhaustion", "mean_trust"]


def _fmt(name: str, v: float, diff=False) -> str:
    """A share as a percentage (a difference in points), a level with three decimals; '-' before there is data."""
    if not np.isfinite(v):
        return "-"
    share = outcome(name).unit in ("share", "share of staff time")
    shown = f"{v * 100:+.1f} pt" if share and diff else f"{v:.1%}" if share else f"{v:+.3f}" if diff else f"{v:.3f}"
    return shown.replace("-0.0 pt", "+0.0 pt").replace("-0.000", "+0.000")


@solara.component
def NumberBoxes(s: Snapshot | None, lang: str):
    """Last-30-day means of the headline outcomes in A and B, and B - A ('-' while the runs are built)."""
    with solara.Row(gap="8px", style={"flex-wrap": "wrap"}):
        for name in BOXES:
            a, b = (s.last("A", name), s.last("B", name)) if s is not None else (np.nan, np.nan)
            d = b - a
            shown = _fmt(name, d, True)
            arrow = "" if shown in ("-", "+0.0 pt", "+0.000") else ("▲ " if d > 0 else "▼ ")
            with solara.Card(style={"min-width": "140px", "padding": "6px", "margin": "0"}, classes=["jiesu-box"]):
                solara.Text(outcome(name).label(lang), style={"font-size": "12px", "font-weight": "bold"})
                solara.HTML(unsafe_innerHTML=(
                    f"<div style='font-size:13px'>A {_fmt(name, a)} &nbsp; B {_fmt(name, b)}</div>"
                    f"<div style='font-size:13px;font-weight:bold'>B - A {arrow}{shown}</div>"))


@solara.component
def Plot(name: str, make, s: Snapshot, deps: list, lang: str):
    """A figure as a PNG image, redrawn only when the day (or its options) change, with a PNG download."""
    data = solara.use_memo(lambda: plot_png(name, make, s, tuple(deps[1:])), deps)
    solara.Image(data, width="100%", classes=["jiesu-plot", f"jiesu-plot-{name}"])
    solara.FileDownload(lambda: draw(make, dpi=180), filename=f"jiesu-{name}-day{s.day}.png",
                        label=f"{t('png', lang)}: {name}", mime_type="image/png")


CSS = """
.jiesu-md table { border-collapse: collapse; margin: 8px 0; font-size: 14px; }
.jiesu-md th, .jiesu-md td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
.jiesu-md code { font-size: 12px; }
img.jiesu-plot { max-width: 100%; height: auto; }
"""


def md(text: str):
    """Markdown rendered on the server (solara.Markdown would fetch KaTeX and mermaid from a CDN)."""
    solara.HTML(tag="div", unsafe_innerHTML=markdown.markdown(text, extensions=["tables"]), classes=["jiesu-md"])


@solara.component
def Lesson(lang: str, on_load):
    for sec in LESSON["section"]:
        with solara.Details(sec[f"title_{lang}"], expand=sec["id"] == "model"):
            md(sec[f"body_{lang}"])
    md(f"### {t('experiments', lang)}")
    for i, ex in enumerate(LESSON["experiment"], 1):
        with solara.Card(f"{i}. {ex[f'title_{lang}']}", classes=["jiesu-experiment"]):
            a, b = name_of("rule_sets", ex["a"], lang), name_of("rule_sets", ex["b"], lang)
            md(f"A: **{a}** / B: **{b}** / {t('start', lang)}: {name_of('starts', ex['start'], lang)}; "
                            f"{ex['days']} {t('day_suffix', lang) or 'days'}\n\n"
                            f"**{t('watch', lang)}:** {ex[f'watch_{lang}']}\n\n**{t('questions', lang)}:**\n\n"
                            + "\n".join(f"{k}. {q}" for k, q in enumerate(ex[f"questions_{lang}"], 1)))
            solara.Button(t("load", lang), color="primary", on_click=lambda ex=ex: on_load(ex),
                          classes=[f"jiesu-load-{ex['id']}"])


def _select(label_: str, keys: list, current, on_key, show):
    shown = {show(k): k for k in keys}
    solara.Select(label=label_, values=list(shown), value=show(current), on_value=lambda v: on_key(shown[v]))


@solara.component
def Page():
    lang = solara.use_reactive("en")
    pair = solara.use_reactive(None)                       # this session's Lockstep; None while it is built
    wanted = solara.use_reactive((0, Setup()))             # (generation, setup) of the pair to build
    setup = solara.use_reactive(Setup())                   # what the sidebar shows (may differ from the run)
    playing = solara.use_reactive(False)
    target = solara.use_reactive(MAX_DAY)
    run_to = solara.use_reactive(120)
    speed = solara.use_reactive("max")
    tab = solara.use_reactive(0)
    district_outcome = solara.use_reactive("true_resolution_rate")
    tick = solara.use_reactive(0)
    L = lang.value

    def build():
        """The session's pair of runs, built after the page has rendered (the first page does not wait
        for the model's imports; a late-2021 start may first replay the history)."""
        generation, want = wanted.value
        built = Lockstep(want)
        if wanted.value[0] == generation:                    # not superseded by a later New run
            pair.value = built
            tick.value += 1

    building = solara.lab.use_task(build, dependencies=[wanted.value], prefer_threaded=True)

    def play_loop():
        run = pair.value
        if not playing.value or run is None:
            return
        t_draw = t0 = time.perf_counter()
        d0, rate = run.day, SPEEDS[speed.value]
        while playing.value and pair.value is run and run.day < target.value:
            run.step()
            if SPEEDS[speed.value] != rate:                      # the class changed the speed
                t0, d0, rate = time.perf_counter(), run.day, SPEEDS[speed.value]
            if rate:
                time.sleep(max(0.0, t0 + (run.day - d0) / rate - time.perf_counter()))
            if time.perf_counter() - t_draw >= max(RENDER_SECONDS, 4 * DRAW_SECONDS[0]):   # drawing <= ~20%
                tick.value += 1
                t_draw = time.perf_counter()
        playing.value = False
        tick.value += 1

    solara.lab.use_task(play_loop, dependencies=[playing.value, pair.value], prefer_threaded=True)
    tick.value                                               # noqa: B018 - redraw on every tick
    s = pair.value.snapshot() if pair.value is not None else None
    shown = s.setup if s is not None else wanted.value[1]      # the setup of the runs shown (or being built)

    def new_run(new: Setup | None = None):
        playing.value = False
        if new is not None:
            setup.value = new
        pair.value = None
        wanted.value = (wanted.value[0] + 1, setup.value)
        target.value = MAX_DAY

    def step_one():
        playing.value = False
        pair.value.step()
        tick.value += 1

    def go_to():
        target.value = max(int(run_to.value), pair.value.day + 1)
        playing.value = True

    def play_pause():
        if not playing.value:
            target.value = MAX_DAY
        playing.value = not playing.value

    def load_experiment(ex):
        new_run(Setup(start=ex["start"], rule_a=ex["a"], b_mode="rule_set", rule_b=ex["b"],
                      scale=setup.value.scale, seed=setup.value.seed))
        run_to.value = int(ex["days"])
        tab.value = 0

    su = setup.value
    with solara.AppBar():
        solara.AppBarTitle(t("title", L))
        languages = {"English": "en", "中文": "zh"}
        solara.ToggleButtonsSingle(value={v: k for k, v in languages.items()}[L], values=list(languages),
                                   on_value=lambda v: lang.set(languages[v]), classes=["jiesu-lang"],
                                   style={"margin-left": "auto"})

    with solara.Sidebar():
        with solara.Card(t("run", L)):
            if s is None:
                when = t("preparing", L)
            else:
                months = s.cfg_a.city.start_month - 1 + (s.start_day + s.day) * 12 // 365   # model/calendar.month_of
                when = f"{s.cfg_a.city.start_year + months // 12}-{months % 12 + 1:02d}"        # the calendar month
            solara.Text(f"{t('day', L)} {s.day if s else 0} {t('day_suffix', L)}".strip() + f" · {when}",
                        classes=["jiesu-day"], style={"font-size": "18px", "font-weight": "bold"})
            busy = s is None
            with solara.Row():
                solara.Button(t("pause", L) if playing.value else t("play", L), color="primary", on_click=play_pause,
                              disabled=busy, classes=["jiesu-play"])
                solara.Button(t("step", L), on_click=step_one, disabled=playing.value or busy, classes=["jiesu-step"])
            with solara.Row():
                solara.InputInt(t("run_to", L), value=run_to, classes=["jiesu-run-to"])
                solara.Button(t("go", L), on_click=go_to, disabled=playing.value or busy, classes=["jiesu-go"])
            _select(t("speed", L), list(SPEEDS), speed.value, speed.set, lambda k: t("max", L) if k == "max" else k)
            solara.Button(t("new_run", L), color="warning" if su != shown else None, on_click=lambda: new_run(),
                          classes=["jiesu-new-run"])
            if su != shown:
                solara.Warning(t("stale", L), dense=True)
            if building.error:
                solara.Error(f"{building.exception}")
        with solara.Card(t("setup", L)):
            _select(t("start", L), STARTS, su.start, lambda k: setup.set(replace(su, start=k)),
                    lambda k: name_of("starts", k, L))
            _select(t("arm_a", L), RULE_SETS, su.rule_a, lambda k: setup.set(replace(su, rule_a=k)),
                    lambda k: name_of("rule_sets", k, L))
            _select(t("b_mode", L), ["rule_set", "lever"], su.b_mode, lambda k: setup.set(replace(su, b_mode=k)),
                    lambda k: t("b_rule" if k == "rule_set" else "b_lever", L))
            if su.b_mode == "rule_set":
                _select(t("arm_b", L), RULE_SETS, su.rule_b, lambda k: setup.set(replace(su, rule_b=k)),
                        lambda k: name_of("rule_sets", k, L))
            else:
                choices = LEVERS[su.lever][1]
                _select(t("lever", L), list(LEVERS), su.lever,
                        lambda k: setup.set(replace(su, lever=k, lever_value=LEVERS[k][1][0])),
                        lambda k: f"{t('lever:' + k, L)} ({LEVERS[k][0]})")
                value = su.lever_value if su.lever_value in choices else choices[0]
                _select(t("value", L), choices, value, lambda v: setup.set(replace(su, lever_value=v)),
                        lambda v: ("on" if v else "off") if isinstance(v, bool) else f"{v:g}")
            solara.SliderFloat(t("scale", L), value=su.scale, min=0.005, max=0.05, step=0.005, thumb_label="always",
                               on_value=lambda v: setup.set(replace(su, scale=round(v, 3))))
            solara.InputInt(t("seed", L), value=su.seed, on_value=lambda v: setup.set(replace(su, seed=int(v))))

    solara.Title("jiesu 接诉即办")
    solara.Style(CSS)
    if s is not None and not cjk_font():                  # known once the model's imports are in
        solara.Warning(t("no_cjk", L))
    md(f"**A**: {shown.name('A', L)} &nbsp;·&nbsp; **B**: {shown.name('B', L)} &nbsp;·&nbsp; "
                    f"{t('start', L)}: {name_of('starts', shown.start, L)} &nbsp;·&nbsp; {t('last30', L)}:")
    NumberBoxes(s, L)
    key = (id(pair.value), s.day if s else -1)
    if s is None and tab.value != 4:                      # the plots wait for the runs; the lesson does not
        solara.Info(t("preparing", L), dense=True, classes=["jiesu-preparing"])
    with solara.lab.Tabs(value=tab.value, on_value=tab.set, grow=True):
        with solara.lab.Tab(t("tab_compare", L)):
            if tab.value == 0 and s is not None:
                Plot("measured_vs_true", lambda: fig_measured_true(s), s, [key], L)
        with solara.lab.Tab(t("tab_staff", L)):
            if tab.value == 1 and s is not None:
                Plot("staff_time", lambda: fig_staff_time(s), s, [key], L)
        with solara.lab.Tab(t("tab_scores", L)):
            if tab.value == 2 and s is not None:
                Plot("township_scores", lambda: fig_scores(s), s, [key], L)
        with solara.lab.Tab(t("tab_districts", L)):
            if tab.value == 3 and s is not None:
                _select(t("colour_by", L), DISTRICT_OUTCOMES, district_outcome.value, district_outcome.set,
                        lambda k: outcome(k).label(L))
                Plot("districts", lambda: fig_districts(s, district_outcome.value), s,
                     [key, district_outcome.value], L)
        with solara.lab.Tab(t("tab_lesson", L)):
            if tab.value == 4:
                Lesson(L, load_experiment)
        with solara.lab.Tab(t("tab_export", L)):
            if tab.value == 5 and s is not None:
                solara.FileDownload(lambda: daily_csv(s), filename=f"jiesu-daily-day{s.day}.csv",
                                    label=t("csv_daily", L), mime_type="text/csv")
                solara.FileDownload(lambda: townships_csv(s), filename=f"jiesu-townships-day{s.day}.csv",
                                    label=t("csv_units", L), mime_type="text/csv")
                solara.Text(t("export_note", L))


# Solara's server sends usage statistics to a third party unless told not to; a classroom page does not
try:
    import solara.server.settings as _server_settings

    _server_settings.telemetry.mixpanel_enable = False
except ImportError:   # pragma: no cover - solara without its server (rendering in tests)
    pass

# Started when solara loads this file at server start, before the server answers: while a browser fetches
# and starts the page, the heavy modules come in (the end of the file: the thread calls cjk_font).
WARM_UP = threading.Thread(target=_heavy_imports, name="jiesu-app-imports", daemon=True)
WARM_UP.start()
