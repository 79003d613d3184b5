"""The classroom app (app.py, ``jiesu app``): levers reach the model, components render, the server serves."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import solara

from experiments.cli import main

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import app  # noqa: E402


def test_levers_override_the_rule_set_and_as_in_rule_set_keeps_it():
    strong = app.ClassroomModel(rule_set="strong_audit.toml", scale=0.005)
    assert strong.cfg.rules.audit.sample_share == pytest.approx(0.2)       # the file's own value
    changed = app.ClassroomModel(rule_set="strong_audit.toml", scale=0.005, audit_share="0.05",
                                 remedial_share="0.3", sanction_strength="3", capacity_ratio="0.85",
                                 learning=False, seed=7)
    c = changed.cfg
    assert (c.rules.audit.sample_share, c.rules.assessment.remedial_share, c.rules.sanctions.strength,
            c.world.capacity.ratio, c.world.behaviour.learning, changed.seed) == (0.05, 0.3, 3.0, 0.85, False, 7)


def test_every_lever_choice_and_rule_set_is_a_valid_scenario():
    for rule_set in app.RULE_SETS:
        app.ClassroomModel(rule_set=rule_set, scale=0.005)
    for name, values in app.CHOICES.items():
        for v in values[1:]:
            app.ClassroomModel(scale=0.005, **{name: v})


def test_series_are_30_day_means_of_the_daily_record():
    m = app.ClassroomModel(scale=0.005)
    m.run(40)
    df = m.datacollector.get_model_vars_dataframe()
    assert len(df) == 40 and set(app.SERIES) <= set(df.columns)
    last30 = np.mean([r["resolution_rate"] for r in m.daily[-30:]])
    assert df["measured resolution 解决率"].iloc[-1] == pytest.approx(last30)
    assert df.iloc[-1].between(0, 1).all()


def test_components_render_before_and_after_the_first_assessment():
    m = app.ClassroomModel(scale=0.005)
    for days in (1, 35):
        m.run(days)
        for component in (app.Headline, app.MeasuredVsTrue, app.EffortSplit, app.TrustAndExhaustion,
                          app.TownshipScores):
            solara.render(component(m), handle_error=False)
    assert m.unit_months                                   # the score histogram had a month to show


def test_the_page_builds():
    box, _rc = solara.render(app.page, handle_error=False)
    assert box is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_jiesu_app_serves_the_page():
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "experiments.cli", "app", "--port", str(port), "--host", "127.0.0.1"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, body = time.time() + 90, ""
        while time.time() < deadline and not body:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read().decode()
            except OSError:
                assert proc.poll() is None, "the app server exited early"
                time.sleep(1)
        assert "solara" in body.lower()
    finally:
        proc.terminate()                 # jiesu app execs the server, so this stops it
        proc.wait(timeout=30)
    with socket.socket() as s:           # nobody listens on the port any more: no server left behind
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # (closed connections may linger in TIME_WAIT)
        s.bind(("127.0.0.1", port))


def test_jiesu_app_without_solara_is_one_line_and_exit_2(monkeypatch, capsys):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "solara" else real(name, *a))
    assert main(["app"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "[app]" in err
