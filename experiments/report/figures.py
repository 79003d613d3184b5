"""The report's figures, drawn with matplotlib and inlined as base64 PNG (no file, no network).

1. measured against true resolution, month by month after the state's day, per arm;
2. how staff time is split (real work, rating management, gaming, proactive work, ...);
3. the distribution of township scores in the last month, with the remedial (治理类) line;
4. the 16 districts as a tile grid coloured by an arm's difference from the baseline.

Labels are English with the Chinese term beside it (a CJK font is used when one is installed).
"""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

# the 16 districts on a grid that keeps their places roughly (column, row; north at the top)
TILES = {"yanqing": (1, 0), "huairou": (2, 0), "miyun": (3, 0), "changping": (1, 1), "shunyi": (3, 1),
         "pinggu": (4, 1), "mentougou": (0, 2), "haidian": (1, 2), "xicheng": (2, 2), "dongcheng": (3, 2),
         "chaoyang": (4, 2), "tongzhou": (5, 2), "fangshan": (0, 3), "shijingshan": (1, 3), "fengtai": (2, 3),
         "daxing": (3, 3)}
TIME_LABELS = {"resolve": "real work 实际解决", "satisfy": "rating management 满意度管理", "game": "gaming 应付考核",
               "proactive": "proactive 主动治理", "contact": "contact 联系诉求人", "coop": "cooperation 协同配合"}
DPI = 100


def _font():
    from model.report import cjk_font

    return cjk_font() or "DejaVu Sans"


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _style():
    plt.rcParams.update({"font.family": _font(), "axes.spines.top": False, "axes.spines.right": False,
                         "axes.grid": True, "grid.alpha": 0.3, "font.size": 9})


def _mean_series(rows: pd.DataFrame, col: str) -> np.ndarray:
    series = [np.asarray(s, dtype=float) for s in rows[col]]
    n = min((len(s) for s in series), default=0)
    return np.mean([s[:n] for s in series], axis=0) if n else np.array([])


def series_figure(df: pd.DataFrame, arms: list[str]) -> str:
    """Measured (solid) and true (dashed) resolution by month after the state, mean over all runs."""
    _style()
    fig, ax = plt.subplots(figsize=(8, 3.6))
    colours = plt.get_cmap("tab10")
    for i, arm in enumerate(arms):
        rows = df[df["arm"] == arm]
        meas, true = _mean_series(rows, "monthly.resolution_rate"), _mean_series(rows, "monthly.true_resolution_rate")
        x = np.arange(1, meas.size + 1)
        ax.plot(x, 100 * meas, color=colours(i), lw=2, label=f"{arm}: measured 解决率")
        ax.plot(x, 100 * true, color=colours(i), lw=2, ls="--", label=f"{arm}: true 真实解决率")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("month of the run (after the state's day) 月")
    ax.set_ylabel("% of closed orders")
    ax.set_title("Measured vs true resolution 考核解决率与真实解决率")
    ax.legend(fontsize=7, ncol=2, loc="lower right")
    return _png(fig)


def time_figure(df: pd.DataFrame, arms: list[str], keys: tuple[str, ...]) -> str:
    """Stacked bars: the share of staff time in each activity, mean over all runs of each arm."""
    _style()
    fig, ax = plt.subplots(figsize=(8, 0.7 + 0.55 * len(arms)))
    colours = plt.get_cmap("Set2")
    left = np.zeros(len(arms))
    for j, k in enumerate(keys):
        v = np.array([100 * df.loc[df["arm"] == a, f"time.{k}"].mean() for a in arms])
        ax.barh(arms, v, left=left, color=colours(j), label=TIME_LABELS[k])
        for y, (x0, w) in enumerate(zip(left, v)):
            if w >= 6:
                ax.text(x0 + w / 2, y, f"{w:.0f}", ha="center", va="center", fontsize=8)
        left += v
    ax.set_xlim(0, 100)
    ax.invert_yaxis()
    ax.set_xlabel("% of staff hours 工时占比")
    ax.set_title("Staff time split 工作时间分配")
    ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.35 - 0.05 * len(arms)))
    return _png(fig)


def scores_figure(df: pd.DataFrame, arms: list[str]) -> str:
    """Township scores in each arm's last month (all runs pooled); remedial townships in red and
    the line at the highest score designated remedial (治理类, bottom of the class ranking)."""
    _style()
    fig, axes = plt.subplots(1, len(arms), figsize=(min(4 * len(arms), 12), 2.8), squeeze=False, sharey=True)
    for ax, arm in zip(axes[0], arms):
        rows = df[df["arm"] == arm]
        s = np.concatenate([np.asarray(x, dtype=float) for x in rows["township.score"]] or [np.array([])])
        rem = np.concatenate([np.asarray(x, dtype=bool) for x in rows["township.remedial"]] or [np.array([], bool)])
        if s.size:
            bins = np.linspace(np.nanmin(s), np.nanmax(s) + 1e-9, 30)
            ax.hist(s[~rem], bins=bins, color="tab:blue", alpha=0.8, label="others 其他")
            ax.hist(s[rem], bins=bins, color="tab:red", alpha=0.9, label="remedial 治理类")
            if rem.any():
                line = float(np.nanmax(s[rem]))
                ax.axvline(line, color="tab:red", ls="--", lw=1.2)
                ax.text(line, ax.get_ylim()[1] * 0.92, f" {line:.1f}", color="tab:red", fontsize=8)
        else:
            ax.text(0.5, 0.5, "no assessed month in the window\n计算区间内无完整考评月", ha="center", va="center",
                    transform=ax.transAxes, fontsize=8, color="0.4")
        ax.set_title(arm, fontsize=9)
        ax.set_xlabel("score 考评得分")
    axes[0][0].set_ylabel("townships 街乡 (all runs)")
    if axes[0][0].get_legend_handles_labels()[0]:
        axes[0][0].legend(fontsize=7)
    fig.suptitle("Township scores, last month, and the remedial line 街乡考评得分分布与治理类线", fontsize=10, y=1.06)
    return _png(fig)


def tiles_figure(df: pd.DataFrame, base: str, arms: list[str], names: list[str], names_zh: list[str],
                 outcome: str = "district.true_resolution_rate") -> str:
    """One tile per district, coloured by the arm's mean paired difference from the baseline (points)."""
    _style()
    others = [a for a in arms if a != base]
    fig, axes = plt.subplots(1, max(len(others), 1), figsize=(min(4.2 * max(len(others), 1), 12.6), 3.3),
                             squeeze=False)
    b = df[df["arm"] == base].set_index(["row", "replicate"])
    diffs = {}
    for arm in others:
        a = df[df["arm"] == arm].set_index(["row", "replicate"])
        pairs = [np.asarray(a.loc[i, outcome], dtype=float) - np.asarray(b.loc[i, outcome], dtype=float)
                 for i in a.index if i in b.index]
        diffs[arm] = 100 * np.nanmean(pairs, axis=0) if pairs else np.full(len(names), np.nan)
    lim = max([np.nanmax(np.abs(d)) for d in diffs.values() if np.isfinite(d).any()] + [1e-6])
    cmap = plt.get_cmap("RdBu")
    for ax, arm in zip(axes[0], others or [base]):
        d = diffs.get(arm, np.zeros(len(names)))
        for i, name in enumerate(names):
            col, row = TILES.get(name, (i % 6, 4 + i // 6))
            v = d[i]
            colour = cmap(0.5 + 0.5 * v / lim) if np.isfinite(v) else "0.85"
            ax.add_patch(plt.Rectangle((col, -row), 0.95, 0.95, color=colour))
            ax.text(col + 0.475, -row + 0.6, names_zh[i].removesuffix("区"), ha="center", fontsize=8)
            ax.text(col + 0.475, -row + 0.25, "n/a" if not np.isfinite(v) else f"{v:+.1f}", ha="center", fontsize=7)
        ax.set_xlim(-0.1, 6.1)
        ax.set_ylim(-3.1, 1.05)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(f"{arm} - {base}", fontsize=9)
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(-lim, lim))
    fig.colorbar(sm, ax=axes[0].tolist(), shrink=0.7, label="difference, points 差值（百分点）")
    label = outcome.removeprefix("district.").replace("_", " ")
    fig.suptitle(f"Districts: paired difference in {label} 各区差值", fontsize=10)
    return _png(fig)
