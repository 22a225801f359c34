"""MJX back end (GPU, or CPU for tests): the same task under ``jit``/``vmap``.

``step`` is a pure function of a State pytree, so a whole rollout can live in one compiled
``jax.lax.scan``. This module implements only the physics calls of
``irondog.envs.control.Physics`` (the substeps in a ``lax.scan``, reads, restarts); the
control step is ``irondog.envs.control.Task`` with ``xp=jax.numpy``, the one the native back
end runs with NumPy (the CyberGear law included: MJX rejects MuJoCo's ``dcmotor``). Autoreset
computes a fresh start for every simulation and keeps it where an episode ended
(``jnp.where``), as usual under ``vmap``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
from mujoco import mjx

from irondog.envs import control, randomize, task, terrain
from irondog.envs.base import State
from irondog.envs.config import EnvConfig
from irondog.envs.robot import NUM_JOINTS, RobotIds

CONTACTS_PER_SIM = 16  # Warp's contact buffer per simulation: 4 feet, room for knees and trunk


def check_impl(impl: str) -> None:
    """Fail early, with the fix, if MJX implementation ``impl`` cannot run here."""
    if impl == "warp":
        try:
            import mujoco_warp  # noqa: F401
        except ImportError as err:
            raise ImportError(
                "env.mjx_impl='warp' needs the mujoco-warp package (pip install "
                "mujoco-warp warp-lang, with a CUDA GPU); use env.mjx_impl=jax"
            ) from err


def make_data_template(model: mujoco.MjModel, mx: mjx.Model, impl: str, num_envs: int) -> mjx.Data:
    """One simulation's zeroed ``mjx.Data``, to ``vmap`` over. Warp builds it from the MjModel
    and sizes its contact buffer for all ``num_envs`` simulations together."""
    if impl == "warp":
        return mjx.make_data(model, impl="warp", naconmax=num_envs * CONTACTS_PER_SIM)
    return mjx.make_data(mx)


class JaxSampler:
    """Draws from a JAX PRNG key, for every row (a row subset is taken from the full draw).

    Pure under ``jit``: the key advances inside the traced step and ``state()`` hands it on.
    ``as_numpy`` returns NumPy arrays, for the native back end drawing the same numbers.
    """

    def __init__(self, key: jax.Array, num_envs: int, as_numpy: bool = False) -> None:
        self.key = key
        self.n = num_envs
        self.as_numpy = as_numpy

    def _next(self) -> jax.Array:
        self.key, sub = jax.random.split(self.key)
        return sub

    def _out(self, values: jax.Array, rows: Any) -> Any:
        if self.as_numpy:
            values = np.asarray(values, dtype=np.float64 if values.dtype.kind == "f" else None)
        return values if rows is None else values[rows]

    def random(self, rows: Any, tail: tuple[int, ...] = ()) -> Any:
        return self._out(jax.random.uniform(self._next(), (self.n,) + tail), rows)

    def uniform(self, rows: Any, tail: tuple[int, ...], lo: float, hi: float) -> Any:
        values = jax.random.uniform(self._next(), (self.n,) + tail, minval=lo, maxval=hi)
        return self._out(values, rows)

    def integers(self, rows: Any, high: int) -> Any:
        return self._out(jax.random.randint(self._next(), (self.n,), 0, high), rows)

    def masked_uniform(self, mask: Any, tail: tuple[int, ...], lo: float, hi: float) -> Any:
        values = self.uniform(None, tail, lo, hi)
        return values * mask.reshape((-1,) + (1,) * len(tail))

    def any(self, mask: Any) -> bool:
        return True  # under jit every branch is computed and selected by mask

    def state(self) -> jax.Array:
        return self.key


class MjxEnv:
    """A batch of CyberDog 2 environments in MJX (see irondog.envs.base).

    ``step`` is compiled once per env; ``record_substep_contact`` (set before the first step)
    fills ``state.info.substep_contact`` with foot contact at every physics step.
    """

    action_size = NUM_JOINTS

    def __init__(
        self,
        cfg: EnvConfig,
        model: mujoco.MjModel | None = None,
        autoreset: bool = True,
        record_substep_contact: bool = False,
    ) -> None:
        self.cfg = cfg
        self.model = model if model is not None else terrain.build_model(cfg)
        self.model.opt.timestep = cfg.sim_dt
        self.ids = RobotIds.from_model(self.model)
        self.num_envs = cfg.num_envs
        self.observation_size = task.observation_size(cfg.task)
        self.privileged_observation_size = self.observation_size + task.PRIVILEGED_EXTRA
        impl = cfg.mjx_impl
        check_impl(impl)
        self.mx = mjx.put_model(self.model, impl=impl)
        self._data0 = make_data_template(self.model, self.mx, impl, cfg.num_envs)
        self._base = {n: jnp.asarray(getattr(self.model, n)) for n in randomize.RANDOMIZED_FIELDS}
        self._base_np = {n: getattr(self.model, n).copy() for n in randomize.RANDOMIZED_FIELDS}
        self._touch_columns = jnp.asarray(control.touch_columns(self.ids, self.model.nsensordata))
        self.physics = _MjxPhysics(self)
        self.task = control.Task(
            cfg, self.ids, self.model.nbody, self.physics, jnp.float32,
            nominal_friction=float(self._base_np["geom_friction"][self.ids.foot_geoms[0], 0]),
            autoreset=autoreset, record_substep_contact=record_substep_contact,
        )  # fmt: skip
        self._compiled: dict[Any, Any] = {}  # reset, and step per record_substep_contact

    @property
    def autoreset(self) -> bool:
        """False: finished episodes are flagged, not restarted."""
        return self.task.autoreset

    @property
    def record_substep_contact(self) -> bool:
        """Whether steps record foot contact at every physics step (state.info.substep_contact)."""
        return self.task.record_substep_contact

    @record_substep_contact.setter
    def record_substep_contact(self, value: bool) -> None:
        self.task.record_substep_contact = bool(value)

    def reset(self, seed: int | jax.Array) -> State:
        """Start every simulation afresh from ``seed`` (an int or a PRNG key)."""
        key = jax.random.PRNGKey(seed) if isinstance(seed, int) else seed
        if "reset" not in self._compiled:
            self._compiled["reset"] = jax.jit(self._reset)
        return self._compiled["reset"](key)

    def _reset(self, key: jax.Array) -> State:
        return self.task.reset(None, JaxSampler(key, self.num_envs))

    def step(self, state: State, action: jax.Array) -> State:
        """Apply ``action`` (n, 12) for one control step, then autoreset finished episodes.

        NaN actions are replaced by zeros and counted in metrics["nan_actions"]: inside a
        compiled function an error cannot be raised (env.nan_action='error' is checked by the
        native back end and the adapters).
        """
        flag = self.record_substep_contact
        if flag not in self._compiled:
            self._compiled[flag] = jax.jit(self._step)
        return self._compiled[flag](state, jnp.asarray(action, jnp.float32))

    def _step(self, state: State, action: jax.Array) -> State:
        return self.task.step(state, action, JaxSampler(state.info.rng, self.num_envs))

    # ------------------------------------------------------------------ physics
    def _nominal_fields(self) -> dict[str, Any]:
        n = self.num_envs
        return {k: jnp.broadcast_to(v, (n,) + v.shape) for k, v in self._base.items()}

    def _model_for(self, fields: dict[str, Any]) -> mjx.Model:
        return self.mx.replace(**fields)

    def _forward(self, fields: dict[str, Any], data: mjx.Data) -> mjx.Data:
        return jax.vmap(lambda f, d: mjx.forward(self._model_for(f), d))(fields, data)

    def _physics_step(self, fields: dict[str, Any], data: mjx.Data) -> mjx.Data:
        return jax.vmap(lambda f, d: mjx.step(self._model_for(f), d))(fields, data)


class _MjxPhysics:
    """The physics calls of the MJX back end; its physics state is (mjx.Data, model fields)."""

    xp = jnp

    def __init__(self, env: MjxEnv) -> None:
        self.env = env
        self.num_envs = env.num_envs

    def rows(self, mask: Any) -> None:
        return None  # every row is computed and kept where the mask holds

    def kick(self, physics: tuple, planar_velocity: Any) -> tuple:
        data, fields = physics
        return data.replace(qvel=data.qvel.at[:, 0:2].add(planar_velocity)), fields

    def advance(
        self, physics: tuple, substep: Any, carry: Any, substeps: int, record_contact: bool
    ) -> tuple:
        data, fields = physics
        env = self.env

        def one(inner: tuple, k: jax.Array) -> tuple:
            data, carry, _ = inner
            carry, tau = substep(carry, k, data.qpos[:, 7:], data.qvel[:, 6:])
            data = env._physics_step(fields, data.replace(ctrl=tau))
            touch = data.sensordata[:, env._touch_columns] > task.CONTACT_FORCE
            return (data, carry, tau), (touch if record_contact else None)

        tau0 = jnp.zeros((self.num_envs, NUM_JOINTS))
        (data, carry, tau), touch = jax.lax.scan(one, (data, carry, tau0), jnp.arange(substeps))
        contact = jnp.swapaxes(touch, 0, 1) if record_contact else None  # (n, substeps, 4)
        return (data, fields), carry, tau, contact

    def read(self, physics: tuple, rows: Any) -> tuple:
        data = physics[0]
        return data.qpos, data.qvel, data.sensordata, data.time

    def views(self, physics: tuple) -> tuple:
        data = physics[0]
        return data.qpos, data.qvel, data.ctrl

    def reset_rows(
        self, physics: tuple, rows: Any, mask: Any, params: dict[str, Any], qpos: Any
    ) -> tuple:
        env = self.env
        n = self.num_envs
        if env.cfg.randomization.enabled:
            fields = randomize.model_fields(params, env._base_np, env.ids, xp=jnp)
        else:
            fields = env._nominal_fields()
        qvel = jnp.zeros((n, env.model.nv))
        data = jax.vmap(lambda q, v: env._data0.replace(qpos=q, qvel=v))(qpos, qvel)
        data = env._forward(fields, data)

        def pick(new: Any, old: Any) -> Any:
            return jnp.where(mask.reshape((-1,) + (1,) * (jnp.ndim(old) - 1)), new, old)

        if physics is None:  # the first reset: nothing to keep
            return data, fields
        old_data, old_fields = physics
        return (
            jax.tree_util.tree_map(pick, data, old_data),
            jax.tree_util.tree_map(pick, fields, old_fields),
        )


def as_numpy(tree: Any) -> Any:
    """Copy a pytree of device arrays to NumPy (for logging and tests)."""
    return jax.tree_util.tree_map(np.asarray, tree)
