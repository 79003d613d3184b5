"""The model's calendar: one step is one day, a month is 365/12 days (assessment is monthly, Art. 32).

Months are counted from day 0 (``month_of(day) = day // DAYS_PER_MONTH``); the calendar
month and year of a day follow from the scenario's ``city.start_month`` and
``city.start_year`` (seasonality, labels and dates in the outputs).
"""

from __future__ import annotations

DAYS_PER_MONTH = 365 / 12


def month_of(day: int) -> int:
    """Months since the start of the run for a day index (integer arithmetic: twelve months
    make exactly 365 days, so day 365 opens the second year)."""
    return int(day) * 12 // 365


def months_of(days):
    """``month_of`` for an array (or pandas Series) of day indices."""
    return days * 12 // 365


def month_end_day(month: int) -> int:
    """The last day index of ``month`` (the same ``day // DAYS_PER_MONTH`` rule as month_of)."""
    end = (month + 1) * 365 // 12
    while month_of(end) > month:
        end -= 1
    while month_of(end + 1) == month:
        end += 1
    return end


def days_left_in_month(day: int) -> float:
    """Days from ``day`` to the end of its month (fractional, as the month-end push sees it)."""
    return (month_of(day) + 1) * 365 / 12 - day


def calendar_month(month: int, start_month: int) -> int:
    """Calendar month (1-12) of run month ``month``."""
    return (start_month - 1 + month) % 12 + 1


def calendar_year(month: int, start_month: int, start_year: int) -> int:
    """Calendar year of run month ``month``."""
    return start_year + (start_month - 1 + month) // 12
