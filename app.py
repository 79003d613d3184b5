"""Classroom app (课堂演示): watch an assessment rule set play out, day by day, in the browser.

For seminars on governance reform: pick a rule set (the 2019 launch, the 2021 regulation,
a counterfactual), move a few levers, press play, and watch what the rules do to the
*measured* rates that units are scored on and to the *true* resolution of citizens'
problems, to units' effort (real work, rating management, gaming, proactive work), to
exhaustion and to public trust. Built on Mesa's SolaraViz; the model is the same one the
command line runs (small scale, so a simulated year takes under a minute).

Run: ``jiesu app`` (or ``solara run app.py``); needs the ``[app]`` extra (solara).
"""

from __future__ import annotations

import mesa
import numpy as np
import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from model import Model, load_scenario
from model.report import cjk_font
from model.scenario import SCENARIO_DIR

RULE_SETS = ["final_2021.toml", "reform_2019.toml", "second_draft_2021.toml", "satisfaction_only.toml",
             "resolution_only.toml", "no_audit.toml", "strong_audit.toml", "harsh_sanctions.toml",
             "no_whistle.toml", "per_capita_volume.toml"]
WINDOW = 30          # days: the series are 30-day means, like the monthly figures units see

# the classroom levers: app parameter -> scenario key (each a rules.* or world.* field, model/config.py)
LEVERS = {
    "audit_share": "rules.audit.sample_share",              # Art. 32(2): third-party audit sample
    "remedial_share": "rules.assessment.remedial_share",    # Art. 32(3): 治理类 group size
    "sanction_strength": "rules.sanctions.strength",        # Art. 35: penalty of remedial designation
    "capacity_ratio": "world.capacity.ratio",                # Art. 5: staff time vs expected work
    "learning": "world.behaviour.learning",                  # units adapt to their scores
}

AS_RULE_SET = "as in the rule set"
CHOICES = {   # lever values a class can pick; the first keeps the rule set's own value
    "audit_share": [AS_RULE_SET, "0", "0.02", "0.05", "0.1", "0.2", "0.3"],
    "remedial_share": [AS_RULE_SET, "0", "0.05", "0.1", "0.2", "0.3"],
    "sanction_strength": [AS_RULE_SET, "0", "1", "2", "3", "5"],
    "capacity_ratio": [AS_RULE_SET, "0.7", "0.85", "1.0", "1.15", "1.3", "1.5"],
}

# 30-day means of the model's daily record (model.daily); labels keep the Chinese term
SERIES = {
    "measured resolution 解决率": "resolution_rate",
    "true resolution 真实解决率": "true_resolution_rate",
    "satisfaction 满意率": "satisfaction_rate",
    "real work 实际解决": "effort_resolve",
    "rating management 满意度管理": "effort_satisfy",
    "gaming 应付考核": "effort_game",
    "proactive 主动治理": "effort_proactive",
    "exhaustion 倦怠": "mean_exhaustion",
    "public trust 信任": "mean_trust",
}


def plot_label(text: str) -> str:
    """The label as is when a CJK font is installed, else its English part (no empty boxes)."""
    return text if cjk_font() else "".join(ch for ch in text if ord(ch) < 0x2E80).strip()


def lever(value) -> float | None:
    """A lever choice as a number, or None to keep the rule set's value."""
    return None if value in (None, AS_RULE_SET) else float(value)


def rolling(m: Model, column: str) -> float:
    """Mean of a daily column over the last WINDOW days (NaN before the first day)."""
    rows = m.daily[-WINDOW:]
    return float(np.mean([r[column] for r in rows])) if rows else float("nan")


class ClassroomModel(Model):
    """The model built from a rule-set file plus the classroom levers (all validated as usual)."""

    def __init__(self, rule_set: str = "final_2021.toml", scale: float = 0.01, seed: int = 1,
                 audit_share: str = AS_RULE_SET, remedial_share: str = AS_RULE_SET,
                 sanction_strength: str = AS_RULE_SET, capacity_ratio: str = AS_RULE_SET,
                 learning: bool = True):
        chosen = {"audit_share": lever(audit_share), "remedial_share": lever(remedial_share),
                  "sanction_strength": lever(sanction_strength), "capacity_ratio": lever(capacity_ratio),
                  "learning": bool(learning)}
        overrides = {LEVERS[k]: v for k, v in chosen.items() if v is not None}
        cfg = load_scenario(SCENARIO_DIR / rule_set, overrides={"city.scale": scale, **overrides})
        super().__init__(cfg, seed=int(seed))
        self.datacollector = mesa.DataCollector(
            model_reporters={label: (lambda m, c=col: rolling(m, c)) for label, col in SERIES.items()})


def _axes(model, labels: list[str], title: str, ylim=(0, 1)):
    update_counter.get()
    fig = Figure(figsize=(6, 3.2))
    ax = fig.subplots()
    df = model.datacollector.get_model_vars_dataframe()
    for label in labels:
        ax.plot(df.index, df[label], label=plot_label(label))
    ax.set_ylim(*ylim)
    ax.set_xlabel("day")
    ax.set_title(plot_label(title), fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    return fig


@solara.component
def MeasuredVsTrue(model):
    """What the assessment sees against what really happened."""
    fig = _axes(model, list(SERIES)[:3], "measured vs true (30-day means)")
    solara.FigureMatplotlib(fig, format="png")


@solara.component
def EffortSplit(model):
    """Where units' staff time goes (MECHANISMS.md section 4)."""
    fig = _axes(model, list(SERIES)[3:7], "units' staff time 工作时间分配", ylim=(0, 1))
    solara.FigureMatplotlib(fig, format="png")


@solara.component
def TrustAndExhaustion(model):
    """Staff exhaustion (JD-R) and the public's trust in the system (Art. 6)."""
    fig = _axes(model, list(SERIES)[7:9], "exhaustion and trust 倦怠与信任")
    solara.FigureMatplotlib(fig, format="png")


@solara.component
def TownshipScores(model):
    """Last month's township scores with the remedial (治理类) line (Art. 32)."""
    update_counter.get()
    fig = Figure(figsize=(6, 3.2))
    ax = fig.subplots()
    last = model.unit_months[-1] if model.unit_months else None
    tw = (model.city.unit_kind == 0) & np.asarray(last["assessable"], bool) if last else None
    if last is None or not tw.any():
        ax.text(0.5, 0.5, "no township assessed yet (first assessment at the end of month 1)",
                ha="center", transform=ax.transAxes)
    else:
        score, remedial = np.asarray(last["score"])[tw], np.asarray(last["remedial"], bool)[tw]
        bins = np.linspace(np.nanmin(score), np.nanmax(score) + 1e-9, 30)
        ax.hist([score[~remedial], score[remedial]], bins=bins, stacked=True,
                color=["tab:blue", "tab:red"], label=[plot_label("township 街乡"), plot_label("remedial 治理类")])
        ax.legend(fontsize=7)
        ax.set_xlabel("score (0-100)")
    ax.set_title(plot_label("township scores, last month 街乡月度考评"), fontsize=10)
    solara.FigureMatplotlib(fig, format="png")


@solara.component
def Headline(model):
    """The numbers to discuss, and what the rule set is."""
    update_counter.get()
    gap = rolling(model, "resolution_rate") - rolling(model, "true_resolution_rate")
    solara.Markdown(
        f"**{model.cfg.name}** — {model.cfg.description}\n\n"
        f"Day {model.day} (month {model.month}). Last 30 days: measured resolution "
        f"{rolling(model, 'resolution_rate'):.0%}, true {rolling(model, 'true_resolution_rate'):.0%} "
        f"(gap {gap:+.0%}); satisfaction {rolling(model, 'satisfaction_rate'):.0%}; "
        f"gaming {rolling(model, 'effort_game'):.0%} of staff time; exhaustion {rolling(model, 'mean_exhaustion'):.2f}.")


model_params = {
    "rule_set": {"type": "Select", "value": "final_2021.toml", "values": RULE_SETS, "label": "rule set 规则"},
    "scale": {"type": "SliderFloat", "value": 0.01, "min": 0.005, "max": 0.05, "step": 0.005,
              "label": "scale (share of Beijing)"},
    "seed": {"type": "SliderInt", "value": 1, "min": 1, "max": 100, "step": 1, "label": "seed"},
    "audit_share": {"type": "Select", "value": AS_RULE_SET, "values": CHOICES["audit_share"],
                    "label": "audit sample 第三方抽查 (Art. 32)"},
    "remedial_share": {"type": "Select", "value": AS_RULE_SET, "values": CHOICES["remedial_share"],
                       "label": "remedial group 治理类 share (Art. 32)"},
    "sanction_strength": {"type": "Select", "value": AS_RULE_SET, "values": CHOICES["sanction_strength"],
                          "label": "sanction strength 问责 (Art. 35)"},
    "capacity_ratio": {"type": "Select", "value": AS_RULE_SET, "values": CHOICES["capacity_ratio"],
                       "label": "staff / workload 人力 (Art. 5)"},
    "learning": {"type": "Checkbox", "value": True, "label": "units learn from their scores"},
}

page = SolaraViz(
    ClassroomModel(),
    components=[Headline, MeasuredVsTrue, EffortSplit, TownshipScores,
                TrustAndExhaustion],
    model_params=model_params,
    name="jiesu 接诉即办 — classroom",
    play_interval=50,
    render_interval=5,
)
