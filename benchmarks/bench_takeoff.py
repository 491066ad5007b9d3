"""Benchmark: the takeoff model in JAX (overhang_jax) against a plain numpy baseline.

For each draw count, times end to end (sampling the shipped default priors,
the model, the summary table) four paths:

* JAX fast     ``overhang_jax.run(..., method="closed_form")`` + ``summary``
* JAX stepped  ``overhang_jax.run(..., method="stepped")`` + ``summary``
* numpy fast / numpy stepped: the same work in vectorised numpy (numpy_takeoff.py)

Both return every output of every draw; the JAX runner also returns every
parameter of every draw in an xarray DataTree, which is part of its cost.
Numpy runs in one thread, JAX on one XLA CPU device per core.

JAX compile time is excluded: the exact function the timed run uses is
compiled and run once on one chunk first. Each figure is the best of
``--repeats`` runs. Numpy stepped runs above ``--skip-stepped-above`` draws
(the slowest combination) are not run but extrapolated from the largest draw
count that was, at the same draws per second: numpy works in fixed-size
batches, so its cost per draw is flat once there are a few of them.

    python benchmarks/bench_takeoff.py                 # 1e5 1e6 1e7 draws
    python benchmarks/bench_takeoff.py --quick         # small sizes, a smoke test
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import inspect
import math
import os
import platform
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
from _common import CompileClock, add_run_arguments, count, cpu_name  # noqa: E402
import numpy_takeoff  # noqa: E402

PATHS = (("jax", "fast"), ("jax", "stepped"), ("numpy", "fast"), ("numpy", "stepped"))
JAX_METHOD = {"fast": "closed_form", "stepped": "stepped"}


COMPILES = CompileClock()
_count = count


def machine() -> list[str]:
    cpu = cpu_name()
    devices = jax.devices()
    return [
        f"CPU: {cpu}, {os.cpu_count()} cores ({platform.machine()}, {platform.system()})",
        f"python {platform.python_version()}, jax {jax.__version__} (jaxlib {importlib.metadata.version('jaxlib')}), "
        f"numpy {np.__version__}, overhang_jax {oj.__version__}",
        f"JAX devices: {len(devices)} ({', '.join(str(d) for d in devices)}); numpy runs on one core "
        "(its elementwise operations are single-threaded)",
    ]


def warm_up_jax(method: str, draws: int, seed: int, chunk_size: int, float64: bool) -> None:
    """Compile the chunk function the timed run will use, by running one chunk of the same shape.

    The runner caches compiled chunk functions by model, priors, method, dtype,
    devices and chunk shape (not by seed or draw count), so the timed runs reuse it.
    """
    oj.run(oj.TAKEOFF, draws=min(draws, chunk_size), seed=seed, method=method, chunk_size=chunk_size,
           float64=float64, progress=False)


def time_path(engine: str, method: str, draws: int, args) -> tuple[float, float, float]:
    """Best (run, summary) seconds over the repeats (run = sampling + model), and compile seconds in them."""
    priors = oj.load_priors(oj.TAKEOFF)
    dtype = np.float64 if args.float64 else np.float32
    if engine == "jax":
        warm_up_jax(JAX_METHOD[method], draws, args.seed, args.jax_chunk_size, args.float64)
    else:  # first calls into numpy/scipy, for symmetry (cheap)
        numpy_takeoff.summary(numpy_takeoff.run(priors, 1000, args.seed, method, dtype))
    best = (math.inf, math.inf)
    compiled_before = COMPILES.seconds
    for _ in range(args.repeats):
        gc.collect()
        start = time.perf_counter()
        if engine == "jax":
            results = oj.run(oj.TAKEOFF, priors, draws=draws, seed=args.seed, method=JAX_METHOD[method],
                             chunk_size=args.jax_chunk_size, float64=args.float64, progress=False)
            ran = time.perf_counter()
            oj.summary(results)
        else:
            results = numpy_takeoff.run(priors, draws, args.seed, method, dtype,
                                        args.numpy_chunk_size or numpy_takeoff.DEFAULT_CHUNK_SIZE[method])
            ran = time.perf_counter()
            numpy_takeoff.summary(results)
        done = time.perf_counter()
        del results
        if done - start < sum(best):
            best = (ran - start, done - ran)
    return (*best, COMPILES.seconds - compiled_before)


def _rate(x: float) -> str:
    return f"{x:.3g}"


def _draws(n: int) -> str:
    """1e+05 for round counts, else the exact number."""
    short = f"{n:.0e}"
    return short if float(short) == n else str(n)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--draws", type=_count, nargs="+", default=[10**5, 10**6, 10**7],
                        help="draw counts (default 1e5 1e6 1e7)")
    parser.add_argument("--repeats", type=_count, default=3, help="timed runs per figure, best kept (default 3)")
    parser.add_argument("--skip-stepped-above", type=_count, default=10**6, metavar="N",
                        help="extrapolate, not run, numpy stepped above N draws (default 1e6)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test (overrides --draws, --repeats, --skip-stepped-above): 2e4 and 1e5 "
                             "draws, numpy stepped extrapolated above 2e4, one repeat, check on the default "
                             "priors only")
    add_run_arguments(parser, inspect.signature(oj.run).parameters["chunk_size"].default)
    parser.add_argument("--numpy-chunk-size", type=_count, default=None,
                        help="draws per numpy batch (default: " + ", ".join(
                            f"{m} {n}" for m, n in numpy_takeoff.DEFAULT_CHUNK_SIZE.items()) + ")")
    parser.add_argument("--no-check", action="store_true", help="skip the numpy-vs-JAX correctness check")
    args = parser.parse_args(argv)
    if args.quick:
        args.draws, args.skip_stepped_above, args.repeats = [2 * 10**4, 10**5], 2 * 10**4, 1

    print("\n".join(machine()))
    dtype_name = "float64" if args.float64 else "float32"
    print(f"dtype {dtype_name}; JAX chunk {args.jax_chunk_size} draws; best of {args.repeats}; "
          f"seed {args.seed}; default priors ({oj.load_priors(oj.TAKEOFF).dimension} uncertain parameters)\n")

    if not args.no_check:
        print("Check: numpy baseline against overhang_jax (float64)")
        ok = numpy_takeoff.check_against_jax(scenarios=not args.quick)
        print()
        if not ok:
            print("The numpy baseline does not match overhang_jax: no timings.", file=sys.stderr)
            return 1

    draws_list = sorted(set(args.draws))
    rates: dict[tuple[str, str, int], float] = {}
    extrapolated: dict[tuple[str, str, int], int] = {}
    print(f"{'path':<14}{'draws':>10}{'run s':>10}{'summary s':>11}{'total s':>10}{'draws/s':>11}")
    for engine, method in PATHS:
        for draws in draws_list:
            key = (engine, method, draws)
            label = f"{engine} {method}"
            measured = [n for n in draws_list if n <= args.skip_stepped_above]
            if (engine, method) == ("numpy", "stepped") and draws > args.skip_stepped_above:
                if not measured:
                    print(f"{label:<14}{_draws(draws):>10}  skipped (no run of at most "
                          f"{_draws(args.skip_stepped_above)} draws to extrapolate from)")
                    continue
                source = max(measured)
                rates[key], extrapolated[key] = rates[(engine, method, source)], source
                print(f"{label:<14}{_draws(draws):>10}{'':>31}{_rate(rates[key]):>11}  extrapolated from "
                      f"{_draws(source)} draws")
                continue
            run_s, summary_s, compile_s = time_path(engine, method, draws, args)
            rates[key] = draws / (run_s + summary_s)
            note = f"  WARNING: {compile_s:.2f} s of JAX compilation inside the timed runs" if compile_s else ""
            print(f"{label:<14}{_draws(draws):>10}{run_s:>10.3f}{summary_s:>11.3f}{run_s + summary_s:>10.3f}"
                  f"{_rate(rates[key]):>11}{note}", flush=True)

    print(f"\nThroughput, draws per second end to end (sampling, model, summary), {dtype_name}; "
          "* = extrapolated, not run")
    print(f"{'draws':>10}{'path':>9}{'JAX':>12}{'numpy':>12}{'JAX/numpy':>11}")
    for draws in draws_list:
        for method in ("fast", "stepped"):
            cells = []
            for engine in ("jax", "numpy"):
                key = (engine, method, draws)
                cells.append(_rate(rates[key]) + ("*" if key in extrapolated else " ") if key in rates else "-")
            both = all((e, method, draws) in rates for e in ("jax", "numpy"))
            ratio = f"{rates[('jax', method, draws)] / rates[('numpy', method, draws)]:.2f}" if both else "-"
            print(f"{_draws(draws):>10}{method:>9}{cells[0]:>12}{cells[1]:>12}{ratio:>11}")
    if extrapolated:
        print("* " + "; ".join(f"{e} {m} at {_draws(n)} draws extrapolated from {_draws(s)}"
                               for (e, m, n), s in extrapolated.items())
              + " (--skip-stepped-above to run them)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
