"""The control step, written once for both physics back ends.

``Task`` is built once per environment, with its constants as arrays of the back end's array
module (``xp``: NumPy for native ``mujoco.batch``, ``jax.numpy`` for MJX) and runs the whole
policy step: motor substeps, readings, reward dict, termination, command resampling, pushes,
autoreset and metrics. A back end (``Physics``) implements only the physics calls: ``advance``
the simulations through the substeps, ``read`` their arrays, ``reset_rows`` to restart some of
them. What the environment carries between steps is one typed record, ``EnvInfo``, the same
on both back ends (Brax's ``PipelineEnv`` state and MuJoCo Playground's ``State`` are the
models).

Random numbers come from a ``Sampler``: NumPy's generator on the native back end, JAX's keys
on MJX. The native back end can also draw from JAX's keys (``NativeEnv(cfg, rng="jax")``):
both back ends then get the same numbers for the same seed, which the parity test uses.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import ModuleType
from typing import Any, NamedTuple, Protocol

import numpy as np

from irondog.envs import gaits, randomize, task, terrain
from irondog.envs.base import State
from irondog.envs.config import EnvConfig
from irondog.envs.robot import LEGS, NUM_JOINTS, RobotIds
from irondog.motors import cybergear

DIVERGED_SPEED = 1.0e3  # rad/s or m/s: a generalised velocity above this is a blow-up


class EnvInfo(NamedTuple):
    """What an environment carries from step to step; every leaf leads with num_envs.

    The same fields on both back ends. ``info["name"]`` reads a field too (the older
    dict-style access).
    """

    task: task.TaskInfo  # commands, gait clock, feet state, randomised gains, ...
    winding_temp: Any  # (n, 12) C
    housing_temp: Any  # (n, 12) C
    joint_target: Any  # (n, 12) rad, the last step's targets (held through the latency)
    latency: Any  # (n,) int, action latency in physics steps (randomised)
    level: Any  # (n,) int, terrain curriculum level (the start level on flat ground)
    spawn_xy: Any  # (n, 2) m, where the episode started (terrain promotion is measured from it)
    diverged_count: Any  # (n,) int, resets because the physics blew up (survives episodes)
    terminal_obs: Any  # (n, obs) last observation of an episode that ended in this step
    terminal_privileged_obs: Any  # (n, privileged obs)
    qpos: Any  # (n, nq) after the step (native: live views of the batch; copy to keep)
    qvel: Any  # (n, nv)
    ctrl: Any  # (n, 12) N m, the joint torques of the last physics step
    substep_contact: Any  # (n, substeps, 4) foot contact at every physics step, or None
    physics: Any  # the back end's own physics state (MJX: data and model fields; native: None)
    rng: Any  # NumPy Generator, or a JAX PRNG key

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return getattr(self, key)
        return tuple.__getitem__(self, key)

    def replace(self, **changes: Any) -> EnvInfo:
        """A copy with ``changes``."""
        return self._replace(**changes)


class Sampler(Protocol):
    """Uniform draws for the rows of a batch; ``rows`` None means every row."""

    def random(self, rows: Any, tail: tuple[int, ...] = ()) -> Any: ...

    def uniform(self, rows: Any, tail: tuple[int, ...], lo: float, hi: float) -> Any: ...

    def integers(self, rows: Any, high: int) -> Any: ...

    def masked_uniform(self, mask: Any, tail: tuple[int, ...], lo: float, hi: float) -> Any: ...

    def any(self, mask: Any) -> bool: ...

    def state(self) -> Any: ...


class NumpySampler:
    """Draws from a NumPy Generator, only for the rows asked (the native back end)."""

    def __init__(self, generator: np.random.Generator, num_envs: int) -> None:
        self.gen = generator
        self.n = num_envs

    def _count(self, rows: Any) -> int:
        return self.n if rows is None else len(rows)

    def random(self, rows: Any, tail: tuple[int, ...] = ()) -> np.ndarray:
        return self.gen.random((self._count(rows),) + tail)

    def uniform(self, rows: Any, tail: tuple[int, ...], lo: float, hi: float) -> np.ndarray:
        return self.gen.uniform(lo, hi, size=(self._count(rows),) + tail)

    def integers(self, rows: Any, high: int) -> np.ndarray:
        return self.gen.integers(0, high, size=self._count(rows))

    def masked_uniform(self, mask: Any, tail: tuple[int, ...], lo: float, hi: float) -> Any:
        out = np.zeros((self.n,) + tail)
        count = int(np.count_nonzero(mask))
        if count:
            out[mask] = self.gen.uniform(lo, hi, size=(count,) + tail)
        return out

    def any(self, mask: Any) -> bool:
        return bool(np.any(mask))

    def state(self) -> np.random.Generator:
        return self.gen


class Physics(Protocol):
    """The physics calls a back end implements; ``physics`` is its part of EnvInfo."""

    xp: ModuleType
    num_envs: int

    def rows(self, mask: Any) -> Any:
        """Indices of the rows ``mask`` selects, or None: compute every row, keep by mask."""

    def kick(self, physics: Any, planar_velocity: Any) -> Any:
        """Add (n, 2) m/s to the trunks' world-frame planar velocity."""

    def advance(
        self, physics: Any, substep: Callable, carry: Any, substeps: int, record_contact: bool
    ) -> tuple[Any, Any, Any, Any]:
        """Run ``substeps`` physics steps, torques from ``substep(carry, k, q, qd) -> (carry,
        tau)``; returns (physics, carry, last tau, (n, substeps, 4) contact or None)."""

    def read(self, physics: Any, rows: Any) -> tuple[Any, Any, Any, Any]:
        """(qpos, qvel, sensordata, time) of ``rows`` (None: all)."""

    def views(self, physics: Any) -> tuple[Any, Any, Any]:
        """(qpos, qvel, ctrl) of every simulation, for EnvInfo."""

    def reset_rows(
        self, physics: Any, rows: Any, mask: Any, params: dict[str, Any], qpos: Any
    ) -> Any:
        """Restart rows (``rows``, or where ``mask``) at ``qpos`` at rest, with model fields
        from the randomisation ``params``."""


def touch_columns(ids: RobotIds, nsensordata: int) -> np.ndarray:
    """Columns of sensordata holding the feet's touch sensors, FR, FL, RR, RL."""
    columns = np.arange(nsensordata)
    return np.concatenate([columns[ids.sensor_slices[f"{leg}_touch"]] for leg in LEGS])


class Fresh(NamedTuple):
    """A new episode's start for some rows."""

    task: task.TaskInfo
    obs: Any
    privileged_obs: Any
    latency: Any
    spawn_xy: Any
    winding_temp: Any
    joint_target: Any


class Task:
    """The task of an environment batch, built once: constants as ``xp`` arrays, the step."""

    def __init__(
        self,
        cfg: EnvConfig,
        ids: RobotIds,
        nbody: int,
        physics: Physics,
        dtype: Any,
        nominal_friction: float,
        autoreset: bool = True,
        record_substep_contact: bool = False,
    ) -> None:
        xp = physics.xp
        self.cfg, self.ids, self.nbody, self.physics, self.xp = cfg, ids, nbody, physics, xp
        self.n = physics.num_envs
        self.dtype = dtype
        self.autoreset = autoreset  # False: finished episodes are flagged, not restarted
        self.record_substep_contact = record_substep_contact
        self.variant = task.variant(cfg.task)
        self.scales = task.reward_scales(cfg.rewards, self.variant)
        self.noise = xp.asarray(task.noise_scales(cfg.noise, self.variant), dtype=dtype)
        self.default_pose = xp.asarray(ids.default_pose, dtype=dtype)
        self.joint_range = xp.asarray(ids.joint_range, dtype=dtype)
        self.home = xp.asarray(ids.home_qpos, dtype=dtype)
        self.presets = (
            xp.asarray(gaits.preset_matrix(cfg.gaits.presets), dtype=dtype)
            if self.variant.gait_commanded
            else None
        )
        rand = cfg.randomization
        self.push_steps = (
            round(rand.push_interval / cfg.ctrl_dt)
            if rand.enabled and rand.push_interval > 0
            else 0
        )
        self.resample_steps = max(1, round(cfg.command.resample_interval / cfg.ctrl_dt))
        self.rough = cfg.terrain == "rough"
        if self.rough:
            tc = cfg.terrain_config
            self.heights = xp.asarray(terrain.heightfield(tc), dtype=dtype)
            self.centres = xp.asarray(terrain.tile_centres(tc), dtype=dtype)
        self.nominal_friction = nominal_friction  # the critic's friction without randomisation

    # ------------------------------------------------------------------ pieces
    def sample_gaits(self, draws: Any, scale: Any) -> Any:
        """(m, 8) gait commands from draws (m, 4) (the trot for the joystick task)."""
        return task.sample_gaits(draws, self.cfg, xp=self.xp, scale=scale, presets=self.presets)

    def observe(
        self, readings: task.Readings, tinfo: task.TaskInfo, sampler: Sampler, rows: Any = None
    ) -> tuple:
        """(noisy actor obs, privileged obs) of ``rows`` (None: all), both float32."""
        clean = task.observation(
            readings, tinfo, self.default_pose, xp=self.xp, task_name=self.variant
        )
        noise = sampler.uniform(rows, (clean.shape[1],), -1.0, 1.0) * self.noise
        priv = task.privileged_observation(clean, readings, tinfo, xp=self.xp)
        return (clean + noise).astype(np.float32), priv.astype(np.float32)

    def _merge(self, old: Any, new: Any, rows: Any, mask: Any) -> Any:
        """``old`` with its ``rows`` (None: where ``mask``) taken from ``new``."""
        if rows is None:
            return self.xp.where(mask.reshape((-1,) + (1,) * (old.ndim - 1)), new, old)
        out = np.array(old, copy=True)
        out[rows] = new
        return out

    def restart(
        self, physics: Any, sampler: Sampler, rows: Any, mask: Any, lifetime: Any, level: Any
    ) -> tuple[Any, Fresh]:
        """New episodes for ``rows`` (None: every row, to be kept where ``mask``): randomised
        model, pose and heading, tile, command, gait, first observation."""
        cfg, xp, ids = self.cfg, self.xp, self.ids
        m = self.n if rows is None else len(rows)
        uniform = sampler.random(rows, (randomize.num_draws(self.nbody),))
        params = randomize.draw_parameters(uniform, cfg.randomization, self.nbody, xp=xp)
        yaw = sampler.uniform(rows, (), -math.pi, math.pi)
        offsets = sampler.uniform(rows, (NUM_JOINTS,), -0.05, 0.05)
        home = xp.broadcast_to(self.home, (m, self.home.shape[0]))
        xy, z = home[:, :2], home[:, 2]
        if self.rough:
            tile = sampler.integers(rows, cfg.terrain_config.tiles_per_level)
            own = level if rows is None else level[rows]
            xy = self.centres[own, tile]
            z = z + terrain.ground_height(self.heights, xy, xp)
        qpos = xp.concatenate(
            [xy, z[:, None], xp.cos(yaw / 2)[:, None], home[:, 4:6], xp.sin(yaw / 2)[:, None],
             home[:, 7:] + offsets], axis=1,
        )  # fmt: skip
        physics = self.physics.reset_rows(physics, rows, mask, params, qpos)
        qpos_r, qvel_r, sensordata, _ = self.physics.read(physics, rows)
        readings = task.readings_from_physics(
            qpos_r, qvel_r, sensordata, xp.zeros((m, NUM_JOINTS)), xp.zeros(m), ids, xp=xp
        )
        own_lifetime = lifetime if rows is None else lifetime[rows]
        scale = task.curriculum_scale(own_lifetime, cfg.command, xp=xp)
        draws = task.command_draws(sampler, rows, cfg.command)
        command = task.sample_commands(cfg=cfg.command, xp=xp, scale=scale, **draws)
        gait = self.sample_gaits(sampler.random(rows, (4,)), scale)
        tinfo = task.initial_info(
            m, command, readings.foot_pos, params, gait, self.nominal_friction, xp=xp,
            dtype=self.dtype,
        ).replace(lifetime=own_lifetime)  # fmt: skip
        obs, priv = self.observe(readings, tinfo, sampler, rows)
        temps = xp.full((m, NUM_JOINTS), cfg.initial_winding_temp, dtype=self.dtype)
        target = xp.broadcast_to(self.default_pose, (m, NUM_JOINTS))
        return physics, Fresh(tinfo, obs, priv, params["latency"], xy, temps, target)

    def zero_metrics(self, level: Any) -> dict[str, Any]:
        """Metrics of a state that has not stepped yet (all zero)."""
        zeros = self.xp.zeros(self.n, dtype=np.float32)
        metrics = {f"reward/{name}": zeros for name in self.variant.reward_names}
        metrics.update(tracking_error=zeros, winding_temp_max=zeros, diverged=zeros,
                       nan_actions=zeros)  # fmt: skip
        if self.rough:
            metrics["terrain_level"] = level.astype(np.float32)
        return metrics

    # ------------------------------------------------------------------ reset and step
    def reset(self, physics: Any, sampler: Sampler) -> State:
        """Every simulation afresh."""
        xp, n = self.xp, self.n
        everything = xp.ones(n, dtype=bool)
        lifetime = xp.zeros(n, dtype=np.int32)
        level = xp.full(n, self.cfg.terrain_config.start_level, dtype=np.int32)
        rows = self.physics.rows(everything)
        physics, fresh = self.restart(physics, sampler, rows, everything, lifetime, level)
        qpos, qvel, ctrl = self.physics.views(physics)
        info = EnvInfo(
            task=fresh.task,
            winding_temp=fresh.winding_temp,
            housing_temp=fresh.winding_temp,
            joint_target=xp.asarray(fresh.joint_target) + 0.0,
            latency=fresh.latency,
            level=level,
            spawn_xy=fresh.spawn_xy,
            diverged_count=xp.zeros(n, dtype=np.int32),
            terminal_obs=fresh.obs,
            terminal_privileged_obs=fresh.privileged_obs,
            qpos=qpos,
            qvel=qvel,
            ctrl=ctrl,
            substep_contact=None,
            physics=physics,
            rng=sampler.state(),
        )
        zeros = xp.zeros(n, dtype=np.float32)
        return State(fresh.obs, fresh.privileged_obs, zeros, zeros, zeros,
                     self.zero_metrics(level), info)  # fmt: skip

    def step(self, state: State, action: Any, sampler: Sampler) -> State:
        """One control step of ``action`` (n, 12), then autoreset of finished episodes."""
        cfg, xp, n, ids = self.cfg, self.xp, self.n, self.ids
        back = self.physics
        info: EnvInfo = state.info
        tinfo: task.TaskInfo = info.task
        physics = info.physics
        nan_rows = ~xp.all(xp.isfinite(action), axis=1)
        action = xp.clip(xp.where(nan_rows[:, None], 0.0, action), -1.0, 1.0)

        if self.push_steps:
            push_now = (tinfo.step > 0) & (tinfo.step % self.push_steps == 0)
            if sampler.any(push_now):
                v = cfg.randomization.push_velocity
                physics = back.kick(physics, sampler.masked_uniform(push_now, (2,), -v, v))

        # Physics: the CyberGear MIT law at every physics step.
        target = task.joint_targets(action, self.default_pose, cfg.action_scale)
        previous_target = info.joint_target
        kp = cfg.kp * tinfo.kp_scale[:, None]
        kd = cfg.kd * tinfo.kd_scale[:, None]
        strength = tinfo.strength[:, None]
        latency = info.latency
        winding, housing = info.winding_temp, info.housing_temp

        if xp is np:  # native: the same law in place, no temporaries per physics step
            law = cybergear.MitSubsteps(kp, kd, cfg.motor, winding, strength)
            use = np.empty_like(law.tau)
            late = (latency > np.arange(cfg.substeps)[:, None])[:, :, None]  # (substeps, n, 1)
            torque_qd = np.empty_like(law.tau)

            def substep_numpy(carry: tuple, k: Any, q: Any, qd: Any) -> tuple:
                loss, power = carry  # W, summed over the physics steps; updated in place
                np.copyto(use, target)
                np.copyto(use, previous_target, where=late[k])
                tau = law.torque(use, q, qd)
                law.add_copper_loss(loss)
                np.multiply(tau, qd, out=torque_qd)
                power += np.sum(torque_qd, axis=1)
                return (loss, power), tau

        def substep(carry: tuple, k: Any, q: Any, qd: Any) -> tuple:
            loss, power = carry  # W, summed over the physics steps
            use = xp.where((k < latency)[:, None], previous_target, target)
            tau = cybergear.mit_torque(
                use, q, qd, kp, kd, cfg.motor, winding_temp=winding, strength=strength, xp=xp
            )
            loss = loss + cybergear.copper_loss(tau, cfg.motor, winding, xp=xp)
            power = power + xp.sum(tau * qd, axis=1)
            return (loss, power), tau

        _, _, _, time_before = back.read(physics, None)
        time_before = xp.asarray(time_before) + 0.0  # native: a copy of the live view
        zero_loss = xp.zeros((n, NUM_JOINTS), dtype=self.dtype)
        physics, (loss, power), tau, contact = back.advance(
            physics, substep_numpy if xp is np else substep,
            (zero_loss, xp.zeros(n, dtype=self.dtype)), cfg.substeps,
            self.record_substep_contact,
        )  # fmt: skip
        power = power / cfg.substeps
        # The thermal model's time constants are tens of seconds: one step per control step,
        # on the mean copper loss, is enough (the torques themselves follow every physics step).
        winding, housing = cybergear.thermal_step(
            winding, housing, loss / cfg.substeps, cfg.motor, cfg.ctrl_dt, cfg.ambient_temp
        )

        # A simulation whose state blew up (or that MuJoCo reset after a bad acceleration,
        # which rewinds its time) is reset and counted; its readings read as zeros.
        qpos, qvel, sensordata, time = back.read(physics, None)
        diverged = (
            ~xp.all(xp.isfinite(qpos), axis=1)
            | ~xp.all(xp.isfinite(qvel), axis=1)
            | xp.any(xp.abs(qvel) > DIVERGED_SPEED, axis=1)
            | (time < time_before + 0.5 * cfg.ctrl_dt)
        )
        readings = task.readings_from_physics(qpos, qvel, sensordata, tau, power, ids, xp=xp)
        readings = task.Readings(
            *(xp.where(diverged.reshape((-1,) + (1,) * (x.ndim - 1)), 0.0, x) for x in readings)
        )
        tinfo = tinfo.replace(phase=task.advance_phase(tinfo, cfg.ctrl_dt))
        fallen = task.is_fallen(readings, cfg, xp=xp) | diverged
        terms, feet = task.reward_terms(
            readings, tinfo, action, fallen, self.default_pose, self.joint_range, cfg, xp=xp
        )
        scaled = task.scaled_rewards(terms, self.scales, cfg.ctrl_dt)  # summed and logged
        reward = xp.where(diverged, 0.0, xp.maximum(sum(scaled.values()), 0.0))
        step_count = tinfo.step + 1
        truncated = (step_count >= cfg.episode_steps) & ~fallen
        done = fallen | truncated

        # Commands are resampled on a timer within an episode.
        resample = step_count % self.resample_steps == 0
        command, gait = tinfo.command, tinfo.gait
        if sampler.any(resample):
            scale = task.curriculum_scale(tinfo.lifetime, cfg.command, xp=xp)
            draws = task.command_draws(sampler, None, cfg.command)
            fresh_command = task.sample_commands(cfg=cfg.command, xp=xp, scale=scale, **draws)
            command = xp.where(resample[:, None], fresh_command, command)
            fresh_gait = self.sample_gaits(sampler.random(None, (4,)), scale)
            gait = xp.where(resample[:, None], fresh_gait, gait)
        tinfo = task.advance_info(tinfo, action, feet, readings, command, gait)
        obs, priv = self.observe(readings, tinfo, sampler)
        obs = xp.where(diverged[:, None], 0.0, obs).astype(np.float32)
        priv = xp.where(diverged[:, None], 0.0, priv).astype(np.float32)

        metrics = task.step_metrics(scaled, readings, tinfo, winding, diverged, nan_rows, xp=xp)
        metrics = {name: value.astype(np.float32) for name, value in metrics.items()}
        temp0 = cfg.initial_winding_temp
        winding = xp.where(diverged[:, None], temp0, winding)
        housing = xp.where(diverged[:, None], temp0, housing)

        level = info.level
        if self.rough:
            # Promotion by the distance walked from this episode's spawn point.
            tc = cfg.terrain_config
            walked = xp.linalg.norm(readings.base_pos[:, :2] - info.spawn_xy, axis=1)
            far = (walked > tc.promote_distance * tc.tile_size / 2) & ~diverged
            level = xp.where(
                done & far, xp.minimum(level + 1, tc.levels - 1),
                xp.where(done & fallen, xp.maximum(level - 1, 0), level),
            ).astype(np.int32)  # fmt: skip
            metrics["terrain_level"] = level.astype(np.float32)

        new_obs, new_priv = obs, priv
        latency, spawn_xy, joint_target = info.latency, info.spawn_xy, target
        if self.autoreset and sampler.any(done):
            rows = back.rows(done)
            physics, fresh = self.restart(physics, sampler, rows, done, tinfo.lifetime, level)

            def merge(old: Any, new: Any) -> Any:
                return self._merge(old, new, rows, done)

            tinfo = task.TaskInfo(*(merge(o, f) for o, f in zip(tinfo, fresh.task, strict=True)))
            new_obs, new_priv = merge(obs, fresh.obs), merge(priv, fresh.privileged_obs)
            latency, spawn_xy = merge(latency, fresh.latency), merge(spawn_xy, fresh.spawn_xy)
            winding = merge(winding, fresh.winding_temp)
            housing = merge(housing, fresh.winding_temp)
            joint_target = merge(target, fresh.joint_target)

        qpos, qvel, ctrl = back.views(physics)
        new_info = EnvInfo(
            task=tinfo,
            winding_temp=winding,
            housing_temp=housing,
            joint_target=joint_target,
            latency=latency,
            level=level,
            spawn_xy=spawn_xy,
            diverged_count=info.diverged_count + diverged.astype(np.int32),
            terminal_obs=obs,
            terminal_privileged_obs=priv,
            qpos=qpos,
            qvel=qvel,
            ctrl=ctrl,
            substep_contact=contact,
            physics=physics,
            rng=sampler.state(),
        )
        return State(
            obs=new_obs,
            privileged_obs=new_priv,
            reward=reward.astype(np.float32),
            done=done.astype(np.float32),
            truncated=truncated.astype(np.float32),
            metrics=metrics,
            info=new_info,
        )
