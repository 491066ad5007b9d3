"""Benchmark: what the persistent compilation cache saves a second command-line run.

For each model, whole `overhang-jax run` processes, timed from outside:

* **first**: `run MODEL --priors FIRST` with an empty compilation cache (a new
  `OVERHANG_JAX_CACHE_DIR` each time);
* **second**: `run MODEL --priors SECOND` (another scenario, other numbers)
  reading the cache one run of FIRST filled: the priors are data, so it
  should compile nothing new;
* **second, cache off**: the same with `OVERHANG_JAX_CACHE_DIR=off`.

Each process also reports, through JAX's monitoring events, the seconds XLA
spent compiling (`backend_compile`; a cache hit still counts a little for
loading the executable) and the seconds spent tracing and lowering, which a
cache hit does not skip. Runs are taken in turn (first, second, off, first,
...) and the medians printed, with the ratio second / first the issue asks
about. Results and the default plots are written, as a user's run would.

    python benchmarks/bench_cache.py                 # all four models, 3 rounds
    python benchmarks/bench_cache.py --models trajectory --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import cpu_name  # noqa: E402

# (first scenario, second scenario, draws): the second differs in numbers only. The inference
# model ships no scenarios: its second run widens one prior in a copy of the defaults.
CASES = {
    "trajectory": ("no_policy", "gradual_lift", 100_000),
    "takeoff": ("takeoff_baseline", "takeoff_investment_3x", 100_000),
    "inference": (None, "wider_utilisation", 100_000),
    "ftm": ("ftm_no_policy", "ftm_training_cap", 20_000),
}

# Runs the command line in this process, then prints JAX's compile events as one JSON line on stderr.
CHILD = """
import collections, json, sys
import jax
seconds = collections.Counter()
jax.monitoring.register_event_duration_secs_listener(lambda event, duration, **_: seconds.update({event: duration}))
from overhang_jax.cli import main
code = main(sys.argv[1:])
print("COMPILE " + json.dumps({"compile": seconds["/jax/core/compile/backend_compile_duration"],
      "trace_lower": seconds["/jax/core/compile/jaxpr_trace_duration"]
      + seconds["/jax/core/compile/jaxpr_to_mlir_module_duration"]}), file=sys.stderr)
sys.exit(code)
"""


def inference_priors(directory: Path) -> Path:
    """The inference model's default priors with `utilisation` uniform on 0.35-0.65 (not 0.3-0.6)."""
    from overhang_jax.models._registry import SHIPPED_PRIORS_DIR

    text = (SHIPPED_PRIORS_DIR / "inference.toml").read_text()
    old = 'utilisation = { dist = "uniform", lo = 0.3, hi = 0.6 }'
    if old not in text:
        raise SystemExit("the inference priors changed: update bench_cache.py's second scenario")
    path = directory / "wider_utilisation.toml"
    path.write_text(text.replace(old, 'utilisation = { dist = "uniform", lo = 0.35, hi = 0.65 }'))
    return path


def timed_run(model: str, priors: str | None, draws: int, cache: str, out: Path) -> dict:
    command = [sys.executable, "-c", CHILD, "run", model, "--draws", str(draws), "--out", str(out)]
    if priors is not None:
        command += ["--priors", priors]
    env = {**os.environ, "OVERHANG_JAX_CACHE_DIR": cache, "MPLBACKEND": "Agg"}
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=out.parent)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[3:])} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    line = next(x for x in done.stderr.splitlines() if x.startswith("COMPILE "))
    return {"wall": wall, **json.loads(line[len("COMPILE "):])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--rounds", type=int, default=3, help="runs of each kind per model (median kept)")
    args = parser.parse_args()

    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}\n")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for model in args.models:
            first, second, draws = CASES[model]
            if second == "wider_utilisation":
                second = str(inference_priors(tmp))
            times: dict[str, list[dict]] = {"first": [], "second": [], "off": []}
            for k in range(args.rounds):
                cache = tmp / f"{model}-cache-{k}"  # empty: the first run fills it
                times["first"].append(timed_run(model, first, draws, str(cache), tmp / "first.nc"))
                times["second"].append(timed_run(model, second, draws, str(cache), tmp / "second.nc"))
                times["off"].append(timed_run(model, second, draws, "off", tmp / "off.nc"))
            median = {kind: {key: statistics.median(t[key] for t in runs) for key in runs[0]}
                      for kind, runs in times.items()}
            ratio = statistics.median(s["wall"] / f["wall"] for f, s in zip(times["first"], times["second"]))
            rows.append((model, f"{first or 'defaults'} -> {Path(second).stem}", draws, median, ratio))
            print(f"{model}: done", flush=True)

    print("\nwall s (XLA compile s, trace and lower s), medians of", args.rounds, "rounds")
    print(f"{'model':<11} {'first -> second':<44} {'draws':>7}  {'first':>20}  {'second':>20}  "
          f"{'second, cache off':>20}  {'second/first':>12}")
    for model, scenarios, draws, m, ratio in rows:
        cell = [f"{m[k]['wall']:.2f} ({m[k]['compile']:.2f}, {m[k]['trace_lower']:.2f})" for k in ("first", "second",
                                                                                                 "off")]
        print(f"{model:<11} {scenarios:<44} {draws:>7}  {cell[0]:>20}  {cell[1]:>20}  {cell[2]:>20}  {ratio:>12.2f}")


if __name__ == "__main__":
    main()
