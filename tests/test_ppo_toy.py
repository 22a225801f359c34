"""A toy environment on the envs/base.py contract (a point mass tracking a commanded velocity),
used by the PPO, distributed and CLI tests so they run in seconds; plus its own contract test.

``PointMassEnv`` is pure JAX (like the MJX back end); ``NumpyPointMassEnv`` returns NumPy
arrays from reset/step (like the native back end). Each env's randomness depends on the seed
and its global index, so two processes holding halves of a batch see the same episodes as one
process holding all of it.
"""

from __future__ import annotations

import os
import tempfile

import jax
import jax.numpy as jnp
import numpy as np

from irondog.envs.base import State

DT = 0.1  # s

# Tests compile the same update several times; JAX's persistent cache makes repeats cheap.
jax.config.update(
    "jax_compilation_cache_dir", os.path.join(tempfile.gettempdir(), "irondog-test-jax-cache")
)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)


class PointMassEnv:
    """A 2-D point mass; the action is a force; reward for matching the commanded velocity."""

    observation_size = 6  # velocity (2), command (2), last action (2)
    privileged_observation_size = 8  # plus position (2)
    action_size = 2

    def __init__(self, num_envs: int, episode_steps: int = 50, index_offset: int = 0):
        self.num_envs = num_envs
        self.episode_steps = episode_steps
        self.index_offset = index_offset

    def _observe(self, pos, vel, command, last_action):
        obs = jnp.concatenate([vel, command, last_action], axis=-1)
        return obs, jnp.concatenate([obs, pos], axis=-1)

    def _fresh(self, keys):  # (n, 2) keys -> pos, vel, command, new keys
        split = jax.vmap(lambda k: jax.random.split(k, 3))(keys)
        command = jax.vmap(lambda k: jax.random.uniform(k, (2,), minval=-1.0, maxval=1.0))(
            split[:, 1]
        )
        vel = jax.vmap(lambda k: jax.random.uniform(k, (2,), minval=-0.2, maxval=0.2))(split[:, 2])
        return jnp.zeros_like(vel), vel, command, split[:, 0]

    def reset(self, seed: int) -> State:
        index = jnp.arange(self.num_envs) + self.index_offset
        keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.PRNGKey(seed), i))(index)
        pos, vel, command, keys = self._fresh(keys)
        last_action = jnp.zeros((self.num_envs, 2))
        obs, privileged = self._observe(pos, vel, command, last_action)
        zeros = jnp.zeros(self.num_envs)
        info = {
            "pos": pos,
            "vel": vel,
            "command": command,
            "last_action": last_action,
            "steps": zeros,
            "key": keys,
            "terminal_obs": obs,
            "terminal_privileged_obs": privileged,
        }
        return State(obs, privileged, zeros, zeros, zeros, {"tracking_error": zeros}, info)

    def step(self, state: State, action) -> State:
        info = state.info
        action = jnp.clip(jnp.asarray(action, jnp.float32), -1.0, 1.0)
        vel = 0.8 * info["vel"] + 0.5 * action  # m/s
        pos = info["pos"] + DT * vel  # m
        error = jnp.linalg.norm(vel - info["command"], axis=-1)
        reward = jnp.exp(-(error**2) / 0.1) - 0.05 * jnp.sum(action**2, axis=-1)
        steps = info["steps"] + 1
        fell = jnp.any(jnp.abs(pos) > 4.0, axis=-1)
        truncated = (steps >= self.episode_steps) & ~fell
        done = fell | truncated
        terminal_obs, terminal_privileged = self._observe(pos, vel, info["command"], action)
        new_pos, new_vel, new_command, new_keys = self._fresh(info["key"])
        d = done[:, None]
        pos, vel = jnp.where(d, new_pos, pos), jnp.where(d, new_vel, vel)
        command = jnp.where(d, new_command, info["command"])
        last_action = jnp.where(d, 0.0, action)
        keys = jnp.where(d, new_keys, info["key"])
        obs, privileged = self._observe(pos, vel, command, last_action)
        info = {
            "pos": pos,
            "vel": vel,
            "command": command,
            "last_action": last_action,
            "steps": jnp.where(done, 0.0, steps),
            "key": keys,
            "terminal_obs": terminal_obs,
            "terminal_privileged_obs": terminal_privileged,
        }
        return State(
            obs,
            privileged,
            reward,
            done.astype(jnp.float32),
            truncated.astype(jnp.float32),
            {"tracking_error": error},
            info,
        )


class NumpyPointMassEnv(PointMassEnv):
    """The same env stepping on NumPy arrays in and out, like the native back end."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._step = jax.jit(super().step)

    def reset(self, seed: int) -> State:
        return jax.tree.map(np.asarray, super().reset(seed))

    def step(self, state: State, action) -> State:
        assert isinstance(action, np.ndarray), "the native contract steps on NumPy actions"
        return jax.tree.map(np.asarray, self._step(state, action))


def test_toy_env_follows_contract() -> None:
    env = NumpyPointMassEnv(4, episode_steps=3)
    state = env.reset(0)
    assert state.obs.shape == (4, env.observation_size)
    assert state.privileged_obs.shape == (4, env.privileged_observation_size)
    for _ in range(3):
        state = env.step(state, np.ones((4, 2), np.float32))
    assert np.all(state.truncated == 1.0) and np.all(state.done == 1.0)
    # autoreset: the obs is a fresh episode's, the terminal obs keeps the last action
    np.testing.assert_allclose(state.obs[:, 4:], 0.0)
    np.testing.assert_allclose(state.info["terminal_obs"][:, 4:], 1.0)
