"""Benchmark: what results cost beyond the model: the summary, the files, and start-up.

Three measurements, each printed as a table for benchmarks/RESULTS.md:

* **summary**: ``overhang_jax.summary`` (ArviZ's ``arviz_stats`` on each
  output's finite draws) against the hand-written summary of overhang_jax
  0.1.0 (one partition per output for the quantiles and the HDI), kept below
  as the reference, on the outputs of a takeoff run of ``--summary-draws``
  draws (default 1e7). Both use one thread per output; the two must agree.
* **files**: bytes per draw and seconds to write a run's file, compressed
  (the default) and not, for the takeoff model (and the trajectory model),
  full and outputs-only.
* **start-up**: ``import jax``, ``import overhang_jax``, the first use of
  the runner and ``overhang-jax --help``, each in fresh processes (median of
  ``--repeats``).

    python benchmarks/bench_results.py                  # 1e7 draws for the summary, 1e6 for files
    python benchmarks/bench_results.py --quick          # small sizes, a smoke test
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jax

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import overhang_jax as oj  # noqa: E402

# One XLA CPU device per core, as the command line sets them (oj.configure), before any JAX
# computation; no persistent compilation cache, so the compile times measured are a cold process's.
oj.configure(compilation_cache=False)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import count  # noqa: E402

# --------------------------------------------------------------------------
# The hand-written summary of overhang_jax 0.1.0, the reference the ArviZ one is timed against.

QUANTILES, PROB = (0.05, 0.5, 0.95), 0.9


def _lerp(a: float, b: float, t: float) -> float:
    return b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t


def _hdi_partitioned(values: np.ndarray, span: int, count_: int) -> tuple[float, float]:
    if 2 * count_ >= values.size:
        values = np.sort(values)
        lows, highs = values[:count_], values[span:]
    else:
        lows, highs = np.sort(values[:count_]), np.sort(values[span:])
    best = int(np.argmin(np.subtract(highs, lows, dtype=np.float64)))
    return float(lows[best]), float(highs[best])


def hand_written_row(values: np.ndarray) -> dict[str, float]:
    finite = values[np.isfinite(values)]
    n = finite.size
    row = {"mean": finite.mean(dtype=np.float64), "sd": finite.std(dtype=np.float64, ddof=1)}
    positions = np.array(QUANTILES) * (n - 1)
    below = np.floor(positions).astype(np.int64)
    above = np.minimum(below + 1, n - 1)
    span = min(int(np.floor(PROB * n)), n - 1)
    count_ = n - span
    finite.partition(sorted({*below.tolist(), *above.tolist(), count_ - 1, span}))
    for name, low, high, h in zip(("q5", "q50", "q95"), below, above, positions):
        row[name] = _lerp(float(finite[low]), float(finite[high]), float(h - low))
    row["hdi90_lower"], row["hdi90_upper"] = _hdi_partitioned(finite, span, count_)
    row["nonfinite"] = int(values.size - n)
    return row


def hand_written_summary(results) -> pd.DataFrame:
    data = oj.outputs(results)
    with ThreadPoolExecutor() as pool:
        rows = list(pool.map(lambda name: hand_written_row(np.asarray(data[name].values)), list(data.data_vars)))
    return pd.DataFrame(rows, index=list(data.data_vars))


def best_of(repeats: int, function) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_summary(draws: int, repeats: int) -> None:
    results = oj.run("takeoff", draws=draws, seed=0, outputs_only=True, progress=False)
    ours, theirs = oj.summary(results), hand_written_summary(results)
    columns = ["mean", "sd", "q5", "q50", "q95", "hdi90_lower", "hdi90_upper"]
    differ = np.nanmax(np.abs(ours[columns].to_numpy(float) - theirs[columns].to_numpy(float))
                       / np.maximum(np.abs(theirs[columns].to_numpy(float)), 1e-30))
    arviz_s = best_of(repeats, lambda: oj.summary(results))
    hand_s = best_of(repeats, lambda: hand_written_summary(results))
    print(f"\nsummary of {len(ours)} outputs x {draws:,} draws (float32), best of {repeats}:")
    print("| summary | seconds | vs hand-written |\n| --- | ---: | ---: |")
    print(f"| hand-written (0.1.0: partitions) | {hand_s:.2f} | 1.00 |")
    print(f"| overhang_jax.summary (arviz_stats) | {arviz_s:.2f} | {arviz_s / hand_s:.2f} |")
    print(f"largest relative difference between the two tables: {differ:.1e}")


def bench_files(model: str, draws: int, repeats: int) -> None:
    print(f"\n{model}, {draws:,} draws (float32), best of {repeats}:")
    print("| file | bytes per draw | write seconds |\n| --- | ---: | ---: |")
    with tempfile.TemporaryDirectory() as directory:
        for outputs_only in (False, True):
            results = oj.run(model, draws=draws, seed=0, outputs_only=outputs_only, progress=False)
            for compress in (False, True):
                path = Path(directory) / "run.nc"
                seconds = best_of(repeats, lambda: oj.save(results, path, compress=compress))
                label = f"{'outputs only' if outputs_only else 'parameters and outputs'}, " \
                        f"{'compressed' if compress else 'uncompressed'}"
                print(f"| {label} | {path.stat().st_size / draws:.1f} | {seconds:.2f} |")


def fresh_seconds(code: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(code, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_startup(repeats: int) -> None:
    python = sys.executable
    script = Path(python).parent / "overhang-jax"
    cases = [
        ("python -c pass", [python, "-c", "pass"]),
        ("import jax", [python, "-c", "import jax"]),
        ("import overhang_jax", [python, "-c", "import overhang_jax"]),
        ("import overhang_jax; overhang_jax.run (models, priors, runner)",
         [python, "-c", "import overhang_jax as oj; oj.run, oj.TAKEOFF, oj.TRAJECTORY"]),
        ("overhang-jax --help", [str(script), "--help"]),
    ]
    seconds = {label: fresh_seconds(command, repeats) for label, command in cases}
    jax_s = seconds["import jax"]
    print(f"\nstart-up, fresh processes, median of {repeats}:")
    print("| command | seconds | vs import jax |\n| --- | ---: | ---: |")
    for label, value in seconds.items():
        print(f"| `{label}` | {value:.2f} | {value / jax_s:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--summary-draws", type=count, default=10**7)
    parser.add_argument("--file-draws", type=count, default=10**6)
    parser.add_argument("--trajectory-draws", type=count, default=10**5,
                        help="trajectory file sizes (0 to skip; its histograms are a fixed 5 MB uncompressed)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    args = parser.parse_args()
    if args.quick:
        args.summary_draws, args.file_draws, args.trajectory_draws, args.repeats = 10**5, 10**4, 2000, 1
    print(f"overhang_jax {oj.__version__}, jax {jax.__version__}, {os.cpu_count()} cores, "
          f"{jax.device_count()} XLA CPU devices")
    bench_summary(args.summary_draws, args.repeats)
    bench_files("takeoff", args.file_draws, args.repeats)
    if args.trajectory_draws:
        bench_files("trajectory", args.trajectory_draws, args.repeats)
    bench_startup(max(args.repeats, 5))


if __name__ == "__main__":
    main()
