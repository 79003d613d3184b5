"""Organisational actors as Mesa agents: views onto the per-unit arrays.

There are only ~560 units, so each is a Mesa agent that researchers can select, inspect
and act on through AgentSets (``model.agents_by_type[TownshipOffice]``). Their state
lives in :class:`model.behaviour.Units` arrays so whole populations are updated at once;
an agent's properties read and write its own row.
"""

from __future__ import annotations

import mesa
import numpy as np

from .behaviour import ACTIVITIES
from .world import CLASS_NAMES, KIND_NAMES, KIND_TOWNSHIP


class Unit(mesa.Agent):
    """A unit that handles work orders (承办单位, Art. 11)."""

    def __init__(self, model, uid: int):
        super().__init__(model)
        self.uid = uid

    @property
    def name(self) -> str:
        return self.model.city.unit_name[self.uid]

    @property
    def kind(self) -> str:
        return KIND_NAMES[self.model.city.unit_kind[self.uid]]

    @property
    def assessment_class(self) -> str:
        return CLASS_NAMES[self.model.city.unit_class[self.uid]]

    @property
    def capacity_hours(self) -> float:
        return float(self.model.units.capacity[self.uid])

    @property
    def exhaustion(self) -> float:
        return float(self.model.units.exhaustion[self.uid])

    @property
    def effort(self) -> dict[str, float]:
        """Share of staff time on resolving, satisfaction management, gaming, proactive work."""
        return dict(zip(ACTIVITIES, map(float, self.model.units.effort[self.uid])))

    @property
    def open_orders(self) -> int:
        wo = self.model.orders
        return int((wo.unit[wo.open_idx] == self.uid).sum())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


class TownshipOffice(Unit):
    """街道办事处/乡镇人民政府: territorial handler; can whistle for departments (Art. 16)."""


class Department(Unit):
    """市、区政府部门: a functional line, municipal or district level (Art. 5, 18)."""


class PublicServiceEnterprise(Unit):
    """承担公共服务职能的企事业单位: water, power, gas, heating, 24-hour service (Art. 19)."""


class DistrictGovernment(Unit):
    """区人民政府: gets the copy of township orders and follows up those that reach their
    deadline unfinished, routes orders of unclear unit and coordinates escalated ones, all
    from its own staff hours (Art. 12, 20; escalation.Coordination), runs the dual assessment
    of whistles (Art. 33), and staffs its townships for their work (投入保障, Art. 5(2))."""

    def __init__(self, model, uid: int):
        super().__init__(model, uid)
        self.townships = self.staffed_townships(model.city, model.city.unit_district[uid])

    @staticmethod
    def staffed_townships(city, district: int) -> np.ndarray:
        """Townships whose staff this district's government moves: its own; in a sampled city
        (model/sample.py) the first district of a pool moves those of the whole pool, which
        stands in for one district (as its one budget line does, staffing.funders), and the
        pool's other governments move none."""
        members = np.flatnonzero(city.district_pool == city.district_pool[district])
        if district != members[0]:
            return np.zeros(0, dtype=np.int64)
        dist = city.unit_district
        return np.flatnonzero((city.unit_kind == KIND_TOWNSHIP) & np.isin(dist, members))

    def rebalance_staff(self, rate: float) -> None:
        """Move township staff toward where the work is, keeping the district's total.

        A township's target is its share of the district's demanded hours (smoothed over
        months, Units.observe_demand) times the district's township staff; ``rate`` of the
        gap closes each month (bar the one-hour floor at tiny scales). This changes who is
        overloaded, not how many staff there are (staffing.py does that)."""
        units, tw = self.model.units, self.townships
        if tw.size == 0:
            return
        cap, dem = units.capacity[tw], units.demand_ema[tw]
        total_cap, total_dem = np.cumsum(cap)[-1], np.cumsum(dem)[-1]     # summed in township order
        target = total_cap * dem / total_dem if total_dem > 0 else cap
        units.set_staff(tw, np.maximum(cap + rate * (target - cap), 1.0))

    @property
    def coordination_hours_left(self) -> float:
        """Staff hours the district government has left for coordination today."""
        d = self.model.city.unit_district[self.uid]
        return float(self.model.districts.hours_left[d])

    @property
    def district(self) -> str:
        return self.model.city.district_names[self.model.city.unit_district[self.uid]]


class HotlineCentre(Unit):
    """市民热线服务工作机构: intake, triage, dispatch, callback and audit (Art. 5, 10-12, 23, 28)."""


AGENT_CLASS = {0: TownshipOffice, 1: Department, 2: Department, 3: PublicServiceEnterprise,
               4: DistrictGovernment, 5: HotlineCentre}
