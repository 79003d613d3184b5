"""Staffing (投入保障, Art. 5): how many staff hours each unit is given for the work it receives.

Units are staffed for the workload the dispatch catalogue sends them at baseline volume,
times ``world.capacity.ratio`` (an assumption; behaviour.Units keeps each unit's relative
staffing level). When the timeline changes the contact volume or the staffing ratio,
districts re-staff for the load they now see: today's filing and today's problem stock.
Within a district, township staff follow the work month by month (Units.rebalance).
"""

from __future__ import annotations

import numpy as np

from .world import RESP_FUNCTIONAL, RESP_JOINT, RESP_TERRITORIAL, RESP_UTILITY


def expected_hours(city, demand, cfg) -> np.ndarray:
    """Staff hours a day each unit should expect from the catalogue at baseline volume."""
    w, r = cfg.world, cfg.rules
    cats, d = city.categories, demand
    rate = d.reasonable_base + d.unreasonable_base * (1 - w.triage.detect_unreasonable)
    effort = cats.difficulty_hours * np.exp(cats.difficulty_sigma**2 / 2) \
        * (1 + cats.hard_share * (w.handling.hard_effort_factor - 1)) + w.capacity.contact_hours
    hours = rate * effort[None, :] + d.consult_base * (1 - w.demand.consultation_answered_directly) \
        * (w.handling.consultation_hours + w.capacity.contact_hours)
    out = np.zeros(city.n_units)
    T, C = hours.shape
    t = np.repeat(np.arange(T), C)
    c = np.tile(np.arange(C), T)
    h, resp, line = hours.ravel(), cats.resp[c], cats.line[c]
    dept = city.distdept_unit[city.township_district[t], line]
    muni = city.muni_unit[line]
    terr = (resp == RESP_TERRITORIAL) | (resp == RESP_JOINT)
    np.add.at(out, t[terr], h[terr])
    f = resp == RESP_FUNCTIONAL
    ms = r.dispatch.municipal_share
    np.add.at(out, dept[f], h[f] * (1 - ms))
    np.add.at(out, muni[f], h[f] * ms)
    other = ~terr & ~f & (resp != RESP_UTILITY)
    np.add.at(out, muni[other], h[other])
    ut = resp == RESP_UTILITY
    out[city.enterprise_unit] += h[ut].sum() * city.enterprise_share / city.enterprise_share.sum()
    joint = resp == RESP_JOINT
    np.add.at(out, dept[joint], h[joint] * w.capacity.coordination_factor)
    return out


def staff_for_load(city, demand, citizens, sources, cfg) -> np.ndarray:
    """Expected hours for the load districts see now: baseline x today's filing x problem stock."""
    filing = float(np.average(citizens.township_trust(), weights=citizens.weight))
    load = filing * sources.stock.sum() / sources.initial.sum()
    return expected_hours(city, demand, cfg) * load
