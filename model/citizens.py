"""Citizens (诉求人) as arrays: who files, how much they trust the system, what they expect.

Citizens are laid out township by township and, inside a township, by reporting-propensity
class: a discretised Pareto tail, so a few people call very often (Art. 9 speaks of
malicious repeated calling). Nobody is drawn for every day: demand gives request counts
per township and category, then :meth:`Citizens.pick_requesters` chooses who filed,
in proportion to propensity x trust factor, in O(requests).

Not every resident uses 12345. Inside each (township, class) cell the first residents are its
users (知晓并使用热线的居民): the contact volume is read as reach x use, so the users' share is
``contacts_per_capita_year / contacts_per_user_year`` at the start and grows with the township's
reputation (word of mouth) and with a higher volume. Users stay users: the hotline grows by
drawing in new callers (literature.md pattern 13: distinct callers doubled 2019-2021 at about 2.5
contacts each), and requesters are picked among users only.

Trust follows outcomes (satisfied answers raise it) and raises future filing: the
township's propensity-weighted mean trust factor is kept incrementally, so demand grows as
the system becomes responsive (literature.md pattern 4). Expectations follow experience
(expectancy-disconfirmation, Van Ryzin 2004): good service raises the bar.
"""

from __future__ import annotations

import numpy as np

from . import kernels
from .orders import small_pages
from .streams import Streams, _as_u64

N_CLASSES = 20
PROPENSITY_CAP = 1000.0
_PICK_NAMES = ("requester.class", "requester.person", "requester.trust")   # pick_requesters' streams


def propensity_classes(shape: float) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities and mean propensities of a Pareto(shape, x_m=1) cut into log bins."""
    edges = np.concatenate([np.geomspace(1.0, PROPENSITY_CAP, N_CLASSES), [np.inf]])
    cdf = lambda x: 1.0 - np.minimum(x, 1e300) ** (-shape)  # noqa: E731
    p = np.diff(cdf(edges))
    grid = [np.geomspace(edges[k], edges[k + 1] if np.isfinite(edges[k + 1]) else PROPENSITY_CAP * 3, 64)
            for k in range(N_CLASSES)]
    dens = [g ** (-shape - 1) for g in grid]
    level = np.array([np.average(g, weights=d) for g, d in zip(grid, dens)])
    return p / p.sum(), level


def class_thresholds(cum: np.ndarray) -> np.ndarray:
    """Township rows of cumulative class shares as sorted uint64 search keys: township t's
    thresholds floor(share x 2^53) offset by t x 2^54 (empty if the townships do not fit)."""
    if cum.shape[0] >= 1024 or not (cum <= 1.5).all():
        return np.zeros(0, np.uint64)
    thr = np.floor(cum * 9007199254740992.0).astype(np.uint64)
    thr += (np.arange(cum.shape[0], dtype=np.uint64) << np.uint64(54))[:, None]
    return thr.ravel()


def add_counts(counter: np.ndarray, idx: np.ndarray) -> None:
    """counter[i] += (times i occurs in idx), in O(len(idx)) (no sort of idx)."""
    np.add.at(counter, idx, np.ones(1, counter.dtype))   # unbuffered: repeats add up (numpy >= 2 makes this fast)


def last_per_person(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct residents of ``idx`` in ascending order and the position of each one's last
    entry: what ``np.unique(idx[::-1], return_index=True)`` gives (turned into positions in
    ``idx``), from one sort of resident x 2^20 + position (no stable argsort; issue 13)."""
    idx = np.asarray(idx)
    if idx.size == 0 or idx.size >= 1 << 20 or idx.min() < 0:
        rev_unique, rev_pos = np.unique(idx[::-1], return_index=True)
        return rev_unique, idx.size - 1 - rev_pos
    comb = (idx.astype(np.int64) << 20) | np.arange(idx.size)
    comb.sort()
    person = comb >> 20
    last = np.empty(person.size, bool)
    last[-1] = True
    np.not_equal(person[1:], person[:-1], out=last[:-1])
    return person[last].astype(idx.dtype), comb[last] & ((1 << 20) - 1)


class Citizens:
    """All residents, scaled: home township, trust, expectation, request history."""

    def __init__(self, township_pop: np.ndarray, scale: float, cfg, streams: Streams):
        """``cfg``: the whole scenario config (its ``world.citizens`` and ``world.demand`` tables)."""
        self.cfg = cfg
        self.elasticity = cfg.world.demand.trust_elasticity
        p_cls, self.level = propensity_classes(cfg.world.demand.caller_tail_shape)
        n_t = np.maximum(1, np.round(township_pop * scale)).astype(np.int64)
        gen = streams.generator("citizens.classes")
        self.count = np.vstack([gen.multinomial(n, p_cls) for n in n_t])  # (T, K)
        flat = self.count.ravel()
        self.start = (np.cumsum(flat) - flat).reshape(self.count.shape)
        self.n = int(flat.sum())
        self._flat_start = self.start.ravel()
        self.township_of_class = np.repeat(np.arange(len(n_t)), N_CLASSES)
        ini = cfg.world.citizens
        with small_pages():                  # one array per resident (orders.small_pages: faster set-up)
            self.trust = np.full(self.n, ini.initial_trust, dtype=np.float32)
            self.expectation = np.full(self.n, ini.initial_expectation, dtype=np.float32)
            self.n_unresolved = np.zeros(self.n, dtype=np.int16)
            self.calls_this_year = np.zeros(self.n, dtype=np.int32)
        self.trust0 = ini.initial_trust
        self.tf_max = self.trust_factor(1.0)
        # word of mouth: what neighbours and the media say about the township's service (Art. 6)
        self.reputation = np.full(self.count.shape[0], ini.initial_trust)
        # users (reach): none yet; _widen_reach draws them in, cell by cell, from the first resident
        self.users = np.zeros_like(self.count)
        self.reach = np.zeros(self.count.shape[0])
        self._reach_offset = streams.generator("citizens.reach").random(self.count.shape)   # unbiased rounding
        self.trust_num = np.zeros(self.count.shape[0])   # users' propensity-weighted filing factor
        self.trust_sum = np.zeros(self.count.shape[0])   # users' propensity-weighted trust level
        self._widen_reach()
        # this calendar year's distinct callers and contacts (count_callers; calls per resident above)
        self.distinct_ytd, self.contacts_ytd = 0, 0
        self._init_malicious(p_cls, ini.malicious_share, streams)

    def reach_target(self) -> np.ndarray:
        """Share of each township's residents who use 12345 under the config in force: the volume
        over one user's contacts (reach x use), raised by what people hear (reputation's filing
        factor, 1 at the initial trust), at most everyone."""
        d = self.cfg.world.demand
        return np.clip(d.contacts_per_capita_year / d.contacts_per_user_year * self.trust_factor(self.reputation), 0, 1)

    def _widen_reach(self) -> None:
        """Draw in the residents the reach target adds (users stay users: the reach never shrinks).
        A resident outside the reach has never called, so joins with the initial trust: the township
        sums grow by that filing factor, cell by cell, and the pick's class weights follow. O(cells)."""
        self.reach = np.maximum(self.reach, self.reach_target())
        users = np.minimum(self.count, np.floor(self.reach[:, None] * self.count + self._reach_offset).astype(np.int64))
        none = np.flatnonzero(users.sum(1) == 0)         # every township keeps at least one user
        users[none, np.argmax(self.count[none] > 0, axis=1)] = 1
        users = np.maximum(users, self.users)
        added = (users - self.users) * self.level        # (T, K) propensity mass of the new users
        t0 = np.float32(self.trust0)                      # residents' trust is float32 (the arrays above)
        self.trust_num += (added * self.trust_factor(t0)).sum(1)
        self.trust_sum += (added * t0).sum(1)
        self.users = users
        w = self.users * self.level                      # (T, K) users' propensity mass
        self.weight = w.sum(1)
        self._cum = np.cumsum(w, 1) / self.weight[:, None]
        self._class_keys = class_thresholds(self._cum)   # search keys of _cum (pick_requesters)

    def _init_malicious(self, p_cls: np.ndarray, share: float, streams: Streams) -> None:
        """Malicious callers (Art. 9(3)): a share of residents whose chance rises with their calling
        propensity (the heavy tail). Kept sparse: sorted indices, still active?, warnings received."""
        p = np.zeros(N_CLASSES)
        if share > 0:
            c = share / float((p_cls * self.level).sum())
            for _ in range(30):                          # scale so the capped chances average to `share`
                p = np.minimum(1.0, c * self.level)
                c *= share / max(float((p_cls * p).sum()), 1e-300)
        gen = streams.generator("citizens.malicious")
        m = gen.binomial(self.count, p[None, :])         # malicious residents per (township, class) cell
        starts = self.start.ravel()
        self.malicious_idx = np.concatenate([np.arange(a, a + k) for a, k in zip(starts, m.ravel()) if k]
                                            or [np.empty(0, np.int64)]).astype(np.int64)
        self.malicious_active = np.ones(self.malicious_idx.size, bool)
        self.warnings = np.zeros(self.malicious_idx.size, np.int16)

    def _malicious_pos(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Position in the malicious list of each citizen, and whether they are on it."""
        if self.malicious_idx.size == 0:
            return np.zeros(idx.shape, np.int64), np.zeros(idx.shape, bool)
        pos = np.searchsorted(self.malicious_idx, idx).clip(0, self.malicious_idx.size - 1)
        return pos, self.malicious_idx[pos] == idx

    def malicious_status(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Whether each citizen calls maliciously now (Art. 9(3)) and the warnings the hotline
        has given them for it (Art. 37): one search of the malicious list for both."""
        pos, on = self._malicious_pos(idx)
        if not self.malicious_idx.size:
            return on, np.zeros(idx.shape, np.int16)
        return on & self.malicious_active[pos], np.where(on, self.warnings[pos], 0)

    def warn(self, idx: np.ndarray, streams: Streams, keys: np.ndarray) -> np.ndarray:
        """The hotline warns these malicious callers (劝阻、批评、教育, Art. 37); some stop
        (world.citizens.warning_deterrence, the caller's choice). Returns, per warning, whether
        the caller stopped because of it."""
        pos, on = self._malicious_pos(idx)
        stopped = np.zeros(idx.shape, bool)
        if not on.any():
            return stopped
        np.add.at(self.warnings, pos[on], 1)
        stop = on & streams.bernoulli(self.cfg.world.citizens.warning_deterrence, "citizen.deterred", keys)
        rows = np.flatnonzero(stop)
        rows = rows[np.unique(pos[rows], return_index=True)[1]]      # one stop per caller and day
        rows = rows[self.malicious_active[pos[rows]]]
        stopped[rows] = True
        self.malicious_active[pos[rows]] = False
        return stopped

    def count_callers(self, who: np.ndarray) -> None:
        """Residents who got through to the hotline today, one entry per contact: the calendar
        year's distinct callers and contacts (literature.md pattern 13; facts.md: 2.82 M, 4.35 M,
        5.62 M distinct callers in 2019-2021)."""
        if who.size == 0:
            return
        k = kernels.get(who.size)
        if k is not None:        # one compiled pass (model/kernels.py): the same counts
            self.distinct_ytd += int(k.count_callers(self.calls_this_year, np.ascontiguousarray(who, dtype=np.int64)))
            self.contacts_ytd += int(who.size)
            return
        first = self.calls_this_year[who] == 0          # contacts of people not yet counted this year
        add_counts(self.calls_this_year, who)
        # each first-time caller appears calls_this_year[x] times among today's first contacts: one
        # 1/n per appearance sums to 1 per person (the float error is far below 1/2 for any day)
        self.distinct_ytd += int(np.rint((1.0 / self.calls_this_year[who[first]]).sum()))
        self.contacts_ytd += int(who.size)

    def new_calendar_year(self) -> None:
        """Start counting the year's distinct callers afresh."""
        self.calls_this_year[:] = 0
        self.distinct_ytd, self.contacts_ytd = 0, 0

    def reconfigure(self, cfg) -> None:
        """The config now in force. A new trust elasticity re-weighs everyone's filing factor
        (one pass over the residents, only when it changes)."""
        self.cfg = cfg
        e = cfg.world.demand.trust_elasticity
        if e != self.elasticity:
            self.elasticity = e
            self.tf_max = self.trust_factor(1.0)
            tf = self.trust_factor(self.trust).astype(np.float64)
            cum = np.concatenate([[0.0], np.cumsum(tf)])
            start = self.start.ravel()
            per_cell = (cum[start + self.users.ravel()] - cum[start]).reshape(self.count.shape)
            self.trust_num = (per_cell * self.level[None, :]).sum(1)
        self._widen_reach()                              # a higher volume reaches new users

    @property
    def n_townships(self) -> int:
        return self.count.shape[0]

    def trust_factor(self, trust):
        """Relative filing of a citizen with this trust (1 at the scenario's initial trust,
        where volume is calibrated)."""
        return ((0.5 + trust) / (0.5 + self.trust0)) ** self.elasticity

    def township_trust(self) -> np.ndarray:
        """Filing factor per township: own experience (propensity-weighted mean trust factor)
        times what people hear from others (reputation)."""
        return self.trust_num / self.weight * self.trust_factor(self.reputation)

    def township_trust_level(self) -> np.ndarray:
        """Trust in the system (0-1) per township: the mean of residents' own trust
        (propensity-weighted) and the township's reputation."""
        return 0.5 * (self.trust_sum / self.weight + self.reputation)

    def hear_about_service(self, satisfaction_rate: np.ndarray) -> None:
        """Monthly: reputation moves toward the township's satisfaction rate (word of mouth)."""
        ok = np.isfinite(satisfaction_rate)
        w = self.cfg.world.citizens.word_of_mouth
        self.reputation[ok] += w * (satisfaction_rate[ok] - self.reputation[ok])
        self._widen_reach()                              # what people hear draws in new users

    def township_of(self, idx: np.ndarray) -> np.ndarray:
        return self.township_of_class[self.class_of(idx)]

    def is_user(self, idx: np.ndarray) -> np.ndarray:
        """Whether each citizen is among the users of 12345 (the first ``users`` of their cell)."""
        cell = self.class_of(idx)
        return idx - self._flat_start[cell] < self.users.ravel()[cell]

    def class_of(self, idx: np.ndarray) -> np.ndarray:
        """Flat (township, class) cell of each citizen index."""
        return np.searchsorted(self._flat_start, idx, side="right") - 1

    def pick_requesters(self, township: np.ndarray, keys: np.ndarray, streams: Streams) -> np.ndarray:
        """Choose who filed each request among the township's users, in proportion to propensity x
        trust factor."""
        out = np.empty(len(township), dtype=np.int64)
        todo = np.arange(len(township))
        township = np.asarray(township, dtype=np.int64)
        fast = kernels.get(len(township)) if self._class_keys.size else None
        for attempt in range(12):
            if todo.size == 0:
                break
            t, k = township[todo], keys[todo]
            if fast is not None:     # the same draws in one compiled pass (model/kernels.py)
                idx, thr = fast.pick_step(t, _as_u64(k), attempt, *(streams._name_hash(n)[()] for n in _PICK_NAMES),
                                          self._class_keys, self._flat_start, self.users.ravel(), N_CLASSES,
                                          float(self.tf_max))
                if attempt == 11:
                    out[todo] = idx
                    break
                accept = thr < self.trust_factor(self.trust[idx])
                out[todo[accept]] = idx[accept]
                todo = todo[~accept]
                continue
            cell = t * N_CLASSES + self._class_draw(t, streams.key("requester.class", k, attempt))
            u2 = streams.uniform("requester.person", k, attempt)
            idx = self._flat_start[cell] + (u2 * self.users.ravel()[cell]).astype(np.int64)
            if attempt == 11:
                out[todo] = idx
                break
            accept = streams.uniform("requester.trust", k, attempt) * self.tf_max < self.trust_factor(self.trust[idx])
            out[todo[accept]] = idx[accept]
            todo = todo[~accept]
        return out

    def _class_draw(self, t: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Propensity class of each request in its township ``t`` from the keyed hash ``h``: the
        number of the township's cumulative class shares below the uniform u = (h >> 11) / 2^53.
        One binary search over integer thresholds floor(share x 2^53) laid out township by
        township, which gives exactly the classes of comparing u with every share (u x 2^53 is an
        integer m, and c < m holds exactly when floor(c) < m), at O(log) instead of O(classes)."""
        m = h >> np.uint64(11)
        if self._class_keys.size == 0:          # too many townships for the layout: compare directly
            u = m.astype(np.float64) * (1.0 / 9007199254740992.0)
            return (self._cum[t] < u[:, None]).sum(1).clip(0, N_CLASSES - 1)
        pos = np.searchsorted(self._class_keys, (t.astype(np.uint64) << np.uint64(54)) | m, side="left")
        return (pos - t * N_CLASSES).clip(0, N_CLASSES - 1)

    def update_after_callback(self, idx: np.ndarray, satisfaction: np.ndarray,
                              performance: np.ndarray, resolved: np.ndarray) -> None:
        """Trust and expectation move toward this outcome; unresolved requests are remembered."""
        c = self.cfg.world.citizens
        # last answer of the day wins for a citizen with several callbacks
        who, pos = last_per_person(idx)
        outcome = np.choose(np.clip(satisfaction[pos], 0, 2), [0.0, c.basic_trust_outcome, 1.0])
        self._move_trust(who, outcome)
        k = kernels.get(idx.size)
        if k is not None:        # the same updates in compiled passes (model/kernels.py)
            k.move_expectation(self.expectation, who, np.ascontiguousarray(performance[pos], dtype=np.float64),
                               float(c.expectation_learning), float(c.expectation_cap))
            k.count_unresolved(self.n_unresolved, np.ascontiguousarray(idx), np.ascontiguousarray(resolved))
            return
        new_e = self.expectation[who] + c.expectation_learning * (performance[pos] - self.expectation[who])
        self.expectation[who] = np.clip(new_e, 0.0, c.expectation_cap)
        unresolved = idx[~resolved]
        add_counts(self.n_unresolved, unresolved)
        good = idx[resolved]
        self.n_unresolved[good] = 0

    def update_after_contact(self, idx: np.ndarray, target: np.ndarray) -> None:
        """Trust moves toward ``target`` after a contact that ended at the hotline (a diversion,
        Art. 11(2), or a call nobody answered); the last of the day wins."""
        if idx.size == 0:
            return
        who, pos = last_per_person(idx)
        self._move_trust(who, np.asarray(target, dtype=np.float64)[pos])

    def _move_trust(self, who: np.ndarray, outcome: np.ndarray) -> None:
        """Trust of distinct citizens ``who`` moves toward ``outcome``; township sums follow."""
        c = self.cfg.world.citizens
        k = kernels.get(who.size)
        if k is not None:        # one gather and one scatter of trust (model/kernels.py), the same values
            old_trust, new_trust = k.move_trust(self.trust, np.ascontiguousarray(who),
                                                np.ascontiguousarray(outcome, dtype=np.float64), float(c.trust_learning))
            old_tf, new_tf = self.trust_factor(old_trust), self.trust_factor(new_trust)
            if old_tf.dtype == new_tf.dtype == np.float32:     # township sums in the same pass order
                num, tot = k.trust_sums(np.ascontiguousarray(who, dtype=np.int64), old_tf, new_tf, old_trust, new_trust,
                                        self._flat_start, self.level, self.township_of_class, N_CLASSES,
                                        self.n_townships)
                self.trust_num += num
                self.trust_sum += tot
                return
        else:
            old_tf = self.trust_factor(self.trust[who])
            old_trust = self.trust[who].copy()
            self.trust[who] += (c.trust_learning * (outcome - self.trust[who])).astype(np.float32)
            new_trust = self.trust[who]
        cell = self.class_of(who)                       # (township, propensity class) of each citizen
        level, t_of = self.level[cell % N_CLASSES], self.township_of_class[cell]
        delta = (self.trust_factor(new_trust) - old_tf) * level
        self.trust_num += np.bincount(t_of, weights=delta, minlength=self.n_townships)
        self.trust_sum += np.bincount(t_of, weights=(new_trust - old_trust) * level, minlength=self.n_townships)

    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.trust, self.expectation, self.n_unresolved))
