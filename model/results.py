"""Results of one run: tidy tables, the summary, and writing them to disk atomically.

``daily`` is the city series (one row a day), ``units_monthly`` one row per unit per
month (scores, ranks, effort, exhaustion, hours), ``summary`` the headline figures.
Measured figures (what the assessment sees) sit beside true ones (what really happened).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .orders import CLOSED, SAT_BASIC
from .world import CLASS_NAMES, KIND_NAMES

SUMMARY_LABELS = {
    "contacts": "contacts 来电来件", "work_orders": "work orders 工单", "response_rate": "response rate 响应率",
    "resolution_rate": "resolution rate 解决率", "satisfaction_rate": "satisfaction rate 满意率",
    "true_resolution_rate": "true resolution 真实解决率", "measured_true_gap": "measured - true gap",
    "mean_days_to_close": "mean days to close", "overdue_share": "overdue share 逾期",
    "objections": "objections 派单异议", "whistles": "whistles 吹哨", "whistles_answered": "whistles answered 报到",
    "requests_per_10k": "requests per 10k residents/month 万人诉求比", "source_stock_change": "problem-source stock change 问题源",
}


@dataclass
class Results:
    daily: pd.DataFrame
    units_monthly: pd.DataFrame
    summary: dict
    topics: pd.DataFrame
    config: object = None
    seed: int = 0
    extras: dict = field(default_factory=dict)

    @classmethod
    def from_model(cls, m) -> Results:
        daily = pd.DataFrame(m.daily)
        um = pd.DataFrame({k: np.concatenate([r[k] for r in m.unit_months]) for k in m.unit_months[0]}) \
            if m.unit_months else pd.DataFrame()
        if not um.empty:
            um.insert(2, "name", np.array(m.city.unit_name)[um["unit"]])
            um.insert(3, "kind", np.array(KIND_NAMES)[m.city.unit_kind[um["unit"]]])
            um["class"] = np.array(CLASS_NAMES)[um["class"].astype(int)]
            um.insert(4, "district", m.city.unit_district[um["unit"]])
        topics = pd.DataFrame(m.proactive.history)
        return cls(daily=daily, units_monthly=um, summary=summarise(m, daily, um), topics=topics,
                   config=m.base_cfg, seed=m.seed)

    def write(self, out_dir: str | Path, plot: bool = True) -> Path:
        """Write all outputs into ``out_dir`` atomically (temp dir, then rename)."""
        from .scenario import config_hash, to_toml

        out_dir = check_out_dir(out_dir)
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=out_dir.parent))
        try:
            self.daily.to_parquet(tmp / "daily.parquet", index=False)
            self.units_monthly.to_parquet(tmp / "units_monthly.parquet", index=False)
            if not self.topics.empty:
                self.topics.to_parquet(tmp / "topics.parquet", index=False)
            (tmp / "summary.json").write_text(json.dumps(self.summary, indent=2, ensure_ascii=False))
            (tmp / "config.toml").write_text(to_toml(self.config))
            prov = provenance(self.config, self.seed, config_hash(self.config))
            (tmp / "provenance.json").write_text(json.dumps(prov, indent=2))
            if plot:
                from .report import overview_figure

                overview_figure(self.daily, tmp / "overview.png", title=self.config.name)
            if out_dir.exists():
                shutil.rmtree(out_dir)
            os.replace(tmp, out_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return out_dir


OUTPUT_FILES = {"daily.parquet", "units_monthly.parquet", "topics.parquet", "summary.json", "config.toml",
                "provenance.json", "overview.png", "network.graphml"}


class OutputError(InputError):
    """An output directory jiesu must not write to; ``str(err)`` is one line (exit code 2)."""


def check_out_dir(out_dir: str | Path) -> Path:
    """Refuse output directories whose replacement would delete anything jiesu did not write."""
    out = Path(out_dir).resolve()
    cwd = Path.cwd().resolve()
    if out == cwd or out in cwd.parents:
        raise OutputError(f"--out {out_dir}: is the current directory or one of its parents; name a new directory")
    if out.exists():
        if not out.is_dir():
            raise OutputError(f"--out {out_dir}: exists and is not a directory")
        foreign = sorted(p.name for p in out.iterdir() if p.name not in OUTPUT_FILES)
        if foreign:
            raise OutputError(f"--out {out_dir}: holds files jiesu did not write ({', '.join(foreign[:3])}); "
                              "name a new or empty directory")
    return out


def summarise(m, daily: pd.DataFrame, um: pd.DataFrame) -> dict:
    """Headline figures over all orders closed during the run."""
    wo = m.orders
    closed = wo.state == CLOSED
    scope = closed & ~wo.excluded
    n_scope = max(int(scope.sum()), 1)
    resp_days = np.asarray(m.cfg.rules.deadlines.response_days)[wo.tier]
    on_time = (wo.ti_contact >= 0) & (wo.ti_contact <= wo.ti_created + resp_days)
    months = max(m.day / (365 / 12), 1e-9)
    pop = m.citizens.n
    res = float((wo.measured_resolved & scope).sum() / n_scope)
    true = float((wo.true_resolved & closed).sum() / max(int(closed.sum()), 1))
    hard = closed & wo.hard
    easy = closed & ~wo.hard
    col = lambda k: float(daily[k].sum()) if k in daily else 0.0  # noqa: E731
    hours = {k: float(um[f"hours_{k}"].sum()) for k in ("resolve", "satisfy", "game", "proactive", "contact", "coop")} \
        if not um.empty else {}
    total_h = sum(hours.values()) or 1.0
    s = {
        "scenario": m.base_cfg.name, "seed": m.seed, "days": m.day, "scale": m.cfg.city.scale,
        "population": int(pop),
        "contacts": int(col("contacts")), "consultations_answered": int(col("consultations_answered")),
        "diverted": int(sum(col(c) for c in daily.columns if c.startswith("diverted_"))),
        "work_orders": int(wo.n), "closed_orders": int(closed.sum()),
        "response_rate": float((on_time & scope).sum() / n_scope), "resolution_rate": res,
        "satisfaction_rate": float(((wo.satisfaction >= SAT_BASIC) & scope).sum() / n_scope),
        "true_resolution_rate": true, "measured_true_gap": res - true,
        "true_resolution_hard": float((wo.true_resolved & hard).sum() / max(int(hard.sum()), 1)),
        "true_resolution_easy": float((wo.true_resolved & easy).sum() / max(int(easy.sum()), 1)),
        "mean_days_to_close": float((wo.ti_closed[closed] - wo.ti_created[closed]).mean()) if closed.any() else float("nan"),
        "overdue_share": float(wo.overdue[closed].sum() / max(int(closed.sum()), 1)),
        "gamed_closures": int(wo.gamed.sum()), "false_claims": int((wo.claimed_resolved & closed & ~wo.true_resolved).sum()),
        "detected_falsifications": int(wo.detected.sum()), "excluded_unreasonable": int(wo.excluded.sum()),
        "objections": int(wo.n_objections.sum()), "redispatches": int(wo.n_redispatch.sum()),
        "whistles": int(wo.whistled.sum()), "whistles_answered": int((wo.whistled & (wo.coop_state == 2)).sum()),
        "escalations": int(wo.escalated.sum()),
        "requests_per_10k": float(wo.n / (pop / 1e4) / months),
        "repeat_share": float((wo.n_prior > 0).sum() / max(wo.n, 1)),
        "unreasonable_share_dispatched": float(wo.unreasonable.sum() / max(wo.n, 1)),
        "source_stock_start": float(m.sources.initial.sum()), "source_stock_end": m.sources.total(),
        "source_stock_change": m.sources.total() / max(float(m.sources.initial.sum()), 1e-9) - 1,
        "sources_removed_proactive": float(m.sources.removed_proactive.sum()),
        "sources_removed_campaign": float(m.sources.removed_campaign.sum()),
        "mean_trust_end": float(daily["mean_trust"].iloc[-1]) if len(daily) else float("nan"),
        "filing_factor_end": float(daily["filing_factor"].iloc[-1]) if len(daily) else float("nan"),
        "mean_exhaustion": float(daily["mean_exhaustion"].mean()) if len(daily) else float("nan"),
        "effort_share_game": hours.get("game", 0.0) / total_h,
        "effort_share_proactive": hours.get("proactive", 0.0) / total_h,
        "effort_share_satisfy": hours.get("satisfy", 0.0) / total_h,
        "topics_of_the_month": int(len(m.proactive.history)),
    }
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in s.items()}


def provenance(cfg, seed: int, chash: str) -> dict:
    """Seed, package versions, git commit and config hash for a run."""
    pkgs = {}
    for p in ("jiesu", "mesa", "numpy", "scipy", "pandas", "pyarrow", "networkx", "pydantic"):
        try:
            pkgs[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            pkgs[p] = None
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).parent, timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {"seed": seed, "config_hash": chash, "scenario": cfg.name, "git_commit": commit, "packages": pkgs}
