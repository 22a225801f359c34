"""The environment contract shared by every back end: a frozen State and reset/step.

    env = make("irondog/CyberDog2-Joystick-v0", config)   # from irondog.envs.registry
    state = env.reset(seed)                               # State, arrays of (num_envs, ...)
    state = env.step(state, action)                       # action (num_envs, 12) in [-1, 1]

Autoreset: ``step`` resets every simulation whose episode ended (``done``) in the same call.
Then ``state.obs`` is already the first observation of the new episode, while
``state.info.terminal_obs`` / ``.terminal_privileged_obs`` hold the last observation
of the finished one; ``state.truncated`` marks episodes ended by the time limit (bootstrap
from the terminal observation) rather than by a fall (``done`` and not ``truncated``).

The native back end keeps its physics inside ``mujoco.batch.Batch`` (C memory), so a State
is only valid for the env that made it and the latest state supersedes earlier ones. The MJX
back end's State is a pure pytree and can be carried through ``jax.lax.scan``.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol


class State(NamedTuple):
    """One batch of environments after reset or step; every leaf leads with num_envs.

    A NamedTuple, so JAX treats it as a pytree and this module needs no JAX import.
    """

    obs: Any  # (n, observation_size) actor observation, noisy
    privileged_obs: Any  # (n, privileged_observation_size) critic observation, noise-free
    reward: Any  # (n,)
    done: Any  # (n,) 1.0 where the episode ended this step (fall or time limit)
    truncated: Any  # (n,) 1.0 where it ended by the time limit
    metrics: dict[str, Any]  # name -> (n,), reward/<term> among them
    info: Any  # irondog.envs.control.EnvInfo: task state, motors, terminal_obs, physics, rng

    def replace(self, **changes: Any) -> State:
        """A copy with ``changes``."""
        return self._replace(**changes)


class Env(Protocol):
    """What every back end provides."""

    num_envs: int
    observation_size: int
    privileged_observation_size: int
    action_size: int

    def reset(self, seed: int) -> State: ...

    def step(self, state: State, action: Any) -> State: ...


def with_command(state: State, velocity: Any, gait: Any = None) -> State:
    """``state`` with a new joystick command (n, 3) and, for the gait task, gait (n, 8).

    The next ``step`` acts on it; the observation shows it from that step on.
    """
    tinfo = state.info.task
    xp = _namespace(tinfo.command)
    updates = {
        "command": xp.asarray(velocity, dtype=tinfo.command.dtype).reshape(tinfo.command.shape)
    }
    if gait is not None:
        updates["gait"] = xp.asarray(gait, dtype=tinfo.gait.dtype).reshape(tinfo.gait.shape)
    return state.replace(info=state.info.replace(task=tinfo.replace(**updates)))


def aged(state: State, steps: int) -> State:
    """``state`` as if each simulation had already lived ``steps`` policy steps, so that a
    resumed run's command curriculum (``command.curriculum_steps``, which reads each
    simulation's lifetime) goes on where it stopped instead of starting again. The commands of
    the episodes under way were drawn at lifetime zero; every later draw reads the new age.
    A state without a task's lifetime (a toy environment's) comes back as it is."""
    tinfo = getattr(state.info, "task", None)
    if steps <= 0 or not hasattr(tinfo, "lifetime"):
        return state
    lifetime = tinfo.lifetime + steps
    return state.replace(info=state.info.replace(task=tinfo.replace(lifetime=lifetime)))


def _namespace(array: Any) -> Any:
    if type(array).__module__.startswith("jax"):
        import jax.numpy as jnp

        return jnp
    import numpy as np

    return np
