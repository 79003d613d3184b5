"""Staffing (Art. 5 投入保障, model/staffing.py): units are staffed for the work the catalogue
sends them, and then district and city governments add, move or withdraw staff, with a lag,
when the work that arrives stays above or below what their staff can do.

The hand-built tests use a city of four units (two townships and the district government of
district 0, one municipal department) and a stand-in for behaviour.Units with the same
``capacity`` / ``set_staff`` contract, so every answer can be worked out by hand.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from conftest import FINAL, config_from, model

from model import load_scenario, with_overrides
from model.staffing import LEVEL_CITY, LEVEL_DISTRICT, Staffing, days_in_month, funders
from model.world import KIND_DISTDEPT, KIND_DISTGOV, KIND_MUNI, KIND_TOWNSHIP

T1, T2, GOV, MUNI = range(4)
CAP = np.array([100.0, 100.0, 10.0, 50.0])          # staff hours a day at set-up
# the hand-built tests' world: no smoothing, a 10% band either side, close the whole gap, target 1
KNOWN = {"world.staffing.following": True,
         "world.staffing.load_memory": 0.0, "world.staffing.sustain_months": 3, "world.staffing.lag_months": 2,
         "world.staffing.over_band": 0.1, "world.staffing.slack_band": 0.1, "world.staffing.adjust_share": 1.0,
         "world.staffing.target_ratio": 1.0, "world.staffing.budget_growth": 5.0,
         "world.staffing.establishment": 0.0, "world.staffing.remedial_staff_share": 0.1,
         "world.behaviour.effort_resolve": 0.5, "world.behaviour.effort_satisfy": 0.35, "world.capacity.ratio": 1.0}


class FakeUnits:
    """The part of behaviour.Units staffing uses: capacity and set_staff (floor one hour)."""

    def __init__(self, capacity):
        self.capacity = np.array(capacity, float)

    def set_staff(self, units, new):
        self.capacity[units] = new


def tiny_city():
    return SimpleNamespace(n_units=4, unit_kind=np.array([KIND_TOWNSHIP, KIND_TOWNSHIP, KIND_DISTGOV, KIND_MUNI]),
                           unit_district=np.array([0, 0, 0, -1]), distgov_unit=np.array([GOV]),
                           district_pool=np.array([0]))


def pooled_city():
    """The tiny city's two townships in two districts that a sample pools (model/sample.py):
    T1 in district 0, T2 in district 1, each district's government, one municipal department."""
    return SimpleNamespace(n_units=5, unit_kind=np.array([KIND_TOWNSHIP, KIND_TOWNSHIP, KIND_DISTGOV, KIND_DISTGOV,
                                                          KIND_MUNI]),
                           unit_district=np.array([0, 1, 0, 1, -1]), distgov_unit=np.array([2, 3]),
                           district_pool=np.array([0, 0]))


def cfg_with(**over):
    return with_overrides(load_scenario(FINAL), {**KNOWN, **{f"world.staffing.{k}": v for k, v in over.items()}})


def setup(**over):
    cfg = cfg_with(**over)
    units = FakeUnits(CAP)
    return Staffing(tiny_city(), cfg, units.capacity.copy()), units


def demand_at(load: np.ndarray, capacity: np.ndarray, month: int, share: float = 0.5) -> np.ndarray:
    """Monthly demanded hours that put each unit at ``load`` x its planned order hours (target 1)."""
    return load * capacity * share * days_in_month(month)


def run_months(st, units, loads, remedial=None, start=0):
    """Feed one load vector a month; return the per-month records."""
    out = []
    for k, load in enumerate(loads):
        m = start + k
        rem = np.zeros(4, bool) if remedial is None else remedial[k]
        out.append(st.month_end(m, demand_at(np.asarray(load, float), units.capacity, m), rem, units, False))
    return out


def test_capacity_scales_with_the_capacity_ratio():
    a = model({"world.capacity.ratio": 1.0}, scale=0.002).units.capacity
    b = model({"world.capacity.ratio": 2.0}, scale=0.002).units.capacity
    big = a > 1.0                       # the floor of one hour is not scaled
    assert np.allclose(b[big], 2 * a[big])


def test_funders_are_the_district_for_local_units_and_the_city_for_municipal_ones():
    funder, level = funders(tiny_city())
    assert list(funder) == [0, 0, -1, 1]           # the district government is not staffed this way
    assert level[MUNI] == LEVEL_CITY and level[T1] == LEVEL_DISTRICT


def test_a_pool_of_districts_is_one_budget_line_and_its_governments_follow_its_staff():
    # in a sampled city a pool stands in for one district: its townships share one budget, so
    # a township's slack in one district funds another's overload in the other (at scale 1.0
    # each district is its own pool and this is the district's own budget)
    city = pooled_city()
    funder, _ = funders(city)
    assert list(funder) == [0, 0, -1, -1, 1]
    cfg = cfg_with(lag_months=0, budget_growth=0.0)
    units = FakeUnits([100.0, 100.0, 10.0, 10.0, 50.0])
    st = Staffing(city, cfg, units.capacity.copy())
    for m in range(3):
        load = np.array([1.5, 0.5, 0.0, 0.0, 1.0])
        st.month_end(m, load * units.capacity * 0.5 * days_in_month(m), np.zeros(5, bool), units, False)
    assert units.capacity[0] == pytest.approx(150.0) and units.capacity[1] == pytest.approx(50.0)
    # both governments follow the pool's staff, which has not changed
    assert units.capacity[2] == pytest.approx(10.0) and units.capacity[3] == pytest.approx(10.0)


def test_a_sampled_citys_budget_lines_hold_townships_and_departments_as_a_district_does():
    # the thinned city has scale 1.0's structure (every district with its townships and departments)
    for c in (model({"city.sampling": "townships"}, scale=0.05, days=1).city, model(days=1).city):
        funder, _ = funders(c)
        local = funder[(c.unit_kind == KIND_TOWNSHIP) | (c.unit_kind == KIND_DISTDEPT)]
        for f in np.unique(local):
            kinds = set(c.unit_kind[funder == f])
            assert {KIND_TOWNSHIP, KIND_DISTDEPT} <= kinds, (c.sampled, f)


def test_a_sustained_overload_adds_staff_after_the_lag_not_before():
    st, units = setup()
    recs = run_months(st, units, [[1.5, 1.0, 0, 1.0]] * 6)
    added = [r["staff_added"][T1] for r in recs]
    # overloaded in months 0, 1, 2: the government decides at the end of month 2 (sustain 3)
    assert [r["staff_decided"][T1] for r in recs][:3] == [0.0, 0.0, pytest.approx(50.0)]
    # ... and the 50 hours (the whole gap: 1.5 x 100 - 100) arrive two month ends later (lag 2)
    assert added[:4] == [0.0, 0.0, 0.0, 0.0] and added[4] == pytest.approx(50.0)
    assert units.capacity[T1] == pytest.approx(150.0)
    assert units.capacity[T2] == 100.0 and units.capacity[MUNI] == 50.0    # in balance: untouched
    # the decision counts what is already coming: no second order for the same gap
    assert recs[3]["staff_decided"][T1] == pytest.approx(0.0)


def test_a_short_spike_adds_no_staff():
    st, units = setup()
    recs = run_months(st, units, [[2.0, 1.0, 0, 1.0]] * 2 + [[1.0, 1.0, 0, 1.0]] * 6)
    assert sum(r["staff_decided"][T1] for r in recs) == 0.0
    assert units.capacity[T1] == 100.0


def test_smoothing_makes_a_spike_count_only_as_much_as_it_lasts():
    st, units = setup(load_memory=0.5)
    run_months(st, units, [[3.0, 1.0, 0, 1.0]])
    run_months(st, units, [[1.0, 1.0, 0, 1.0]], start=1)
    assert st.load[T1] == pytest.approx(0.5 * 3.0 + 0.5 * 1.0)


def test_slack_is_withdrawn_after_it_lasts_and_the_district_government_follows():
    st, units = setup(lag_months=0)
    recs = run_months(st, units, [[0.6, 1.0, 0, 1.0]] * 3)
    assert recs[2]["staff_withdrawn"][T1] == pytest.approx(40.0)
    assert units.capacity[T1] == pytest.approx(60.0)
    # the district government's coordination staff follow its district's staff: 200 -> 160 hours
    assert units.capacity[GOV] == pytest.approx(10.0 * 160 / 200)
    assert recs[2]["staff_added"][GOV] == 0.0 and recs[2]["staff_withdrawn"][GOV] == pytest.approx(2.0)


def test_a_seasonal_lull_withdraws_no_staff_while_the_busy_season_is_remembered():
    # three busy months (load 1.0), then a lull at 0.6: with this month's load alone the slack
    # is withdrawn after three months of it; with six months' memory only once the busy season
    # has left the memory (months 3-8 all below the band at month 8), three months later
    def withdrawn(memory):
        st, units = setup(lag_months=0, peak_memory_months=memory)
        recs = run_months(st, units, [[1.0, 1.0, 0, 1.0]] * 3 + [[0.6, 1.0, 0, 1.0]] * 8)
        out = [r["staff_withdrawn"][T1] for r in recs]
        first = next(k for k, w in enumerate(out) if w > 0)
        return first, out[first]

    assert withdrawn(1) == (5, pytest.approx(40.0))
    assert withdrawn(6) == (10, pytest.approx(40.0))


def test_withdrawals_keep_the_staff_the_recent_peak_needs():
    # slack all along (0.8, then 0.5; band 0.1): after three months the government withdraws
    # what the three months' peak (0.8) does not need, 20 hours, not the 50 today's lull would free
    st, units = setup(lag_months=0, peak_memory_months=3)
    recs = run_months(st, units, [[0.8, 1.0, 0, 1.0]] + [[0.5, 1.0, 0, 1.0]] * 2)
    assert recs[2]["staff_withdrawn"][T1] == pytest.approx(20.0)
    assert units.capacity[T1] == pytest.approx(80.0)


def test_a_shorter_memory_keeps_the_newest_months():
    st, units = setup(peak_memory_months=4)
    run_months(st, units, [[2.0, 1.0, 0, 1.0], [0.5, 1.0, 0, 1.0], [0.7, 1.0, 0, 1.0]])
    st.reconfigure(cfg_with(peak_memory_months=2))
    assert st.recent_need.shape == (2, 4) and st.peak_need[T1] == pytest.approx(70.0)


def test_the_peak_is_remembered_as_staff_needed_not_as_a_ratio():
    # a busy month at load 1.5 is answered with 50 more staff (lag 0, sustain 1); the lull that
    # follows is judged against the 150 hours that month needed, not against 1.5 x today's 150
    st, units = setup(lag_months=0, sustain_months=1, peak_memory_months=3)
    run_months(st, units, [[1.5, 1.0, 0, 1.0]])
    assert units.capacity[T1] == pytest.approx(150.0)
    recs = run_months(st, units, [[0.5, 1.0, 0, 1.0]], start=1)    # 75 hours needed now
    assert st.peak_need[T1] == pytest.approx(150.0)
    assert recs[0]["staff_withdrawn"][T1] == 0.0                # the peak still needs all 150


def test_an_overdue_backlog_is_load_to_clear():
    # T1's arrivals are exactly its plan (load 1), but it carries 1,350 hours of overdue work: to
    # clear over backlog_months (3, of 30 days) that is 15 hours a day on top of the 50 planned,
    # load 1.3, so after three months the government adds the gap, 30 hours (lag 0)
    def added(months):
        st, units = setup(lag_months=0, backlog_months=months)
        recs = []
        for m in range(3):
            recs.append(st.month_end(m, demand_at(np.array([1.0, 1.0, 0, 1.0]), units.capacity, m), np.zeros(4, bool),
                                     units, False, backlog=np.array([1350.0, 0.0, 0.0, 0.0])))
        return recs[-1]["staff_added"]

    assert added(3.0)[T1] == pytest.approx(30.0, rel=1e-9) and added(3.0)[T2] == 0.0
    assert added(0.0)[T1] == 0.0                    # 0: arrivals alone


def test_the_overdue_backlog_counts_open_late_work_by_who_owes_it():
    from model.orders import CLOSED, WorkOrders

    wo = WorkOrders()
    wo.add(unit=np.array([0, 0, 1, 2], np.int16), remaining=np.array([5.0, 7.0, 3.0, 9.0], np.float32),
           overdue=np.array([True, False, True, True]), coop_unit=np.array([2, -1, -1, 1], np.int16),
           coop_remaining=np.array([4.0, 0.0, 0.0, 6.0], np.float32))
    wo.state[3] = CLOSED                            # a closed order owes nothing, late or not
    # unit 0: its late order's own 5 hours (the on-time 7 is not overdue); unit 1: 3; unit 2: the
    # 4 hours of cooperation it owes on unit 0's late order
    np.testing.assert_allclose(wo.overdue_backlog(4), [5.0, 3.0, 4.0, 0.0])


def test_growth_is_capped_by_the_budget_and_withdrawn_posts_fund_moves():
    # a budget of 10% a year: district 0 (200 hours of township staff) may add 20 hours net
    st, units = setup(lag_months=0, budget_growth=0.1)
    run_months(st, units, [[2.0, 1.0, 0, 2.0]] * 3)
    assert units.capacity[T1] == pytest.approx(120.0)          # wanted +100, got the 20 the budget allows
    assert units.capacity[MUNI] == pytest.approx(55.0)         # the city: 10% of 50
    # the budget is used up for the year: more overload adds nothing
    run_months(st, units, [[2.0, 1.0, 0, 2.0]] * 3, start=3)
    assert units.capacity[T1] == pytest.approx(120.0)
    # a new year opens a new budget (10% of the staff on 1 January)
    st.month_end(6, demand_at(np.array([2.0, 1.0, 0, 2.0]), units.capacity, 6), np.zeros(4, bool), units, True)
    run_months(st, units, [[2.0, 1.0, 0, 2.0]], start=7)
    assert units.capacity[T1] == pytest.approx(120.0 + 0.1 * 220.0)
    # moving staff: slack withdrawn from one township funds the other's additions in the same year
    st2, units2 = setup(lag_months=0, budget_growth=0.0)
    run_months(st2, units2, [[1.5, 0.5, 0, 1.0]] * 3)
    assert units2.capacity[T2] == pytest.approx(50.0)
    assert units2.capacity[T1] == pytest.approx(150.0)
    assert units2.capacity[[T1, T2]].sum() == pytest.approx(200.0)


def test_the_establishment_lets_an_unprepared_launch_staff_up_without_new_budget():
    # staffed at 0.35 of the catalogue's work, with posts for all of it (establishment 1)
    cfg = cfg_with(lag_months=0, budget_growth=0.0, establishment=1.0)
    cfg = with_overrides(cfg, {"world.capacity.ratio": 0.35})
    units = FakeUnits(CAP * 0.35)
    st = Staffing(tiny_city(), cfg, units.capacity.copy())
    run_months(st, units, [[3.0, 3.0, 0, 3.0]] * 3)
    assert units.capacity[T1] == pytest.approx(100.0)           # up to the posts held, not beyond


def test_remedial_designation_adds_support():
    st, units = setup(lag_months=1)
    rem = [np.array([True, False, False, False])]
    recs = run_months(st, units, [[1.0, 1.0, 0, 1.0]] * 2, remedial=rem + [np.zeros(4, bool)])
    assert recs[0]["staff_decided"][T1] == pytest.approx(10.0)      # remedial_staff_share x 100
    assert recs[1]["staff_added"][T1] == pytest.approx(10.0)         # after the lag
    assert units.capacity[T2] == 100.0
    # an overloaded remedial township is re-staffed at once, without waiting sustain_months
    st, units = setup(lag_months=0)
    recs = run_months(st, units, [[1.5, 1.0, 0, 1.0]], remedial=rem)
    assert recs[0]["staff_added"][T1] == pytest.approx(50.0 + 10.0)


def test_without_following_staff_stay_as_set_up():
    st, units = setup(lag_months=0, following=False)
    run_months(st, units, [[2.0, 0.5, 0, 2.0]] * 6)
    assert np.array_equal(units.capacity, CAP)


def test_a_new_lag_keeps_the_pending_decisions():
    st, units = setup(lag_months=3)
    run_months(st, units, [[1.5, 1.0, 0, 1.0]] * 3)
    assert st.pipeline.sum() == pytest.approx(50.0)
    st.reconfigure(cfg_with(lag_months=1))
    assert st.pipeline.shape[0] == 2 and st.pipeline.sum() == pytest.approx(50.0)


def staffed_run(seed: int):
    cfg = config_from({"world.staffing.following": True,
                       "world.staffing.sustain_months": 1, "world.staffing.lag_months": 1,
                       "world.capacity.ratio": 0.5}, scale=0.002, days=100)
    from model import Model
    m = Model(cfg, seed=seed)
    m.run(100)
    return m


def test_an_understaffed_model_is_staffed_up_and_runs_are_reproducible():
    a, b = staffed_run(3), staffed_run(3)
    assert np.array_equal(a.units.capacity, b.units.capacity)
    assert np.array_equal(np.concatenate([r["staff_added"] for r in a.unit_months]),
                          np.concatenate([r["staff_added"] for r in b.unit_months]))
    f = a.staffing.followed
    added = sum(r["staff_added"][f].sum() for r in a.unit_months)
    assert added > 0.1 * a.unit_months[0]["capacity_hours"][f].sum()   # staff at half the plan get more


def test_the_history_replay_and_the_forecast_set_no_staffing_by_hand():
    """Staffing in the replay is the governments' decision: no dated step of world.capacity or
    world.staffing; the forecast adds only its length to the replay (its volume path: 2021's)."""
    from conftest import SCENARIOS

    hist = load_scenario(SCENARIOS / "history_2019_2021.toml")
    fc = load_scenario(SCENARIOS / "forecast_2022_2025.toml")
    for cfg in (hist, fc):
        keys = {k for e in cfg.timeline for k in e.overrides}
        assert not {k for k in keys if k.startswith(("world.capacity.", "world.staffing."))}
        assert cfg.world.staffing.following
    assert fc.timeline == hist.timeline
    assert fc.model_dump(exclude={"name", "description", "city"}) == hist.model_dump(exclude={"name", "description", "city"})
    assert fc.city.days > hist.city.days
