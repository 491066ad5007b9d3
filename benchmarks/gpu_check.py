"""GPU check: speed of the takeoff, trajectory and ftm models on the first accelerator, and their
results against CPU float64 on a few thousand draws. Run through benchmarks/gpu_check.sh.

One model per child process (``--model``), so a model that runs past its time budget is stopped
without losing the others' rows; the parent prints one table. Without an accelerator, the same
code runs on the CPU at tiny sizes ("CPU fallback"), so the script is known to work before a GPU
machine is at hand.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

GPU_SIZES = {"takeoff": 10_000_000, "trajectory": 1_000_000, "ftm": 100_000}
"""Timed draws on a GPU: each about a minute or less on a current card (a guess: not yet run on one)."""
CPU_SIZES = {"takeoff": 2_000, "trajectory": 500, "ftm": 200}
CHECK_DRAWS = {"gpu": 4_096, "cpu": 256}
PER_MODEL_SECONDS = 140
"""Each model's child is stopped after this long: three models stay within 8 minutes."""


def one_model(name: str, draws: int, check_draws: int) -> dict:
    import jax
    import numpy as np

    import overhang_jax as oj

    oj.configure()
    accelerator = [d for d in jax.devices() if d.platform != "cpu"]
    devices = accelerator[:1] or jax.devices("cpu")
    row = {"model": name, "device": str(devices[0].device_kind), "draws": draws}
    started = time.perf_counter()
    oj.run(name, draws=draws, seed=1, devices=devices, progress=False, max_nonfinite_share=1.0)
    first = time.perf_counter() - started
    started = time.perf_counter()
    oj.run(name, draws=draws, seed=2, devices=devices, progress=False, max_nonfinite_share=1.0)
    second = time.perf_counter() - started
    row.update(draws_per_s=draws / second, compile_s=max(first - second, 0.0))
    stats = devices[0].memory_stats() or {}
    row["peak_memory_gib"] = stats.get("peak_bytes_in_use", float("nan")) / 2**30

    # Against CPU float64: the same draws (same seed), outputs compared where both are finite.
    reference = oj.run(name, draws=check_draws, seed=3, float64=True, devices=jax.devices("cpu"),
                       progress=False, max_nonfinite_share=1.0)
    worst = {}
    for precision in ("float32", "float64"):
        here = oj.run(name, draws=check_draws, seed=3, float64=precision == "float64", devices=devices,
                      progress=False, max_nonfinite_share=1.0)
        mismatched_finiteness, relative = 0, 0.0
        for output in oj.outputs(reference).data_vars:
            a = np.asarray(oj.outputs(reference)[output].values, np.float64).ravel()
            b = np.asarray(oj.outputs(here)[output].values, np.float64).ravel()
            finite = np.isfinite(a) & np.isfinite(b)
            mismatched_finiteness += int(np.count_nonzero(np.isfinite(a) != np.isfinite(b)))
            if finite.any():
                scale = np.maximum(np.abs(a[finite]), 1e-12)
                # the 99th percentile: one draw near a threshold (a step earlier or later) moves the maximum
                relative = max(relative, float(np.quantile(np.abs(a[finite] - b[finite]) / scale, 0.99)))
        worst[precision] = (relative, mismatched_finiteness)
    row.update(f32_vs_cpu64=worst["float32"][0], f64_vs_cpu64=worst["float64"][0],
               finiteness_differs=worst["float32"][1] + worst["float64"][1], check_draws=check_draws)
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--draws", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--check-draws", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--cpu", action="store_true", help="the CPU fallback even where a GPU is found")
    args = parser.parse_args(argv)
    if args.model:
        print(json.dumps(one_model(args.model, args.draws, args.check_draws)))
        return 0

    probe = subprocess.run([sys.executable, "-c", "import jax; print(jax.default_backend())"],
                           capture_output=True, text=True)
    backend = probe.stdout.strip() or "cpu"
    gpu = backend == "gpu" and not args.cpu
    print(f"backend: {backend}; " + ("timing on the first GPU" if gpu else
                                     "no GPU found (or --cpu): the CPU fallback at tiny sizes, to check the script"))
    sizes, check = (GPU_SIZES, CHECK_DRAWS["gpu"]) if gpu else (CPU_SIZES, CHECK_DRAWS["cpu"])
    rows = []
    for name, draws in sizes.items():
        command = [sys.executable, __file__, "--model", name, "--draws", str(draws), "--check-draws", str(check)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=PER_MODEL_SECONDS)
        except subprocess.TimeoutExpired:
            rows.append({"model": name, "draws": draws, "error": f"stopped after {PER_MODEL_SECONDS} s"})
            continue
        if done.returncode != 0:
            rows.append({"model": name, "draws": draws, "error": done.stderr.strip().splitlines()[-1][:80]})
            continue
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    header = (f"{'model':10s} {'device':22s} {'draws':>11s} {'draws/s':>12s} {'compile s':>9s} {'peak GiB':>8s} "
              f"{'f32 vs cpu f64':>14s} {'f64 vs cpu f64':>14s} {'finite differs':>14s}")
    print(header)
    for row in rows:
        if "error" in row:
            print(f"{row['model']:10s} {'':22s} {row['draws']:>11,d}  {row['error']}")
            continue
        print(f"{row['model']:10s} {row['device'][:22]:22s} {row['draws']:>11,d} {row['draws_per_s']:>12,.0f} "
              f"{row['compile_s']:>9.1f} {row['peak_memory_gib']:>8.2f} {row['f32_vs_cpu64']:>14.2e} "
              f"{row['f64_vs_cpu64']:>14.2e} {row['finiteness_differs']:>14d}")
    print(f"f32/f64 vs cpu f64: the largest 99th percentile, over outputs, of |relative difference| on the "
          f"{check:,} check draws where both are finite; 'finite differs': outputs finite on one side only, "
          "summed over outputs (both precisions).")
    return 1 if any("error" in row for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
