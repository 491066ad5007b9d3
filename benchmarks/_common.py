"""Pieces the benchmark scripts share."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import jax


class CompileClock:
    """Seconds XLA spent compiling, so a timed run that compiled after all is flagged, not trusted."""

    EVENT = "/jax/core/compile/backend_compile_duration"

    def __init__(self):
        self.seconds = 0.0
        jax.monitoring.register_event_duration_secs_listener(self._record)

    def _record(self, event, duration, **_):
        if event == self.EVENT:
            self.seconds += duration


def count(text: str) -> int:
    """A positive whole number, written 1000000 or 1e6 (an argparse type)."""
    value = float(text)
    if not value.is_integer() or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got '{text}'")
    return int(value)


def cpu_name() -> str:
    """The CPU's model name, from /proc/cpuinfo (Linux)."""
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def add_run_arguments(parser: argparse.ArgumentParser, default_chunk_size: int) -> None:
    """The options every benchmark of a model run takes: seed, precision, JAX chunk size."""
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--float64", action="store_true", help="time in double precision (default float32, "
                        "overhang_jax's default; numpy uses the same dtype)")
    parser.add_argument("--jax-chunk-size", type=count, default=default_chunk_size,
                        help="draws per JAX chunk (default: the runner's, %(default)s)")


class OtherLoad:
    """CPU time other processes used while timing (from /proc/stat, minus this process), in cores on average.

    The figures are only comparable on an otherwise idle machine: a non-zero value flags a contended run.
    """

    def __enter__(self):
        self.start = (time.perf_counter(), self._busy(), self._own())
        return self

    def __exit__(self, *exc):
        wall, busy, own = (b - a for a, b in zip(self.start, (time.perf_counter(), self._busy(), self._own())))
        self.cores = max(busy - own, 0.0) / wall if wall > 0 else 0.0

    @staticmethod
    def _busy() -> float:
        """Seconds all CPUs spent busy since boot (0 where /proc/stat is missing)."""
        try:
            fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        except OSError:
            return 0.0
        user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in fields[:8])
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _own() -> float:
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system
