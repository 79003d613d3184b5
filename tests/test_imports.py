"""Package boundaries and lazy imports.

- ``model`` never imports ``experiments`` (no package cycle: the command line lives in
  experiments/cli.py, which drives both).
- The command line answers at once: building the parser, ``--help``, ``validate`` and the
  refusal of a bad flag or file import neither Mesa nor SciPy's stats nor pandas; the
  sub-commands import those when they run. Checked in fresh interpreters by what is in
  ``sys.modules`` (no timing asserts; measured times are in the README).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from importlib import metadata

import pytest
from conftest import FINAL, ROOT

BAD = ROOT / "tests" / "data" / "bad_inputs"
HEAVY = ("mesa", "scipy.stats", "pandas", "matplotlib", "pyarrow", "networkx")


def modules_after(code: str) -> set[str]:
    """The names in sys.modules after running ``code`` in a fresh interpreter."""
    wrapped = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", wrapped], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_import_model_pulls_in_nothing_from_experiments():
    mods = modules_after("import model\nfrom model import Model, load_scenario, run_one\n"
                         "m = Model(load_scenario('scenarios/final_2021.toml', {'city.scale': 0.001}), seed=1)\n"
                         "m.run(2); m.results()")
    assert "model.model" in mods and "mesa" in mods          # the model really was loaded and run
    assert not [m for m in mods if m == "experiments" or m.startswith("experiments.")]


def test_no_module_of_model_imports_experiments():
    """Also the imports inside functions, which a run may not reach."""
    offenders = []
    for path in sorted((ROOT / "model").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
            offenders += [f"{path.relative_to(ROOT)}:{node.lineno} {n}" for n in names
                          if n == "experiments" or n.startswith("experiments.")]
    assert offenders == []


def test_reading_a_scenario_imports_no_simulation_libraries():
    mods = modules_after(f"from model.scenario import load_scenario\nload_scenario({str(FINAL)!r})\n"
                         f"import model\nmodel.ScenarioError, model.Config, model.load_scenario")
    assert "pydantic" in mods
    assert not [m for m in HEAVY if m in mods], [m for m in HEAVY if m in mods]


SUBCOMMANDS = ["run", "validate", "app", "sweep", "sensitivity", "calibrate", "compare"]


def test_building_the_parser_and_parsing_every_subcommand_stays_light():
    argv = {"run": ["run", "x.toml", "--scale", "0.1", "--days", "3", "--set", "a.b=1"],
            "validate": ["validate", "x.toml"], "app": ["app", "--port", "9000"],
            "sweep": ["sweep", "s.toml", "--workers", "2"], "sensitivity": ["sensitivity", "s.toml", "--serial"],
            "calibrate": ["calibrate", "s.toml", "--dask-local", "2"],
            "compare": ["compare", "a.toml", "b.toml", "--replicates", "3", "--scheduler", "tcp://h:1"]}
    assert sorted(argv) == sorted(SUBCOMMANDS)
    code = ("from experiments.cli import build_parser\np = build_parser()\n"
            + "".join(f"p.parse_args({a!r})\n" for a in argv.values()))
    mods = modules_after(code)
    assert "experiments.commands" in mods and "experiments.compare" in mods   # every sub-command registered
    assert not [m for m in HEAVY if m in mods], [m for m in HEAVY if m in mods]


@pytest.mark.parametrize("argv", [["--help"], *[[c, "--help"] for c in SUBCOMMANDS],
                                  ["validate", str(FINAL)],
                                  ["run", str(FINAL), "--scale", "2"],                 # bad flag
                                  ["run", str(ROOT / "scenarios")],                   # a directory
                                  ["run", str(ROOT / "README.md")],                   # not TOML
                                  ["compare", str(FINAL), str(ROOT / "nothing.toml")],
                                  ["run", str(FINAL), "--set", "rules.audit.sampel_share=0.1"],
                                  ["sweep", str(BAD / "gbk.toml")],                   # a bad sweep spec
                                  ["calibrate", str(BAD / "empty.toml")],
                                  ["run", str(FINAL), "--out", str(ROOT / "README.md" / "x")]],   # --out below a file
                         ids=lambda a: "-".join(x.rsplit("/", 1)[-1] for x in a))
def test_help_validate_and_refusals_import_no_simulation_libraries(argv):
    code = ("import sys\nfrom experiments.cli import main\n"
            f"try:\n    rc = main({argv!r})\nexcept SystemExit as e:\n    rc = e.code\n"
            "assert rc in (0, 2), rc\nsys.stdout.flush()\nprint()")
    mods = modules_after(code)
    assert not [m for m in HEAVY if m in mods], [m for m in HEAVY if m in mods]


def test_the_console_script_is_experiments_cli_and_python_m_works():
    eps = [e for e in metadata.entry_points(group="console_scripts") if e.name == "jiesu"]
    assert [e.value for e in eps] == ["experiments.cli:main"]
    proc = subprocess.run([sys.executable, "-m", "experiments.cli", "--help"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.returncode == 0 and "compare" in proc.stdout and "sweep" in proc.stdout, proc.stderr
    assert not (ROOT / "model" / "cli.py").exists()


def test_every_bad_input_error_is_one_input_error():
    from experiments.argtypes import CliError
    from model.errors import InputError
    from model.results import OutputError
    from model.scenario import ScenarioError

    for cls in (CliError, OutputError, ScenarioError):
        assert issubclass(cls, InputError) and issubclass(cls, ValueError)
