"""Typed configuration of the CyberDog 2 environments (defaults in code, YAML overrides)."""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

from irondog.config import check
from irondog.envs.gaits import PRESETS, GaitRanges
from irondog.motors.cybergear import CyberGearParams


def _check_range(name: str, bounds: tuple[float, float], lo: float | None = None) -> None:
    check(all(math.isfinite(b) for b in bounds), name, f"bounds must be finite, got {list(bounds)}")
    check(bounds[0] <= bounds[1], name, f"lower bound {bounds[0]} exceeds upper {bounds[1]}")
    if lo is not None:
        check(bounds[0] >= lo, name, f"must be >= {lo}, got {bounds[0]}")


@dataclasses.dataclass(frozen=True)
class CommandConfig:
    """Joystick commands, resampled during episodes."""

    lin_vel_x: tuple[float, float] = (-1.0, 1.5)  # m/s
    lin_vel_y: tuple[float, float] = (-0.8, 0.8)  # m/s
    yaw_rate: tuple[float, float] = (-1.2, 1.2)  # rad/s
    resample_interval: float = 5.0  # s
    zero_probability: float = 0.1  # chance a sampled command is "stand still"
    # Chance a (non-zero) sampled command moves along one axis only: vx, vy or yaw rate, picked
    # uniformly, the other two zero. Independent draws on all three axes rarely give a pure
    # sideways step or a turn in place at the edge of the range; 0 (the default) never does.
    single_axis_probability: float = 0.0
    # Curriculum: command ranges (and gait blending) grow from curriculum_start of their
    # width to all of it over curriculum_steps policy steps of each simulation; 0: no curriculum.
    curriculum_steps: int = 0
    curriculum_start: float = 0.3

    def __post_init__(self) -> None:
        for name in ("lin_vel_x", "lin_vel_y", "yaw_rate"):
            _check_range(name, getattr(self, name))
        check(self.resample_interval > 0, "resample_interval", "must be > 0")
        check(0 <= self.zero_probability <= 1, "zero_probability", "must be in [0, 1]")
        check(
            0 <= self.single_axis_probability <= 1, "single_axis_probability", "must be in [0, 1]"
        )
        check(self.curriculum_steps >= 0, "curriculum_steps", "must be >= 0")
        check(0 <= self.curriculum_start <= 1, "curriculum_start", "must be in [0, 1]")


@dataclasses.dataclass(frozen=True)
class RewardScales:
    """Scale of each named reward term; each term is logged as reward/<name>."""

    tracking_lin_vel: float = 1.0
    tracking_ang_vel: float = 0.5
    # The same kernel on the velocity averaged over about one stride (TaskInfo.vel_mean): a
    # gait that runs 0.1 m/s slow on average pays for it, the surge within a stride does not.
    # Off (0) unless a preset asks for it.
    tracking_stride_vel: float = 0.0
    # The same on the yaw rate averaged over about one stride: a policy that veers steadily
    # when told to go straight pays for it, the yaw wobble within a stride does not. Off (0)
    # unless a preset asks for it.
    tracking_stride_yaw: float = 0.0
    lin_vel_z: float = -0.5
    ang_vel_xy: float = -0.05
    orientation: float = -5.0
    base_height: float = -10.0
    action_rate: float = -0.01
    torque: float = -2e-4
    energy: float = -1e-3
    feet_air_time: float = 0.1
    feet_clearance: float = -0.5
    feet_slip: float = -0.1
    joint_limit: float = -1.0
    pose: float = -0.1
    termination: float = -1.0
    # Torque above torque_soft_limit, summed over the joints (legged_gym's torque-limit term):
    # keeps peaks, not the mean, off the motor's limit. Off (0) unless a preset asks for it.
    torque_over: float = 0.0
    # Joint distance from the home pose (sum of |q - q0|, rad) while the command is zero
    # (MuJoCo Playground's Go1 joystick stand_still term): at a zero command the robot stands
    # instead of marking time and drifting. Off (0) unless a preset asks for it.
    stand_still: float = 0.0
    # Gait task only (task="gaits"): follow the commanded contact schedule and posture.
    gait_contact: float = 1.0  # fraction of feet whose contact matches the schedule
    gait_touchdown: float = 0.0  # landings near the commanded touchdown phase, minus late ones
    gait_liftoff: float = 0.0  # liftoffs near the commanded end of stance, minus early/late ones
    gait_swing_force: float = -0.5  # ground force (normalised) on feet meant to be in swing
    body_pitch: float = -2.0  # squared error to the commanded pitch, rad^2
    tracking_sigma: float = 0.25  # (m/s)^2, width of the tracking kernel
    tracking_stride_sigma: float = 0.05  # (m/s)^2, width of the stride terms' kernels
    base_height_target: float = 0.25  # m
    swing_height_target: float = 0.06  # m (stock controller's step height)
    air_time_target: float = 0.25  # s
    torque_soft_limit: float = 9.0  # N m, where torque_over starts (CyberGear peak 12 N m)
    stand_still_threshold: float = 0.1  # command norm (vx, vy m/s; yaw rad/s) counted as zero

    def __post_init__(self) -> None:
        check(self.torque_soft_limit > 0, "torque_soft_limit", "must be > 0 N m")
        check(self.tracking_sigma > 0, "tracking_sigma", "must be > 0")
        check(self.tracking_stride_sigma > 0, "tracking_stride_sigma", "must be > 0")
        check(self.stand_still_threshold >= 0, "stand_still_threshold", "must be >= 0")


@dataclasses.dataclass(frozen=True)
class NoiseConfig:
    """Uniform observation noise, half-widths in the observation's units."""

    scale: float = 1.0  # 0 turns all noise off
    lin_vel: float = 0.1  # m/s
    gyro: float = 0.2  # rad/s
    gravity: float = 0.05
    joint_pos: float = 0.03  # rad
    joint_vel: float = 1.5  # rad/s

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            check(getattr(self, f.name) >= 0, f.name, "must be >= 0")


@dataclasses.dataclass(frozen=True)
class RandomizationConfig:
    """Domain randomisation, sampled per simulation at every reset."""

    enabled: bool = True
    friction: tuple[float, float] = (0.4, 1.0)  # floor-foot sliding friction
    link_mass_scale: tuple[float, float] = (0.9, 1.1)
    trunk_added_mass: tuple[float, float] = (-1.0, 1.0)  # kg
    trunk_com_offset: float = 0.02  # m, half-width per axis
    motor_strength: tuple[float, float] = (0.9, 1.1)
    kp_scale: tuple[float, float] = (0.9, 1.1)
    kd_scale: tuple[float, float] = (0.9, 1.1)
    joint_friction: tuple[float, float] = (0.0, 0.1)  # N m
    armature_scale: tuple[float, float] = (0.9, 1.1)
    latency_substeps: tuple[int, int] = (0, 1)  # action latency, in physics steps
    push_interval: float = 5.0  # s between pushes; 0 disables
    push_velocity: float = 0.5  # m/s, largest horizontal velocity kick

    def __post_init__(self) -> None:
        _check_range("friction", self.friction, lo=0.0)
        _check_range("link_mass_scale", self.link_mass_scale, lo=0.0)
        _check_range("trunk_added_mass", self.trunk_added_mass)
        _check_range("motor_strength", self.motor_strength, lo=0.0)
        _check_range("kp_scale", self.kp_scale, lo=0.0)
        _check_range("kd_scale", self.kd_scale, lo=0.0)
        _check_range("joint_friction", self.joint_friction, lo=0.0)
        _check_range("armature_scale", self.armature_scale, lo=0.0)
        check(self.latency_substeps[0] >= 0, "latency_substeps", "must be >= 0")
        check(
            self.latency_substeps[0] <= self.latency_substeps[1],
            "latency_substeps",
            "lower bound exceeds upper",
        )
        check(self.trunk_com_offset >= 0, "trunk_com_offset", "must be >= 0")
        check(self.push_interval >= 0, "push_interval", "must be >= 0")
        check(self.push_velocity >= 0, "push_velocity", "must be >= 0")


@dataclasses.dataclass(frozen=True)
class TerrainConfig:
    """Rough ground: a heightfield of curriculum levels (rows) by tiles (columns)."""

    levels: int = 10
    tiles_per_level: int = 8
    tile_size: float = 4.0  # m
    max_roughness: float = 0.08  # m, bump height at the hardest level
    start_level: int = 0
    promote_distance: float = 0.5  # fraction of a tile walked to move up a level

    def __post_init__(self) -> None:
        check(self.levels >= 1, "levels", "must be >= 1")
        check(self.tiles_per_level >= 1, "tiles_per_level", "must be >= 1")
        check(self.tile_size > 0, "tile_size", "must be > 0")
        check(self.max_roughness >= 0, "max_roughness", "must be >= 0")
        check(0 <= self.start_level < self.levels, "start_level", "must be in [0, levels)")
        check(0 < self.promote_distance <= 1, "promote_distance", "must be in (0, 1]")


@dataclasses.dataclass(frozen=True)
class GaitTaskConfig:
    """Gait-conditioned task: which presets are commanded and how they are blended."""

    presets: tuple[str, ...] = ("walk", "trot", "pace", "bound", "pronk")
    blend_probability: float = 0.25  # chance a command blends two presets
    # How often each preset is drawn, relative to the others (empty: all alike); lets training
    # spend more time on the gaits that are hard to learn.
    weights: tuple[float, ...] = ()
    ranges: GaitRanges = dataclasses.field(default_factory=GaitRanges)

    def __post_init__(self) -> None:
        check(len(self.presets) > 0, "presets", "needs at least one gait")
        for name in self.presets:
            check(name in PRESETS, "presets", f"unknown gait {name!r}; known: {', '.join(PRESETS)}")
        check(0 <= self.blend_probability <= 1, "blend_probability", "must be in [0, 1]")
        if self.weights:
            n, k = len(self.presets), len(self.weights)
            check(k == n, "weights", f"needs one weight per preset ({n}), got {k}")
            check(all(w > 0 for w in self.weights), "weights", "must all be > 0")


@dataclasses.dataclass(frozen=True)
class EnvConfig:
    """One CyberDog 2 environment batch: physics back end, task, noise and randomisation."""

    task: Literal["joystick", "gaits"] = "joystick"
    backend: Literal["native", "mjx"] = "native"
    mjx_impl: Literal["jax", "warp"] = "jax"
    num_envs: int = 1024
    num_threads: int = 0  # native back end: 0 uses every core
    terrain: Literal["flat", "rough"] = "flat"
    sim_dt: float = 0.004  # s, physics (and motor law) step
    ctrl_dt: float = 0.02  # s, policy step (50 Hz, the deployment loop rate)
    episode_length: float = 20.0  # s
    kp: float = 30.0  # N m/rad
    kd: float = 0.6  # N m s/rad
    action_scale: float = 0.4  # rad per unit action, about the home pose
    fall_height: float = 0.12  # m, trunk height that ends an episode
    fall_tilt: float = 1.0  # rad, trunk tilt that ends an episode
    ambient_temp: float = 25.0  # C
    initial_winding_temp: float = 40.0  # C, a warmed-up motor
    nan_action: Literal["error", "zero"] = "error"
    command: CommandConfig = dataclasses.field(default_factory=CommandConfig)
    rewards: RewardScales = dataclasses.field(default_factory=RewardScales)
    noise: NoiseConfig = dataclasses.field(default_factory=NoiseConfig)
    randomization: RandomizationConfig = dataclasses.field(default_factory=RandomizationConfig)
    terrain_config: TerrainConfig = dataclasses.field(default_factory=TerrainConfig)
    gaits: GaitTaskConfig = dataclasses.field(default_factory=GaitTaskConfig)
    motor: CyberGearParams = dataclasses.field(default_factory=CyberGearParams)

    def __post_init__(self) -> None:
        check(self.num_envs > 0, "num_envs", f"must be > 0, got {self.num_envs}")
        check(self.num_threads >= 0, "num_threads", f"must be >= 0, got {self.num_threads}")
        check(self.sim_dt > 0, "sim_dt", "must be > 0")
        check(self.ctrl_dt >= self.sim_dt, "ctrl_dt", "must be >= sim_dt")
        ratio = self.ctrl_dt / self.sim_dt
        check(abs(ratio - round(ratio)) < 1e-6, "ctrl_dt", "must be a whole multiple of sim_dt")
        check(self.episode_length > 0, "episode_length", "must be > 0")
        check(self.kp >= 0, "kp", "must be >= 0")
        check(self.kd >= 0, "kd", "must be >= 0")
        check(self.action_scale > 0, "action_scale", "must be > 0")
        check(self.fall_height >= 0, "fall_height", "must be >= 0")

    @property
    def substeps(self) -> int:
        """Physics steps per policy step."""
        return round(self.ctrl_dt / self.sim_dt)

    @property
    def episode_steps(self) -> int:
        """Policy steps per episode."""
        return round(self.episode_length / self.ctrl_dt)
