"""Native CPU back end: MuJoCo's ``mujoco.batch.Batch`` steps every simulation on all cores.

The batch releases the GIL and steps thousands of simulations in C; this module only writes
motor torques between physics steps (the CyberGear law runs at the physics rate), reads the
sensors, and calls the shared task functions in ``irondog.envs.task`` with ``xp=numpy``.
Domain randomisation writes per-simulation model fields through ``Batch.expand``.
"""

from __future__ import annotations

import os

import mujoco
import numpy as np
from mujoco.batch import Batch

from irondog.envs import randomize, task, terrain
from irondog.envs.base import State
from irondog.envs.config import EnvConfig
from irondog.envs.robot import NUM_JOINTS, RobotIds
from irondog.motors import cybergear

DIVERGED_SPEED = 1.0e3  # rad/s or m/s: a generalised velocity above this is a blow-up


class NativeEnv:
    """A batch of CyberDog 2 joystick environments on the CPU (see irondog.envs.base)."""

    action_size = NUM_JOINTS

    def __init__(self, cfg: EnvConfig, model: mujoco.MjModel | None = None) -> None:
        self.cfg = cfg
        self.model = model if model is not None else terrain.build_model(cfg)
        self.model.opt.timestep = cfg.sim_dt
        self.ids = RobotIds.from_model(self.model)
        self.num_envs = cfg.num_envs
        self.observation_size = task.observation_size(cfg.task)
        self.privileged_observation_size = self.observation_size + task.PRIVILEGED_EXTRA
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
        self._noise = task.noise_scales(cfg.noise, cfg.task).astype(np.float64)
        self._push_steps = (
            round(cfg.randomization.push_interval / cfg.ctrl_dt)
            if cfg.randomization.enabled and cfg.randomization.push_interval > 0
            else 0
        )
        self._resample_steps = max(1, round(cfg.command.resample_interval / cfg.ctrl_dt))
        self._rough = cfg.terrain == "rough"
        if self._rough:
            tc = cfg.terrain_config
            self._heights = terrain.heightfield(tc)
            self._centres = terrain.tile_centres(tc)
        self.rng = np.random.default_rng(0)
        self.diverged_total = 0  # simulations reset because their physics blew up
        # Foot contact at every physics step of the last control step, (n, substeps, 4), for
        # evaluation: touchdown times to 1/substeps of a control step. Off by default (training
        # does not need it); set record_substep_contact = True to fill it.
        self.record_substep_contact = False
        self.substep_contact: np.ndarray | None = None
        self._touch_columns = np.concatenate(
            [np.arange(self.model.nsensordata)[self.ids.sensor_slices[f"{leg}_touch"]]
             for leg in task.LEGS]
        )  # fmt: skip

    # ------------------------------------------------------------------ reset
    def reset(self, seed: int) -> State:
        """Start every simulation afresh; the seed fixes all randomness that follows."""
        self.rng = np.random.default_rng(seed)
        n = self.num_envs
        self.diverged_total = 0
        self._level = np.full(n, self.cfg.terrain_config.start_level) if self._rough else None
        self._latency = np.zeros(n, dtype=np.int32)
        self._params: dict[str, np.ndarray] = {}
        all_ids = np.arange(n)
        temps = np.full((n, NUM_JOINTS), self.cfg.initial_winding_temp)
        info = {
            "winding_temp": temps,
            "housing_temp": temps.copy(),
            "joint_target": np.tile(self.ids.default_pose, (n, 1)),
        }
        task_info, obs, priv = self._reset_sims(all_ids, None)
        info["task"] = task_info
        info["terminal_obs"] = obs.copy()
        info["terminal_privileged_obs"] = priv.copy()
        zeros = np.zeros(n, dtype=np.float32)
        metrics = {f"reward/{name}": zeros for name in task.reward_names(self.cfg.task)}
        metrics.update(self._zero_metrics())
        return State(obs, priv, zeros, zeros, zeros, metrics, info)

    def _zero_metrics(self) -> dict[str, np.ndarray]:
        zeros = np.zeros(self.num_envs, dtype=np.float32)
        out = {
            "tracking_error": zeros,
            "winding_temp_max": zeros,
            "diverged": zeros,
            "nan_actions": zeros,
        }
        if self._rough:
            out["terrain_level"] = zeros
        return out

    def _reset_sims(
        self, ids: np.ndarray, task_info: task.TaskInfo | None
    ) -> tuple[task.TaskInfo, np.ndarray, np.ndarray]:
        """Reset simulations ``ids``; returns the TaskInfo (whole batch) and their first obs."""
        cfg, k = self.cfg, len(ids)
        rng = self.rng
        self.batch.reset(ids, keyframe=0, stage=mujoco.mjtStage.mjSTAGE_NONE)
        # Domain randomisation: new parameters for each reset simulation.
        uniform = rng.random((k, randomize.num_draws(self.model.nbody)))
        params = randomize.draw_parameters(uniform, cfg.randomization, self.model.nbody)
        if self._fields is not None:
            fields = randomize.model_fields(params, self._base_fields, self.ids)
            for name, values in fields.items():
                self._fields[name][ids] = values
            self.batch.set_const(ids)
        self._latency[ids] = params["latency"]
        # Initial state: home pose, random heading, small joint offsets.
        yaw = rng.uniform(-np.pi, np.pi, size=k)
        qpos = np.tile(self.ids.home_qpos, (k, 1))
        qpos[:, 3] = np.cos(yaw / 2)
        qpos[:, 6] = np.sin(yaw / 2)
        qpos[:, 7:] += rng.uniform(-0.05, 0.05, size=(k, NUM_JOINTS))
        if self._rough:
            level = self._level[ids]
            tile = rng.integers(0, cfg.terrain_config.tiles_per_level, size=k)
            qpos[:, :2] = self._centres[level, tile]
            qpos[:, 2] += self._ground_height(qpos[:, :2])
        self.qpos[ids] = qpos
        self.qvel[ids] = 0.0
        self.ctrl[ids] = 0.0
        self.xfrc_applied[ids] = 0.0
        self.batch.forward(ids)
        readings = self._readings(ids, np.zeros((k, NUM_JOINTS)), np.zeros(k))
        lifetime = task_info.lifetime[ids] if task_info is not None else np.zeros(k)
        scale = task.curriculum_scale(lifetime, cfg.command)
        command = task.sample_commands(rng.random((k, 3)), rng.random(k), cfg.command, scale=scale)
        gait = task.sample_gaits(rng.random((k, 4)), cfg, scale=scale)
        fresh = task.initial_info(
            k,
            command,
            readings.foot_pos,
            params,
            gait,
            nominal_friction=self._base_fields["geom_friction"][self.ids.foot_geoms[0], 0],
            dtype=np.float64,
        )
        if task_info is None:
            task_info = fresh
        else:
            task_info = task_info.replace(
                **{
                    name: _put(getattr(task_info, name), ids, getattr(fresh, name))
                    for name in task.task_fields()
                    if name != "lifetime"
                }
            )
        obs, priv = self._observe(readings, fresh)
        return task_info, obs, priv

    def _ground_height(self, xy: np.ndarray) -> np.ndarray:
        tc = self.cfg.terrain_config
        rows, cols = self._heights.shape
        col = np.clip(
            ((xy[:, 0] / (cols * terrain.RESOLUTION) + 0.5) * cols).astype(int), 0, cols - 1
        )
        row = np.clip(
            ((xy[:, 1] / (rows * terrain.RESOLUTION) + 0.5) * rows).astype(int), 0, rows - 1
        )
        del tc
        return self._heights[row, col]

    # ------------------------------------------------------------------ step
    def step(self, state: State, action: np.ndarray) -> State:
        """Apply ``action`` (n, 12) for one control step, then autoreset finished episodes."""
        cfg, ids, n = self.cfg, self.ids, self.num_envs
        action = np.asarray(action, dtype=np.float64)
        if action.shape != (n, NUM_JOINTS):
            raise ValueError(f"action has shape {action.shape}, expected ({n}, {NUM_JOINTS})")
        nan_rows = ~np.isfinite(action).all(axis=1)
        if nan_rows.any():
            bad = np.flatnonzero(nan_rows)
            if cfg.nan_action == "error":
                raise ValueError(
                    f"action is NaN or infinite in simulations {bad[:10].tolist()}"
                    f"{' ...' if len(bad) > 10 else ''} (env.nan_action='error'; set it to "
                    "'zero' to replace such actions by zeros instead)"
                )
            action = np.where(nan_rows[:, None], 0.0, action)
        action = np.clip(action, -1.0, 1.0)
        info = state.info
        tinfo: task.TaskInfo = info["task"]
        rng = self.rng

        if self._push_steps:
            push_now = (tinfo.step > 0) & (tinfo.step % self._push_steps == 0)
            if push_now.any():
                v = cfg.randomization.push_velocity
                kick = rng.uniform(-v, v, size=(int(push_now.sum()), 2))
                self.qvel[push_now, 0:2] += kick

        # Physics: the CyberGear MIT law at every physics step.
        target = task.joint_targets(action, ids.default_pose, cfg.action_scale)
        previous_target = info["joint_target"]
        kp = cfg.kp * tinfo.kp_scale[:, None]
        kd = cfg.kd * tinfo.kd_scale[:, None]
        strength = tinfo.strength[:, None]
        winding, housing = info["winding_temp"], info["housing_temp"]
        time_before = self.time.copy()
        power = np.zeros(n)
        loss = np.zeros((n, NUM_JOINTS))  # W, summed over the physics steps
        tau = np.zeros((n, NUM_JOINTS))
        touch = np.zeros((n, cfg.substeps, 4), dtype=bool) if self.record_substep_contact else None
        for k in range(cfg.substeps):
            q, qd = self.qpos[:, 7:], self.qvel[:, 6:]
            use = np.where((k < self._latency)[:, None], previous_target, target)
            tau = cybergear.mit_torque(
                use, q, qd, kp, kd, cfg.motor, winding_temp=winding, strength=strength
            )
            self.ctrl[:] = tau
            loss += cybergear.copper_loss(tau, cfg.motor, winding)
            power += np.sum(tau * qd, axis=1)
            self.batch.step()
            if touch is not None:
                touch[:, k] = self.sensordata[:, self._touch_columns] > task.CONTACT_FORCE
        self.substep_contact = touch
        power /= cfg.substeps
        # The thermal model's time constants are tens of seconds: one step per control step,
        # on the mean copper loss, is enough (the torques themselves follow every physics step).
        winding, housing = cybergear.thermal_step(
            winding, housing, loss / cfg.substeps, cfg.motor, cfg.ctrl_dt, cfg.ambient_temp
        )

        # A simulation whose state blew up (or that MuJoCo reset after a bad acceleration,
        # which rewinds its time) is reset alone and counted.
        diverged = (
            ~np.isfinite(self.qpos).all(axis=1)
            | ~np.isfinite(self.qvel).all(axis=1)
            | (np.abs(self.qvel) > DIVERGED_SPEED).any(axis=1)
            | (self.time < time_before + 0.5 * cfg.ctrl_dt)
        )
        if diverged.any():
            self.qpos[diverged] = ids.home_qpos
            self.qvel[diverged] = 0.0
            self.diverged_total += int(diverged.sum())

        readings = self._readings(slice(None), tau, power)
        tinfo = tinfo.replace(phase=task.advance_phase(tinfo, cfg.ctrl_dt))
        fallen = task.is_fallen(readings, cfg) | diverged
        terms, feet = task.reward_terms(
            readings, tinfo, action, fallen, ids.default_pose, ids.joint_range, cfg
        )
        reward = task.total_reward(terms, cfg.rewards, cfg.ctrl_dt)
        reward = np.where(diverged, 0.0, reward)
        step_count = tinfo.step + 1
        truncated = (step_count >= cfg.episode_steps) & ~fallen
        done = fallen | truncated

        # Commands are resampled on a timer within an episode.
        resample = step_count % self._resample_steps == 0
        command, gait = tinfo.command, tinfo.gait
        if resample.any():
            scale = task.curriculum_scale(tinfo.lifetime, cfg.command)
            fresh = task.sample_commands(
                rng.random((n, 3)), rng.random(n), cfg.command, scale=scale
            )
            command = np.where(resample[:, None], fresh, command)
            fresh_gait = task.sample_gaits(rng.random((n, 4)), cfg, scale=scale)
            gait = np.where(resample[:, None], fresh_gait, gait)
        tinfo = task.advance_info(tinfo, action, feet, readings, command, gait)
        obs, priv = self._observe(readings, tinfo)
        obs = np.where(diverged[:, None], 0.0, obs).astype(np.float32)
        priv = np.where(diverged[:, None], 0.0, priv).astype(np.float32)
        terminal_obs, terminal_priv = obs.copy(), priv.copy()

        metrics = task.step_metrics(terms, readings, tinfo, winding, diverged, nan_rows, cfg)
        metrics = {name: value.astype(np.float32) for name, value in metrics.items()}

        winding = np.where(diverged[:, None], cfg.initial_winding_temp, winding)
        housing = np.where(diverged[:, None], cfg.initial_winding_temp, housing)
        if self._rough:
            walked = np.linalg.norm(readings.base_pos[:, :2] - self._spawn_xy(), axis=1)
            far = walked > cfg.terrain_config.promote_distance * cfg.terrain_config.tile_size / 2
            top = cfg.terrain_config.levels - 1
            self._level = np.where(
                done & far, np.minimum(self._level + 1, top),
                np.where(done & fallen, np.maximum(self._level - 1, 0), self._level),
            )  # fmt: skip
            metrics["terrain_level"] = self._level.astype(np.float32)

        done_ids = np.flatnonzero(done)
        if len(done_ids):
            tinfo, new_obs, new_priv = self._reset_sims(done_ids, tinfo)
            obs[done_ids] = new_obs
            priv[done_ids] = new_priv
            temp0 = cfg.initial_winding_temp
            winding = np.where(done[:, None], temp0, winding)
            housing = np.where(done[:, None], temp0, housing)
            target = np.where(done[:, None], ids.default_pose, target)

        new_info = {
            "task": tinfo,
            "winding_temp": winding,
            "housing_temp": housing,
            "joint_target": target,
            "terminal_obs": terminal_obs,
            "terminal_privileged_obs": terminal_priv,
        }
        return State(
            obs=obs,
            privileged_obs=priv,
            reward=reward.astype(np.float32),
            done=done.astype(np.float32),
            truncated=truncated.astype(np.float32),
            metrics=metrics,
            info=new_info,
        )

    def _spawn_xy(self) -> np.ndarray:
        # Tile centres are a lattice: the nearest centre of each simulation's own level.
        tc = self.cfg.terrain_config
        x = self.qpos[:, 0]
        col = np.clip(
            np.floor(x / tc.tile_size + tc.tiles_per_level / 2), 0, tc.tiles_per_level - 1
        )
        return self._centres[self._level, col.astype(int)]

    # ------------------------------------------------------------------ helpers
    def _readings(self, rows, joint_torque: np.ndarray, power: np.ndarray) -> task.Readings:
        return task.readings_from_physics(
            self.qpos[rows], self.qvel[rows], self.sensordata[rows], joint_torque, power, self.ids
        )

    def _observe(
        self, readings: task.Readings, tinfo: task.TaskInfo
    ) -> tuple[np.ndarray, np.ndarray]:
        clean = task.observation(readings, tinfo, self.ids.default_pose, task_name=self.cfg.task)
        noise = self.rng.uniform(-1.0, 1.0, size=clean.shape) * self._noise
        priv = task.privileged_observation(clean, readings, tinfo)
        return (clean + noise).astype(np.float32), priv.astype(np.float32)


def _take(info: task.TaskInfo, rows: np.ndarray) -> task.TaskInfo:
    return info.replace(**{name: getattr(info, name)[rows] for name in task.task_fields()})


def _put(full: np.ndarray, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.array(full, copy=True)
    out[rows] = values
    return out
