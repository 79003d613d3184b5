"""The scenario files: every one validates, says truthfully what it changes, and resolves.

Each scenario file's header lists the keys it changes relative to final_2021 on
``# changes:`` lines; the resolved values must differ from final_2021 in exactly those keys
(so a scenario never silently drifts from its description, and never pins a value it is not
about). The generated docs (docs/rules.md, scenarios/README.md) must be up to date.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import FINAL, SCENARIOS

from experiments.rules_table import flatten
from model import load_scenario
from model.scenario import read_chain

FILES = sorted(SCENARIOS.glob("*.toml"))
IGNORED = {"name", "description"}
KEY = re.compile(r"\b[a-z_]+(?:\.[a-z_0-9]+)+\b")


def claimed_changes(path: Path) -> set[str] | None:
    """Dotted keys on the header's ``# changes:`` lines (text in parentheses is commentary)."""
    keys, found = set(), False
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        m = re.match(r"#\s*changes:(.*)", line)
        if m:
            found = True
            keys |= set(KEY.findall(re.sub(r"\([^)]*\)?", "", m.group(1))))
    return keys if found else None


def resolved(path: Path) -> dict:
    return {k: v for k, v in flatten(load_scenario(path).model_dump(mode="json")).items() if k not in IGNORED}


def extends_chain(path: Path) -> list[str]:
    import tomllib

    chain, p = [path.name], path
    while True:
        with open(p, "rb") as fh:
            parent = tomllib.load(fh).get("extends")
        if parent is None:
            return chain
        p = (p.parent / parent).resolve()
        assert p.exists(), f"{path.name}: extends {parent} which does not exist"
        assert p.name not in chain, f"{path.name}: circular extends {chain + [p.name]}"
        chain.append(p.name)


def test_there_are_scenario_files():
    names = {p.stem for p in FILES}
    assert {"final_2021", "reform_2019", "second_draft_2021", "satisfaction_only", "resolution_only", "no_audit",
            "strong_audit", "harsh_sanctions", "no_whistle", "per_capita_volume"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_scenario_file_validates_and_is_named_after_its_file(path):
    cfg = load_scenario(path)
    assert cfg.name == path.stem
    assert cfg.description, f"{path.name}: give the scenario a description"
    assert path.read_text(encoding="utf-8").startswith("#"), f"{path.name}: needs a header comment"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_extends_chain_resolves_to_final_2021_and_merges_child_over_parent(path):
    chain = extends_chain(path)
    assert chain[-1] == FINAL.name, f"{path.name}: chain {chain} does not end at {FINAL.name}"
    # the merged data of the chain is exactly what load_scenario validates
    data = read_chain(path)
    data.setdefault("name", path.stem)
    assert load_scenario(path).model_dump() == type(load_scenario(path)).model_validate(data).model_dump()


ARMS = [p for p in FILES if p != FINAL and not load_scenario(p).timeline]


@pytest.mark.parametrize("path", ARMS, ids=lambda p: p.stem)
def test_scenario_differs_from_final_in_exactly_the_keys_its_header_claims(path):
    claimed = claimed_changes(path)
    assert claimed is not None, f"{path.name}: header needs '# changes: <dotted keys>' lines (or '# changes: (none)')"
    base, mine = resolved(FINAL), resolved(path)
    unknown = claimed - set(base)
    assert not unknown, f"{path.name}: header claims keys that are not in the schema: {sorted(unknown)}"
    differ = {k for k in base if base[k] != mine[k]}
    assert differ == claimed, (f"{path.name}: differs from final_2021 in {sorted(differ)}, "
                               f"header claims {sorted(claimed)}")


def test_every_arm_says_which_articles_it_is_about():
    for path in ARMS:
        head = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#"))
        assert re.search(r"Art\. \d+", head), f"{path.name}: header cites no article"


def test_reform_2019_volume_is_the_2019_level_from_facts():
    cfg = load_scenario(SCENARIOS / "reform_2019.toml")
    assert cfg.world.demand.contacts_per_capita_year == pytest.approx(6.96 / 21.89, abs=0.005)
    assert cfg.city.start_year == 2019


def test_second_draft_has_every_lever_the_seed_names_switched_on():
    a = load_scenario(SCENARIOS / "second_draft_2021.toml").rules
    assert a.assessment.graded_classified and a.assessment.dual_whistle and a.assessment.exclude_unreasonable
    assert a.assessment.cooperation_scoring == "differential"
    assert a.assessment.proactive_credit > 0 and a.assessment.hard_credit > 0 and a.assessment.reward > 0
    assert a.proactive.topic_of_month


def test_generated_docs_are_up_to_date():
    from experiments.rules_table import main

    assert main(["--check"]) == 0, "docs/rules.md or scenarios/README.md is stale: run python -m experiments.rules_table"
