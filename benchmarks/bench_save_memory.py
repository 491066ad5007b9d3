"""Benchmark: what writing a results file costs in memory and time.

A results file is made in memory first and then written with plain file
writes (``overhang_jax._io.write_netcdf``), because h5py crashes the process
when the disk fills while it writes. This measures, each in a fresh process
so peaks do not mix:

* the peak resident memory after the run (the results in memory),
* the peak after saving through memory (what the package does),
* the peak after saving straight to the file with h5netcdf (the old way),

and the time of each save, with the file's size.

    python benchmarks/bench_save_memory.py                     # takeoff, 1e7 draws
    python benchmarks/bench_save_memory.py --model trajectory --draws 1e6
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

MEASURE = """
import json, os, resource, sys, time
import overhang_jax as oj
from overhang_jax._io import write_netcdf

model, draws, path, how = sys.argv[1], int(float(sys.argv[2])), sys.argv[3], sys.argv[4]
results = oj.run(model, draws=draws, seed=0)
after_run = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
started = time.perf_counter()
if how == "memory":
    write_netcdf(path, results)
else:
    results.to_netcdf(path, engine="h5netcdf")
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"after_run": after_run, "peak": peak, "seconds": seconds, "size": os.path.getsize(path)}))
"""


def measure(model: str, draws: float, how: str) -> dict:
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "results.nc")
        done = subprocess.run([sys.executable, "-c", MEASURE, model, str(draws), path, how], capture_output=True,
                              text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="takeoff")
    parser.add_argument("--draws", type=float, default=1e7)
    args = parser.parse_args()
    print(f"{args.model}, {args.draws:.3g} draws (peak resident memory, GB; save time, s)")
    for how, label in (("memory", "made in memory, then written"), ("direct", "written by h5netcdf directly")):
        m = measure(args.model, args.draws, how)
        print(f"  {label:32s} after run {m['after_run'] / 1e9:6.2f}  peak {m['peak'] / 1e9:6.2f}  "
              f"(+{(m['peak'] - m['after_run']) / 1e9:.2f})  save {m['seconds']:6.2f} s  file {m['size'] / 1e9:.2f} GB")


if __name__ == "__main__":
    main()
