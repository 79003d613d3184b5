"""State files (model/state.py): saving then continuing is the run that never stopped; another
scenario takes effect from the state's day; a bad or foreign state is refused in one line."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from conftest import FINAL, ROOT

from experiments.cli import main
from model import load_scenario
from model.model import Model
from model.state import StateError, load_state, read_state, save_state

HISTORY = ROOT / "scenarios" / "history_2019_2021.toml"


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The history replay at scale 0.01, saved after 70 days (across its January 2019 changes)."""
    cfg = load_scenario(HISTORY, {"city.scale": 0.01})
    m = Model(cfg, seed=3).run(70)
    path = save_state(m, tmp_path_factory.mktemp("state") / "h.state")
    return cfg, m, path


def test_saving_then_continuing_gives_exactly_the_run_that_never_stopped(saved, tmp_path):
    cfg, _, path = saved
    never_stopped = Model(cfg, seed=3).run(130)
    continued = load_state(path, cfg).run(60)
    assert continued.day == never_stopped.day == 130
    a, b = never_stopped.results(), continued.results()
    pd.testing.assert_frame_equal(a.daily, b.daily, check_exact=True)
    pd.testing.assert_frame_equal(a.units_monthly, b.units_monthly, check_exact=True)
    assert a.summary == b.summary
    a.write(tmp_path / "a", plot=False)
    b.write(tmp_path / "b", plot=False)
    for f in ("daily.parquet", "units_monthly.parquet", "summary.json"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f


def test_another_scenario_takes_effect_from_the_states_day_and_keeps_the_state(saved):
    _, m, path = saved
    final = load_scenario(FINAL, {"city.scale": 0.01})
    got = load_state(path, final)
    assert got.day == 70 and got.month == m.month                          # the calendar continues
    assert (got.cfg.city.start_year, got.cfg.city.start_month) == (2018, 11) and got.calendar_month() == 1
    assert got.cfg.rules == final.rules and got.base_cfg.name == final.name  # its rules are in force
    assert got.units.cfg.rules == final.rules and got.catalogue.accuracy == final.rules.dispatch.catalogue_accuracy
    np.testing.assert_array_equal(got.citizens.trust, m.citizens.trust)   # the residents as they were
    np.testing.assert_array_equal(got.sources.stock, m.sources.stock)
    np.testing.assert_array_equal(got.orders.remaining, m.orders.remaining)
    np.testing.assert_array_equal(got.units.exhaustion, m.units.exhaustion)
    assert got.orders.open_idx.size == m.orders.open_idx.size > 0
    got.run(20)
    got.check_invariants()


def test_another_seed_starts_from_the_same_state_and_draws_anew(saved):
    cfg, m, path = saved
    a, b = load_state(path, cfg), load_state(path, cfg, seed=11)
    assert b.seed == 11
    np.testing.assert_array_equal(a.citizens.trust, b.citizens.trust)
    a.run(15), b.run(15)
    assert a.daily[-1]["contacts"] != b.daily[-1]["contacts"] or a.daily[-1]["closed"] != b.daily[-1]["closed"]


def test_a_state_is_data_only(saved):
    meta, arrays = read_state(saved[2])
    assert meta["format"] == "jiesu-state" and meta["day"] == 70 and meta["seed"] == 3
    assert all(not a.dtype.hasobject for a in arrays.values())
    with zipfile.ZipFile(saved[2]) as z:
        assert sorted(z.namelist()) == ["arrays.npz", "meta.json"]


def _rewrite(src, dst, meta_change=None, arrays=None):
    with zipfile.ZipFile(src) as z:
        meta, blob = json.loads(z.read("meta.json")), z.read("arrays.npz")
    if meta_change:
        meta_change(meta)
    if arrays is not None:
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        blob = buf.getvalue()
    with zipfile.ZipFile(dst, "w") as z:
        z.writestr("meta.json", json.dumps(meta))
        z.writestr("arrays.npz", blob)
    return dst


BAD_STATES = {
    "empty file": lambda src, p: p.write_bytes(b"") or p,
    "not a zip": lambda src, p: p.write_text("hello") or p,
    "zip without meta": lambda src, p: zipfile.ZipFile(p, "w").close() or p,
    "other format version": lambda src, p: _rewrite(src, p, lambda m: m.update(format_version=99)),
    "other model version": lambda src, p: _rewrite(src, p, lambda m: m.update(model_version="0.0.0")),
    "other format": lambda src, p: _rewrite(src, p, lambda m: m.update(format="something")),
    "pickled objects": lambda src, p: _rewrite(src, p, arrays={"x": np.array([{"a": 1}], dtype=object)}),
    "a directory": lambda src, p: p.mkdir() or p,
}


@pytest.mark.parametrize("case", list(BAD_STATES))
def test_a_bad_state_is_refused_in_one_line_with_exit_2_and_nothing_written(saved, tmp_path, capsys, case):
    bad = BAD_STATES[case](saved[2], tmp_path / "bad.state")
    out = tmp_path / "out"
    rc = main(["run", str(FINAL), "--from-state", str(bad), "--days", "3", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and "--from-state" in err and "Traceback" not in err, err
    assert not out.exists()


def test_a_state_of_another_scale_or_structure_is_refused(saved, tmp_path, capsys):
    path = saved[2]
    with pytest.raises(StateError, match="city.scale"):
        load_state(path, load_scenario(FINAL, {"city.scale": 0.02}))
    with pytest.raises(StateError, match="caller_tail_shape"):
        load_state(path, load_scenario(FINAL, {"city.scale": 0.01, "world.demand.caller_tail_shape": 1.9}))
    rc = main(["run", str(FINAL), "--from-state", str(path), "--scale", "0.02", "--out", str(tmp_path / "o")])
    assert rc == 2 and "city.scale" in capsys.readouterr().err


def test_the_command_line_saves_and_continues(tmp_path, capsys):
    state = tmp_path / "s.state"
    assert main(["run", str(FINAL), "--scale", "0.01", "--days", "20", "--seed", "4", "--quiet", "--no-plot",
                 "--out", str(tmp_path / "a"), "--save-state", str(state)]) == 0
    assert state.exists() and not list(tmp_path.glob(".tmp-*"))
    assert main(["run", str(FINAL), "--from-state", str(state), "--days", "10", "--quiet", "--no-plot",
                 "--out", str(tmp_path / "b")]) == 0          # scale and seed come from the state
    printed = capsys.readouterr().out
    assert "from day 20" in printed and "scale 0.01, seed 4" in printed
    assert len(pd.read_parquet(tmp_path / "b" / "daily.parquet")) == 30
    rc = main(["run", str(FINAL), "--days", "2", "--save-state", str(tmp_path), "--out", str(tmp_path / "c")])
    assert rc == 2 and not (tmp_path / "c").exists()             # a directory: refused before the run
