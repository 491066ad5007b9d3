"""Sobol indices at scale: 2^16 base samples x 10 parameters of the takeoff model.

Times overhang_jax.sobol_indices end to end (Saltelli design on the runner,
estimators and 1000 bootstrap resamples in JAX), then SALib's
``sobol.analyze`` on the very same model outputs, so the two estimators
are timed on identical inputs. Run:

    .venv/bin/python benchmarks/bench_sensitivity.py [--base-samples 65536] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import jax

import numpy as np  # noqa: E402

import overhang_jax as oj  # noqa: E402

# One XLA CPU device per core, as the command line sets them (oj.configure), before any JAX
# computation; no persistent compilation cache, so the compile times measured are a cold process's.
oj.configure(compilation_cache=False)
from overhang_jax.studies._sensitivity import SaltelliDesign, saltelli_estimates  # noqa: E402

OUTPUT = "max_speed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-samples", type=int, default=2**16)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    priors = oj.load_priors(oj.TAKEOFF)
    parameters = list(priors.random_names)[:10]
    n = args.base_samples
    print(f"takeoff model, output {OUTPUT}, {len(parameters)} parameters, {n:,} base samples "
          f"({n * (len(parameters) + 2):,} model runs); {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, {jax.device_count()} devices, jax {jax.__version__}")
    oj.sobol_indices("takeoff", priors, outputs=[OUTPUT], parameters=parameters, base_samples=256,
                     bootstrap=10)  # compile once
    times = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        indices = oj.sobol_indices("takeoff", priors, outputs=[OUTPUT], parameters=parameters, base_samples=n,
                                   bootstrap=1000, seed=1)
        times.append(time.perf_counter() - started)
    print(f"overhang_jax.sobol_indices, end to end (runs + estimates + 1000 bootstraps): best {min(times):.2f} s")

    # The same outputs for SALib: the design's rows, evaluated on the runner.
    design = SaltelliDesign(1, priors.dimension, tuple(priors.random_names.index(p) for p in parameters), n)
    started = time.perf_counter()
    results = oj.run("takeoff", priors, draws=design.draws, seed=1, sampler=design)
    model_time = time.perf_counter() - started
    y = np.asarray(oj.outputs(results)[OUTPUT].values, np.float64)
    finite = np.all(np.isfinite(y.reshape(n, -1)), axis=1)
    y = y.reshape(n, -1)[finite].ravel()
    print(f"model runs alone: {model_time:.2f} s ({design.draws / model_time:,.0f} runs/s)")

    from SALib.analyze import sobol as salib_sobol

    problem = {"num_vars": len(parameters), "names": parameters, "bounds": [[0, 1]] * len(parameters)}
    started = time.perf_counter()
    reference = salib_sobol.analyze(problem, y, calc_second_order=False, num_resamples=1000, seed=1)
    salib_time = time.perf_counter() - started
    with jax.enable_x64(True):
        started = time.perf_counter()
        first, total = saltelli_estimates(jax.numpy.asarray(y.reshape(-1, len(parameters) + 2)))
        jax.block_until_ready(total)
        ours = time.perf_counter() - started
    print(f"SALib sobol.analyze (1000 bootstraps) on the same outputs: {salib_time:.2f} s")
    print(f"largest difference of point estimates, ours vs SALib: S1 {np.max(np.abs(first - reference['S1'])):.2e}, "
          f"ST {np.max(np.abs(total - reference['ST'])):.2e} (ours {ours * 1e3:.0f} ms without bootstrap)")
    print(oj._sensitivity.ranked(indices, OUTPUT).round(3).to_string())


if __name__ == "__main__":
    main()
