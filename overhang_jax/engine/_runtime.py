"""The runtime: CPU devices, the persistent compilation cache and the distributed start.

Set once per process, before JAX starts its backend, by :func:`configure` (which the command line
and every run call with the defaults when the user has not): one XLA CPU device per core (XLA runs
one CPU device on one thread, so one device per core uses them all), JAX's persistent compilation
cache in the user's cache directory (a second process, a notebook kernel or the next command line
reuses the programs the first compiled), and, when asked, the start of a ``jax.distributed`` run.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import threading
import warnings
from pathlib import Path

from .._errors import RunError

CACHE_ENV = "OVERHANG_JAX_CACHE_DIR"
"""Environment variable: the compilation cache's directory, or ``off`` for none."""
DEFAULT_DISTRIBUTED_TIMEOUT = 300.0
"""Seconds a process of a distributed run waits for the others (JAX's own default)."""
CACHE_MIN_COMPILE_SECONDS = 0.5
"""Programs that compile faster are not cached (reading one back costs about as much)."""


@dataclasses.dataclass(frozen=True)
class Runtime:
    """What :func:`configure` set: the CPU devices, the cache directory (None: no cache) and whether
    this process is one of a distributed run."""

    cpu_devices: int | None
    compilation_cache: Path | None
    distributed: bool
    process_index: int = 0
    process_count: int = 1


_CURRENT: Runtime | None = None
_ABANDONED_START = False
"""A distributed start timed out: JAX's own exit handler may then wait on it (see the command line)."""


def default_cache_dir() -> Path | None:
    """The persistent compilation cache's directory: ``$OVERHANG_JAX_CACHE_DIR`` (``off``: none), else
    ``$XDG_CACHE_HOME/overhang_jax``, else ``~/.cache/overhang_jax``."""
    value = os.environ.get(CACHE_ENV)
    if value is not None:
        return None if value.strip().lower() in ("", "off", "0", "false", "none") else Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "overhang_jax"


def _backend_started() -> bool:
    from jax._src import xla_bridge  # no public way to ask whether the backends exist yet

    return xla_bridge.backends_are_initialized()


def configure(*, cpu_devices: int | str | None = "per_core",
              compilation_cache: bool | str | os.PathLike = True, distributed: bool = False,
              coordinator: str | None = None, num_processes: int | None = None, process_id: int | None = None,
              distributed_timeout: float = DEFAULT_DISTRIBUTED_TIMEOUT) -> Runtime:
    """Set up JAX for overhang_jax's runs; call it before any other JAX computation.

    ``cpu_devices``: ``"per_core"`` (default) one XLA CPU device per core, an integer that many,
    None JAX's own choice (one). A count given through ``XLA_FLAGS``
    (``--xla_force_host_platform_device_count``) wins. If JAX's backend already started with
    another count, a :class:`RuntimeWarning` says so and runs use the devices there are.

    ``compilation_cache``: True (default) JAX's persistent compilation cache in
    :func:`default_cache_dir` (``$XDG_CACHE_HOME/overhang_jax`` or ``~/.cache/overhang_jax``; the
    environment variable ``OVERHANG_JAX_CACHE_DIR`` names another directory, or ``off``), unless
    JAX's own ``JAX_COMPILATION_CACHE_DIR`` is set; a path: that directory; False: no cache.
    Processes may share the directory and compile at once (each entry is written whole, then
    renamed into place).

    ``distributed`` (or any of ``coordinator``, ``num_processes``, ``process_id``): join a
    ``jax.distributed`` run (README: Running on a cluster). With none of the three JAX finds the
    cluster itself (SLURM, Open MPI, Kubernetes, Cloud TPU). Raises :class:`RunError` if the other
    processes have not joined within ``distributed_timeout`` seconds.

    Runs call this with the defaults if it was not called. Returns what was set.
    """
    global _CURRENT
    import jax

    devices = _set_cpu_devices(cpu_devices)
    cache = _set_compilation_cache(compilation_cache)
    joined = bool(distributed or coordinator or num_processes or process_id is not None)
    if joined and not jax.distributed.is_initialized():
        _start_distributed(coordinator, num_processes, process_id, distributed_timeout)
    _CURRENT = Runtime(devices, cache, joined or jax.distributed.is_initialized(),
                       jax.process_index() if joined else 0, jax.process_count() if joined else 1)
    return _CURRENT


def ensure_configured() -> Runtime:
    """The runtime, configured with the defaults if :func:`configure` was not called."""
    return _CURRENT if _CURRENT is not None else configure()


def _set_cpu_devices(cpu_devices: int | str | None) -> int | None:
    import jax

    if cpu_devices is None:
        return None
    if cpu_devices == "per_core":
        wanted = os.cpu_count() or 1
    elif isinstance(cpu_devices, int) and not isinstance(cpu_devices, bool) and cpu_devices > 0:
        wanted = cpu_devices
    else:
        raise RunError(f"cpu_devices must be 'per_core', a positive integer or None, got {cpu_devices!r}")
    if "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", ""):
        return None  # the user's own count
    if not _backend_started():
        jax.config.update("jax_num_cpu_devices", wanted)
        return wanted
    have = len(jax.devices("cpu"))
    if have != wanted and jax.default_backend() == "cpu":
        warnings.warn(f"JAX started before overhang_jax could set its CPU devices: runs use {have} CPU "
                      f"device(s), not {wanted} ({'one per core' if cpu_devices == 'per_core' else 'as asked'}), "
                      "and are slower. Import overhang_jax and call overhang_jax.configure() before any other "
                      "JAX computation, or set XLA_FLAGS=--xla_force_host_platform_device_count="
                      f"{wanted} before starting Python.", RuntimeWarning, stacklevel=3)
    return have


def _set_compilation_cache(compilation_cache: bool | str | os.PathLike) -> Path | None:
    import jax

    if compilation_cache is False:
        jax.config.update("jax_enable_compilation_cache", False)
        return None
    if compilation_cache is True:
        theirs = jax.config.jax_compilation_cache_dir  # JAX_COMPILATION_CACHE_DIR, or set by the user
        if theirs:
            return Path(theirs)
        directory = default_cache_dir()
        if directory is None:
            jax.config.update("jax_enable_compilation_cache", False)
            return None
    else:
        directory = Path(compilation_cache).expanduser()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        warnings.warn(f"cannot use '{directory}' for the compilation cache ({err.strerror}); every program "
                      f"compiles again in each process (set {CACHE_ENV} to another directory, or 'off')",
                      RuntimeWarning, stacklevel=3)
        return None
    jax.config.update("jax_enable_compilation_cache", True)
    jax.config.update("jax_compilation_cache_dir", str(directory))
    if jax.config.jax_persistent_cache_min_compile_time_secs > CACHE_MIN_COMPILE_SECONDS:
        jax.config.update("jax_persistent_cache_min_compile_time_secs", CACHE_MIN_COMPILE_SECONDS)
    from jax.experimental.compilation_cache import compilation_cache as cache

    cache.reset_cache()  # read the directory again, should a program have compiled before this call
    return directory


def _start_distributed(coordinator: str | None, num_processes: int | None, process_id: int | None,
                       timeout: float) -> None:
    """Join a jax.distributed run, or raise RunError once ``timeout`` seconds have passed.

    JAX would abort the process with a C++ stack trace after its own timeout, so the joining waits
    in a helper thread and this one gives up first, raising in the caller's thread so that its
    ``finally`` blocks run.
    """
    global _ABANDONED_START
    import jax

    if not math.isfinite(timeout) or timeout <= 0:
        raise RunError(f"distributed_timeout must be a positive number of seconds, got {timeout!r}")
    # CPU processes need a collectives backend to exchange results (GPUs and TPUs have their own).
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    who = (f"process {process_id} of {num_processes}" if process_id is not None and num_processes
           else "this process")
    where = f"coordinator {coordinator}" if coordinator else "the coordinator found from the environment"
    print(f"{who}: joining the distributed run ({where}); waiting up to {timeout:g} s for the others",
          file=sys.stderr, flush=True)
    failure: list[BaseException] = []

    def join():
        try:
            jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes,
                                       process_id=process_id, initialization_timeout=math.ceil(timeout) + 60)
        except BaseException as err:  # handed to the waiting thread
            failure.append(err)

    joining = threading.Thread(target=join, name="overhang-jax distributed start", daemon=True)
    joining.start()
    joining.join(timeout)
    if joining.is_alive():
        _ABANDONED_START = True
        raise RunError(f"{who}: the other processes of the distributed run did not join within {timeout:g} s "
                       f"({where}); start every process, or allow more time with --distributed-timeout")
    if failure:
        raise RunError(f"cannot start the distributed run: {failure[0]}") from None


def distributed_start_abandoned() -> bool:
    """Whether a distributed start timed out in this process (JAX's exit handler may then hang)."""
    return _ABANDONED_START
