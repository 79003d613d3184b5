"""The classroom app in a real browser (Debian's headless chromium): it renders every plot offline,
with no console errors and no request off this machine; play and "run to day N" advance the day;
two students' sessions are independent; the comparison view shows both runs; the language switches.

One server (``jiesu app``, localhost only) and one browser for the module; both are stopped
at the end. Skipped when /usr/bin/chromium is missing (``make test`` installs it where it can).
"""

from __future__ import annotations

import json
import re
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser import CHROMIUM, Browser, start_app, stop_app  # noqa: E402

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no {CHROMIUM} (make test installs it as root)")

PLOTS = "[...document.querySelectorAll('img.jiesu-plot')].filter(i => i.complete && i.naturalWidth > 100).length"
DAY = "(document.querySelector('.jiesu-day') || {innerText: ''}).innerText"
LOCAL = {"127.0.0.1", "localhost", "[::1]", "::1"}


@pytest.fixture(scope="module")
def server(late_2021_states):
    # the late-2021 replay at scale 0.005 is made once per test session (tests/conftest.py), not by the server
    proc, url = start_app(ROOT, {"JIESU_APP_STATES": str(late_2021_states)})
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(url, timeout=5).read()
                break
            except OSError:
                assert proc.poll() is None, "the app server exited early"
                assert time.time() < deadline, "the app server did not answer within 90 s"
                time.sleep(0.2)
        yield url
    finally:
        stop_app(proc)


@pytest.fixture(scope="module")
def browser():
    with Browser() as b:
        yield b


def day(page) -> int:
    found = re.search(r"\d+", page.evaluate(DAY) or "")
    return int(found.group(0)) if found else -1


def open_app(browser, url):
    page = browser.new_page()
    page.goto(url)
    page.wait_for(f"{PLOTS} >= 1", timeout=60, what="the first plot")
    return page


def off_this_machine(page) -> list[str]:
    return [u for u in page.requests if urlparse(u).scheme not in ("data", "blob", "about", "chrome")
            and urlparse(u).hostname not in LOCAL]


def set_input(page, css: str, value: str):
    """Type into a text field and press Enter (solara commits on Enter or blur)."""
    page.evaluate(f"(() => {{ const el = document.querySelector({css!r}); el.focus(); el.select(); }})()")
    page.send("Input.insertText", {"text": value})
    for kind in ("keyDown", "keyUp"):
        page.send("Input.dispatchKeyEvent", {"type": kind, "key": "Enter", "code": "Enter",
                                             "windowsVirtualKeyCode": 13, "text": "\r" if kind == "keyDown" else ""})


def test_every_plot_renders_offline_without_console_errors(browser, server):
    page = open_app(browser, server)
    page.click_text("Run to day N")                       # the default "run to day" (120): a few months of data
    page.wait_for(f"/Day 120\\b/.test({DAY})", timeout=60, what="day 120")
    for tab, name in (("Staff time", "staff_time"), ("Township scores", "township_scores"),
                      ("Districts", "districts"), ("Measured vs true", "measured_vs_true")):
        page.click_text(tab, ".v-tab")
        page.wait_for(f"[...document.querySelectorAll('img.jiesu-plot-{name}')]"
                      ".some(i => i.complete && i.naturalWidth > 100)", timeout=30, what=f"the {name} plot")
    page.click_text("Lesson", ".v-tab")
    page.wait_for("document.body.innerText.includes('How a request travels')", timeout=20)
    page.click_text("Export", ".v-tab")
    page.wait_for("document.body.innerText.includes('CSV')", timeout=20)
    page.wait_idle(quiet=1.0, timeout=30)                  # a missing asset answers late (the server tries a CDN)
    assert page.errors == [], page.errors
    assert page.failed == [], page.failed
    assert off_this_machine(page) == []
    assert len(page.requests) > 5                          # the recorder did see the page load


def test_play_and_run_to_day_advance_the_day(browser, server):
    page = open_app(browser, server)
    assert day(page) == 0
    page.click_text("Play")
    page.wait_for(f"/Day ([1-9]|\\d\\d)/.test({DAY})", timeout=30, what="the day to advance")
    page.click_text("Pause")
    page.wait_for("[...document.querySelectorAll('button')].some(b => b.innerText.trim().toLowerCase() === 'play')", timeout=30)
    paused = day(page)
    time.sleep(1.0)
    assert day(page) == paused > 0                         # paused means paused
    set_input(page, ".jiesu-run-to input", str(paused + 25))
    page.click_text("Run to day N")
    page.wait_for(f"/Day {paused + 25}\\b/.test({DAY})", timeout=60, what=f"day {paused + 25}")
    time.sleep(0.5)
    assert day(page) == paused + 25                        # and it stops there
    page.click_text("+1 day")
    page.wait_for(f"/Day {paused + 26}\\b/.test({DAY})", timeout=20)
    assert page.errors == []


def test_two_sessions_are_independent(browser, server):
    first = open_app(browser, server)
    first.click_text("+1 day")
    first.wait_for(f"/Day 1\\b/.test({DAY})", timeout=20)
    first.click_text("+1 day")
    first.wait_for(f"/Day 2\\b/.test({DAY})", timeout=20)
    second = open_app(browser, server)                     # another student: own browser context, own run
    assert day(second) == 0
    second.click_text("+1 day")
    second.wait_for(f"/Day 1\\b/.test({DAY})", timeout=20)
    time.sleep(0.5)
    assert day(first) == 2                                 # the first student's run did not move


# the plot's colours (app.A_COLOUR, app.B_COLOUR) counted in the rendered image
COUNT_COLOURS = """(() => {
  const img = document.querySelector('img.jiesu-plot-measured_vs_true');
  const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data; let a = 0, b = 0;
  const near = (i, r, gg, bb) => Math.abs(d[i] - r) + Math.abs(d[i + 1] - gg) + Math.abs(d[i + 2] - bb) < 60;
  for (let i = 0; i < d.length; i += 4) { if (near(i, 31, 119, 180)) a++; if (near(i, 214, 39, 40)) b++; }
  return [a, b]; })()"""


def test_comparison_view_shows_both_runs_and_their_difference(browser, server):
    page = open_app(browser, server)
    text = page.text()
    assert "A: the 2021 regulation" in text and "B: harsh sanctions" in text
    set_input(page, ".jiesu-run-to input", "40")
    page.click_text("Run to day N")
    page.wait_for(f"/Day 40\\b/.test({DAY})", timeout=60, what="day 40")
    page.wait_for("document.querySelectorAll('.jiesu-box').length >= 8", timeout=20)
    boxes = page.evaluate("[...document.querySelectorAll('.jiesu-box')].map(b => b.innerText)")
    for box in boxes:                                      # every number box has both runs and B - A
        assert re.search(r"A \d", box) and re.search(r"B \d", box) and "B - A" in box, box
    page.wait_for("document.querySelector('img.jiesu-plot-measured_vs_true') && "
                  "document.querySelector('img.jiesu-plot-measured_vs_true').complete", timeout=20)
    time.sleep(0.5)
    a_pixels, b_pixels = page.evaluate(COUNT_COLOURS)
    assert a_pixels > 500 and b_pixels > 500, (a_pixels, b_pixels)   # both runs are drawn


def test_language_switch_and_prepared_experiment(browser, server):
    page = open_app(browser, server)
    page.click_text("Lesson", ".v-tab")
    page.wait_for("document.body.innerText.includes('Why does a stronger audit help?')", timeout=20)
    page.evaluate("document.querySelector('.jiesu-load-strong_audit').click()")
    page.wait_for("document.body.innerText.includes('B: a strong audit (20%)')", timeout=30, what="experiment loaded")
    page.click_text("中文", "button")
    page.wait_for("document.body.innerText.includes('重新开始') && document.body.innerText.includes('加强抽查')",
                  timeout=20, what="the Chinese interface")
    assert "New run" not in page.text()
    assert page.errors == []


def choose(page, label: str, option: str):
    """Pick ``option`` in the sidebar's select labelled ``label``."""
    opened = page.evaluate(f"""(() => {{
        const f = [...document.querySelectorAll('.v-select')].find(e => e.innerText.includes({json.dumps(label)}));
        if (!f) return false; f.querySelector('.v-input__slot').click(); return true; }})()""")
    assert opened, f"no select labelled {label!r}"
    page.wait_for(f"[...document.querySelectorAll('.v-list-item')].some(e => e.offsetParent !== null && "
                  f"e.innerText.includes({json.dumps(option)}))", timeout=20, what=f"the option {option!r}")
    page.click_text(option, ".v-list-item")


def press(page, css: str, key: str, code: int):
    page.evaluate(f"document.querySelector({css!r}).focus()")
    for kind in ("keyDown", "keyUp"):
        page.send("Input.dispatchKeyEvent", {"type": kind, "key": key, "code": key, "windowsVirtualKeyCode": code})


def test_the_late_2021_start_shows_the_replayed_calendar_and_both_runs(browser, server):
    """Start from the system as replayed to late 2021 (at the smallest scale, whose state the session made):
    the day counter shows December 2021, both runs are named and advance together into 2022."""
    page = open_app(browser, server)
    assert "2022-01" in page.evaluate(DAY)                # the default start: January 2022
    choose(page, "start from", "replayed to late 2021")
    press(page, ".v-slider [role=slider]", "ArrowLeft", 37)          # scale 0.01 -> 0.005 (one step)
    page.wait_for("document.querySelector('.v-slider input').value === '0.005'", timeout=20, what="scale 0.005")
    page.wait_for("document.body.innerText.includes('take effect when you press New run')", timeout=20)
    page.click_text("New run")
    page.wait_for(f"/Day 0 · 2021-12/.test({DAY})", timeout=120, what="day 0 in December 2021")
    text = page.text()
    assert "A: the 2021 regulation" in text and "B: harsh sanctions" in text
    assert "start from: the system as replayed to late 2021" in text and "take effect" not in text
    set_input(page, ".jiesu-run-to input", "35")
    page.click_text("Run to day N")
    page.wait_for(f"/Day 35 · 2022-01/.test({DAY})", timeout=120, what="day 35 in January 2022")
    page.wait_for(f"{PLOTS} >= 1", timeout=30)
    boxes = page.evaluate("[...document.querySelectorAll('.jiesu-box')].map(b => b.innerText)")
    assert len(boxes) == 8 and all(re.search(r"A \d", b) and re.search(r"B \d", b) for b in boxes), boxes
    assert page.errors == [] and off_this_machine(page) == []


# every tab label inside the visible tab row, uncut (a row that overflows scrolls and cuts the first label)
TABS_WHOLE = """(() => {
  const tabs = [...document.querySelectorAll('.v-tab.jiesu-tab')];
  const row = tabs[0].closest('.v-slide-group__wrapper').getBoundingClientRect();
  return tabs.length === 6 && tabs.every(t => { const r = t.getBoundingClientRect();
    return r.left >= row.left - 0.5 && r.right <= row.right + 0.5 && t.scrollWidth <= t.clientWidth
           && t.innerText.trim().length > 1; }); })()"""


@pytest.mark.parametrize("width", [1400, 1000])
def test_every_tab_label_is_whole_in_both_languages(browser, server, width):
    page = open_app(browser, server)
    page.send("Emulation.setDeviceMetricsOverride", {"width": width - 15, "height": 900, "deviceScaleFactor": 1,
                                                     "mobile": False})   # less a visible scrollbar's width
    for language in ("English", "中文"):
        page.click_text(language, "button")
        last = "Export" if language == "English" else "导出"
        page.wait_for(f"[...document.querySelectorAll('.v-tab')].some(t => t.innerText.includes({json.dumps(last)}))",
                      timeout=20, what=f"the {language} tabs")
        page.click_text(last, ".v-tab")                    # the row scrolls to its last tab if it overflows
        page.wait_for(f"document.querySelector('.v-tab--active').innerText.includes({json.dumps(last)})", timeout=20)
        page.click_text("Measured vs true" if language == "English" else "考核与真实", ".v-tab")
        time.sleep(0.5)                                    # the row's scrolling is animated
        assert page.evaluate(TABS_WHOLE), page.evaluate("[...document.querySelectorAll('.v-tab')].map(t => t.innerText)")
