"""Command-line helpers shared by every ``jiesu`` sub-command: the one-line error, argument types.

Standard library only (plus the one-line base class ``model.errors.InputError``), so that
building the parser, ``jiesu --help`` and the refusal of a bad flag import nothing heavy.
"""

from __future__ import annotations

import argparse

from model.errors import InputError

EXIT_BAD_INPUT = 2


class CliError(InputError):
    """A user error on the command line: printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse that reports bad flags as one line and exit code 2."""

    def error(self, message):  # noqa: D401
        raise CliError(f"{self.prog}: {message}")


def positive_scale(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--scale must be a number in (0, 1], got {text!r}") from None
    if not 0 < v <= 1:
        raise argparse.ArgumentTypeError(f"--scale must be in (0, 1], got {v}")
    return v


def positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {v}")
    return v


def seed_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed must be a whole number >= 0, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"--seed must be >= 0, got {v}")
    return v


def parse_value(text: str):
    """A --set value as TOML would read it (number, bool, string, list)."""
    import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def scenario_overrides(args) -> dict:
    """Dotted overrides from ``--scale``, ``--days`` and every ``--set KEY=VALUE``."""
    o = {}
    if getattr(args, "scale", None) is not None:
        o["city.scale"] = args.scale
    if getattr(args, "days", None) is not None:
        o["city.days"] = args.days
    for item in getattr(args, "set", None) or []:
        if "=" not in item:
            raise CliError(f"--set {item!r}: expected KEY=VALUE (a dotted scenario key)")
        k, v = item.split("=", 1)
        o[k.strip()] = parse_value(v.strip())
    return o


def add_executor_flags(p, workers_help: str) -> None:
    """Where runs execute (experiments/executors.py): one of --workers, --dask-local, --scheduler, --serial."""
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=positive_int, metavar="N", help=workers_help)
    where.add_argument("--dask-local", type=positive_int, metavar="N", help="start a Dask LocalCluster of N workers")
    where.add_argument("--scheduler", metavar="ADDR", help="use a running Dask scheduler, e.g. tcp://10.0.0.5:8786")
    where.add_argument("--serial", action="store_true", help="run in this process, one after another")


def check_out_folder(out, flag: str = "--out") -> None:
    """Refuse, before anything runs, an output folder that could never be created or written.

    ``out`` may exist (then it must be a folder) or not (then its nearest existing ancestor
    must be a folder this process may write into), so that a long run never ends in a
    traceback at the last step.
    """
    import os
    from pathlib import Path

    out = Path(out)
    if out.exists():
        if not out.is_dir():
            raise CliError(f"{flag} {out}: exists and is not a folder")
        where = out
    else:
        where = out.absolute().parent
        while not where.exists() and where != where.parent:
            where = where.parent
        if not where.is_dir():
            raise CliError(f"{flag} {out}: {where} is a file, not a folder, so the folder cannot be made")
    if not os.access(where, os.W_OK | os.X_OK):
        raise CliError(f"{flag} {out}: {where} is not writable (permission denied)")


def check_state_target(path) -> None:
    """Refuse, before the run, a --save-state path that could never be written."""
    from pathlib import Path

    p = Path(path)
    if p.is_dir():
        raise CliError(f"--save-state {path}: is a directory; name a file (e.g. late_2021.state)")
    check_out_folder(p.absolute().parent, "--save-state")
