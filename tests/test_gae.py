"""GAE, PPO losses and the normaliser against values worked out by hand."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from irondog.agents import losses, normalize

REWARDS = [1.0, 2.0, 3.0]
VALUES = [0.5, 1.0, 1.5]
NEXT_VALUES = [1.0, 1.5, 2.0]


def _gae(dones, truncations):
    column = lambda xs: jnp.asarray(xs, jnp.float32)[:, None]  # noqa: E731  (T, N=1)
    adv, ret = losses.gae(
        column(REWARDS),
        column(VALUES),
        column(NEXT_VALUES),
        column(dones),
        column(truncations),
        gamma=0.9,
        gae_lambda=0.8,
    )
    return np.asarray(adv[:, 0]), np.asarray(ret[:, 0])


def test_gae_without_episode_end() -> None:
    # deltas 1.4, 2.35, 3.3; A2 = 3.3, A1 = 2.35 + 0.72 * 3.3, A0 = 1.4 + 0.72 * A1
    adv, ret = _gae([0, 0, 0], [0, 0, 0])
    np.testing.assert_allclose(adv, [4.80272, 4.726, 3.3], rtol=1e-6)
    np.testing.assert_allclose(ret, np.array([4.80272, 4.726, 3.3]) + VALUES, rtol=1e-6)


def test_gae_fall_does_not_bootstrap() -> None:
    # fall at t=1: delta1 = 2 - 1.0 = 1.0 and no carry from t=2; A0 = 1.4 + 0.72 * 1.0
    adv, _ = _gae([0, 1, 0], [0, 0, 0])
    np.testing.assert_allclose(adv, [2.12, 1.0, 3.3], rtol=1e-6)


def test_gae_time_limit_bootstraps_from_terminal_value() -> None:
    # time limit at t=1: delta1 = 2 + 0.9 * 1.5 - 1.0 = 2.35, still no carry from t=2
    adv, _ = _gae([0, 1, 0], [0, 1, 0])
    np.testing.assert_allclose(adv, [1.4 + 0.72 * 2.35, 2.35, 3.3], rtol=1e-6)


def test_clipped_surrogate() -> None:
    # ratio 1.5 with A=2: min(3.0, 1.2*2=2.4); ratio 0.5 with A=-1: min(-0.5, 0.8*-1=-0.8)
    log_prob = jnp.log(jnp.array([1.5, 0.5]))
    loss = losses.clipped_surrogate(log_prob, jnp.zeros(2), jnp.array([2.0, -1.0]), 0.2)
    assert float(loss) == pytest.approx(-(2.4 - 0.8) / 2, rel=1e-6)
    # importance weights 0.5 and 2 scale each sample's term: -(0.5 * 2.4 + 2 * -0.8) / 2
    weights = jnp.array([0.5, 2.0])
    weighted = losses.clipped_surrogate(
        log_prob, jnp.zeros(2), jnp.array([2.0, -1.0]), 0.2, weights=weights
    )
    assert float(weighted) == pytest.approx(-(1.2 - 1.6) / 2, rel=1e-6)


def test_value_loss_with_and_without_clipping() -> None:
    values, old, returns = jnp.array([1.0]), jnp.array([0.0]), jnp.array([2.0])
    # clipped prediction 0.2: error (2 - 0.2)^2 = 3.24 beats (2 - 1)^2 = 1
    assert float(losses.value_loss(values, old, returns, 0.2)) == pytest.approx(1.62)
    assert float(losses.value_loss(values, old, returns, None)) == pytest.approx(0.5)


def test_gaussian_log_prob_entropy_and_kl() -> None:
    log_std = jnp.log(jnp.array([2.0, 0.5]))
    actions, mean = jnp.array([1.0, -0.3]), jnp.array([0.0, 0.2])
    expected = stats.norm.logpdf(1.0, 0.0, 2.0) + stats.norm.logpdf(-0.3, 0.2, 0.5)
    assert float(losses.gaussian_log_prob(actions, mean, log_std)) == pytest.approx(expected)
    entropy = stats.norm(0, 2.0).entropy() + stats.norm(0, 0.5).entropy()
    assert float(losses.gaussian_entropy(log_std)) == pytest.approx(entropy)
    # KL(N(0,1) || N(1,2)) = log 2 + (1 + 1) / 8 - 1/2
    kl = losses.gaussian_kl(jnp.zeros(1), jnp.zeros(1), jnp.ones(1), jnp.log(jnp.full(1, 2.0)))
    assert float(kl) == pytest.approx(np.log(2) + 0.25 - 0.5, rel=1e-6)


def test_normalizer_merges_batches_like_one_batch() -> None:
    rng = np.random.default_rng(0)
    data = rng.normal(3.0, 2.0, size=(300, 4)).astype(np.float32)
    data[:, 3] = 7.0  # a constant input: std floors instead of dividing by zero
    state = normalize.init(4)
    for chunk in (data[:50], data[50:210], data[210:]):
        state = normalize.update(state, jnp.asarray(chunk))
    np.testing.assert_allclose(state.mean, data.mean(0), rtol=1e-5)
    np.testing.assert_allclose(state.var[:3], data.var(0)[:3], rtol=1e-4)
    assert float(state.std[3]) == pytest.approx(normalize.STD_FLOOR)
    out = normalize.normalize(state, jnp.asarray([[3.0, 3.0, 3.0, 100.0]]))
    assert float(out[0, 3]) == normalize.CLIP  # clipped to +5
