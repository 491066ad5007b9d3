"""Test set-up: eight CPU devices (to exercise sharding) and strict dtype promotion."""

import os

# Must happen before jax initialises its backend.
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8").strip()
os.environ.setdefault("MPLBACKEND", "Agg")

import jax  # noqa: E402

jax.config.update("jax_numpy_dtype_promotion", "strict")
