"""Loading scenario files: TOML, ``extends`` chains, dotted overrides, one-line errors.

A scenario file may say ``extends = "other.toml"`` (relative to itself); the child's
tables are merged over the parent's, key by key. Overrides given in code or on the
command line use dotted keys (``{"city.scale": 0.05}``). Whatever is wrong is reported as
one :class:`ScenarioError` line naming the file, the key path and what is allowed.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .config import Config
from .errors import InputError

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"


class ScenarioError(InputError):
    """Bad scenario input; ``str(err)`` is the one line shown to the user (exit code 2)."""


def deep_merge(base: dict, top: dict) -> dict:
    """Merge ``top`` over ``base`` table by table (lists and values replace)."""
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


MAX_FILE_BYTES = 1 << 20
"""Largest scenario or sweep spec file read (1 MiB; the shipped ones are under 5 kB, a fully
resolved ``config.toml`` about 10 kB): anything bigger is the wrong file, not a scenario."""


def read_text(path: str | Path, what: str = "scenario file") -> str:
    """The UTF-8 text of a small TOML input file, or a one-line ScenarioError saying what is wrong.

    Refused, each naming the file: missing, a directory or other non-regular file (a FIFO or
    device is never opened), unreadable (permissions), empty, larger than MAX_FILE_BYTES,
    UTF-16, binary (NUL bytes) or not UTF-8. A UTF-8 byte-order mark (Windows editors) is dropped.
    """
    import os
    import stat

    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ScenarioError(f"{path}: file not found") from None
    except (OSError, ValueError) as err:         # ENOTDIR, ENAMETOOLONG, ELOOP, EACCES on a parent, NUL in name
        raise ScenarioError(f"{path}: cannot be read ({_reason(err)})") from None
    if stat.S_ISDIR(st.st_mode):
        raise ScenarioError(f"{path}: is a directory, not a {what}")
    if not stat.S_ISREG(st.st_mode):
        raise ScenarioError(f"{path}: is not a regular file (a device, pipe or socket), not a {what}")
    if st.st_size > MAX_FILE_BYTES:
        raise ScenarioError(f"{path}: is {st.st_size / 2**20:.1f} MiB; a {what} is at most "
                            f"{MAX_FILE_BYTES // 2**20} MiB of TOML text (is it the right file?)")
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)     # a file growing after the stat is still bounded
    except OSError as err:
        raise ScenarioError(f"{path}: cannot be read ({_reason(err)})") from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(f"{path}: is larger than {MAX_FILE_BYTES // 2**20} MiB; a {what} is TOML text")
    if not data.strip():
        raise ScenarioError(f"{path}: is empty; a {what} is TOML text")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise ScenarioError(f"{path}: is UTF-16 text (a Windows 'Unicode' file); save the {what} as UTF-8")
    if b"\x00" in data:
        raise ScenarioError(f"{path}: is a binary file (it holds NUL bytes), not a {what} (TOML text)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ScenarioError(f"{path}: is not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}); "
                            f"save the {what} as UTF-8") from None
    return text.removeprefix("\ufeff")


def _reason(err: Exception) -> str:
    if isinstance(err, PermissionError):
        return "permission denied"
    if isinstance(err, OSError) and err.strerror:
        return err.strerror[0].lower() + err.strerror[1:]
    return str(err)


def read_toml(path: str | Path, what: str = "scenario file") -> dict:
    """A TOML input file as a dict (checked as :func:`read_text`); a syntax error is one line too."""
    text = read_text(path, what)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{path}: TOML syntax error: {err}") from None
    if not data:
        raise ScenarioError(f"{path}: has no settings (only comments or blank lines); a {what} needs at least "
                            f"one key")
    return data


def read_chain(path: Path, seen: tuple[Path, ...] = ()) -> dict:
    """Read a scenario file and everything it extends, merged (child wins)."""
    raw = read_toml(path)            # first: a path that cannot be read (even a symlink loop) is one line
    path = path.resolve()
    if path in seen:
        chain = " -> ".join(p.name for p in (*seen, path))
        raise ScenarioError(f"{seen[0]}: extends: circular chain {chain}")
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise ScenarioError(f"{path}: extends: must be a file name (string), got {type(parent).__name__}")
    parent_path = (path.parent / parent)
    if not (parent_path.exists() or parent_path.is_symlink()):
        raise ScenarioError(f"{path}: extends: file not found: {parent}")
    return deep_merge(read_chain(parent_path, (*seen, path)), raw)


def dotted_to_nested(overrides: dict[str, Any]) -> dict:
    """Turn ``{"a.b.c": 1}`` into ``{"a": {"b": {"c": 1}}}``."""
    nested: dict = {}
    for key, value in overrides.items():
        parts = key.split(".")
        node = nested
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ScenarioError(f"overrides: {key}: {part} is a value, not a table")
        node[parts[-1]] = value
    return nested


def _explain(err: ValidationError, source: str) -> ScenarioError:
    """One line for the first validation problem: file, key path, what is allowed."""
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    kind, msg = first["type"], first["msg"]
    if kind == "extra_forbidden":
        msg = "unknown key (not part of the scenario schema; see docs/rules.md)"
    elif "input" in first and kind not in ("value_error", "assertion_error"):
        msg = f"{msg} (got {first['input']!r})"
    if kind == "value_error":
        msg = msg.removeprefix("Value error, ")
        head, sep, rest = msg.partition(": ")
        if sep and "." in head and " " not in head:    # a cross-field rule names its own key path
            loc, msg = head, rest
    return ScenarioError(f"{source}: {loc or '(top level)'}: {msg}")


def validate(data: dict, source: str = "<config>") -> Config:
    """Validate a nested dict into a :class:`Config`, raising a one-line ScenarioError."""
    try:
        cfg = Config.model_validate(data)
    except ValidationError as err:
        raise _explain(err, source) from None
    from .timeline import refused_key

    for entry in cfg.timeline:  # each timeline step must itself be a valid scenario
        key = refused_key(entry.overrides)
        if key is not None:
            raise ScenarioError(f"{source}: timeline month {entry.month}: {key}: is read only when the model is "
                                "built; a timeline cannot change it (change it in the scenario itself)")
        try:
            Config.model_validate(deep_merge(data, dotted_to_nested(entry.overrides)))
        except ValidationError as err:
            e = _explain(err, source)
            raise ScenarioError(f"{e} (in timeline month {entry.month})") from None
        except ScenarioError as err:
            raise ScenarioError(f"{source}: timeline month {entry.month}: {err}") from None
    return cfg


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Config:
    """Load, merge and validate a scenario file, applying dotted ``overrides`` last."""
    path = Path(path)
    if not path.exists() and not path.is_absolute() and (SCENARIO_DIR / path).exists():
        path = SCENARIO_DIR / path
    data = read_chain(path)
    data.setdefault("name", path.stem)
    if overrides:
        data = deep_merge(data, dotted_to_nested(overrides))
    return validate(data, str(path))


def with_overrides(cfg: Config, overrides: dict[str, Any]) -> Config:
    """A copy of ``cfg`` with dotted overrides applied and re-validated."""
    data = deep_merge(cfg.model_dump(mode="json"), dotted_to_nested(overrides))
    return validate(data, cfg.name)


def config_hash(cfg: Config) -> str:
    """Stable hash of the resolved config (provenance, run ids)."""
    blob = json.dumps(cfg.model_dump(mode="json"), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def to_toml(cfg: Config) -> str:
    """The fully resolved scenario as TOML text."""
    import tomli_w

    return tomli_w.dumps(cfg.model_dump(mode="json", exclude_none=True))
