"""The outcome registry (model/outcomes.py) names every figure the model reports, once."""

from __future__ import annotations

from conftest import ran

from model.outcomes import DAILY, KEY_OUTCOMES, SUMMARY, numeric_summary, outcome


def test_summary_json_has_exactly_the_registry_figures_in_order():
    assert list(ran(days=5).results().summary) == list(SUMMARY)


def test_daily_parquet_has_exactly_the_registry_columns():
    assert list(ran(days=5).results().daily.columns) == list(DAILY)


def test_every_outcome_has_labels_a_unit_and_a_description():
    for o in [*SUMMARY.values(), *DAILY.values()]:
        assert o.en and o.description and o.agg in ("sum", "mean", "last"), o.name
        assert o.label("both").startswith(o.en)
    assert all(k in SUMMARY for k in KEY_OUTCOMES)


def test_numeric_outcomes_are_numbers_in_a_run():
    s = ran(days=5).results().summary
    for k in numeric_summary():
        assert s[k] is None or isinstance(s[k], (int, float)), k
    assert outcome("resolution_rate").zh == "解决率"
