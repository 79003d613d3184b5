"""The hotline centre's operators (话务, Art. 8(2), 10): who gets through, who waits, who gives up.

Beijing's 12345 had 1,400+ staff on 600+ seats in 2021, each answering 80-100 calls a shift
(facts.md). The daily answering capacity is operators x shifts a week / 7 x calls a shift,
scaled with ``city.scale``. Calls bunch in busy hours (``peak_factor``), so the load that
meets capacity is the day's phone calls x peak_factor. Waiting grows as load / (1 - load)
toward capacity, divided among the seats (a fluid approximation of a many-server queue, in
seconds); impatient callers hang up, and above capacity at most capacity / load are answered.
Online contacts are read from a queue (Art. 8(2)).

An unanswered caller tries again the next day (``retry_prob``) or gives up, which lowers
their trust (citizens.py). The centre also keeps the queue of contacts that come back
after a diversion (a new call, or a complaint about the diversion; intake.py): both are
re-offered on their day like any call. Everything is vectorised: one keyed draw per call.
"""

from __future__ import annotations

import numpy as np


def split_by_day(days: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(day, positions) for each distinct day in ascending order, positions in their original
    order (what ``days == day`` selects), from one stable sort instead of one mask per day."""
    days = np.asarray(days)
    if days.size == 0:
        return []
    order = np.argsort(days, kind="stable")
    sd = days[order]
    cut = np.flatnonzero(sd[1:] != sd[:-1]) + 1
    return [(int(sd[a]), order[a:b]) for a, b in zip(np.r_[0, cut], np.r_[cut, sd.size])]


class Hotline:
    """Answering capacity, the day's answer rate and waiting time, and calls due back."""

    def __init__(self, cfg):
        self.queue: dict[int, list[dict]] = {}
        self.consult_retries = 0          # consultations (counts only) that call again tomorrow
        self.requests_by_township = None  # recorded requests per township (equity output)
        self.reconfigure(cfg)

    def reconfigure(self, cfg) -> None:
        """The config now in force (operators may change with the timeline)."""
        self.cfg = cfg
        h = cfg.world.hotline
        self.capacity = h.operators * h.shifts_per_week / 7.0 * h.calls_per_shift * cfg.city.scale

    def load_figures(self, phone_calls: float) -> tuple[float, float]:
        """Answer rate (0-1) and mean waiting seconds for ``phone_calls`` offered today.

        Load rho = calls x peak_factor / capacity (scale-free). Waiting: handling time per call
        / seats x rho / (1 - rho) (many servers share one queue; capped at rho = 0.98). Callers
        hang up after their patience (abandonment 1 - exp(-wait / patience)); the operators never
        answer more than their capacity, so the answer rate is min(exp(-wait / patience), 1 / rho)
        (continuous in the load; above capacity the excess is lost)."""
        h = self.cfg.world.hotline
        if phone_calls <= 0:
            return 1.0, 0.0
        rho = phone_calls * h.peak_factor / max(self.capacity, 1e-9)
        r = min(rho, 0.98)
        wait = 8 * 3600.0 / h.calls_per_shift / h.seats * r / (1.0 - r)
        return min(float(np.exp(-wait / h.patience_seconds)), 1.0 / rho), wait

    # ------------------------------------------------------------------ contacts coming back
    def schedule(self, req: dict, days: np.ndarray) -> None:
        """Remember requests that call again on ``days`` (retries, re-calls, complaints)."""
        for day, sel in split_by_day(days):
            self.queue.setdefault(day, []).append({k: v[sel] for k, v in req.items()})

    def due(self, day: int) -> dict | None:
        """Requests calling back today, or None."""
        parts = self.queue.pop(day, [])
        if not parts:
            return None
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    # ------------------------------------------------------------------ answering
    def answer(self, new: dict, consult_answered: int, day: int, model) -> tuple[dict, int, dict]:
        """Which of today's calls get through. Returns the answered requests, the consultations
        answered at once, and the day's hotline figures (calls, answer rate, waiting, give-ups)."""
        h, s, cit = self.cfg.world.hotline, model.streams, self.cfg.world.citizens
        key = new["key"]
        phone = ~new["online"] if h.online_queued else np.ones(key.size, bool)
        n_consult = consult_answered + self.consult_retries
        consult_phone = n_consult * (1 - self.cfg.world.demand.online_share) if h.online_queued else n_consult
        answer_rate, wait = self.load_figures(float(phone.sum() + consult_phone))
        lost = phone & ~s.bernoulli(answer_rate, "hotline.answered", key)
        retry = lost & s.bernoulli(h.retry_prob, "hotline.retry", key)
        gave_up = lost & ~retry
        if retry.any():
            again = {k: v[retry] for k, v in new.items()}
            again["key"] = s.key("hotline.retry.key", again["key"])
            self.schedule(again, np.full(int(retry.sum()), day + 1))
        if gave_up.any():
            model.citizens.update_after_contact(new["requester"][gave_up], np.full(int(gave_up.sum()),
                                                cit.unanswered_trust))
        # consultations answered at once are counts: unbiased keyed rounding of the lost share
        q_lost = consult_phone * (1 - answer_rate)
        q_lost = min(int(np.floor(q_lost + s.uniform("hotline.consult", day))), n_consult)
        q_retry = int(np.floor(q_lost * h.retry_prob + s.uniform("hotline.consult.retry", day)))
        self.consult_retries = min(q_retry, q_lost)
        answered = {k: v[~lost] for k, v in new.items()}
        self._count_townships(answered["township"], model.city.n_townships)
        figures = {"calls_offered": int(key.size + n_consult),
                   "phone_calls": float(phone.sum() + consult_phone), "answer_rate": answer_rate,
                   "mean_wait_seconds": wait, "calls_unanswered": int(lost.sum()) + q_lost,
                   "calls_given_up": int(gave_up.sum()) + q_lost - self.consult_retries}
        return answered, n_consult - q_lost, figures

    def _count_townships(self, township: np.ndarray, n: int) -> None:
        if self.requests_by_township is None:
            self.requests_by_township = np.zeros(n)
        self.requests_by_township += np.bincount(township.astype(np.int64), minlength=n)
