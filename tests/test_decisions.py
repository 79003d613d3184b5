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

from model import kernels, load_scenario
from model.assessment import HOUR_FIELDS, Ledger
from model.decisions import (
    DECISIONS,
    SPLIT_USES,
    YIELD_FIELDS,
    Beliefs,
    Yields,
    class_slopes,
    consequences,
    evidence_tally,
    real_work_lost,
    remedial_stake,
    split_gains,
)
from model.model import Model
from model.world import KIND_TOWNSHIP

MODEL = Path(__file__).resolve().parents[1] / "model"
# rules read in behaviour code, each what the system provides, not what a unit does:
# the channel for units' own source work (Art. 25-26) and the district's staff for a remedial township (Art. 5)
ALLOWED = {"proactive.unit_source_work", "sanctions.remedial_support"}
# handling's decision code (the unit's acts) may read only what the hotline provides: the whistle
# channel (Art. 16), whether it grants extensions and for how long (Art. 15(2)), and the ledger's
# Art. 36 forgiveness of a hard order's overdue (bookkeeping of the assessment, not a choice)
HANDLING_DECISIONS = ("seek_cooperation", "judge_unreasonable", "game", "finish_and_close", "finish_worked",
                      "flag_overdue", "explain_unsolvable")
ALLOWED_HANDLING = {"whistle.enabled", "deadlines.extensions", "deadlines.extension_days", "sanctions.error_tolerance"}
DECISION_COLUMNS = ["p_answer_whistle", "p_cooperate", "p_whistle", "p_object_bucketpass", "p_claim_resolved",
                    "coop_priority", "effort_resolve", "effort_satisfy", "effort_game", "effort_proactive",
                    "p_extend", "p_explain", "p_explain_blocked", "p_press", "pressure_share"]


def rules_reads(path: Path, functions: tuple[str, ...] = ()) -> list[str]:
    """Every ``….rules.X.Y`` read in a module's code (a bare ``….rules``, e.g. an alias, counts too),
    or only in the named top-level ``functions``."""
    tree = ast.parse(path.read_text())
    if functions:
        tree = ast.Module(body=[f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name in functions],
                          type_ignores=[])
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
    found = rules_reads(MODEL / "handling.py", HANDLING_DECISIONS)
    assert found and set(found) <= ALLOWED_HANDLING, f"handling.py reads {sorted(set(found) - ALLOWED_HANDLING)}"


def test_the_scan_finds_a_rule_read_in_a_decision_function(tmp_path):
    """The scan is not blind: a decision function reading a rule is found."""
    f = tmp_path / "m.py"
    f.write_text("def game(model):\n    return model.cfg.rules.sanctions.pressure\n\ndef other(m):\n"
                 "    return m.cfg.rules.audit.detection\n")
    assert rules_reads(f, ("game",)) == ["sanctions.pressure"]
    assert sorted(rules_reads(f)) == ["audit.detection", "sanctions.pressure"]


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
    current = {k: np.full(city.n_units, 0.5) for k in DECISIONS}
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
    cur = {k: np.full(n, 0.5) for k in DECISIONS}
    caught.value["claim_detected"][:] = 0.9
    loose = Beliefs(city, cfg)
    loose.value["claim_detected"][:] = 0.0
    g_caught = consequences(v, cfg, city, world[1], caught, cur)["claim_resolved"]
    g_loose = consequences(v, cfg, city, world[1], loose, cur)["claim_resolved"]
    acting = g_loose != 0
    assert (g_caught[acting] < g_loose[acting]).all() and g_loose[acting].mean() > 0 > g_caught[acting].mean()


def test_an_extension_pays_the_overdue_sanction_it_spares(world):
    """Overdue enters only the sanctions (Art. 35(2)), so asking for an extension on every candidate
    instead of none pays exactly sanctions.overdue x the overdue it spares (1 - the share of extended
    orders believed to fall due anyway, less the share forgiven, Art. 36) per closed order."""
    city, pop = world
    v = month_counts(city, closed=40, in_scope=40, responded=38, measured_resolved=30, satisfied=32, true_resolved=30,
                     overdue=5, overdue_hard=2, overdue_forgiven=1, extend_candidates=4, extensions=2)
    for overdue_points in (0.0, 0.5, 3.0):
        cfg = load_scenario(FINAL, {"city.scale": 0.01, "rules.sanctions.overdue": overdue_points})
        b = Beliefs(city, cfg)
        b.value["extension_late"][:] = 0.25
        cur = {k: np.full(city.n_units, 0.5) for k in DECISIONS}
        g = consequences(v, cfg, city, pop, b, cur)["extend"]
        acting = np.flatnonzero(g != 0) if overdue_points else np.arange(city.n_units)
        expected = overdue_points * 4 * (1 - 0.25) * (1 - 0.5) / 40
        np.testing.assert_allclose(g[acting], expected, rtol=1e-9)
        if overdue_points:
            assert acting.size > city.n_units // 2


def test_explaining_pays_as_explained_orders_count_against_late_worked_ones(world):
    city, pop = world
    rng = np.random.default_rng(1)
    v = month_counts(city, closed=40, in_scope=40, responded=38, measured_resolved=rng.uniform(25, 35, city.n_units),
                     satisfied=rng.uniform(28, 36, city.n_units), true_resolved=30, overdue=6, explained=2)
    cfg = load_scenario(FINAL, {"city.scale": 0.01})
    cur = {k: np.full(city.n_units, 0.3) for k in DECISIONS}

    def gain(explained, late):
        b = Beliefs(city, cfg)
        b.value["explained_measured"][:], b.value["explained_satisfied"][:] = explained
        b.value["late_measured"][:], b.value["late_satisfied"][:] = late
        return consequences(v, cfg, city, pop, b, cur)["explain"]

    assert np.allclose(gain((0.6, 0.7), (0.6, 0.7)), 0.0)          # counted alike: nothing to gain
    worse, better = gain((0.2, 0.5), (0.9, 0.8)), gain((0.9, 0.9), (0.3, 0.5))
    assert (worse <= 1e-12).all() and worse.mean() < -0.01           # explained orders count as unresolved
    assert (better >= -1e-12).all() and better.mean() > 0.01


def test_pressing_pays_the_rating_it_buys_less_the_sanction_it_risks(world):
    """With no rating lift believed, pressing costs exactly sanctions.pressure x the confirmed reports
    it is believed to bring per closed order (Art. 35(5)); a lift makes it pay where sanctions are mild."""
    city, pop = world
    rng = np.random.default_rng(2)
    v = month_counts(city, closed=40, in_scope=40, responded=38, measured_resolved=rng.uniform(25, 35, city.n_units),
                     satisfied=rng.uniform(25, 35, city.n_units), true_resolved=30, pressed_scope=8, unpressed_scope=2,
                     pressed=8, pressed_satisfied=5, pressed_measured=3)
    cur = {k: np.full(city.n_units, 0.8) for k in DECISIONS}

    def gain(points, lift, confirmed):
        cfg = load_scenario(FINAL, {"city.scale": 0.01, "rules.sanctions.pressure": points})
        b = Beliefs(city, cfg)
        for k in ("measured", "satisfied"):
            b.value[f"unpressed_{k}"][:] = 0.3
            b.value[f"pressed_{k}"][:] = 0.3 + lift
        b.value["pressure_confirmed"][:] = confirmed
        return consequences(v, cfg, city, pop, b, cur)["press"]

    flat = gain(2.0, 0.0, 0.2)
    acting = flat != 0
    assert acting.sum() > city.n_units // 2
    np.testing.assert_allclose(flat[acting], -2.0 * 10 * 0.2 / 40, rtol=1e-9)
    np.testing.assert_allclose(gain(20.0, 0.0, 0.2)[acting], -20.0 * 10 * 0.2 / 40, rtol=1e-9)
    mild, harsh = gain(2.0, 0.05, 0.1), gain(20.0, 0.05, 0.1)
    assert mild[acting].mean() > 0 > harsh[acting].mean()
    assert (harsh[acting] < mild[acting]).all()


def test_the_effort_split_is_weighed_on_its_believed_yields(world):
    """Gaming time believed to bring only caught false claims costs falsification x those per closed
    order per share moved. The public-service value of a move is the real work it gives up (the
    unit's own true resolutions per hour of real work x the staff hours moved, as far as work waits
    for them, per closed order) at intrinsic_motivation x intrinsic_scale; rating management and
    gaming are credited with no solved problems whatever peers show, source removal with the sources
    it removes."""
    city, pop = world
    rng = np.random.default_rng(3)
    v = month_counts(city, closed=40, in_scope=40, responded=38, measured_resolved=rng.uniform(25, 35, city.n_units),
                     satisfied=rng.uniform(25, 35, city.n_units), true_resolved=30, gamed=4)
    v["hours_game"] = np.full(city.n_units, 10.0)                       # 0.4 formal closures per gaming hour
    cfg = load_scenario(FINAL, {"city.scale": 0.01})
    beliefs = Beliefs(city, cfg)
    beliefs.value["claim_detected"][:] = 0.1
    y = Yields(city)
    game, satisfy, proactive = (SPLIT_USES.index(u) for u in ("game", "satisfy", "proactive"))
    y.slope[:, satisfy, YIELD_FIELDS.index("true_resolved")] = 0.5        # peers who explain more solve more
    y.slope[:, proactive, YIELD_FIELDS.index("sources_removed")] = 0.1
    pay, intrinsic = split_gains(v, cfg, city, pop, y, beliefs)
    acting = pay[:, game] != 0
    assert acting.sum() > city.n_units // 2
    staff_hours = sum(v[h] for h in ("hours_resolve", "hours_contact", "hours_coop", "hours_satisfy", "hours_game",
                                     "hours_proactive"))
    expected = -cfg.rules.sanctions.falsification * staff_hours * 0.4 * 0.1 / 40
    np.testing.assert_allclose(pay[acting, game], expected[acting], rtol=1e-6)
    b = cfg.world.behaviour
    w = b.intrinsic_motivation * b.intrinsic_scale
    lost = staff_hours * (30 / 100) * 1.0 / 40        # hours demanded 100 = hours available 100: all work waits
    np.testing.assert_allclose(intrinsic[acting, satisfy], -w * lost[acting])
    np.testing.assert_allclose(intrinsic[acting, game], -w * lost[acting])
    np.testing.assert_allclose(intrinsic[acting, proactive], w * (0.1 - lost[acting]))
    assert (pay[:, proactive] >= -1e-12).all()          # sources removed earn credit (Art. 32(4)) or nothing
    np.testing.assert_allclose(real_work_lost(v), lost)
    v["hours_demanded"] = v["hours_available"] / 2                      # slack: half the moved hours had work
    np.testing.assert_allclose(real_work_lost(v), lost / 2)
    # a use believed (from peers) to raise the measured resolution pays
    y.slope[:] = 0.0
    y.slope[:, satisfy, YIELD_FIELDS.index("measured_resolved")] = 0.3
    pay, _ = split_gains(v, cfg, city, pop, y, beliefs)
    assert (pay[:, satisfy] >= -1e-12).all() and pay[:, satisfy].mean() > 0


def test_class_slopes_recover_a_known_yield_and_ignore_noise():
    rng = np.random.default_rng(4)
    X = rng.uniform(0, 0.3, (200, 3))
    Y = np.column_stack([2.0 * X[:, 0] - 1.0 * X[:, 2] + 0.001 * rng.normal(size=200), rng.normal(size=200)])
    b = class_slopes(X, Y)
    np.testing.assert_allclose(b[:, 0], [2.0, 0.0, -1.0], atol=0.01)
    assert np.abs(b[:, 1]).max() < 0.5 * 1.0 / (0.3 / np.sqrt(12)) / np.sqrt(200) * 3   # shrunk noise
    assert np.allclose(class_slopes(np.ones((10, 3)), Y[:10]), 0.0)                    # no variation, no slope


def test_units_press_and_extend_as_often_as_they_choose():
    """In a run, the share of unsolved closures whose requester was pressed, and of extension
    candidates extended, match the units' chosen probabilities (binomial tolerance, 4 sd)."""
    m = Model(load_scenario(FINAL, {"city.scale": 0.01}), seed=3).run(25)
    v = m.ledger.v
    n_p = v["pressed_scope"] + v["unpressed_scope"]
    expect = (m.units.p_press * n_p).sum()
    assert abs(v["pressed_scope"].sum() - expect) < 4 * np.sqrt((m.units.p_press * (1 - m.units.p_press) * n_p).sum()) + 1
    assert v["unpressed_scope"].sum() > 0 and v["pressed"].sum() >= v["pressed_scope"].sum()
    n_e = v["extend_candidates"]
    expect = (m.units.p_extend * n_e).sum()
    assert n_e.sum() > 0
    assert abs(v["extensions"].sum() - expect) < 4 * np.sqrt((m.units.p_extend * (1 - m.units.p_extend) * n_e).sum()) + 1
    assert (v["explained_scope"] <= v["explained"]).all()


def test_evidence_tally_counts_each_closure_in_its_group():
    """Explained, late-worked, pressed and unpressed closures, counted as the orders' own fields say."""
    from model.orders import CLOSED, END_EXPLAINED, END_WORKED
    m = Model(load_scenario(FINAL, {"city.scale": 0.01}), seed=2).run(40)
    wo = m.orders
    closed = np.flatnonzero(wo.state[: wo.n] == CLOSED)
    got = {k: x.sum() for k, x in evidence_tally(wo, closed, m.city.n_units).items}
    scope = ~wo.excluded[closed] & ~wo.unreached[closed]
    unsolved = ~wo.true_resolved[closed] & (wo.ti_contact[closed] >= 0)
    pressed = unsolved & (wo.pressure[closed] > 0)
    assert got["pressed"] == pressed.sum() > 0
    assert got["unpressed_scope"] == (unsolved & ~pressed & scope).sum() > 0
    assert got["explained_scope"] == ((wo.ending[closed] == END_EXPLAINED) & scope).sum() > 0
    late = wo.overdue[closed] & (wo.ending[closed] == END_WORKED) & scope
    assert got["late_measured"] == (late & wo.measured_resolved[closed]).sum()
    assert got["pressed_measured"] <= got["pressed_scope"] and got["explained_measured"] <= got["explained_scope"]


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
    with kernels.forced(True):      # the same bits as numpy (test_speed_paths), ~15% faster here (issue 13 item 5)
        m = Model(load_scenario(FINAL, {"city.scale": 0.02, **overrides}), seed=seed).run(days)
    um = {k: np.concatenate([r[k] for r in m.unit_months])
          for k in DECISION_COLUMNS + ["unit", "hours_overtime", "coop_requests", "whistles_received", "closed",
                                       "extend_candidates", "gamed", "labels_gamed", "gain_cooperate"]}
    daily = np.array([d["true_resolution_rate"] for d in m.daily], float)
    return um, daily


ZERO = {"world.behaviour.incentive_weight": 0.0, "rules.sanctions.remedial_support": 0.0,
        "world.behaviour.exhaustion_sanction_gain": 0.0}
LEVERS = {"dual off": {"rules.assessment.dual_whistle": False},
          "no cooperation scoring": {"rules.assessment.cooperation_scoring": "none"},
          "strong audit": {"rules.audit.sample_share": 0.2, "rules.audit.detection": 0.9},
          "harsh sanctions": {"rules.sanctions.strength": 3.0, "rules.sanctions.falsification": 300.0},
          "harsh pressure and overdue": {"rules.sanctions.pressure": 300.0, "rules.sanctions.overdue": 3.0,
                                         "rules.sanctions.error_tolerance": 0.0},
          "unit report": {"rules.assessment.resolved_by": "unit_report"}}


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
    """Three seeds per arm (sixteen for the audit's two arms); each difference must exceed three
    standard errors of the paired differences. The audit's effect on gamed closures per closed
    order is small against its seeds' spread: measured 2026-12-07 over seeds 1-8, +0.0040, se
    0.0011 (seeds 1-3 alone: +0.0042, se 0.0014, short of three standard errors). Since pressure is
    sanctioned per confirmed case (same day) units game less and the effect is smaller: seeds 1-8
    +0.0014 (se 0.0006), seeds 1-16 +0.0018 (se 0.0004); labels +0.0046 (se 0.0007)."""
    arms = {"base": {}, "coop none": {"rules.assessment.cooperation_scoring": "none"},
            "coop equal": {"rules.assessment.cooperation_scoring": "equal"},
            "dual off (coop none)": {"rules.assessment.cooperation_scoring": "none", "rules.assessment.dual_whistle": False},
            "strong audit": {"rules.assessment.resolved_by": "audit", "rules.audit.sample_share": 0.2,
                             "rules.audit.detection": 0.95},          # scenarios/strong_audit.toml
            "harsh": {"rules.sanctions.strength": 3.0},
            "harsh pressure": {"rules.sanctions.pressure": 300.0},
            "overdue counts": {"rules.sanctions.overdue": 10.0, "rules.sanctions.error_tolerance": 0.0}}
    seeds = {name: (1, 2, 3) for name in arms} | {"base": tuple(range(1, 17)), "strong audit": tuple(range(1, 17))}
    jobs = [(arms[name], s, 125) for name in arms for s in seeds[name]]
    with ProcessPoolExecutor(2) as ex:
        out = iter(list(ex.map(run_decisions, jobs)))
    full = {name: [next(out) for _ in seeds[name]] for name in arms}
    res = {name: runs[:3] for name, runs in full.items()}          # paired on seeds 1-3

    weight = {"p_cooperate": "coop_requests", "coop_priority": "coop_requests", "p_answer_whistle": "whistles_received",
              "p_claim_resolved": "closed", "p_extend": "extend_candidates", "p_press": "closed"}

    def stat(name, col, runs=res):
        """Each seed's mean over units and months, weighted by the opportunities the decision had."""
        if col not in weight:
            return np.array([um[col].mean() for um, _ in runs[name]])
        return np.array([np.average(um[col], weights=um[weight[col]] + 1e-9) for um, _ in runs[name]])

    def holds(diff):          # paired over seeds: mean beyond three standard errors
        return diff.mean() > 3 * diff.std(ddof=1) / np.sqrt(len(diff)) + 1e-12

    assert holds(stat("base", "p_cooperate") - stat("coop none", "p_cooperate"))       # scoring cooperation
    assert holds(stat("base", "coop_priority") - stat("coop none", "coop_priority"))   # ... and faster
    # equal vs differential cooperation scoring: which makes more cooperation in runs is not settled
    # (test_equal_and_differential_scoring_weigh_cooperation_differently checks that they reach the
    # decision). Measured 2026-12-07 over seeds 1-8, differential - equal p_cooperate -0.003 (se 0.013;
    # -0.016, se 0.011, with pressure's old sanction), gain_cooperate -0.019 (se 0.022): no direction
    # beyond noise, so none is asserted. Few units get plain requests for cooperation (about five;
    # townships whistle instead); on whistles, seeds 1-12: 0.806 against 0.811 answered (-0.0046, se 0.0016).
    assert holds(stat("coop none", "p_answer_whistle") - stat("dual off (coop none)", "p_answer_whistle"))
    assert holds(stat("base", "p_claim_resolved") - stat("strong audit", "p_claim_resolved"))  # audit deters
    assert holds(stat("harsh", "hours_overtime") - stat("base", "hours_overtime"))     # harsher: more pushing
    # stronger audit: less time gaming, fewer formal closures and false labels per closed order
    assert holds(stat("base", "effort_game", full) - stat("strong audit", "effort_game", full))   # seeds 1-16

    def per_closed(name, col):
        return np.array([um[col].sum() / um["closed"].sum() for um, _ in full[name]])

    assert holds(per_closed("base", "gamed") - per_closed("strong audit", "gamed"))
    assert holds(per_closed("base", "labels_gamed") - per_closed("strong audit", "labels_gamed"))
    assert holds(stat("base", "p_press") - stat("harsh pressure", "p_press"))            # sanctioned pressure
    assert holds(stat("base", "pressure_share") - stat("harsh pressure", "pressure_share"))
    assert holds(stat("overdue counts", "p_extend") - stat("base", "p_extend"))          # overdue costs: extend


def test_equal_and_differential_scoring_weigh_cooperation_differently(monkeypatch):
    """The same month's counts and beliefs, weighed under the two cooperation scorings (the seed's
    首接、配合单位差别化考评): units asked to cooperate see different gains from cooperating, and with no
    cooperation scoring none. Measured 2026-12-07 (the month end before day 95, seed 1, 0.02): mean
    gain 0.74 under differential, 0.35 under equal, over the five units asked."""
    import copy

    import model.behaviour as behaviour

    seen = {}

    def spy(v, cfg, city, population, beliefs, current):
        seen["args"] = (copy.deepcopy(v), city, population.copy(), copy.deepcopy(beliefs),
                        {k: np.array(x) for k, x in current.items()})
        return consequences(v, cfg, city, population, beliefs, current)

    monkeypatch.setattr(behaviour, "consequences", spy)
    m = Model(load_scenario(FINAL, {"city.scale": 0.02}), seed=1).run(95)
    v, city, population, beliefs, current = seen["args"]

    def weigh(rule):
        cfg = m.cfg.model_copy(deep=True)
        cfg.rules.assessment.cooperation_scoring = rule
        return consequences(v, cfg, city, population, beliefs, current)["cooperate"]

    asked = v["coop_requests"] > 0
    assert asked.sum() >= 3
    gains = {rule: weigh(rule)[asked] for rule in ("none", "equal", "differential")}
    np.testing.assert_allclose(gains["none"], 0.0, atol=1e-12)
    assert np.abs(gains["differential"] - gains["equal"]).max() > 0.05, gains


def test_explaining_weighs_the_hours_it_frees_only_when_work_waits():
    """Art. 15(2): explaining an overdue order ends the work still left on it. A unit weighs the
    hours that frees (its belief about the work left on an overdue order, less the explanation)
    at last month's overload: with no overload it explains at its propensity, overloaded more,
    and more the more work it believes is left; the flag_overdue ledger books that work."""
    m = Model(load_scenario(FINAL, {"city.scale": 0.01}), seed=5).run(40)
    U = m.units
    n = m.city.n_units
    U.gain = {k: np.zeros(n) for k in U.gain}
    U.overload = np.zeros(n)
    U._apply_handling_choices()
    base = U.p_explain.copy()
    np.testing.assert_allclose(base, m.cfg.world.handling.explain_daily)
    U.overload = np.full(n, 1.0)
    U._apply_handling_choices()
    loaded = U.p_explain.copy()
    assert (loaded > base).all() and (U.p_explain_blocked > m.cfg.world.handling.explain_daily_blocked).all()
    U.beliefs.value["overdue_work"] = U.beliefs.value["overdue_work"] + 5.0
    U._apply_handling_choices()
    assert (U.p_explain > loaded).all()
    v = m.ledger.v
    assert v["overdue"].sum() > 0 and v["overdue_hours"].sum() > 0


@pytest.mark.slow
def test_the_history_replay_does_not_run_down_to_rating_management():
    """Moving staff time off real work costs the problems it would have solved (decisions.real_work_lost),
    so the replay keeps its time on orders. Before that cost existed the peers' cross-section credited
    explaining with solving and the split ran down: seed 1001 at scale 0.02, July-November 2021, real
    work 0.46-0.51 of staff time and rating management 0.33-0.34 (docs/calibration.md). Measured
    2026-12-03 with it: 0.82-0.83 and 0.05-0.08."""
    scenario = Path(FINAL).with_name("history_2019_2021.toml")
    with kernels.forced(True):
        m = Model(load_scenario(scenario, {"city.scale": 0.02}), seed=1001).run(1126)
    late = [d for d in m.daily if d["year"] == 2021 and 7 <= d["month"] <= 11]
    assert len(late) > 100
    assert np.mean([d["effort_resolve"] for d in late]) > 0.7
    assert np.mean([d["effort_satisfy"] for d in late]) < 0.15
