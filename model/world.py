"""The city: 16 districts, 343 township offices, departments, enterprises, one hotline.

At scale 1.0 this is all of Beijing. A reduced scale is a sample of it (DESIGN.md "Scale",
model/sample.py): whole townships drawn by district and class, district departments pooled
across districts; ``city.sampling = "thin"`` keeps all 343 townships at thinned volume instead
(the small worlds of the unit tests). Units are numbered in one id space so every per-unit
quantity is a plain array:

    townships (街道办事处/乡镇人民政府)        0 .. 342 (or the sampled ones)
    municipal departments (市政府部门), one per line
    district departments (区政府部门), one per line per district (or per pool of districts)
    public-service enterprises (水电气热, Art. 19)
    district governments (区人民政府), 16
    the hotline centre (市民热线服务工作机构), 1
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from .sample import district_pools, sample_townships
from .streams import Streams

KIND_TOWNSHIP, KIND_MUNI, KIND_DISTDEPT, KIND_ENTERPRISE, KIND_DISTGOV, KIND_HOTLINE = range(6)
KIND_NAMES = ["township", "municipal_department", "district_department", "enterprise",
              "district_government", "hotline"]
# Assessment classes (分级分类考评, Art. 32): units are ranked within their class.
CLASS_NAMES = ["urban_street", "rural_township", "municipal_department", "district_department",
               "enterprise", "district_government", "hotline"]

# linkage channels of an order (Art. 21-22): none, the Tianjin-Hebei hotline linkage, central units in Beijing
LINK_NONE, LINK_JINGJINJI, LINK_CENTRAL = range(3)

RESP_TERRITORIAL, RESP_FUNCTIONAL, RESP_JOINT, RESP_UTILITY, RESP_LINKAGE, RESP_CENTRAL = range(6)
RESP_NAMES = ["territorial", "functional", "joint", "utility", "linkage", "central"]


def acting_units(city) -> np.ndarray:
    """Units that handle orders, are scored and ranked, and learn (not district governments,
    which coordinate and assess, nor the hotline centre)."""
    return ~np.isin(city.unit_kind, [KIND_DISTGOV, KIND_HOTLINE])


def read_table(name: str) -> list[dict]:
    """Read a CSV shipped in model/data."""
    with resources.files("model").joinpath("data", name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@dataclass
class Categories:
    """Request categories (诉求类别) as arrays; see model/data/categories.csv for sources."""

    names: list[str]
    labels_zh: list[str]
    share: np.ndarray
    line: np.ndarray            # responsible line index
    resp: np.ndarray            # RESP_* code
    difficulty_hours: np.ndarray
    difficulty_sigma: np.ndarray
    hard_share: np.ndarray
    tier_p: np.ndarray          # (C, 4) urgency-tier probabilities: 2 h, 24 h, 7 d, 15 d
    season_peak: np.ndarray
    season_amp: np.ndarray
    removable: np.ndarray       # proactive governance can remove sources

    @property
    def n(self) -> int:
        return len(self.names)

    def season(self, month: int, enabled: bool = True) -> np.ndarray:
        """Relative arrival of new problems in calendar month (1-12)."""
        if not enabled:
            return np.ones(self.n)
        return 1.0 + self.season_amp * np.cos(2 * np.pi * (month - self.season_peak) / 12.0)


def load_categories(lines: list[str]) -> Categories:
    rows = read_table("categories.csv")
    f = lambda k: np.array([float(r[k]) for r in rows])  # noqa: E731
    hard = f("hard_share")
    tiers = np.column_stack([f("p_tier_2h"), f("p_tier_24h"), f("p_tier_7d"), hard])
    if not np.allclose(tiers.sum(1), 1.0, atol=1e-6):
        raise ValueError("model/data/categories.csv: tier shares plus hard_share must sum to 1 per row")
    share = f("share")
    return Categories(
        names=[r["category"] for r in rows], labels_zh=[r["label_zh"] for r in rows],
        share=share / share.sum(), line=np.array([lines.index(r["line"]) for r in rows]),
        resp=np.array([RESP_NAMES.index(r["responsibility"]) for r in rows]),
        difficulty_hours=f("difficulty_hours"), difficulty_sigma=f("difficulty_sigma"),
        hard_share=hard, tier_p=tiers, season_peak=f("season_peak_month"),
        season_amp=f("season_amplitude"),
        removable=np.array([r["proactive_removable"] == "true" for r in rows]))


@dataclass
class City:
    """Districts, townships and the unit id space."""

    district_names: list[str]
    district_zh: list[str]
    district_pop: np.ndarray          # people (unscaled, 2020 census)
    township_district: np.ndarray     # (T,)
    township_urban: np.ndarray        # (T,) bool: street (街道) vs rural township (乡镇)
    township_pop: np.ndarray          # (T,) people, unscaled
    township_need: np.ndarray         # relative problem arrival per capita
    township_report: np.ndarray       # relative reporting propensity (mean 1)
    lines: list[str]
    lines_zh: list[str]
    enterprises: list[str]
    enterprise_share: np.ndarray
    categories: Categories
    # unit id space
    unit_kind: np.ndarray = field(default=None)
    unit_class: np.ndarray = field(default=None)
    unit_district: np.ndarray = field(default=None)
    unit_line: np.ndarray = field(default=None)
    unit_name: list[str] = field(default_factory=list)
    muni_unit: np.ndarray = field(default=None)       # (L,)
    distdept_unit: np.ndarray = field(default=None)   # (D, L)
    enterprise_unit: np.ndarray = field(default=None)  # (E,)
    distgov_unit: np.ndarray = field(default=None)    # (D,)
    hotline_unit: int = -1
    # what is simulated (DESIGN.md "Scale"): share of each township's residents, and where
    # the townships come from in the full city (model/sample.py)
    scale: float = 1.0
    sampled: bool = False
    township_scale: np.ndarray = field(default=None)  # (T,) share of residents simulated
    township_id: np.ndarray = field(default=None)     # (T,) index in the full city (0..342)
    district_pool: np.ndarray = field(default=None)   # (D,) pool of the district: its departments and staffing budget

    @property
    def n_townships(self) -> int:
        return len(self.township_district)

    @property
    def n_districts(self) -> int:
        return len(self.district_names)

    @property
    def n_units(self) -> int:
        return len(self.unit_kind)

    def unit_population(self) -> np.ndarray:
        """Residents each unit serves (unscaled): townships, district units, city-wide units."""
        pop = np.zeros(self.n_units)
        pop[: self.n_townships] = self.township_pop
        d = self.unit_district
        local = d >= 0
        pop[local & (self.unit_kind != KIND_TOWNSHIP)] = self.district_pop[d[local & (self.unit_kind != KIND_TOWNSHIP)]]
        pop[~local] = self.district_pop.sum()
        return pop

    def served_population(self) -> np.ndarray:
        """Residents each unit serves as simulated (scaled): for per-capita measures (万人诉求比)."""
        if not self.sampled:
            return self.unit_population() * self.scale
        sim = self.township_pop * self.township_scale
        by_d = np.bincount(self.township_district, weights=sim, minlength=self.n_districts)
        pop = np.full(self.n_units, sim.sum())
        pop[: self.n_townships] = sim
        pop[self.distgov_unit] = by_d
        pop[np.unique(self.distdept_unit)] = 0.0
        for d in range(self.n_districts):     # a pooled department serves all its districts
            pop[self.distdept_unit[d]] += by_d[d]
        return pop


def _lognormal_weights(streams: Streams, name: str, n: int, sigma: float, key: int) -> np.ndarray:
    z = streams.normal(name, key, np.arange(n))
    w = np.exp(sigma * z)
    return w / w.sum()


def build_city(streams: Streams, demand_cfg, city_cfg=None) -> City:
    """Build Beijing (township splits are seeded, keyed draws); at ``city_cfg.scale`` < 1 with
    ``city_cfg.sampling = "townships"``, a sample of it (model/sample.py)."""
    drows = read_table("districts.csv")
    lrows = read_table("lines.csv")
    erows = read_table("enterprises.csv")
    lines = [r["line"] for r in lrows]
    t_dist, t_urban, t_pop = [], [], []
    for d, r in enumerate(drows):
        n = int(r["townships"])
        n_urban = int(round(n * float(r["urban_share"])))
        w = _lognormal_weights(streams, "world.township_pop", n, demand_cfg.township_pop_sigma, d)
        t_dist += [d] * n
        t_urban += [True] * n_urban + [False] * (n - n_urban)
        t_pop += list(w * float(r["population_2020_m"]) * 1e6)
    t_dist = np.array(t_dist)
    T = len(t_dist)
    # Reporting propensity: lognormal with P95/P5 = spread; correlated with need (Kontokosta & Hong 2021).
    sig_r = np.log(demand_cfg.neighbourhood_spread) / (2 * 1.6449)
    z_need = streams.normal("world.need", np.arange(T))
    z_own = streams.normal("world.report", np.arange(T))
    rho = demand_cfg.need_reporting_correlation
    need = np.exp(demand_cfg.need_spread * z_need)
    report = np.exp(sig_r * (rho * z_need + np.sqrt(1 - rho**2) * z_own))
    pop = np.array(t_pop)
    need /= np.average(need, weights=pop)
    report /= np.average(report, weights=pop)
    city = City(
        district_names=[r["district"] for r in drows], district_zh=[r["name_zh"] for r in drows],
        district_pop=np.array([float(r["population_2020_m"]) * 1e6 for r in drows]),
        township_district=t_dist, township_urban=np.array(t_urban), township_pop=pop,
        township_need=need, township_report=report, lines=lines,
        lines_zh=[r["name_zh"] for r in lrows], enterprises=[r["enterprise"] for r in erows],
        enterprise_share=np.array([float(r["utility_share"]) for r in erows]),
        categories=load_categories(lines))
    scale = 1.0 if city_cfg is None else city_cfg.scale
    city.scale, city.township_id = scale, np.arange(T)
    city.township_scale = np.full(T, scale)
    if scale < 1.0 and city_cfg.sampling == "townships":
        _keep_sample(city, streams)
    _number_units(city, drows, lrows, erows)
    return city


def _keep_sample(city: City, streams: Streams) -> None:
    """Keep only the sampled townships, each with its share of residents simulated, and pool
    the district departments (model/sample.py)."""
    keep, share = sample_townships(city, city.scale, streams)
    for name in ("township_district", "township_urban", "township_pop", "township_need", "township_report",
                 "township_id"):
        setattr(city, name, getattr(city, name)[keep])
    city.township_scale = share
    city.district_pool = district_pools(city.district_pop, city.scale)
    city.sampled = True


def _pool_name(drows, ds, p: int) -> str:
    return drows[ds[0]]["district"] if len(ds) == 1 else f"district-pool-{p}({len(ds)} districts)"


def _number_units(city: City, drows, lrows, erows) -> None:
    """Give every unit an id, kind, assessment class, district and line; a pool of districts
    (sampled city) shares one department per line, named after its districts."""
    kind, cls, dist, line, names = [], [], [], [], []

    def add(k, c, d, ln, name):
        kind.append(k); cls.append(c); dist.append(d); line.append(ln); names.append(name)  # noqa: E702
        return len(kind) - 1

    for t in range(city.n_townships):
        d = int(city.township_district[t])
        urban = bool(city.township_urban[t])
        tid = int(city.township_id[t])
        add(KIND_TOWNSHIP, 0 if urban else 1, d, -1, f"{drows[d]['district']}/{'street' if urban else 'town'}-{tid:03d}")
    L, D = len(lrows), len(drows)
    city.muni_unit = np.array([add(KIND_MUNI, 2, -1, i, f"municipal/{lrows[i]['line']}") for i in range(L)])
    if city.district_pool is None:
        city.district_pool = np.arange(D)
    pools = [np.flatnonzero(city.district_pool == p) for p in range(int(city.district_pool.max()) + 1)]
    # a pool's department is filed under its first district (peer group for misroutes, dispatch.Catalogue)
    dept = [[add(KIND_DISTDEPT, 3, int(ds[0]), i, _pool_name(drows, ds, p) + f"/{lrows[i]['line']}")
             for i in range(L)] for p, ds in enumerate(pools)]
    city.distdept_unit = np.array([dept[p] for p in city.district_pool])
    city.enterprise_unit = np.array([add(KIND_ENTERPRISE, 4, -1, -1, f"enterprise/{r['enterprise']}") for r in erows])
    city.distgov_unit = np.array([add(KIND_DISTGOV, 5, d, -1, f"{drows[d]['district']}/government") for d in range(D)])
    city.hotline_unit = add(KIND_HOTLINE, 6, -1, -1, "hotline-12345")
    city.unit_kind, city.unit_class = np.array(kind), np.array(cls)
    city.unit_district, city.unit_line = np.array(dist), np.array(line)
    city.unit_name = names
