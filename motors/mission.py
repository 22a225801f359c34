"""The robot's mission as a duty cycle: the trained policies over a stated 30-minute mix.

A motor designed for one trot at 0.5 m/s need not survive what the robot does all day. The
mission strings together segments of the shipped policies, each recorded on the motor under
test (``irondog.motors.policy_duty``) and laid end to end for its share of ``MISSION``:

| segment | policy | command | minutes |
| --- | --- | --- | --- |
| stand up from lying, 15 times | the deploy ramp (``stand_up_rollout``) | - | 1 |
| walk 0.5 m/s | joystick_cpu | vx 0.5 | 5 |
| fastest, 1.5 m/s (the top of its range) | joystick_cpu | vx 1.5 | 3 |
| backward 1.0 m/s | joystick_cpu | vx -1.0 | 2 |
| sideways 0.5 m/s | joystick_cpu | vy 0.5 | 2 |
| turning 1.5 rad/s | joystick_cpu | yaw 1.5 | 2 |
| push recovery: pushes up to 1.0 m/s every 4.5 s | joystick_cpu | vx 0.5 | 2 |
| walk 0.5 m/s with a 2 kg payload | joystick_cpu | vx 0.5 | 5 |
| fast 1.0 m/s with a 2 kg payload | joystick_cpu | vx 1.0 | 1 |
| walk, trot, pace, bound, pronk at 0.5 m/s | gaits_cpu | vx 0.5 | 1 each |
| standing | joystick_cpu | 0 | 2 |

Standing up: the CyberDog 2 deploy loop's ramp (``irondog.agents.cyberdog2``: measured pose
-> ``TUCK_POSE`` -> default pose, half of ``stand_time`` each, at the policy's Kp and Kd)
driven in native MuJoCo on the motor under test, from the pose the robot lies in after 2 s
with the motors damped; one cycle is lie 2 s, ramp 1 s, hold 1 s. Push recovery: the
environment's push randomisation (``policy_duty.push_only``: a velocity kick of up to
1.0 m/s per horizontal axis every 4.5 s, every other range nominal) in 10-s episodes.

``mission_duty`` returns the 30-minute duty (torque and speed per control step, in the order
above) and each segment's metrics; ``mission_check`` runs it through the environment's
thermal model and compares falls and tracking with the CyberGear's.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from irondog.motors import duty as du
from irondog.motors.cybergear import CyberGearParams

ROOT = Path(__file__).resolve().parent.parent
JOYSTICK = ROOT / "examples" / "joystick_cpu"
GAITS = ROOT / "examples" / "gaits_cpu"


@dataclasses.dataclass(frozen=True)
class Segment:
    """One part of the mission: a policy, its command, and the minutes it runs for."""

    label: str
    checkpoint: Path
    command: tuple[float, float, float]  # vx m/s, vy m/s, yaw rad/s
    minutes: float
    gait: str | None = None  # gait policies: the commanded gait
    payload: float = 0.0  # kg on the trunk
    kind: str = "policy"  # "policy": the checkpoint walks; "stand_up": the deploy ramp
    pushes: tuple[float, float] | None = None  # (interval s, velocity m/s) push randomisation
    seconds: float | None = None  # episode length, s (None: the mission's)


STAND_UPS_PER_MINUTE = 15  # the stand-up cycle is 4 s (lie 2, ramp 1, hold 1)

MISSION: tuple[Segment, ...] = (
    Segment("stand up from lying", JOYSTICK, (0.0, 0.0, 0.0), 1.0, kind="stand_up"),
    Segment("walk 0.5 m/s", JOYSTICK, (0.5, 0.0, 0.0), 5.0),
    Segment("fastest 1.5 m/s", JOYSTICK, (1.5, 0.0, 0.0), 3.0),
    Segment("backward 1.0 m/s", JOYSTICK, (-1.0, 0.0, 0.0), 2.0),
    Segment("sideways 0.5 m/s", JOYSTICK, (0.0, 0.5, 0.0), 2.0),
    Segment("turning 1.5 rad/s", JOYSTICK, (0.0, 0.0, 1.5), 2.0),
    Segment(
        "push recovery 1.0 m/s", JOYSTICK, (0.5, 0.0, 0.0), 2.0, pushes=(4.5, 1.0), seconds=10.0
    ),
    Segment("2 kg payload, 0.5 m/s", JOYSTICK, (0.5, 0.0, 0.0), 5.0, payload=2.0),
    Segment("2 kg payload, 1.0 m/s", JOYSTICK, (1.0, 0.0, 0.0), 1.0, payload=2.0),
    *(
        Segment(f"{g} 0.5 m/s", GAITS, (0.5, 0.0, 0.0), 1.0, gait=g)
        for g in ("walk", "trot", "pace", "bound", "pronk")
    ),  # fmt: skip
    Segment("standing", JOYSTICK, (0.0, 0.0, 0.0), 2.0),
)


def stand_up_rollout(
    params: CyberGearParams | None = None,
    checkpoint: Path = JOYSTICK,
    lie_s: float = 2.0,
    stand_time: float = 1.0,
    hold_s: float = 1.0,
) -> tuple[dict[str, Any], du.Duty]:
    """(metrics, duty) of one stand-up from lying on 12 motors of ``params`` (None: the MJCF's
    CyberGear): from the home pose with the motors damped (kp 0, the deploy loop's damping
    ``damping_kd``) for ``lie_s``, then the deploy ramp through ``TUCK_POSE`` over
    ``stand_time`` at the policy's Kp and Kd, then ``hold_s`` at the default pose.

    Duty samples are taken once per policy step (its ``ctrl_dt``), as for the policy segments.
    Metrics: ``lying`` (the robot lay fallen before the ramp), ``fall_rate`` (1: still fallen
    after the hold), ``tracking_error`` (trunk height below the home pose's after the hold, m),
    ``torque_peak`` (N m, every physics step), ``winding_temp_peak`` (C).
    """
    import mujoco

    from irondog.agents import policy
    from irondog.agents.cyberdog2 import TUCK_POSE, LcmDeployConfig, policy_index
    from irondog.agents.onnx_runner import SimRobot
    from irondog.envs.robot import JOINT_NAMES, load_model

    cfg = policy.select(str(checkpoint), None).env_config
    model = du.apply_motor(params) if params is not None else load_model(None)
    motor = params if params is not None else CyberGearParams()
    damping = LcmDeployConfig().damping_kd
    frame = 0.002  # s, the board's 500 Hz frame: the ramp's target changes once per frame
    model.opt.timestep = du.stable_sim_dt(model, cfg.kp, max(cfg.kd, damping), frame)
    substeps = round(frame / model.opt.timestep)
    per_sample = round(cfg.ctrl_dt / frame)
    robot = SimRobot(model, motor)
    home_height = float(robot.data.qpos[2])
    default = robot.data.qpos[robot.qadr].copy()  # (12,) rad, the home keyframe
    tucked = TUCK_POSE[policy_index(JOINT_NAMES)]  # SDK joint sense = the MJCF's
    torques, vels, peak = [], [], 0.0

    def frames(seconds: float, target_at: Any, kp: float, kd: float) -> None:
        nonlocal peak
        for k in range(round(seconds / frame)):
            target = target_at(k * frame)
            for _ in range(substeps):
                robot.physics_step(target, kp, kd)
                peak = max(peak, float(np.abs(robot.torque).max()))
            if (k + 1) % per_sample == 0:
                torques.append(robot.torque.copy())
                vels.append(robot.data.qvel[robot.dadr].copy())

    frames(lie_s, lambda t: default, 0.0, damping)
    lying = robot.fallen()
    start = robot.data.qpos[robot.qadr].copy()

    def ramp(t: float) -> np.ndarray:  # as LcmDeploy.stand_target, with the tuck
        blend = min(t / stand_time, 1.0)
        if blend < 0.5:
            return start + (tucked - start) * (2.0 * blend)
        return tucked + (default - tucked) * (2.0 * blend - 1.0)

    frames(stand_time, ramp, cfg.kp, cfg.kd)
    frames(hold_s, lambda t: default, cfg.kp, cfg.kd)
    mujoco.mj_forward(model, robot.data)
    fallen = robot.fallen()
    metrics = {
        "lying": bool(lying),
        "fall_rate": float(fallen),
        "tracking_error": max(0.0, home_height - float(robot.data.qpos[2])),
        "torque_peak": peak,
        "winding_temp_peak": float(robot.winding.max()),
    }
    duty = du.Duty(np.asarray(torques), np.asarray(vels), float(cfg.ctrl_dt), source="stand up")
    return metrics, duty


def assemble(duties: list[du.Duty], minutes: list[float]) -> du.Duty:
    """Each duty tiled to its minutes and laid end to end (all at the first one's ``dt``)."""
    if len(duties) != len(minutes) or not duties:
        raise ValueError("mission: need one duty per segment")
    dt = duties[0].dt
    torques, vels = [], []
    for d, m in zip(duties, minutes, strict=True):
        if abs(d.dt - dt) > 1e-9:
            raise ValueError(f"mission: segment dt {d.dt} differs from {dt}")
        n = max(1, round(60.0 * m / dt))
        idx = np.arange(n) % d.joint_torque.shape[0]
        torques.append(d.joint_torque[idx])
        vels.append(d.joint_vel[idx])
    return du.Duty(np.concatenate(torques), np.concatenate(vels), dt, source="mission")


def mission_duty(
    params: CyberGearParams | None = None,
    mission: tuple[Segment, ...] = MISSION,
    episodes: int = 4,
    seconds: float = 6.0,
) -> tuple[du.Duty, list[dict[str, Any]]]:
    """(30-minute duty, per-segment metrics) of the mission on 12 motors of ``params``
    (None: the stock robot, as trained). Each segment: ``episodes`` x ``seconds``, the first
    second dropped."""
    from irondog.motors import policy_duty as pd

    duties, rows = [], []
    for seg in mission:
        if seg.kind == "stand_up":
            metrics, duty = stand_up_rollout(params, seg.checkpoint)
            duties.append(duty)
            rows.append({"segment": seg.label, **metrics})
            continue
        if seg.kind != "policy":
            raise ValueError(f"mission segment {seg.label!r}: kind {seg.kind!r} is unknown")
        metrics, trace = pd.policy_rollout(
            seg.checkpoint,
            params,
            episodes=episodes,
            seconds=seg.seconds if seg.seconds is not None else seconds,
            command=seg.command,
            payload=seg.payload,
            gait=seg.gait,
            pushes=seg.pushes,
        )
        duties.append(pd.duty_from_trace(trace, source=seg.label))
        rows.append({"segment": seg.label, **metrics})
    return assemble(duties, [s.minutes for s in mission]), rows


def mission_check(
    params: CyberGearParams,
    rows: list[dict[str, Any]],
    duty: du.Duty,
    baseline: list[dict[str, Any]] | None = None,
    winding_limit: float = 110.0,
    ambient: float = 25.0,
) -> dict[str, Any]:
    """Thermal over the 30-minute mission (from ``ambient``), falls, and tracking against the
    ``baseline`` rows (the CyberGear's): met when no segment falls, each segment tracks within
    10% (+0.01 m/s) of the baseline, and the hottest winding stays <= ``winding_limit``."""
    trace = du.thermal_mission(duty, params, duty.duration, ambient, step_s=0.2)
    hottest = float(trace.peak_winding.max())
    falls = max(r["fall_rate"] for r in rows)
    out: dict[str, Any] = {
        "hottest_winding_C": hottest,
        "winding_at_end_C": float(trace.winding[-1].max()),
        "worst_fall_rate": falls,
        "thermal_ok": hottest <= winding_limit,
        "falls_ok": falls == 0.0,
    }
    if baseline is not None:
        ratios = [
            r["tracking_error"] / max(b["tracking_error"], 1e-9)
            for r, b in zip(rows, baseline, strict=True)
        ]
        ok = [
            r["tracking_error"] <= 1.1 * b["tracking_error"] + 0.01
            for r, b in zip(rows, baseline, strict=True)
        ]
        out["tracking_ratio_worst"] = float(max(ratios))
        out["tracking_ok"] = all(ok)
    return out
