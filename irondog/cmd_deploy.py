"""Run an ONNX policy on 12 CyberGear motors over CAN, or on a CyberDog 2 over LCM (50 Hz).

    irondog deploy policy.onnx --can-interface socketcan --channel can0 --imu none
    irondog deploy policy.onnx --can-interface virtual --channel sim0 --simulate --duration 10
    irondog deploy policy.onnx --robot cyberdog2 --command vx=0.5 --duration 10
    irondog deploy policy.onnx --robot cyberdog2 --lcm-url "udpm://239.255.76.67:7667?ttl=0"

``--robot cyberdog2`` talks to the robot's motion board through its motor SDK's LCM messages
(``irondog sim-robot --robot cyberdog2`` answers the same way on one machine).

``--simulate`` starts the MuJoCo CyberDog 2 on the same (virtual) bus in this process, answering
as the 12 motors, and feeds the loop its simulated IMU. Ctrl-C stops the motors.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``irondog deploy``."""
    from irondog.argtypes import at_least, in_range, non_negative, positive

    parser.add_argument("policy", help="policy file written by `irondog export`")
    parser.add_argument(
        "--can-interface",
        default="socketcan",
        help="python-can interface: socketcan, virtual, pcan, slcan, ...",
    )
    parser.add_argument("--channel", default=None, help="CAN channel, e.g. can0 or any name")
    parser.add_argument(
        "--robot",
        choices=("cyberdog2",),
        default=None,
        help="cyberdog2: the real robot's motion board over LCM (no CAN options)",
    )
    parser.add_argument(
        "--lcm-url", default=None, help="LCM URL of the board (default the SDK's 7667 multicast)"
    )
    parser.add_argument(
        "--state-lcm-url",
        default=None,
        help="LCM URL of state_estimator (default port 7669, or --lcm-url if given)",
    )
    parser.add_argument(
        "--bitrate", type=at_least(1), default=1_000_000, help="bit/s (CyberGear: 1 Mbps)"
    )
    parser.add_argument(
        "--duration", type=positive, default=None, help="seconds to run; default until Ctrl-C"
    )
    parser.add_argument(
        "--simulate",
        action="store_true",
        help="answer as the robot with the MuJoCo model on the same bus",
    )
    parser.add_argument(
        "--imu",
        choices=("sim", "none"),
        default=None,
        help="IMU source: sim (with --simulate, default) or none (upright, at "
        "rest: motor bench tests only, the policy cannot balance on it)",
    )
    parser.add_argument(
        "--command", dest="velocity_command", default="vx=0,vy=0,yaw=0", help="vx=..,vy=..,yaw=.."
    )
    parser.add_argument(
        "--gait", default=None, help="gait preset for a gait-conditioned policy (default trot)"
    )
    parser.add_argument(
        "--motor-ids",
        default="1,2,3,4,5,6,7,8,9,10,11,12",
        help="CAN ids in the policy's joint order",
    )
    parser.add_argument(
        "--host-id", type=in_range(0, 255, integer=True), default=0xFD, help="our CAN id (0-255)"
    )
    parser.add_argument(
        "--stand-time",
        type=non_negative,
        default=1.0,
        help="s to ramp to the default pose before the policy takes over",
    )
    parser.add_argument(
        "--rt-priority",
        type=in_range(0, 99, integer=True),
        default=0,
        help="SCHED_FIFO priority 1-99 for the loop (needs root); 0 = off",
    )
    parser.add_argument(
        "--feedback-timeout",
        type=float,
        default=0.05,
        help="s without spi_data/state_estimator before damping (--robot cyberdog2)",
    )
    parser.add_argument(
        "--interpolate",
        action="store_true",
        help="move the 500 Hz targets linearly between policy steps instead of holding them "
        "(--robot cyberdog2)",
    )
    parser.add_argument(
        "--spin-ms",
        type=in_range(0, 2, integer=False),
        default=0.0,
        help="busy-wait this long before each 2 ms frame instead of sleeping (--robot "
        "cyberdog2; benchmarks/RESULTS.md says when it helps)",
    )
    steer = parser.add_mutually_exclusive_group()
    steer.add_argument(
        "--keyboard", action="store_true", help="steer with the arrow keys (--robot cyberdog2)"
    )
    steer.add_argument(
        "--voice",
        metavar="WAV",
        default=None,
        help="a spoken command (wav/flac) whose timed joystick plan steers (--robot cyberdog2)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")  # fmt: skip


def bus_error_message(err: BaseException, interface: str, channel: str, bitrate: int) -> str:
    """One line saying why the CAN bus ``interface``/``channel`` did not open, and the fix."""
    import errno

    code = getattr(err, "errno", None)
    where = f"CAN {interface} channel {channel}"
    if code == errno.EAFNOSUPPORT:
        return (
            f"{where}: this kernel has no SocketCAN (OSError: [Errno 97]); load it with "
            "`sudo modprobe can can_raw`, or try without hardware: --can-interface virtual "
            "--simulate"
        )
    if code == errno.ENODEV:
        return (
            f"{where}: no such device; plug in the adapter and check `ip link show {channel}` "
            "(a test bus: `sudo modprobe vcan && sudo ip link add dev "
            f"{channel} type vcan && sudo ip link set {channel} up`)"
        )
    if code == errno.ENETDOWN:
        return (
            f"{where}: the interface is down; bring it up with `sudo ip link set {channel} up "
            f"type can bitrate {bitrate}`"
        )
    if code in (errno.EPERM, errno.EACCES):
        return (
            f"{where}: permission denied; run as root or as a user allowed to open the "
            "device (for serial adapters the dialout group)"
        )
    detail = str(err).strip() or type(err).__name__
    return f"{where}: cannot open the bus ({detail}); check --can-interface and --channel"


def open_bus(interface: str, channel: str, bitrate: int) -> Any:
    """``can.Bus`` on ``interface``/``channel``; UserError in one line (with the fix) if the
    device is missing, down or not ours to open."""
    import can

    from irondog.errors import UserError

    try:
        return can.Bus(interface=interface, channel=channel, bitrate=bitrate)
    except (OSError, can.CanError, ImportError) as err:
        raise UserError(bus_error_message(err, interface, channel, bitrate)) from None


def _policy_and_command(args: argparse.Namespace) -> tuple[Any, tuple, tuple | None]:
    """The policy file, the --command clamped to its ranges and the --gait vector (or None).

    ValueError on a file, command or gait the policy cannot take; both transports use it.
    """
    from irondog.agents.onnx_runner import OnnxPolicy, gait_command, parse_command

    policy = OnnxPolicy(args.policy)
    command = parse_command(args.velocity_command, policy.metadata["command_ranges"])
    gait = gait_command(policy.metadata, args.gait)
    return policy, tuple(command), None if gait is None else tuple(gait)


def run(args: argparse.Namespace) -> int:
    """Run the loop; print counts, watchdog state and jitter."""
    from pathlib import Path

    from irondog.cli import print_report, stop_on_signals
    from irondog.errors import UserError

    if not Path(args.policy).is_file():  # before importing MuJoCo, onnxruntime, python-can
        raise UserError(f"policy file {args.policy} does not exist")
    if args.robot == "cyberdog2":
        return _run_lcm(args)
    if args.keyboard or args.voice or args.interpolate or args.spin_ms:
        raise UserError(
            "--keyboard, --voice, --interpolate and --spin-ms are --robot cyberdog2 options"
        )
    if args.channel is None:
        raise UserError("--channel is required for CAN (or pass --robot cyberdog2 for LCM)")
    try:
        motor_ids = tuple(int(v) for v in args.motor_ids.split(","))
    except ValueError:
        raise UserError(f"--motor-ids {args.motor_ids!r}: expected integers like 1,2,...") from None
    imu_kind = args.imu or ("sim" if args.simulate else None)
    if imu_kind == "sim" and not args.simulate:
        raise UserError("--imu sim needs --simulate")
    if imu_kind is None:
        raise UserError("no IMU source: pass --imu none for a motor bench test (not for walking)")

    import can

    from irondog.agents.deploy import DeployConfig, DeployLoop, SimulatedCanRobot, still_imu

    try:
        policy, command, gait = _policy_and_command(args)
        config = DeployConfig(
            motor_ids=motor_ids, host_id=args.host_id, command=command, gait=gait,
            stand_time=args.stand_time, realtime_priority=args.rt_priority,
        )  # fmt: skip
    except ValueError as err:
        raise UserError(str(err)) from None

    stop_on_signals()
    sim = None
    if args.simulate:
        try:
            sim = SimulatedCanRobot(
                args.channel, motor_ids, args.host_id, interface=args.can_interface
            )
        except (OSError, can.CanError, ImportError) as err:
            raise UserError(
                bus_error_message(err, args.can_interface, args.channel, args.bitrate)
            ) from None
        sim.start()
    try:
        bus = open_bus(args.can_interface, args.channel, args.bitrate)
    except UserError:
        if sim is not None:
            sim.close()
        raise
    try:
        imu = sim.imu if imu_kind == "sim" else still_imu
        loop = DeployLoop(policy, bus, imu, config)
        start = sim.trunk_position() if sim is not None else None
        try:
            report = loop.run(args.duration)
        except RuntimeError as err:
            raise UserError(str(err)) from None
        if sim is not None:
            report["trunk_height_m"] = sim.trunk_height()
            moved = sim.trunk_position() - start
            report["trunk_moved_xy_m"] = [round(float(v), 3) for v in moved[:2]]
    finally:
        bus.shutdown()
        if sim is not None:
            sim.close()
    print_report(report, args.json)
    return 0 if report["watchdog"] is None else 1


def _run_lcm(args: argparse.Namespace) -> int:
    """The CyberDog 2 over its motor SDK's LCM messages."""
    from irondog.agents import cyberdog2 as cd
    from irondog.cli import print_report, stop_on_signals
    from irondog.errors import UserError

    if args.simulate or args.imu is not None:
        raise UserError("--simulate and --imu are CAN options; run `irondog sim-robot` instead")
    try:
        policy, command, gait = _policy_and_command(args)
        config = cd.LcmDeployConfig(
            command=command, gait=gait,
            stand_time=args.stand_time, realtime_priority=args.rt_priority,
            feedback_timeout=args.feedback_timeout, interpolate=args.interpolate,
            spin_s=args.spin_ms * 1e-3,
        )  # fmt: skip
        cd.check_policy(policy.metadata)
    except ValueError as err:
        raise UserError(f"{args.policy}: {err}") from None
    ranges = policy.metadata["command_ranges"]
    steer = plan = None
    if args.voice is not None:
        from irondog.voice.pipeline import VoicePipeline

        try:
            heard = VoicePipeline().understand_file(args.voice)
        except (ValueError, OSError) as err:
            raise UserError(f"--voice {args.voice}: {err}") from None
        if not heard.accepted:
            raise UserError(f"--voice {args.voice}: {heard.reason} ({heard.transcript!r})")
        print(f"deploy: heard {heard.text!r}", flush=True)
        steer = plan = cd.PlanFollower(heard.segments, ranges)
    keys = None
    if args.keyboard:
        try:
            keys = steer = cd.TerminalKeys(ranges)
        except ValueError as err:
            raise UserError(str(err)) from None
    stop_on_signals()
    urls = cd.channel_urls(args.lcm_url or cd.BOARD_URL, args.state_lcm_url)
    try:
        loop = cd.LcmDeployLoop(policy, urls, config, command=steer)
    except cd.LcmError as err:
        raise UserError(str(err)) from None
    try:
        report = loop.run(args.duration)
    except (cd.LcmError, RuntimeError) as err:
        raise UserError(str(err)) from None
    finally:
        loop.close()
        if keys is not None:
            keys.restore()
    if plan is not None:
        report["plan"] = plan.done
    print_report(report, args.json)
    return 0 if report["watchdog"] is None else 1
