"""Pure PPO pieces: GAE, the clipped surrogate, the clipped value loss, Gaussian log-prob/entropy.

Each is a small array function, tested against hand-computed values in tests/test_gae.py.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

LOG_2PI = 1.8378770664093453  # log(2 pi)


def gae(
    rewards: jax.Array,
    values: jax.Array,
    next_values: jax.Array,
    dones: jax.Array,
    truncations: jax.Array,
    gamma: float,
    gae_lambda: float,
) -> tuple[jax.Array, jax.Array]:
    """Generalised advantage estimates and value targets, all arrays (T, N) time-major.

    ``next_values[t]`` is the value of the observation after step t: of the terminal
    observation where the episode ended at t, else of the next step's observation. A fall
    (done and not truncated) does not bootstrap; a time-limit end does. The recursion
    stops at every episode end. Returns (advantages, returns = advantages + values).
    """
    terminated = dones * (1.0 - truncations)
    deltas = rewards + gamma * (1.0 - terminated) * next_values - values  # (T, N)
    carry_on = gamma * gae_lambda * (1.0 - dones)  # (T, N)

    def backward(next_advantage: jax.Array, step: tuple[jax.Array, jax.Array]):
        delta, keep = step
        advantage = delta + keep * next_advantage
        return advantage, advantage

    _, advantages = jax.lax.scan(
        backward, jnp.zeros_like(values[0]), (deltas, carry_on), reverse=True
    )
    return advantages, advantages + values


def clipped_surrogate(
    log_prob: jax.Array,
    old_log_prob: jax.Array,
    advantages: jax.Array,
    clip_epsilon: float,
    weights: jax.Array | None = None,
) -> jax.Array:
    """PPO policy loss (to minimise): -mean(w min(r A, clip(r, 1-e, 1+e) A)), r = pi/pi_old.

    ``weights`` (w, default 1) are per-sample importance weights, held constant.
    """
    ratio = jnp.exp(log_prob - old_log_prob)
    unclipped = ratio * advantages
    clipped = jnp.clip(ratio, 1.0 - clip_epsilon, 1.0 + clip_epsilon) * advantages
    surrogate = jnp.minimum(unclipped, clipped)
    if weights is not None:
        surrogate = jax.lax.stop_gradient(weights) * surrogate
    return -jnp.mean(surrogate)


def value_loss(
    values: jax.Array,
    old_values: jax.Array,
    returns: jax.Array,
    clip_epsilon: float | None,
) -> jax.Array:
    """0.5 * mean squared error; with clip_epsilon, the max of clipped and unclipped errors."""
    error = (returns - values) ** 2
    if clip_epsilon is not None:
        clipped = old_values + jnp.clip(values - old_values, -clip_epsilon, clip_epsilon)
        error = jnp.maximum(error, (returns - clipped) ** 2)
    return 0.5 * jnp.mean(error)


def gaussian_log_prob(actions: jax.Array, mean: jax.Array, log_std: jax.Array) -> jax.Array:
    """Log density of a diagonal Gaussian, summed over the last axis: (..., A) -> (...)."""
    z = (actions - mean) * jnp.exp(-log_std)
    return jnp.sum(-0.5 * z**2 - log_std - 0.5 * LOG_2PI, axis=-1)


def gaussian_entropy(log_std: jax.Array) -> jax.Array:
    """Entropy of a diagonal Gaussian with these log standard deviations (A,) -> ()."""
    return jnp.sum(log_std + 0.5 * (LOG_2PI + 1.0), axis=-1)


def gaussian_kl(
    mean_old: jax.Array, log_std_old: jax.Array, mean_new: jax.Array, log_std_new: jax.Array
) -> jax.Array:
    """KL(old || new) of diagonal Gaussians, summed over the last axis."""
    var_old = jnp.exp(2 * log_std_old)
    var_new = jnp.exp(2 * log_std_new)
    return jnp.sum(
        log_std_new - log_std_old + (var_old + (mean_old - mean_new) ** 2) / (2 * var_new) - 0.5,
        axis=-1,
    )
