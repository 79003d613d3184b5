"""The ``jiesu`` command: run, validate, app, and (from experiments/) compare, sweep, sensitivity, calibrate.

Bad input of any kind ends with one line on stderr and exit code 2, nothing written.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

EXIT_BAD_INPUT = 2


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


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


def scenario_overrides(args) -> dict:
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


def parse_value(text: str):
    """A --set value as TOML would read it (number, bool, string, list)."""
    import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def print_summary(summary: dict) -> None:
    from .results import SUMMARY_LABELS

    width = max(len(v) for v in SUMMARY_LABELS.values())
    for key, label in SUMMARY_LABELS.items():
        v = summary.get(key)
        txt = "n/a" if v is None else (f"{v:,.3f}" if isinstance(v, float) else f"{v:,}")
        print(f"  {label:<{width}}  {txt:>14}")


def cmd_run(args) -> int:
    from tqdm import tqdm

    from . import Model, load_scenario
    from .results import check_out_dir

    cfg = load_scenario(args.scenario, scenario_overrides(args))
    out = Path(args.out) if args.out else Path("results") / f"{cfg.name}-{datetime.now():%Y%m%d-%H%M%S}"
    check_out_dir(out)          # refuse before a long run, not after
    t0 = time.perf_counter()
    model = Model(cfg, seed=args.seed)
    with tqdm(total=cfg.city.days, desc=f"{cfg.name} (scale {cfg.city.scale})", unit="day",
              disable=args.quiet) as bar:
        model.run(cfg.city.days, progress=bar)
    res = model.results()
    res.write(out, plot=not args.no_plot)
    if args.network:
        from .network import export_network

        export_network(model.network, out / "network.graphml")
    print(f"{cfg.name}: {cfg.city.days} days at scale {cfg.city.scale}, seed {args.seed}, "
          f"{time.perf_counter() - t0:.1f} s")
    print_summary(res.summary)
    print(f"results written to {out}")
    return 0


def cmd_validate(args) -> int:
    from . import load_scenario

    for path in args.scenarios:
        cfg = load_scenario(path)
        print(f"{path}: ok ({cfg.name})")
    return 0


def cmd_app(args) -> int:
    """Serve app.py with solara (this process becomes the server and runs until interrupted)."""
    import importlib.util
    import os

    if importlib.util.find_spec("solara") is None:
        raise CliError("jiesu app needs the [app] extra (solara): pip install -e '.[app]'")
    path = Path(__file__).resolve().parents[1] / "app.py"
    if not path.exists():
        raise CliError(f"{path}: not found (jiesu app runs from a source checkout of the project)")
    cmd = [sys.executable, "-m", "solara", "run", str(path), "--production", "--port", str(args.port),
           "--host", args.host, "--open" if args.open else "--no-open"]
    print(f"classroom app: http://{args.host}:{args.port}  (Ctrl-C stops it)", flush=True)
    os.execv(sys.executable, cmd)       # the server replaces this process: one process to stop


def build_parser() -> Parser:
    p = Parser(prog="jiesu", description="Simulate Beijing's 接诉即办 system and compare its assessment rules.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    r = sub.add_parser("run", help="run one scenario and write its results")
    r.add_argument("scenario", help="scenario TOML file (e.g. scenarios/final_2021.toml)")
    r.add_argument("--days", type=positive_int, help="days to simulate (default: the scenario's city.days)")
    r.add_argument("--scale", type=positive_scale, help="share of Beijing's population, in (0, 1]")
    r.add_argument("--seed", type=seed_int, default=0, help="random seed (default 0)")
    r.add_argument("--out", help="output directory (default results/<scenario>-<timestamp>)")
    r.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a scenario key, e.g. rules.audit.sample_share=0.1")
    r.add_argument("--network", action="store_true", help="also export the coordination network (GraphML)")
    r.add_argument("--no-plot", action="store_true", help="skip overview.png")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(func=cmd_run)
    v = sub.add_parser("validate", help="check scenario files against the schema")
    v.add_argument("scenarios", nargs="+")
    v.set_defaults(func=cmd_validate)
    a = sub.add_parser("app", help="the classroom app in the browser (Mesa SolaraViz; needs the [app] extra)")
    a.add_argument("--port", type=positive_int, default=8765, help="port (default 8765)")
    a.add_argument("--host", default="localhost", help="host to listen on (default localhost; 0.0.0.0 for a classroom network)")
    a.add_argument("--open", action="store_true", help="open a browser tab")
    a.set_defaults(func=cmd_app)
    for module in ("experiments.commands", "experiments.compare"):   # sweep, sensitivity, compare, calibrate
        try:
            mod = __import__(module, fromlist=["register"])
        except ImportError:
            continue
        mod.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    from .results import OutputError
    from .scenario import ScenarioError

    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except (CliError, ScenarioError, OutputError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
