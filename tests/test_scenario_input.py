"""Bad scenario input is one line naming the file, the key path and what is allowed.

The same cases go through ``load_scenario`` (a ``ScenarioError``) and through the
``jiesu run`` command (exit code 2, one line on stderr, no traceback, nothing written).
"""

from __future__ import annotations

import subprocess

import pytest
from conftest import FINAL, JIESU, SCENARIOS

from experiments.cli import main
import model
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
