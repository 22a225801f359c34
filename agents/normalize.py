"""Running mean/std observation normaliser: obs_norm = clip((obs - mean) / std, -5, 5).

Statistics are merged batch by batch with the parallel-variance formula (Chan et al.), so a
batch sharded across devices gives the same numbers as the whole batch on one device.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

CLIP = 5.0
STD_FLOOR = 1e-2  # a constant input (e.g. a fixed command) must not blow up


@struct.dataclass
class NormalizerState:
    """Running statistics of one observation vector."""

    mean: jax.Array  # (size,)
    std: jax.Array  # (size,), floored at STD_FLOOR; what normalize divides by
    var: jax.Array  # (size,) population variance of everything seen so far
    count: jax.Array  # () number of rows seen (float32)


def init(size: int) -> NormalizerState:
    """Identity normaliser (mean 0, std 1) that has seen nothing."""
    return NormalizerState(
        mean=jnp.zeros((size,), jnp.float32),
        std=jnp.ones((size,), jnp.float32),
        var=jnp.ones((size,), jnp.float32),
        count=jnp.zeros((), jnp.float32),
    )


def update(state: NormalizerState, batch: jax.Array) -> NormalizerState:
    """Merge a batch (..., size) into the running statistics."""
    rows = batch.reshape(-1, batch.shape[-1]).astype(jnp.float32)
    n = jnp.float32(rows.shape[0])
    batch_mean = rows.mean(axis=0)
    batch_var = rows.var(axis=0)
    total = state.count + n
    delta = batch_mean - state.mean
    mean = state.mean + delta * (n / total)
    m2 = state.var * state.count + batch_var * n + delta**2 * (state.count * n / total)
    var = m2 / total
    return NormalizerState(
        mean=mean, std=jnp.maximum(jnp.sqrt(var), STD_FLOOR), var=var, count=total
    )


def normalize(state: NormalizerState, obs: jax.Array) -> jax.Array:
    """Normalised and clipped observation, same shape as obs."""
    return jnp.clip((obs - state.mean) / state.std, -CLIP, CLIP)
