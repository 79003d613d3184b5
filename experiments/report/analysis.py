"""What a report says, computed from its stored runs: levers by article, paired differences,
robustness across parameter sets, and the plain-words summary.

**Differences.** For each arm and outcome the paired difference ``arm - baseline`` is taken on
every (parameter set, replicate) pair, which share a seed; the mean and the 95% t interval over
those ``K x R`` pairs are exactly ``experiments.compare.compare_table``'s (the same function is
used). **Sign across parameter sets**: for each parameter set the mean difference over its
replicates; the share of sets whose sign agrees with the overall difference.

**Robustness rule** (:func:`verdict`): *robust* when the 95% interval excludes 0 and the sign
holds in at least 90% of the parameter sets (with at least 5 sets); *depends on assumptions*
when the interval excludes 0 but the sign holds in fewer than 90% of the sets; *not tested
across assumptions* when the interval excludes 0 but fewer than 5 sets were run; *no clear
difference* when the interval includes 0.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from model.outcomes import SUMMARY

from .regulation import article_numbers, articles
from .runs import OUTCOMES

SIGN_SHARE = 0.9
MIN_SETS = 5
VERDICTS = {
    "robust": ("robust", "稳健"),
    "depends": ("depends on assumptions", "取决于假设"),
    "untested": ("not tested across assumptions", "未跨参数检验"),
    "none": ("no clear difference", "无明显差异"),
}
# the outcomes the plain-words summary names first
HEADLINE = ["resolution_rate", "true_resolution_rate", "satisfaction_rate", "measured_true_gap", "effort_share_game"]
POINTS = {k for k in OUTCOMES if k in SUMMARY and SUMMARY[k].unit in ("share", "share of staff time")}


# ---------------------------------------------------------------------------------- levers
def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def field_meta(key: str) -> dict:
    """unit, article, source and doc of a scenario key (model/config.py ``P`` metadata)."""
    from ..spec import schema_field

    try:
        f = schema_field(key)
    except ValueError:
        return {"unit": "", "article": "", "source": "", "doc": ""}
    extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
    return {"unit": extra.get("unit", ""), "article": extra.get("article", ""),
            "source": extra.get("source", "assumption"), "doc": f.description or ""}


def config_diff(base, arm) -> list[dict]:
    """Every resolved config value in which ``arm`` differs from ``base`` (names and timelines aside)."""
    skip = {"name", "description", "timeline", "extends"}
    a = _flat(base.model_dump(mode="json", exclude=skip))
    b = _flat(arm.model_dump(mode="json", exclude=skip))
    rows = []
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            meta = field_meta(key)
            rows.append({"key": key, "baseline": a.get(key), "arm": b.get(key), **meta,
                         "articles": article_numbers(meta["article"])})
    return rows


def by_article(diff: list[dict]) -> list[dict]:
    """The changed levers grouped by the article they implement (text and gloss from the data file);
    levers citing no article come last, as one group."""
    text = articles()
    groups: dict[int | None, list[dict]] = {}
    for row in diff:
        for n in row["articles"] or [None]:
            groups.setdefault(n, []).append(row)
    out = []
    for n in sorted(groups, key=lambda x: (x is None, x or 0)):
        a = text.get(n, {}) if n is not None else {}
        out.append({"number": n, "chapter": a.get("chapter", ""), "zh": a.get("zh", ""),
                    "gloss": a.get("gloss_en", ""), "levers": groups[n]})
    return out


# ---------------------------------------------------------------------------------- differences
def runs_dict(df: pd.DataFrame) -> tuple[dict, list[int]]:
    """({(arm, seed): outcomes}, seeds in (set, replicate) order) from the stored runs."""
    runs = {(r["arm"], int(r["seed"])): {k: r[k] for k in OUTCOMES} for r in df.to_dict("records")}
    order = df[["row", "replicate", "seed"]].drop_duplicates().sort_values(["row", "replicate"])
    return runs, [int(s) for s in order["seed"]]


def difference_table(df: pd.DataFrame, arms: list[tuple[str, str, object]]) -> pd.DataFrame:
    """compare_table over all (set, replicate) pairs, plus the sign across sets and the verdict."""
    from ..compare import compare_table

    runs, seeds = runs_dict(df)
    table = compare_table(arms, seeds, runs, outcomes=OUTCOMES)
    base = arms[0][0]
    sets = sorted(df["row"].unique())
    shares, holds, verdicts = [], [], []
    for r in table.itertuples():
        if r.scenario == base:
            shares.append(math.nan)
            holds.append(0)
            verdicts.append("")
            continue
        per_set = _per_set(df, base, r.scenario, r.outcome)
        sign = np.sign(r.diff) if np.isfinite(r.diff) else 0.0
        n_hold = int(np.sum(np.sign(per_set) == sign)) if sign != 0 else 0
        holds.append(n_hold)
        shares.append(n_hold / len(sets) if sets else math.nan)
        verdicts.append(verdict(r.ci_low, r.ci_high, n_hold, len(sets)))
    return table.assign(sets=len(sets), sign_holds=holds, sign_share=shares, verdict=verdicts)


def _per_set(df: pd.DataFrame, base: str, arm: str, outcome: str) -> np.ndarray:
    """Mean paired difference of each parameter set (over its replicates)."""
    a = df[df["arm"] == arm].set_index(["row", "replicate"])[outcome].astype(float)
    b = df[df["arm"] == base].set_index(["row", "replicate"])[outcome].astype(float)
    return (a - b.reindex(a.index)).groupby(level="row").mean().to_numpy()


def verdict(lo: float, hi: float, holds: int, sets: int) -> str:
    """The robustness rule of the module docstring: robust / depends / untested / none."""
    if not (np.isfinite(lo) and np.isfinite(hi)) or (lo <= 0 <= hi):
        return "none"
    if sets < MIN_SETS:
        return "untested"
    return "robust" if holds >= SIGN_SHARE * sets else "depends"


def influence(df: pd.DataFrame, base: str, arm: str, outcome: str, params: list[str]) -> list[tuple[str, float]]:
    """Spearman correlation, across parameter sets, of the set's mean difference with each drawn
    parameter (largest first); empty with fewer than MIN_SETS sets."""
    from scipy.stats import spearmanr

    per = _per_set(df, base, arm, outcome)
    if per.size < MIN_SETS or np.nanstd(per) == 0:
        return []
    values = df[df["arm"] == base].groupby("row").first()
    out = []
    for p in params:
        col = f"param.{p}"
        if col in values and np.nanstd(values[col].to_numpy(float)) > 0:
            rho = spearmanr(values[col].to_numpy(float), per).statistic
            if np.isfinite(rho):
                out.append((p, float(rho)))
    return sorted(out, key=lambda x: -abs(x[1]))


# ---------------------------------------------------------------------------------- words
def fmt_value(key: str, v: float, sign: bool = False, like: float | None = None) -> str:
    """A level or difference as a drafter reads it: rates in percentage points, counts whole.
    ``like``: format with the decimals that suit this magnitude instead (a CI beside its difference)."""
    if v is None or not np.isfinite(v):
        return "n/a"
    s = "+" if sign else ""
    x, ref = (100 * v, 100 * like if like is not None else None) if key in POINTS else (v, like)
    m = abs(ref if ref is not None else x)
    if m >= 100:
        return format(x, f"{s},.0f")
    digits = 1 if m >= 1 or m == 0 else (2 if m >= 0.1 else 3)
    if key not in POINTS and m < 1 and m != 0:
        digits = 3
    return format(x, f"{s}.{digits}f")


def fmt_diff(key: str, diff: float, lo: float, hi: float) -> tuple[str, str]:
    """(difference, "[low, high]") with the same decimals, set by the largest of the three."""
    finite = [abs(x) for x in (diff, lo, hi) if x is not None and np.isfinite(x)]
    like = max(finite) if finite else None
    ci = "" if lo is None or not np.isfinite(lo) else \
        f"[{fmt_value(key, lo, True, like)}, {fmt_value(key, hi, True, like)}]"
    return fmt_value(key, diff, True, like), ci


def _phrase(key: str, r, lang: str) -> str:
    """"raises X by 2.1 points [+1.4, +2.8]" from one row of the difference table."""
    o = SUMMARY[key]
    up = r["diff"] > 0
    _, ci = fmt_diff(key, r["diff"], r["ci_low"], r["ci_high"])
    like = max(abs(x) for x in (r["diff"], r["ci_low"], r["ci_high"]))
    size = fmt_value(key, abs(r["diff"]), like=like)
    pts = key in POINTS
    if lang == "zh":
        verb = "提高" if up else "降低"
        return f"{o.zh}{verb}{size}{'个百分点' if pts else ''}{ci.replace('[', '［').replace(']', '］').replace(', ', '，')}"
    verb = "raises" if up else "lowers"
    return f"{verb} {o.en} by {size}{' points' if pts else ''} {ci}"


def _verdict_words(t: pd.DataFrame, named: list[str], lang: str) -> str:
    """", robust" / ", so X depends on the assumptions" for the outcomes a sentence names."""
    depends = [k for k in named if t.loc[k, "verdict"] == "depends"]
    if not depends:
        return "（稳健）" if lang == "zh" else " (robust)"
    names = [SUMMARY[k].zh if lang == "zh" else SUMMARY[k].en for k in depends]
    if lang == "zh":
        return f"，{'、'.join(names)}的结论取决于假设"
    return f", so {_and(names)} {'depends' if len(names) == 1 else 'depend'} on the assumptions"


def _and(xs: list) -> str:
    return ", ".join(map(str, xs[:-1])) + " and " + str(xs[-1]) if len(xs) > 1 else str(xs[0])


def summary_sentences(table: pd.DataFrame, base: str, lang: str) -> list[str]:
    """One plain-words sentence per arm, generated from the difference table."""
    out = []
    for arm in [a for a in dict.fromkeys(table["scenario"]) if a != base]:
        t = table[table["scenario"] == arm].set_index("outcome")
        sig = [k for k in HEADLINE if k in t.index and t.loc[k, "verdict"] not in ("", "none")]
        others = [k for k in t.index if k not in HEADLINE and t.loc[k, "verdict"] not in ("", "none")]
        sets = int(t["sets"].iloc[0])
        if not sig and not others:
            out.append(f"{arm} 与 {base} 相比，各项结果均无明显差异（95%置信区间均包含0）。" if lang == "zh" else
                       f"{arm} makes no clear difference to any outcome compared with {base} "
                       f"(every 95% interval includes 0).")
            continue
        named = sig[:3] or others[:2]
        parts = [_phrase(k, t.loc[k], lang) for k in named]
        holds = [int(t.loc[k, "sign_holds"]) for k in named]
        if lang == "zh":
            s = f"与 {base} 相比，{arm} 使" + "，".join(parts)
            s += (f"；只有{sets}组参数，未跨参数检验" if sets < MIN_SETS else
                  f"；在{sets}组参数中，方向一致的分别有{'、'.join(map(str, holds))}组"
                  + _verdict_words(t, named, "zh"))
            extra = len(sig) + len(others) - len(named)
            s += f"；另有{extra}项结果有明显差异（见下表）。" if extra > 0 else "。"
        else:
            s = f"Compared with {base}, {arm} " + (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1
                                                   else parts[0])
            s += (f"; with {sets} parameter set(s) this is not tested across assumptions" if sets < MIN_SETS else
                  f"; the sign holds in {_and(holds)} of {sets} parameter sets" + _verdict_words(t, named, "en"))
            extra = len(sig) + len(others) - len(named)
            s += f"; {extra} more outcomes differ clearly (table below)." if extra > 0 else "."
        out.append(s)
    return out
