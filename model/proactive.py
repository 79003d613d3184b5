"""Proactive governance (主动治理, Art. 24-27): units' own source removal and 每月一题.

Units' own work (Art. 25-26): proactive staff hours remove problem sources in the unit's
jurisdiction: a township in its own area (grid patrols, resident consultation), a
district department in its line across its district, a municipal department or
enterprise in its line city-wide. It changes real outcomes but earns assessment credit
only where ``rules.assessment.proactive_credit`` gives it (Art. 32(4)).

Topic of the month (每月一题, Art. 24): at each month end the city takes the most frequent
shared problems from the month's data, names the municipal department of the line as
lead, and for ``campaign_months`` the lead and the district departments of its line set
aside ``campaign_staff_share`` of their staff time each day (before their other work) to
remove those sources: each district department in its district, the lead city-wide where
the district departments' hours fall short. Removal is bounded by those hours
(``campaign_cost_hours`` a source) and by the stock present (at most ``campaign_removal`` of
it can be reached a day): a campaign without hours removes nothing.
"""

from __future__ import annotations

import numpy as np

from .behaviour import E_PROACTIVE
from .world import KIND_DISTDEPT, KIND_ENTERPRISE, KIND_MUNI, KIND_TOWNSHIP, RESP_UTILITY


class Proactive:
    """Units' own source removal and the city's topic-of-the-month campaigns; owns the
    campaigns and the month's dispatched volume by category they are chosen from."""

    def __init__(self, city):
        self.city = city
        cats = city.categories
        T, C, U = city.n_townships, cats.n, city.n_units
        # jurisdiction[u, t, c] as a sparse "which cells can unit u act on" via index arrays
        kind, line = city.unit_kind, city.unit_line
        cell_t = np.repeat(np.arange(T), C)
        cell_c = np.tile(np.arange(C), T)
        cell_dept = city.distdept_unit[city.township_district[cell_t], cats.line[cell_c]]   # its district(s)' line
        rows, cols = [], []
        for u in range(U):
            if kind[u] == KIND_TOWNSHIP:
                m = cell_t == u
            elif kind[u] == KIND_DISTDEPT:
                m = cell_dept == u
            elif kind[u] == KIND_MUNI:
                m = cats.line[cell_c] == line[u]
            elif kind[u] == KIND_ENTERPRISE:
                m = cats.resp[cell_c] == RESP_UTILITY
            else:
                continue
            m &= cats.removable[cell_c]
            rows.append(np.full(m.sum(), u))
            cols.append(np.flatnonzero(m))
        self.j_unit = np.concatenate(rows)
        self.j_cell = np.concatenate(cols)
        self.has_cells = np.bincount(self.j_unit, minlength=U) > 0
        self.campaigns: list[dict] = []        # active topic-of-the-month campaigns
        self.history: list[dict] = []
        self.month_volume = np.zeros(C)        # this month's dispatched orders by category
        self.campaign_hours = np.zeros(U)      # staff hours today's campaign work costs each unit

    def observe(self, category_counts: np.ndarray) -> None:
        """Today's dispatched volume by category (the city reads the month's data, Art. 24, 28)."""
        self.month_volume += category_counts

    def unit_work(self, budgets: np.ndarray, sources, cfg) -> tuple[np.ndarray, np.ndarray]:
        """Art. 25-26: units' proactive hours remove sources in their jurisdiction (where the
        rules let units do their own source work). Returns sources removed and hours used, per unit."""
        hours = budgets[:, E_PROACTIVE]
        if not cfg.rules.proactive.unit_source_work:
            return np.zeros(len(hours)), np.zeros(len(hours))
        # only units with a jurisdiction to work in spend proactive hours (not district governments)
        return self._remove(hours, sources, cfg.world.sources), np.where(self.has_cells, hours, 0.0)

    def _remove(self, hours: np.ndarray, sources, s) -> np.ndarray:
        stock = sources.stock.ravel()
        w = stock[self.j_cell]
        tot = np.bincount(self.j_unit, weights=w, minlength=len(hours))
        capacity = hours / s.proactive_hours_per_source           # sources a unit can remove today
        frac = np.minimum(capacity / np.maximum(tot, 1e-12), s.proactive_daily_cap)   # found and reached first
        share = np.bincount(self.j_cell, weights=frac[self.j_unit], minlength=stock.size)
        removed = sources.remove_share(share.reshape(sources.stock.shape), "proactive")
        per_unit = np.bincount(self.j_unit, weights=(removed.ravel()[self.j_cell] * frac[self.j_unit]
                                                     / np.maximum(share[self.j_cell], 1e-12)),
                               minlength=len(hours))
        return per_unit

    def choose_topics(self, month: int, rules) -> list[dict]:
        """每月一题: the most frequent removable categories of the month just ended, not
        already targeted, become campaigns from ``month`` (Art. 24)."""
        p = rules.proactive
        volume_by_category = self.month_volume
        self.month_volume = np.zeros_like(volume_by_category)
        self.campaigns = [c for c in self.campaigns if c["until"] > month]
        if not p.topic_of_month or p.topics_per_month == 0:
            return []
        cats = self.city.categories
        busy = {c["category"] for c in self.campaigns}
        order = np.argsort(-volume_by_category, kind="stable")
        picks = [int(c) for c in order if cats.removable[c] and int(c) not in busy][: p.topics_per_month]
        new = [{"month": month, "category": c, "name": cats.names[c], "label_zh": cats.labels_zh[c],
                "lead": self.city.unit_name[self.city.muni_unit[cats.line[c]]], "until": month + p.campaign_months,
                "chosen_at_month": month - 1, "hours_used": 0.0, "sources_removed": 0.0}
               for c in picks]
        self.campaigns += new
        self.history += new
        return new

    def campaign_day(self, sources, cfg, staff_hours: np.ndarray) -> np.ndarray:
        """Art. 24: today's campaign work, paid from the hours the lead line's departments set
        aside (``campaign_staff_share`` of ``staff_hours`` today, Units.staff_hours); returns the
        hours it cost each unit (taken before their other work, Units.daily_budgets)."""
        p = cfg.rules.proactive
        hours = self.campaign_hours = np.zeros(self.city.n_units)
        if not self.campaigns:
            return hours
        budget = p.campaign_staff_share * np.asarray(staff_hours, float)
        share = np.zeros(sources.stock.shape)
        for c in self.campaigns:          # a handful of campaigns, each vectorised over districts
            share[:, c["category"]] = self._campaign_share(c, sources.stock[:, c["category"]], budget, hours, p)
        removed = sources.remove_share(share, "campaign").sum(0)
        for c in self.campaigns:
            c["sources_removed"] = c.get("sources_removed", 0.0) + float(removed[c["category"]])
        return hours

    def _campaign_share(self, c: dict, stock: np.ndarray, budget: np.ndarray, hours: np.ndarray, p) -> np.ndarray:
        """Share of each township's targeted stock campaign ``c`` removes today; spends the
        departments' set-aside ``budget`` (in place) and books it in ``hours``."""
        city = self.city
        line = city.categories.line[c["category"]]
        dist = city.township_district
        D = city.distdept_unit.shape[0]
        reach = p.campaign_removal * np.bincount(dist, weights=stock, minlength=D)   # sources reachable today
        cost = max(p.campaign_cost_hours, 1e-12)
        dd, lead = city.distdept_unit[:, line], city.muni_unit[line]
        # district departments in their district; in a sampled city one pooled department serves
        # several districts (world.district_pool), so its hours are shared by the reach of each
        depts, of = np.unique(dd, return_inverse=True)
        reach_dept = np.bincount(of, weights=reach, minlength=depts.size)
        took = np.minimum(budget[depts] / cost, reach_dept)
        by_dept = reach * (took / np.maximum(reach_dept, 1e-12))[of]
        left = reach - by_dept
        by_lead = left * min(1.0, budget[lead] / cost / max(left.sum(), 1e-12))   # the lead where they fall short
        spent_dd, spent_lead = took * cost, by_lead.sum() * cost
        budget[depts] -= spent_dd
        budget[lead] -= spent_lead
        hours[depts] += spent_dd
        hours[lead] += spent_lead
        c["hours_used"] = c.get("hours_used", 0.0) + float(spent_dd.sum() + spent_lead)
        total = np.bincount(dist, weights=stock, minlength=D)
        return ((by_dept + by_lead) / np.maximum(total, 1e-12))[dist]
