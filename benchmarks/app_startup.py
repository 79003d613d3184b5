"""Start-up of the classroom app as a teacher meets it: from typing ``jiesu app`` to a usable page.

Chromium (Debian's, headless, tests/browser.py) is started first and kept open, so its own start
is not counted. Then ``jiesu app`` is launched and timed to three moments: the server answers
HTTP, the page's headline is rendered (the day counter and the eight number boxes of both runs),
and the first plot is drawn; with the server's CPU seconds by the last two (a figure that depends
little on what else runs on the machine). Run: ``python benchmarks/app_startup.py [--runs 3]``; prints one
line per run and the machine's load average (the figures depend on what else runs).
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

HEADLINE = ("document.querySelector('.jiesu-day') !== null && "
            "document.querySelectorAll('.jiesu-box').length >= 8")
PLOT = "[...document.querySelectorAll('img.jiesu-plot')].some(i => i.complete && i.naturalWidth > 100)"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its waited-for children (the extra check), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def one_start(browser: Browser) -> dict:
    """Seconds from launching ``jiesu app`` to: HTTP answer, headline rendered, first plot drawn."""
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
        t_plot, cpu_plot = time.perf_counter() - t0, cpu_seconds(proc.pid)
        return {"http": t_http, "headline": t_head, "plot": t_plot, "errors": len(page.errors),
                "cpu_head": cpu_head, "cpu_plot": cpu_plot}
    finally:
        stop_app(proc)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    with Browser() as browser:
        for i in range(args.runs):
            r = one_start(browser)
            load = os.getloadavg()[0]
            print(f"run {i + 1}: server answers {r['http']:.2f} s, headline {r['headline']:.2f} s, "
                  f"first plot {r['plot']:.2f} s (server CPU by then {r['cpu_head']:.2f} s and {r['cpu_plot']:.2f} s), "
                  f"console errors {r['errors']}, load {load:.1f}", flush=True)


if __name__ == "__main__":
    main()
