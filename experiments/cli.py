"""The ``jiesu`` command: run, validate, app, compare, sweep, sensitivity, calibrate.

    jiesu SUB-COMMAND --help          (also: python -m experiments.cli ...)

Bad input of any kind (a flag, a scenario or spec file, an output folder) ends with one line
on stderr and exit code 2, nothing written. Building the parser imports only the standard
library and the argument helpers (experiments/argtypes.py); each sub-command imports what
it needs when it runs, so ``jiesu --help``, ``jiesu validate`` and every refusal of a bad
flag or file answer at once (tests/test_imports.py keeps it so). The command line lives in
``experiments`` because it drives both packages; ``model`` never imports ``experiments``.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path

from model.errors import InputError

from .argtypes import (
    EXIT_BAD_INPUT,
    CliError,
    Parser,
    check_out_folder,
    check_state_target,
    positive_int,
    positive_scale,
    scenario_overrides,
    seed_int,
)


def print_summary(summary: dict) -> None:
    from model.results import SUMMARY_LABELS

    width = max(len(v) for v in SUMMARY_LABELS.values())
    for key, label in SUMMARY_LABELS.items():
        v = summary.get(key)
        txt = "n/a" if v is None else (f"{v:,.3f}" if isinstance(v, float) else f"{v:,}")
        print(f"  {label:<{width}}  {txt:>14}")


def cmd_run(args) -> int:
    from model.scenario import load_scenario  # a bad file or --set is refused before anything heavy loads

    overrides = scenario_overrides(args)
    if args.from_state and args.scale is None:      # a state fixes the scale: take it unless --scale says otherwise
        from model.state import state_scale

        overrides["city.scale"] = state_scale(args.from_state)
    cfg = load_scenario(args.scenario, overrides)
    from model.outdir import check_out_dir
    if args.save_state:
        check_state_target(args.save_state)

    out = Path(args.out) if args.out else Path("results") / f"{cfg.name}-{datetime.now():%Y%m%d-%H%M%S}"
    check_out_folder(out)
    check_out_dir(out)          # refuse before a long run, not after
    if args.no_plot:
        return _run(args, cfg, out, None)
    from model.report import PlotWorker  # the figure's imports and drawing beside the run (model/report.py)

    plotter = PlotWorker()
    try:
        return _run(args, cfg, out, plotter)
    finally:
        plotter.close()


def _run(args, cfg, out: Path, plotter) -> int:
    from tqdm import tqdm

    from model.model import Model

    t0 = time.perf_counter()
    if args.from_state:
        from model.state import load_state

        model = load_state(args.from_state, cfg, seed=args.seed)
        start = f"from day {model.day} of {args.from_state}"
        first_new_day = model.day
    else:
        model = Model(cfg, seed=0 if args.seed is None else args.seed)
        start = "from the start"
    with tqdm(total=cfg.city.days, desc=f"{cfg.name} (scale {cfg.city.scale})", unit="day",
              disable=args.quiet) as bar:
        model.run(cfg.city.days, progress=bar)
    if args.save_state:
        from model.state import save_state

        save_state(model, args.save_state)
    res = model.results()
    res.write(out, plot=not args.no_plot, plotter=plotter)
    if args.network:
        from model.network import export_network

        export_network(model.network, out / "network.graphml")
    print(f"{cfg.name}: {cfg.city.days} days {start} at scale {cfg.city.scale}, seed {model.seed}, "
          f"{time.perf_counter() - t0:.1f} s")
    if args.save_state:
        print(f"state at day {model.day} written to {args.save_state}")
    print_summary(res.summary)
    if args.from_state:     # the tables continue the state's run: the run that never stopped
        print(f"note: the tables and this summary cover the state's history too (days 0-{model.day - 1}); "
              f"this run's own days are day >= {first_new_day} in daily.parquet")
    print(f"results written to {out}")
    return 0


def cmd_validate(args) -> int:
    from model.scenario import load_scenario  # pydantic and the schema only: no Mesa, SciPy or pandas

    bad = 0
    for path in args.scenarios:        # every file is checked: one line each, exit 2 if any is bad
        try:
            cfg = load_scenario(path)
        except InputError as err:
            print(f"error: {err}", file=sys.stderr)
            bad += 1
        else:
            print(f"{path}: ok ({cfg.name})")
    return EXIT_BAD_INPUT if bad else 0


def cmd_app(args) -> int:
    """Serve app.py with solara (this process becomes the server and runs until interrupted).

    ``app.py --check`` decides whether the [app] extra is complete (solara, ipyvue<2,
    ipyvuetify<2, the page's JavaScript installed locally), so one rule says what the app
    needs; its one-line answer is passed on with exit code 2."""
    import os
    import subprocess

    path = Path(__file__).resolve().parents[1] / "app.py"
    if not path.exists():
        raise CliError(f"{path}: not found (jiesu app runs from a source checkout of the project)")
    check = subprocess.run([sys.executable, str(path), "--check"], capture_output=True, text=True)
    if check.returncode != 0:
        raise CliError((check.stderr.strip() or check.stdout.strip() or "app.py --check failed").splitlines()[-1]
                       .removeprefix("jiesu app: "))
    cmd = [sys.executable, "-m", "solara", "run", str(path), "--production", "--port", str(args.port),
           "--host", args.host, "--open" if args.open else "--no-open"]
    print(f"classroom app: http://{args.host}:{args.port}  (Ctrl-C stops it)", flush=True)
    # a classroom offline or behind a firewall: solara must not try to reach its telemetry service
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")
    os.execv(sys.executable, cmd)       # the server replaces this process: one process to stop


def build_parser() -> Parser:
    p = Parser(prog="jiesu", description="Simulate Beijing's 接诉即办 system and compare its assessment rules.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    r = sub.add_parser("run", help="run one scenario and write its results")
    r.add_argument("scenario", help="scenario TOML file (e.g. scenarios/final_2021.toml)")
    r.add_argument("--days", type=positive_int, help="days to simulate (default: the scenario's city.days)")
    r.add_argument("--scale", type=positive_scale, help="share of Beijing's population, in (0, 1]")
    r.add_argument("--seed", type=seed_int, help="random seed (default 0, or the state's seed with --from-state)")
    r.add_argument("--from-state", metavar="FILE",
                   help="start from a saved state (jiesu run --save-state); the scenario's rules take effect from its day")
    r.add_argument("--save-state", metavar="FILE", help="write the whole model state at the end of the run")
    r.add_argument("--out", help="output directory (default results/<scenario>-<timestamp>)")
    r.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a scenario key, e.g. rules.audit.sample_share=0.1")
    r.add_argument("--network", action="store_true", help="also export the coordination network (GraphML)")
    r.add_argument("--no-plot", action="store_true", help="skip overview.png")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(func=cmd_run)
    v = sub.add_parser("validate", help="check scenario files against the schema")
    v.add_argument("scenarios", nargs="+")
    v.set_defaults(func=cmd_validate)
    a = sub.add_parser("app", help="the classroom app in the browser (two rule sets side by side; needs the [app] extra)")
    a.add_argument("--port", type=positive_int, default=8765, help="port (default 8765)")
    a.add_argument("--host", default="localhost", help="host to listen on (default localhost; 0.0.0.0 for a classroom network)")
    a.add_argument("--open", action="store_true", help="open a browser tab")
    a.set_defaults(func=cmd_app)
    from . import commands, compare  # light modules: their sub-commands import what they need when run

    commands.register(sub)            # sweep, sensitivity, calibrate
    compare.register(sub)
    return p


EXIT_INTERRUPTED = 130      # the shell's code for a command stopped by SIGINT


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except InputError as err:           # CliError, ScenarioError, OutputError: one line, exit 2
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:           # Ctrl-C: one line, no traceback; results are written atomically
        print("interrupted: nothing half-written is left; a sweep, sensitivity or calibration run again "
              "with the same --out resumes where it stopped", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
