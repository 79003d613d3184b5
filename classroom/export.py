"""The classroom app's CSV exports: both runs' daily records and the monthly township table.

Written with the csv module, not pandas: the app's server never imports pandas (a page that renders
while pandas is half imported fails, runs.py), and these tables are small.
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np

from classroom.runs import Snapshot
from model.outcomes import DAILY

UNIT_COLUMNS = ["score", "percentile", "remedial", "commended", "class", "response_rate", "resolution_rate",
                "satisfaction_rate", "true_resolution_rate", "effort_resolve", "effort_satisfy", "effort_game",
                "effort_proactive", "exhaustion"]


def _cell(v):
    """A value as a CSV cell: a missing or NaN value is empty (as pandas writes it)."""
    if v is None or (isinstance(v, (float, np.floating)) and math.isnan(v)):
        return ""
    return v.item() if isinstance(v, np.generic) else v


def _csv(header: list, rows) -> bytes:
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(header)
    out.writerows([_cell(v) for v in row] for row in rows)
    return buf.getvalue().encode()


def daily_csv(s: Snapshot) -> bytes:
    """Both runs' daily records (model/outcomes.py DAILY columns, the model's own calendar year and
    month), one row per run and day, with each run's setup, seed and scale."""
    columns = list(DAILY)
    rows = ([arm, s.setup.name(arm), s.setup.seed, s.setup.scale, *(r.get(c) for c in columns)]
            for arm, records in (("A", s.daily_a), ("B", s.daily_b)) for r in records)
    return _csv(["run", "setup", "seed", "scale", *columns], rows)


def townships_csv(s: Snapshot) -> bytes:
    """Monthly township table of both runs (score, ranking outcome, rates, effort, exhaustion)."""
    months = [(arm, um) for arm, units in (("A", s.units_a), ("B", s.units_b)) for um in units]
    columns = [c for c in UNIT_COLUMNS if any(c in um for _, um in months)] if months else UNIT_COLUMNS
    rows = []
    if months:
        tw = np.arange(s.city.n_townships)
        district = np.asarray(s.city.district_names)[np.asarray(s.city.unit_district)[tw]]
        for arm, um in months:
            month = np.asarray(um["month"])[tw]
            values = [np.asarray(um[c])[tw] if c in um else [None] * len(tw) for c in columns]
            rows += [[arm, month[i], i, district[i], *(v[i] for v in values)] for i in tw]
    return _csv(["run", "month", "unit", "district", *columns], rows)
