"""Benchmark: the compute-centric takeoff model (ftm) against its original code, in one run.

* The original: ``SimulateTakeOff(**params).run_simulation()`` of epoch-research/ftm,
  as its own Monte Carlo runs it (2022-2100 at 0.1 yr, ``compute_shares=False``),
  on the first ``--original-sims`` admissible draws of this package's ``ftm``
  priors (seed ``--seed``), one after the other in one process of ``--python``
  (a Python with the original's pinned dependencies) with its source on
  ``--source``. Reported per simulation, wall and CPU seconds.
* overhang_jax: ``overhang_jax.run("ftm", draws=--draws, seed=--seed)`` in a
  fresh process, end to end: compilation, sampling, 780 steps per draw, the
  metrics, the yearly histograms and kept series, the results DataTree. Then
  the same run again, compiled, for the time per draw-step.

The ratio is draws/s end to end against the original's simulations/s in one
process (and, as the original is single-threaded, against one process per
core). The other processes' CPU use during each timing is reported (from
/proc/stat): figures from a busy machine are not comparable.

``--memory N`` instead runs ``overhang_jax.run("ftm", draws=N)`` and its quantile
bands and summary in a fresh process and reports its peak RSS.

    python benchmarks/bench_ftm.py --source PATH/TO/ftm --python PATH/TO/python
    python benchmarks/bench_ftm.py --memory 1e6
    python benchmarks/bench_ftm.py --source ... --python ... --quick      # smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OtherLoad, count, cpu_name  # noqa: E402

STEPS = 780

ORIGINAL = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, sys.argv[1])
    import numpy as np
    from ftm.core.model import SimulateTakeOff
    sets = json.load(sys.stdin)
    # Untimed warm-up (imports, numpy's first calls).
    SimulateTakeOff(**sets[0], t_start=2022, t_end=2100, t_step=0.1, compute_shares=False).run_simulation()
    walls, cpus = [], []
    for params in sets:
        wall, cpu = time.perf_counter(), time.process_time()
        SimulateTakeOff(**params, t_start=2022, t_end=2100, t_step=0.1, compute_shares=False).run_simulation()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    print(json.dumps({"wall": walls, "cpu": cpus, "numpy": np.__version__}))
""")


def parameter_sets(count_: int, seed: int) -> list[dict]:
    """The first admissible draws of the ftm priors: the original's 67 parameters of each."""
    import overhang_jax as oj
    from overhang_jax.models.ftm import ORIGINAL_PARAMETERS

    results = oj.run("ftm", draws=4 * count_ + 8, seed=seed, progress=False)
    params = oj.parameters(results)  # every parameter of each draw, its point values included
    admissible = oj.outputs(results)["inadmissible"].values == 0
    rows = [{name: float(params[name].values[i]) for name in ORIGINAL_PARAMETERS}
            for i in range(len(admissible)) if admissible[i]]
    return rows[:count_]


def time_original(args) -> dict:
    sets = parameter_sets(args.original_sims, args.seed)
    with OtherLoad() as load:
        done = subprocess.run([args.python, "-c", ORIGINAL, args.source], input=json.dumps(sets), text=True,
                              capture_output=True, env={**os.environ, "MPLBACKEND": "Agg"})
    if done.returncode:
        sys.exit(f"the original failed:\n{done.stderr[-2000:]}")
    timing = json.loads(done.stdout.strip().splitlines()[-1])
    timing["other_load"] = load.cores
    return timing


OURS = textwrap.dedent("""
    import json, os, sys, time
    import overhang_jax as oj
    oj.configure(compilation_cache=False)  # one CPU device per core; compile times of a cold process
    draws, seed = int(sys.argv[1]), int(sys.argv[2])
    start = time.perf_counter()
    oj.run("ftm", draws=draws, seed=seed, progress=False)
    first = time.perf_counter() - start
    start = time.perf_counter()
    oj.run("ftm", draws=draws, seed=seed + 1, progress=False)
    again = time.perf_counter() - start
    print(json.dumps({"first": first, "again": again, "devices": jax.device_count(), "jax": jax.__version__}))
""")


def time_ours(args) -> dict:
    with OtherLoad() as load:
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", OURS, str(args.draws), str(args.seed)], capture_output=True,
                              text=True)
        process = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"overhang_jax failed:\n{done.stderr[-2000:]}")
    timing = json.loads(done.stdout.strip().splitlines()[-1])
    timing.update(process=process, other_load=load.cores)
    return timing


def cost_per_draw_step() -> tuple[float, float]:
    """XLA's cost analysis of one step of 128 draws: floating-point operations and
    transcendental functions per draw-step."""
    import jax
    import jax.numpy as jnp

    import overhang_jax as oj
    from overhang_jax.models import ftm
    from overhang_jax.models.ftm import _calibration, _step

    def one_step(params, constants, state):
        return _step.advance(params, constants, state, jnp.int32(300), True)[0]

    with jax.enable_x64(True):
        params = oj.load_priors(ftm.FTM).transform(jnp.full((128, 39), 0.5))
        constants, state = jax.vmap(lambda p: _calibration.calibrate(p)[:2])(params)
        cost = jax.jit(jax.vmap(one_step)).lower(params, constants, state).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    return cost.get("flops", float("nan")) / 128, cost.get("transcendentals", float("nan")) / 128


def report(args) -> int:
    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}\n")
    original = time_original(args)
    walls, cpus = sorted(original["wall"]), sorted(original["cpu"])
    per_sim = sum(walls) / len(walls)
    print(f"original: {len(walls)} simulations (numpy {original['numpy']}), wall mean {per_sim:.2f} s "
          f"(median {walls[len(walls) // 2]:.2f}, min {walls[0]:.2f}), CPU mean {sum(cpus) / len(cpus):.2f} s; "
          f"other processes {original['other_load']:.2f} cores")
    ours = time_ours(args)
    end_to_end = args.draws / ours["first"]
    compiled = args.draws / ours["again"]
    step_us = ours["again"] / args.draws / STEPS * 1e6 * ours["devices"]
    print(f"overhang_jax: {args.draws:,} draws on {ours['devices']} CPU devices (jax {ours['jax']}): "
          f"{ours['first']:.1f} s end to end with compilation ({end_to_end:,.0f} draws/s; the process, imports "
          f"included, {ours['process']:.1f} s), {ours['again']:.1f} s compiled ({compiled:,.0f} draws/s, "
          f"{step_us:.2f} us per draw-step per core); other processes {ours['other_load']:.2f} cores")
    flops, transcendentals = cost_per_draw_step()
    print(f"XLA's cost analysis of a step: {flops:,.0f} floating-point operations and {transcendentals:.0f} "
          f"exponentials per draw-step, so {flops / step_us / 1e3:.1f} GFLOP/s per core")
    print(f"\nratio, end to end with compilation: {end_to_end * per_sim:,.0f}x one original process, "
          f"{end_to_end * per_sim / os.cpu_count():,.0f}x one per core; compiled: {compiled * per_sim:,.0f}x "
          f"and {compiled * per_sim / os.cpu_count():,.0f}x (target: 300x)")
    return 0


MEMORY_CHILD = textwrap.dedent("""
    import os, resource, sys, time
    import overhang_jax as oj
    oj.configure(compilation_cache=False)  # one CPU device per core; compile times of a cold process
    start = time.perf_counter()
    results = oj.run("ftm", draws=int(sys.argv[1]), seed=0, progress=False)
    oj.trajectory_bands(results)
    oj.summary(results)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"{time.perf_counter() - start:.1f} s; peak RSS {peak:.2f} GiB")
""")


def memory(draws: int) -> int:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(draws)], capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"the run failed:\n{done.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    print(f"{draws:,} draws: run, bands and summary {done.stdout.strip()}; the process "
          f"{time.perf_counter() - start:.1f} s, peak RSS {peak:.2f} GiB")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--source", help="the original's source tree (epoch-research/ftm at 99dc907)")
    parser.add_argument("--python", help="a Python with the original's pinned dependencies")
    parser.add_argument("--draws", type=count, default=20_000, help="overhang_jax draws (default 20000)")
    parser.add_argument("--original-sims", type=count, default=20, help="original simulations to time (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory", type=count, metavar="N", help="peak RSS of a run of N draws instead")
    parser.add_argument("--quick", action="store_true", help="smoke test: 2 original simulations, 512 draws")
    args = parser.parse_args(argv)
    if args.memory:
        return memory(args.memory)
    if not (args.source and args.python):
        parser.error("--source and --python are needed to time the original (or use --memory N)")
    if args.quick:
        args.original_sims, args.draws = 2, 512
    return report(args)


if __name__ == "__main__":
    sys.exit(main())
