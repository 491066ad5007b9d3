"""Benchmark: the trajectory model in JAX (overhang_jax) against a plain numpy baseline.

For each draw count, times end to end, on the shipped default priors:

* JAX    ``overhang_jax.run("trajectory", draws=N, seed=0)``: sampling, both
  worlds stepped over 770 steps (2023-2100 at 0.1 yr), its outputs, the
  per-year histograms of E in both worlds (the quantile bands) and the kept
  series of the first draws, all copied into the results DataTree.
* numpy  the same work in vectorised numpy (numpy_trajectory.py): sampling,
  stepping, outputs, the same histograms and kept series.

Reported as draws/s and draw-steps/s (draws/s x 770 steps; each draw-step
advances both worlds). JAX runs on one XLA CPU device per core; numpy on one
core (its elementwise operations are single-threaded).

JAX compile time is excluded: a run of one chunk of the same shape compiles
the chunk function first (the runner caches it by priors, dtype, devices and
chunk shape, not by draw count or seed). Each figure is the best of
``--repeats`` runs. numpy is timed at every size up to ``--numpy-max`` draws
(default 1e6) and not at all above it: no extrapolation, the ratio is only
given where both ran.

Before timing, the numpy baseline is checked against overhang_jax in float64
on the JAX run's own parameter draws (numpy_trajectory.check_against_jax).
The CPU time other processes used during each timing is reported ("other
load", cores on average, from /proc/stat); anything above 0.05 is flagged.

``--memory N [N ...]`` instead runs ``overhang_jax.run("trajectory", draws=N)``
and the quantile bands in a fresh subprocess per size and reports its peak RSS
(``getrusage(RUSAGE_CHILDREN).ru_maxrss``).

    python benchmarks/bench_trajectory.py                    # 1e5 and 1e6 draws
    python benchmarks/bench_trajectory.py --sizes 1e5 1e6 1e7
    python benchmarks/bench_trajectory.py --memory 1e7       # peak RSS of a 1e7-draw run
    python benchmarks/bench_trajectory.py --quick            # smoke test
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import inspect
import math
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import jax

import numpy as np  # noqa: E402

import overhang_jax as oj  # noqa: E402

# One XLA CPU device per core, as the command line sets them (oj.configure), before any JAX
# computation; no persistent compilation cache, so the compile times measured are a cold process's.
oj.configure(compilation_cache=False)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CompileClock, OtherLoad, add_run_arguments, count, cpu_name  # noqa: E402
import numpy_trajectory  # noqa: E402

MODEL = "trajectory"
STEPS = numpy_trajectory.STEPS
OTHER_LOAD_LIMIT = 0.05
"""Cores' worth of CPU other processes may use during a timing before it is flagged as contended."""


COMPILES = CompileClock()
_count = count


def _draws(n: int) -> str:
    """1e+05 for round counts, else the exact number."""
    short = f"{n:.0e}"
    return short if float(short) == n else str(n)


def machine() -> list[str]:
    cpu = cpu_name()
    devices = jax.devices()
    return [
        f"CPU: {cpu}, {os.cpu_count()} cores ({platform.machine()}, {platform.system()}); "
        f"load average before the run {os.getloadavg()[0]:.2f}",
        f"python {platform.python_version()}, jax {jax.__version__} (jaxlib {importlib.metadata.version('jaxlib')}), "
        f"numpy {np.__version__}, overhang_jax {oj.__version__}",
        f"JAX devices: {len(devices)} ({', '.join(str(d) for d in devices)}); numpy runs on one core",
    ]


def time_jax(draws: int, args) -> tuple[float, float, float]:
    """Best seconds of ``overhang_jax.run`` over the repeats, seconds of compilation inside the timed
    runs, and the other processes' load during the best one."""
    chunk = args.jax_chunk_size
    # Compile the chunk function the timed runs use: one chunk of the same shape.
    oj.run(MODEL, draws=min(draws, chunk), seed=args.seed, chunk_size=chunk, float64=args.float64, progress=False)
    best, load = math.inf, 0.0
    compiled_before = COMPILES.seconds
    for _ in range(args.repeats):
        gc.collect()
        with OtherLoad() as other:
            start = time.perf_counter()
            results = oj.run(MODEL, draws=draws, seed=args.seed, chunk_size=chunk, float64=args.float64,
                             progress=False)
            seconds = time.perf_counter() - start
        if seconds < best:
            best, load = seconds, other.cores
        del results
    return best, COMPILES.seconds - compiled_before, load


def time_numpy(draws: int, args) -> tuple[float, float]:
    """Best seconds of the numpy baseline over the repeats, and the other processes' load during it."""
    priors = oj.load_priors(oj.get_model(MODEL))
    dtype = np.float64 if args.float64 else np.float32
    numpy_trajectory.run(priors, 1000, args.seed, dtype, args.numpy_chunk_size)  # first calls, for symmetry
    best, load = math.inf, 0.0
    for _ in range(args.repeats):
        gc.collect()
        with OtherLoad() as other:
            start = time.perf_counter()
            results = numpy_trajectory.run(priors, draws, args.seed, dtype, args.numpy_chunk_size)
            seconds = time.perf_counter() - start
        if seconds < best:
            best, load = seconds, other.cores
        del results
    return best, load


# --------------------------------------------------------------------------
# Peak memory of a run, in a fresh process


def _memory_child(draws: int, args) -> int:
    """Run in the subprocess: one run of ``draws`` draws plus its quantile bands and summary."""
    start = time.perf_counter()
    results = oj.run(MODEL, draws=draws, seed=args.seed, chunk_size=args.jax_chunk_size, float64=args.float64,
                     progress=False)
    ran = time.perf_counter()
    bands = oj.trajectory_bands(results)
    oj.summary(results)
    done = time.perf_counter()
    print(f"child: {draws:,} draws, run {ran - start:.1f} s (compilation included), bands and summary "
          f"{done - ran:.1f} s; bands {dict(bands.sizes)}; own peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB", flush=True)
    return 0


def memory(sizes: list[int], args) -> int:
    print(f"Peak RSS of overhang_jax.run('{MODEL}', draws=N) + trajectory_bands + summary, one fresh process "
          f"per size, {'float64' if args.float64 else 'float32'}, {os.cpu_count()} CPU devices\n")
    rows = []
    for draws in sizes:
        command = [sys.executable, __file__, "--memory-child", str(draws), "--seed", str(args.seed),
                   "--jax-chunk-size", str(args.jax_chunk_size)] + (["--float64"] if args.float64 else [])
        start = time.perf_counter()
        completed = subprocess.run(command)
        seconds = time.perf_counter() - start
        # Linux: KiB. The maximum over all children so far, so sizes run in increasing order.
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
        if completed.returncode:
            print(f"{_draws(draws)} draws: the child failed (exit {completed.returncode})", file=sys.stderr)
            return 1
        rows.append((draws, seconds, peak))
    print("\nPeak RSS: getrusage(RUSAGE_CHILDREN).ru_maxrss after each child, the largest child so far (sizes run "
          "in increasing order; each child's own figure is in its line above).")
    print("\n| draws | wall s (incl. start-up, compile) | peak RSS (GiB) |\n| --- | --- | --- |")
    for draws, seconds, peak in rows:
        print(f"| {_draws(draws)} | {seconds:.1f} | {peak:.2f} |")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--sizes", type=_count, nargs="+", default=[10**5, 10**6],
                        help="draw counts (default 1e5 1e6; add 1e7 for a JAX-only figure, a few minutes on 2 cores)")
    parser.add_argument("--numpy-max", type=_count, default=10**6, metavar="N",
                        help="time numpy only at sizes up to N draws (default 1e6); larger sizes are JAX only")
    parser.add_argument("--repeats", type=_count, default=1, help="timed runs per figure, best kept (default 1)")
    add_run_arguments(parser, inspect.signature(oj.run).parameters["chunk_size"].default)
    parser.add_argument("--numpy-chunk-size", type=_count, default=numpy_trajectory.DEFAULT_CHUNK_SIZE,
                        help="draws per numpy batch (default %(default)s)")
    parser.add_argument("--check-draws", type=_count, default=4000,
                        help="draws of each float64 check case (default 4000)")
    parser.add_argument("--no-check", action="store_true", help="skip the numpy-vs-JAX check")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 2e4 draws, one repeat, check on the default priors only")
    parser.add_argument("--memory", type=_count, nargs="+", metavar="N",
                        help="instead of timing, report the peak RSS of a run of N draws (and its bands) in a "
                             "fresh subprocess per size")
    parser.add_argument("--memory-child", type=_count, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.memory_child:
        return _memory_child(args.memory_child, args)
    if args.memory:
        return memory(sorted(set(args.memory)), args)
    if args.quick:
        args.sizes, args.repeats = [2 * 10**4], 1

    print("\n".join(machine()))
    dtype_name = "float64" if args.float64 else "float32"
    print(f"dtype {dtype_name}; JAX chunk {args.jax_chunk_size} draws, numpy batch {args.numpy_chunk_size}; "
          f"best of {args.repeats}; seed {args.seed}; default priors "
          f"({oj.load_priors(oj.get_model(MODEL)).dimension} uncertain parameters); {STEPS} steps per draw\n")

    if not args.no_check:
        print("Check: numpy baseline against overhang_jax (float64, the JAX run's own parameter draws)")
        ok = numpy_trajectory.check_against_jax(args.check_draws, args.seed, scenarios=not args.quick,
                                                shipped=not args.quick)
        print()
        if not ok:
            print("The numpy baseline does not match overhang_jax: no timings.", file=sys.stderr)
            return 1

    sizes = sorted(set(args.sizes))
    rates: dict[tuple[str, int], float] = {}
    print(f"{'engine':<8}{'draws':>8}{'seconds':>10}{'draws/s':>11}{'draw-steps/s':>14}"
          f"{'other load':>12}")
    contended = False
    for draws in sizes:
        for engine in ("jax", "numpy"):
            if engine == "numpy" and draws > args.numpy_max:
                print(f"{engine:<8}{_draws(draws):>8}  not run (above --numpy-max {_draws(args.numpy_max)})")
                continue
            note = ""
            if engine == "jax":
                seconds, compile_s, load = time_jax(draws, args)
                if compile_s:
                    note = f"  WARNING: {compile_s:.2f} s of JAX compilation inside the timed runs"
            else:
                seconds, load = time_numpy(draws, args)
            if load > OTHER_LOAD_LIMIT:
                contended = True
                note += "  WARNING: other processes were busy"
            rates[(engine, draws)] = draws / seconds
            print(f"{engine:<8}{_draws(draws):>8}{seconds:>10.2f}{draws / seconds:>11.3g}"
                  f"{draws * STEPS / seconds:>14.3g}{load:>12.2f}{note}", flush=True)
    if contended:
        print(f"\nWARNING: other processes used more than {OTHER_LOAD_LIMIT} cores on average during some "
              "timings (column 'other load'): those figures understate the speed; re-run on an idle machine.")

    print(f"\nThroughput end to end ({dtype_name}; draw-steps = draws x {STEPS} steps, both worlds each); "
          "JAX / numpy only where both ran\n")
    print("| draws | JAX draws/s | JAX draw-steps/s | numpy draws/s | JAX / numpy |")
    print("| --- | --- | --- | --- | --- |")
    for draws in sizes:
        jax_rate = rates[("jax", draws)]
        numpy_rate = rates.get(("numpy", draws))
        print(f"| {_draws(draws)} | {jax_rate:.3g} | {jax_rate * STEPS:.3g} | "
              f"{f'{numpy_rate:.3g}' if numpy_rate else 'not run'} | "
              f"{f'{jax_rate / numpy_rate:.2f}' if numpy_rate else '-'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
