"""The joystick task, written once as pure array functions for NumPy and jax.numpy.

Both physics back ends call these with ``xp=numpy`` (native ``mujoco.batch``) or
``xp=jax.numpy`` (MJX); they only advance the physics and draw the random numbers.
Random inputs are passed in as arrays (uniform in [0, 1) or [-1, 1)) so that the functions
stay pure and the two back ends can be compared number for number. This module imports
neither JAX nor flax (its records are NamedTuples, which JAX treats as pytrees), so the
ONNX runner on a robot can use it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np

from irondog.config import ConfigError
from irondog.envs import gaits
from irondog.envs.config import CommandConfig, EnvConfig, NoiseConfig, RewardScales
from irondog.envs.robot import FOOT_RADIUS, LEGS, NUM_JOINTS, RobotIds

CONTACT_FORCE = 1.0  # N, touch-sensor reading that counts as foot contact
SOFT_LIMIT = 0.9  # fraction of the joint range inside which the joint-limit term is zero
TOUCHDOWN_SIGMA = 0.1  # cycles, width of the gait task's touchdown- and liftoff-timing kernel
STRIDE_S = 0.5  # s, one stride without a gait command: the stock gait period (FACTS.md)

# The actor observation, in order: (name, size, unit, noise field in NoiseConfig or None).
OBSERVATION_LAYOUT: tuple[tuple[str, int, str, str | None], ...] = (
    ("local_linvel", 3, "m/s, trunk frame (velocimeter at the IMU)", "lin_vel"),
    ("gyro", 3, "rad/s, trunk frame", "gyro"),
    ("gravity", 3, "unit vector of gravity in the trunk frame", "gravity"),
    ("joint_pos", 12, "rad, minus the default (home) pose", "joint_pos"),
    ("joint_vel", 12, "rad/s", "joint_vel"),
    ("last_action", 12, "policy output of the previous step, in [-1, 1]", None),
    ("command", 3, "vx m/s, vy m/s, yaw rate rad/s", None),
)
OBSERVATION_SIZE = sum(size for _, size, _, _ in OBSERVATION_LAYOUT)  # 48
# The gait task appends the gait command and the feet's clock to the joystick observation.
GAIT_OBSERVATION_LAYOUT = OBSERVATION_LAYOUT + (
    ("gait", gaits.GAIT_SIZE, "frequency Hz, offsets FL/RR/RL (cycles), duty, swing height m, "
     "body height m, pitch rad", None),
    ("clock", 8, "sin then cos of 2 pi x each foot's phase (FR, FL, RR, RL)", None),
)  # fmt: skip
# Critic extras: foot contact (4), foot height above the lowest foot (4), feet air time (4),
# friction, trunk added mass, motor strength, kp scale, kd scale (5).
PRIVILEGED_EXTRA = 17
PRIVILEGED_OBSERVATION_SIZE = OBSERVATION_SIZE + PRIVILEGED_EXTRA


JOYSTICK_REWARDS = (
    "tracking_lin_vel", "tracking_ang_vel", "tracking_stride_vel", "tracking_stride_yaw",
    "lin_vel_z", "ang_vel_xy", "orientation", "base_height", "action_rate", "torque", "energy",
    "feet_air_time", "feet_clearance", "feet_slip", "joint_limit", "pose", "termination",
    "torque_over", "stand_still",
)  # fmt: skip
GAIT_REWARDS = JOYSTICK_REWARDS + (
    "gait_contact", "gait_touchdown", "gait_liftoff", "gait_swing_force", "body_pitch",
)  # fmt: skip


class TaskVariant(NamedTuple):
    """One named task: what the policy observes and which reward terms it is paid."""

    name: str
    observation_layout: tuple[tuple[str, int, str, str | None], ...]
    reward_names: tuple[str, ...]
    # True: the gait vector is a command (observed, sampled from the presets, rewarded);
    # False: the stock trot drives the feet's clock and the posture targets are fixed.
    gait_commanded: bool

    @property
    def observation_size(self) -> int:
        """Actor observation size: 48 (joystick) or 64 (gaits)."""
        return sum(size for _, size, _, _ in self.observation_layout)


JOYSTICK = TaskVariant("joystick", OBSERVATION_LAYOUT, JOYSTICK_REWARDS, gait_commanded=False)
GAITS = TaskVariant("gaits", GAIT_OBSERVATION_LAYOUT, GAIT_REWARDS, gait_commanded=True)
TASKS: dict[str, TaskVariant] = {t.name: t for t in (JOYSTICK, GAITS)}


def variant(task: str | TaskVariant) -> TaskVariant:
    """The task variant named ``task`` (EnvConfig.task), or ``task`` itself."""
    if isinstance(task, TaskVariant):
        return task
    try:
        return TASKS[task]
    except KeyError:
        raise ConfigError(f"unknown task {task!r}; known tasks: {', '.join(TASKS)}") from None


ObservationLayout = tuple[tuple[str, int, str, str | None], ...]


def observation_layout(task_name: str | TaskVariant) -> ObservationLayout:
    """The actor observation layout of a task ("joystick" or "gaits")."""
    return variant(task_name).observation_layout


def observation_size(task_name: str | TaskVariant) -> int:
    """Actor observation size of a task: 48 (joystick) or 64 (gaits)."""
    return variant(task_name).observation_size


class RewardKernel(NamedTuple):
    """The reward terms' kernel parameters (widths and targets), apart from their scales."""

    tracking_sigma: float  # (m/s)^2
    tracking_stride_sigma: float  # (m/s)^2
    base_height_target: float  # m
    swing_height_target: float  # m
    air_time_target: float  # s
    torque_soft_limit: float  # N m
    stand_still_threshold: float  # command norm


def reward_kernel(rewards: RewardScales) -> RewardKernel:
    """The kernel parameters of the reward config (its entries that are not term scales)."""
    return RewardKernel(**{name: getattr(rewards, name) for name in RewardKernel._fields})


def reward_scales(rewards: RewardScales, task_name: str | TaskVariant) -> dict[str, float]:
    """Scale of each reward term of a task, by term name (the kernel parameters left out)."""
    return {name: getattr(rewards, name) for name in variant(task_name).reward_names}


def scaled_rewards(terms: dict[str, Any], scales: dict[str, float], dt: float) -> dict[str, Any]:
    """Each term times its scale and dt: the dict both summed for the reward and logged."""
    return {name: scales[name] * value * dt for name, value in terms.items()}


class Readings(NamedTuple):
    """What the physics gives the task after a control step; leading dim num_envs."""

    base_pos: Any  # (n, 3) m, world
    base_quat: Any  # (n, 4) w, x, y, z
    local_linvel: Any  # (n, 3) m/s
    gyro: Any  # (n, 3) rad/s
    joint_pos: Any  # (n, 12) rad
    joint_vel: Any  # (n, 12) rad/s
    foot_pos: Any  # (n, 4, 3) m, world
    foot_force: Any  # (n, 4) N, touch sensors
    joint_torque: Any  # (n, 12) N m, applied in the last physics step
    power: Any  # (n,) W, mean positive-or-negative mechanical power over the control step


class TaskInfo(NamedTuple):
    """Per-simulation task state carried from step to step."""

    command: Any  # (n, 3)
    last_action: Any  # (n, 12)
    last_last_action: Any  # (n, 12)
    feet_air_time: Any  # (n, 4) s
    last_contact: Any  # (n, 4) bool as float
    feet_landed: Any  # (n, 4) 1.0 once a foot has landed in its current cycle (gait task)
    vel_mean: Any  # (n, 3) trunk-frame vx, vy (m/s) and yaw rate (rad/s) over about one stride
    last_foot_pos: Any  # (n, 4, 3)
    step: Any  # (n,) policy steps into the episode
    friction: Any  # (n,) randomised parameters, for the critic
    added_mass: Any  # (n,)
    strength: Any  # (n,)
    kp_scale: Any  # (n,)
    kd_scale: Any  # (n,)
    gait: Any  # (n, 8) commanded gait (see irondog.envs.gaits.GAIT_FIELDS)
    phase: Any  # (n,) gait clock, cycles in [0, 1)
    lifetime: Any  # (n,) policy steps since the simulation was created (not reset by episodes)

    def replace(self, **changes: Any) -> TaskInfo:
        """A copy with ``changes`` (NamedTuples are JAX pytrees: no flax needed here)."""
        return self._replace(**changes)


def readings_from_physics(
    qpos: Any,
    qvel: Any,
    sensordata: Any,
    joint_torque: Any,
    power: Any,
    ids: RobotIds,
    xp: ModuleType = np,
) -> Readings:
    """Slice the raw MuJoCo arrays, (n, nq), (n, nv), (n, nsensordata), into Readings."""
    s = ids.sensor_slices
    foot_pos = xp.stack([sensordata[:, s[f"{leg}_pos"]] for leg in LEGS], axis=1)
    foot_force = xp.concatenate([sensordata[:, s[f"{leg}_touch"]] for leg in LEGS], axis=1)
    return Readings(
        base_pos=qpos[:, 0:3],
        base_quat=qpos[:, 3:7],
        local_linvel=sensordata[:, s["local_linvel"]],
        gyro=sensordata[:, s["gyro"]],
        joint_pos=qpos[:, 7:],
        joint_vel=qvel[:, 6:],
        foot_pos=foot_pos,
        foot_force=foot_force,
        joint_torque=joint_torque,
        power=power,
    )


def projected_gravity(quat: Any, xp: ModuleType = np) -> Any:
    """Gravity direction (0, 0, -1) expressed in the body frame of ``quat`` (n, 4) -> (n, 3)."""
    w, x, y, z = quat[:, 0], quat[:, 1], quat[:, 2], quat[:, 3]
    # Third row of the rotation matrix R (world <- body), negated: R^T (0, 0, -1).
    gx = -2.0 * (x * z - w * y)
    gy = -2.0 * (y * z + w * x)
    gz = -(1.0 - 2.0 * (x * x + y * y))
    return xp.stack([gx, gy, gz], axis=1)


def foot_contact(readings: Readings) -> Any:
    """(n, 4) True where a foot touches the ground."""
    return readings.foot_force > CONTACT_FORCE


def base_height(readings: Readings, xp: ModuleType = np) -> Any:
    """(n,) trunk height above the lowest foot's ground point, m (terrain-agnostic)."""
    ground = xp.min(readings.foot_pos[:, :, 2], axis=1) - FOOT_RADIUS
    return readings.base_pos[:, 2] - ground


def observation(
    readings: Readings,
    info: TaskInfo,
    default_pose: Any,
    xp: ModuleType = np,
    task_name: str | TaskVariant = "joystick",
) -> Any:
    """The noise-free actor observation (n, 48 or 64), in observation_layout(task) order."""
    parts = [
        readings.local_linvel,
        readings.gyro,
        projected_gravity(readings.base_quat, xp),
        readings.joint_pos - default_pose,
        readings.joint_vel,
        info.last_action,
        info.command,
    ]
    if variant(task_name).gait_commanded:
        phases = gaits.foot_phases(info.phase, info.gait, xp)
        parts += [info.gait.astype(info.command.dtype), gaits.clock_features(phases, xp)]
    return xp.concatenate(parts, axis=1)


def noise_scales(noise: NoiseConfig, task_name: str | TaskVariant = "joystick") -> np.ndarray:
    """Half-width of the uniform noise of each observation entry, (observation_size,)."""
    parts = []
    for _, size, _, field in observation_layout(task_name):
        width = getattr(noise, field) * noise.scale if field else 0.0
        parts.append(np.full(size, width, dtype=np.float32))
    return np.concatenate(parts)


def privileged_observation(
    clean_obs: Any, readings: Readings, info: TaskInfo, xp: ModuleType = np
) -> Any:
    """(n, obs + 17): the clean actor observation plus what only the simulator knows."""
    contact = foot_contact(readings).astype(clean_obs.dtype)
    feet_z = readings.foot_pos[:, :, 2]
    rel_z = feet_z - xp.min(feet_z, axis=1, keepdims=True)
    params = xp.stack(
        [info.friction, info.added_mass, info.strength, info.kp_scale, info.kd_scale], axis=1
    )
    return xp.concatenate(
        [clean_obs, contact, rel_z, info.feet_air_time, params.astype(clean_obs.dtype)], axis=1
    )


def curriculum_scale(lifetime: Any, cfg: CommandConfig, xp: ModuleType = np) -> Any:
    """(n,) fraction of the command ranges in use, growing with each simulation's lifetime."""
    if cfg.curriculum_steps <= 0:
        return xp.ones(lifetime.shape)
    progress = xp.minimum(lifetime / cfg.curriculum_steps, 1.0)
    return cfg.curriculum_start + (1.0 - cfg.curriculum_start) * progress


def sample_commands(
    uniform: Any,
    zero_draw: Any,
    cfg: CommandConfig,
    xp: ModuleType = np,
    scale: Any = None,
    axis_draw: Any = None,
) -> Any:
    """Commands (n, 3) from uniform draws in [0, 1): (n, 3) values and (n,) stand-still draws.

    ``scale`` (n,) shrinks the ranges towards zero (the curriculum); None uses all of them.
    ``axis_draw`` (n, 2), needed when ``cfg.single_axis_probability`` > 0: below that
    probability, the first keeps one axis only, the one the second picks (thirds of [0, 1)).
    """
    lo = xp.asarray([cfg.lin_vel_x[0], cfg.lin_vel_y[0], cfg.yaw_rate[0]])
    hi = xp.asarray([cfg.lin_vel_x[1], cfg.lin_vel_y[1], cfg.yaw_rate[1]])
    command = lo + uniform * (hi - lo)
    if scale is not None:
        command = command * scale[:, None]
    if cfg.single_axis_probability > 0:
        if axis_draw is None:
            raise ValueError("single_axis_probability > 0 needs axis_draw (n, 2)")
        axis = xp.minimum((axis_draw[:, 1] * 3).astype(int), 2)
        keep = axis[:, None] == xp.arange(3)[None, :]
        single = (axis_draw[:, 0] < cfg.single_axis_probability)[:, None]
        command = xp.where(single & ~keep, 0.0, command)
    return xp.where((zero_draw < cfg.zero_probability)[:, None], 0.0, command)


def command_draws(sampler: Any, rows: Any, cfg: CommandConfig) -> dict[str, Any]:
    """The uniform draws ``sample_commands`` reads, from a control.Sampler; the single-axis
    draw is taken only when the preset asks for it, so other presets' random streams (and
    their results for a seed) stay as they were."""
    draws = {"uniform": sampler.random(rows, (3,)), "zero_draw": sampler.random(rows)}
    if cfg.single_axis_probability > 0:
        draws["axis_draw"] = sampler.random(rows, (2,))
    return draws


def parse_command(text: str, ranges: Mapping[str, Any] | None = None) -> np.ndarray:
    """``"vx=0.5,vy=0,yaw=0.2"`` (any subset, any order) -> (3,) [vx, vy, yaw]; ValueError if
    bad. With the policy's trained ``ranges`` (``lin_vel_x``, ``lin_vel_y``, ``yaw_rate``), a
    value outside them is clamped to the nearest bound with a warning, as gait parameters are:
    the robot is driven as near the request as it was trained to go."""
    keys = {"vx": 0, "vy": 1, "yaw": 2}
    command = np.zeros(3)
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in keys:
            raise ValueError(
                f"--command: cannot read {part!r}; write e.g. vx=0.5,vy=0,yaw=0 "
                "(vx, vy in m/s, yaw in rad/s)"
            )
        try:
            command[keys[key]] = float(value)
        except ValueError:
            raise ValueError(f"--command: {key}={value!r} is not a number") from None
        if not math.isfinite(command[keys[key]]):
            raise ValueError(f"--command: {key} must be finite")
    if ranges is not None:
        names = ("lin_vel_x", "lin_vel_y", "yaw_rate")
        for i, (key, name) in enumerate(zip(keys, names, strict=True)):
            lo, hi = ranges[name]
            if not lo <= command[i] <= hi:
                clamped = float(np.clip(command[i], lo, hi))
                warnings.warn(
                    f"--command: {key}={command[i]:g} is outside the policy's trained {name} "
                    f"[{lo:g}, {hi:g}]; clamped to {clamped:g}",
                    stacklevel=2,
                )
                command[i] = clamped
    return command


def joint_targets(action: Any, default_pose: Any, action_scale: float) -> Any:
    """Joint position targets (n, 12) rad from policy actions in [-1, 1]."""
    return default_pose + action_scale * action


def is_fallen(readings: Readings, cfg: EnvConfig, xp: ModuleType = np) -> Any:
    """(n,) True where the trunk tilted past fall_tilt or dropped below fall_height."""
    up_z = -projected_gravity(readings.base_quat, xp)[:, 2]  # cos(tilt)
    return (up_z < np.cos(cfg.fall_tilt)) | (base_height(readings, xp) < cfg.fall_height)


def reward_terms(
    readings: Readings,
    info: TaskInfo,
    action: Any,
    fallen: Any,
    default_pose: Any,
    joint_range: Any,
    cfg: EnvConfig,
    xp: ModuleType = np,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Named reward terms (unscaled) and the TaskInfo state they carry to the next step.

    Returns (terms, feet): ``feet`` holds ``feet_air_time``, ``last_contact`` (float) and
    ``feet_landed``, each (n, 4), and ``vel_mean`` (n, 2), for ``advance_info``.
    """
    kernel = reward_kernel(cfg.rewards)
    dt = cfg.ctrl_dt
    command = info.command
    gait = info.gait
    use_gait = variant(cfg.task).gait_commanded
    frequency = gaits.field(gait, "frequency", keepdims=True)  # (n, 1) Hz
    duty = gaits.field(gait, "duty", keepdims=True)  # (n, 1)
    height_target = gaits.field(gait, "body_height") if use_gait else kernel.base_height_target
    swing_target = (
        gaits.field(gait, "swing_height", keepdims=True) if use_gait else kernel.swing_height_target
    )
    gravity = projected_gravity(readings.base_quat, xp)
    contact = foot_contact(readings)
    moving = xp.linalg.norm(command[:, :2], axis=1) > 0.1
    standing = xp.linalg.norm(command, axis=1) < kernel.stand_still_threshold

    lin_err = xp.sum(xp.square(command[:, :2] - readings.local_linvel[:, :2]), axis=1)
    yaw_err = xp.square(command[:, 2] - readings.gyro[:, 2])
    # Velocity averaged over about one stride: an exponential mean whose time constant is one
    # commanded gait cycle (STRIDE_S without a gait), which passes about a sixth of the surge at
    # the stride frequency. It starts from rest at each episode, as the robot does.
    # The yaw rate is averaged the same way: a steady veer pays, the wobble within a stride not.
    rate = frequency * dt if use_gait else dt / STRIDE_S
    velocity = xp.concatenate([readings.local_linvel[:, :2], readings.gyro[:, 2:3]], axis=1)
    vel_mean = info.vel_mean + xp.minimum(rate, 1.0) * (velocity - info.vel_mean)
    stride_err = xp.sum(xp.square(command[:, :2] - vel_mean[:, :2]), axis=1)
    stride_yaw_err = xp.square(command[:, 2] - vel_mean[:, 2])

    # Feet air time: reward steps that last about air_time_target (legged_gym's form). In the
    # gait task the target is the commanded swing time, (1 - duty) / frequency: a fixed 0.25 s
    # would pay a walk (duty 0.75 at 2 Hz: 0.125 s swings) for breaking its schedule.
    if use_gait:
        air_target = (1.0 - duty) / frequency
    else:
        air_target = kernel.air_time_target
    contact_filt = contact | (info.last_contact > 0.5)
    first_contact = (info.feet_air_time > 0) & contact_filt
    air_time = info.feet_air_time + dt
    air_reward = xp.sum((air_time - air_target) * first_contact, axis=1) * moving
    new_air_time = air_time * (~contact_filt)

    foot_vel_xy = (readings.foot_pos[:, :, :2] - info.last_foot_pos[:, :, :2]) / dt  # (n, 4, 2)
    foot_speed = xp.sqrt(xp.sum(xp.square(foot_vel_xy), axis=2) + 1e-8)  # (n, 4)
    ground = xp.min(readings.foot_pos[:, :, 2], axis=1, keepdims=True)
    clearance = readings.foot_pos[:, :, 2] - ground  # (n, 4) m above the lowest foot
    clearance_err = xp.square(clearance - swing_target) * foot_speed * (~contact)

    mid = 0.5 * (joint_range[:, 0] + joint_range[:, 1])
    half = 0.5 * (joint_range[:, 1] - joint_range[:, 0]) * SOFT_LIMIT
    q = readings.joint_pos
    over = xp.maximum(q - (mid + half), 0.0) + xp.maximum((mid - half) - q, 0.0)

    terms = {
        "tracking_lin_vel": xp.exp(-lin_err / kernel.tracking_sigma),
        "tracking_ang_vel": xp.exp(-yaw_err / kernel.tracking_sigma),
        "tracking_stride_vel": xp.exp(-stride_err / kernel.tracking_stride_sigma),
        "tracking_stride_yaw": xp.exp(-stride_yaw_err / kernel.tracking_stride_sigma),
        "lin_vel_z": xp.square(readings.local_linvel[:, 2]),
        "ang_vel_xy": xp.sum(xp.square(readings.gyro[:, :2]), axis=1),
        "orientation": xp.sum(xp.square(gravity[:, :2]), axis=1),
        "base_height": xp.square(base_height(readings, xp) - height_target),
        "action_rate": xp.sum(xp.square(action - info.last_action), axis=1),
        "torque": xp.sum(xp.square(readings.joint_torque), axis=1),
        "energy": xp.abs(readings.power),
        "feet_air_time": air_reward,
        "feet_clearance": xp.sum(clearance_err, axis=1),
        "feet_slip": xp.sum(xp.square(foot_speed) * contact, axis=1),
        "joint_limit": xp.sum(over, axis=1),
        "pose": xp.sum(xp.square(q - default_pose), axis=1),
        "termination": fallen.astype(q.dtype),
        "torque_over": xp.sum(
            xp.maximum(xp.abs(readings.joint_torque) - kernel.torque_soft_limit, 0.0), axis=1
        ),
        "stand_still": xp.sum(xp.abs(q - default_pose), axis=1) * standing,
    }
    if use_gait:
        phases = gaits.foot_phases(info.phase, info.gait, xp)
        stance = gaits.desired_contact(phases, duty[:, 0])
        match = xp.where(stance, contact, ~contact).astype(q.dtype)
        swing_force = xp.where(stance, 0.0, 1.0 - xp.exp(-xp.square(readings.foot_force) / 400.0))
        pitch = xp.arcsin(xp.clip(gravity[:, 0], -1.0, 1.0))
        # Touchdown timing: each landing scores by how near the foot's own clock reads the
        # start of its stance, +0.5 on time down to -0.5 far off (the kernel crosses zero at
        # 0.083 cycle, inside the 0.1 cycle the stride test allows). The contact match alone
        # pays a pronk whose feet land over three steps almost as well as one landing together.
        late = xp.minimum(phases, 1.0 - phases)  # cycles from the commanded touchdown
        on_time = xp.exp(-xp.square(late / TOUCHDOWN_SIGMA)) - 0.5
        # One paid landing per foot and cycle: a foot's cycle runs from half a cycle before its
        # commanded touchdown to half a cycle after (the stride test's window). Without this a
        # landing that bounced for two control steps was paid twice (101 of the stage-8
        # policy's 796 walk landings, 151 of its 881 bound ones); the schedule has one stance
        # per cycle, so a second landing scores as far off (-0.5).
        new_cycle = ((phases - 0.5) % 1.0) < frequency * dt  # crossed mid-swing
        landed = xp.where(new_cycle, 0.0, info.feet_landed)
        on_time = xp.where(landed > 0.5, -0.5, on_time)
        feet_landed = xp.maximum(landed, first_contact.astype(q.dtype))
        # Liftoff timing, the same kernel around the commanded end of stance (phase = duty),
        # for each foot whose swing starts now (its air time starts counting this step, after
        # the one-step chatter filter, so it left the ground one step ago). The contact match
        # alone let the walk lift at 0.45 cycle where 0.75 is asked, then tap down mid-swing.
        # Not at an episode's first step: last_contact starts at zero, so a foot already in the
        # air would count as lifting off.
        lifted = (info.feet_air_time <= 0.0) & ~contact_filt & (info.step > 0)[:, None]
        lift_phase = (phases - frequency * dt) % 1.0
        off = xp.abs(lift_phase - duty)
        off = xp.minimum(off, 1.0 - off)  # cycles from the commanded liftoff
        lift_on_time = xp.exp(-xp.square(off / TOUCHDOWN_SIGMA)) - 0.5
        terms["gait_contact"] = xp.mean(match, axis=1)
        terms["gait_touchdown"] = xp.sum(on_time * first_contact, axis=1)
        terms["gait_liftoff"] = xp.sum(lift_on_time * lifted, axis=1)
        terms["gait_swing_force"] = xp.sum(swing_force, axis=1)
        terms["body_pitch"] = xp.square(pitch - gaits.field(gait, "pitch"))
    else:
        feet_landed = info.feet_landed
    feet = {
        "feet_air_time": new_air_time,
        "last_contact": contact.astype(q.dtype),
        "feet_landed": feet_landed,
        "vel_mean": vel_mean,
    }
    return terms, feet


def total_reward(
    terms: dict[str, Any],
    scales: RewardScales | dict[str, float],
    dt: float,
    xp: ModuleType = np,
    scaled: bool = False,
) -> Any:
    """Sum of scale * term * dt, floored at zero (keeps early episodes from preferring to
    end). ``scaled``: ``terms`` is already ``scaled_rewards``' dict (``scales`` unused)."""
    if not scaled:
        if isinstance(scales, RewardScales):
            scales = {name: getattr(scales, name) for name in terms}
        terms = scaled_rewards(terms, scales, dt)
    return xp.maximum(sum(terms.values()), 0.0)


def advance_info(
    info: TaskInfo,
    action: Any,
    feet: dict[str, Any],
    readings: Readings,
    command: Any,
    gait: Any,
) -> TaskInfo:
    """TaskInfo one control step later (the gait clock is advanced before the reward);
    ``feet`` is the second value ``reward_terms`` returns."""
    return info.replace(
        **feet,
        command=command,
        gait=gait,
        last_last_action=info.last_action,
        last_action=action,
        last_foot_pos=readings.foot_pos,
        step=info.step + 1,
        lifetime=info.lifetime + 1,
    )


def step_metrics(
    scaled: dict[str, Any],
    readings: Readings,
    info: TaskInfo,
    winding_temp: Any,
    diverged: Any,
    nan_rows: Any,
    xp: ModuleType = np,
) -> dict[str, Any]:
    """Per-simulation metrics of a step: each scaled reward term (``scaled_rewards``' dict,
    the one the reward sums), tracking, motors, faults."""
    metrics = {f"reward/{name}": value for name, value in scaled.items()}
    metrics["tracking_error"] = xp.linalg.norm(
        readings.local_linvel[:, :2] - info.command[:, :2], axis=1
    )
    metrics["winding_temp_max"] = xp.max(winding_temp, axis=1)
    metrics["diverged"] = diverged.astype(np.float32)
    metrics["nan_actions"] = nan_rows.astype(np.float32)
    return metrics


def reward_names(task_name: str | TaskVariant = "joystick") -> tuple[str, ...]:
    """Names of the reward terms, in the order reward_terms returns them."""
    return variant(task_name).reward_names


def advance_phase(info: TaskInfo, dt: float) -> Any:
    """The gait clock one control step later, (n,) cycles in [0, 1)."""
    return (info.phase + gaits.field(info.gait, "frequency") * dt) % 1.0


def sample_gaits(
    draws: Any, cfg: EnvConfig, xp: ModuleType = np, scale: Any = 1.0, presets: Any = None
) -> Any:
    """Gait commands (n, 8) from uniform draws (n, 4) in [0, 1); the trot for the joystick
    task, whose observation does not carry a gait. ``scale`` (curriculum) scales blending;
    ``presets`` (k, 8), the vectors of ``cfg.gaits.presets``, saves looking them up."""
    if not variant(cfg.task).gait_commanded:
        trot = xp.asarray(gaits.preset("trot").vector(), dtype=draws.dtype)
        return xp.broadcast_to(trot, (draws.shape[0], gaits.GAIT_SIZE))
    if presets is None:
        presets = gaits.preset_matrix(cfg.gaits.presets)
    # Blend only while draws[:, 2] < blend_probability * scale (scale <= 1 under a curriculum).
    blend = xp.stack([draws[:, 2] / xp.maximum(scale * xp.ones(draws.shape[0]), 1e-6),
                      draws[:, 3]], axis=1)  # fmt: skip
    out = gaits.sample_gaits(
        draws[:, 0:2], blend, presets, cfg.gaits.blend_probability, xp=xp, weights=cfg.gaits.weights
    )
    return out.astype(draws.dtype)


def initial_info(
    n: int,
    command: Any,
    foot_pos: Any,
    params: dict[str, Any],
    gait: Any,
    nominal_friction: float = 0.8,
    xp: ModuleType = np,
    dtype: Any = np.float32,
) -> TaskInfo:
    """TaskInfo at the start of an episode (gait clock at zero).

    ``params`` is randomize.draw_parameters' record; without friction randomisation the
    critic sees ``nominal_friction``.
    """
    friction = params["friction"]
    if friction is None:
        friction = xp.full((n,), nominal_friction, dtype=dtype)
    zeros_a = xp.zeros((n, NUM_JOINTS), dtype=dtype)
    return TaskInfo(
        command=command,
        last_action=zeros_a,
        last_last_action=zeros_a,
        feet_air_time=xp.zeros((n, 4), dtype=dtype),
        last_contact=xp.zeros((n, 4), dtype=dtype),
        feet_landed=xp.zeros((n, 4), dtype=dtype),
        vel_mean=xp.zeros((n, 3), dtype=dtype),
        last_foot_pos=foot_pos,
        step=xp.zeros((n,), dtype=np.int32),
        friction=friction,
        added_mass=params["added_mass"],
        strength=params["strength"],
        kp_scale=params["kp_scale"],
        kd_scale=params["kd_scale"],
        gait=gait,
        phase=xp.zeros((n,), dtype=dtype),
        lifetime=xp.zeros((n,), dtype=np.int32),
    )


def task_fields() -> tuple[str, ...]:
    """Field names of TaskInfo."""
    return TaskInfo._fields
