"""Patterns 11-13 (literature.md): rank persistence and recovery; an independent survey beside the
callback; volume grown through more callers.

Pattern 11 runs on the sampled city (model/sample.py) at 0.05, where townships carry their full
volume, so their monthly scores are not dominated by the noise of tiny queues (the thinned
343-township world at 0.01 ranks mostly noise: top-decile persistence 0.15 against 0.10 by chance).
Pattern 12's size is a strict xfail with its measured reason: the model reproduces its direction,
not yet its size: since pressure is sanctioned per confirmed case (2026-12-07, docs/calibration.md)
the survey of September-November sits 3.0-3.6 points below November's callback (published 0.7).
Before, on the whole year's two rates (a different comparison): about 5 points after round 9, 9-10
before it. Pattern 13 holds since the
volume is read as reach x use (model/citizens.py).
"""

from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from model import load_scenario

from .conftest import K_SE, SCENARIOS, simulate

pytestmark = pytest.mark.slow
SEEDS = (101, 102, 103)
RANK_SEEDS = tuple(range(101, 109))    # pattern 11's months at the top: an extreme statistic, so eight


def _ranks(seed: int):
    cfg = load_scenario(SCENARIOS / "final_2021.toml", overrides={"city.scale": 0.05, "city.sampling": "townships"})
    um = simulate(cfg, seed, 365).results().units_monthly
    t = um[(um["kind"] == "township") & um["assessable"]]
    return (t.pivot(index="unit", columns="month", values="percentile"),
            t.pivot(index="unit", columns="month", values="remedial").fillna(False).astype(bool))


def test_the_top_persists_and_the_bottom_recovers():
    """Pattern 11: units in the top tenth one month are there again the next far more often than
    chance (E-Town streets first in 9 of 12 months), and remedial townships climb out within a year
    (Guangwai street from 40% to above 90%).

    The most persistent township's months in the top tenth vary a lot from seed to seed (19
    townships at 0.05, two in the top tenth), so eight replicates: on average it holds the top for
    at least half the year (by chance 3.6 months on average, 6 or more in 1% of years: 12 months of
    two random townships of 19) and in some replicate for 8 or more of 12. Measured 2026-12-07,
    seeds 101-108: 6, 5, 7, 9, 7, 11, 5, 8 months (pressure_effect 0.47); 4, 4, 8, 9, 5, 10, 7, 7 at
    0.65. Three seeds and their maximum alone (the test before) passed or failed on seed 103."""
    with ProcessPoolExecutor(2) as ex:
        runs = list(ex.map(_ranks, RANK_SEEDS))
    persist, climbed, top_months = [], [], []
    for pct, remedial in runs:
        top = pct >= 0.9
        months = list(pct.columns)
        persist.append(np.mean([(top[a] & top[b]).sum() / max(top[a].sum(), 1) for a, b in zip(months, months[1:])]))
        top_months.append(int(top.sum(axis=1).max()))
        first = {u: remedial.columns[remedial.loc[u]].min() for u in remedial.index if remedial.loc[u].any()}
        climbed += [bool((pct.loc[u, pct.columns > m] >= 0.5).any()) for u, m in first.items() if m <= months[-1] - 3]
    persist = np.array(persist)
    assert persist.mean() - 0.1 > K_SE * persist.std(ddof=1) / np.sqrt(len(persist)), persist
    assert np.mean(top_months) >= 6 and max(top_months) >= 8, top_months   # someone tops it most of the year
    share = np.mean(climbed)
    assert len(climbed) >= 6 and share > K_SE * np.sqrt(share * (1 - share) / len(climbed)), (share, len(climbed))


def _late_year(seed: int) -> dict:
    """The published comparison's months: the survey of orders closed in September-November, the
    hotline's callback satisfaction of November, pooled over its orders (facts.md: end 2021, 91.31%
    against 92%; the calibration's target takes the same months, November as the mean of its daily
    rates), beside the whole year's two rates."""
    cfg = load_scenario(SCENARIOS / "final_2021.toml", overrides={"city.scale": 0.02, "city.sampling": "townships"})
    r = simulate(cfg, seed, 365).results()
    d, um = r.daily, r.units_monthly
    autumn = d[d["month"].isin((9, 10, 11))]
    nov = um[um["month"] == (11 - cfg.city.start_month) % 12]       # run months count from the start
    return {**r.summary, "survey_autumn": autumn["survey_satisfied"].sum() / autumn["survey_sampled"].sum(),
            "callback_november": nov["satisfied"].sum() / nov["in_scope"].sum()}


@pytest.fixture(scope="module")
def outside():
    with ProcessPoolExecutor(2) as ex:
        return list(ex.map(_late_year, SEEDS[:2]))


def test_the_independent_survey_sits_below_the_callback(outside):
    """Pattern 12, direction: with nobody from the unit on the line, satisfaction is lower."""
    for s in outside:
        assert s["survey_satisfaction_rate"] < s["satisfaction_rate"]


@pytest.mark.xfail(strict=True, reason="measured 2026-12-07 after pressure's per-case sanction (seeds 101 / 102, sampled "
                   "0.02): the September-November survey sits 3.0 / 3.6 points below November's callback (91.8 / 89.9% "
                   "vs 94.8 / 93.5%; published 91.31% vs 92%). Seed 102 split against its September-November callback "
                   "(3.5 points): orders excluded as unreasonable (Art. 32(3), 5% of closures, 41% of their requesters "
                   "satisfied) 2.3, the explanation that fades before the survey asks 1.0, pressure 0.1 "
                   "(docs/calibration.md, 'night')")
def test_the_independent_survey_sits_at_most_a_little_below_the_callback(outside):
    """Pattern 12, size: the survey of September-November at most 3 points below November's callback
    (published 0.69). What keeps them close since 2026-12-07: pressing requesters (Art. 35(5)) is
    sanctioned per confirmed case as falsification is, so units rarely press (0.8% of closures
    pressed in September-November, seed 101, against 12% with the old sanction); what is left between
    the two is the explanation that fades before the survey asks and the orders excluded as
    unreasonable, which the survey still asks (docs/calibration.md)."""
    for s in outside:
        assert s["callback_november"] - s["survey_autumn"] < 0.03, s


def _callers(volume: float) -> dict:
    cfg = load_scenario(SCENARIOS / "final_2021.toml", overrides={
        "city.scale": 0.02, "city.sampling": "townships", "world.demand.contacts_per_capita_year": volume})
    return simulate(cfg, SEEDS[0], 365).results().summary


@pytest.fixture(scope="module")
def callers():
    with ProcessPoolExecutor(2) as ex:
        return list(ex.map(_callers, [0.32, 0.64]))       # the 2019 volume, and twice it


def test_more_volume_comes_with_more_distinct_callers(callers):
    """Pattern 13, direction: doubling the volume draws in many more residents."""
    low, high = callers
    assert high["distinct_caller_share"] > 1.4 * low["distinct_caller_share"]


def test_volume_grows_through_more_callers_not_more_calls_each(callers):
    """Pattern 13, size: contacts per distinct caller stay put when the volume doubles, near 2.5.
    The volume is read as reach x use (citizens.py): a higher volume draws in new users; what could
    still push contacts per caller up are repeat calls of the unresolved and trust-driven filing.
    Measured 2026-12-02 (seed 101, scale 0.02): 2.31 at both volumes, distinct share 0.133 and 0.265."""
    low, high = callers
    assert abs(high["contacts_per_distinct_caller"] / low["contacts_per_distinct_caller"] - 1) < 0.1
    assert 2.2 < low["contacts_per_distinct_caller"] < 2.8
