"""Gymnasium adapters: a single ``gymnasium.Env`` and a ``gymnasium.vector.VectorEnv``.

Both hold a native back-end batch and call the core; the core never imports gymnasium.

Autoreset: the vector env uses Gymnasium's SAME_STEP mode. When an episode ends, ``step``
returns the first observation of the next episode, and ``info["final_obs"]`` (with the mask
``info["_final_obs"]``) holds the last observation of the one that ended. The single env
follows the plain Gymnasium contract: after ``terminated`` or ``truncated`` the caller calls
``reset``; the observation returned with the ending step is the episode's last one.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv

from irondog.config import load
from irondog.envs import registry
from irondog.envs.config import EnvConfig

DEFAULT_ID = "irondog/CyberDog2-Joystick-v0"


def _config(env_id: str, num_envs: int, overrides: tuple[str, ...] | list[str]) -> EnvConfig:
    base = registry.make_config(env_id, EnvConfig(backend="native"))
    return load(EnvConfig, overrides=[*overrides, f"num_envs={num_envs}"], base=base)


def _spaces(env: Any) -> tuple[spaces.Box, spaces.Box]:
    obs = spaces.Box(-np.inf, np.inf, shape=(env.observation_size,), dtype=np.float32)
    act = spaces.Box(-1.0, 1.0, shape=(env.action_size,), dtype=np.float32)
    return obs, act


class CyberDog2GymEnv(gymnasium.Env):
    """One CyberDog 2 simulation as a Gymnasium environment."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 50}

    def __init__(
        self,
        env_id: str = DEFAULT_ID,
        overrides: tuple[str, ...] = (),
        render_mode: str | None = None,
    ) -> None:
        self.env_id = env_id
        self.core = registry.make(env_id, _config(env_id, 1, overrides))
        self.observation_space, self.action_space = _spaces(self.core)
        self.render_mode = render_mode
        self._state = None
        self._renderer = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        core_seed = int(self.np_random.integers(0, 2**31 - 1))
        self._state = self.core.reset(core_seed)
        return self._state.obs[0].copy(), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        action = np.asarray(action, dtype=np.float64).reshape(1, -1)
        self._state = state = self.core.step(self._state, action)
        done = bool(state.done[0])
        truncated = bool(state.truncated[0])
        obs = state.info.terminal_obs[0] if done else state.obs[0]
        info = {k: float(v[0]) for k, v in state.metrics.items()}
        return obs.copy(), float(state.reward[0]), done and not truncated, truncated, info

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        import mujoco

        if self._renderer is None:
            self._renderer = mujoco.Renderer(self.core.model, 240, 320)
        self._renderer.update_scene(self.core.batch.get_data(0), camera="track")
        return self._renderer.render()

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None


class CyberDog2VectorEnv(VectorEnv):
    """``num_envs`` CyberDog 2 simulations in one native batch, SAME_STEP autoreset."""

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(
        self, num_envs: int, env_id: str = DEFAULT_ID, overrides: tuple[str, ...] = ()
    ) -> None:
        self.core = registry.make(env_id, _config(env_id, num_envs, overrides))
        self.num_envs = num_envs
        self.single_observation_space, self.single_action_space = _spaces(self.core)
        self.observation_space = gymnasium.vector.utils.batch_space(
            self.single_observation_space, num_envs
        )
        self.action_space = gymnasium.vector.utils.batch_space(self.single_action_space, num_envs)
        self._state = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        if seed is not None:
            self._np_random, _ = gymnasium.utils.seeding.np_random(seed)
        rng = self.np_random
        self._state = self.core.reset(int(rng.integers(0, 2**31 - 1)))
        return self._state.obs.copy(), {}

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        self._state = state = self.core.step(self._state, np.asarray(actions, dtype=np.float64))
        done = state.done > 0.5
        truncated = state.truncated > 0.5
        info: dict[str, Any] = dict(state.metrics)
        info["final_obs"] = state.info.terminal_obs.copy()
        info["_final_obs"] = done
        return state.obs.copy(), state.reward.copy(), done & ~truncated, truncated, info


def register_gymnasium() -> None:
    """Register every irondog id with Gymnasium (entry points are strings: nothing is built)."""
    for name in registry.names():
        if name in gymnasium.registry:
            continue
        gymnasium.register(
            id=name,
            entry_point="irondog.envs.gym_adapter:CyberDog2GymEnv",
            vector_entry_point="irondog.envs.gym_adapter:CyberDog2VectorEnv",
            kwargs={"env_id": name},
            disable_env_checker=False,
        )
