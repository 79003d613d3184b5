"""The ``jiesu`` command end to end: outputs, summary table, provenance, bad flags."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess

import pandas as pd
import pytest
from conftest import FINAL, JIESU, ROOT

from experiments.cli import main
from model import Model, config_hash, load_scenario
from model.streams import Streams
from model.world import build_city

RUN_ARGS = ["--scale", "0.003", "--days", "40", "--seed", "3"]
SUMMARY_KEYS = ["contacts", "work_orders", "response_rate", "resolution_rate", "satisfaction_rate",
                "true_resolution_rate", "mean_days_to_close", "overdue_share", "objections", "whistles",
                "requests_per_10k"]


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    """One in-process ``jiesu run`` shared by the tests of this module."""
    out = tmp_path_factory.mktemp("cli") / "run"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        rc = main(["run", str(FINAL), *RUN_ARGS, "--out", str(out), "--quiet", "--network"])
    return {"rc": rc, "out": out, "stdout": stdout.getvalue(), "stderr": stderr.getvalue()}


def test_run_writes_every_output_file(cli_run):
    assert cli_run["rc"] == 0, cli_run["stderr"]
    out = cli_run["out"]
    for name in ("daily.parquet", "units_monthly.parquet", "summary.json", "config.toml", "provenance.json",
                 "overview.png", "network.graphml"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert (out / "overview.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".tmp-")], "temporary directory left behind"


def sampled_units() -> int:
    """Units of the city the run simulates: at scale 0.003 a sample of townships (model/sample.py),
    one per district, and one pooled department per line, not the 560 units of all Beijing."""
    cfg = load_scenario(FINAL, overrides={"city.scale": 0.003})
    return build_city(Streams(3), cfg.world.demand, cfg.city).n_units


def test_daily_has_one_row_a_day_and_units_monthly_one_row_per_unit_per_month(cli_run):
    daily = pd.read_parquet(cli_run["out"] / "daily.parquet")
    um = pd.read_parquet(cli_run["out"] / "units_monthly.parquet")
    assert list(daily["day"]) == list(range(40))
    n_units = sampled_units()            # was 343 + 12 + 16 * 12 + 4 + 16 + 1 before scale became a sample
    assert n_units == 16 + 12 + 12 + 4 + 16 + 1
    assert len(um) == n_units * 1 and set(um["month"]) == {0}     # 40 days: one completed month
    assert um["unit"].is_unique


def test_summary_has_the_headline_keys(cli_run):
    s = json.loads((cli_run["out"] / "summary.json").read_text())
    for k in SUMMARY_KEYS:
        assert k in s and s[k] is not None, k
    for k in ("response_rate", "resolution_rate", "satisfaction_rate", "true_resolution_rate", "overdue_share"):
        assert 0.0 <= s[k] <= 1.0, k
    assert s["contacts"] >= s["work_orders"] > 0
    assert s["seed"] == 3 and s["days"] == 40 and s["scale"] == 0.003


def test_summary_table_is_printed(cli_run):
    text = cli_run["stdout"]
    for label in ("contacts", "work orders", "response rate", "resolution rate", "satisfaction rate",
                  "true resolution"):
        assert label in text, label
    assert "results written to" in text and str(cli_run["out"]) in text


def test_written_config_loads_back_to_an_equal_config(cli_run):
    expected = load_scenario(FINAL, overrides={"city.scale": 0.003, "city.days": 40})
    assert load_scenario(cli_run["out"] / "config.toml") == expected


def test_provenance_records_seed_packages_commit_and_config_hash(cli_run):
    prov = json.loads((cli_run["out"] / "provenance.json").read_text())
    assert prov["seed"] == 3
    assert prov["config_hash"] == config_hash(load_scenario(cli_run["out"] / "config.toml"))
    assert {"numpy", "pandas", "mesa"} <= set(prov["packages"]) and prov["packages"]["numpy"]
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    assert prov["git_commit"] == head


def test_cli_run_equals_the_same_run_through_the_python_api(cli_run):
    cfg = load_scenario(FINAL, overrides={"city.scale": 0.003, "city.days": 40})
    res = Model(cfg, seed=3).run(40).results()
    pd.testing.assert_frame_equal(pd.read_parquet(cli_run["out"] / "daily.parquet"), res.daily)
    pd.testing.assert_frame_equal(pd.read_parquet(cli_run["out"] / "units_monthly.parquet"), res.units_monthly)
    assert json.loads((cli_run["out"] / "summary.json").read_text()) == json.loads(json.dumps(res.summary))


def test_network_export_is_readable_graphml(cli_run):
    import networkx as nx

    g = nx.read_graphml(cli_run["out"] / "network.graphml")
    assert g.number_of_nodes() == sampled_units()    # the sampled city (was all 560 units)


def test_set_overrides_a_scenario_key(tmp_path, capsys):
    out = tmp_path / "o"
    rc = main(["run", str(FINAL), "--scale", "0.001", "--days", "3", "--set", "rules.audit.sample_share=0.5",
               "--set", "rules.whistle.enabled=false", "--out", str(out), "--quiet", "--no-plot"])
    assert rc == 0, capsys.readouterr().err
    cfg = load_scenario(out / "config.toml")
    assert cfg.rules.audit.sample_share == 0.5 and cfg.rules.whistle.enabled is False
    assert not (out / "overview.png").exists()


def test_validate_accepts_shipped_scenarios(capsys):
    assert main(["validate", str(FINAL)]) == 0
    assert "ok" in capsys.readouterr().out


def test_validate_checks_every_file_and_fails_if_any_is_bad(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(f'extends = "{FINAL}"\n[rules.audit]\nsample_share = 2.0\n', encoding="utf-8")
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    assert main(["validate", str(bad), str(FINAL), str(folder)]) == 2
    out, err = capsys.readouterr()
    assert out.strip().splitlines() == [f"{FINAL}: ok (final_2021)"]
    lines = err.strip().splitlines()
    assert len(lines) == 2 and "bad.toml" in lines[0] and "rules.audit.sample_share" in lines[0]
    assert "folder.toml" in lines[1] and "is a directory" in lines[1]


BAD_FLAGS = {
    "scale_zero": ["--scale", "0"],
    "scale_two": ["--scale", "2"],
    "scale_not_a_number": ["--scale", "abc"],
    "days_negative": ["--days", "-1"],
    "days_zero": ["--days", "0"],
    "seed_not_a_number": ["--seed", "x"],
    "seed_negative": ["--seed", "-4"],
    "unknown_flag": ["--bogus"],
    "set_without_equals": ["--set", "rules.audit.sample_share"],
    "set_unknown_key": ["--set", "rules.audit.sampel_share=0.1"],
    "set_out_of_range": ["--set", "rules.audit.sample_share=7"],
}


@pytest.mark.parametrize("case", sorted(BAD_FLAGS))
def test_bad_flags_exit_2_with_one_line_and_write_nothing(case, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    rc = main(["run", str(FINAL), *BAD_FLAGS[case], "--days", "2", "--out", str(out), "--quiet"]
              if case.startswith(("unknown", "set", "seed", "scale")) else
              ["run", str(FINAL), *BAD_FLAGS[case], "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_missing_subcommand_and_missing_scenario_are_one_line_errors(capsys):
    assert main([]) == 2
    assert main(["run"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("error:") for line in err)


def test_a_real_jiesu_process_rejects_a_bad_flag_in_one_line(tmp_path):
    proc = subprocess.run([str(JIESU), "run", str(FINAL), "--scale", "2", "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "--scale" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_real_jiesu_process_runs_a_small_scenario(tmp_path):
    out = tmp_path / "o"
    proc = subprocess.run([str(JIESU), "run", str(FINAL), "--scale", "0.001", "--days", "3", "--seed", "1",
                           "--out", str(out), "--quiet", "--no-plot"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (out / "summary.json").is_file() and "response rate" in proc.stdout
    # another process (other hash seed, fresh imports) gives the same run as this one
    cfg = load_scenario(FINAL, overrides={"city.scale": 0.001, "city.days": 3})
    pd.testing.assert_frame_equal(pd.read_parquet(out / "daily.parquet"), Model(cfg, seed=1).run(3).results().daily)


def test_rerunning_into_the_same_out_directory_replaces_the_previous_results(tmp_path, capsys):
    out = tmp_path / "o"
    args = ["run", str(FINAL), "--scale", "0.001", "--days", "2", "--out", str(out), "--quiet", "--no-plot"]
    assert main([*args, "--seed", "1"]) == 0
    assert main([*args, "--seed", "2"]) == 0
    assert json.loads((out / "provenance.json").read_text())["seed"] == 2


def test_out_directory_with_other_files_is_not_wiped(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    main(["run", str(FINAL), "--scale", "0.001", "--days", "2", "--out", str(out), "--quiet", "--no-plot"])
    assert (out / "precious.txt").exists()


def test_out_as_the_current_directory_deletes_nothing_and_fails_cleanly(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "precious.txt").write_text("keep me")
    try:
        rc = main(["run", str(FINAL), "--scale", "0.001", "--days", "2", "--out", ".", "--quiet", "--no-plot"])
    except OSError:
        rc = None
    assert (tmp_path / "precious.txt").exists()
    assert rc in (0, 2)
