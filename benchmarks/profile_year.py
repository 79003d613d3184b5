"""Profile one simulated year: cProfile of the model loop, top functions by own and cumulative time.

Not a test: it says where the time goes (issue 13). Usage:
python benchmarks/profile_year.py [--scale 0.3] [--days 365] [--top 40] [--out profile.pstats]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="scenarios/final_2021.toml")
    ap.add_argument("--scale", type=float, default=0.3)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--out", default=None, help="also write the raw pstats here")
    args = ap.parse_args()
    from model import Model, load_scenario

    cfg = load_scenario(args.scenario, overrides={"city.scale": args.scale})
    m = Model(cfg, seed=args.seed)
    prof = cProfile.Profile()
    prof.enable()
    m.run(args.days)
    prof.disable()
    if args.out:
        prof.dump_stats(args.out)
    st = pstats.Stats(prof).strip_dirs()
    st.sort_stats("tottime").print_stats(args.top)
    st.sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
