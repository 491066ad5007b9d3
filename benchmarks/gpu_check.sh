#!/usr/bin/env bash
# GPU check (issue: one engine behind every entry point). On a machine with an NVIDIA GPU and JAX with
# CUDA installed (pip install -U "jax[cuda12]"), times the takeoff, trajectory and ftm models on the
# first GPU, checks their results against CPU float64 on a few thousand draws, and prints one table:
# draws/s, compile time, peak GPU memory, and the differences. Within 8 minutes: each model's part is
# stopped after 140 s. Without a GPU it runs the same code on the CPU at tiny sizes (to check the script).
#
#   benchmarks/gpu_check.sh            # from the repository root
#   PYTHON=path/to/python benchmarks/gpu_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
# A cache of its own: compile times are measured, not read back from an earlier run.
export OVERHANG_JAX_CACHE_DIR="$(mktemp -d)"
trap 'rm -rf "$OVERHANG_JAX_CACHE_DIR"' EXIT
if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; fi
exec "$PYTHON" benchmarks/gpu_check.py "$@"
