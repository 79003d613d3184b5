"""The coordination network (条块): units as nodes, ties through which work and pressure flow.

Edges (MECHANISMS.md section 1): township - its district government (supervision, the
copy of every order, Art. 12(1)1); township - each district department of its district
(whistle ties, Art. 16); district department - its district government; municipal
department - the district departments of its line (条); neighbouring townships (taken as
consecutive townships of a district: an assumption, no geography is shipped); hotline -
every unit that receives orders. Edge attributes record history, updated each month:
whistles sent and answered, co-handling hours.
"""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np

from .world import CLASS_NAMES, KIND_DISTGOV, KIND_NAMES


class CoordinationNetwork:
    """The network mechanism: the graph, and the month's whistles and co-handling that update
    its edges at month end (handling reports them each day)."""

    def __init__(self, city):
        self.graph = build_network(city)
        self.whistles: list[tuple] = []
        self.cohandling: list[tuple] = []

    def log(self, whistles: tuple, cohandling: tuple) -> None:
        """Today's whistles (lead, department, answered) and co-handling (lead, cooperating, hours)."""
        if whistles:
            self.whistles.append(whistles)
        if cohandling:
            self.cohandling.append(cohandling)

    def month_end(self) -> None:
        """Add the month's history to the edges and start a new month."""
        update_network(self.graph, self.whistles, self.cohandling)
        self.whistles, self.cohandling = [], []


def build_network(city) -> nx.Graph:
    g = nx.Graph()
    for u in range(city.n_units):
        g.add_node(u, name=city.unit_name[u], kind=KIND_NAMES[city.unit_kind[u]],
                   cls=CLASS_NAMES[city.unit_class[u]], district=int(city.unit_district[u]),
                   line=int(city.unit_line[u]))

    def tie(a, b, kind):
        g.add_edge(int(a), int(b), kind=kind, whistles=0, whistles_answered=0, cohandled_hours=0.0)

    for t in range(city.n_townships):
        d = city.township_district[t]
        tie(t, city.distgov_unit[d], "supervision")
        for dept in city.distdept_unit[d]:
            tie(t, dept, "whistle")
        if t + 1 < city.n_townships and city.township_district[t + 1] == d:
            tie(t, t + 1, "neighbour")
    for d in range(city.n_districts):
        for li, dept in enumerate(city.distdept_unit[d]):
            tie(dept, city.distgov_unit[d], "district")
            tie(dept, city.muni_unit[li], "line")
    for u in range(city.n_units):
        if u != city.hotline_unit and city.unit_kind[u] != KIND_DISTGOV:
            tie(city.hotline_unit, u, "dispatch")
    return g


def update_network(g: nx.Graph, whistle_log, pairs) -> None:
    """Add a month's whistles and co-handling to edge attributes."""
    if whistle_log:
        lead = np.concatenate([w[0] for w in whistle_log]).astype(np.int64)
        coop = np.concatenate([w[1] for w in whistle_log]).astype(np.int64)
        ans = np.concatenate([w[2] for w in whistle_log])
        for (a, b), n, k in _group_pairs(lead, coop, ans.astype(float)):
            if not g.has_edge(a, b):
                g.add_edge(a, b, kind="whistle", whistles=0, whistles_answered=0, cohandled_hours=0.0)
            g[a][b]["whistles"] += int(n)
            g[a][b]["whistles_answered"] += int(k)
    if pairs:
        lead = np.concatenate([p[0] for p in pairs])
        coop = np.concatenate([p[1] for p in pairs])
        hrs = np.concatenate([p[2] for p in pairs])
        for (a, b), _n, h in _group_pairs(lead, coop, hrs):
            if not g.has_edge(a, b):
                g.add_edge(a, b, kind="cohandling", whistles=0, whistles_answered=0, cohandled_hours=0.0)
            g[a][b]["cohandled_hours"] += float(h)


def _group_pairs(a: np.ndarray, b: np.ndarray, w: np.ndarray):
    """Sum weights per unordered pair (one Python step per distinct pair, not per order)."""
    if a.size == 0:
        return []
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    key = lo * 100000 + hi
    uniq, inv = np.unique(key, return_inverse=True)
    n = np.bincount(inv)
    s = np.bincount(inv, weights=w)
    return [((int(k // 100000), int(k % 100000)), n[i], s[i]) for i, k in enumerate(uniq)]


def export_network(g: nx.Graph, path: str | Path) -> Path:
    """Write the network as GraphML (.graphml) or node-link JSON (.json)."""
    path = Path(path)
    if path.suffix == ".graphml":
        nx.write_graphml(g, path)
    else:
        path.write_text(json.dumps(nx.node_link_data(g, edges="edges"), ensure_ascii=False))
    return path
