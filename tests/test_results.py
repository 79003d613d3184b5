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
