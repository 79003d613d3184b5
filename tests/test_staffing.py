"""Staffing (Art. 5 投入保障, model/staffing.py): units are staffed for the work the catalogue sends them."""


from __future__ import annotations

import numpy as np
from conftest import model


def test_capacity_scales_with_the_capacity_ratio():
    a = model({"world.capacity.ratio": 1.0}, scale=0.002).units.capacity
    b = model({"world.capacity.ratio": 2.0}, scale=0.002).units.capacity
    big = a > 1.0                       # the floor of one hour is not scaled
    assert np.allclose(b[big], 2 * a[big])
