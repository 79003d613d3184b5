"""Bad scenario input is one line naming the file, the key path and what is allowed.

The same cases go through ``load_scenario`` (a ``ScenarioError``) and through the
``jiesu run`` command (exit code 2, one line on stderr, no traceback, nothing written).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FINAL, JIESU, SCENARIOS

import model
from experiments.cli import main
from model import ScenarioError, load_scenario, with_overrides

EXT = f'extends = "{FINAL}"\n'

# id -> (file text, extra files, [substrings the message must contain: key path, what is allowed])
BAD = {
    "toml_syntax_error": ("[city\nscale = 0.1\n", {}, ["TOML syntax error", "line 1"]),
    "unknown_key": (EXT + "[rules.audit]\nsampel_share = 0.1\n", {}, ["rules.audit.sampel_share", "unknown key"]),
    "unknown_table": (EXT + "[proactive]\ntopic_of_month = true\n", {}, ["proactive", "unknown key"]),
    "wrong_type_int": (EXT + '[city]\ndays = "many"\n', {}, ["city.days", "valid integer", "'many'"]),
    "wrong_type_bool": (EXT + '[rules.whistle]\nenabled = "maybe"\n', {}, ["rules.whistle.enabled", "valid boolean"]),
    "probability_above_1": (EXT + "[rules.audit]\nsample_share = 1.5\n", {},
                            ["rules.audit.sample_share", "less than or equal to 1", "1.5"]),
    "probability_below_0": (EXT + "[world.citizens]\nhonesty = -0.1\n", {},
                            ["world.citizens.honesty", "greater than or equal to 0"]),
    "negative_capacity": (EXT + "[world.capacity]\nratio = -1.0\n", {}, ["world.capacity.ratio", "greater than 0.05"]),
    "negative_flex_days": (EXT + "[world.capacity]\nflex_days = -2\n", {},
                           ["world.capacity.flex_days", "greater than or equal to 0"]),
    "scale_zero": (EXT + "[city]\nscale = 0.0\n", {}, ["city.scale", "greater than 0"]),
    "scale_negative": (EXT + "[city]\nscale = -0.1\n", {}, ["city.scale", "greater than 0"]),
    "scale_above_1": (EXT + "[city]\nscale = 1.5\n", {}, ["city.scale", "less than or equal to 1"]),
    "missing_extends": ('extends = "no_such_parent.toml"\n', {}, ["extends", "file not found", "no_such_parent.toml"]),
    "extends_not_a_string": ("extends = 3\n", {}, ["extends", "must be a file name"]),
    "circular_extends": ('extends = "b.toml"\n', {"b.toml": 'extends = "scenario.toml"\n'},
                         ["extends", "circular", "scenario.toml", "b.toml"]),
    "weights_not_summing_to_1": (EXT + "[rules.assessment.weights]\nresponse = 0.5\n", {},
                                 ["rules.assessment.weights", "sum to 1", "1.2"]),
    "type_mix_not_summing_to_1": (EXT + "[world.demand]\nrequest_type_mix = [0.5, 0.5, 0.5, 0.1]\n", {},
                                  ["world.demand.request_type_mix", "summing to 1"]),
    "effort_split_not_summing_to_1": (EXT + "[world.behaviour]\neffort_resolve = 0.5\n", {},
                                      ["world.behaviour", "effort_resolve", "sum to 1"]),
    # the top and bottom groups together may not be larger than the class they rank
    "commend_plus_remedial_above_1": (EXT + "[rules.assessment]\ncommend_share = 0.5\nremedial_share = 0.6\n", {},
                                      ["rules.assessment.remedial_share", "must not exceed 1"]),
    "bad_value_in_timeline": (EXT + '[[timeline]]\nmonth = 2\noverrides = { "rules.audit.sample_share" = 2.0 }\n', {},
                              ["rules.audit.sample_share", "timeline month 2", "less than or equal to 1"]),
    "unknown_key_in_timeline": (EXT + '[[timeline]]\nmonth = 1\noverrides = { "rules.audit.sampel" = 0.2 }\n', {},
                                ["rules.audit.sampel", "unknown key", "timeline month 1"]),
    "bad_literal": (EXT + '[rules.assessment]\nresolved_by = "mayor"\n', {},
                    ["rules.assessment.resolved_by", "unit_report", "requester", "audit"]),
}


def _write_case(tmp_path, case):
    text, extra, _ = BAD[case]
    for name, body in extra.items():
        (tmp_path / name).write_text(body)
    p = tmp_path / "scenario.toml"
    p.write_text(text)
    return p


def assert_one_line(msg: str, path, needles) -> None:
    assert "\n" not in msg.strip(), f"message is not one line: {msg!r}"
    assert "Traceback" not in msg
    assert str(path.name) in msg, f"message does not name the file: {msg!r}"
    for n in needles:
        assert n in msg, f"{n!r} missing from {msg!r}"


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_scenario_raises_one_line_scenario_error_naming_file_key_and_allowed(case, tmp_path):
    path = _write_case(tmp_path, case)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert isinstance(info.value, ValueError)
    assert_one_line(str(info.value), path, BAD[case][2])


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_scenario_on_the_cli_exits_2_with_one_line_and_writes_nothing(case, tmp_path, capsys, monkeypatch):
    path = _write_case(tmp_path, case)
    out = tmp_path / "out"
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    # the flags would override the very keys some cases get wrong
    flags = [] if "city." in " ".join(BAD[case][2]) else ["--scale", "0.001", "--days", "2"]
    rc = main(["run", str(path), *flags, "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert_one_line(lines[0], path, BAD[case][2])
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == before   # no results/ or temp dirs either


def test_missing_scenario_file_is_a_one_line_error(tmp_path):
    with pytest.raises(ScenarioError, match="file not found") as info:
        load_scenario(tmp_path / "nothing.toml")
    assert "nothing.toml" in str(info.value) and "\n" not in str(info.value)


def test_bad_override_names_the_key():
    with pytest.raises(ScenarioError, match=r"rules\.audit\.detection.*less than or equal to 1"):
        load_scenario(FINAL, overrides={"rules.audit.detection": 3})
    with pytest.raises(ScenarioError, match="unknown key"):
        load_scenario(FINAL, overrides={"rules.audit.nope": 1})


def test_override_into_a_value_is_a_one_line_error():
    with pytest.raises(ScenarioError) as info:
        load_scenario(FINAL, overrides={"city.scale.x": 1})
    assert "city.scale" in str(info.value) and "\n" not in str(info.value)


def test_with_overrides_revalidates():
    cfg = load_scenario(FINAL)
    assert with_overrides(cfg, {"rules.audit.sample_share": 0.5}).rules.audit.sample_share == 0.5
    with pytest.raises(ScenarioError, match="sample_share"):
        with_overrides(cfg, {"rules.audit.sample_share": -0.5})


def test_shipped_scenarios_are_valid():
    for p in SCENARIOS.glob("*.toml"):
        assert isinstance(load_scenario(p), model.Config)


def test_commend_and_remedial_shares_may_fill_the_whole_class():
    cfg = load_scenario(FINAL, overrides={"rules.assessment.commend_share": 0.5, "rules.assessment.remedial_share": 0.5})
    assert cfg.rules.assessment.commend_share + cfg.rules.assessment.remedial_share == 1.0


def test_extends_child_overrides_parent_and_lists_are_replaced(tmp_path):
    (tmp_path / "parent.toml").write_text(
        'name = "parent"\n[city]\nscale = 0.01\ndays = 50\n'
        "[world.demand]\nrequest_type_mix = [0.25, 0.25, 0.25, 0.25]\nonline_share = 0.3\n"
        "[rules.deadlines]\ntier_days = [0, 2, 8, 20]\n")
    (tmp_path / "child.toml").write_text(
        'extends = "parent.toml"\nname = "child"\n[city]\ndays = 60\n'
        "[world.demand]\nrequest_type_mix = [0.7, 0.1, 0.1, 0.1]\n")
    cfg = load_scenario(tmp_path / "child.toml")
    assert cfg.name == "child"
    assert cfg.city.days == 60                       # child wins
    assert cfg.city.scale == 0.01                    # parent kept where the child is silent
    assert cfg.world.demand.online_share == 0.3
    assert cfg.world.demand.request_type_mix == [0.7, 0.1, 0.1, 0.1]   # list replaced, not merged
    assert cfg.rules.deadlines.tier_days == [0, 2, 8, 20]


def test_history_scenario_extends_final_2021():
    final, hist = load_scenario(FINAL), load_scenario(SCENARIOS / "history_2019_2021.toml")
    assert hist.name == "history_2019_2021" and hist.city.days == 1126
    assert hist.world.behaviour.learning == final.world.behaviour.learning is True   # inherited
    assert hist.rules.assessment.dual_whistle is False and final.rules.assessment.dual_whistle is True
    assert len(hist.timeline) >= 1 and not final.timeline


def test_a_real_jiesu_process_reports_bad_input_in_one_line_with_exit_code_2(tmp_path):
    path = _write_case(tmp_path, "probability_above_1")
    out = tmp_path / "out"
    proc = subprocess.run([str(JIESU), "run", str(path), "--scale", "0.001", "--days", "2", "--out", str(out),
                           "--quiet"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "rules.audit.sample_share" in lines[0] and "scenario.toml" in lines[0]
    assert not out.exists() and not (tmp_path / "results").exists()


# ---------------------------------------------------------------- files that are not scenario files at all
# Every file argument of the command (a scenario, an ``extends`` parent, a sweep spec, a scenario
# named by a spec, a sweep folder's state) goes through the real ``jiesu`` process: one line
# naming the file and what is wrong, exit 2, no traceback, nothing written.
BAD_INPUTS = Path(__file__).parent / "data" / "bad_inputs"


def _binary(d: Path) -> Path:
    p = d / "picture.toml"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    return p


def _huge(d: Path) -> Path:       # valid UTF-8 TOML comments, no NUL: only the size limit refuses it
    p = d / "huge.toml"
    p.write_bytes(b"# padding padding padding padding padding padding padding\n" * (2 * 2**20 // 58 + 1))
    return p


def _sparse(d: Path) -> Path:     # 1 GiB that takes no disk: refused from its size, never read
    p = d / "sparse.toml"
    with open(p, "wb") as fh:
        fh.truncate(2**30)
    return p


def _directory(d: Path) -> Path:
    p = d / "a_folder.toml"
    p.mkdir()
    (p / "final_2021.toml").write_text(FINAL.read_text(encoding="utf-8"), encoding="utf-8")
    return p


def _fifo(d: Path) -> Path:       # opening a FIFO would block for ever: it must be refused unopened
    p = d / "pipe.toml"
    os.mkfifo(p)
    return p


def _missing(d: Path) -> Path:
    return d / "no_such_file.toml"


def _symlink_loop(d: Path) -> Path:
    (d / "loop_a.toml").symlink_to(d / "loop_b.toml")
    (d / "loop_b.toml").symlink_to(d / "loop_a.toml")
    return d / "loop_a.toml"


# case -> (committed file name or maker, what the message must say)
BAD_FILES = {
    "not_utf8_gbk": ("gbk.toml", "not UTF-8"),
    "not_utf8_latin1": ("latin1.toml", "not UTF-8"),
    "utf16": ("utf16.toml", "UTF-16"),
    "empty": ("empty.toml", "is empty"),
    "blank": ("blank.toml", "is empty"),
    "comments_only": ("comments_only.toml", "has no settings"),
    "binary": (_binary, "binary"),
    "huge": (_huge, "MiB"),
    "huge_sparse": (_sparse, "MiB"),
    "directory": (_directory, "is a directory"),
    "fifo": (_fifo, "not a regular file"),
    "device": (lambda d: Path("/dev/null"), "not a regular file"),
    "missing": (_missing, "not found"),
    "symlink_loop": (_symlink_loop, "symbolic links"),
}


def _bad_file(case: str, d: Path) -> Path:
    src = BAD_FILES[case][0]
    return BAD_INPUTS / src if isinstance(src, str) else src(d)


def _small_spec(d: Path, scenarios: list[str], name: str = "spec.toml") -> Path:
    p = d / name
    p.write_text(f"scenarios = {json.dumps(scenarios)}\nreplicates = 1\n"
                 '[set]\n"city.scale" = 0.001\n"city.days" = 2\n', encoding="utf-8")
    return p


def _argv(how: str, path: Path, d: Path, out: Path) -> list[str]:
    if how == "run":
        return ["run", str(path), "--scale", "0.001", "--days", "2", "--out", str(out), "--quiet"]
    if how == "validate":
        return ["validate", str(FINAL), str(path)]
    if how == "compare":
        return ["compare", str(FINAL), str(path), "--replicates", "2", "--serial", "--out", str(out), "--quiet"]
    if how == "sweep_spec":
        return ["sweep", str(path), "--serial", "--out", str(out), "--quiet"]
    if how == "named_by_spec":
        return ["sweep", str(_small_spec(d, [str(path)])), "--serial", "--out", str(out), "--quiet"]
    if how == "extends_parent":
        child = d / "child.toml"
        child.write_text(f"extends = {json.dumps(str(path))}\nname = \"child\"\n", encoding="utf-8")
        return ["run", str(child), "--scale", "0.001", "--days", "2", "--out", str(out), "--quiet"]
    raise ValueError(how)


def run_jiesu(argv: list[str], cwd: Path, prefix: list[str] = ()) -> subprocess.CompletedProcess:
    return subprocess.run([*prefix, str(JIESU), *argv], capture_output=True, text=True, cwd=cwd, timeout=120,
                          stdin=subprocess.DEVNULL)


def assert_refused(proc: subprocess.CompletedProcess, names: str, needle: str, cwd: Path, out: Path) -> None:
    err = proc.stderr
    assert proc.returncode == 2, (proc.returncode, err)
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert names in lines[0], f"the message does not name {names}: {lines[0]}"
    assert needle in lines[0], f"{needle!r} missing from {lines[0]}"
    assert proc.stdout in ("", f"{FINAL}: ok (final_2021)\n")     # validate reports the good file too
    assert list(cwd.iterdir()) == [] and not out.exists(), "something was written"


# Every case through the two readers' own doors (a scenario to run or validate, an extends
# parent, a sweep spec); the doors that hand a path to those same readers (compare, a spec's
# scenarios) with one case of each kind of refusal, to keep the number of processes down.
EVERY_CASE = ["run", "validate", "extends_parent", "sweep_spec"]
SOME_CASES = ["not_utf8_gbk", "utf16", "empty", "comments_only", "binary", "huge_sparse", "directory", "fifo",
              "missing"]
DOORS = [(c, h) for c in sorted(BAD_FILES) for h in EVERY_CASE] + \
        [(c, h) for c in SOME_CASES for h in ("compare", "named_by_spec")]


@pytest.mark.parametrize(("case", "how"), DOORS)
def test_a_file_that_is_not_a_scenario_is_refused_in_one_line_by_the_real_command(case, how, tmp_path):
    inputs, cwd = tmp_path / "in", tmp_path / "cwd"
    inputs.mkdir(), cwd.mkdir()
    path = _bad_file(case, inputs)
    out = tmp_path / "out"
    proc = run_jiesu(_argv(how, path, inputs, out), cwd)
    needle = BAD_FILES[case][1]
    if how == "named_by_spec" and case in ("missing", "symlink_loop"):
        needle = "not found"          # the spec looks for the scenario in three places before reading it
    assert_refused(proc, path.name, needle, cwd, out)


def test_an_extends_parent_that_is_not_utf8_is_named(tmp_path):
    child = BAD_INPUTS / "extends_not_utf8.toml"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    assert_refused(run_jiesu(["validate", str(child)], cwd), "gbk.toml", "not UTF-8", cwd, tmp_path / "out")


def test_a_scenario_saved_with_a_utf8_byte_order_mark_is_accepted(tmp_path):
    proc = run_jiesu(["validate", str(Path(__file__).parent / "data" / "inputs" / "utf8_bom.toml")], tmp_path)
    assert proc.returncode == 0 and "ok (utf8_bom)" in proc.stdout, proc.stderr


def _without_dac_override() -> list[str]:
    """A prefix that runs a command without root's power to read any file (or [] when not root)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root (which reads any file whatever its mode) and setpriv is not installed "
                    "to drop CAP_DAC_OVERRIDE, so an unreadable file cannot be made here")
    caps = "-dac_override,-dac_read_search"
    return ["setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}"]


@pytest.mark.parametrize("how", ["run", "validate", "sweep_spec", "named_by_spec", "extends_parent"])
def test_an_unreadable_file_is_refused_as_permission_denied(how, tmp_path):
    inputs, cwd = tmp_path / "in", tmp_path / "cwd"
    inputs.mkdir(), cwd.mkdir()
    path = inputs / "locked.toml"
    path.write_text(FINAL.read_text(encoding="utf-8"), encoding="utf-8")
    path.chmod(0)
    prefix = _without_dac_override()
    probe = subprocess.run([*prefix, sys.executable, "-c", f"open({str(path)!r}, 'rb')"], capture_output=True)
    if probe.returncode == 0:
        pytest.skip("this process can read a mode-000 file even with the capabilities dropped")
    out = tmp_path / "out"
    assert_refused(run_jiesu(_argv(how, path, inputs, out), cwd, prefix), path.name, "permission denied", cwd, out)


@pytest.mark.parametrize("command", ["run", "compare", "sweep"])
def test_an_out_folder_that_cannot_be_written_is_refused_before_anything_runs(command, tmp_path):
    locked, cwd = tmp_path / "locked", tmp_path / "cwd"
    locked.mkdir(), cwd.mkdir()
    locked.chmod(0o555)
    prefix = _without_dac_override()
    probe = subprocess.run([*prefix, sys.executable, "-c", f"open({str(locked / 'x')!r}, 'w')"], capture_output=True)
    if probe.returncode == 0:
        pytest.skip("this process can write into a mode-555 folder even with the capabilities dropped")
    out = locked / "new"
    argv = {"run": ["run", str(FINAL), "--scale", "0.001", "--days", "2", "--quiet", "--out", str(out)],
            "compare": ["compare", str(FINAL), str(FINAL), "--scale", "0.001", "--days", "2", "--replicates", "1",
                        "--serial", "--quiet", "--out", str(out)],
            "sweep": ["sweep", str(_small_spec(tmp_path, [str(FINAL)])), "--serial", "--quiet", "--out", str(out)]}
    assert_refused(run_jiesu(argv[command], cwd, prefix), str(out), "not writable", cwd, out)


@pytest.mark.parametrize("command", ["run", "compare"])
def test_an_out_folder_below_a_file_is_refused_before_anything_runs(command, tmp_path):
    (tmp_path / "a_file").write_text("x", encoding="utf-8")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    out = tmp_path / "a_file" / "new"
    argv = {"run": ["run", str(FINAL), "--scale", "0.001", "--days", "2", "--quiet", "--out", str(out)],
            "compare": ["compare", str(FINAL), str(FINAL), "--scale", "0.001", "--days", "2", "--replicates", "1",
                        "--serial", "--quiet", "--out", str(out)]}
    assert_refused(run_jiesu(argv[command], cwd), "a_file", "is a file, not a folder", cwd, out)


def test_the_same_command_reads_the_file_once_it_is_readable(tmp_path):
    """The permission test's set-up is honest: the file itself is a good scenario."""
    path = tmp_path / "locked.toml"
    path.write_text(FINAL.read_text(encoding="utf-8"), encoding="utf-8")
    proc = run_jiesu(["validate", str(path)], tmp_path, _without_dac_override())
    assert proc.returncode == 0, proc.stderr


# ---------------------------------------------------------------- a sweep folder's stored state
def _sweep_state(kind: str, out: Path) -> None:
    out.mkdir()
    if kind == "manifest_binary":
        (out / "manifest.json").write_bytes(b"\x00\x01\x02PK\x03\x04")
    elif kind == "manifest_not_json":
        (out / "manifest.json").write_text("{ half a manifest", encoding="utf-8")
    elif kind == "manifest_a_list":
        (out / "manifest.json").write_text("[1, 2, 3]", encoding="utf-8")
    elif kind == "manifest_a_directory":
        (out / "manifest.json").mkdir()
    elif kind == "batch_not_parquet":
        (out / "runs").mkdir()
        (out / "runs" / "batch-000001.parquet").write_bytes(b"not parquet at all")
    elif kind == "out_is_a_file":
        out.rmdir()
        out.write_text("a file", encoding="utf-8")
    elif kind == "out_under_a_file":
        out.rmdir()
        out.write_text("a file", encoding="utf-8")


SWEEP_STATE = {"manifest_binary": "manifest.json", "manifest_not_json": "manifest.json",
               "manifest_a_list": "manifest.json", "manifest_a_directory": "manifest.json",
               "batch_not_parquet": "batch-000001.parquet", "out_is_a_file": "not a folder",
               "out_under_a_file": "is a file, not a folder"}


@pytest.mark.parametrize("kind", sorted(SWEEP_STATE))
def test_a_sweep_folder_whose_state_cannot_be_read_is_refused_and_left_alone(kind, tmp_path):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    spec = _small_spec(tmp_path, [str(FINAL)])
    out = tmp_path / "out"
    _sweep_state(kind, out)
    before = {p: (p.stat().st_mtime_ns, p.is_dir()) for p in [out, *out.rglob("*")]}
    target = out / "sub" if kind == "out_under_a_file" else out
    proc = run_jiesu(["sweep", str(spec), "--serial", "--out", str(target), "--quiet"], cwd)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and SWEEP_STATE[kind] in lines[0] and str(out) in lines[0], proc.stderr
    assert {p: (p.stat().st_mtime_ns, p.is_dir()) for p in [out, *out.rglob("*")]} == before
    assert list(cwd.iterdir()) == []
