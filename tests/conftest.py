"""Test set-up: eight CPU devices (to exercise sharding), strict dtype promotion, and one compilation
cache for the whole session."""

import atexit
import os
import shutil
import tempfile

# Must happen before jax initialises its backend.
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8").strip()
os.environ.setdefault("MPLBACKEND", "Agg")
# The suite compiles the same programs many times: in both xdist workers and in the command lines,
# notebooks and distributed runs it starts as subprocesses (all inherit this environment). JAX's
# persistent cache compiles each once per session. It starts empty, so no test sees a program from
# an earlier session or another version of the code.
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    _cache = tempfile.mkdtemp(prefix="overhang-jax-tests-jax-cache-")
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _cache
    os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_numpy_dtype_promotion", "strict")


@pytest.fixture
def run_cli(capsys):
    """``run_cli(*args)``: the command line run in this process, as (exit code, stdout, stderr)."""
    from overhang_jax.cli import main

    def run(*args):
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run
