"""Figures for a run: the three measured rates beside the true resolution rate.

Drawn with matplotlib alone: importing seaborn (and the SciPy statistics it pulls in) cost
`jiesu run` about a second for one line plot (issue 13)."""

from __future__ import annotations

import functools
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

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


def overview_figure(daily: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Line plot of weekly rates over time (white grid, one colour per rate); measured vs true."""
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
