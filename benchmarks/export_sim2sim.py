"""Sim-to-sim probe of an ONNX policy: the same file under changed physics (play-onnx).

    python benchmarks/export_sim2sim.py [--policy policy.onnx] [--gait trot] [--seconds 10]

Without --policy it uses the hand-written open-loop trot (``irondog export --scripted-trot``),
which is not a trained policy: the table then shows what the probe reports, not a policy's
robustness. The first row (training physics) is the reference for the others.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

PROBES = [
    ("training physics", {}),
    ("friction 0.4", {"friction": 0.4}),
    ("friction 1.0", {"friction": 1.0}),
    ("trunk +1 kg", {"added_mass": 1.0}),
    ("trunk -1 kg", {"added_mass": -1.0}),
    ("implicitfast integrator", {"integrator": "implicitfast"}),
    ("rk4 integrator", {"integrator": "rk4"}),
    ("timestep 0.002 s", {"timestep": 0.002}),
    ("timestep 0.005 s", {"timestep": 0.005}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--policy", default=None)
    parser.add_argument("--gait", default=None, help="gait preset (gait-task policies)")
    parser.add_argument("--command", default="vx=0.5,vy=0,yaw=0")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()

    from irondog.agents import export
    from irondog.agents.onnx_runner import (
        OnnxPolicy,
        PhysicsOptions,
        gait_command,
        parse_command,
        play,
    )

    path = args.policy
    if path is None:
        path = export.scripted_trot(Path(tempfile.mkdtemp()) / "trot.onnx")
    policy = OnnxPolicy(path)
    gait = gait_command(policy.metadata, args.gait)
    scripted = "scripted" in policy.metadata
    command = np.zeros(3) if scripted else parse_command(args.command)
    print(f"policy {Path(path).name}{' (scripted open-loop trot)' if scripted else ''}, "
          f"command {command.tolist()}, {args.seconds} s per row")  # fmt: skip
    print("| physics | falls | displacement m | forward m/s | lin. vel. error m/s | "
          "yaw-rate error rad/s | x real time |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, change in PROBES:
        try:
            r = play(policy, args.seconds, command, PhysicsOptions(**change), gait)
        except ValueError as err:
            print(f"| {name} | skipped: {err} | | | | | |")
            continue
        print(f"| {name} | {r['falls']} | {r['displacement_m']:.2f} | "
              f"{r['forward_velocity_mean']:.3f} | {r['lin_vel_error_mean']:.3f} | "
              f"{r['yaw_rate_error_mean']:.3f} | {r['realtime_factor']:.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
