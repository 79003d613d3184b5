"""How units act: effort split, queue priority, objections, whistles, exhaustion, learning.

MECHANISMS.md section 4. Each unit splits its staff time between (a) really resolving
orders, (b) managing satisfaction (contact, explanation, persuasion), (c) gaming the
measures (closing without solving, labelling requests unreasonable, pressing for good
ratings) and (d) proactive source removal. (a) and (d) change true outcomes; (b) and (c)
mostly change measured ones (Holmström & Milgrom 1991; Smith 1995).

All per-unit decisions are made here, in :class:`Units`, vectorised over units:
:meth:`Units.daily_budgets` (what staff time goes where today) and the probability arrays
read by dispatch and handling. Month end: exhaustion builds with overload and sanctions and
recovers slowly (job demands-resources, Demerouti et al. 2001), and, when
``world.behaviour.learning`` is on, units adapt their split to their scores (aspiration
learning with imitation of better-ranked peers and prospect-theory loss aversion around
the remedial cut-off, after Braganza 2022), pulled back toward real work by intrinsic
(public-service) motivation, and step along the consequences gradient of the split
(decisions.split_gains: what moving time between uses would do to their assessment and to real
resolution, from their beliefs about each use's yield). Asking for extensions, explaining
overdue orders and pressing requesters are chosen the same way (decisions.py).
"""

from __future__ import annotations

import numpy as np

from .calendar import days_left_in_month
from .decisions import (
    DECISIONS,
    SPLIT_USES,
    Beliefs,
    Yields,
    consequences,
    current_shares,
    remedial_stake,
    shift,
    split_gains,
    split_move,
)
from .world import KIND_TOWNSHIP, acting_units

# the four uses of staff time (MECHANISMS.md section 4): columns of Units.effort and of budgets
ACTIVITIES = ["resolve", "satisfy", "game", "proactive"]
E_RESOLVE, E_SATISFY, E_GAME, E_PROACTIVE = range(4)
# decisions learned besides the effort split (MECHANISMS.md section 4: queue priority,
# objecting, whistling, answering whistles, cooperating)
# columns of Units.priority: weights on closeness to deadline, ease, escalation threats
P_DEADLINE, P_EASE, P_THREAT = range(3)
POLICY_NAMES = ["priority_ease", "priority_threat", "p_object_bucketpass", "p_whistle",
                "p_answer_whistle", "p_cooperate"]
# the decision (decisions.DECISIONS) each probability answers
POLICY_DECISION = {"p_object_bucketpass": "object_bucketpass", "p_whistle": "whistle",
                   "p_answer_whistle": "answer_whistle", "p_cooperate": "cooperate"}


class Units:
    """Per-unit state as arrays (the Mesa agents in agents.py are views onto these)."""

    def __init__(self, city, cfg, expected_hours: np.ndarray, streams):
        b, cap = cfg.world.behaviour, cfg.world.capacity
        U = city.n_units
        self.city = city
        self.cfg = cfg
        self._streams = streams
        z = streams.normal("units.capacity", np.arange(U))
        spread = np.where(city.unit_kind == KIND_TOWNSHIP, cap.township_load_spread, cap.unit_load_spread)
        # staff time sized to the expected workload at the initial effort split (assumption)
        self._rel = np.exp(spread * z - spread**2 / 2)          # unit-specific staffing level
        self._resolve0 = max(b.effort_resolve, 0.05)
        self.capacity = np.maximum(cap.ratio * expected_hours / self._resolve0 * self._rel, 1.0)
        mean = np.array([b.effort_resolve, b.effort_satisfy, b.effort_game, b.effort_proactive])
        self.effort = self.initial_split(mean, b.effort_heterogeneity, U, streams)
        self.exhaustion = np.zeros(U)
        self.aspiration = np.zeros(U)
        self.support = np.zeros(U)        # extra staff share while designated remedial (治理类)
        self.banked = np.zeros(U)         # in-role hours banked (+) or borrowed ahead (-)
        self.game_banked = np.zeros(U)    # gaming hours saved up for whole acts (a closure, a label)
        self.demand_ema = np.zeros(U)          # demanded hours a month, smoothed (district rebalancing)
        self.acting = acting_units(city)       # units that handle orders, are ranked and learn
        # what share of its 'unreasonable' labels a unit expects to leave its score (Art. 32(3)):
        # learned from the consequence it sees, never read from the rules
        self.label_belief = np.full(U, b.label_belief0)
        self.reconfigure(cfg)

    def reconfigure(self, cfg) -> None:
        """The config now in force (at start and on timeline changes): policy baselines follow it."""
        self.set_policy(cfg)

    def rescale_capacity(self, expected_hours: np.ndarray, ratio: float) -> None:
        """New staffing for a new expected workload or target ratio, keeping units' relative staffing."""
        new = np.maximum(ratio * expected_hours / self._resolve0 * self._rel, 1.0)
        self.banked *= new / self.capacity     # banked or borrowed hours scale with the staff
        self.capacity = new

    def observe_demand(self, demanded: np.ndarray) -> None:
        """The month's demanded hours, smoothed over months: what districts judge the work by
        when they move township staff (agents.DistrictGovernment.rebalance_staff)."""
        m = self.cfg.world.capacity.demand_smoothing
        self.demand_ema = np.where(self.demand_ema > 0, m * self.demand_ema + (1 - m) * demanded, demanded)

    def set_staff(self, units: np.ndarray, new: np.ndarray) -> None:
        """New staffing of ``units`` decided by their district; banked or borrowed hours move with the staff."""
        ratio = new / self.capacity[units]
        self._rel[units] *= ratio
        self.banked[units] *= ratio
        self.capacity[units] = new

    @staticmethod
    def initial_split(mean: np.ndarray, heterogeneity: float, n: int, streams) -> np.ndarray:
        """Units start from different splits around the scenario's mean (Dirichlet, keyed)."""
        if heterogeneity <= 0:
            return np.tile(mean, (n, 1))
        conc = np.maximum(mean, 1e-3) / heterogeneity**2
        gen = streams.generator("units.effort")
        split = gen.dirichlet(conc, size=n)
        split[:, mean == 0] = 0.0
        return split / split.sum(1, keepdims=True)

    def set_policy(self, cfg) -> None:
        """Read the per-unit policy baselines from the scenario (at start and on rule changes).

        Learned deviations (``policy_offset``, log or logit scale) persist across rule
        changes, so a unit keeps what it has learned when the rules move under it.
        """
        b = cfg.world.behaviour
        U = self.city.n_units
        self.cfg = cfg
        self.p_object_misrouted = np.full(U, b.p_object_misrouted)
        # propensities before the assessment is weighed; what the rules make of each act moves
        # them through the units' own weighing of consequences (decisions.py, month end)
        self._base = {
            "priority_ease": b.priority_ease, "priority_threat": b.priority_threat,
            "p_object_bucketpass": b.p_object_bucketpass,
            "p_whistle": b.p_whistle,
            "p_answer_whistle": b.p_answer_whistle,
            "p_cooperate": b.p_cooperate_unscored,
        }
        if not hasattr(self, "gain"):
            self.beliefs = Beliefs(self.city, cfg)
            self.gain = {d: np.zeros(U) for d in DECISIONS}      # payoff of taking each act (decisions.py)
            self.overload = np.zeros(U)                          # last month's demanded / available hours - 1
            self.yields = Yields(self.city)                      # what each use of staff time brings (decisions.py)
            self.split_pay = np.zeros((U, len(SPLIT_USES)))      # payoff of moving time to each use
            self.split_intrinsic = np.zeros((U, len(SPLIT_USES)))   # ... and its value in real resolution
            self.split_step = np.zeros((U, len(SPLIT_USES)))     # the move learn() makes along them
        if not hasattr(self, "policy_offset"):
            gen_z = np.column_stack([self._z_policy(k) for k in range(len(POLICY_NAMES))])
            self.policy_offset = b.effort_heterogeneity * gen_z
        self._apply_policy()
        if not cfg.rules.proactive.unit_source_work:   # the channel for units' own source work (Art. 25-26)
            self.effort[:, E_RESOLVE] += self.effort[:, E_PROACTIVE]
            self.effort[:, E_PROACTIVE] = 0.0

    def _z_policy(self, k: int) -> np.ndarray:
        return self._streams.normal("units.policy", k, np.arange(self.city.n_units))

    def _apply_policy(self) -> None:
        """Effective per-unit values: baseline shifted by the unit's learned offset."""
        b, off = self._base, self.policy_offset
        U = self.city.n_units
        self.priority_urgent = self.cfg.world.behaviour.priority_urgent
        self.ease_scale = self.cfg.world.behaviour.ease_scale_hours
        self.priority = np.column_stack([np.full(U, self.cfg.world.behaviour.priority_deadline),
                                         b["priority_ease"] * np.exp(off[:, 0]),
                                         b["priority_threat"] * np.exp(off[:, 1])])
        busy = self.cfg.world.behaviour.load_aversion * self.overload
        for j, name in enumerate(POLICY_NAMES[2:], start=2):
            others_work = name in ("p_answer_whistle", "p_cooperate")      # hours taken from the unit's own orders
            value = shift(b[name], off[:, j] - (busy if others_work else 0.0), self.gain[POLICY_DECISION[name]], self.cfg)
            setattr(self, name, np.broadcast_to(value, (U,)).copy())
        # a unit that finds cooperating worth more also gives cooperation items more room in its queue
        base_coop = min(max(b["p_cooperate"], 1e-6), 1.0)
        self.coop_priority = self.cfg.world.behaviour.coop_priority * self.p_cooperate / base_coop
        self._apply_handling_choices()

    def _apply_handling_choices(self) -> None:
        """Asking for extensions, explaining overdue orders, pressing requesters (decisions.py): each
        the unit's propensity moved by the payoff gain it expects; the extension also by the
        explanation hours it costs at last month's load, the explanation by the hours it frees
        (the work it believes is left on an overdue order, less the explanation) when work waits
        (Art. 15(2), 35(5))."""
        bh, h, U = self.cfg.world.behaviour, self.cfg.world.handling, self.city.n_units
        hours_cost = bh.hour_price * h.extension_explain_hours * (1.0 + self.overload)
        saved = np.maximum(self.beliefs.value["overdue_work"] - h.unsolvable_explain_hours, 0.0)
        relief = bh.hour_price * saved * self.overload
        full = lambda x: np.broadcast_to(x, (U,)).copy()  # noqa: E731
        self.p_extend = full(shift(bh.p_extend, -hours_cost, self.gain["extend"], self.cfg))
        self.p_explain = full(shift(h.explain_daily, relief, self.gain["explain"], self.cfg))
        self.p_explain_blocked = full(shift(h.explain_daily_blocked, relief, self.gain["explain"], self.cfg))
        self.p_press = full(shift(bh.p_press, 0.0, self.gain["press"], self.cfg))
        # gaming hours spent on pressure follow the share of requesters pressed (handling.game)
        self.pressure_share = np.clip(bh.game_pressure_share * self.p_press / max(bh.p_press, 1e-12), 0.0, 1.0)

    def decision_table(self) -> dict[str, np.ndarray]:
        """This month's decision probabilities and what units expect each act to pay (units_monthly)."""
        ids = np.arange(self.city.n_units)
        return {"p_answer_whistle": self.p_answer_whistle.copy(), "p_cooperate": self.p_cooperate.copy(),
                "p_whistle": self.p_whistle.copy(), "p_object_bucketpass": self.p_object_bucketpass.copy(),
                "p_claim_resolved": self.claim_probability(ids), "coop_priority": self.coop_priority.copy(),
                "p_extend": self.p_extend.copy(), "p_explain": self.p_explain.copy(),
                "p_explain_blocked": self.p_explain_blocked.copy(), "p_press": self.p_press.copy(),
                "pressure_share": self.pressure_share.copy(),
                **{f"gain_split_{u}": self.split_pay[:, j].copy() for j, u in enumerate(SPLIT_USES)},
                **{f"intrinsic_split_{u}": self.split_intrinsic[:, j].copy() for j, u in enumerate(SPLIT_USES)},
                **{f"gain_{k}": g.copy() for k, g in self.gain.items()},
                **{f"belief_{k}": x.copy() for k, x in self.beliefs.value.items()}}

    def weigh_consequences(self, v: dict, population: np.ndarray) -> None:
        """Month end: update beliefs from the month's experience, weigh what each decision would
        have done to the assessment (decisions.consequences), and set next month's probabilities."""
        cfg = self.cfg
        self.beliefs.update(v, cfg)
        current = {"answer_whistle": self.p_answer_whistle, "cooperate": self.p_cooperate, "whistle": self.p_whistle,
                   "object_bucketpass": self.p_object_bucketpass,
                   "claim_resolved": self.claim_probability(np.arange(self.city.n_units)), **current_shares(v)}
        self.gain = consequences(v, cfg, self.city, population, self.beliefs, current)
        self.overload = np.maximum(v["hours_demanded"] / np.maximum(v["hours_available"], 1e-9) - 1.0, 0.0)
        # the effort split: what moving time between uses would have done, from beliefs about their yields
        self.yields.update(v, self.effort, cfg)
        self.split_pay, self.split_intrinsic = split_gains(v, cfg, self.city, population, self.yields, self.beliefs)
        self.split_step = split_move(self.split_pay, self.split_intrinsic, cfg)
        self._apply_policy()

    # ------------------------------------------------------------------ daily
    def staff_hours(self) -> np.ndarray:
        """Staff hours each unit has today: capacity, remedial support, less exhaustion (JD-R)."""
        b = self.cfg.world.behaviour
        return self.capacity * (1.0 + self.support) * (1.0 - b.exhaustion_capacity_loss * self.exhaustion)

    def daily_budgets(self, campaign_hours: np.ndarray) -> np.ndarray:
        """Staff hours per unit and activity today, shape (U, 4).

        Exhaustion lowers capacity; it lowers discretionary work (satisfaction management,
        proactive work) further (disengagement, JD-R). Campaign duty (topic of the month)
        is taken first from the lead line's units.
        """
        b = self.cfg.world.behaviour
        hours = np.maximum(self.staff_hours() - campaign_hours, 0.0)
        share = self.effort.copy()
        # district governments and the hotline do no order work of their own to split: their
        # staff time is all in-role (coordination, escalation.Coordination)
        share[~self.acting] = np.eye(len(ACTIVITIES))[E_RESOLVE]
        share[:, E_SATISFY] *= 1.0 - b.disengage_satisfy * self.exhaustion
        share[:, E_PROACTIVE] *= 1.0 - b.disengage_proactive * self.exhaustion
        share[:, E_RESOLVE] += self.effort.sum(1) - share.sum(1)   # what disengagement frees goes to in-role work
        return hours[:, None] * share

    def carry_over(self, banked: np.ndarray, game_banked: np.ndarray) -> None:
        """Hours carried to tomorrow, as handling left them: banked (+) or borrowed (-) in-role
        hours, and gaming hours saved for whole acts (handling.work_day returns both)."""
        self.banked = banked
        self.game_banked = game_banked

    def month_end_push(self, budgets: np.ndarray, standing_now, day: int, remedial_share: float, tally):
        """Late in the month, units standing near the remedial cut-off press the measures
        (loss aversion near the sanction line, Art. 28; literature.md pattern 3).

        ``standing_now`` is a callable giving the month-to-date standing (assessment.standing),
        called only inside the push window. Returns today's budgets and the mask of units
        pressing; books surge days and overtime hours in ``tally``."""
        b = self.cfg.world.behaviour
        pressing = np.zeros(self.city.n_units, bool)
        if b.cutoff_surge <= 0 or days_left_in_month(day) > b.surge_days:
            return budgets, pressing
        # pressed as hard as the assessment is weighed and as much as remedial designation costs
        press = self.cutoff_pressure(standing_now(), remedial_share) * b.incentive_weight \
            * remedial_stake(self.cfg) / b.surge_stake_norm
        pressing = press > 0
        tally.add_array("surge_days", pressing)
        out = self.surge(budgets, press)
        tally.add_array("hours_overtime", (out - budgets)[:, E_SATISFY:E_PROACTIVE].sum(1))   # wears staff out
        return out, pressing

    def designate_support(self, remedial: np.ndarray) -> None:
        """治理类: remedial townships get targeted staff from the district for the next month (Art. 5, 24)."""
        self.support = np.where(remedial & (self.city.unit_kind == KIND_TOWNSHIP),
                                self.cfg.rules.sanctions.remedial_support, 0.0)

    def cutoff_pressure(self, standing: np.ndarray, cut: float) -> np.ndarray:
        """How hard each unit presses its standing: 0 outside the band around the remedial line,
        lambda / 2.25 just below it (the loss domain) and 1 / 2.25 just above it (gains): prospect
        theory's kink at the reference point, so units below catch up with those just above."""
        b = self.cfg.world.behaviour
        ok = np.isfinite(standing)
        below = ok & (standing < cut) & (standing >= cut - b.cutoff_band)
        above = ok & (standing >= cut) & (standing < cut + b.cutoff_band * b.surge_band_above)
        return np.where(below, b.loss_aversion, np.where(above, 1.0, 0.0)) / b.surge_pressure_norm

    def surge(self, budgets: np.ndarray, press: np.ndarray) -> np.ndarray:
        """Month-end push (月底冲刺) of units near the cut-off: overtime on the measures.

        They add ``cutoff_surge`` x their in-role hours x ``press`` (cutoff_pressure) of
        overtime, split like their own rating-management and gaming time; real work is not cut
        (tried: overtime on real work moves this month's score less, its results close next
        month). The overtime is booked as hours_overtime, which feeds exhaustion but not the
        districts' staffing decisions (month_end_push, model.month_end).
        """
        b = self.cfg.world.behaviour
        extra = np.minimum(b.cutoff_surge * press, b.surge_cap) * budgets[:, E_RESOLVE]
        measures = self.effort[:, E_SATISFY] + self.effort[:, E_GAME]
        to_game = np.where(measures > 0, self.effort[:, E_GAME] / np.maximum(measures, 1e-12), 0.5)
        out = budgets.copy()
        out[:, E_GAME] += extra * to_game
        out[:, E_SATISFY] += extra * (1 - to_game)
        return out

    def observe_labels(self, labelled: np.ndarray, excluded: np.ndarray) -> None:
        """Month end: move each unit's label expectation toward the share of its closed labelled
        orders that were excluded from its score this month (units with no label keep theirs)."""
        w = self.cfg.world.behaviour.label_belief_learning
        seen = labelled > 0
        share = excluded / np.maximum(labelled, 1.0)
        self.label_belief = np.where(seen, self.label_belief + w * (share - self.label_belief), self.label_belief)

    def label_value(self, unit: np.ndarray) -> np.ndarray:
        """Chance a unit that judges an order unreasonable in good faith labels it: worth doing
        when it expects the label to leave the score, else only for the record (Art. 32(3))."""
        c = self.cfg.world.behaviour.label_clerical_value
        return np.clip(c + (1.0 - c) * self.label_belief[unit], 0.0, 1.0)

    def claim_probability(self, unit: np.ndarray) -> np.ndarray:
        """Chance an unsolved order is reported 'resolved' anyway (弄虚作假): the unit's gaming
        propensity (its gaming share of staff time), moved by what it expects a false claim to
        bring: passing as resolved or being caught by the audit (decisions.py). Worked out once
        per unit and read for each order (the same values: every step is element by element)."""
        p0 = np.clip(self.cfg.world.handling.claim_resolved * self.effort[:, E_GAME], 0.0, 1.0)
        p = np.where((p0 > 0) & (p0 < 1), shift(np.clip(p0, 1e-6, 1 - 1e-6), 0.0, self.gain["claim_resolved"],
                                                  self.cfg), p0)
        return p[unit]

    # ------------------------------------------------------------------ month end
    def update_exhaustion(self, demanded_hours: np.ndarray, available_hours: np.ndarray,
                          sanction: np.ndarray) -> None:
        """Exhaustion stock: grows with overload and sanction pressure, recovers slowly."""
        b = self.cfg.world.behaviour
        overload = np.maximum(demanded_hours / np.maximum(available_hours, 1e-9) - 1.0, 0.0)
        gain = b.exhaustion_gain * np.minimum(overload, b.overload_cap) + b.exhaustion_sanction_gain * sanction
        self.exhaustion = np.clip(self.exhaustion * (1 - b.exhaustion_recovery) + gain * (1 - self.exhaustion), 0, 1)

    def learn(self, utility: np.ndarray, cls: np.ndarray, streams, month: int) -> None:
        """Aspiration learning with imitation of better-off peers (Braganza 2022; Börgers & Sarin 2000).

        A unit whose utility falls below its aspiration copies, with probability
        ``imitation``, part of the split of a unit drawn from the top quarter of its class
        by utility, else it explores at random; units above aspiration explore a little.
        The aspiration follows experience. Utility already holds intrinsic motivation.
        """
        b = self.cfg.world.behaviour
        U = len(utility)
        ids = np.arange(U)
        acting = self.acting & np.isfinite(utility)
        below = (utility < self.aspiration) & acting
        imitate = below & streams.bernoulli(b.imitation, "learning.imitate", month, ids)
        target = self.effort.copy()
        u_peer = streams.uniform("learning.peer", month, ids)
        for c in np.unique(cls[acting]):
            members = ids[acting & (cls == c)]
            top = members[np.argsort(-utility[members], kind="stable")][: max(1, len(members) // 4)]
            who = members[imitate[members]]
            target[who] = self.effort[top[(u_peer[who] * len(top)).astype(int)]]
        noise = b.exploration * np.column_stack([streams.normal("learning.explore", month, ids, a) for a in range(4)])
        explore = acting & ~imitate
        scale = np.where(below, 1.0, b.explore_above_aspiration)[:, None]
        target[explore] = self.effort[explore] + (scale * noise)[explore]
        target = np.clip(target, 0.0, None)
        if not self.cfg.rules.proactive.unit_source_work:
            target[:, E_PROACTIVE] = 0.0
        target = keep_in_role_floor(target, b.min_resolve_share)   # in-role duty stays
        step = np.where(imitate, b.learning_rate, 1.0)[:, None] * acting[:, None]
        effort = (1 - step) * self.effort + step * target
        effort += b.learning_rate * b.peer_step * self.peer_gradient(utility, cls, acting)
        # and along the consequences gradient of the split (decisions.split_gains, weigh_consequences)
        move = self.split_step * acting[:, None]
        if not self.cfg.rules.proactive.unit_source_work:
            move[:, E_PROACTIVE - 1] = 0.0
        effort += np.column_stack([-move.sum(1), move])
        self.effort = keep_in_role_floor(np.clip(effort, 0.0, None), b.min_resolve_share)
        a = b.aspiration_update
        self.aspiration = np.where(acting, (1 - a) * self.aspiration + a * utility, self.aspiration)

    def peer_gradient(self, utility: np.ndarray, cls: np.ndarray, acting: np.ndarray) -> np.ndarray:
        """Belief learning from peers: what shifting time between activities paid in my class.

        Within each class, utility is regressed on the effort shares (satisfaction
        management, gaming, proactive, each against real resolution). Units see peers'
        ranks each month, so they can estimate foregone payoffs (EWA, Camerer & Ho 1999);
        they move only on evidence: the step is tanh(t / 2) of each coefficient's t-value.
        """
        move = evidence_steps(self.effort[:, 1:], utility, cls, acting)
        return np.column_stack([-move.sum(1), move])

    def learn_policy(self, utility: np.ndarray, cls: np.ndarray) -> None:
        """Queue priorities and the object / whistle / answer / cooperate decisions follow the
        same evidence from peers, on the log (priorities) or logit (probabilities) scale."""
        b = self.cfg.world.behaviour
        acting = self.acting & np.isfinite(utility)
        self.policy_offset += b.learning_rate * b.policy_step * evidence_steps(self.policy_offset, utility, cls, acting)
        np.clip(self.policy_offset, -b.policy_offset_limit, b.policy_offset_limit, out=self.policy_offset)
        self._apply_policy()


def keep_in_role_floor(split: np.ndarray, floor: float) -> np.ndarray:
    """A valid effort split (rows sum to 1) whose in-role share is at least ``floor``: rows
    below it are raised to the floor and their other shares scaled into the rest."""
    split = split.copy()
    split[:, E_RESOLVE] = np.maximum(split[:, E_RESOLVE], floor)
    split /= split.sum(1, keepdims=True)
    low = split[:, E_RESOLVE] < floor
    if low.any():
        rest = split[low, 1:].sum(1, keepdims=True)
        split[low, 1:] *= np.where(rest > 0, (1 - floor) / np.maximum(rest, 1e-12), 0.0)
        split[low, E_RESOLVE] = np.where(rest[:, 0] > 0, floor, 1.0)
    return split


def evidence_steps(X: np.ndarray, utility: np.ndarray, cls: np.ndarray, acting: np.ndarray) -> np.ndarray:
    """Per unit and column, tanh(t/2) of the within-class regression of utility on X."""
    out = np.zeros_like(X)
    k = X.shape[1]
    for c in np.unique(cls[acting]):
        m = np.flatnonzero(acting & (cls == c))
        if len(m) < 3 * k:
            continue
        Xc = X[m] - X[m].mean(0)
        y = utility[m] - utility[m].mean()
        keep = Xc.std(0) > 1e-9
        if not keep.any():
            continue
        Z = Xc[:, keep]
        xtx = Z.T @ Z + 1e-6 * np.eye(Z.shape[1])
        beta = np.linalg.solve(xtx, Z.T @ y)
        resid = y - Z @ beta
        dof = max(len(m) - Z.shape[1] - 1, 1)
        se = np.sqrt(np.maximum(np.diag(np.linalg.inv(xtx)) * (resid @ resid) / dof, 1e-12))
        step = np.zeros(k)
        step[keep] = np.tanh(beta / se / 2.0)
        out[m] = step
    return out
