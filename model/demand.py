"""Demand: who calls 12345 today, about what (Art. 2, 8, 9).

Three streams per township x category, each a Poisson count from keyed draws:
  * requests caused by active problem sources (rate = stock x hazard x trust),
  * unreasonable requests (out of duty, malicious, no new facts), whose filing rises
    faster with trust than reasonable filing (literature.md pattern 4),
  * consultations (咨询), most answered at once by the hotline (Art. 11(1)).
Plus repeat contacts of unresolved requesters scheduled at callback (voice, Hirschman).
Cost grows with requests, not population (DESIGN.md): nothing here touches every citizen.
"""

from __future__ import annotations

import numpy as np

from .hotline import split_by_day
from .orders import RTYPE_NAMES

STREAM_SOURCE, STREAM_UNREASONABLE, STREAM_CONSULT = 0, 1, 2


class Demand:
    """Baseline rates per cell, calibrated to the published volume; daily draws of contacts."""

    def __init__(self, city, scale: float, cfg):
        """``cfg``: the whole scenario config (its ``world.demand`` table)."""
        d = cfg.world.demand
        self.cfg = cfg
        cats = city.categories
        pop = city.township_pop * scale
        contacts_day = pop.sum() * d.contacts_per_capita_year / 365.0
        requests_day = contacts_day * (1 - d.consultation_share)
        self.need_weight = (pop * city.township_need)[:, None] * cats.share[None, :]
        self.reasonable_per_day = requests_day * (1 - d.unreasonable_share)
        w_plain = (pop * city.township_report)[:, None] * cats.share[None, :]
        self.reasonable_base = None   # set from the problem sources once they exist (model.py)
        self.unreasonable_base = requests_day * d.unreasonable_share * w_plain / w_plain.sum()
        self.consult_base = contacts_day * d.consultation_share * w_plain / w_plain.sum()
        self.n_cells = self.consult_base.size
        self.refile_queue: dict[int, list[np.ndarray]] = {}
        self.reconfigure(cfg)

    def calibrate_to(self, sources) -> None:
        """Reasonable requests expected a day at baseline trust, from the problem sources."""
        self.reasonable_base = sources.expected_requests(np.ones(sources.stock.shape[0]))

    def reconfigure(self, cfg) -> None:
        """The config now in force: a new contact volume per capita scales every stream from now on."""
        old = self.cfg.world.demand.contacts_per_capita_year
        self.cfg = cfg
        d = cfg.world.demand
        self.u_elasticity = d.unreasonable_trust_elasticity
        self.type_cum = np.cumsum(d.request_type_mix)
        f = d.contacts_per_capita_year / old
        if f != 1.0:
            self.scale_volume(f)

    def scale_volume(self, factor: float) -> None:
        """More or fewer contacts per capita from now on (consultations, unreasonable requests);
        source-driven requests scale through the sources' reporting hazard."""
        self.unreasonable_base *= factor
        self.consult_base *= factor
        self.reasonable_base = self.reasonable_base * factor

    def schedule_refile(self, order_idx: np.ndarray, days: np.ndarray) -> None:
        """Remember which orders' requesters will call again, and when (decided at callback)."""
        for day, sel in split_by_day(days):
            self.refile_queue.setdefault(day, []).append(order_idx[sel])

    def due_refiles(self, day: int) -> np.ndarray:
        parts = self.refile_queue.pop(day, [])
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    def draw(self, day: int, season: np.ndarray, trust: np.ndarray, sources, streams,
             trust_level: np.ndarray | None = None, trust0: float = 0.5) -> dict:
        """Today's new contacts: counts of consultations answered at once, plus request rows.

        ``trust`` is the filing factor per township; ``trust_level`` the mean trust (0-1),
        which drives unreasonable filing with its own, larger elasticity."""
        d = self.cfg.world.demand
        lam_s = sources.expected_requests(trust)
        level = trust_level if trust_level is not None else np.full(trust.shape, trust0)
        u_factor = ((0.5 + level) / (0.5 + trust0)) ** self.u_elasticity
        lam_u = self.unreasonable_base * u_factor[:, None]
        lam_q = self.consult_base * trust[:, None] * season[None, :]
        cell = np.arange(self.n_cells)
        n_s = streams.poisson(lam_s.ravel(), "demand.source", day, cell)
        n_u = streams.poisson(lam_u.ravel(), "demand.unreasonable", day, cell)
        p_direct = d.consultation_answered_directly
        n_qa = streams.poisson(lam_q.ravel() * p_direct, "demand.consult_direct", day, cell)
        n_qd = streams.poisson(lam_q.ravel() * (1 - p_direct), "demand.consult_dispatch", day, cell)
        rows = [self._expand(n, tag, day, streams) for tag, n in
                ((STREAM_SOURCE, n_s), (STREAM_UNREASONABLE, n_u), (STREAM_CONSULT, n_qd))]
        req = {k: np.concatenate([r[k] for r in rows]) for k in rows[0]}
        # consultations answered at once by operators never become orders (Art. 11(1));
        # we still pick the caller so the contact counts against the right township.
        by_township = n_qa.reshape(self.consult_base.shape).sum(1)      # where they called from (distinct callers)
        return {"requests": req, "consult_answered": int(n_qa.sum()), "consult_answered_by_township": by_township}

    def _expand(self, counts: np.ndarray, tag: int, day: int, streams) -> dict:
        """One row per request in each cell, each with its own stable key."""
        C = self.consult_base.shape[1]
        cell = np.repeat(np.arange(counts.size), counts)
        k = np.arange(cell.size) - np.repeat(np.cumsum(counts) - counts, counts)
        key = streams.key("order", day, tag, cell, k)
        return {"key": key, "township": cell // C, "category": cell % C,
                "stream": np.full(cell.size, tag, dtype=np.int8)}

    def request_type(self, key: np.ndarray, stream: np.ndarray, streams) -> np.ndarray:
        """Help / complaint / report / suggestion from the type mix; consultations stay 0."""
        u = streams.uniform("attr.rtype", key)
        rtype = 1 + np.searchsorted(self.type_cum, u, side="right").clip(0, len(RTYPE_NAMES) - 2)
        return np.where(stream == STREAM_CONSULT, 0, rtype).astype(np.int8)
