"""The measured figures, each defined once: what counts as responded, in scope, resolved, satisfied.

The three rates (三率, Art. 32) are shares of in-scope closed orders (orders excluded as
unreasonable under Art. 32(3) leave the denominator): responded within the tier's response
time (Art. 15(1)), counted resolved by the rule in force (Art. 23, 32), rated satisfied or
basically satisfied at callback. The daily series, the summary and the monthly assessment
all call these functions, so the three can never disagree on a definition.
"""

from __future__ import annotations

import numpy as np

from .orders import SAT_BASIC


def responded_on_time(orders, rows: np.ndarray, response_days) -> np.ndarray:
    """Orders whose requester was first contacted within the tier's response time (Art. 15(1))."""
    days = np.asarray(response_days)[orders.tier[rows]]
    contact = orders.ti_contact[rows]
    return (contact >= 0) & (contact <= orders.ti_created[rows] + days)


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
    n_scope = max(int(scope.sum()), 1)
    return {
        "response_rate": float((responded_on_time(orders, rows, response_days) & scope).sum() / n_scope),
        "resolution_rate": float((orders.measured_resolved[rows] & scope).sum() / n_scope),
        "satisfaction_rate": float((satisfied(orders, rows) & scope).sum() / n_scope),
        "true_resolution_rate": float(orders.true_resolved[rows].sum() / max(rows.size, 1)),
    }


def rate(num, den) -> np.ndarray:
    """num / den per unit, NaN where there is nothing to rate."""
    return np.where(den > 0, num / np.maximum(den, 1e-12), np.nan)


def rate_or0(num, den) -> np.ndarray:
    """num / den per unit, 0 where there is nothing to rate."""
    return np.where(den > 0, num / np.maximum(den, 1e-12), 0.0)


def three_rate_score(response, resolution, satisfaction, weights) -> np.ndarray:
    """The core composite (0-100) of the three rates with the assessment's weights (Art. 32)."""
    return 100 * (weights.response * response + weights.resolution * resolution + weights.satisfaction * satisfaction)
