"""The classroom app's figures (matplotlib, drawn off-screen as PNG; every label bilingual).

Plot labels carry the Chinese term next to the English one when the machine has a CJK font, and say
so on the page when it has none. Four figures, each from a ``runs.Snapshot``: measured against true
resolution, staff time, township scores, the districts. No solara here; matplotlib's figure parts
are imported by the first figure (the app's start-up thread draws one while the browser loads the page).
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import re
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from classroom.runs import Snapshot
from model.outcomes import outcome  # the registry only: no Mesa, SciPy or pandas

if TYPE_CHECKING:
    from matplotlib.figure import Figure


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
# Figures (matplotlib, drawn off-screen; every label bilingual)
A_COLOUR, B_COLOUR = "#1f77b4", "#d62728"


def _figure(width: float, height: float, cols: int, sharey=False, left=0.05, right=0.99, bottom=0.14, top=0.9,
            wspace=0.22) -> tuple[Figure, list]:
    """A row of axes with fixed margins (half the drawing time of a constrained layout; sizes are fixed)."""
    mpl = _mpl()
    fig = mpl.figure.Figure(figsize=(width, height))
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
    mpl = _mpl()
    with mpl.rc_context(plot_style()):
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
            ax.yaxis.set_major_formatter(mpl.ticker.PercentFormatter(1.0, decimals=0))
            _day_axis(ax, s.day)
        for ax in (ax_a, ax_b):
            _pad_limits(ax, ys, 0.1, ceiling=1.0)
        handles = [mpl.lines.Line2D([], [], color="grey", lw=1.8, label=label("resolution_rate")),
                   mpl.lines.Line2D([], [], color="black", lw=1.8, label=label("true_resolution_rate")),
                   mpl.lines.Line2D([], [], color="grey", lw=1, ls="--", label=label("satisfaction_rate")),
                   mpl.patches.Patch(color="grey", alpha=0.3, label=label("measured_true_gap"))]
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
        handles += [mpl.lines.Line2D([], [], color=line.get_color(), ls=line.get_linestyle(), lw=1.6,
                                            label=f"B - A: {line.get_label()}") for line in ax_d.get_lines()[:3]]
        fig.legend(handles=handles, loc="lower center", ncol=4, frameon=False, fontsize=7.5)
        _day_axis(ax_d, s.day)
        return fig


EFFORTS = ["effort_resolve", "effort_satisfy", "effort_game", "effort_proactive"]


def _percent_axis(ax, values):
    mpl = _mpl()
    v = np.concatenate([np.asarray(x, float).ravel() for x in values]) if values else np.array([])
    v = v[np.isfinite(v)]
    span = v.max() - v.min() if len(v) else 1.0
    ax.yaxis.set_major_formatter(mpl.ticker.PercentFormatter(1.0, decimals=1 if span < 0.06 else 0))


def fig_staff_time(s: Snapshot) -> Figure:
    """Where staff time goes (A solid, B dashed), and exhaustion and public trust."""
    mpl = _mpl()
    with mpl.rc_context(plot_style()):
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
        handles = [mpl.lines.Line2D([], [], color=colours[n], lw=2, label=label(n)) for n in colours]
        handles += [mpl.lines.Line2D([], [], color="black", ls=ls, label=f"{arm}: {s.setup.name(arm)}")
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
    mpl = _mpl()
    with mpl.rc_context(plot_style()):
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
            handles += [mpl.lines.Line2D([], [], color="#d62728", label=both("remedial line", "治理类线")),
                        mpl.lines.Line2D([], [], color="#2ca02c", label=both("commendation line", "表扬线"))]
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
    mpl = _mpl()
    with mpl.rc_context(plot_style()):
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
            norm = mpl.colors.Normalize(vmin, vmax if vmax > vmin else vmin + 1e-6)
            colours = mpl.colormaps[cmap]
            for i, key in enumerate(s.city.district_names):
                r, c = TILES.get(key, (4 + i // 6, i % 6))
                v = values[i]
                face = colours(norm(v)) if np.isfinite(v) else (0.9, 0.9, 0.9, 1)
                ax.add_patch(mpl.patches.Rectangle((c, -r), 0.95, 0.95, color=face))
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
                fmt = mpl.ticker.FuncFormatter(lambda v, _: f"{v * 100:+.1f}")
            else:
                fmt = mpl.ticker.PercentFormatter(1.0, decimals=0 if vmax - vmin > 0.05 else 1)
            bar = fig.colorbar(mpl.cm.ScalarMappable(norm, colours), ax=ax, orientation="horizontal",
                               fraction=0.07, pad=0.02, format=fmt)
            bar.ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(5))
        month = int(np.asarray(s.month_units("A")["month"])[0]) + 1 - int(s.start_day * 12 // 365)
        fig.suptitle(f"{label(name)} - " + both(f"month {month}", f"第 {month} 月")
                     + (both(" (B - A in points)", "（B 减 A，百分点）") if pct else ""), fontsize=10)
        return fig


DRAW_SECONDS = [0.3]      # recent time to make and save one figure (this process): the play loop redraws less often when slow
DRAW_LOCK = threading.RLock()   # one figure at a time: rc_context changes matplotlib's rcParams, which outside a
                                # solara session (tests, a late import) are shared by every session's thread


def png(fig: Figure, dpi: int = 90) -> bytes:
    mpl = _mpl()
    with DRAW_LOCK, mpl.rc_context(plot_style()):
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def draw(make, dpi: int = 90) -> bytes:
    """A figure made and saved as PNG under the drawing lock."""
    with DRAW_LOCK:
        started = time.perf_counter()
        data = png(make(), dpi)
        DRAW_SECONDS[0] = 0.7 * DRAW_SECONDS[0] + 0.3 * (time.perf_counter() - started)
        return data


DAY0_PNGS: dict = {}     # (plot, setup, options) -> its PNG at day 0, before any data: the same in every session


@functools.cache
def _sources_digest() -> bytes:
    """What a figure's look depends on besides its arguments: this file, the text and lesson, the outcome
    registry's labels, matplotlib's version, the CJK font."""
    import matplotlib as mpl  # the package only (the font lookup needs it anyway)

    from classroom import text
    from model import outcomes

    h = hashlib.sha256(f"{mpl.__version__} {cjk_font()}".encode())
    for path in (Path(__file__), Path(text.__file__), text.LESSON_FILE, Path(outcomes.__file__)):
        h.update(path.read_bytes())
    return h.digest()


def day0_file(name: str, setup, options: tuple = ()) -> Path:
    """Where a plot's day-0 PNG is kept between server starts (next to the replayed states): named by a
    hash of the plot, the setup and everything the drawing depends on, so a change to any of them draws anew."""
    from classroom import runs

    key = hashlib.sha256(_sources_digest() + repr((name, setup, options)).encode()).hexdigest()[:32]
    return runs.STATES / "app-day0" / f"{name}-{key}.png"


def _keep(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)                                # whole or not at all: another server may read it
    except OSError:                                      # a read-only checkout: drawn again next start
        pass


def plot_png(name: str, make, s: Snapshot, options: tuple = ()) -> bytes:
    """A plot's PNG. At day 0, before any data, it depends on the setup only: drawn once per setup and
    shared (a new session or New run shows it at once; a page asking while another thread draws it waits
    for that drawing), and kept on disk, so a restarted server shows it without loading matplotlib's
    figure code first."""
    if s.day != 0:
        return draw(make)
    key = (name, s.setup, options)
    with DRAW_LOCK:
        if key not in DAY0_PNGS:
            if len(DAY0_PNGS) > 64:
                DAY0_PNGS.clear()
            path = day0_file(*key)
            if path.is_file():
                DAY0_PNGS[key] = path.read_bytes()
            else:
                DAY0_PNGS[key] = draw(make)
                _keep(path, DAY0_PNGS[key])
        return DAY0_PNGS[key]


def _mpl():
    """matplotlib with the parts the figures use, imported by the first figure, not when the app loads: the
    server answers sooner, and solara then leaves rcParams unscoped (the figures change them only inside
    rc_context under DRAW_LOCK)."""
    import_figure_parts()
    import matplotlib

    return matplotlib


def import_figure_parts() -> None:
    """The parts of matplotlib the figures use (about 0.3 s of CPU): the start-up thread loads them once the
    first page is up, so the first redraw does not wait for them."""
    import matplotlib.backends.backend_agg  # noqa: F401
    import matplotlib.cm  # noqa: F401
    import matplotlib.colors  # noqa: F401
    import matplotlib.figure  # noqa: F401
    import matplotlib.lines  # noqa: F401
    import matplotlib.patches  # noqa: F401
    import matplotlib.ticker  # noqa: F401
