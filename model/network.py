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

PAIR_BASE = 100000          # pair key lo * PAIR_BASE + hi (unit ids stay far below it)


class CoordinationNetwork:
    """The network mechanism: the graph, and the month's whistles and co-handling that update
    its edges at month end (handling reports them each day).

    The month's history is grouped by pair at month end (vectorised) and kept as pending months;
    they are written into the graph's edges, month by month in the same order, only when the
    graph is read (export, a saved state, a test). A run that never reads the graph does not pay
    the one Python step per distinct pair and month (~1.7 s a year at scale 1)."""

    def __init__(self, city):
        self._graph = build_network(city)
        self.n_units = city.n_units
        self.whistles: list[tuple] = []
        self.cohandling: list[tuple] = []
        self.pending: list[tuple] = []     # one (whistle pairs, co-handling pairs) per month, not yet in the graph

    @property
    def graph(self) -> nx.Graph:
        """The graph with every finished month's history on its edges."""
        for whistles, cohandling in self.pending:
            apply_month(self._graph, whistles, cohandling)
        self.pending = []
        return self._graph

    @graph.setter
    def graph(self, g: nx.Graph) -> None:
        """A graph that already holds its history (a restored state): nothing pending."""
        self._graph, self.pending = g, []

    def log(self, whistles: tuple, cohandling: tuple) -> None:
        """Today's whistles (lead, department, answered) and co-handling (lead, cooperating, hours)."""
        if whistles:
            self.whistles.append(whistles)
        if cohandling:
            self.cohandling.append(cohandling)

    def month_end(self) -> None:
        """Group the month's history by pair (kept pending for the graph) and start a new month."""
        self.pending.append(month_pairs(self.whistles, self.cohandling, self.n_units))
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


def month_pairs(whistle_log, pairs, n_units: int) -> tuple:
    """A month's whistles and co-handling summed per unordered pair: ((keys, whistles, answered),
    (keys, orders, hours)), each empty when nothing happened."""
    w = c = ()
    if whistle_log:
        lead = np.concatenate([x[0] for x in whistle_log]).astype(np.int64)
        coop = np.concatenate([x[1] for x in whistle_log]).astype(np.int64)
        ans = np.concatenate([x[2] for x in whistle_log])
        w = _group_pairs(lead, coop, ans.astype(float), n_units)
    if pairs:
        lead = np.concatenate([p[0] for p in pairs])
        coop = np.concatenate([p[1] for p in pairs])
        hrs = np.concatenate([p[2] for p in pairs])
        c = _group_pairs(lead, coop, hrs, n_units)
    return w, c


def apply_month(g: nx.Graph, whistles: tuple, cohandling: tuple) -> None:
    """Add one month's grouped whistles and co-handling to the edge attributes (new pairs get an
    edge of kind whistle or cohandling, in key order, whistles first)."""
    if whistles:
        for (a, b), n, k in _pair_rows(*whistles):
            if not g.has_edge(a, b):
                g.add_edge(a, b, kind="whistle", whistles=0, whistles_answered=0, cohandled_hours=0.0)
            g[a][b]["whistles"] += int(n)
            g[a][b]["whistles_answered"] += int(k)
    if cohandling:
        for (a, b), _n, h in _pair_rows(*cohandling):
            if not g.has_edge(a, b):
                g.add_edge(a, b, kind="cohandling", whistles=0, whistles_answered=0, cohandled_hours=0.0)
            g[a][b]["cohandled_hours"] += float(h)


def _group_pairs(a: np.ndarray, b: np.ndarray, w: np.ndarray, n_units: int) -> tuple:
    """Sum weights per unordered pair: (sorted pair keys lo * PAIR_BASE + hi, counts, weight sums).
    Dense counting over the n_units^2 pairs (a month's co-handling log has ~10^6 entries at scale 1,
    where sorting them cost ~50 ms); each pair's sum adds its entries in log order, as before."""
    if a.size == 0:
        return ()
    lo, hi = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
    flat = lo * n_units + hi
    n = np.bincount(flat, minlength=n_units * n_units)
    seen = np.flatnonzero(n)
    s = np.bincount(flat, weights=w, minlength=n_units * n_units)
    return (seen // n_units) * PAIR_BASE + seen % n_units, n[seen], s[seen]


def _pair_rows(keys: np.ndarray, n: np.ndarray, s: np.ndarray):
    """One ((a, b), count, sum) per pair: the Python step per distinct pair, run when the graph is read."""
    return [((int(k // PAIR_BASE), int(k % PAIR_BASE)), n[i], s[i]) for i, k in enumerate(keys)]


def export_network(g: nx.Graph, path: str | Path) -> Path:
    """Write the network as GraphML (.graphml) or node-link JSON (.json)."""
    path = Path(path)
    if path.suffix == ".graphml":
        nx.write_graphml(g, path)
    else:
        path.write_text(json.dumps(nx.node_link_data(g, edges="edges"), ensure_ascii=False))
    return path
