"""Start-up and playing speed of the classroom app as a teacher meets them.

Chromium (Debian's, headless, tests/browser.py) is started first and kept open, so its own start
is not counted. Then ``jiesu app`` is launched and timed to three moments: the server answers
HTTP, the page's headline is rendered with both runs built (the day counter and the eight number
boxes, no "preparing the two runs" left), and the first plot is drawn; with the CPU seconds of the
server and of its model process (classroom/worker.py) by then, figures that depend little on what
else runs on the machine. Then Play (as fast as possible, the default scale 0.01) runs for
``--play`` seconds (or at ``--speed 20``): the simulated days per second the page showed. Run:
``python benchmarks/app_startup.py [--runs 3] [--play 10] [--speed max]``; prints one line per run with the
machine's load average (the times depend on what else runs).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from browser import Browser, start_app, stop_app  # noqa: E402

HEADLINE = ("document.querySelector('.jiesu-day') !== null && document.querySelectorAll('.jiesu-box').length >= 8"
            " && !document.querySelector('.jiesu-day').innerText.includes('preparing')"
            " && document.body.innerText.includes('B: harsh sanctions')")
DAY = "parseInt((document.querySelector('.jiesu-day').innerText.match(/\\d+/) || ['-1'])[0])"
PLOT = "[...document.querySelectorAll('img.jiesu-plot')].some(i => i.complete && i.naturalWidth > 100)"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its waited-for children (the extra check), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def children_cpu(pid: int) -> float:
    """CPU seconds of a process's running children (the model process)."""
    kids = [int(k) for task in Path(f"/proc/{pid}/task").iterdir()
            for k in (task / "children").read_text().split()]
    return sum(cpu_seconds(k) for k in kids)


def choose_speed(page, speed: str) -> None:
    """Pick a speed in the sidebar's speed select ('20': 20 simulated days a second)."""
    page.evaluate("[...document.querySelectorAll('.v-select')].find(e => e.innerText.includes('speed'))"
                  ".querySelector('.v-input__slot').click()")
    option = "as fast as possible" if speed == "max" else speed
    page.wait_for(f"[...document.querySelectorAll('.v-list-item')].some(e => e.offsetParent !== null && "
                  f"e.innerText.trim() === {option!r})", timeout=20, what=f"the speed {option!r}")
    page.evaluate(f"[...document.querySelectorAll('.v-list-item')].find(e => e.offsetParent !== null && "
                  f"e.innerText.trim() === {option!r}).click()")
    time.sleep(0.3)


def play_rate(page, seconds: float, speed: str = "max") -> float:
    """Simulated days per second shown while playing at ``speed``: from the first redraw after Play to
    the last one within ``seconds``."""
    if speed != "max":
        choose_speed(page, speed)
    page.click_text("Play")
    seen, deadline = [], time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        day = page.evaluate(DAY)
        if day > 0 and (not seen or day != seen[-1][1]):
            seen.append((time.perf_counter(), day))
        time.sleep(0.05)
    page.click_text("Pause")
    if len(seen) < 2:
        return float("nan")
    (t0, d0), (t1, d1) = seen[0], seen[-1]
    return (d1 - d0) / (t1 - t0)


def one_start(browser: Browser, play_seconds: float, speed: str = "max") -> dict:
    """Seconds from launching ``jiesu app`` to: HTTP answer, headline rendered, first plot drawn; then
    the days per second of playing."""
    t0 = time.perf_counter()
    proc, url = start_app(ROOT)
    try:
        while True:
            try:
                urllib.request.urlopen(url, timeout=5).read()
                break
            except OSError:
                if proc.poll() is not None:
                    raise SystemExit("the app server exited early") from None
                time.sleep(0.05)
        t_http = time.perf_counter() - t0
        page = browser.new_page()
        page.goto(url)
        page.wait_for(HEADLINE, timeout=120, interval=0.05, what="the headline")
        t_head, cpu_head = time.perf_counter() - t0, cpu_seconds(proc.pid)
        page.wait_for(PLOT, timeout=120, interval=0.05, what="the first plot")
        t_plot, cpu_plot, cpu_model = time.perf_counter() - t0, cpu_seconds(proc.pid), children_cpu(proc.pid)
        rate = play_rate(page, play_seconds, speed) if play_seconds > 0 else float("nan")
        return {"http": t_http, "headline": t_head, "plot": t_plot, "errors": len(page.errors),
                "cpu_head": cpu_head, "cpu_plot": cpu_plot, "cpu_model": cpu_model, "rate": rate}
    finally:
        stop_app(proc)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--play", type=float, default=10.0, help="seconds of playing to time (0: none)")
    p.add_argument("--speed", default="max", help="the speed to play at: max (the default) or 20, 10, 5, 2 days/s")
    args = p.parse_args()
    with Browser() as browser:
        for i in range(args.runs):
            load = os.getloadavg()[0]
            r = one_start(browser, args.play, args.speed)
            print(f"run {i + 1}: server answers {r['http']:.2f} s, headline {r['headline']:.2f} s, "
                  f"first plot {r['plot']:.2f} s (CPU by then: server {r['cpu_head']:.2f} s and {r['cpu_plot']:.2f} s, "
                  f"model process {r['cpu_model']:.2f} s), playing {r['rate']:.1f} days/s (speed {args.speed}), "
                  f"console errors {r['errors']}, load {load:.1f} before and {os.getloadavg()[0]:.1f} after", flush=True)


if __name__ == "__main__":
    main()
