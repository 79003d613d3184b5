"""Results of a run (model/results.py): tables beside the summary, written atomically."""

from __future__ import annotations

from conftest import ran

from model.orders import RTYPE_NAMES


def test_orders_by_type_and_channel_add_up_to_the_work_orders():
    res = ran(days=40).results()
    t = res.by_type
    assert set(t["request_type"]) == set(RTYPE_NAMES) and set(t["channel"]) == {"phone", "online"}
    assert t["orders"].sum() == res.summary["work_orders"] and t["closed"].sum() == res.summary["closed_orders"]
    online = t.loc[t["channel"] == "online", "orders"].sum() / t["orders"].sum()
    assert 0.0 < online < 0.3          # the 2020 online share is 9.3% (world.demand.online_share)


def test_results_write_every_table(tmp_path):
    out = ran(days=5).results().write(tmp_path / "run", plot=False)
    assert {p.name for p in out.iterdir()} >= {"daily.parquet", "units_monthly.parquet", "requests_by_type.parquet",
                                               "summary.json", "config.toml", "provenance.json"}


# ------------------------------------------------------------ equity by reporting class (issue 9 item 9)
def test_equity_by_reporting_class_is_need_weighted_to_one_and_follows_reporting():
    import numpy as np
    from conftest import ran as _ran

    from model.results import equity, reporting_class

    m = _ran(seed=2, scale=0.002, days=20)
    cls = reporting_class(m.city)
    pop = m.city.township_pop
    for c in range(3):                                     # terciles of population
        assert abs(pop[cls == c].sum() / pop.sum() - 1 / 3) < 0.05
    assert m.city.township_report[cls == 0].max() <= m.city.township_report[cls == 2].min()
    e = equity(m)
    need = np.bincount(cls, weights=pop * m.city.township_need, minlength=3)
    for name in ("contacts", "orders", "true_resolved"):
        ratios = np.array([e[f"equity_{name}_{c}"] for c in ("low", "mid", "high")])
        assert np.isclose((ratios * need).sum() / need.sum(), 1.0), "need-weighted mean is the city (1)"
    assert e["equity_contacts_low"] < 1 < e["equity_contacts_high"], "low-reporting townships file less per need"
