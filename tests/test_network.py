"""The coordination network (条块): nodes, edge kinds, monthly history, export."""

from __future__ import annotations

import json
from collections import Counter

import networkx as nx
import numpy as np
from conftest import model, ran

from model.network import build_network, export_network

T, L, D, E = 343, 12, 16, 4          # townships, lines, districts, enterprises
N_UNITS = T + L + D * L + E + D + 1  # + district governments + the hotline


def test_network_has_one_node_per_unit_and_the_expected_edges():
    m = model(scale=0.001)
    g = build_network(m.city)
    assert g.number_of_nodes() == N_UNITS == 568
    kinds = Counter(nx.get_edge_attributes(g, "kind").values())
    neighbours = int(sum(np.diff(m.city.township_district) == 0))   # consecutive townships of a district
    assert kinds == {"supervision": T, "whistle": T * L, "neighbour": neighbours, "district": D * L,
                     "line": D * L, "dispatch": N_UNITS - 1 - D}
    node_kinds = Counter(nx.get_node_attributes(g, "kind").values())
    assert node_kinds["township"] == T and node_kinds["hotline"] == 1


def test_every_township_is_tied_to_its_district_and_its_departments():
    m = model(scale=0.001)
    g = m.network
    for t in (0, 100, 342):
        d = m.city.township_district[t]
        assert g[t][int(m.city.distgov_unit[d])]["kind"] == "supervision"
        for dept in m.city.distdept_unit[d]:
            assert g[t][int(dept)]["kind"] == "whistle"
    for d in range(D):
        for li, dept in enumerate(m.city.distdept_unit[d]):
            assert g[int(dept)][int(m.city.muni_unit[li])]["kind"] == "line"


def test_monthly_whistles_are_added_to_the_edges():
    m = ran(seed=2, scale=0.002, days=35)
    um = m.results().units_monthly
    sent = um.loc[um["month"] == 0, "whistles_sent"].sum()
    answered = um.loc[um["month"] == 0, "whistles_answered"].sum()
    w = sum(d["whistles"] for _, _, d in m.network.edges(data=True))
    a = sum(d["whistles_answered"] for _, _, d in m.network.edges(data=True))
    assert sent > 0 and w == sent and a == answered
    # whistles run along township-department ties: no new edge kinds appear
    assert set(nx.get_edge_attributes(m.network, "kind").values()) <= {
        "supervision", "whistle", "neighbour", "district", "line", "dispatch", "cohandling"}


def test_export_network_writes_readable_graphml_and_json(tmp_path):
    m = ran(seed=2, scale=0.002, days=35)
    p = export_network(m.network, tmp_path / "net.graphml")
    g = nx.read_graphml(p)
    assert g.number_of_nodes() == N_UNITS
    assert g.number_of_edges() == m.network.number_of_edges()
    assert Counter(nx.get_edge_attributes(g, "kind").values()) == \
        Counter(nx.get_edge_attributes(m.network, "kind").values())
    assert g.nodes["0"]["kind"] == "township"
    j = export_network(m.network, tmp_path / "net.json")
    data = json.loads(j.read_text())
    assert len(data["nodes"]) == N_UNITS and len(data["edges"]) == m.network.number_of_edges()


def _edges(g: nx.Graph) -> list:
    return [(a, b, dict(d)) for a, b, d in g.edges(data=True)]


def test_the_graph_read_once_at_the_end_equals_the_graph_read_every_month():
    """Months are written into the edges when the graph is read: reading it after every month
    end or only once must give the same edges, in the same order, with the same sums."""
    every, once = model(seed=3, scale=0.002, days=100), model(seed=3, scale=0.002, days=100)
    for _ in range(100):
        every.step()
        if every.day % 10 == 0:
            every.network.number_of_edges()
        once.step()
    assert len(once.coordination.pending) >= 3 and not every.coordination.pending
    assert _edges(every.network) == _edges(once.network)
    assert not once.coordination.pending
    added = sum(d["cohandled_hours"] for _, _, d in once.network.edges(data=True))
    assert added > 0


def test_pairs_are_grouped_as_sorting_them_would():
    """The dense pair count gives the keys, counts and (bit for bit) the sums of np.unique's grouping."""
    from model.network import PAIR_BASE, _group_pairs

    rng = np.random.default_rng(5)
    a, b = rng.integers(0, 568, 20_000), rng.integers(0, 568, 20_000)
    w = rng.random(20_000) * 3.0
    keys, n, s = _group_pairs(a, b, w, 568)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    uniq, inv = np.unique(lo * PAIR_BASE + hi, return_inverse=True)
    assert np.array_equal(keys, uniq) and np.array_equal(n, np.bincount(inv))
    assert np.array_equal(s, np.bincount(inv, weights=w))
    assert _group_pairs(a[:0], b[:0], w[:0], 568) == ()
