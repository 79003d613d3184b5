"""Patterns 4, 5, 6 and 10: demand, selective responsiveness, unequal reporting, 每月一题."""

import numpy as np
import pytest
from scipy import stats

from model.calendar import months_of
from model.orders import CLOSED

from .conftest import REPS, SHARES_BASELINE, run

pytestmark = pytest.mark.slow


YOUNG = {"world.citizens.initial_trust": 0.4}


def _by_month(d, col):
    return d.groupby(months_of(d["day"]).astype(int))[col].sum()


def test_demand_grows_as_the_system_becomes_responsive_with_more_low_value_requests():
    """Pattern 4: in a young system (low initial trust), as trust and reputation rise,
    contacts per day rise (even while problem sources fall) and unreasonable requests make
    up a larger share of dispatched orders."""
    counts = np.zeros((2, 2))                    # [early, late] x [unreasonable, all], pooled over replicates
    for r in range(REPS):
        m = run(overrides=YOUNG, seed=100 + r)
        d = m.results().daily
        contacts = _by_month(d, "contacts")
        assert contacts.iloc[8:10].mean() > contacts.iloc[0:2].mean() * 1.03
        assert d["mean_trust"].iloc[-1] > d["mean_trust"].iloc[0]
        wo = m.orders
        early, late = wo.ti_created < 60, wo.ti_created >= 240
        assert wo.unreasonable[late].mean() > wo.unreasonable[early].mean()      # each replicate: the direction
        counts += [[wo.unreasonable[early].sum(), early.sum()], [wo.unreasonable[late].sum(), late.sum()]]
    # the size, from all replicates' orders: the late share exceeds the early one by 2 binomial se
    (u1, n1), (u2, n2) = counts
    p1, p2 = u1 / n1, u2 / n2
    se = np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    assert p2 - p1 > 2 * se, (p1, p2, se)


def test_hard_and_shared_requests_are_served_worse_and_threats_faster():
    """Pattern 5: easy requests are really resolved more often than hard or cross-jurisdiction
    ones, which are more often closed on paper; when queues form (strained staff), escalation
    threats are contacted sooner."""
    m = run(overrides={"world.capacity.ratio": 0.8})
    wo = m.orders
    c = wo.state == CLOSED
    easy, hard, shared = c & ~wo.hard & ~wo.need_coop, c & wo.hard, c & wo.need_coop
    for group in (hard, shared):
        p_e, p_g = wo.true_resolved[easy].mean(), wo.true_resolved[group].mean()
        se = np.sqrt(p_e * (1 - p_e) / easy.sum() + p_g * (1 - p_g) / group.sum())
        assert p_e - p_g > 3 * se
    assert wo.gamed[hard].mean() > wo.gamed[easy].mean()
    # threats jump the work queue: compare completion times within difficulty strata
    done = c & (wo.tier == 2) & ~wo.hard & ~wo.need_coop & ~wo.gamed & (wo.ti_done >= 0)
    wait = (wo.ti_done - wo.ti_created).astype(float)
    edges = np.quantile(wo.difficulty[done], [0, 0.25, 0.5, 0.75, 1.0])
    stratum = np.clip(np.searchsorted(edges, wo.difficulty, side="right") - 1, 0, 3)
    diffs, ses = [], []
    for k in range(4):
        a, b = wait[done & wo.threat & (stratum == k)], wait[done & ~wo.threat & (stratum == k)]
        diffs.append(a.mean() - b.mean())
        ses.append(np.sqrt(a.var() / len(a) + b.var() / len(b)))
    pooled, se = np.mean(diffs), np.sqrt(np.sum(np.square(ses))) / 4
    assert pooled < -2 * se, (diffs, ses)


@SHARES_BASELINE
def test_unequal_reporting_becomes_unequal_service():
    """Pattern 6: handling is neutral, yet townships that report less relative to need are
    left with more unsolved problems per resident."""
    m = run()
    city = m.city
    stock_per_need = m.sources.stock.sum(1) / (city.township_pop * city.township_need)
    rho, p = stats.spearmanr(city.township_report, stock_per_need)
    assert rho < -0.3 and p < 0.01, (rho, p)


@SHARES_BASELINE
def test_topic_of_the_month_lowers_later_volume_in_targeted_categories():
    """Pattern 10: 每月一题 removes sources, so dispatched volume of the targeted categories
    falls against the same world without campaigns (common random numbers)."""
    diffs = []
    for r in range(REPS):
        on = run(seed=100 + r)
        off = run(overrides={"rules.proactive.topic_of_month": False}, seed=100 + r)
        topics = on.proactive.history
        assert topics, "topics were chosen"
        cats = np.unique([t["category"] for t in topics])
        later = lambda m, cats=cats: np.isin(m.orders.category, cats) & (m.orders.ti_created >= 120)  # noqa: E731
        diffs.append(later(on).sum() / later(off).sum() - 1)
    diffs = np.array(diffs)
    assert diffs.mean() < -0.03 and diffs.mean() + 2 * diffs.std(ddof=1) / np.sqrt(len(diffs)) < 0, diffs
