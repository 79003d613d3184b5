"""The measured figures, each defined once: what counts as responded, in scope, resolved, satisfied.

The three rates (三率, Art. 32) are shares of in-scope closed orders (orders excluded as
unreasonable under Art. 32(3) leave the denominator): responded within the tier's response
time (Art. 15(1)), counted resolved by the rule in force (Art. 23, 32), rated satisfied or
basically satisfied at callback. The daily series, the summary and the monthly assessment
all call these functions, so the three can never disagree on a definition.

Orders live until they end (Art. 13, 15): an order enters the rates when it ends, however
late. An order explained to the requester as temporarily unsolvable (暂不能解决, Art. 15(2))
is its own end state, reported separately (``explained_unsolvable``); it stays in scope for
all three rates: explaining is a duty of Art. 15(2), not a resolution, and Art. 32 makes
the assessment "以解决诉求为导向", so it counts as resolved only if the rule in force says so
(the requester says so at callback, or the unit reports it; units report it as unsolved).
Overdue is booked in the month an order falls due unfinished (Art. 35(2)), not when it ends.
"""

from __future__ import annotations

import numpy as np

from .orders import SAT_BASIC


def responded_on_time(orders, rows: np.ndarray, response_days) -> np.ndarray:
    """Orders whose requester was first contacted within the tier's response time (Art. 15(1)),
    counted from receipt by the responsible unit (``ti_available``: the day the unit now holding
    the order received it, after pre-dispatch consultation, linkage, district forwarding and
    re-dispatch), so time lost before it reached the unit is not charged to that unit; that
    time is the hotline's and the dispatch's own indicator (:func:`routing_days`)."""
    days = np.asarray(response_days)[orders.tier[rows]]
    contact = orders.ti_contact[rows]
    return (contact >= 0) & (contact <= orders.ti_available[rows] + days)


def routing_days(orders, rows: np.ndarray) -> np.ndarray:
    """Days from the call to receipt by the responsible unit (the hotline's and dispatch's time, Art. 11-12)."""
    return (orders.ti_available[rows] - orders.ti_created[rows]).astype(float)


def in_scope(orders, rows: np.ndarray) -> np.ndarray:
    """Orders that count in the score (not excluded as unreasonable, Art. 32(3); not left out
    because the requester could not be reached at callback, Art. 23 and rules.hotline)."""
    return ~orders.excluded[rows] & ~orders.unreached[rows]


def satisfied(orders, rows: np.ndarray) -> np.ndarray:
    """Satisfied or basically satisfied at callback (Art. 23)."""
    return orders.satisfaction[rows] >= SAT_BASIC


def city_rates(orders, rows: np.ndarray, response_days) -> dict[str, float]:
    """The three rates and the true resolution rate over closed orders ``rows`` (city level)."""
    scope = in_scope(orders, rows)
    return rates_of_counts(rows.size, scope.sum(), (responded_on_time(orders, rows, response_days) & scope).sum(),
                           (orders.measured_resolved[rows] & scope).sum(), (satisfied(orders, rows) & scope).sum(),
                           orders.true_resolved[rows].sum())


def rates_of_counts(closed, scope, responded, measured, satisfied_n, true) -> dict[str, float]:
    """The city rates from their counts: the three rates over the in-scope closed orders, true
    resolution over all closed ones (city_rates, and results.closed_counts' groups)."""
    den = max(int(scope), 1)
    return {"response_rate": int(responded) / den, "resolution_rate": int(measured) / den,
            "satisfaction_rate": int(satisfied_n) / den, "true_resolution_rate": int(true) / max(int(closed), 1)}


def rate(num, den) -> np.ndarray:
    """num / den per unit, NaN where there is nothing to rate."""
    return np.where(den > 0, num / np.maximum(den, 1e-12), np.nan)


def rate_or0(num, den) -> np.ndarray:
    """num / den per unit, 0 where there is nothing to rate."""
    return np.where(den > 0, num / np.maximum(den, 1e-12), 0.0)


def three_rate_score(response, resolution, satisfaction, weights) -> np.ndarray:
    """The core composite (0-100) of the three rates with the assessment's weights (Art. 32)."""
    return 100 * (weights.response * response + weights.resolution * resolution + weights.satisfaction * satisfaction)
