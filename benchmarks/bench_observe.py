"""Benchmark: the cost of conditioning a run on observations (``observe=``), in one process.

Times ``overhang_jax.run("trajectory", draws=N)`` with and without
``observe="frontier_compute_2023_2025"`` (the log likelihood in the compiled
chunk, then the weights, PSIS k-hat, ESS, the resample and the posterior
groups on the host), end to end, alternating the two so that a change of
machine load hits both alike. Both are compiled first (an untimed run of each
at the same size). Prints draws/s of each, the best of ``--repeats``, and the
ratio with/without (the target: at most 1.2), with the time the host part of
the conditioning takes alone, and the CPU other processes used meanwhile.

    python benchmarks/bench_observe.py                 # 1e6 draws, 2 repeats
    python benchmarks/bench_observe.py --draws 1e5 --repeats 1   # smoke test
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OtherLoad, count, cpu_name  # noqa: E402

import jax  # noqa: E402

import overhang_jax as oj  # noqa: E402

# One XLA CPU device per core, as the command line sets them (oj.configure), before any JAX
# computation; no persistent compilation cache, so the compile times measured are a cold process's.
oj.configure(compilation_cache=False)
from overhang_jax.engine._conditioning import condition  # noqa: E402

OBSERVATIONS = "frontier_compute_2023_2025"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--draws", type=count, default=1_000_000)
    parser.add_argument("--repeats", type=count, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    def timed(observe):
        with OtherLoad() as load:
            started = time.perf_counter()
            results = oj.run("trajectory", draws=args.draws, seed=args.seed, observe=observe)
            elapsed = time.perf_counter() - started
        return elapsed, load.cores, results

    print(f"{cpu_name()}, {os.cpu_count()} cores, {len(jax.devices())} JAX devices; jax {jax.__version__}, "
          f"overhang_jax {oj.__version__}; trajectory, {args.draws:,} draws, float32")
    for observe in (None, OBSERVATIONS):  # compile both (untimed)
        oj.run("trajectory", draws=args.draws, seed=args.seed, observe=observe)
    best = {None: (float("inf"), 0.0), OBSERVATIONS: (float("inf"), 0.0)}
    kept = None
    for _ in range(args.repeats):
        for observe in (None, OBSERVATIONS):
            elapsed, other, results = timed(observe)
            if elapsed < best[observe][0]:
                best[observe] = (elapsed, other)
            if observe is not None:
                kept = results
    log_likelihoods = {name: var.values.ravel() for name, var in kept["log_likelihood"].data_vars.items()}
    started = time.perf_counter()
    condition(log_likelihoods, args.seed)
    host = time.perf_counter() - started
    without, with_ = best[None][0], best[OBSERVATIONS][0]
    for label, (elapsed, other) in (("without observations", best[None]), ("with observations", best[OBSERVATIONS])):
        print(f"{label:22s} {elapsed:8.2f} s  {args.draws / elapsed:12,.0f} draws/s  (other load {other:.2f} cores)")
    print(f"ratio with / without: {with_ / without:.3f} (target <= 1.2); weights, k-hat, ESS and resample on the "
          f"host: {host:.2f} s; k-hat {kept.attrs['posterior_pareto_khat']:.2f}, ESS {kept.attrs['posterior_ess']:,.0f}")


if __name__ == "__main__":
    main()
