"""Drive the native MuJoCo CyberDog 2 from an ONNX policy file alone (no JAX) and report.

    irondog export --checkpoint examples/joystick_cpu --out policy.onnx
    irondog play-onnx policy.onnx --command vx=1.0,vy=0,yaw=0.5 --duration 10
    irondog play-onnx policy.onnx --friction 0.4 --added-mass 1.0 --integrator euler

Physics options probe robustness: each changes the model the policy was trained on.
"""

from __future__ import annotations

import argparse


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``irondog play-onnx``."""
    from irondog.argtypes import non_negative, positive

    parser.add_argument("policy", help="policy file written by `irondog export`")
    parser.add_argument("--duration", type=positive, default=10.0, help="simulated seconds")
    parser.add_argument(
        "--command", dest="velocity_command", default="vx=0.5,vy=0,yaw=0",
        help="vx=..,vy=..,yaw=.. (m/s, m/s, rad/s); clamped to the policy's trained ranges",
    )  # fmt: skip
    parser.add_argument(
        "--gait", default=None, help="gait preset for a gait-conditioned policy (default trot)"
    )
    parser.add_argument(
        "--timestep",
        type=positive,
        default=None,
        help="physics step, s (must divide the control dt)",
    )
    parser.add_argument(
        "--integrator", default=None, choices=("euler", "rk4", "implicit", "implicitfast")
    )
    parser.add_argument(
        "--friction", type=non_negative, default=None, help="sliding friction of floor and feet"
    )
    parser.add_argument("--added-mass", type=float, default=0.0, help="kg added to the trunk")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Play the policy; print tracking error and falls."""
    from pathlib import Path

    from irondog.errors import UserError

    if not Path(args.policy).is_file():  # before importing MuJoCo and onnxruntime
        raise UserError(f"policy file {args.policy} does not exist")
    from irondog.agents.onnx_runner import (
        OnnxPolicy,
        PhysicsOptions,
        gait_command,
        parse_command,
        play,
    )
    from irondog.cli import print_report

    if not args.duration > 0:
        raise UserError(f"--duration must be > 0, got {args.duration}")
    try:
        policy = OnnxPolicy(args.policy)
        command = parse_command(args.velocity_command, policy.metadata["command_ranges"])
        options = PhysicsOptions(args.timestep, args.integrator, args.friction, args.added_mass)
        gait = gait_command(policy.metadata, args.gait)
        report = play(policy, args.duration, command, options, gait)
    except ValueError as err:
        raise UserError(str(err)) from None
    print_report(report, args.json)
    return 0
