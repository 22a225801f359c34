"""Evaluate a policy: parallel episodes on the native ``mujoco.batch`` back end, then metrics.

    env_cfg = eval_env_config(train_env_cfg, episodes=16, seconds=10.0, command=(0.5, 0, 0))
    env = make_env(env_cfg)
    trace = rollout(env, act, steps=round(10.0 / env_cfg.ctrl_dt), seed=0)
    metrics = compute_metrics(trace, env_cfg, robot_mass(env.model))

Each simulation of the batch runs one episode. The eval episode is made a little longer than
the horizon so that the time limit never ends one: every ``done`` is a fall. After a fall the
simulation autoresets; everything it records from then on is masked out.

Joint torque and speed are sampled once per control step (the torque of the last physics step,
``env.ctrl``); cost of transport is energy / (m g distance) with energy from those samples.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from irondog.agents import gait
from irondog.envs import task
from irondog.envs.config import EnvConfig
from irondog.envs.task import STRIDE_S  # averaging window without a gait command
from irondog.motors import cybergear
from irondog.progress import QUIET, Progress

GRAVITY = 9.81  # m/s^2
DEFAULT_COMMAND = (0.5, 0.0, 0.0)  # vx m/s, vy m/s, yaw rate rad/s
MIN_COT_SPEED = 0.05  # m/s mean speed below which no cost of transport is given


class Trace(NamedTuple):
    """One rollout of a batch, time-major: (T, n, ...) arrays at the control rate."""

    dt: float  # s per row
    command: np.ndarray  # (T, n, 3) vx, vy, yaw rate
    base_pos: np.ndarray  # (T, n, 3) m, world
    base_vel: np.ndarray  # (T, n, 3) m/s world linear velocity
    yaw_rate: np.ndarray  # (T, n) rad/s, trunk frame
    joint_pos: np.ndarray  # (T, n, 12) rad
    joint_vel: np.ndarray  # (T, n, 12) rad/s
    torque: np.ndarray  # (T, n, 12) N m, last physics step of the control step
    winding_temp: np.ndarray  # (T, n, 12) C
    contact: np.ndarray  # (T, n, 4) bool, FR FL RR RL
    tracking_error: np.ndarray  # (T, n) m/s, |v_xy - command_xy| in the trunk frame
    done: np.ndarray  # (T, n) bool, episode ended at this step
    truncated: np.ndarray  # (T, n) bool, ended by the time limit
    gait: np.ndarray | None = None  # (T, n, 8) commanded gait (envs.gaits.GAIT_FIELDS)
    phase: np.ndarray | None = None  # (T, n) gait clock after the step, cycles
    # (T, n, substeps, 4) foot contact at every physics step (native back end), so that
    # touchdowns are timed to the physics step rather than the 20 ms control step.
    substep_contact: np.ndarray | None = None
    heading: np.ndarray | None = None  # (T, n) rad, trunk yaw in the world

    @property
    def valid(self) -> np.ndarray:
        """(T, n) True where the episode is still running after the step (masks autoresets)."""
        ended = np.cumsum(self.done, axis=0) > 0  # ended at or before t
        return ~ended

    @property
    def valid_metrics(self) -> np.ndarray:
        """(T, n) True up to and including the step that ended the episode."""
        ended_before = np.cumsum(self.done, axis=0) - self.done > 0
        return ~ended_before


def parse_command(text: str) -> tuple[float, float, float]:
    """``"vx=0.5,vy=0,yaw=0.2"`` (any subset, any order) -> (vx, vy, yaw); ValueError if bad
    (``irondog.envs.task.parse_command``)."""
    vx, vy, yaw = task.parse_command(text)
    return float(vx), float(vy), float(yaw)


def eval_env_config(
    env_config: EnvConfig,
    episodes: int,
    seconds: float,
    command: tuple[float, float, float] | None = DEFAULT_COMMAND,
    pushes: bool = False,
    num_threads: int | None = None,
    first_gait: str | None = None,
) -> EnvConfig:
    """The training env config turned into an eval batch: one simulation per episode, a fixed
    command (None keeps the training distribution), no pushes unless asked.

    ``first_gait`` (gait task): episodes start in that preset and the env never resamples
    gaits or commands itself; the caller commands gaits (``rollout(gait_at=...)``).
    """
    if episodes < 1:
        raise ValueError(f"--episodes must be >= 1, got {episodes}")
    if seconds <= 0:
        raise ValueError(f"--seconds must be > 0, got {seconds}")
    cfg = dataclasses.replace(
        env_config,
        backend="native",
        num_envs=episodes,
        episode_length=seconds + 2 * env_config.ctrl_dt,  # the time limit never ends one
        nan_action="error",
        # The command curriculum is a training device: at a new simulation's birth it would
        # shrink the evaluated command (0.5 m/s to 0.15 m/s with curriculum_start 0.3).
        command=dataclasses.replace(env_config.command, curriculum_steps=0),
    )
    if num_threads is not None:
        cfg = dataclasses.replace(cfg, num_threads=num_threads)
    if command is not None:
        vx, vy, yaw = command
        cfg = dataclasses.replace(
            cfg,
            command=dataclasses.replace(
                cfg.command,
                lin_vel_x=(vx, vx),
                lin_vel_y=(vy, vy),
                yaw_rate=(yaw, yaw),
                zero_probability=0.0,
                single_axis_probability=0.0,  # a training device: it would zero two axes
            ),
        )
    if not pushes:
        cfg = dataclasses.replace(
            cfg, randomization=dataclasses.replace(cfg.randomization, push_interval=0.0)
        )
    if first_gait is not None:
        from irondog.agents.gait_schedule import check_policy_takes_gaits

        check_policy_takes_gaits(cfg)
        cfg = dataclasses.replace(
            cfg,
            gaits=dataclasses.replace(
                cfg.gaits, presets=(first_gait,), weights=(), blend_probability=0.0
            ),
            command=dataclasses.replace(cfg.command, resample_interval=cfg.episode_length + 1.0),
        )
    return cfg


def make_env(env_config: EnvConfig, model: Any = None) -> Any:
    """The native batch for an (already resolved) env config, on ``model`` if given."""
    from irondog.envs.native import NativeEnv

    return NativeEnv(env_config, model=model)


def with_motor(env_config: EnvConfig, motor_path: str | Path) -> tuple[EnvConfig, Any]:
    """(env config, MjModel) for 12 motors of a motor YAML (``irondog motor optimize``).

    The config's motor law gets the YAML's parameters; the model gets the motors' masses,
    reflected inertia and torque range (``irondog.motors.optimize.motor_model``); the physics
    step shortens where the motors' reflected inertia needs it
    (``irondog.motors.duty.motor_env_config``).
    """
    from irondog.motors.duty import motor_env_config
    from irondog.motors.optimize import motor_model

    if env_config.terrain != "flat":
        raise ValueError(
            f"--motor {motor_path}: only the flat-ground environment can take another motor "
            f"(this policy's terrain is {env_config.terrain!r})"
        )
    model, params = motor_model(motor_path)
    return motor_env_config(dataclasses.replace(env_config, motor=params), model), model


def robot_mass(model: Any) -> float:
    """Total mass of the model's bodies, kg."""
    return float(np.sum(model.body_mass))


def rollout(
    env: Any,
    act: Callable[[np.ndarray], np.ndarray],
    steps: int,
    seed: int = 0,
    on_step: Callable[[int, Any, Any], None] | None = None,
    command_at: Callable[[int], np.ndarray] | None = None,
    gait_at: Callable[[int], np.ndarray] | None = None,
) -> Trace:
    """Run ``steps`` control steps of ``act`` on ``env``; ``on_step(t, state, env)`` after each.

    ``command_at(t)`` (optional) gives the joystick command (3,) to hold at step ``t`` in every
    simulation, for scripted command sequences (a voice command's plan, say). ``gait_at(t)``
    (gait task only) gives the gait (8,), or (n, 8) one per simulation, to command at step
    ``t``; the gait clock runs on continuously across gait changes. Like a new command, a new
    gait enters the reward at once and the observation from that step on.
    """
    from irondog.envs.base import with_command

    n = env.num_envs
    if gait_at is not None:
        from irondog.agents.gait_schedule import check_policy_takes_gaits

        check_policy_takes_gaits(env.cfg, "a gait schedule")
    env.record_substep_contact = True
    state = env.reset(seed)
    rows: dict[str, list[np.ndarray]] = {name: [] for name in Trace._fields if name != "dt"}
    for t in range(steps):
        if command_at is not None or gait_at is not None:
            tinfo = state.info.task
            velocity = np.tile(command_at(t), (n, 1)) if command_at is not None else tinfo.command
            gait_now = None
            if gait_at is not None:
                gait_now = np.broadcast_to(np.asarray(gait_at(t), dtype=np.float64), (n, 8))
            state = with_command(state, velocity, gait_now)
        action = act(state.obs)
        state = env.step(state, action)
        info = state.info
        tinfo = info.task
        qpos = np.array(info.qpos, dtype=np.float64)  # a copy: native views are live
        qvel = np.array(info.qvel, dtype=np.float64)
        rows["command"].append(np.array(tinfo.command, dtype=np.float64))
        rows["base_pos"].append(qpos[:, 0:3])
        rows["base_vel"].append(qvel[:, 0:3])
        rows["yaw_rate"].append(qvel[:, 5])  # free joint: trunk-frame omega
        rows["joint_pos"].append(qpos[:, 7:])
        rows["joint_vel"].append(qvel[:, 6:])
        rows["torque"].append(np.array(info.ctrl, dtype=np.float64))
        rows["winding_temp"].append(np.array(info.winding_temp, dtype=np.float64))
        rows["contact"].append(np.asarray(tinfo.last_contact) > 0.5)
        rows["tracking_error"].append(np.asarray(state.metrics["tracking_error"], np.float64))
        rows["done"].append(np.asarray(state.done) > 0.5)
        rows["truncated"].append(np.asarray(state.truncated) > 0.5)
        rows["gait"].append(np.array(tinfo.gait, dtype=np.float64))
        rows["phase"].append(np.array(tinfo.phase, dtype=np.float64))
        rows["heading"].append(trunk_heading(qpos[:, 3:7]))
        rows["substep_contact"].append(np.array(info.substep_contact))
        if on_step is not None:
            on_step(t, state, env)
    return Trace(dt=env.cfg.ctrl_dt, **{k: np.stack(v) for k, v in rows.items()})


def trunk_heading(quat: np.ndarray) -> np.ndarray:
    """Yaw (rad) of unit quaternions (..., 4) in MuJoCo's (w, x, y, z) order."""
    w, x, y, z = np.moveaxis(quat, -1, 0)
    return np.arctan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def stride_tracking_error(trace: Trace, start: int = 0) -> float:
    """Mean |v_xy - command_xy| (m/s) with both averaged over each stride, trunk heading frame.

    The per-step ``tracking_error`` also counts the speed a gait gains and loses within a
    stride (a bound surges at every landing); averaged over one commanded gait cycle (or
    ``STRIDE_S`` without a gait command) only a wrong mean speed or direction is left. Strides
    run back to back from step ``start``; only those wholly inside a running episode count.
    NaN when none does (or the trace has no heading).
    """
    if trace.heading is None:
        return math.nan
    steps, n = trace.done.shape
    valid = trace.valid_metrics
    c, s = np.cos(trace.heading), np.sin(trace.heading)
    vx, vy = trace.base_vel[:, :, 0], trace.base_vel[:, :, 1]
    local = np.stack([c * vx + s * vy, -s * vx + c * vy], axis=2)  # (T, n, 2)
    errors = []
    for i in range(n):
        t = start
        while t < steps:
            period = STRIDE_S if trace.gait is None else 1.0 / trace.gait[t, i, 0]
            w = max(1, int(round(period / trace.dt)))
            if t + w > steps:
                break
            if valid[t : t + w, i].all():
                miss = local[t : t + w, i].mean(0) - trace.command[t : t + w, i, :2].mean(0)
                errors.append(float(np.linalg.norm(miss)))
            t += w
    return float(np.mean(errors)) if errors else math.nan


def _masked(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Rows of values (T, n, ...) where mask (T, n) holds, flattened over the first two axes."""
    return values[mask]


def _finite_or_none(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def compute_metrics(
    trace: Trace, env_config: EnvConfig, mass: float, warmup: float = 1.0
) -> dict[str, Any]:
    """The evaluation metrics of a rollout (JSON-ready: plain floats, None for undefined)."""
    dt = trace.dt
    steps, n = trace.done.shape
    valid = trace.valid  # env arrays (post-step state) belong to the episode
    valid_m = trace.valid_metrics  # task metrics (computed before the autoreset)
    fell = (trace.done & ~trace.truncated).any(axis=0)  # (n,)

    motor = env_config.motor
    tau, qd = trace.torque, trace.joint_vel  # (T, n, 12)
    mech = np.sum(np.maximum(tau * qd, 0.0), axis=2)  # (T, n) W, positive work only
    loss_j = cybergear.copper_loss(tau, motor, trace.winding_temp)  # (T, n, 12) W
    loss = np.sum(loss_j, axis=2)  # (T, n) W
    elec = np.sum(np.maximum(tau * qd + loss_j, 0.0), axis=2)  # (T, n) W drawn, no regen
    speed = np.linalg.norm(trace.base_vel[:, :, :2], axis=2)  # (T, n) m/s
    distance = float(np.sum(speed * dt * valid))
    weight_distance = mass * GRAVITY * distance

    def cot(power: np.ndarray) -> float | None:
        if distance < MIN_COT_SPEED * dt * float(valid.sum()):
            return None  # (nearly) standing still: cost of transport is meaningless
        return float(np.sum(power * dt * valid) / weight_distance)

    # Gait of each episode that did not fall, after the warm-up.
    start = min(int(round(warmup / dt)), steps // 2)
    summaries: list[gait.GaitSummary] = []
    labels = []
    for i in range(n):
        rows = np.flatnonzero(valid[start:, i]) + start
        if fell[i] or len(rows) < 10:
            labels.append("fell")
            continue
        summary = gait.analyse(trace.contact[rows, i], dt)
        summaries.append(summary)
        labels.append(summary.gait)
    votes = Counter(labels)
    walking = [label for label in labels if label != "fell"]
    dominant = Counter(walking).most_common(1)[0][0] if walking else "fell"
    duty = np.array([s.duty_factor for s in summaries]) if summaries else None  # (k, 4)
    freqs = [s.stride_frequency for s in summaries if s.stride_frequency > 0]

    abs_tau = np.abs(_masked(tau, valid))
    abs_qd = np.abs(_masked(qd, valid))
    yaw_err = np.abs(trace.command[:, :, 2] - trace.yaw_rate)
    first = trace.command[0]  # (n, 3)
    fixed = bool(np.allclose(trace.command, first[0]))  # one command for all, all the time
    return {
        "episodes": n,
        "seconds": steps * dt,
        "command": dict(zip(("vx", "vy", "yaw"), map(float, first[0]), strict=True))
        if fixed
        else "training distribution",
        "fall_rate": float(fell.mean()),
        "tracking_error": float(trace.tracking_error[valid_m].mean()),
        "tracking_error_stride": _finite_or_none(stride_tracking_error(trace, start)),
        "yaw_rate_error": _finite_or_none(
            float(yaw_err[valid].mean()) if valid.any() else math.nan
        ),
        "mean_speed": _finite_or_none(float(speed[valid].mean()) if valid.any() else math.nan),
        "distance_per_episode": distance / n,
        "cost_of_transport_mech": cot(mech),
        "cost_of_transport_elec": cot(elec),
        "copper_loss_mean": _finite_or_none(float(loss[valid].mean()) if valid.any() else math.nan),
        "torque_mean": _finite_or_none(float(abs_tau.mean()) if abs_tau.size else math.nan),
        "torque_peak": _finite_or_none(float(abs_tau.max()) if abs_tau.size else math.nan),
        "joint_speed_mean": _finite_or_none(float(abs_qd.mean()) if abs_qd.size else math.nan),
        "joint_speed_peak": _finite_or_none(float(abs_qd.max()) if abs_qd.size else math.nan),
        "winding_temp_peak": float(_masked(trace.winding_temp, valid_m).max())
        if valid_m.any()
        else None,
        "gait": dominant,
        "gait_votes": dict(sorted(votes.items())),
        "duty_factor": None if duty is None else float(duty.mean()),
        "duty_factor_per_foot": None if duty is None else [float(x) for x in duty.mean(axis=0)],
        "stride_frequency": _finite_or_none(float(np.median(freqs)) if freqs else 0.0),
    }


# Rows of the table: (key, label, unit, format).
TABLE_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("episodes", "episodes", "", "{:d}"),
    ("seconds", "episode length", "s", "{:.1f}"),
    ("fall_rate", "fall rate", "", "{:.0%}"),
    ("tracking_error", "velocity tracking error", "m/s", "{:.3f}"),
    ("tracking_error_stride", "velocity tracking error, stride mean", "m/s", "{:.3f}"),
    ("yaw_rate_error", "yaw-rate error", "rad/s", "{:.3f}"),
    ("mean_speed", "mean speed", "m/s", "{:.3f}"),
    ("cost_of_transport_mech", "cost of transport (mechanical)", "", "{:.2f}"),
    ("cost_of_transport_elec", "cost of transport (with copper loss)", "", "{:.2f}"),
    ("torque_mean", "joint torque mean |tau|", "N m", "{:.2f}"),
    ("torque_peak", "joint torque peak |tau|", "N m", "{:.2f}"),
    ("joint_speed_mean", "joint speed mean |qd|", "rad/s", "{:.2f}"),
    ("joint_speed_peak", "joint speed peak |qd|", "rad/s", "{:.2f}"),
    ("winding_temp_peak", "peak winding temperature", "C", "{:.1f}"),
    ("gait", "gait", "", "{}"),
    ("duty_factor", "duty factor", "", "{:.2f}"),
    ("stride_frequency", "stride frequency", "Hz", "{:.2f}"),
)


def table_rows(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, formatted value with unit) pairs for a table."""
    out = []
    cmd = metrics.get("command")
    if isinstance(cmd, dict):
        out.append(("command", f"vx {cmd['vx']:+.2f} m/s, vy {cmd['vy']:+.2f} m/s, "
                               f"yaw {cmd['yaw']:+.2f} rad/s"))  # fmt: skip
    elif cmd:
        out.append(("command", str(cmd)))
    if metrics.get("gait_command"):
        out.append(("commanded gait", str(metrics["gait_command"])))
    if "domain_randomization" in metrics:
        shown = "on (pushes off)" if metrics["domain_randomization"] else "off (stock robot)"
        out.append(("domain randomisation", shown))
    for key, label, unit, fmt in TABLE_ROWS:
        value = metrics.get(key)
        text = "n/a" if value is None else fmt.format(value)
        out.append((label, f"{text} {unit}".strip()))
    votes = metrics.get("gait_votes")
    if votes:
        out.append(("gait per episode", ", ".join(f"{k} {v}" for k, v in votes.items())))
    if "gait_fidelity" in metrics:
        out.append(("strides matching the schedule",
                    f"{metrics['gait_fidelity']:.0%} of {metrics['gait_strides']}"))  # fmt: skip
        for name, judged in metrics.get("gait_by_command", {}).items():
            labels = ", ".join(f"{k} {v}" for k, v in judged["classified"].items())
            out.append((f"  {name}", f"{judged['fidelity']:.0%} of {judged['strides']} strides; "
                                     f"classified {labels}"))  # fmt: skip
    return out


def format_table(metrics: dict[str, Any]) -> str:
    """A plain-text two-column table of the metrics."""
    rows = table_rows(metrics)
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)


def to_json(metrics: dict[str, Any]) -> str:
    """The metrics as indented JSON (private keys dropped)."""
    public = {k: v for k, v in metrics.items() if not k.startswith("_")}
    return json.dumps(public, indent=2, allow_nan=False)


def evaluate(
    act: Callable[[np.ndarray], np.ndarray],
    env_config: EnvConfig,
    episodes: int = 16,
    seconds: float = 10.0,
    command: tuple[float, float, float] | None = DEFAULT_COMMAND,
    seed: int = 0,
    env_check: Callable[[Any], None] | None = None,
    model: Any = None,
    gait_schedule: Any = None,
    progress: Progress = QUIET,
    pushes: bool = False,
) -> tuple[dict[str, Any], Trace]:
    """Metrics and trace of ``episodes`` parallel episodes of ``act`` (on ``model`` if given:
    see ``with_motor``); a bar on ``progress`` while it runs.

    ``gait_schedule`` (an ``irondog.agents.gait_schedule.GaitSchedule``, gait policies only)
    commands gaits over time; the metrics then also judge each commanded gait
    (``gait_by_command``: strides, fidelity, classifier votes; see ``agents.gait_fidelity``).
    ``pushes``: keep ``env_config``'s push randomisation (off by default).
    """
    first = gait_schedule.names[0] if gait_schedule is not None else None
    cfg = eval_env_config(env_config, episodes, seconds, command, pushes, first_gait=first)
    env = make_env(cfg, model)
    if env_check is not None:
        env_check(env)
    steps = max(1, round(seconds / cfg.ctrl_dt))
    gait_at = gait_schedule.gait_at(cfg.ctrl_dt) if gait_schedule is not None else None
    with progress.bar(f"evaluating {episodes} episodes", steps) as bar:
        trace = rollout(env, act, steps, seed, gait_at=gait_at, on_step=lambda *_: bar.update(1))
    metrics = compute_metrics(trace, cfg, robot_mass(env.model))
    metrics["domain_randomization"] = bool(cfg.randomization.enabled)
    if gait_schedule is not None:
        metrics.update(gait_metrics(trace, gait_schedule))
    return metrics, trace


def with_randomization(env_config: EnvConfig, enabled: bool | None) -> EnvConfig:
    """``env_config`` with domain randomisation switched on or off (None: as it is)."""
    if enabled is None:
        return env_config
    return dataclasses.replace(
        env_config,
        randomization=dataclasses.replace(env_config.randomization, enabled=enabled),
    )


def footfall_timeline(
    trace: Trace,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, float]:
    """Contact (R, n, 4), commanded gait (R, n, 8), valid (R, n) and seconds per row, where
    rows are physics steps when the trace holds them (``substep_contact``) and control steps
    otherwise. The stride test's tolerance is 0.1 cycle, 2 control steps of a 2.5 Hz gait:
    timed to the 20 ms control step, a touchdown's error is known only to +-1 step.
    """
    if trace.substep_contact is None:
        return trace.contact, trace.gait, trace.valid, trace.dt
    steps, n, sub, feet = trace.substep_contact.shape
    contact = trace.substep_contact.transpose(0, 2, 1, 3).reshape(steps * sub, n, feet)
    gait = None if trace.gait is None else np.repeat(trace.gait, sub, axis=0)
    return contact, gait, np.repeat(trace.valid, sub, axis=0), trace.dt / sub


def gait_metrics(trace: Trace, schedule: Any, settle: float = 1.0) -> dict[str, Any]:
    """What a gait schedule adds to the metrics: the command, and per commanded gait the
    strides judged, the fraction matching the schedule and the classifier's votes."""
    from irondog.agents import gait_fidelity

    named = dict(zip(schedule.names, schedule.vectors, strict=True))
    per_gait = gait_fidelity.by_commanded_gait(*footfall_timeline(trace), named, settle)
    strides = sum(int(v["strides"]) for v in per_gait.values())
    return {
        "gait_command": schedule.describe(),
        "gait_fidelity": gait_fidelity.pooled_fidelity(per_gait),
        "gait_strides": strides,
        "gait_by_command": per_gait,
    }
