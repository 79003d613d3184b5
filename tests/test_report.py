"""``jiesu report`` (issue 11): the regulation's articles as data, the parameter sets, outcomes
over the window after a state's day, the report's numbers against a direct paired computation,
the HTML as a reader opens it (headless Chromium: no console errors, both languages, every
figure loads, prints to PDF), resume, and bad input (one line, exit 2, nothing written).

One tiny report for the module: a state of final_2021 at scale 0.003 after 40 days, then
baseline final_2021 against harsh_sanctions and second_draft_2021 (identical rules: every
difference must be exactly 0) for 20 days, 2 parameter sets x 2 replicates, serial.
"""

from __future__ import annotations

import io
import math
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import FINAL, JIESU, ROOT, SCENARIOS
from scipy import stats

from experiments.cli import main
from experiments.report import analysis
from experiments.report.posterior import load_posterior, parameter_sets
from experiments.report.regulation import article_numbers, articles, parse_markdown
from experiments.report.runs import OUTCOMES, window_outcomes
from model import load_scenario
from model.model import Model
from model.state import save_state

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser import CHROMIUM, Browser  # noqa: E402

REFERENCE = Path("/work/shared/reference/regulation-2021.zh.md")
ARMS = [str(FINAL), str(SCENARIOS / "harsh_sanctions.toml"), str(SCENARIOS / "second_draft_2021.toml")]
SMALL = ["--days", "20", "--replicates", "2", "--ensemble", "2", "--seed", "5", "--serial", "--quiet"]


@pytest.fixture(scope="module")
def state(tmp_path_factory):
    m = Model(load_scenario(FINAL, {"city.scale": 0.003}), seed=2).run(40)
    return save_state(m, tmp_path_factory.mktemp("state") / "s.state")


@pytest.fixture(scope="module")
def report(state, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "r"
    assert main(["report", *ARMS, "--from-state", str(state), *SMALL, "--out", str(out)]) == 0
    return out


def _runs(out: Path) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(f) for f in sorted((out / "runs").glob("batch-*.parquet"))])


# ---------------------------------------------------------------------------------- data
def test_the_regulation_ships_whole_with_a_gloss_per_article():
    arts = articles()
    assert sorted(arts) == list(range(1, 39))
    for n, a in arts.items():
        assert a["zh"].startswith("第") and "条" in a["zh"][:6], n
        assert a["gloss_en"] and a["chapter"].startswith("第")
    assert "首接负责制" in arts[14]["zh"] and "双考核" in arts[33]["zh"]
    if REFERENCE.exists():          # the shipped text is the reference text, article by article
        ref = parse_markdown(REFERENCE.read_text(encoding="utf-8"))
        assert {n: a["zh"] for n, a in ref.items()} == {n: a["zh"] for n, a in arts.items()}


def test_config_article_metadata_reads_as_article_numbers():
    assert article_numbers("Art. 15(1), 32") == [15, 32]
    assert article_numbers("Art. 25-26") == [25, 26]
    assert article_numbers("Art. 11(2)3,5") == [11]
    assert article_numbers("Art. 12(1)1, 20") == [12, 20]
    assert article_numbers("Art. 14; seed (首接、配合单位差别化考评)") == [14]
    assert article_numbers("seed") == [] and article_numbers("") == []
    text = (ROOT / "model" / "config.py").read_text(encoding="utf-8")
    for ref in set(re.findall(r'article="(Art[^"]*)"', text)):     # every cited article is in the data file
        assert article_numbers(ref) and set(article_numbers(ref)) <= set(articles()), ref


def test_parameter_sets_start_at_the_adopted_values_and_stay_in_their_boxes():
    post = load_posterior()
    assert parameter_sets(post, 1, 0) == [{}]
    sets = parameter_sets(post, 6, 0)
    assert sets == parameter_sets(post, 6, 0) and sets[0] == {} and len(sets) == 6
    drawn = {p.key: p for p in post.drawn}
    assert "world.capacity.ratio" not in drawn and "world.citizens.honesty" in drawn   # launch conditions stay
    for s in sets[1:]:
        assert set(s) == set(drawn)
        for k, v in s.items():
            lo, hi = drawn[k].box(post.threshold)
            assert lo - 1e-4 <= v <= hi + 1e-4, k
    honesty = drawn["world.citizens.honesty"]                       # not constrained: drawn over its prior
    assert honesty.box(post.threshold) == honesty.prior
    lhs = sorted(s["world.handling.solve_prob"] for s in sets[1:])   # one draw per fifth of the interval
    lo, hi = drawn["world.handling.solve_prob"].box(post.threshold)
    assert [int((v - lo) / (hi - lo) * 5 - 1e-9) for v in lhs] == [0, 1, 2, 3, 4]


# ---------------------------------------------------------------------------------- the window
def test_from_the_start_the_window_outcomes_are_the_runs_summary():
    m = Model(load_scenario(FINAL, {"city.scale": 0.002, "city.days": 35}), seed=4).run(35)
    w, s = window_outcomes(m, 0), m.results().summary
    for k in OUTCOMES:
        assert w[k] == pytest.approx(s[k], rel=1e-12, abs=1e-12), k


def test_from_a_state_only_the_days_after_the_states_day_count(state):
    from model.measures import city_rates
    from model.orders import CLOSED
    from model.state import load_state

    m = load_state(state, load_scenario(FINAL, {"city.scale": 0.003}), seed=9)
    day0 = m.day
    m.run(15)
    w = window_outcomes(m, day0)
    wo = m.orders
    after = np.flatnonzero((wo.state[: wo.n] == CLOSED) & (wo.ti_closed[: wo.n] >= day0))
    assert 0 < after.size < int((wo.state[: wo.n] == CLOSED).sum())        # the history's orders are left out
    assert w["resolution_rate"] == city_rates(wo, after, m.cfg.rules.deadlines.response_days)["resolution_rate"]
    assert w["objections"] == float(wo.n_objections[: wo.n][wo.ti_created[: wo.n] >= day0].sum())
    days = [r for r in m.daily if r["day"] >= day0]
    assert len(days) == 15 and w["mean_exhaustion"] == pytest.approx(np.mean([r["mean_exhaustion"] for r in days]))


# ---------------------------------------------------------------------------------- the numbers
def test_the_reports_differences_equal_a_direct_paired_computation(report):
    runs = _runs(report)
    table = pd.read_csv(report / "differences.csv")
    assert len(runs) == 3 * 2 * 2 and runs["error"].isna().all()
    base = runs[runs["arm"] == "final_2021"].set_index(["row", "replicate"]).sort_index()
    for arm in ("harsh_sanctions", "second_draft_2021"):
        a = runs[runs["arm"] == arm].set_index(["row", "replicate"]).sort_index()
        assert (a["seed"] == base["seed"]).all()                     # common random numbers
        for k in OUTCOMES:
            d = (a[k] - base[k]).to_numpy(float)
            row = table[(table["scenario"] == arm) & (table["outcome"] == k)].iloc[0]
            assert row["diff"] == pytest.approx(d.mean(), abs=1e-12), (arm, k)
            assert row["mean"] == pytest.approx(a[k].mean(), abs=1e-12)
            half = stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / math.sqrt(d.size)
            assert row["ci_low"] == pytest.approx(d.mean() - half, abs=1e-12)
            per_set = (a[k] - base[k]).groupby(level="row").mean().to_numpy()
            holds = int((np.sign(per_set) == np.sign(d.mean())).sum()) if d.mean() != 0 else 0
            assert row["sign_holds"] == holds and row["sets"] == 2
            assert row["verdict"] == analysis.verdict(row["ci_low"], row["ci_high"], holds, 2)
    same = table[table["scenario"] == "second_draft_2021"]
    assert (same["diff"] == 0).all() and (same["verdict"] == "none").all()   # identical rules: exactly 0


def test_the_html_shows_the_tables_numbers_and_the_articles(report):
    html = (report / "report.html").read_text(encoding="utf-8")
    table = pd.read_csv(report / "differences.csv")
    for r in table[table["scenario"] == "harsh_sanctions"].itertuples():
        shown = re.search(rf'data-arm="harsh_sanctions".*?data-outcome="{r.outcome}" data-diff="([^"]+)"', html, re.S)
        assert shown and float(shown.group(1)) == pytest.approx(r.diff, abs=1e-15), r.outcome
    assert "第三十五条" in html and "Art. 35" in html                   # harsh_sanctions changes Art. 35 levers
    assert "rules.sanctions.strength" in html
    assert "not a translation" in html and "jiesu report " in html and "sha256" in html
    assert "http://" not in html and "https://" not in html            # nothing to fetch
    assert html.count('src="data:image/png;base64,') == 4


def test_running_the_same_command_again_resumes_and_runs_nothing(report, state, capsys):
    before = (report / "differences.csv").read_text()
    assert main(["report", *ARMS, "--from-state", str(state), *SMALL, "--out", str(report)]) == 0
    assert ", 0 run(s) now" in capsys.readouterr().out
    assert (report / "differences.csv").read_text() == before


# ---------------------------------------------------------------------------------- in a browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no {CHROMIUM} (make test installs it as root)")
def test_the_report_opens_offline_shows_both_languages_loads_every_figure_and_prints(report):
    visible = "(sel) => [...document.querySelectorAll(sel)].filter(e => e.offsetParent !== null).length"
    with Browser() as b:
        page = b.new_page()
        page.goto((report / "report.html").as_uri())
        page.wait_for("document.readyState === 'complete'")
        page.wait_for("[...document.images].every(i => i.complete)", what="the figures")
        assert page.evaluate("[...document.images].filter(i => i.naturalWidth > 0).length") == 4
        assert page.evaluate(f"({visible})('.l-zh')") > 20 and page.evaluate(f"({visible})('.l-en')") > 20
        assert "结论摘要" in page.text() and "Summary" in page.text()
        page.click_text("English", ".switch button")
        assert page.evaluate(f"({visible})('.l-zh')") == 0 and page.evaluate(f"({visible})('.l-en')") > 20
        page.click_text("中文", ".switch button")
        assert page.evaluate(f"({visible})('.l-en')") == 0 and page.evaluate(f"({visible})('.l-zh')") > 20
        pdf = page.print_pdf()
        assert pdf.startswith(b"%PDF") and len(pdf) > 50_000
        assert page.errors == [] and page.failed == []
        assert all(u.startswith(("file:", "data:")) for u in page.requests), page.requests


# ---------------------------------------------------------------------------------- bad input
def _refused(capsys, argv, out: Path) -> str:
    assert main(argv + ["--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err
    assert not out.exists()                                          # nothing written
    return err


def test_bad_input_is_one_line_exit_2_and_nothing_written(state, tmp_path, capsys):
    out = tmp_path / "never"
    two = ARMS[:2]
    assert "unknown language 'fr'" in _refused(capsys, ["report", *two, *SMALL, "--lang", "fr"], out)
    assert "at most 10 parameter sets" in _refused(capsys, ["report", *two, *SMALL, "--ensemble", "11"], out)
    assert "no such file" in _refused(capsys, ["report", *two, "--from-state", str(tmp_path / "no.state"), *SMALL], out)
    text = tmp_path / "text.state"
    text.write_text("not a state")
    assert "not a zip archive" in _refused(capsys, ["report", *two, "--from-state", str(text), *SMALL], out)
    foreign = tmp_path / "foreign.state"
    with zipfile.ZipFile(foreign, "w") as z:
        z.writestr("meta.json", '{"format": "something-else"}')
        z.writestr("arrays.npz", io.BytesIO().getvalue())
    assert "not a jiesu state file" in _refused(capsys, ["report", *two, "--from-state", str(foreign), *SMALL], out)
    other = tmp_path / "other_structure.toml"
    other.write_text(f'extends = "{FINAL}"\nname = "other"\n[world.demand]\nneed_spread = 0.9\n')
    err = _refused(capsys, ["report", str(FINAL), str(other), "--from-state", str(state), *SMALL], out)
    assert "world.demand.need_spread" in err and "same set-up" in err
    assert "was made at scale 0.003" in _refused(
        capsys, ["report", *two, *SMALL, "--from-state", str(state), "--scale", "0.01"], out)
    assert _refused(capsys, ["report", str(FINAL), *SMALL], out)      # a baseline and no arm


def test_the_command_line_refuses_a_bad_language_before_anything_runs(tmp_path):
    jiesu = [str(JIESU)] if JIESU.exists() else [sys.executable, "-m", "experiments.cli"]
    out = tmp_path / "never"
    proc = subprocess.run([*jiesu, "report", *ARMS[:2], "--lang", "de", "--out", str(out)], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().count("\n") == 0 and "unknown language 'de'" in proc.stderr
    assert not out.exists()


def test_parsing_and_refusing_a_report_imports_no_simulation_libraries(tmp_path):
    import json

    heavy = ("mesa", "scipy.stats", "pandas", "matplotlib", "pyarrow", "networkx", "jinja2")
    code = ("import json, sys\nfrom experiments.cli import main\n"
            f"rc = [main({['report', *ARMS[:2], '--lang', 'xx']!r}),\n"
            f"      main({['report', *ARMS[:2], '--ensemble', '99', '--out', str(tmp_path / 'o')]!r})]\n"
            "print(json.dumps([rc, sorted(sys.modules)]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    rc, mods = json.loads(proc.stdout.strip().splitlines()[-1])
    assert rc == [2, 2] and "experiments.report" in mods
    assert not [m for m in heavy if m in mods], [m for m in heavy if m in mods]


def test_a_calibration_output_gives_its_accepted_rows_highest_weight_first(tmp_path):
    rows = pd.DataFrame({"arm": "h", "row": range(4), "world.citizens.honesty": [0.8, 0.9, 0.75, 0.95],
                         "world.capacity.ratio": [0.6, 0.7, 0.8, 0.9], "distance": [0.5, 0.2, 0.9, 3.0],
                         "weight": [0.5, 0.9, 0.1, 0.0]})
    rows.to_csv(tmp_path / "calibration.csv", index=False)
    post = load_posterior(tmp_path)
    assert post.accepted_rows == 3 and [p.key for p in post.drawn] == ["world.citizens.honesty"]   # launch: not drawn
    assert parameter_sets(post, 3, 0) == [{}, {"world.citizens.honesty": 0.9}, {"world.citizens.honesty": 0.8}]
    with pytest.raises(Exception, match="at most 3 parameter sets"):
        parameter_sets(post, 4, 0)


def test_one_language_renders_only_that_language_from_the_same_runs(report, state, tmp_path):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(report, out)
    assert main(["report", *ARMS, "--from-state", str(state), *SMALL, "--lang", "en", "--out", str(out)]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'class="l-zh' not in html and 'class="switch"' not in html and 'class="l-en' in html
    assert "第三十五条" not in html                      # the Chinese article text comes only with zh
    assert (out / "differences.csv").read_text() == (report / "differences.csv").read_text()


def test_another_report_into_a_folder_of_runs_is_refused_and_changes_nothing(report, state, capsys):
    before = {p.name: p.read_bytes() for p in [report / "report.html", report / "manifest.json"]}
    assert main(["report", *ARMS, "--from-state", str(state), *SMALL, "--seed", "6", "--out", str(report)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err and "different" in err
    assert {p.name: p.read_bytes() for p in [report / "report.html", report / "manifest.json"]} == before
