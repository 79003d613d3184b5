"""Patterns 7 and 8: buck-passing under joint responsibility; the overload-burnout spiral."""

import numpy as np
import pytest
from scipy import stats

from model.orders import CLOSED

from .conftest import SHARES_BASELINE, assert_larger, run, summaries

pytestmark = pytest.mark.slow

NO_LEAD_PROTECTION = {"rules.assessment.cooperation_scoring": "none", "rules.assessment.dual_whistle": False}


@SHARES_BASELINE
def test_shared_orders_take_longer_and_loop_more():
    """Pattern 7: orders needing several units take longer to close; buck-passing objections
    happen (and are caught by the review); objected orders loop and take longer."""
    m = run()
    wo = m.orders
    c = wo.state == CLOSED
    days = (wo.ti_closed - wo.ti_created).astype(float)
    shared, single = c & wo.need_coop & (wo.tier == 2), c & ~wo.need_coop & (wo.tier == 2)
    assert stats.mannwhitneyu(days[shared], days[single], alternative="greater").pvalue < 0.01
    um = m.results().units_monthly
    assert um["objections_rejected_bucketpass"].sum() > 0
    assert (wo.n_redispatch >= 2).sum() > 0
    objected = c & (wo.n_objections > 0) & (wo.tier == 2)
    clean = c & (wo.n_objections == 0) & (wo.tier == 2)
    assert stats.mannwhitneyu(days[objected], days[clean], alternative="greater").pvalue < 0.01


@SHARES_BASELINE
def test_cooperating_units_free_ride_unless_scored():
    """Pattern 7: without differential scoring and dual assessment, cooperating units
    deliver less and shared orders close later (Li & Schnedler 2025)."""
    scored, unscored = summaries(), summaries(overrides=NO_LEAD_PROTECTION)
    for s in scored + unscored:      # the share answered: how many whistles townships blow is their own choice
        s["whistle_answer_share"] = s["whistles_answered"] / max(s["whistles"], 1)
    assert_larger(unscored, scored, "whistle_answer_share")
    assert_larger(scored, unscored, "mean_days_to_close")


def test_overloaded_townships_burn_out_and_cut_proactive_work():
    """Pattern 8: townships whose load exceeds staff time accumulate exhaustion and spend
    less on proactive work (job demands-resources). Districts do not move staff here
    (district_rebalancing 0), so overload persists long enough to be seen."""
    m = run(overrides={"world.capacity.township_load_spread": 0.5, "world.capacity.district_rebalancing": 0.0})
    um = m.results().units_monthly
    tw = um[(um["kind"] == "township") & (um["month"] >= 6)].groupby("unit")[
        ["hours_demanded", "hours_available", "exhaustion", "hours_proactive", "capacity_hours"]].mean()
    load = tw["hours_demanded"] / tw["hours_available"]
    rho_e = stats.spearmanr(load, tw["exhaustion"])[0]
    assert rho_e > 0.5, rho_e
    proactive = tw["hours_proactive"] / tw["capacity_hours"]
    high, low = proactive[load >= load.quantile(0.75)], proactive[load <= load.quantile(0.25)]
    se = np.sqrt(high.var() / len(high) + low.var() / len(low))
    assert low.mean() - high.mean() > 2 * se, (low.mean(), high.mean(), se)


@SHARES_BASELINE
def test_strain_raises_exhaustion_and_gap_and_lowers_proactive_work():
    """Pattern 8 across worlds: less staff -> more exhaustion, less proactive work, larger gap."""
    normal, strained = summaries(), summaries(overrides={"world.capacity.ratio": 0.8})
    assert_larger(normal, strained, "mean_exhaustion")
    assert_larger(strained, normal, "effort_share_proactive")
    assert_larger(normal, strained, "measured_true_gap")
