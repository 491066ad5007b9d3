"""Pieces the benchmark scripts share."""

from __future__ import annotations

import argparse

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
