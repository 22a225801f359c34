"""MJX back end (GPU, or CPU for tests): the same task under ``jit``/``vmap``.

``step`` is a pure function of a State pytree, so a whole rollout can live in one compiled
``jax.lax.scan``. MJX's JAX implementation rejects MuJoCo's ``dcmotor`` actuator, so the
CyberGear law is applied from ``irondog.motors.cybergear`` with ``xp=jax.numpy``, the same
function the native back end calls with NumPy. Autoreset computes a fresh start for every
simulation and keeps it where an episode ended (``jnp.where``), as usual under ``vmap``.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
from mujoco import mjx

from irondog.envs import randomize, task, terrain
from irondog.envs.base import State
from irondog.envs.config import EnvConfig
from irondog.envs.robot import NUM_JOINTS, RobotIds
from irondog.motors import cybergear

DIVERGED_SPEED = 1.0e3
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


class MjxEnv:
    """A batch of CyberDog 2 joystick environments in MJX (see irondog.envs.base)."""

    action_size = NUM_JOINTS

    def __init__(
        self, cfg: EnvConfig, model: mujoco.MjModel | None = None, autoreset: bool = True
    ) -> None:
        self.cfg = cfg
        self.autoreset = autoreset  # False: finished episodes are flagged, not restarted
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
        self._noise = jnp.asarray(task.noise_scales(cfg.noise, cfg.task))
        self._push_steps = (
            round(cfg.randomization.push_interval / cfg.ctrl_dt)
            if cfg.randomization.enabled and cfg.randomization.push_interval > 0
            else 0
        )
        self._resample_steps = max(1, round(cfg.command.resample_interval / cfg.ctrl_dt))
        self._home = jnp.asarray(self.ids.home_qpos)
        self._default = jnp.asarray(self.ids.default_pose)
        self._range = jnp.asarray(self.ids.joint_range)
        self._rough = cfg.terrain == "rough"
        if self._rough:
            tc = cfg.terrain_config
            self._heights = jnp.asarray(terrain.heightfield(tc), jnp.float32)
            self._centres = jnp.asarray(terrain.tile_centres(tc), jnp.float32)

    # ------------------------------------------------------------------ physics
    def _model_for(self, fields: dict[str, Any]) -> mjx.Model:
        return self.mx.replace(**fields)

    def _forward(self, fields: dict[str, Any], data: mjx.Data) -> mjx.Data:
        return jax.vmap(lambda f, d: mjx.forward(self._model_for(f), d))(fields, data)

    def _physics_step(self, fields: dict[str, Any], data: mjx.Data) -> mjx.Data:
        return jax.vmap(lambda f, d: mjx.step(self._model_for(f), d))(fields, data)

    # ------------------------------------------------------------------ reset
    def _fresh(self, key: jax.Array, lifetime: Any = None, level: Any = None) -> dict[str, Any]:
        """A new start for every simulation: randomised model, state, command, first obs.

        On rough ground a simulation spawns on a random tile of its curriculum ``level``.
        """
        cfg, n = self.cfg, self.num_envs
        k_dr, k_yaw, k_q, k_cmd, k_zero, k_noise, k_gait, k_tile = jax.random.split(key, 8)
        uniform = jax.random.uniform(k_dr, (n, randomize.num_draws(self.model.nbody)))
        params = randomize.draw_parameters(uniform, cfg.randomization, self.model.nbody, xp=jnp)
        if cfg.randomization.enabled:
            fields = randomize.model_fields(params, self._base_np, self.ids, xp=jnp)
        else:
            fields = {k: jnp.broadcast_to(v, (n,) + v.shape) for k, v in self._base.items()}
        yaw = jax.random.uniform(k_yaw, (n,), minval=-jnp.pi, maxval=jnp.pi)
        qpos = jnp.tile(self._home, (n, 1))
        qpos = qpos.at[:, 3].set(jnp.cos(yaw / 2)).at[:, 6].set(jnp.sin(yaw / 2))
        qpos = qpos.at[:, 7:].add(
            jax.random.uniform(k_q, (n, NUM_JOINTS), minval=-0.05, maxval=0.05)
        )
        lifetime = jnp.zeros(n, jnp.int32) if lifetime is None else lifetime
        scale = task.curriculum_scale(lifetime, cfg.command, xp=jnp)
        command = task.sample_commands(
            jax.random.uniform(k_cmd, (n, 3)), jax.random.uniform(k_zero, (n,)), cfg.command,
            xp=jnp, scale=scale,
        )  # fmt: skip
        gait = task.sample_gaits(jax.random.uniform(k_gait, (n, 4)), cfg, xp=jnp, scale=scale)
        level = jnp.full(n, cfg.terrain_config.start_level, jnp.int32) if level is None else level
        spawn = jnp.zeros((n, 2))
        if self._rough:
            tile = jax.random.randint(k_tile, (n,), 0, cfg.terrain_config.tiles_per_level)
            spawn = self._centres[level, tile]
            qpos = qpos.at[:, :2].set(spawn).at[:, 2].add(self._ground_height(spawn))
        start = self._start(
            fields, params, qpos, jnp.zeros((n, self.model.nv)), command, gait, k_noise
        )
        return {**start, "level": level, "spawn_xy": spawn}

    def _ground_height(self, xy: Any) -> Any:
        """(n,) heightfield height under world points (n, 2), m."""
        rows, cols = self._heights.shape
        res = terrain.RESOLUTION
        col = jnp.clip(((xy[:, 0] / (cols * res) + 0.5) * cols).astype(jnp.int32), 0, cols - 1)
        row = jnp.clip(((xy[:, 1] / (rows * res) + 0.5) * rows).astype(jnp.int32), 0, rows - 1)
        return self._heights[row, col]

    def _start(
        self,
        fields: dict[str, Any],
        params: dict[str, Any],
        qpos: Any,
        qvel: Any,
        command: Any,
        gait: Any,
        key: jax.Array,
    ) -> dict[str, Any]:
        cfg, n = self.cfg, qpos.shape[0]
        data = jax.vmap(lambda q, v: self._data0.replace(qpos=q, qvel=v))(qpos, qvel)
        data = self._forward(fields, data)
        readings = self._readings(data, jnp.zeros((n, NUM_JOINTS)), jnp.zeros(n))
        tinfo = task.initial_info(
            n,
            command,
            readings.foot_pos,
            params,
            gait,
            nominal_friction=self._base_np["geom_friction"][self.ids.foot_geoms[0], 0],
            xp=jnp,
            dtype=jnp.float32,
        )
        obs, priv = self._observe(readings, tinfo, key)
        temps = jnp.full((n, NUM_JOINTS), cfg.initial_winding_temp, dtype=jnp.float32)
        return {
            "physics": data,
            "fields": fields,
            "latency": params["latency"],
            "task": tinfo,
            "winding_temp": temps,
            "housing_temp": temps,
            "joint_target": jnp.tile(self._default, (n, 1)),
            "obs": obs,
            "privileged_obs": priv,
        }

    def reset(self, seed: int | jax.Array) -> State:
        """Start every simulation afresh from ``seed`` (an int or a PRNG key)."""
        key = jax.random.PRNGKey(seed) if isinstance(seed, int) else seed
        key, sub = jax.random.split(key)
        return self._state_from(jax.jit(self._fresh)(sub), key)

    def reset_to(
        self, qpos: Any, qvel: Any, command: Any, gait: Any = None, seed: int = 0
    ) -> State:
        """Start from given states (n, nq), (n, nv), commands (n, 3), gaits (n, 8), nominal model.

        Used to compare back ends from the same initial state.
        """
        n = self.num_envs
        params = randomize.draw_parameters(
            jnp.zeros((n, randomize.num_draws(self.model.nbody))),
            self.cfg.randomization.__class__(enabled=False),
            self.model.nbody,
            xp=jnp,
        )
        fields = {k: jnp.broadcast_to(v, (n,) + v.shape) for k, v in self._base.items()}
        key = jax.random.PRNGKey(seed)
        if gait is None:
            gait = task.sample_gaits(jnp.zeros((n, 4)), self.cfg, xp=jnp)
        start = jax.jit(self._start)(
            fields, params, jnp.asarray(qpos, jnp.float32), jnp.asarray(qvel, jnp.float32),
            jnp.asarray(command, jnp.float32), jnp.asarray(gait, jnp.float32), key,
        )  # fmt: skip
        level = jnp.full(n, self.cfg.terrain_config.start_level, jnp.int32)
        spawn = jnp.asarray(qpos, jnp.float32)[:, :2]
        return self._state_from({**start, "level": level, "spawn_xy": spawn}, key)

    def _state_from(self, start: dict[str, Any], key: jax.Array) -> State:
        n = self.num_envs
        zeros = jnp.zeros(n)
        metrics = {f"reward/{name}": zeros for name in task.reward_names(self.cfg.task)}
        metrics.update(
            tracking_error=zeros, winding_temp_max=zeros, diverged=zeros, nan_actions=zeros
        )
        if self._rough:
            metrics["terrain_level"] = start["level"].astype(jnp.float32)
        info = {k: v for k, v in start.items() if k not in ("obs", "privileged_obs")}
        info.update(
            rng=key,
            terminal_obs=start["obs"],
            terminal_privileged_obs=start["privileged_obs"],
        )
        return State(start["obs"], start["privileged_obs"], zeros, zeros, zeros, metrics, info)

    # ------------------------------------------------------------------ step
    @functools.partial(jax.jit, static_argnums=0)
    def step(self, state: State, action: jax.Array) -> State:
        """Apply ``action`` (n, 12) for one control step, then autoreset finished episodes.

        NaN actions are replaced by zeros and counted in metrics["nan_actions"]: inside a
        compiled function an error cannot be raised (env.nan_action='error' is checked by the
        native back end and the adapters).
        """
        cfg, n = self.cfg, self.num_envs
        info = state.info
        key, k_push, k_cmd, k_zero, k_noise, k_reset, k_gait = jax.random.split(info["rng"], 7)
        nan_rows = ~jnp.all(jnp.isfinite(action), axis=1)
        action = jnp.clip(jnp.where(nan_rows[:, None], 0.0, action), -1.0, 1.0)
        tinfo: task.TaskInfo = info["task"]
        data: mjx.Data = info["physics"]
        fields = info["fields"]

        if self._push_steps:
            push_now = (tinfo.step > 0) & (tinfo.step % self._push_steps == 0)
            v = cfg.randomization.push_velocity
            kick = jax.random.uniform(k_push, (n, 2), minval=-v, maxval=v) * push_now[:, None]
            data = data.replace(qvel=data.qvel.at[:, 0:2].add(kick))

        target = task.joint_targets(action, self._default, cfg.action_scale)
        previous_target = info["joint_target"]
        kp = cfg.kp * tinfo.kp_scale[:, None]
        kd = cfg.kd * tinfo.kd_scale[:, None]
        strength = tinfo.strength[:, None]
        latency = info["latency"]

        winding, housing = info["winding_temp"], info["housing_temp"]

        def substep(carry: tuple, k: jax.Array) -> tuple:
            data, loss, power, _ = carry
            q, qd = data.qpos[:, 7:], data.qvel[:, 6:]
            use = jnp.where((k < latency)[:, None], previous_target, target)
            tau = cybergear.mit_torque(
                use, q, qd, kp, kd, cfg.motor, winding_temp=winding, strength=strength, xp=jnp
            )
            loss = loss + cybergear.copper_loss(tau, cfg.motor, winding, xp=jnp)
            power = power + jnp.sum(tau * qd, axis=1)
            data = self._physics_step(fields, data.replace(ctrl=tau))
            return (data, loss, power, tau), None

        zeros_j = jnp.zeros((n, NUM_JOINTS))
        (data, loss, power, tau), _ = jax.lax.scan(
            substep, (data, zeros_j, jnp.zeros(n), zeros_j), jnp.arange(cfg.substeps)
        )
        power = power / cfg.substeps
        # Thermal time constants are tens of seconds: one step per control step (as native).
        winding, housing = cybergear.thermal_step(
            winding, housing, loss / cfg.substeps, cfg.motor, cfg.ctrl_dt, cfg.ambient_temp
        )

        diverged = (
            ~jnp.all(jnp.isfinite(data.qpos), axis=1)
            | ~jnp.all(jnp.isfinite(data.qvel), axis=1)
            | jnp.any(jnp.abs(data.qvel) > DIVERGED_SPEED, axis=1)
        )
        readings = self._readings(data, tau, power)
        readings = jax.tree_util.tree_map(
            lambda x: jnp.where(diverged.reshape((-1,) + (1,) * (x.ndim - 1)), 0.0, x), readings
        )
        tinfo = tinfo.replace(phase=task.advance_phase(tinfo, cfg.ctrl_dt))
        fallen = task.is_fallen(readings, cfg, xp=jnp) | diverged
        terms, feet = task.reward_terms(
            readings, tinfo, action, fallen, self._default, self._range, cfg, xp=jnp
        )
        reward = jnp.where(
            diverged, 0.0, task.total_reward(terms, cfg.rewards, cfg.ctrl_dt, xp=jnp)
        )
        step_count = tinfo.step + 1
        truncated = (step_count >= cfg.episode_steps) & ~fallen
        done = fallen | truncated

        resample = step_count % self._resample_steps == 0
        scale = task.curriculum_scale(tinfo.lifetime, cfg.command, xp=jnp)
        fresh_cmd = task.sample_commands(
            jax.random.uniform(k_cmd, (n, 3)), jax.random.uniform(k_zero, (n,)), cfg.command,
            xp=jnp, scale=scale,
        )  # fmt: skip
        command = jnp.where(resample[:, None], fresh_cmd, tinfo.command)
        fresh_gait = task.sample_gaits(jax.random.uniform(k_gait, (n, 4)), cfg, xp=jnp, scale=scale)
        gait = jnp.where(resample[:, None], fresh_gait, tinfo.gait)
        tinfo = task.advance_info(tinfo, action, feet, readings, command, gait)
        obs, priv = self._observe(readings, tinfo, k_noise)
        obs = jnp.where(diverged[:, None], 0.0, obs)
        priv = jnp.where(diverged[:, None], 0.0, priv)

        metrics = task.step_metrics(
            terms, readings, tinfo, winding, diverged, nan_rows, cfg, xp=jnp
        )

        current = {
            "physics": data,
            "fields": fields,
            "latency": latency,
            "task": tinfo,
            "winding_temp": winding,
            "housing_temp": housing,
            "joint_target": target,
            "obs": obs,
            "privileged_obs": priv,
            "level": info["level"],
            "spawn_xy": info["spawn_xy"],
        }
        level = info["level"]
        if self._rough:
            tc = cfg.terrain_config
            walked = jnp.linalg.norm(readings.base_pos[:, :2] - info["spawn_xy"], axis=1)
            far = walked > tc.promote_distance * tc.tile_size / 2
            level = jnp.where(
                done & far, jnp.minimum(level + 1, tc.levels - 1),
                jnp.where(done & fallen, jnp.maximum(level - 1, 0), level),
            )  # fmt: skip
            current["level"] = level
            metrics["terrain_level"] = level.astype(jnp.float32)
        if not self.autoreset:
            new_info = {k: v for k, v in current.items() if k not in ("obs", "privileged_obs")}
            new_info.update(rng=key, terminal_obs=obs, terminal_privileged_obs=priv)
            return State(obs, priv, reward, done.astype(jnp.float32),
                         truncated.astype(jnp.float32), metrics, new_info)  # fmt: skip
        fresh = self._fresh(k_reset, tinfo.lifetime, level)
        # A simulation's lifetime (the curriculum clock) survives its episodes.
        fresh["task"] = fresh["task"].replace(lifetime=tinfo.lifetime)

        def pick(new: Any, old: Any) -> Any:
            mask = done.reshape((-1,) + (1,) * (jnp.ndim(old) - 1))
            return jnp.where(mask, new, old)

        merged = jax.tree_util.tree_map(pick, fresh, current)
        new_info = {k: v for k, v in merged.items() if k not in ("obs", "privileged_obs")}
        new_info.update(rng=key, terminal_obs=obs, terminal_privileged_obs=priv)
        return State(
            obs=merged["obs"],
            privileged_obs=merged["privileged_obs"],
            reward=reward,
            done=done.astype(jnp.float32),
            truncated=truncated.astype(jnp.float32),
            metrics=metrics,
            info=new_info,
        )

    # ------------------------------------------------------------------ helpers
    def _readings(self, data: mjx.Data, joint_torque: Any, power: Any) -> task.Readings:
        return task.readings_from_physics(
            data.qpos, data.qvel, data.sensordata, joint_torque, power, self.ids, xp=jnp
        )

    def _observe(self, readings: task.Readings, tinfo: task.TaskInfo, key: jax.Array) -> tuple:
        clean = task.observation(readings, tinfo, self._default, xp=jnp, task_name=self.cfg.task)
        noise = jax.random.uniform(key, clean.shape, minval=-1.0, maxval=1.0) * self._noise
        priv = task.privileged_observation(clean, readings, tinfo, xp=jnp)
        return clean + noise, priv


def as_numpy(tree: Any) -> Any:
    """Copy a pytree of device arrays to NumPy (for logging and tests)."""
    return jax.tree_util.tree_map(np.asarray, tree)
