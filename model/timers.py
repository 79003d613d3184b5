"""Per-phase wall-clock timers for the daily loop (issue 13: where the time goes).

``Model(cfg, seed, timers=True)`` (or the environment variable ``JIESU_TIMERS=1``) gives the
model a :class:`PhaseTimers`; ``Model.step`` calls ``lap(name)`` after each mechanism call, so
each phase's time is the time since the previous lap. Off by default: then the model holds
:data:`NO_TIMERS`, whose ``lap`` does nothing. Timing never changes what the model does.
"""

from __future__ import annotations

import os
import time


class PhaseTimers:
    """Seconds and calls per phase, in the order the phases first ran."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._last = time.perf_counter()

    def start(self) -> None:
        """Start of a day: the first lap measures from here."""
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        """Book the time since the previous lap to ``name``."""
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self._last
        self.calls[name] = self.calls.get(name, 0) + 1
        self._last = now

    def table(self) -> list[dict]:
        """One row per phase: name, total seconds, share of the timed total, ms per call."""
        total = sum(self.seconds.values()) or 1.0
        return [{"phase": k, "seconds": s, "share": s / total, "ms_per_call": 1000 * s / self.calls[k]}
                for k, s in self.seconds.items()]

    def report(self) -> str:
        """The table as text, one line per mechanism call, slowest first."""
        rows = sorted(self.table(), key=lambda r: -r["seconds"])
        return "\n".join(f"  {r['phase']:<28} {r['seconds']:8.2f} s {100 * r['share']:5.1f}% "
                         f"{r['ms_per_call']:8.2f} ms/call" for r in rows)


class _NoTimers:
    """Timers switched off: every lap is a no-op."""

    def start(self) -> None:
        pass

    def lap(self, name: str) -> None:
        pass


NO_TIMERS = _NoTimers()


def make_timers(enabled: bool | None):
    """Timers if ``enabled`` (None: from the environment variable JIESU_TIMERS)."""
    if enabled is None:
        enabled = os.environ.get("JIESU_TIMERS", "") not in ("", "0")
    return PhaseTimers() if enabled else NO_TIMERS
