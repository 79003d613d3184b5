"""EMA Workbench example: which worlds make the adopted rules fail, and which levers help?

Runs the adopted regulation (final_2021) as an EMA ``ReplicatorModel``: four ``rules.*``
levers against four ``world.*`` uncertainties, then asks PRIM for the worlds in which the
true resolution rate is worst (lowest 20%) and CART for a tree over the same question.
Usage: ``python experiments/ema_example.py [--scenarios 24] [--policies 4] [--scale 0.005]``
(needs ``pip install 'jiesu[ema]'``; about 2 minutes at the defaults on 2 cores).
"""

from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", type=int, default=24)
    ap.add_argument("--policies", type=int, default=4)
    ap.add_argument("--replications", type=int, default=2)
    ap.add_argument("--scale", type=float, default=0.005)
    ap.add_argument("--days", type=int, default=180)
    ap.add_argument("--workers", type=int, default=2, help="EMA MultiprocessingEvaluator processes (1 = sequential)")
    a = ap.parse_args()

    from ema_workbench import MultiprocessingEvaluator, SequentialEvaluator
    from ema_workbench.analysis import cart, prim

    from experiments.ema import jiesu_model

    model = jiesu_model(
        "final_2021.toml",
        fixed={"city.scale": a.scale, "city.days": a.days},
        levers={"rules.audit.sample_share": (0.0, 0.2), "rules.sanctions.strength": (0.0, 4.0),
                "rules.dispatch.catalogue_accuracy": (0.7, 0.99),
                "rules.assessment.resolved_by": ["unit_report", "requester", "audit"]},
        uncertainties={"world.capacity.ratio": (0.8, 1.5), "world.demand.contacts_per_capita_year": (0.5, 1.6),
                       "world.handling.solve_prob": (0.75, 0.98), "world.behaviour.loss_aversion": (1.0, 3.5)},
        outcomes=["true_resolution_rate", "measured_true_gap", "satisfaction_rate", "overdue_share"],
        replications=a.replications, root_seed=2021)
    evaluator = MultiprocessingEvaluator(model, n_processes=a.workers) if a.workers > 1 else SequentialEvaluator(model)
    with evaluator:
        experiments, outcomes = evaluator.perform_experiments(scenarios=a.scenarios, policies=a.policies)
    y_true = outcomes["true_resolution_rate"]
    bad = y_true <= np.quantile(y_true, 0.2)
    x = experiments.drop(columns=["model", "policy", "scenario"], errors="ignore")
    print(f"{len(experiments)} experiments; worst 20% have true resolution <= {np.quantile(y_true, 0.2):.3f}")
    box = prim.Prim(x, bad, mass_min=0.05).find_box()
    print("\nPRIM: the box of worlds and levers where the rules do worst (last peeling steps)")
    print(box.peeling_trajectory.tail(3).to_string())
    box.inspect(style="table")
    tree = cart.CART(x, bad, mass_min=max(0.05, 2 / len(x)))   # at least 2 experiments a leaf
    tree.build_tree()
    print("\nCART boxes (coverage/density of the worst 20%)")
    print(tree.stats_to_dataframe().to_string())


if __name__ == "__main__":
    main()
