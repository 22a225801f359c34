"""The robot's mission as a duty cycle: the trained policies over a stated 30-minute mix.

A motor designed for one trot at 0.5 m/s need not survive what the robot does all day. The
mission strings together segments of the shipped policies, each recorded on the motor under
test (``irondog.motors.policy_duty``) and laid end to end for its share of ``MISSION``:

| segment | policy | command | minutes |
| --- | --- | --- | --- |
| walk 0.5 m/s | joystick_cpu | vx 0.5 | 7 |
| fastest, 1.5 m/s (the top of its range) | joystick_cpu | vx 1.5 | 3 |
| backward 1.0 m/s | joystick_cpu | vx -1.0 | 2 |
| sideways 0.5 m/s | joystick_cpu | vy 0.5 | 2 |
| turning 1.5 rad/s | joystick_cpu | yaw 1.5 | 2 |
| walk 0.5 m/s with a 2 kg payload | joystick_cpu | vx 0.5 | 5 |
| fast 1.0 m/s with a 2 kg payload | joystick_cpu | vx 1.0 | 1 |
| walk, trot, pace, bound, pronk at 0.5 m/s | gaits_cpu | vx 0.5 | 1 each |
| standing | joystick_cpu | 0 | 3 |

Not covered: standing up from lying (no shipped policy does it) and push recovery (the
evaluation runs without pushes); both are left out rather than guessed.

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


MISSION: tuple[Segment, ...] = (
    Segment("walk 0.5 m/s", JOYSTICK, (0.5, 0.0, 0.0), 7.0),
    Segment("fastest 1.5 m/s", JOYSTICK, (1.5, 0.0, 0.0), 3.0),
    Segment("backward 1.0 m/s", JOYSTICK, (-1.0, 0.0, 0.0), 2.0),
    Segment("sideways 0.5 m/s", JOYSTICK, (0.0, 0.5, 0.0), 2.0),
    Segment("turning 1.5 rad/s", JOYSTICK, (0.0, 0.0, 1.5), 2.0),
    Segment("2 kg payload, 0.5 m/s", JOYSTICK, (0.5, 0.0, 0.0), 5.0, payload=2.0),
    Segment("2 kg payload, 1.0 m/s", JOYSTICK, (1.0, 0.0, 0.0), 1.0, payload=2.0),
    *(
        Segment(f"{g} 0.5 m/s", GAITS, (0.5, 0.0, 0.0), 1.0, gait=g)
        for g in ("walk", "trot", "pace", "bound", "pronk")
    ),  # fmt: skip
    Segment("standing", JOYSTICK, (0.0, 0.0, 0.0), 3.0),
)


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
        metrics, trace = pd.policy_rollout(
            seg.checkpoint,
            params,
            episodes=episodes,
            seconds=seconds,
            command=seg.command,
            payload=seg.payload,
            gait=seg.gait,
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
