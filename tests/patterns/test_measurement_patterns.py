"""Patterns 1, 2, 3 and 9: measured rates, the measured-true gap, bunching, both regimes."""

import numpy as np
import pytest

from model.calendar import months_of
from model.orders import CLOSED

from .conftest import SAMPLED, SHARES_BASELINE, assert_larger, run, summaries

pytestmark = pytest.mark.slow

HARSH = "harsh_sanctions.toml"
AUDIT = "strong_audit.toml"


HISTORY = dict(scenario="history_2019_2021.toml", seed=3, scale=0.006, days=1126)


def test_measured_rates_rise_fast_then_saturate():
    """Pattern 1: history replay from the 2019 launch: fast rise in the first year, smaller
    gains later."""
    m = run(**HISTORY)
    d = m.results().daily
    month = months_of(d["day"]).astype(int)
    res = d.groupby(month)["resolution_rate"].mean()
    launch, year1, late = res.loc[2:4].mean(), res.loc[12:14].mean(), res.loc[33:36].mean()
    assert year1 - launch > 0.08, (launch, year1)
    assert late - year1 < year1 - launch, (launch, year1, late)


def test_townships_resolution_rates_converge():
    """Pattern 1, second half: townships' rates converge, so small differences decide rank
    (districts move staff toward overloaded townships, Art. 5(2); remedial support, Art. 32).
    Between-township spread net of sampling noise, months 2-6 against 32-36, paired over four seeds
    on the thinned city at 0.02. At 0.006 (this test until 2026-12-07) the early spread net of noise
    was often nil (seeds 3-8 with pressure sanctioned per case: 0.0, 0.0, 0.040, 0.039, 0.029, 0.064),
    so two seeds passed or failed by chance. Measured 2026-12-07 at 0.02, seeds 3-6: early
    0.046 / 0.051 / 0.064 / 0.038 against late 0.016 / 0.034 / 0.053 / 0.009."""
    d = []
    for seed in (3, 4, 5, 6):
        tw = run(**{**HISTORY, "seed": seed, "scale": 0.02}).results().units_monthly
        tw = tw[tw["kind"] == "township"]
        d.append(between_unit_sd(tw, range(2, 7)) - between_unit_sd(tw, range(32, 37)))
    d = np.array(d)
    assert d.mean() > 2 * d.std(ddof=1) / np.sqrt(len(d)), d


def between_unit_sd(tw, months) -> float:
    """Spread of townships' resolution rates over a window, net of binomial sampling noise."""
    g = tw[tw["month"].isin(months)].groupby("unit")[["measured_resolved", "in_scope"]].sum()
    g = g[g["in_scope"] >= 30]
    p = g["measured_resolved"] / g["in_scope"]
    noise = (p * (1 - p) / g["in_scope"]).mean()
    return float(np.sqrt(max(p.var() - noise, 0.0)))


def test_gap_widens_with_sanctions():
    """Pattern 2, sanctions: measured - true gap larger under harsh sanctions. On the sampled city
    (conftest.SAMPLED), six replicates: the effect is small beside its spread from seed to seed, so
    three (2 x se about 0.7 points) could not show it. Measured 2026-12-03 (after the work queue's
    stable tie order), seeds 100-109: harsh - base +0.88 points (se 0.20; from -0.46 to +1.37,
    seed 102 negative)."""
    base, harsh = (summaries(s, reps=6, **SAMPLED) for s in ("final_2021.toml", HARSH))
    assert_larger(base, harsh, "measured_true_gap")


def test_gap_narrows_with_audit():
    """Pattern 2, audit: measured - true gap smaller under strong audit (sampled city, three
    replicates). Measured 2026-12-03, seeds 100-109: base - strong audit +2.73 points (se 0.19)."""
    base, audit = summaries(**SAMPLED), summaries(AUDIT, **SAMPLED)
    assert_larger(audit, base, "measured_true_gap")


@SHARES_BASELINE
def test_closures_bunch_at_the_deadline():
    """Pattern 3 (deadlines): unfinished orders are closed on the deadline day, so closures
    pile up at the deadline rather than spreading over the days before it."""
    m = run()
    wo = m.orders
    c = (wo.state == CLOSED) & (wo.tier == 2) & ~wo.extended
    left = (wo.ti_deadline[c] - wo.ti_closed[c]).astype(int)
    counts = np.bincount(np.clip(left, 0, 10), minlength=11)
    before = counts[1:4].mean()                 # the three days before the deadline
    assert counts[0] > before + 4 * np.sqrt(before), counts   # far beyond Poisson noise


def test_units_near_the_remedial_line_press_the_measures_late_in_the_month():
    """Pattern 3 (cut-offs): seeing their month-to-date standing (Art. 28), loss-averse units
    near the remedial cut-off shift time to rating management and gaming before month end;
    those that end just above the line are the ones that pressed."""
    m = run(HARSH)
    um = m.results().units_monthly
    tw = um[(um["kind"] == "township") & um["assessable"].astype(bool)]
    cut = m.cfg.rules.assessment.remedial_share
    just_above = tw[(tw["percentile"] >= cut) & (tw["percentile"] < cut + 0.1)]["surge_days"]
    far_above = tw[tw["percentile"] >= 0.6]["surge_days"]
    se = np.sqrt(just_above.var() / len(just_above) + far_above.var() / len(far_above))
    assert just_above.mean() - far_above.mean() > 3 * se, (just_above.mean(), far_above.mean(), se)
    # within the same unit: months it pressed vs months it did not (its own baseline)
    tw = tw.assign(measures=(tw["hours_game"] + tw["hours_satisfy"]) / tw["hours_available"],
                   pressing=tw["surge_days"] > 0)
    by = tw.groupby(["unit", "pressing"])["measures"].mean().unstack().dropna()
    d = by[True] - by[False]
    assert len(d) > 30 and d.mean() > 3 * d.std(ddof=1) / np.sqrt(len(d)), (d.mean(), d.std(), len(d))


def test_scores_bunch_around_the_remedial_cutoff():
    """Pattern 3 (cut-offs), in the score distribution: with units able to see and press
    their standing, scores around the cut-off are packed tighter than without. Three seeds
    pooled (each month and class a paired cell), on the thinned city at 0.02: at 0.01 its tiny
    queues' noise buries the effect (measured 2026-12-02, seeds 1-6 pooled: -0.10, se 0.08);
    at 0.02 -0.44, -0.39, -0.70 points (pooled -0.51, se 0.11)."""
    d = []
    for seed in (1, 2, 3):
        widths = {}
        for surge in (0.0, 0.3):
            m = run(HARSH, {"world.behaviour.cutoff_surge": surge}, seed=seed, scale=0.02)
            tw = m.results().units_monthly
            tw = tw[(tw["kind"] == "township") & tw["assessable"].astype(bool)]
            cut = m.cfg.rules.assessment.remedial_share
            w = []
            for _, g in tw.groupby(["month", "class"]):          # the line is drawn within each class
                sc = np.sort(g["score"].to_numpy())
                w.append(sc[int((cut + 0.05) * len(sc))] - sc[int((cut - 0.05) * len(sc))])
            widths[surge] = np.array(w)
        d.append(widths[0.3] - widths[0.0])
    d = np.concatenate(d)
    assert d.mean() < -2 * d.std(ddof=1) / np.sqrt(len(d)), d


def test_model_shows_both_the_gaming_and_the_no_distortion_regime():
    """Pattern 9: with strong audit and enough capacity targets raise true performance
    without distortion; with manipulable measures, no audit and overload they do not.
    Two years: units learn slowly (calibrated learning_rate 0.23), and gaming that pays
    spreads by imitation over many months."""
    clean = summaries(AUDIT, {"world.capacity.ratio": 1.4}, days=2 * 300, **SAMPLED)
    # no audit of any kind: no sample of closures, no check of labels (Art. 32(3)) or of reports of
    # pressure (Art. 35(5)). Until 2026-12-07 the last two stayed on; since pressure is charged per case
    # the checked reports alone held gaming back (gap 10.6 against the clean 7.3 points, short of 1.5x).
    # Measured then with the checks off (seeds 100-102; labels charged 100 in that run): 13.4, 13.7, 11.2
    # against 6.7, 7.4, 7.2 points
    gaming = summaries(HARSH, {"rules.assessment.resolved_by": "unit_report", "rules.audit.sample_share": 0.0,
                              "rules.assessment.label_check": 0.0, "rules.hotline.pressure_check": 0.0,
                              "world.capacity.ratio": 0.8}, days=2 * 300, **SAMPLED)
    assert_larger(clean, gaming, "measured_true_gap")
    assert_larger(clean, gaming, "effort_share_game")
    assert_larger(gaming, clean, "true_resolution_rate")
    # the regimes differ in kind, not by a hair: the gaming regime's gap at least 1.5 times the
    # clean one's (the clean regime keeps ~9 points from explanation persuading requesters, which a
    # 20% audit sample cannot undo). Measured 2026-12-02 on seeds 100-102, sampled city at 0.02:
    # 2.1 (16.2, 25.0, 16.5 vs 8.2, 9.5, 10.0 points; gaming 4.5-7.4% of staff time vs 1.2-3.8%). On
    # the thinned city at 0.01 the regimes barely part (9.0-15.0 vs 7.3-8.0 points): its small
    # queues under-show gaming that pays.
    assert np.mean([s["measured_true_gap"] for s in gaming]) > 1.5 * np.mean([s["measured_true_gap"] for s in clean])
