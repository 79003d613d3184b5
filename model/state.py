"""Saving the whole model state and starting a run from it (``jiesu run --save-state / --from-state``).

A state file lets a counterfactual start from where the system is (for example the history
replay's November 2021) instead of from a fresh start. It is data only: a zip archive
holding ``meta.json`` (format name and version, model version, seed, day, the config in
force and the scenario's config hash, the layout of the saved arrays) and ``arrays.npz``
(every array of every mechanism's state, read back with ``allow_pickle=False``). Nothing
in a state file is ever executed or unpickled, so opening one from someone else is safe.

What is saved is each mechanism's own state, found by walking the attributes of the
mechanisms (:func:`holders`): arrays, numbers, strings, and lists, tuples and dicts of
them; the work-order store; the coordination network; the city's daily record and the
monthly unit table (so a continued run's tables equal those of the run that never
stopped). Structure that the scenario builds (the city, the categories, the config, the
random streams) is not saved but rebuilt and checked: a state from another model version,
another scale or a scenario whose set-up keys differ (timeline.SETUP_ONLY) is refused in
one line.

Continuing with the same scenario resumes exactly (same config in force, same timeline
position). Starting another scenario from a state makes its rules (and world) take effect
from the state's day: the model's calendar continues, the new scenario's config, with its
timeline entries up to the current month, is handed to every mechanism through
``Model.reconfigure``.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

import numpy as np

from .errors import InputError

FORMAT = "jiesu-state"
FORMAT_VERSION = 1
# model attributes that are not mechanisms whose state is walked (saved apart or rebuilt)
NOT_HOLDERS = {"orders", "city", "streams", "cfg", "base_cfg", "timers"}   # timers: model/timers.py, not state
# attributes rebuilt from the scenario (structure, config, random streams), never saved
REBUILT = {"city", "cfg", "base", "_streams", "streams", "graph", "_graph",
           "_thresholds"}   # Citizens' search keys, derived from the population at set-up
MAX_META_BYTES = 50_000_000


class StateError(InputError):
    """A state file that cannot be used; ``str(err)`` is one line (exit code 2)."""


# ---------------------------------------------------------------------------------- encoding
class _Encoder:
    """Turns nested Python/numpy values into JSON plus a dict of named arrays."""

    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}

    def encode(self, value, path: str):
        if isinstance(value, np.ndarray):
            if value.dtype.hasobject:
                raise TypeError(f"{path}: object arrays cannot be saved without pickle")
            self.arrays[path] = value
            return {"a": path}
        if isinstance(value, np.generic):
            return {"n": value.dtype.str, "v": value.item()}
        if value is None or isinstance(value, (bool, int, float, str)):
            return {"v": value}
        if isinstance(value, dict):
            return {"d": [[self.encode(k, f"{path}.k{i}"), self.encode(v, f"{path}.{i}")]
                          for i, (k, v) in enumerate(value.items())]}
        if isinstance(value, (list, tuple)):
            return {"l" if isinstance(value, list) else "t": [self.encode(v, f"{path}.{i}") for i, v in enumerate(value)]}
        if type(value).__module__.startswith("model.") and hasattr(value, "__dict__"):
            # a part of a mechanism (e.g. the units' beliefs): its attributes, restored into the rebuilt part
            return {"o": type(value).__name__,
                    "attrs": {k: self.encode(v, f"{path}.{k}") for k, v in _mechanism_state(value).items()}}
        raise TypeError(f"{path}: cannot save a {type(value).__name__}")


def _decode(node, arrays, into=None):
    if "o" in node:                 # attributes of a part that the rebuilt model already has
        if into is None or type(into).__name__ != node["o"]:
            raise StateError(f"the state holds a {node['o']} where this model has {type(into).__name__}")
        for k, v in node["attrs"].items():
            setattr(into, k, _decode(v, arrays, getattr(into, k, None)))
        return into
    if "a" in node:
        return arrays[node["a"]]
    if "n" in node:
        return np.dtype(node["n"]).type(node["v"])
    if "v" in node:
        return node["v"]
    if "d" in node:
        return {_decode(k, arrays): _decode(v, arrays) for k, v in node["d"]}
    if "l" in node:
        return [_decode(v, arrays) for v in node["l"]]
    return tuple(_decode(v, arrays) for v in node["t"])


def _mechanism_state(obj) -> dict:
    """The saved attributes of one mechanism: everything but what the scenario rebuilds."""
    return {k: v for k, v in vars(obj).items() if k not in REBUILT and not _is_structure(v)}


def _is_structure(value) -> bool:
    from .config import Config
    from .world import Categories, City

    return isinstance(value, (Config, City, Categories)) or type(value).__name__ == "Streams"


def holders(model) -> list[str]:
    """The model's mechanisms (every attribute that is an object of this package), walked
    attribute by attribute, so a mechanism added later is saved without being listed here."""
    return sorted(k for k, v in vars(model).items()
                  if k not in NOT_HOLDERS and type(v).__module__.startswith("model.") and hasattr(v, "__dict__"))


def layout(model) -> dict[str, str]:
    """Name, dtype and dimensions of each mechanism's top-level arrays: what must match to restore."""
    out = {}
    for h in holders(model):
        for k, v in _mechanism_state(getattr(model, h)).items():
            if isinstance(v, np.ndarray):
                out[f"{h}.{k}"] = f"{v.dtype.str}x{v.ndim}"     # shapes follow the structure, checked apart
            elif v is None:
                out[f"{h}.{k}"] = "none"                       # an array not made yet
    return out


# set-up keys whose values the saved state replaces (initial conditions): they may differ
INITIAL_CONDITIONS = ("city.days", "city.start_month", "city.start_year",
                      "world.sources.calibration_resolution",
                      "world.citizens.initial_trust", "world.citizens.initial_expectation",
                      "world.capacity.township_load_spread", "world.capacity.unit_load_spread",
                      "world.behaviour.effort_resolve", "world.behaviour.effort_satisfy",
                      "world.behaviour.effort_game", "world.behaviour.effort_proactive",
                      "world.behaviour.effort_heterogeneity")


def structure(cfg) -> dict:
    """The set-up keys that build the city, its residents and its demand (timeline.SETUP_ONLY
    less the initial conditions a state replaces): a state fits only the same structure."""
    from .timeline import setup_only

    flat = {}

    def walk(d, prefix=""):
        for k, v in d.items():
            key = f"{prefix}{k}"
            if isinstance(v, dict):
                walk(v, key + ".")
            elif setup_only(key) and key not in INITIAL_CONDITIONS:
                flat[key] = v

    walk(cfg.model_dump(mode="json", exclude={"timeline"}))
    return flat


def model_version() -> str:
    """The package version and a fingerprint of the model's code and data: a state is refused
    by any other model, since what its arrays mean may have changed."""
    import hashlib

    try:
        version = metadata.version("jiesu")
    except metadata.PackageNotFoundError:
        version = "unknown"
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for f in sorted([*here.glob("*.py"), *(here / "data").glob("*")]):
        if f.is_file():
            h.update(f.name.encode() + b"\0" + f.read_bytes())
    return f"{version}+{h.hexdigest()[:12]}"


# ---------------------------------------------------------------------------------- save
def save_state(model, path: str | Path) -> Path:
    """Write the whole state of ``model`` to ``path`` atomically (temp file, then rename)."""
    from .scenario import config_hash

    path = Path(path)
    enc = _Encoder()
    wo = model.orders
    network = _graph_to_json(model.coordination.graph)    # first: reading the graph writes its pending months
    state = {h: enc.encode(_mechanism_state(getattr(model, h)), h) for h in holders(model)}
    state["orders"] = enc.encode({"n": wo.n, "open_idx": wo.open_idx,
                                  "columns": {k: getattr(wo, k) for k in wo._cols}}, "orders")
    state["daily"] = enc.encode(model.daily, "daily")
    state["unit_months"] = enc.encode(model.unit_months, "unit_months")
    state["network"] = network
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "model_version": model_version(),
            "seed": model.seed, "day": model.day, "scenario": model.base_cfg.name,
            "config_hash": config_hash(model.base_cfg),
            "base_config": model.base_cfg.model_dump(mode="json"),
            "config_in_force": model.cfg.model_dump(mode="json"),
            "structure": structure(model.base_cfg), "layout": layout(model), "state": state}
    buf = io.BytesIO()
    np.savez_compressed(buf, **enc.arrays)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".state", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w") as z:
            z.writestr("meta.json", json.dumps(meta), compress_type=zipfile.ZIP_DEFLATED)
            z.writestr("arrays.npz", buf.getvalue(), compress_type=zipfile.ZIP_STORED)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)        # mkstemp makes it private; a state is shared like results
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _graph_to_json(g) -> dict:
    import networkx as nx

    def plain(x):
        return x.item() if isinstance(x, np.generic) else x

    data = nx.node_link_data(g, edges="edges")
    for part in ("nodes", "edges"):
        data[part] = [{k: plain(v) for k, v in item.items()} for item in data[part]]
    return data


# ---------------------------------------------------------------------------------- load
def _open(path: str | Path) -> tuple[dict, zipfile.ZipFile]:
    """Check the file is a state file of this format and model version; its metadata and archive."""
    p = Path(path)
    where = f"--from-state {path}"
    if not p.exists():
        raise StateError(f"{where}: no such file")
    if p.is_dir():
        raise StateError(f"{where}: is a directory, not a state file")
    try:
        z = zipfile.ZipFile(p)
        names = set(z.namelist())
        if not {"meta.json", "arrays.npz"} <= names:
            raise StateError(f"{where}: not a jiesu state file (needs meta.json and arrays.npz)")
        if z.getinfo("meta.json").file_size > MAX_META_BYTES:
            raise StateError(f"{where}: meta.json is larger than {MAX_META_BYTES} bytes")
        meta = json.loads(z.read("meta.json").decode("utf-8"))
    except StateError:
        raise
    except PermissionError:
        raise StateError(f"{where}: cannot be read (permission denied)") from None
    except (zipfile.BadZipFile, OSError, EOFError):
        raise StateError(f"{where}: not a jiesu state file (not a zip archive, or damaged)") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise StateError(f"{where}: meta.json is not valid JSON text") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise StateError(f"{where}: not a jiesu state file (format is not {FORMAT!r})")
    if meta.get("format_version") != FORMAT_VERSION:
        raise StateError(f"{where}: state format version {meta.get('format_version')}, this model reads "
                         f"version {FORMAT_VERSION}; remake the state with this version")
    if meta.get("model_version") != model_version():
        raise StateError(f"{where}: written by model version {meta.get('model_version')}, this is "
                         f"{model_version()}; remake the state with this version")
    for key in ("seed", "day", "scenario", "config_hash", "base_config", "config_in_force", "structure", "layout",
                "state"):
        if key not in meta:
            raise StateError(f"{where}: meta.json has no {key!r}; not a complete state file")
    return meta, z


def read_meta(path: str | Path) -> dict:
    """The metadata of a state file, after checking it is one this model can read."""
    meta, z = _open(path)
    z.close()
    return meta


def state_scale(path: str | Path) -> float:
    """The city.scale a state was made at (a run from it takes that scale unless told otherwise)."""
    meta, z = _open(path)
    z.close()
    return float(meta["structure"]["city.scale"])


def read_state(path: str | Path) -> tuple[dict, dict]:
    """The metadata and arrays of a state file; any problem is one line (StateError)."""
    meta, z = _open(path)
    try:
        with z, np.load(io.BytesIO(z.read("arrays.npz")), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile):
        raise StateError(f"--from-state {path}: arrays.npz is damaged or holds objects "
                         f"(only plain arrays are read)") from None
    return meta, arrays


def check_structure(meta: dict, cfg, where: str, whose: str = "the scenario") -> None:
    """Refuse a config whose set-up keys (:func:`structure`) differ from the state's."""
    want, have = meta["structure"], structure(cfg)
    diff = sorted(k for k in set(want) | set(have) if want.get(k) != have.get(k))
    if diff:
        k = diff[0]
        raise StateError(f"{where}: the state was made with {k} = {want.get(k)!r}, {whose} has "
                         f"{have.get(k)!r}; a state continues only a scenario with the same set-up")


def load_state(path: str | Path, cfg, seed: int | None = None):
    """A model that continues from the state in ``path`` under scenario ``cfg``.

    Same scenario (config hash) and seed: resumes exactly. Another scenario: its config,
    with its timeline up to the state's month, takes effect from the state's day. Another
    ``seed``: the same state, with the random draws from today on taken from that seed
    (replicates from one state)."""
    from .model import Model
    from .scenario import config_hash, validate

    meta, arrays = read_state(path)
    where = f"--from-state {path}"
    check_structure(meta, cfg, where)
    cal = {k: meta["base_config"]["city"][k] for k in ("start_year", "start_month")}
    if any(getattr(cfg.city, k) != v for k, v in cal.items()):   # the calendar is the state's
        cfg = validate({**cfg.model_dump(mode="json"), "city": {**cfg.city.model_dump(mode="json"), **cal}}, cfg.name)
    # the city and everything seeded at set-up come from the state's seed; later draws from ``seed``
    m = Model(cfg, seed=meta["seed"])
    fresh, saved = layout(m), meta["layout"]
    bad = sorted(k for k in set(fresh) | set(saved)
                 if k not in fresh or k not in saved or ("none" not in (fresh[k], saved[k]) and fresh[k] != saved[k]))
    if bad:
        raise StateError(f"{where}: the saved state's {bad[0]} does not fit this model; remake the state")
    saved_in_force = validate(meta["config_in_force"], meta["scenario"])
    same = config_hash(cfg) == meta["config_hash"]
    _restore(m, meta, arrays, saved_in_force)
    if seed is not None and int(seed) != m.seed:     # a replicate from the same state: new random streams
        from .streams import Streams

        m.seed = int(seed)
        m.streams = m.units._streams = Streams(m.seed)
    if same:
        return m
    # another scenario: its config in force at the state's month, from today on (Model.reconfigure)
    from .timeline import Timeline

    m.timeline = Timeline(cfg)
    new = cfg
    for month in range(m.month + 1):
        new = m.timeline.config_for(month, new) or new
    if new.timeline:
        new = validate({**new.model_dump(mode="json"), "timeline": []}, cfg.name)
    m.reconfigure(new)
    return m


def _restore(m, meta: dict, arrays: dict, in_force) -> None:
    """Overwrite a freshly built model's state with the saved one (arrays copied: writable)."""
    import networkx as nx

    from .orders import WorkOrders

    arrays = {k: np.array(v) for k, v in arrays.items()}
    st = meta["state"]
    for h in holders(m):
        obj = getattr(m, h)
        for k, node in st[h]["d"]:
            name = _decode(k, arrays)
            setattr(obj, name, _decode(node, arrays, getattr(obj, name, None)))
        if hasattr(obj, "cfg"):
            obj.cfg = in_force       # each mechanism compares a new config with the one it holds
    orders = _decode(st["orders"], arrays)
    wo = WorkOrders(max(orders["n"] * 2, m.orders._cap))
    if orders["n"]:
        wo.add(**orders["columns"])
    wo.open_idx = orders["open_idx"].astype(np.int64)
    m.orders = wo
    m.coordination.graph = nx.node_link_graph(st["network"], edges="edges")
    m.daily = _decode(st["daily"], arrays)
    m.unit_months = _decode(st["unit_months"], arrays)
    m.day = int(meta["day"])
    m.cfg = in_force
