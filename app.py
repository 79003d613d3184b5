"""Classroom app (课堂演示): two rule sets side by side, day by day, in the browser.

For seminars on governance reform. Two runs of the model, A and B, start from the same
state on the same seed and advance in lockstep; B is another rule set, or A's rule set with
one lever changed. The page shows what the rules do to the *measured* rates that units are
scored on and to the *true* resolution of citizens' problems, to units' staff time, to
exhaustion and public trust, to township scores and to the 16 districts, with the lesson
material (``classroom/lesson.toml``) in Chinese and English. Every browser session gets its
own pair of runs (built when the page opens, never at import), in the app's model process
(``classroom/runs.py``, ``classroom/worker.py``): this server never imports the model, so the
page is served on one core while the model is imported and stepped on the other. The figures are
``classroom/figures.py``, the CSV exports ``classroom/export.py``, the text ``classroom/text.py``.

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
if str(HERE) not in sys.path:             # the classroom package next to this file
    sys.path.insert(0, str(HERE))


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

# The model process first: it imports the model on the other core while this process imports the page's
# modules and serves the first page (classroom/runs.py)
from classroom.runs import RemotePair, Setup, Snapshot, model_process  # noqa: E402

model_process()

# ---------------------------------------------------------------------------------------------
import threading  # noqa: E402
import time  # noqa: E402
from dataclasses import replace  # noqa: E402

import markdown  # noqa: E402
import numpy as np  # noqa: E402
import solara  # noqa: E402
import solara.lab  # noqa: E402

from classroom.export import daily_csv, townships_csv  # noqa: E402
from classroom.figures import (  # noqa: E402
    DISTRICT_OUTCOMES,
    DRAW_SECONDS,
    cjk_font,
    day0_file,
    draw,
    fig_districts,
    fig_measured_true,
    fig_scores,
    fig_staff_time,
    import_figure_parts,
    plot_png,
)
from classroom.text import LESSON, LEVERS, RULE_SETS, STARTS, name_of, t  # noqa: E402
from model.outcomes import outcome  # noqa: E402  - the registry only: no Mesa, SciPy or pandas

RENDER_SECONDS = 0.8            # while playing, redraw at most this often (a figure costs ~0.2 s, a day ~0.03 s)
CHUNK_SECONDS = 0.25            # while playing as fast as possible, ask the model process for this much work at once
SPEEDS = {"max": None, "20": 20, "10": 10, "5": 5, "2": 2}   # simulated days per second
MAX_DAY = 3 * 365


FIRST_PAGE = threading.Event()  # set when a session's page first shows its runs
WARM_UP_WAIT = 10.0             # seconds the start-up thread waits for that page at most


def _warm_up() -> None:
    """The server's share of the start-up, kept off the first page's way: the default setup's first plot at
    day 0 (before any data it depends on the setup only) is read from disk, or drawn now on a machine's first
    start, while the browser fetches the page; matplotlib's figure parts (about 0.3 s of CPU, which would
    hold the interpreter lock while the page is served) come once the first page shows its runs."""
    first = Snapshot(Setup(), 0, [], [], [], [], None)
    if not day0_file("measured_vs_true", first.setup).is_file():
        plot_png("measured_vs_true", lambda: fig_measured_true(first), first)
    FIRST_PAGE.wait(WARM_UP_WAIT)
    import_figure_parts()
    plot_png("measured_vs_true", lambda: fig_measured_true(first), first)


# ---------------------------------------------------------------------------------------------
# Playing
def play(run, going, rate, target, redraw) -> None:
    """Advance ``run`` (a RemotePair) while ``going()``: at ``rate()`` simulated days a second, or as fast
    as the model process steps when that is None, never past ``target()``. The days are asked for a few
    at a time (about CHUNK_SECONDS of the model's work) and the page is redrawn while the model process
    computes them, at most every RENDER_SECONDS (less often when a figure is slow to draw): the model and
    the drawing each have a core, and at most one request is on its way, so a pause takes at once."""
    clock, last_draw = (time.perf_counter(), run.day, rate()), time.perf_counter()
    while going():
        now = time.perf_counter()
        if rate() != clock[2]:                                   # the class changed the speed
            clock = (now, run.day, rate())
        t0, d0, r = clock
        days = (d0 + int((now - t0 + 0.1) * r) - run.day if r      # the days due 0.1 s from now
                else max(1, round(CHUNK_SECONDS / max(run.seconds_per_day, 1e-3))))   # a slow day: one at a time
        if days <= 0:
            time.sleep(max(0.0, t0 + (run.day + 1 - d0) / r - now))
            continue
        pending = run.step_async(max(1, min(days, 60, target() - run.day)))
        if now - last_draw >= max(RENDER_SECONDS, 4 * DRAW_SECONDS[0]):   # drawing takes at most ~1/5 of the time
            redraw()
            last_draw = time.perf_counter()
        pending.result()


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
/* the six tab labels always fit their row, in sentence case, a long one wrapping: in Vuetify's capitals
   the row needed ~930 px and, once it overflowed, scrolled the first label to "...IRED VS TRUE" */
.v-slide-group__content:has(> .jiesu-tab) { flex: 1 1 0; min-width: 0; white-space: normal; }
.v-tabs .v-tabs-bar .v-tab.jiesu-tab { text-transform: none; letter-spacing: normal; flex: 1 1 auto; min-width: 0;
                                      padding: 0 8px; white-space: normal; line-height: 1.15; font-size: 15px; }
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
    pair = solara.use_reactive(None)                       # this session's RemotePair; None while it is built
    wanted = solara.use_reactive((0, Setup()))             # (generation, setup) of the pair to build
    setup = solara.use_reactive(Setup())                   # what the sidebar shows (may differ from the run)
    playing = solara.use_reactive(False)
    target = solara.use_reactive(MAX_DAY)
    run_to = solara.use_reactive(120)
    speed = solara.use_reactive("max")
    tab = solara.use_reactive(0)
    district_outcome = solara.use_reactive("true_resolution_rate")
    tick = solara.use_reactive(0)
    looping = solara.use_reactive(False)                   # a play loop runs (it may be finishing its last days)
    loops = solara.use_ref(0)                              # which play loop is the current one
    L = lang.value

    def build():
        """The session's pair of runs, built after the page has rendered (in the model process, which
        may still be importing the model; a late-2021 start may first replay the history)."""
        generation, want = wanted.value
        built = RemotePair(want)
        if wanted.value[0] == generation:                    # not superseded by a later New run
            pair.value = built
            tick.value += 1
            FIRST_PAGE.set()
        else:
            built.close()

    building = solara.lab.use_task(build, dependencies=[wanted.value], prefer_threaded=True)

    def release():
        run = pair.value
        return (lambda: run.close()) if run is not None else None

    solara.use_effect(release, [pair.value])                # a replaced pair, or the session's at its end

    def play_loop():
        run = pair.value
        if not playing.value or run is None:
            return
        loops.current += 1
        loop = loops.current
        looping.value = True
        try:
            play(run, lambda: playing.value and pair.value is run and run.day < target.value and loops.current == loop,
                 lambda: SPEEDS[speed.value], lambda: target.value, redraw=lambda: tick.set(tick.value + 1))
        finally:
            if loops.current == loop:                         # not replaced by a later Play
                playing.value = False
                tick.value += 1
                looping.value = False

    playing_task = solara.lab.use_task(play_loop, dependencies=[playing.value, pair.value], prefer_threaded=True)
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
                when = s.calendar()
            solara.Text(f"{t('day', L)} {s.day if s else 0} {t('day_suffix', L)}".strip() + f" · {when}",
                        classes=["jiesu-day"], style={"font-size": "18px", "font-weight": "bold"})
            busy, moving = s is None, playing.value or looping.value     # (after Pause, the last days come in)
            with solara.Row():
                solara.Button(t("pause", L) if moving else t("play", L), color="primary", on_click=play_pause,
                              disabled=busy or (moving and not playing.value), classes=["jiesu-play"])
                solara.Button(t("step", L), on_click=step_one, disabled=moving or busy, classes=["jiesu-step"])
            with solara.Row():
                solara.InputInt(t("run_to", L), value=run_to, classes=["jiesu-run-to"])
                solara.Button(t("go", L), on_click=go_to, disabled=moving or busy, classes=["jiesu-go"])
            _select(t("speed", L), list(SPEEDS), speed.value, speed.set, lambda k: t("max", L) if k == "max" else k)
            solara.Button(t("new_run", L), color="warning" if su != shown else None, on_click=lambda: new_run(),
                          classes=["jiesu-new-run"])
            if su != shown:
                solara.Warning(t("stale", L), dense=True)
            for task in (building, playing_task):
                if task.error:
                    solara.Error(f"{task.exception}")
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
        with solara.lab.Tab(t("tab_compare", L), classes=["jiesu-tab"]):
            if tab.value == 0 and s is not None:
                Plot("measured_vs_true", lambda: fig_measured_true(s), s, [key], L)
        with solara.lab.Tab(t("tab_staff", L), classes=["jiesu-tab"]):
            if tab.value == 1 and s is not None:
                Plot("staff_time", lambda: fig_staff_time(s), s, [key], L)
        with solara.lab.Tab(t("tab_scores", L), classes=["jiesu-tab"]):
            if tab.value == 2 and s is not None:
                Plot("township_scores", lambda: fig_scores(s), s, [key], L)
        with solara.lab.Tab(t("tab_districts", L), classes=["jiesu-tab"]):
            if tab.value == 3 and s is not None:
                _select(t("colour_by", L), DISTRICT_OUTCOMES, district_outcome.value, district_outcome.set,
                        lambda k: outcome(k).label(L))
                Plot("districts", lambda: fig_districts(s, district_outcome.value), s,
                     [key, district_outcome.value], L)
        with solara.lab.Tab(t("tab_lesson", L), classes=["jiesu-tab"]):
            if tab.value == 4:
                Lesson(L, load_experiment)
        with solara.lab.Tab(t("tab_export", L), classes=["jiesu-tab"]):
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

# Started when solara loads this file at server start, before the server answers (the model process is
# already under way, at the top)
WARM_UP = threading.Thread(target=_warm_up, name="jiesu-app-warm-up", daemon=True)
WARM_UP.start()
