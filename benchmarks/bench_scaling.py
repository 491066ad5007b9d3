"""Scaling: draws/s against the number of devices, and cost against the number of draws.

Each measurement runs in a fresh process (the device count is fixed when
JAX starts, and peak memory is then the run's own): the end-to-end
``overhang_jax.run`` time after a warm-up run that compiles, and the
process's peak resident memory. Run:

    .venv/bin/python benchmarks/bench_scaling.py                    # devices 1-8, draws 1e3-1e7
    .venv/bin/python benchmarks/bench_scaling.py --max-draws 1e8    # and 1e8 (needs ~12 GB)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time


def child(model: str, draws: int, devices: int) -> None:
    os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    import jax

    import overhang_jax as oj

    oj.run(model, draws=min(draws, 2**16), seed=1)  # compile
    started = time.perf_counter()
    results = oj.run(model, draws=draws, seed=0)
    seconds = time.perf_counter() - started
    assert results.attrs["draws"] == draws
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    print(json.dumps({"seconds": seconds, "peak_bytes": peak, "devices": jax.device_count()}))


def measure(model: str, draws: int, devices: int) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", model, str(draws), str(devices)],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=3, metavar=("MODEL", "DRAWS", "DEVICES"), help=argparse.SUPPRESS)
    parser.add_argument("--max-draws", type=float, default=1e7)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), int(args.child[2]))
        return
    cores = os.cpu_count() or 1
    print(f"{platform.processor() or platform.machine()}, {cores} cores; end to end, float32, seed 0\n")

    print("## Draws/s against devices (XLA CPU devices, one thread each)\n")
    print("| model | draws | devices | seconds | draws/s | speed-up vs 1 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for model, draws in (("takeoff", 10**6), ("trajectory", 10**5)):
        base = None
        for devices in (1, 2, 4, 8):
            m = measure(model, draws, devices)
            rate = draws / m["seconds"]
            base = base or rate
            print(f"| {model} | {draws:.0e} | {devices} | {m['seconds']:.2f} | {rate:,.0f} | {rate / base:.2f} |",
                  flush=True)

    print(f"\n## Cost against draws (takeoff, {cores} devices)\n")
    print("| draws | seconds | draws/s | ns per draw | peak memory (GB) |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    draws = 1000
    while draws <= args.max_draws:
        m = measure("takeoff", draws, cores)
        print(f"| {draws:.0e} | {m['seconds']:.3f} | {draws / m['seconds']:,.0f} | {m['seconds'] / draws * 1e9:,.0f} "
              f"| {m['peak_bytes'] / 1e9:.2f} |", flush=True)
        draws *= 10


if __name__ == "__main__":
    main()
