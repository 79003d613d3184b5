"""Figures for a run: the three measured rates beside the true resolution rate.

Drawn with matplotlib alone: importing seaborn (and the SciPy statistics it pulls in) cost
`jiesu run` about a second for one line plot (issue 13). matplotlib is imported when a figure
is drawn, not with this module, so :class:`PlotWorker` can start a child process that imports
it (and draws the figure) beside the run: ``jiesu run`` starts one before the model loads, the
child's imports overlap the run on the second core, and once the tables are written the child
draws ``overview.png`` into the same temporary directory before it is renamed into place (so the
output stays atomic). If the child fails, the figure is drawn in this process as before.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

RATE_LABELS = {"response_rate": ("response", "响应率"), "resolution_rate": ("resolution (measured)", "解决率"),
               "satisfaction_rate": ("satisfaction", "满意率"), "true_resolution_rate": ("true resolution (real)", "真实解决率")}
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "AR PL UMing CN")


@functools.cache
def cjk_font() -> str | None:
    """A font that can draw Chinese labels, if the machine has one (looked up once)."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((f for f in CJK_FONTS if f in names), None)


def label(key: str) -> str:
    """English label, with the Chinese term beside it when a CJK font is installed."""
    en, zh = RATE_LABELS[key]
    return f"{en} {zh}" if cjk_font() else en


def _pyplot():
    """matplotlib's pyplot on the Agg backend (imported on first use)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return matplotlib, plt


def overview_figure(daily, path: Path, title: str = "") -> Path:
    """Line plot of weekly rates over time (white grid, one colour per rate); measured vs true."""
    matplotlib, plt = _pyplot()
    d = daily.copy()
    d["week"] = d["day"] // 7
    weekly = d.groupby("week")[list(RATE_LABELS)].mean()
    style = {"font.family": cjk_font() or "DejaVu Sans", "axes.grid": True, "grid.color": "#dddddd",
             "axes.edgecolor": "#cccccc", "axes.spines.top": False, "axes.spines.right": False}
    with plt.rc_context(style):
        fig, ax = plt.subplots(figsize=(9, 4.5))
        for key in RATE_LABELS:
            ax.plot(weekly.index, weekly[key], label=label(key), linewidth=1.8)
        ax.legend(title="rate")
        ax.set_ylim(0, 1.02)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))   # whole weeks
        ax.set_xlabel("week of the run")
        ax.set_ylabel("share of closed orders")
        ax.set_title(f"{title}: measured rates and true resolution")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


# ---------------------------------------------------------------------------- the plot beside the run
PLOT_COLUMNS = ["day", *RATE_LABELS]


class PlotWorker:
    """A child process that imports matplotlib now and draws the overview figure when
    :meth:`send` gives it the daily series (:meth:`wait` for it); :meth:`close` ends it if it is
    still running."""

    def __init__(self):
        root = str(Path(__file__).resolve().parents[1])
        code = f"import sys; sys.path.insert(0, {root!r}); from model.report import _serve; _serve()"
        try:
            self.proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError:
            self.proc = None

    def send(self, daily, path: Path, title: str = "") -> bool:
        """Ask the child to draw the figure of ``daily`` at ``path`` (it starts at once); False if it cannot."""
        if self.proc is None or self.proc.poll() is not None:
            return False
        msg = {"path": str(path), "title": title, "columns": {c: daily[c].tolist() for c in PLOT_COLUMNS}}
        try:
            self.proc.stdin.write(json.dumps(msg).encode())
            self.proc.stdin.close()
        except (OSError, ValueError):
            self.close()
            return False
        return True

    def wait(self, path: Path, timeout: float = 120.0) -> bool:
        """Wait for the child's figure; True if it wrote ``path``."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.close()
            return False
        return self.proc.returncode == 0 and Path(path).exists()

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _serve() -> None:
    """The child's side of PlotWorker: import the plotting stack, then draw what stdin asks for."""
    import tempfile

    import pandas as pd

    # warm up while the run goes on: fonts, the Agg renderer and the layout, on a figure like the real one
    warm = pd.DataFrame({c: [0, 7] if c == "day" else [0.5, 0.5] for c in PLOT_COLUMNS})
    with tempfile.TemporaryDirectory() as tmp:
        overview_figure(warm, Path(tmp) / "warm.png", title="")
    msg = json.loads(sys.stdin.buffer.read() or b"null")
    if msg is not None:
        overview_figure(pd.DataFrame(msg["columns"]), Path(msg["path"]), title=msg["title"])
    os._exit(0)          # the figure is written and closed: skip tearing down matplotlib and pandas (~0.4 s)
