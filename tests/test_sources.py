"""Problem sources (问题源): stock, arrival, reporting and removal on resolution."""

from __future__ import annotations

import numpy as np
from conftest import K_SD, draw_day, model

from model.demand import STREAM_SOURCE


def test_initial_stock_produces_the_calibrated_reasonable_requests():
    # the published volume (population x contacts per capita, less consultations and the
    # unreasonable share) against what the initial problem stock really files over many
    # independent days' draws (keyed by day, from the same fresh state)
    m = model(scale=0.002)
    d = m.cfg.world.demand
    target = (m.city.township_pop.sum() * m.cfg.city.scale * d.contacts_per_capita_year / 365.0
              * (1 - d.consultation_share) * (1 - d.unreasonable_share))
    days = 300
    filed = sum(int((draw_day(m, day)["requests"]["stream"] == STREAM_SOURCE).sum()) for day in range(days))
    assert abs(filed - days * target) < K_SD * np.sqrt(days * target)        # a sum of Poisson counts
    # the stock is in balance at the calibration resolution rate: problems arising = problems
    # decaying + problems fixed when the requests they produce are resolved at that rate
    c = m.cfg.world.sources
    outflow = c.natural_decay * m.sources.total() + c.calibration_resolution * c.fix_on_resolution * filed / days
    tol = c.calibration_resolution * c.fix_on_resolution * K_SD * np.sqrt(days * target) / days
    assert abs(m.sources.arrival.sum() - outflow) < tol


def test_problems_arise_with_need_not_with_reporting():
    m = model(scale=0.002)
    per_capita = m.sources.arrival.sum(1) / m.city.township_pop
    assert np.allclose(per_capita / m.city.township_need, (per_capita / m.city.township_need)[0])


def test_resolving_removes_at_most_the_stock():
    m = model(scale=0.001)
    s = m.sources
    t = np.zeros(10_000, dtype=np.int64)
    c = np.zeros(10_000, dtype=np.int64)
    before = s.stock[0, 0]
    s.remove_resolved(t, c, np.ones(10_000, bool))
    assert s.stock[0, 0] == 0.0 and np.isclose(s.removed_resolution[0, 0], before)
