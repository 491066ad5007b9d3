"""The inference model: how many copies the cluster that trained a model can run.

docs/inference.md is this model's page. A cluster of F FLOP/s (``cluster_flop_per_second``)
trains for T years (``training_years``) at utilisation u, Chinchilla-style:
D = r N data points (``tokens_per_param`` r) of H token-equivalents each
(``horizon_tokens``), so

    training compute   C = F * T * SECONDS_PER_YEAR * u      (FLOP)
                       C = 6 N D H = 6 r H N^2
    parameters         N = sqrt(C / (6 r H))
    tokens per second  = u F / (k N)                         (k = ``flop_per_param_forward``, 2)
                       = 3 r H N / (T * SECONDS_PER_YEAR)    when k = 2
    parallel streams   = tokens per second / ``stream_tokens_per_second``
    copies multiplier  = (C / ``reference_training_flop``) ** CHINCHILLA_COPIES_SCALING

The cluster serves at the utilisation it trained at (the reference case
takes u = 1 for both). Tokens per second grow as sqrt(C): 100x the
training compute buys 10x the copies. :func:`copies_multiplier` is that
relation, and the takeoff model's training/inference asymmetry multiplier
calls it too, so the two models cannot drift apart.

Outputs and units: params_count (parameters), tokens_per_second
(token-equivalents/s), parallel_streams (streams), copies_multiplier (1,
relative to the reference run) and training_flop (FLOP).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from ._schema import Draw, Figure, Model, Output, Parameter

SECONDS_PER_YEAR = 365.25 * 24 * 3600
LN10 = math.log(10)
CHINCHILLA_COPIES_SCALING = 0.5
"""Copies grow as training compute to this power: N ~ sqrt(C) parameters, so
tokens/s ~ C / N ~ C ** (1/2). The default of the takeoff model's
``asymmetry_scaling`` and of this model's copies multiplier."""

REFERENCE_TRAINING_FLOP = 1e21 * SECONDS_PER_YEAR
"""The reference run: a quarter of 2023's ~4e21 FLOP/s for one year."""


def copies_multiplier(log10_compute_ratio: jax.Array, scaling: jax.Array | float) -> jax.Array:
    """How many times more copies a run of 10 ** log10_compute_ratio times the compute can run.

    ``scaling`` is the exponent of copies in training compute
    (CHINCHILLA_COPIES_SCALING = 1/2 under Chinchilla scaling).
    """
    # exp, not 10 ** x: XLA turns a power with an exponent known at compile
    # time (a point prior) into other operations in some fusions only, which
    # would make a draw's last bit depend on the batch it is computed in.
    return jnp.exp(scaling * log10_compute_ratio * LN10)


PARAMETERS = (
    Parameter("cluster_flop_per_second", 1e21, "FLOP/s", "cluster compute (peak)", lower=0.0, lower_open=True),
    Parameter("training_years", 1.0, "yr", "duration of the training run", lower=0.0, lower_open=True),
    Parameter("utilisation", 1.0, "1", "share of peak FLOP/s achieved, in training and inference",
              lower=0.0, upper=1.0, lower_open=True),
    Parameter("tokens_per_param", 20.0, "1", "Chinchilla data points per parameter (r)", lower=0.0,
              lower_open=True),
    Parameter("horizon_tokens", 1.0, "tokens", "token-equivalents per data point (H)", lower=0.0, lower_open=True),
    Parameter("flop_per_param_forward", 2.0, "FLOP", "inference FLOP per parameter per token", lower=0.0,
              lower_open=True),
    Parameter("stream_tokens_per_second", 50.0, "tokens/s", "speed of one stream (one copy at work)",
              lower=0.0, lower_open=True),
    Parameter("reference_training_flop", REFERENCE_TRAINING_FLOP, "FLOP",
              "training compute of the reference run of copies_multiplier", lower=0.0, lower_open=True),
)

OUTPUTS = (
    Output("params_count", "parameters", "N = sqrt(C / (6 r H))"),
    Output("tokens_per_second", "tokens/s", "token-equivalents per second the cluster produces after training"),
    Output("parallel_streams", "streams", "tokens_per_second / stream_tokens_per_second"),
    Output("copies_multiplier", "1", "copies relative to the reference run, (C / C_ref) ** 1/2"),
    Output("training_flop", "FLOP", "training compute C = F * T * u"),
)


def training_flop(p: Draw) -> jax.Array:
    """C = F * T * u, with T in seconds."""
    return p["cluster_flop_per_second"] * (p["training_years"] * SECONDS_PER_YEAR) * p["utilisation"]


def params_count(p: Draw, compute: jax.Array) -> jax.Array:
    """N = sqrt(C / (6 r H)), from C = 6 N D H and D = r N."""
    return jnp.sqrt(compute / (6 * p["tokens_per_param"] * p["horizon_tokens"]))


def tokens_per_second(p: Draw, params: jax.Array) -> jax.Array:
    """u F / (k N): the cluster's achieved FLOP/s over the FLOP per token."""
    return p["utilisation"] * p["cluster_flop_per_second"] / (p["flop_per_param_forward"] * params)


def inference(p: Draw) -> dict[str, jax.Array]:
    """One draw of the inference model."""
    compute = training_flop(p)
    params = params_count(p, compute)
    tokens = tokens_per_second(p, params)
    ratio = jnp.log10(compute) - jnp.log10(p["reference_training_flop"])
    return {
        "params_count": params,
        "tokens_per_second": tokens,
        "parallel_streams": tokens / p["stream_tokens_per_second"],
        "copies_multiplier": copies_multiplier(ratio, CHINCHILLA_COPIES_SCALING),
        "training_flop": compute,
    }


INFERENCE = Model(
    name="inference",
    description="copies a training cluster can run after training (docs/inference.md)",
    parameters=PARAMETERS,
    outputs=OUTPUTS,
    methods={"closed_form": inference},
    default_priors="inference.toml",
    figures=(Figure("streams_vs_compute", "streams_vs_compute"),
             Figure("distributions", "distributions", {"names": ("parallel_streams", "params_count")})),
    sweep_outputs=("parallel_streams", "params_count"),
)
