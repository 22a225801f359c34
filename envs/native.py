"""Native CPU back end: MuJoCo's ``mujoco.batch.Batch`` steps every simulation on all cores.

The batch releases the GIL and steps thousands of simulations in C. This module implements
only the physics calls of ``irondog.envs.control.Physics`` (advance, read, reset rows); the
control step itself, shared with the MJX back end, is ``irondog.envs.control.Task`` with
``xp=numpy``. Domain randomisation writes per-simulation model fields through
``Batch.expand``. The physics lives in the batch (C memory), so a State is valid only for the
env that made it and the latest one supersedes earlier ones.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import mujoco
import numpy as np
from mujoco.batch import Batch

from irondog.envs import control, randomize, task, terrain
from irondog.envs.base import State
from irondog.envs.config import EnvConfig
from irondog.envs.robot import NUM_JOINTS, RobotIds


class NativeEnv:
    """A batch of CyberDog 2 environments on the CPU (see irondog.envs.base).

    ``rng="numpy"`` (default) draws from NumPy's generator, only what each step needs;
    ``rng="jax"`` draws JAX's numbers exactly as the MJX back end does (slower; for
    comparing the two back ends). ``record_substep_contact`` fills
    ``state.info.substep_contact`` with foot contact at every physics step.
    """

    action_size = NUM_JOINTS

    def __init__(
        self,
        cfg: EnvConfig,
        model: mujoco.MjModel | None = None,
        autoreset: bool = True,
        rng: str = "numpy",
        record_substep_contact: bool = False,
    ) -> None:
        self.cfg = cfg
        self.model = model if model is not None else terrain.build_model(cfg)
        self.model.opt.timestep = cfg.sim_dt
        self.ids = RobotIds.from_model(self.model)
        self.num_envs = cfg.num_envs
        self.observation_size = task.observation_size(cfg.task)
        self.privileged_observation_size = self.observation_size + task.PRIVILEGED_EXTRA
        if rng not in ("numpy", "jax"):
            raise ValueError(f"rng must be 'numpy' or 'jax', got {rng!r}")
        self.rng_kind = rng
        nthread = cfg.num_threads or os.cpu_count() or 1
        self.batch = Batch(self.model, cfg.num_envs, nthread=nthread)
        self.qpos = self.batch.bind("qpos")  # (n, 19) live view of the state rows
        self.qvel = self.batch.bind("qvel")  # (n, 18)
        self.ctrl = self.batch.bind("ctrl")  # (n, 12) N m, written every physics step
        self.time = self.batch.bind("time")  # (n,)
        self.xfrc_applied = self.batch.bind("xfrc_applied")  # (n, nbody, 6)
        self.sensordata = self.batch.bind("sensordata")  # (n, nsensordata)
        self._base_fields = {
            name: getattr(self.model, name).copy() for name in randomize.RANDOMIZED_FIELDS
        }
        self._fields = (
            {name: self.batch.expand(name) for name in randomize.RANDOMIZED_FIELDS}
            if cfg.randomization.enabled
            else None
        )
        self._touch_columns = control.touch_columns(self.ids, self.model.nsensordata)
        self.physics = _BatchPhysics(self)
        self.task = control.Task(
            cfg, self.ids, self.model.nbody, self.physics, np.float64,
            nominal_friction=float(self._base_fields["geom_friction"][self.ids.foot_geoms[0], 0]),
            autoreset=autoreset, record_substep_contact=record_substep_contact,
        )  # fmt: skip

    @property
    def record_substep_contact(self) -> bool:
        """Whether steps record foot contact at every physics step (state.info.substep_contact)."""
        return self.task.record_substep_contact

    @record_substep_contact.setter
    def record_substep_contact(self, value: bool) -> None:
        self.task.record_substep_contact = bool(value)

    def _sampler(self, rng: Any) -> control.Sampler:
        if self.rng_kind == "jax":
            from irondog.envs.mjx_env import JaxSampler

            return JaxSampler(rng, self.num_envs, as_numpy=True)
        return control.NumpySampler(rng, self.num_envs)

    def reset(self, seed: int) -> State:
        """Start every simulation afresh; the seed fixes all randomness that follows."""
        if self.rng_kind == "jax":
            import jax

            rng: Any = jax.random.PRNGKey(seed)
        else:
            rng = np.random.default_rng(seed)
        return self.task.reset(None, self._sampler(rng))

    def step(self, state: State, action: np.ndarray) -> State:
        """Apply ``action`` (n, 12) for one control step, then autoreset finished episodes."""
        n = self.num_envs
        action = np.asarray(action, dtype=np.float64)
        if action.shape != (n, NUM_JOINTS):
            raise ValueError(f"action has shape {action.shape}, expected ({n}, {NUM_JOINTS})")
        if self.cfg.nan_action == "error":
            nan_rows = ~np.isfinite(action).all(axis=1)
            if nan_rows.any():
                bad = np.flatnonzero(nan_rows)
                raise ValueError(
                    f"action is NaN or infinite in simulations {bad[:10].tolist()}"
                    f"{' ...' if len(bad) > 10 else ''} (env.nan_action='error'; set it to "
                    "'zero' to replace such actions by zeros instead)"
                )
        return self.task.step(state, action, self._sampler(state.info.rng))


class _BatchPhysics:
    """The physics calls of the native back end, on the env's ``mujoco.batch.Batch``."""

    xp = np

    def __init__(self, env: NativeEnv) -> None:
        self.env = env
        self.num_envs = env.num_envs

    def rows(self, mask: np.ndarray) -> np.ndarray:
        return np.flatnonzero(mask)

    def kick(self, physics: None, planar_velocity: np.ndarray) -> None:
        self.env.qvel[:, 0:2] += planar_velocity
        return physics

    def advance(
        self, physics: None, substep: Callable, carry: Any, substeps: int, record_contact: bool
    ) -> tuple[None, Any, np.ndarray, np.ndarray | None]:
        env = self.env
        tau = np.zeros((self.num_envs, NUM_JOINTS))
        touch = np.zeros((self.num_envs, substeps, 4), dtype=bool) if record_contact else None
        for k in range(substeps):
            carry, tau = substep(carry, k, env.qpos[:, 7:], env.qvel[:, 6:])
            env.ctrl[:] = tau
            env.batch.step()
            if touch is not None:
                touch[:, k] = env.sensordata[:, env._touch_columns] > task.CONTACT_FORCE
        return physics, carry, tau, touch

    def read(self, physics: None, rows: Any) -> tuple:
        env = self.env
        if rows is None:
            return env.qpos, env.qvel, env.sensordata, env.time
        return env.qpos[rows], env.qvel[rows], env.sensordata[rows], env.time[rows]

    def views(self, physics: None) -> tuple:
        return self.env.qpos, self.env.qvel, self.env.ctrl

    def reset_rows(
        self, physics: None, rows: np.ndarray, mask: Any, params: dict[str, Any], qpos: Any
    ) -> None:
        env = self.env
        if len(rows) == 0:
            return physics
        env.batch.reset(rows, keyframe=0, stage=mujoco.mjtStage.mjSTAGE_NONE)
        if env._fields is not None:  # domain randomisation: this episode's model
            fields = randomize.model_fields(params, env._base_fields, env.ids)
            for name, values in fields.items():
                env._fields[name][rows] = values
            env.batch.set_const(rows)
        env.qpos[rows] = qpos
        env.qvel[rows] = 0.0
        env.ctrl[rows] = 0.0
        env.xfrc_applied[rows] = 0.0
        env.batch.forward(rows)
        return physics
