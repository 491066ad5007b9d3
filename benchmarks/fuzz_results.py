"""Fuzz `overhang-jax summary` and `report` with damaged copies of a results file.

Each copy of a 2,000-draw takeoff file has one bit flipped, a run of bytes zeroed, or its end cut, at a
seeded random offset. Every copy must end in exit 2 and one error line naming the file, or in a summary
identical to the undamaged file's; a copy that takes longer than --case-seconds is a hang (the process
stops, printing where). Copies are read in this process through the CLI's main(); --subprocess N also
runs the first N through the installed console script, as a user would.

    PYTHONPATH=. python benchmarks/fuzz_results.py --copies 200 --subprocess 20
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import io
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "results"))

import overhang_jax as oj  # noqa: E402
from overhang_jax.cli import main  # noqa: E402
from test_damage import damaged_copies  # noqa: E402  (the suite's own damage: flip, zero, cut)


def cli(args: list[str]) -> tuple[int, str, str, bool]:
    out, err = io.StringIO(), io.StringIO()
    traceback = False
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(args)
        except BaseException as exc:  # an uncaught exception is a traceback for the user
            code, traceback = 1, True
            err.write(f"Traceback: {type(exc).__name__}: {exc}\n")
    return code, out.getvalue(), err.getvalue(), traceback


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=200)
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report-every", type=int, default=10, help="also run `report` on every k-th copy")
    parser.add_argument("--subprocess", type=int, default=0, help="copies also run through the console script")
    parser.add_argument("--case-seconds", type=float, default=120)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="fuzz_results_"))
    original = folder / "original.nc"
    oj.save(oj.run("takeoff", draws=args.draws, seed=0), original)
    data = original.read_bytes()
    code, expected, _, _ = cli(["summary", str(original)])
    assert code == 0
    print(f"file: {args.draws:,}-draw takeoff results, {len(data):,} bytes; {args.copies} damaged copies, "
          f"seed {args.seed}")

    outcomes, slowest, failures = Counter(), 0.0, []
    path = folder / "damaged.nc"
    start = time.perf_counter()
    for k, (what, damaged) in enumerate(damaged_copies(data, args.copies, args.seed)):
        path.write_bytes(damaged)
        commands = [["summary", str(path)]]
        if args.report_every and k % args.report_every == 0:
            commands.append(["report", str(path), "--out", str(folder / "report.html")])
        for command in commands:
            faulthandler.dump_traceback_later(args.case_seconds, exit=True, file=sys.__stderr__)
            began = time.perf_counter()
            code, out, err, traceback = cli(command)
            slowest = max(slowest, time.perf_counter() - began)
            faulthandler.cancel_dump_traceback_later()
            one_line = err.startswith("overhang-jax: error: ") and err.count("\n") == 1 and str(path) in err
            if traceback:
                outcome = "traceback"
            elif code == 2 and one_line:
                outcome = "refused with one line"
            elif code == 0 and command[0] == "summary" and out == expected:
                outcome = "unchanged summary"
            elif code == 0 and command[0] == "report" and damaged == data:
                outcome = "unchanged report"
            else:
                outcome = "silent change or bad message"
            outcomes[f"{command[0]}: {outcome}"] += 1
            if outcome not in ("refused with one line", "unchanged summary", "unchanged report"):
                failures.append(f"{what} ({command[0]}): exit {code}: {err.strip()[:200]}")
        (folder / "report.html").unlink(missing_ok=True)
    elapsed = time.perf_counter() - start

    script = Path(sys.executable).with_name("overhang-jax")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    for k, (what, damaged) in enumerate(damaged_copies(data, args.subprocess, args.seed)):
        path.write_bytes(damaged)
        try:
            child = subprocess.run([str(script), "summary", str(path)], capture_output=True, text=True, env=env,
                                   timeout=args.case_seconds)
        except subprocess.TimeoutExpired:
            outcomes["console script: hang"] += 1
            failures.append(f"{what} (console script): hang")
            continue
        ok = (child.returncode == 2 and child.stderr.count("\n") == 1 and "Traceback" not in child.stderr) or \
             (child.returncode == 0 and child.stdout == expected)
        outcomes[f"console script: {'ok' if ok else 'FAILED'}"] += 1
        if not ok:
            failures.append(f"{what} (console script): exit {child.returncode}: {child.stderr.strip()[:200]}")

    for outcome, count in sorted(outcomes.items()):
        print(f"  {outcome}: {count}")
    print(f"in-process cases: {elapsed:.1f} s in all, slowest {slowest:.2f} s (hang limit {args.case_seconds:g} s)")
    for failure in failures:
        print(f"  FAILED {failure}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main_()
