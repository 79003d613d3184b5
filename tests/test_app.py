"""The classroom app (app.py): its two runs, what it plots and exports, the [app] extra check.

What a browser shows is tested in tests/test_app_browser.py.
"""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import solara

from experiments.cli import main
from model import load_scenario
from model.outcomes import DAILY

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import app  # noqa: E402
from classroom import export, figures, runs, text  # noqa: E402


@pytest.fixture(scope="module")
def ran():
    """A pair of runs (2021 regulation vs harsh sanctions) after 65 days: two assessed months."""
    pair = runs.Lockstep(runs.Setup(scale=0.005))
    for _ in range(65):
        pair.step()
    return pair


def test_run_b_changes_one_lever_and_run_a_keeps_the_rule_set():
    a, b = runs.configs(runs.Setup(b_mode="lever", lever="rules.audit.sample_share", lever_value=0.2))
    assert a.rules.audit.sample_share == pytest.approx(0.02) and b.rules.audit.sample_share == pytest.approx(0.2)
    assert a.model_dump(exclude={"rules"}) == b.model_dump(exclude={"rules"})
    assert {k: v for k, v in a.rules.model_dump().items() if k != "audit"} == \
           {k: v for k, v in b.rules.model_dump().items() if k != "audit"}


def test_every_rule_set_and_lever_choice_is_a_valid_scenario():
    for rule_set in text.RULE_SETS:
        for start in text.STARTS:
            runs.configs(runs.Setup(start=start, rule_a=rule_set, rule_b=rule_set))
    for lever, (_article, values) in text.LEVERS.items():
        for v in values:
            _a, b = runs.configs(runs.Setup(b_mode="lever", lever=lever, lever_value=v))
            section, *path = lever.split(".")
            got = getattr(b, section)
            for key in path:
                got = getattr(got, key)
            assert got == v


def test_the_2019_start_takes_the_2019_world_and_calendar_and_keeps_each_runs_rules():
    a, b = runs.configs(runs.Setup(start="launch_2019", rule_a="reform_2019.toml", rule_b="final_2021.toml"))
    launch = load_scenario(ROOT / "scenarios" / "reform_2019.toml")
    final = load_scenario(ROOT / "scenarios" / "final_2021.toml")
    for cfg in (a, b):
        assert cfg.city.start_year == 2019
        assert cfg.world.model_dump() == launch.world.model_dump()
    assert a.rules.model_dump() == launch.rules.model_dump() and b.rules.model_dump() == final.rules.model_dump()
    fresh_a, _ = runs.configs(runs.Setup(start="fresh_2021", rule_a="reform_2019.toml"))
    assert fresh_a.city.start_year == 2022 and fresh_a.world.model_dump() == final.world.model_dump()


def test_same_rules_on_the_same_seed_give_the_same_run():
    pair = runs.Lockstep(runs.Setup(scale=0.005, rule_b="final_2021.toml", seed=3))
    for _ in range(12):
        pair.step()
    assert pair.a.day == pair.b.day == pair.day == 12
    assert pair.a.daily == pair.b.daily                   # common random numbers: lockstep arms differ only by rules


def test_number_boxes_are_30_day_means_and_curves_7_day_means(ran):
    s = ran.snapshot()
    assert s.last("B", "true_resolution_rate") == pytest.approx(
        np.mean([r["true_resolution_rate"] for r in ran.b.daily[-30:]]))
    _, curve = s.series("A", "resolution_rate")
    assert curve[-1] == pytest.approx(np.mean([r["resolution_rate"] for r in ran.a.daily[-7:]]))
    gap = s.last("A", "measured_true_gap")
    assert gap == pytest.approx(s.last("A", "resolution_rate") - s.last("A", "true_resolution_rate"))


def test_labels_come_from_the_outcome_registry():
    assert figures.label("true_resolution_rate") == DAILY["true_resolution_rate"].label("both" if figures.cjk_font() else "en")
    assert all(name in DAILY or name == "measured_true_gap" for name in app.BOXES + figures.DISTRICT_OUTCOMES)


def _texts(fig) -> str:
    return " ".join(t.get_text() for t in fig.findobj(lambda o: hasattr(o, "get_text")))


@pytest.mark.parametrize("days", [0, 1, 65])
def test_every_figure_draws_before_and_after_the_first_assessment(days, ran):
    pair = ran if days == 65 else runs.Lockstep(runs.Setup(scale=0.005))
    for _ in range(days if days < 65 else 0):
        pair.step()
    s = pair.snapshot()
    outcomes = figures.DISTRICT_OUTCOMES if days == 65 else figures.DISTRICT_OUTCOMES[:1]
    drawn = [figures.fig_measured_true(s), figures.fig_staff_time(s), figures.fig_scores(s),
             *[figures.fig_districts(s, name) for name in outcomes]]
    for fig in drawn:
        assert figures.png(fig)[:8] == b"\x89PNG\r\n\x1a\n"
        if figures.cjk_font():
            assert any("\u4e00" <= ch <= "\u9fff" for ch in _texts(fig))   # the Chinese terms are drawn
        assert "nan" not in _texts(fig).lower()


def test_y_axes_fit_the_data_instead_of_0_to_1(ran):
    fig = figures.fig_measured_true(ran.snapshot())
    lo, hi = fig.axes[0].get_ylim()
    assert 0.3 < lo and hi <= 1.0 and hi - lo < 0.5              # a rate axis stops at 100%
    d_lo, d_hi = fig.axes[2].get_ylim()
    assert d_lo == pytest.approx(-d_hi) and d_hi < 20              # the difference panel is centred on zero


def test_township_scores_are_on_their_points_scale_with_both_lines(ran):
    fig = figures.fig_scores(ran.snapshot())
    last = ran.a.unit_months[-1]
    tw = (ran.a.city.unit_kind == 0) & np.asarray(last["assessable"], bool)
    score = np.asarray(last["score"])[tw]
    lo, hi = fig.axes[0].get_xlim()
    assert lo <= np.nanmin(score) and hi >= np.nanmax(score) and hi > 100     # not squeezed into 0-100
    lines = [c for c in fig.axes[0].collections if type(c).__name__ == "LineCollection"]
    assert len(lines) == 2 * len(set(np.asarray(last["class"])[tw].tolist()))   # remedial + commendation per class


def test_district_values_pool_the_townships_of_each_district(ran):
    s = ran.snapshot()
    last = ran.a.unit_months[-1]
    values = figures.district_values(s, "A", "true_resolution_rate")
    k = 3
    tw = np.flatnonzero(np.asarray(ran.a.city.unit_district)[: ran.a.city.n_townships] == k)
    assert values[k] == pytest.approx(np.sum(last["true_resolved"][tw]) / np.sum(last["closed"][tw]))
    assert len(values) == 16 and set(figures.TILES) == set(ran.a.city.district_names)


def test_exports_hold_both_runs(ran):
    s = ran.snapshot()
    daily = pd.read_csv(io.BytesIO(export.daily_csv(s)))
    assert len(daily) == 2 * 65 and set(daily["run"]) == {"A", "B"}
    assert set(DAILY) <= set(daily.columns) and not daily[list(DAILY)].isna().all().any()
    assert daily["month"].iloc[-1] == 3 and daily["year"].iloc[0] == 2022
    units = pd.read_csv(io.BytesIO(export.townships_csv(s)))
    assert len(units) == 2 * len(ran.a.unit_months) * ran.a.city.n_townships
    assert {"score", "remedial", "commended", "true_resolution_rate"} <= set(units.columns)


def test_each_page_gets_its_own_runs_and_none_is_built_at_import():
    assert not any(isinstance(v, (runs.Lockstep, runs.RemotePair)) for v in vars(app).values())
    built = []
    real = runs.RemotePair.__init__

    def spy(self, *a, **k):
        real(self, *a, **k)
        built.append(self)

    runs.RemotePair.__init__ = spy
    try:
        pages = [solara.render(app.Page(), handle_error=False) for _ in range(2)]
        deadline = time.time() + 120                       # each page builds its pair after its first render
        while len(built) < 2 and time.time() < deadline:
            time.sleep(0.05)
    finally:
        runs.RemotePair.__init__ = real
    assert len(built) == 2 and built[0] is not built[1] and built[0].id != built[1].id
    for _box, rc in pages:
        rc.close()


def test_the_page_renders_its_headline_before_the_runs_exist():
    """The first render shows the day, both runs' names and the number boxes; the pair comes after it."""
    gate, built = threading.Event(), []
    real = runs.RemotePair.__init__

    def slow(self, *a, **k):
        gate.wait(60)
        real(self, *a, **k)
        built.append(self)

    runs.RemotePair.__init__ = slow
    try:
        box, rc = solara.render(app.Page(), handle_error=False)
        shown = _widget_text(box)
        assert not built and "preparing the two runs" in shown and "harsh sanctions" in shown
        assert "PNG: measured_vs_true" not in shown
        assert shown.count("B - A") == len(app.BOXES)
        gate.set()
        deadline = time.time() + 120
        while "preparing the two runs" in _widget_text(box) and time.time() < deadline:
            time.sleep(0.05)
        after = _widget_text(box)                        # (the sidebar's day counter is outside this tree)
        assert built and "preparing the two runs" not in after and "PNG: measured_vs_true" in after
    finally:
        gate.set()
        runs.RemotePair.__init__ = real
    rc.close()


def test_the_server_never_imports_the_model_and_its_process_runs_the_pair():
    """The page's process keeps Mesa, SciPy, pandas and the model out (the model process has them), and a
    pair stepped there arrives whole."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import app; from classroom.runs import RemotePair, Setup; "
            "p = RemotePair(Setup(scale=0.005)); p.step(3); s = p.snapshot(); "
            "print(s.day, len(s.daily_a), len(s.daily_b), "
            "*[m for m in ('mesa', 'scipy', 'pandas', 'networkx', 'model.model') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code, str(ROOT)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["3", "3", "3"]


def test_the_model_process_hands_over_every_record_of_both_runs():
    """A pair in the model process gives the page the same daily records and assessed months as the same
    pair run here, across a month end, in whatever chunks it is stepped."""
    setup = runs.Setup(scale=0.005, seed=2)
    here, there = runs.Lockstep(setup), runs.RemotePair(setup)
    for _ in range(33):
        here.step()
    for days in (1, 20, 12):
        there.step(days)
    mine, theirs = here.snapshot(), there.snapshot()
    assert theirs.day == mine.day == 33 and theirs.daily_a == mine.daily_a and theirs.daily_b == mine.daily_b
    assert len(theirs.units_b) == len(mine.units_b) == 1
    for got, want in zip(theirs.units_a + theirs.units_b, mine.units_a + mine.units_b):
        assert got.keys() == want.keys()
        assert all(np.array_equal(got[k], want[k], equal_nan=np.asarray(want[k]).dtype.kind == "f") for k in want)
    assert theirs.calendar() == mine.calendar() == "2022-02"
    assert (theirs.city.n_townships, theirs.city.district_names) == (mine.city.n_townships, mine.city.district_names)


def test_the_model_process_reports_errors_and_forgets_dropped_pairs():
    with pytest.raises(Exception, match="no_such_rules"):
        runs.RemotePair(runs.Setup(rule_a="no_such_rules.toml", scale=0.005))
    pair = runs.RemotePair(runs.Setup(scale=0.005))        # the process goes on after an error
    pair.step()
    pair.close()
    with pytest.raises(KeyError, match="no pair"):
        pair.step()


def test_a_model_process_that_ends_fails_its_requests_and_the_next_pair_gets_a_new_one():
    own = runs.ModelProcess()
    pair = runs.RemotePair(runs.Setup(scale=0.005), own)
    own.proc.kill()
    with pytest.raises(runs.ModelProcessError, match="has ended"):
        pair.step()
    with pytest.raises(runs.ModelProcessError, match="has ended"):
        runs.RemotePair(runs.Setup(scale=0.005), own)
    shared = runs.model_process()
    assert shared is not own and shared.ended is None


class _FakePair:
    """What play() needs of a RemotePair: the day, a step request, the model's time per day."""

    def __init__(self, seconds_per_day):
        self.day, self.seconds_per_day, self.asked = 0, seconds_per_day, []

    def step_async(self, days):
        from concurrent.futures import Future

        self.asked.append(days)
        self.day += days
        done = Future()
        done.set_result(None)
        return done


def test_play_stops_at_the_target_and_asks_for_days_in_chunks_as_fast_as_possible(monkeypatch):
    monkeypatch.setattr(app, "RENDER_SECONDS", 0.0)
    monkeypatch.setattr(app, "DRAW_SECONDS", [0.0])
    run, redraws = _FakePair(seconds_per_day=0.01), []
    app.play(run, lambda: run.day < 100, lambda: None, lambda: 100, redraw=lambda: redraws.append(run.day))
    assert run.day == 100                                            # never past the target
    assert run.asked[:3] == [round(app.CHUNK_SECONDS / 0.01)] * 3     # ~CHUNK_SECONDS of the model's work each
    assert len(redraws) == len(run.asked)                              # one redraw while each request is computed


def test_play_as_fast_as_possible_with_days_slower_than_a_chunk_asks_for_one_at_a_time():
    run = _FakePair(seconds_per_day=2.0)                       # a large scale on a loaded machine
    app.play(run, lambda: run.day < 3, lambda: None, lambda: 3, redraw=lambda: None)
    assert run.asked == [1, 1, 1]


def test_play_at_a_set_speed_asks_only_for_the_days_due():
    run = _FakePair(seconds_per_day=0.001)
    app.play(run, lambda: run.day < 6, lambda: 20, lambda: 6, redraw=lambda: None)
    assert run.day == 6 and max(run.asked) <= 3                      # 20 days/s: about 2 days per 0.1 s


def test_the_day0_plot_is_kept_on_disk_and_read_back_without_drawing(monkeypatch, tmp_path):
    monkeypatch.setattr(runs, "STATES", tmp_path)
    monkeypatch.setattr(figures, "DAY0_PNGS", {})
    s = runs.Snapshot(runs.Setup(rule_b="strong_audit.toml"), 0, [], [], [], [], None)
    first = figures.plot_png("measured_vs_true", lambda: figures.fig_measured_true(s), s)
    kept = figures.day0_file("measured_vs_true", s.setup)
    assert kept.parent.parent == tmp_path and kept.read_bytes() == first
    assert figures.day0_file("measured_vs_true", runs.Setup()) != kept          # another setup, another file
    monkeypatch.setattr(figures, "DAY0_PNGS", {})

    def no_drawing(make, dpi=90):
        raise AssertionError("drawn again")

    monkeypatch.setattr(figures, "draw", no_drawing)
    assert figures.plot_png("measured_vs_true", lambda: figures.fig_measured_true(s), s) == first


def _widget_text(widget) -> str:
    """The text a rendered solara tree shows (its widgets' string values and children, depth first)."""
    import ipywidgets

    out = []

    def walk(w):
        for name in w.keys:                            # every synced trait: strings, and widgets below
            v = getattr(w, name, None)
            for item in v if isinstance(v, (list, tuple)) else [v]:
                if isinstance(item, str) and not name.startswith("_"):
                    out.append(item)
                elif isinstance(item, ipywidgets.Widget):
                    walk(item)

    walk(widget)
    return " ".join(out)


def test_lesson_has_both_languages_and_three_or_four_experiments():
    assert 3 <= len(text.LESSON["experiment"]) <= 4
    for item in text.LESSON["section"] + text.LESSON["experiment"]:
        for field in [k for k in item if k.endswith("_en")]:
            zh = item[field.removesuffix("_en") + "_zh"]
            assert zh and any("\u4e00" <= ch <= "\u9fff" for ch in "".join(zh)), field
    for ex in text.LESSON["experiment"]:
        assert ex["a"] in text.RULE_SETS and ex["b"] in text.RULE_SETS and ex["start"] in text.STARTS
    for key, (en, zh) in text.TEXT.items():
        assert zh and (en or key == "day_suffix"), key   # English says "Day 3", Chinese 第 3 天


def test_requirements_problem_names_what_is_missing(monkeypatch, tmp_path):
    assert app.requirements_problem() is None
    monkeypatch.setenv("SOLARA_ASSETS_PROXY_CACHE_DIR", str(tmp_path))         # no local JavaScript
    assert "solara-assets" in app.requirements_problem()
    monkeypatch.delenv("SOLARA_ASSETS_PROXY_CACHE_DIR")
    real = app.importlib.metadata.version
    monkeypatch.setattr(app.importlib.metadata, "version", lambda p: "3.1.1" if p == "ipyvue" else real(p))
    assert "ipyvue<2" in app.requirements_problem()


def test_app_check_is_one_line_and_exit_2_without_local_assets(tmp_path):
    ok = subprocess.run([sys.executable, str(ROOT / "app.py"), "--check"], capture_output=True, text=True)
    assert ok.returncode == 0
    env = {"SOLARA_ASSETS_PROXY_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    bad = subprocess.run([sys.executable, str(ROOT / "app.py"), "--check"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "[app]" in bad.stderr


def test_jiesu_app_refuses_an_incomplete_extra_in_one_line_with_exit_2(monkeypatch, tmp_path, capsys):
    """`jiesu app` asks `app.py --check`: with the page's JavaScript missing it says so, exit 2."""
    monkeypatch.setenv("SOLARA_ASSETS_PROXY_CACHE_DIR", str(tmp_path))         # no local JavaScript
    assert main(["app", "--port", str(8765)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "[app]" in err and "solara-assets" in err


def test_the_late_2021_start_continues_the_replayed_system_with_each_runs_rules(late_2021_states, monkeypatch):
    """Both runs start from the history replay's state (made once, then reused) at day 0 of the pair."""
    monkeypatch.setattr(runs, "STATES", late_2021_states)
    setup = runs.Setup(start="late_2021", rule_a="final_2021.toml", rule_b="harsh_sanctions.toml", scale=0.005)
    made = list(late_2021_states.glob("late_2021-scale0.005-seed1.state"))
    assert len(made) == 1
    mtime = made[0].stat().st_mtime
    pair = runs.Lockstep(setup)
    assert made[0].stat().st_mtime == mtime                            # reused, not remade
    assert pair.day == 0 and pair.start_day == pair.a.day == 1126      # Nov 2018 + 1126 days
    assert pair.a.cfg.rules != pair.b.cfg.rules
    assert pair.a.cfg.world.demand.contacts_per_capita_year == pytest.approx(
        runs.replay_end_config(load_scenario(ROOT / "scenarios" / "history_2019_2021.toml")).world.demand
        .contacts_per_capita_year)                                  # the world as the replay left it
    for _ in range(3):
        pair.step()
    snap = pair.snapshot()
    assert snap.day == 3 and len(snap.daily_a) == 3 and snap.daily_a[0]["year"] == 2021 and snap.daily_a[0]["month"] == 12

