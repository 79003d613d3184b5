"""The city (model/world.py): 16 districts, 343 townships, the unit id space; in the thinned worlds
of the unit tests (city.sampling = "thin") structure never scales (the sampled city: test_scale.py)."""


from __future__ import annotations

from collections import Counter

from conftest import model

T, L, D, E = 343, 12, 16, 4          # townships, lines, districts, enterprises
N_UNITS = T + L + D * L + E + D + 1  # + district governments + the hotline


def test_the_city_has_the_fixed_structure_at_any_scale():
    for scale in (0.001, 0.003):
        m = model(scale=scale)
        assert m.city.n_townships == T and m.city.n_districts == D and len(m.city.lines) == L
        assert m.city.n_units == N_UNITS
        kinds = Counter(m.city.unit_kind.tolist())
        assert kinds == {0: T, 1: L, 2: D * L, 3: E, 4: D, 5: 1}
