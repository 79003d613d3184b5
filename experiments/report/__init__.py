"""The ``jiesu report`` sub-command: the drafters' report (issue 11).

    jiesu report BASELINE.toml ARM.toml [ARM ...] [--from-state FILE] [--years N | --days D]
                 [--replicates R] [--ensemble K] [--scale S] [--seed X] [--lang zh|en|both]
                 [--out DIR] [--quick] [--workers W | --dask-local N | --scheduler ADDR | --serial]

Every arm runs against the baseline on common random numbers over R replicates and K parameter
sets drawn from the calibration posterior (experiments/report/posterior.py), from a state file
or from the start; the runs are stored resumably (experiments/report/runs.py) and one
self-contained HTML file is written (experiments/report/context.py, render.py, the jinja2
template experiments/templates/report.html.j2): summary in plain words, the articles and levers
each arm changes with the regulation's Chinese text, per-outcome paired differences with 95%
intervals and their robustness across parameter sets, four figures, the assumptions, provenance
and the command that reproduces it.

Exit codes: 0 written; 1 some runs failed (no report written; the runs are kept); 2 bad input
(one line on stderr, nothing written). This module imports only the standard library and the
argument helpers: the parser is built for every ``jiesu`` call.
"""

from __future__ import annotations

from ..argtypes import add_executor_flags, positive_int, positive_scale, seed_int

LANG_CHOICES = ("zh", "en", "both")


def _lang(text: str) -> str:
    import argparse

    if text not in LANG_CHOICES:
        raise argparse.ArgumentTypeError(f"unknown language {text!r} (choose zh, en or both)")
    return text


def register(subparsers) -> None:
    r = subparsers.add_parser("report", help="the drafters' report: rule sets compared, article by article, as one HTML file")
    r.add_argument("baseline", metavar="BASELINE.toml", help="the baseline scenario (differences are arm - baseline)")
    r.add_argument("arms", nargs="+", metavar="ARM.toml", help="one or more arms compared with the baseline")
    r.add_argument("--from-state", metavar="FILE", help="start every run from this state (jiesu run --save-state; make state)")
    length = r.add_mutually_exclusive_group()
    length.add_argument("--years", type=positive_int, metavar="N", help="years to simulate after the start (default 1)")
    length.add_argument("--days", type=positive_int, metavar="D", help="days to simulate (instead of --years)")
    r.add_argument("--replicates", type=positive_int, metavar="R", help="replicates per parameter set (default 2)")
    r.add_argument("--ensemble", type=positive_int, metavar="K",
                   help="parameter sets from the calibration posterior (default 10, at most its accepted rows)")
    r.add_argument("--scale", type=positive_scale,
                   help="share of Beijing's population (default: the state's, else the scenario's)")
    r.add_argument("--seed", type=seed_int, default=0, metavar="X",
                   help="root seed: set k, replicate r uses experiments.seeds.run_seed(X, k, r) in every arm (default 0)")
    r.add_argument("--lang", type=_lang, default="both", metavar="zh|en|both", help="language(s) of the report (default both)")
    r.add_argument("--posterior", metavar="FILE",
                   help="posterior summary (default experiments/studies/history_calibration/posterior.toml)")
    r.add_argument("--out", metavar="DIR", help="output folder (default results/report-<timestamp>); the same folder resumes")
    r.add_argument("--quick", action="store_true",
                   help="a preview: 60 days, 2 replicates, 1 parameter set, scale 0.01 without a state (flags still override)")
    add_executor_flags(r, "local process pool of N workers (default: all cores, at most one per run)")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(func=cmd_report)


def cmd_report(args) -> int:
    from .build import cmd_report as run

    return run(args)
