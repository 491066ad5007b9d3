"""ftm end to end without the original: oj.run("ftm") twice in one process, the first compiling.

    PYTHONPATH=. python benchmarks/bench_ftm_compiled.py [--draws 20000] [--scenario ftm_training_cap]
    PYTHONPATH=. python benchmarks/bench_ftm_compiled.py --inadmissible drop   # the old handling, to compare

Prints draws/s with and without compilation for the package on PYTHONPATH, so two versions of
the package (two checkouts) can be compared one after the other on the same machine.
"""

from __future__ import annotations

import argparse
import time

import overhang_jax as oj

INADMISSIBLE = {"keep": 0.0, "redraw": 1.0, "drop": 2.0}
"""reject_inadmissible's values: computed like any other set, redrawn (the shipped priors), NaN outputs."""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=20_000)
    parser.add_argument("--scenario", default=None, help="a shipped ftm scenario (default: the priors)")
    parser.add_argument("--inadmissible", choices=list(INADMISSIBLE), default="redraw",
                        help="what happens to a parameter set the original rejects (reject_inadmissible)")
    args = parser.parse_args(argv)
    # One CPU device per core, as the command line sets them; no persistent cache, so the first run compiles.
    oj.configure(compilation_cache=False)
    priors = oj.load_priors("ftm", args.scenario) if args.scenario else oj.load_priors("ftm")
    priors = priors.with_point("reject_inadmissible", INADMISSIBLE[args.inadmissible])
    for label in ("with compilation", "compiled"):
        start = time.perf_counter()
        oj.run("ftm", priors, draws=args.draws, seed=0, progress=False)
        seconds = time.perf_counter() - start
        print(f"{oj.__file__} {args.scenario or 'defaults'}, {args.inadmissible} {label}: {seconds:.1f} s, "
              f"{args.draws / seconds:,.0f} draws/s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
