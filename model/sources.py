"""Problem sources (问题源): the latent stock of problems behind the requests (诉求源).

A stock per township x category. New problems arise (seasonally); each active problem
produces requests with a daily hazard scaled by the township's reporting propensity and
trust; problems leave the stock when a request about them is truly resolved (and the fix
reaches the source), through proactive governance (Art. 24-27), or on their own.
Keeping sources apart from requests is what lets the model tell "fewer requests" from
"fewer problems" (seed article: 从关注诉求源减少向关注问题源减少).

Problems arise in proportion to population x need (never to reporting). The arrival
rate is scaled once, at the start, so that the city's reasonable requests match the
published volume when the stock is in balance at a true resolution rate of
``world.sources.calibration_resolution``; a better system then drains the stock, a worse
one lets it grow.
"""

from __future__ import annotations

import numpy as np


class ProblemSources:
    """Stock, arrival and removal of problem sources."""

    def __init__(self, need_weight: np.ndarray, reports_per_day: float, report_rel: np.ndarray, cfg,
                 removable: np.ndarray):
        """``need_weight[t, c]``: where problems arise (population x need x category share);
        ``reports_per_day``: reasonable requests a day the city should see at baseline trust;
        ``cfg``: the whole scenario config (its ``world.sources`` table)."""
        self.cfg = cfg
        s = cfg.world.sources
        self.hazard = s.report_hazard * report_rel[:, None]          # (T, 1)
        # balance stock for arrivals a: a / (decay + hazard x resolution x fix); problems arise
        # with need alone, so low-reporting townships keep more problems (literature.md pattern 6)
        out_rate = s.natural_decay + self.hazard * s.calibration_resolution * s.fix_on_resolution
        per_weight = (self.hazard * need_weight / out_rate).sum()
        self.arrival = need_weight * reports_per_day / per_weight      # problems/day at season factor 1
        self.stock = self.arrival / out_rate
        self.initial = self.stock.copy()
        self.removable = removable
        self.removed_resolution = np.zeros_like(self.stock)
        self.removed_proactive = np.zeros_like(self.stock)
        self.removed_campaign = np.zeros_like(self.stock)
        self.arrived = np.zeros_like(self.stock)

    def reconfigure(self, cfg) -> None:
        """The config now in force: more contacts per capita (or a new reporting hazard) mean
        each active problem is reported more often from now on."""
        old_d, old_s = self.cfg.world.demand, self.cfg.world.sources
        self.cfg = cfg
        f = cfg.world.demand.contacts_per_capita_year / old_d.contacts_per_capita_year
        if f != 1.0:
            self.hazard *= f
        h = cfg.world.sources.report_hazard / old_s.report_hazard
        if h != 1.0:
            self.hazard *= h

    def expected_requests(self, trust_factor: np.ndarray) -> np.ndarray:
        """Expected reasonable requests today per township x category."""
        return self.stock * self.hazard * trust_factor[:, None]

    def step(self, season: np.ndarray) -> None:
        """One day of arrival and natural decay."""
        new = self.arrival * season[None, :]
        self.arrived += new
        self.stock += new - self.cfg.world.sources.natural_decay * self.stock

    def remove_resolved(self, township: np.ndarray, category: np.ndarray, fixed: np.ndarray) -> None:
        """Truly resolved requests whose fix reached the source remove one problem each."""
        t, c = township[fixed], category[fixed]
        C = self.stock.shape[1]
        take = np.bincount(t.astype(np.int64) * C + c, minlength=self.stock.size).reshape(self.stock.shape)
        take = np.minimum(take, self.stock)
        self.stock -= take
        self.removed_resolution += take

    def remove_share(self, share: np.ndarray, kind: str) -> np.ndarray:
        """Remove ``share[t, c]`` (0-1) of the removable stock; returns problems removed."""
        take = self.stock * np.clip(share, 0.0, 1.0) * self.removable[None, :]
        self.stock -= take
        getattr(self, f"removed_{kind}")[:] += take
        return take

    def total(self) -> float:
        return float(self.stock.sum())
