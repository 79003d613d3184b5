"""A reduced scale as a faithful sample of the city (DESIGN.md "Scale", issue 9 item 11).

Thinning the volume while keeping all 343 townships turns every unit into a small queue,
and small queues are slower (the pooling effect: whole acts, integer contact hours and a
day's budget are lumpy when a unit sees a few orders a day), so rates drifted with scale.
Instead, at ``city.scale`` < 1 (``city.sampling = "townships"``):

* **townships are sampled whole**, with equal probability inside strata of district x
  urban/rural class: each district keeps about ``scale`` of its townships (systematic
  rounding over districts, at least one per district so all 16 stay represented), split
  between streets (街道) and rural townships (乡镇) in proportion; a kept township has its
  full population, scaled only so that its district's simulated residents are ``scale`` of
  the district's (stratified weights; near 1 from scale ~0.05 up, below 1 only where the
  one-per-district floor keeps more townships than the scale pays for);
* **district departments are pooled** across districts, line by line, so that a pooled
  department carries about one average district's full-scale work (about
  ``round(scale x 16)`` pools, one at 0.05): one district's department serving one sampled
  township would again be a tiny queue. Staff follow the work through the catalogue
  (staffing.expected_hours), so each pool is staffed for the sampled area it serves;
* **a pool of districts is one staffing government** (Art. 5 投入保障): one budget line for
  its townships and pooled departments (staffing.funders) and one rebalancing of staff over
  its townships (agents.DistrictGovernment.staffed_townships), as a district with its ~21
  townships and its departments is in the whole city;
* municipal departments and enterprises keep their city-wide jurisdiction and see the
  sampled area's work (``scale`` of the city's), with staff to match;
* ranking (分级分类考评) is within the sampled members of each class, and a township's
  dispatch peers (where a misrouted order lands) are the sampled townships of its pool of
  districts (dispatch.Catalogue), so a district with one sampled township still misroutes.

Measured (benchmarks/scale_table.py, docs/odd.md section 2): from 0.03 up the headline rates
agree with scale 1.0 within a point; at 0.01 (16 thinned townships) within about 1.5.

Scale 1.0 is the whole city and never goes through this module.
"""

from __future__ import annotations

import numpy as np


def _systematic(quota: np.ndarray, u: float) -> np.ndarray:
    """Integer counts summing to about ``quota.sum()``, each floor or ceil of its quota."""
    cum = np.floor(np.concatenate([[0.0], np.cumsum(quota)]) + u)
    return np.diff(cum).astype(np.int64)


def sample_townships(city, scale: float, streams) -> tuple[np.ndarray, np.ndarray]:
    """Townships kept (indices into the full city, sorted) and the share of each kept
    township's residents simulated (so each district simulates ``scale`` of its people)."""
    dist, urban, pop = city.township_district, city.township_urban, city.township_pop
    keep = []
    n_d = np.bincount(dist, minlength=city.n_districts)
    take = np.clip(_systematic(scale * n_d, float(streams.uniform("world.sample.districts", 0))), 1, n_d)
    for d in range(city.n_districts):
        members = np.flatnonzero(dist == d)
        is_u = urban[members]
        by_class = _systematic(take[d] * np.array([is_u.mean(), 1 - is_u.mean()]),
                               float(streams.uniform("world.sample.classes", d)))
        for cls_mask, k in zip((is_u, ~is_u), by_class):
            pool = members[cls_mask]
            order = np.argsort(streams.uniform("world.sample.townships", pool))
            keep += list(pool[order[: min(k, pool.size)]])
    keep = np.sort(np.array(keep, dtype=np.int64))
    kept_pop = np.bincount(dist[keep], weights=pop[keep], minlength=city.n_districts)
    share = scale * city.district_pop[dist[keep]] / kept_pop[dist[keep]]
    return keep, share


def district_pools(district_pop: np.ndarray, scale: float) -> np.ndarray:
    """Pool of each district for the district departments: about ``round(scale x D)`` pools of
    similar population (largest district first into the smallest pool), so that a pooled
    department sees about one average district's full-scale volume."""
    D = len(district_pop)
    g = int(np.clip(round(scale * D), 1, D))
    pool = np.zeros(D, dtype=np.int64)
    load = np.zeros(g)
    for d in np.argsort(-district_pop, kind="stable"):
        p = int(np.argmin(load))
        pool[d] = p
        load[p] += district_pop[d]
    return pool
