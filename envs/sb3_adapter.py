"""A stable-baselines3 ``VecEnv`` over the native batch (SB3's DummyVecEnv contract).

``reset()`` returns observations only; ``step_wait()`` returns (obs, rewards, dones, infos).
For an environment whose episode ended, ``obs`` is already the next episode's first
observation, ``infos[i]["terminal_observation"]`` is the last one, and
``infos[i]["TimeLimit.truncated"]`` says whether the time limit ended it. ``infos[i]["episode"]``
carries the return and length of finished episodes (what SB3's Monitor reports).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv

from irondog.envs import registry
from irondog.envs.gym_adapter import DEFAULT_ID, _config, _spaces


class CyberDog2SB3VecEnv(VecEnv):
    """``num_envs`` CyberDog 2 simulations for stable-baselines3; or, with ``core``, any batch
    env on the envs/base.py contract that steps on NumPy arrays."""

    def __init__(
        self,
        num_envs: int,
        env_id: str = DEFAULT_ID,
        overrides: Iterable[str] = (),
        core: Any = None,
    ):
        if core is None:
            core = registry.make(env_id, _config(env_id, num_envs, tuple(overrides)))
        elif core.num_envs != num_envs:
            raise ValueError(f"core has {core.num_envs} simulations, not num_envs={num_envs}")
        self.core = core
        self.render_mode = None
        observation_space, action_space = _spaces(self.core)
        super().__init__(num_envs, observation_space, action_space)
        self._seed = 0
        self._state = None
        self._actions: np.ndarray | None = None
        self._returns = np.zeros(num_envs)
        self._lengths = np.zeros(num_envs, dtype=np.int64)

    def reset(self) -> np.ndarray:
        self._state = self.core.reset(self._seed)
        self._returns[:] = 0
        self._lengths[:] = 0
        return self._state.obs.copy()

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions, dtype=np.float64)

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        if self._state is None:
            self.reset()
        self._state = state = self.core.step(self._state, self._actions)
        self._returns += state.reward
        self._lengths += 1
        dones = state.done > 0.5
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        for i in np.flatnonzero(dones):
            infos[i] = {
                "terminal_observation": np.array(state.info["terminal_obs"][i]),
                "TimeLimit.truncated": bool(state.truncated[i] > 0.5),
                "episode": {"r": float(self._returns[i]), "l": int(self._lengths[i])},
            }
        self._returns[dones] = 0
        self._lengths[dones] = 0
        return state.obs.copy(), state.reward.copy(), dones, infos

    def seed(self, seed: int | None = None) -> Sequence[None | int]:
        self._seed = 0 if seed is None else int(seed)
        return [self._seed + i for i in range(self.num_envs)]

    def close(self) -> None:
        pass

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        return [getattr(self, attr_name)] * len(self._indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        setattr(self, attr_name, value)

    def env_method(self, method_name: str, *args: Any, indices: Any = None, **kwargs: Any) -> list:
        return [getattr(self, method_name)(*args, **kwargs) for _ in self._indices(indices)]

    def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
        return [False] * len(self._indices(indices))

    def _indices(self, indices: Any) -> list[int]:
        if indices is None:
            return list(range(self.num_envs))
        if isinstance(indices, int):
            return [indices]
        return list(indices)
