"""The model's calendar (model/calendar.py): months of 365/12 days, calendar months and years."""

from __future__ import annotations

from model.calendar import DAYS_PER_MONTH, calendar_month, calendar_year, month_end_day, month_of


def test_month_end_day_is_the_last_day_of_its_month():
    for day in (0, 29, 30, 364, 365, 729, 730, 1095):
        month = month_of(day)
        end = month_end_day(month)
        assert month_of(end) == month and month_of(end + 1) == month + 1, day


def test_twelve_months_make_a_year_of_365_days():
    assert month_of(364) == 11 and month_of(365) == 12
    assert sum(1 for d in range(365) if month_of(d) == 1) in (30, 31)
    assert abs(DAYS_PER_MONTH * 12 - 365) < 1e-9


def test_calendar_month_and_year_follow_the_start():
    assert calendar_month(0, 11) == 11 and calendar_month(2, 11) == 1
    assert calendar_year(0, 11, 2018) == 2018 and calendar_year(2, 11, 2018) == 2019
    assert calendar_year(14, 11, 2018) == 2020 and calendar_month(14, 11) == 1
