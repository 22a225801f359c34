"""The robot's 30-minute mission (irondog.motors.mission) on the CyberGear and on motor YAMLs.

For each motor: every segment's falls, tracking error, peak torque and mean copper loss of its
hottest joint, and the winding temperature over the mission (environment thermal model, from
25 C, the segments in the stated order), against the targets of issue 23: no falls, tracking
within 10% of the CyberGear's (+0.01 m/s), winding <= 110 C.

Run: python benchmarks/motor_mission.py [MOTOR.yaml ...] [--episodes 4] [--seconds 5]
[--save-duty runs/mission_cybergear.npz] (about 2 minutes a motor on 2 cores); the saved
CyberGear mission duty is what ``benchmarks/motor_mission_optimize.py NPZ OUT.yaml`` designs
against.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from irondog.motors import duty as du
from irondog.motors import mission as mi
from irondog.motors.cybergear import CyberGearParams, copper_loss
from irondog.motors.optimize import load_motor


def segment_heat(duty: du.Duty, params: CyberGearParams) -> list[tuple[float, float]]:
    """(mean copper loss of the hottest joint W at 80 C, winding C at the segment's end)."""
    trace = du.thermal_mission(duty, params, duty.duration, 25.0, step_s=0.2)
    out, start = [], 0
    for seg in mi.MISSION:
        n = max(1, round(60.0 * seg.minutes / duty.dt))
        tau = duty.joint_torque[start : start + n]
        loss = copper_loss(tau, params, 80.0).mean(axis=0)  # (12,) W
        k = min(int(np.searchsorted(trace.time, (start + n) * duty.dt)), len(trace.time) - 1)
        out.append((float(loss.max()), float(trace.winding[k].max())))
        start += n
    return out


def report(name: str, params: CyberGearParams, duty, rows, base_rows) -> None:
    check = mi.mission_check(params, rows, duty, base_rows)
    heat = segment_heat(duty, params)
    print(f"\n{name} ({1e3 * params.mass:.1f} g): {check}")
    print("| segment | minutes | falls | tracking (m/s) | CyberGear (m/s) | peak torque (N m) "
          "| copper loss, worst joint (W) | winding at its end (C) |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for seg, r, b, (loss, temp) in zip(mi.MISSION, rows, base_rows, heat, strict=True):
        print(
            f"| {seg.label} | {seg.minutes:g} | {r['fall_rate']:.0%} | {r['tracking_error']:.3f} "
            f"| {b['tracking_error']:.3f} | {r['torque_peak']:.2f} | {loss:.1f} | {temp:.1f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("motors", nargs="*", help="motor YAMLs")
    parser.add_argument("--episodes", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--save-duty", metavar="NPZ", help="save the CyberGear's mission duty")
    args = parser.parse_args()
    t0 = time.perf_counter()
    opts = {"episodes": args.episodes, "seconds": args.seconds}
    base_duty, base_rows = mi.mission_duty(None, **opts)
    if args.save_duty:
        print(f"wrote {du.save_duty(args.save_duty, base_duty)}")
    report("stock robot (CyberGear)", CyberGearParams(), base_duty, base_rows, base_rows)
    for path in args.motors:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _, params = load_motor(path)
        for w in caught:
            print(f"warning: {w.message}")
        duty, rows = mi.mission_duty(params, **opts)
        report(path, params, duty, rows, base_rows)
    print(f"\nwall clock {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
