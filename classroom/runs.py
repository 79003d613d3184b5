"""The two runs of the classroom app, A and B in lockstep, and the model process that hosts them.

The page's server never imports the model. Mesa, SciPy, pandas and the model's own modules take
about a second of CPU to import; in a server thread that second holds the interpreter lock while
the first page is served (and a page that renders while pandas is half imported fails: reacton
looks pandas up by name). So the runs live in one separate process, ``classroom/worker.py``,
started when the app loads: it imports the model on the machine's other core while the browser
loads the page, and later steps the models while the server draws the plots. Each browser
session's pair of runs is a ``RemotePair`` there; ``Lockstep`` is the pair itself (in the model
process, and in tests). No solara and no model import at the top of this module: the server
imports it at start-up.
"""

from __future__ import annotations

import itertools
import os
import pickle
import queue
import subprocess
import sys
import threading
import weakref
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from classroom.text import name_of, t

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
START_FROM = {"fresh_2021": "final_2021.toml", "launch_2019": "reform_2019.toml",   # whose world and calendar
              "late_2021": "history_2019_2021.toml"}
REPLAYED = "late_2021"          # the start that continues the history replay's state (model/state.py)
STATES = Path(os.environ.get("JIESU_APP_STATES") or ROOT / "states")   # replayed states, made once per scale and seed
WINDOW, SMOOTH = 30, 7          # days: number boxes are 30-day means, curves 7-day means


@dataclass(frozen=True)
class Setup:
    """What the class chose: where both runs start, run A's rules, what run B changes."""

    start: str = "fresh_2021"
    rule_a: str = "final_2021.toml"
    b_mode: str = "rule_set"                  # "rule_set" or "lever"
    rule_b: str = "harsh_sanctions.toml"
    lever: str = "world.capacity.ratio"
    lever_value: float | bool = 0.8
    scale: float = 0.01
    seed: int = 1

    def arm_b_rules(self) -> str:
        return self.rule_b if self.b_mode == "rule_set" else self.rule_a

    def name(self, arm: str, lang: str = "en") -> str:
        if arm == "A" or self.b_mode == "rule_set":
            return name_of("rule_sets", self.rule_a if arm == "A" else self.rule_b, lang)
        v = self.lever_value
        shown = ("on" if v else "off") if isinstance(v, bool) else f"{v:g}"
        return f"{name_of('rule_sets', self.rule_a, lang)}, {t('lever:' + self.lever, lang)} = {shown}"


def start_overrides(start: str) -> dict:
    """The world and calendar a start stands for (all world.* keys and the start date of its scenario;
    for the replayed late 2021, the world as the replay's timeline leaves it)."""
    from experiments.rules_table import flatten
    from model.scenario import load_scenario

    cfg = load_scenario(SCENARIOS / START_FROM[start])
    world = replay_end_config(cfg).world if start == REPLAYED else cfg.world
    return {**flatten(world.model_dump(), "world."), "city.start_year": cfg.city.start_year,
            "city.start_month": cfg.city.start_month}


def replay_end_config(cfg):
    """The config in force at the end of a scenario with a timeline (its changes applied in order)."""
    from model.calendar import month_of
    from model.timeline import Timeline

    line, now = Timeline(cfg), cfg
    for month in range(month_of(cfg.city.days - 1) + 1):
        now = line.config_for(month, now) or now
    return now


_REPLAY_LOCK = threading.Lock()


def replay_state(scale: float, seed: int) -> Path:
    """The history replay to the end of November 2021 at the class's scale and seed, saved as a
    state file the first time it is asked for (about 15 s at scale 0.01) and reused after (a state
    records the model version: another model's is remade). One replay at a time in this process,
    so two students asking for the same one wait for one replay."""
    from model.model import Model
    from model.scenario import load_scenario
    from model.state import StateError, read_meta, save_state

    path = STATES / f"late_2021-scale{scale:g}-seed{seed}.state"
    with _REPLAY_LOCK:
        try:
            read_meta(path)              # exists and was written by this model version
            return path
        except StateError:
            pass
        cfg = load_scenario(SCENARIOS / START_FROM[REPLAYED], overrides={"city.scale": scale})
        return save_state(Model(cfg, seed=seed).run(cfg.city.days), path)


def configs(setup: Setup):
    """Validated configs of runs A and B: the start's world, each run's rules, the class's scale."""
    from model.scenario import load_scenario

    base = {**start_overrides(setup.start), "city.scale": setup.scale}
    a = load_scenario(SCENARIOS / setup.rule_a, overrides=base)
    extra = {setup.lever: setup.lever_value} if setup.b_mode == "lever" else {}
    b = load_scenario(SCENARIOS / setup.arm_b_rules(), overrides={**base, **extra})
    return a, b


# ---------------------------------------------------------------------------------------------
# What the page sees of a pair
@dataclass(frozen=True)
class CityInfo:
    """The few facts about the city the plots need (the model's City stays in the model process)."""

    n_townships: int
    unit_kind: np.ndarray
    unit_district: np.ndarray
    district_names: list
    district_zh: list

    @classmethod
    def of(cls, city) -> CityInfo:
        return cls(city.n_townships, np.asarray(city.unit_kind), np.asarray(city.unit_district),
                   list(city.district_names), list(city.district_zh))


@dataclass
class Snapshot:
    """Both runs' records since the pair started, as the plots and exports read them."""

    setup: Setup
    day: int
    daily_a: list
    daily_b: list
    units_a: list
    units_b: list
    city: CityInfo | None         # None only for a day-0 snapshot drawn before any run exists
    start_year: int = 2022
    start_month: int = 1
    start_day: int = 0            # the model's day when the pair started (late 2021: after the replay)

    def series(self, arm: str, column: str, window: int = SMOOTH) -> tuple[np.ndarray, np.ndarray]:
        """Days and the trailing ``window``-day mean of a daily column (NaN days skipped)."""
        rows = self.daily_a if arm == "A" else self.daily_b
        if column == "measured_true_gap":
            x = np.array([r["resolution_rate"] - r["true_resolution_rate"] for r in rows], float)
        else:
            x = np.array([r[column] for r in rows], float)
        ok = np.isfinite(x)
        c, n = np.cumsum(np.where(ok, x, 0.0)), np.cumsum(ok)
        c, n = np.concatenate([[0.0], c]), np.concatenate([[0], n])
        lo = np.maximum(np.arange(len(x)) + 1 - window, 0)
        cnt = n[1:] - n[lo]
        mean = np.where(cnt > 0, (c[1:] - c[lo]) / np.maximum(cnt, 1), np.nan)
        return np.arange(len(x)), mean

    def last(self, arm: str, column: str) -> float:
        """Mean of a daily column over the last 30 days (NaN before the first day)."""
        _, m = self.series(arm, column, WINDOW)
        return float(m[-1]) if len(m) else float("nan")

    def month_units(self, arm: str) -> dict | None:
        units = self.units_a if arm == "A" else self.units_b
        return units[-1] if units else None

    def calendar(self) -> str:
        """The calendar month of the pair's current day, '2021-12' (model/calendar.month_of)."""
        months = self.start_month - 1 + (self.start_day + self.day) * 12 // 365
        return f"{self.start_year + months // 12}-{months % 12 + 1:02d}"


# ---------------------------------------------------------------------------------------------
# The pair itself (in the model process)
class Lockstep:
    """Runs A and B of the model (two ``model.Model``, Mesa models) on one seed, one day each per step
    (common random numbers)."""

    def __init__(self, setup: Setup = Setup()):
        from model.model import Model

        self.setup = setup
        cfg_a, cfg_b = configs(setup)
        if setup.start == REPLAYED:      # both runs continue the replayed system of November 2021
            from model.state import load_state

            state = replay_state(setup.scale, setup.seed)
            self.a, self.b = load_state(state, cfg_a, seed=setup.seed), load_state(state, cfg_b, seed=setup.seed)
        else:
            self.a, self.b = Model(cfg_a, seed=setup.seed), Model(cfg_b, seed=setup.seed)
        self.start_day, self.start_month = self.a.day, len(self.a.unit_months)   # what came before the pair
        self.city = CityInfo.of(self.a.city)
        self.lock = threading.Lock()
        self._handed = (0, 0)            # daily rows and unit months already handed out by news()

    @property
    def day(self) -> int:
        """Days since the pair started (the model's own calendar may run from an earlier start)."""
        return self.a.day - self.start_day

    def step(self) -> None:
        with self.lock:
            self.a.step()
            self.b.step()

    def snapshot(self) -> Snapshot:
        """What the plots need, copied under the lock (the runs may go on in another thread)."""
        with self.lock:
            d, m = self.start_day, self.start_month
            return Snapshot(self.setup, self.day, self.a.daily[d:], self.b.daily[d:], self.a.unit_months[m:],
                            self.b.unit_months[m:], self.city, self.a.cfg.city.start_year,
                            self.a.cfg.city.start_month, d)

    def facts(self) -> dict:
        """What the page keeps of the pair for good: the city, where the pair starts in the model's calendar."""
        return {"city": self.city, "start_day": self.start_day, "start_year": self.a.cfg.city.start_year,
                "start_month": self.a.cfg.city.start_month}

    def news(self) -> dict:
        """The daily records and assessed months of both runs not yet handed out (a month's record is
        complete when the day that ends it is: model.Model.month_end)."""
        with self.lock:
            rows, months = self._handed
            d, m = self.start_day + rows, self.start_month + months
            out = {"day": self.day, "daily_a": self.a.daily[d:], "daily_b": self.b.daily[d:],
                   "units_a": self.a.unit_months[m:], "units_b": self.b.unit_months[m:]}
            self._handed = (len(self.a.daily) - self.start_day, len(self.a.unit_months) - self.start_month)
            return out


# ---------------------------------------------------------------------------------------------
# The model process, seen from the server
class ModelProcessError(RuntimeError):
    pass


class ModelProcess:
    """The process that hosts the runs (``python -m classroom.worker``): requests go down its stdin and
    answers come back on its stdout, pickled; a reader thread gives each answer to its request's Future."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "classroom.worker"], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._ids, self._pair_ids = itertools.count(1), itertools.count(1)
        self._waiting: dict[int, tuple[Future, object]] = {}
        self._lock = threading.Lock()
        self._drops: queue.SimpleQueue = queue.SimpleQueue()   # pairs to drop, sent before the next request
        self.ended: str | None = None
        threading.Thread(target=self._read, name="jiesu-app-model-answers", daemon=True).start()

    def new_pair_id(self) -> int:
        return next(self._pair_ids)

    def drop_later(self, pair: int) -> None:
        """Drop a pair with the next request (safe in a finalizer, which may run inside ``request``)."""
        self._drops.put(pair)

    def request(self, op: str, pair: int | None = None, arg=None, then=None) -> Future:
        """Send one request (after the drops waiting); the Future gets the answer (passed through ``then`` in
        the reader thread first). Without ``op`` only the drops are sent."""
        fut: Future = Future()
        with self._lock:
            if self.ended is None:
                try:
                    while not self._drops.empty():
                        pickle.dump((0, "drop", self._drops.get(), None), self.proc.stdin)   # answer 0: nobody waits
                    if op is not None:
                        rid = next(self._ids)
                        self._waiting[rid] = (fut, then)
                        pickle.dump((rid, op, pair, arg), self.proc.stdin)
                    self.proc.stdin.flush()
                    return fut
                except OSError:
                    self.ended = "its input closed"
        fut.set_exception(ModelProcessError(f"the model process has ended ({self.ended}): press New run"))
        return fut

    def _read(self):
        try:
            while True:
                rid, ok, value = pickle.load(self.proc.stdout)
                with self._lock:
                    fut, then = self._waiting.pop(rid, (None, None))
                if fut is None:                                  # a drop's answer
                    continue
                if ok and then is not None:
                    then(value)
                fut.set_result(value) if ok else fut.set_exception(value)
        except (EOFError, OSError, pickle.UnpicklingError):
            pass
        with self._lock:
            self.ended = f"exit code {self.proc.wait()}"
            waiting, self._waiting = self._waiting, {}
        for fut, _ in waiting.values():
            fut.set_exception(ModelProcessError(f"the model process has ended ({self.ended}): press New run"))

    def close(self):
        """End the process (it also ends by itself when the server's end of its input closes)."""
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


_PROCESS: list[ModelProcess] = []
_PROCESS_LOCK = threading.Lock()


def model_process() -> ModelProcess:
    """The server's model process, started on first use (the app starts it when it loads) and again
    if it has ended."""
    with _PROCESS_LOCK:
        if not _PROCESS or _PROCESS[0].ended is not None:
            _PROCESS[:] = [ModelProcess()]
        return _PROCESS[0]


@dataclass
class _Received:
    daily_a: list = field(default_factory=list)
    daily_b: list = field(default_factory=list)
    units_a: list = field(default_factory=list)
    units_b: list = field(default_factory=list)


class RemotePair:
    """A session's pair of runs in the model process, as the page sees it: ``step`` and ``snapshot`` like
    a ``Lockstep``, from the records received so far. Built when the model process has built the pair
    (the first one waits for the model's imports there); dropped there when closed or collected."""

    def __init__(self, setup: Setup, process: ModelProcess | None = None):
        self.setup, self.process = setup, process or model_process()
        self.id = self.process.new_pair_id()
        facts = self.process.request("new", self.id, setup).result()
        self.city, self.start_day = facts["city"], facts["start_day"]
        self.start_year, self.start_month = facts["start_year"], facts["start_month"]
        self.day, self._got, self._lock = 0, _Received(), threading.Lock()
        self.seconds_per_day = 0.03           # the model process's recent time for one day of both runs
        self._drop = weakref.finalize(self, self.process.drop_later, self.id)

    def _receive(self, news: dict) -> None:
        with self._lock:
            for name in ("daily_a", "daily_b", "units_a", "units_b"):
                getattr(self._got, name).extend(news[name])
            self.day = news["day"]
            if news.get("days"):
                self.seconds_per_day = 0.5 * self.seconds_per_day + 0.5 * news["seconds"] / news["days"]

    def step_async(self, days: int = 1) -> Future:
        """Ask for ``days`` more days of both runs; the records are in when the Future is done."""
        return self.process.request("step", self.id, days, then=self._receive)

    def step(self, days: int = 1) -> None:
        self.step_async(days).result()

    def snapshot(self) -> Snapshot:
        with self._lock:
            g = self._got
            return Snapshot(self.setup, self.day, list(g.daily_a), list(g.daily_b), list(g.units_a),
                            list(g.units_b), self.city, self.start_year, self.start_month, self.start_day)

    def close(self) -> None:
        """Drop the pair in the model process (a session that ends or starts a new run)."""
        self._drop()
        self.process.request(None)
