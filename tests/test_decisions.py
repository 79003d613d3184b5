"""Units' decisions answer the consequences the rules attach to them (model/decisions.py).

No rule sets a behaviour value (a scan of the behaviour code); with ``incentive_weight = 0``
rules change scores but no decision; on hand-built month counts each rule moves the payoff of
the act it targets; in runs with replicates each lever moves its decision the expected way.
"""

from __future__ import annotations

import ast
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from conftest import FINAL

from model import load_scenario
from model.assessment import HOUR_FIELDS, Ledger
from model.decisions import Beliefs, consequences, remedial_stake
from model.model import Model
from model.world import KIND_TOWNSHIP

MODEL = Path(__file__).resolve().parents[1] / "model"
# rules read in behaviour code, each what the system provides, not what a unit does:
# the channel for units' own source work (Art. 25-26) and the district's staff for a remedial township (Art. 5)
ALLOWED = {"proactive.unit_source_work", "sanctions.remedial_support"}
DECISION_COLUMNS = ["p_answer_whistle", "p_cooperate", "p_whistle", "p_object_bucketpass", "p_claim_resolved",
                    "coop_priority", "effort_resolve", "effort_satisfy", "effort_game", "effort_proactive"]


def rules_reads(path: Path) -> list[str]:
    """Every ``….rules.X.Y`` read in a module's code (a bare ``….rules``, e.g. an alias, counts too)."""
    tree = ast.parse(path.read_text())
    parent = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "rules":
            chain, here = [], node
            while isinstance(parent.get(here), ast.Attribute) and parent[here].value is here and len(chain) < 2:
                here = parent[here]
                chain.append(here.attr)
            found.append(".".join(chain) if chain else "<rules>")
    return found


def test_no_rule_sets_a_behaviour_value():
    for module in ("behaviour.py", "decisions.py"):
        reads = rules_reads(MODEL / module)
        assert set(reads) <= ALLOWED, f"{module} reads {sorted(set(reads) - ALLOWED)}"
    assert "rules" not in (MODEL / "decisions.py").read_text().split('"""')[-1].replace("rules'", "")


def month_counts(city, **fields) -> dict:
    v = Ledger(city.n_units).v
    for k, x in fields.items():
        v[k] = np.asarray(x, float) * np.ones(city.n_units)
    for k in HOUR_FIELDS:
        v[k] = v[k] + 100.0
    return v


@pytest.fixture(scope="module")
def world():
    m = Model(load_scenario(FINAL, {"city.scale": 0.01}), seed=1)
    return m.city, m.unit_population_scaled


def gains(world, v, **rules):
    city, pop = world
    cfg = load_scenario(FINAL, {"city.scale": 0.01, **rules})
    current = {k: np.full(city.n_units, 0.5) for k in
               ("answer_whistle", "cooperate", "whistle", "object_bucketpass", "claim_resolved")}
    return consequences(v, cfg, city, pop, Beliefs(city, cfg), current)


def test_each_rule_moves_the_payoff_of_the_act_it_targets(world):
    city, _ = world
    rng = np.random.default_rng(0)
    n = city.n_units
    base = dict(closed=40, in_scope=40, responded=38, measured_resolved=rng.uniform(28, 38, n),
                satisfied=rng.uniform(30, 39, n), true_resolved=30, hard=5, hard_measured_resolved=3,
                coop_orders=10, coop_delivered=4, coop_measured_resolved=3, coop_requests=6, whistles_received=6,
                whistles_answered=3, whistles_sent=4, whistled_orders=4, whistled_resolved=3, audited=2)
    v = month_counts(city, **base)
    dept = city.unit_kind != KIND_TOWNSHIP
    none = gains(world, v, **{"rules.assessment.cooperation_scoring": "none", "rules.assessment.dual_whistle": False})
    assert np.allclose(none["cooperate"], 0) and np.allclose(none["answer_whistle"], 0)   # nothing scores it
    dual = gains(world, v, **{"rules.assessment.cooperation_scoring": "none", "rules.assessment.dual_whistle": True})
    assert (dual["answer_whistle"][dept & np.isfinite(dual["answer_whistle"])] >= 0).all()
    assert dual["answer_whistle"][dept].mean() > 0.01                  # dual assessment: answering pays
    diff = gains(world, v, **{"rules.assessment.cooperation_scoring": "differential"})
    equal = gains(world, v, **{"rules.assessment.cooperation_scoring": "equal"})
    assert diff["cooperate"][dept].mean() > 0.01 and equal["cooperate"][dept].mean() > 0
    assert not np.allclose(diff["cooperate"], equal["cooperate"])      # the two scorings differ
    # a false claim: pays where it passes uncaught, costs where the audit is believed to catch it
    caught = Beliefs(city, load_scenario(FINAL, {"city.scale": 0.01}))
    cfg = load_scenario(FINAL, {"city.scale": 0.01})
    cur = {k: np.full(n, 0.5) for k in ("answer_whistle", "cooperate", "whistle", "object_bucketpass", "claim_resolved")}
    caught.value["claim_detected"][:] = 0.9
    loose = Beliefs(city, cfg)
    loose.value["claim_detected"][:] = 0.0
    g_caught = consequences(v, cfg, city, world[1], caught, cur)["claim_resolved"]
    g_loose = consequences(v, cfg, city, world[1], loose, cur)["claim_resolved"]
    acting = g_loose != 0
    assert (g_caught[acting] < g_loose[acting]).all() and g_loose[acting].mean() > 0 > g_caught[acting].mean()


def test_remedial_stake_follows_the_sanction_strength():
    assert remedial_stake(load_scenario(FINAL)) == pytest.approx(load_scenario(FINAL).rules.sanctions.strength)
    assert remedial_stake(load_scenario(FINAL, {"rules.sanctions.strength": 3.0})) == pytest.approx(3.0)


def test_beliefs_move_toward_experience_own_and_peers():
    m = Model(load_scenario(FINAL, {"city.scale": 0.01}), seed=1)
    b = Beliefs(m.city, m.cfg)
    v = Ledger(m.city.n_units).v
    v["false_claims"][:] = 10.0
    v["detected"][:] = 0.0
    v["detected"][0] = 10.0                  # unit 0 is always caught; its peers never
    before = b.value["claim_detected"].copy()
    b.update(v, m.cfg)
    after = b.value["claim_detected"]
    assert after[0] > before[0] and (after[1:] <= before[1:] + 1e-12).all()
    assert after[0] < 1.0                     # memory and peers temper one month's evidence


def run_decisions(args):
    overrides, seed, days = args
    m = Model(load_scenario(FINAL, {"city.scale": 0.02, **overrides}), seed=seed).run(days)
    um = {k: np.concatenate([r[k] for r in m.unit_months])
          for k in DECISION_COLUMNS + ["unit", "hours_overtime", "coop_requests", "whistles_received", "closed"]}
    daily = np.array([d["true_resolution_rate"] for d in m.daily], float)
    return um, daily


ZERO = {"world.behaviour.incentive_weight": 0.0, "rules.sanctions.remedial_support": 0.0,
        "world.behaviour.exhaustion_sanction_gain": 0.0}
LEVERS = {"dual off": {"rules.assessment.dual_whistle": False},
          "no cooperation scoring": {"rules.assessment.cooperation_scoring": "none"},
          "strong audit": {"rules.audit.sample_share": 0.2, "rules.audit.detection": 0.9},
          "harsh sanctions": {"rules.sanctions.strength": 3.0, "rules.sanctions.falsification": 300.0}}


def test_at_zero_incentive_weight_rules_change_scores_but_no_decision():
    """Same seed: identical decision tables (and true outcomes) whatever the assessment rules."""
    jobs = [(ZERO, 1, 95)] + [({**ZERO, **lever}, 1, 95) for lever in LEVERS.values()]
    with ProcessPoolExecutor(2) as ex:
        (ref, ref_daily), *others = list(ex.map(run_decisions, jobs))
    for name, (um, daily) in zip(LEVERS, others):
        for col in DECISION_COLUMNS:
            np.testing.assert_array_equal(um[col], ref[col], err_msg=f"{name}: {col}")
        np.testing.assert_array_equal(daily, ref_daily, err_msg=name)


@pytest.mark.slow
def test_at_the_calibrated_weight_each_lever_moves_its_decision_the_expected_way():
    """Three seeds per arm; each difference must exceed three standard errors of the paired differences."""
    arms = {"base": {}, "coop none": {"rules.assessment.cooperation_scoring": "none"},
            "coop equal": {"rules.assessment.cooperation_scoring": "equal"},
            "dual off (coop none)": {"rules.assessment.cooperation_scoring": "none", "rules.assessment.dual_whistle": False},
            "strong audit": {"rules.assessment.resolved_by": "audit", "rules.audit.sample_share": 0.2,
                             "rules.audit.detection": 0.95},          # scenarios/strong_audit.toml
            "harsh": {"rules.sanctions.strength": 3.0}}
    seeds = (1, 2, 3)
    jobs = [(o, s, 125) for o in arms.values() for s in seeds]
    with ProcessPoolExecutor(2) as ex:
        out = list(ex.map(run_decisions, jobs))
    res = {name: out[i * len(seeds):(i + 1) * len(seeds)] for i, name in enumerate(arms)}

    weight = {"p_cooperate": "coop_requests", "coop_priority": "coop_requests", "p_answer_whistle": "whistles_received",
              "p_claim_resolved": "closed"}

    def stat(name, col):
        """Each seed's mean over units and months, weighted by the opportunities the decision had."""
        if col not in weight:
            return np.array([um[col].mean() for um, _ in res[name]])
        return np.array([np.average(um[col], weights=um[weight[col]] + 1e-9) for um, _ in res[name]])

    def holds(diff):          # paired over seeds: mean beyond three standard errors
        return diff.mean() > 3 * diff.std(ddof=1) / np.sqrt(len(diff)) + 1e-12

    assert holds(stat("base", "p_cooperate") - stat("coop none", "p_cooperate"))       # scoring cooperation
    assert holds(stat("base", "coop_priority") - stat("coop none", "coop_priority"))   # ... and faster
    assert abs((stat("base", "p_cooperate") - stat("coop equal", "p_cooperate")).mean()) > 0.01   # differ
    assert holds(stat("coop none", "p_answer_whistle") - stat("dual off (coop none)", "p_answer_whistle"))
    assert holds(stat("base", "p_claim_resolved") - stat("strong audit", "p_claim_resolved"))  # audit deters
    assert holds(stat("harsh", "hours_overtime") - stat("base", "hours_overtime"))     # harsher: more pushing
