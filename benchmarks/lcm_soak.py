"""Soak the CyberDog 2 LCM path: the deploy loop against the simulated board for minutes.

    python benchmarks/lcm_soak.py [--minutes 10] [--board process|thread] [--rt-priority 50]
        [--spin-ms 0.3] [--policy policy.onnx] [--json benchmarks/results/lcm_soak.json]

The shipped joystick policy (``examples/joystick_cpu``, exported) walks a repeating plan of
commands (forward, turn, sideways, back, stand) for the whole run. Every minute, and in
sum, it counts the frames that were dropped or late:

- ``late_frames``: 2 ms frames that started more than one frame late;
- ``spi_lost``: ``spi_data`` the board published that the loop never received (a board in
  its own process gives its counts in its final report);
- ``commands_lost``: ``motor_ctrl`` the loop sent that the board never received;
- ``board_decay_ticks``: board frames that saw no command for > 10 ms (err_flag bit 0), the
  drop a real board would act on (its gains decay);
- ``bad_messages``, watchdog trips, and whether the robot was down at each minute mark.

In the per-minute rows ``board_decay_flags`` is the running total; the other counts are
that minute's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PERIOD_S = float(os.environ.get("LCM_SOAK_PERIOD_S", 60.0))  # s between progress rows
PLAN = [  # (seconds, vx, vy, yaw): one 20 s lap, repeated
    (5.0, 0.5, 0.0, 0.0),
    (3.0, 0.0, 0.0, 0.8),
    (3.0, 0.0, 0.3, 0.0),
    (4.0, -0.3, 0.0, 0.0),
    (3.0, 0.8, 0.0, -0.5),
    (2.0, 0.0, 0.0, 0.0),
]


def lap_command(t: float) -> np.ndarray:
    """The plan's command ``t`` s in, lap after lap."""
    lap = sum(p[0] for p in PLAN)
    t = t % lap
    for seconds, vx, vy, yaw in PLAN:
        if t < seconds:
            return np.array([vx, vy, yaw])
        t -= seconds
    return np.zeros(3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--board", choices=("process", "thread"), default="process")
    parser.add_argument("--rt-priority", type=int, default=0)
    parser.add_argument("--spin-ms", type=float, default=0.0)
    parser.add_argument(
        "--feedback-timeout", type=float, default=0.05, help="s without spi_data: the watchdog"
    )
    parser.add_argument("--policy", default=None, help="ONNX policy (default: joystick_cpu)")
    parser.add_argument("--json", default=None, help="write the summary here")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from deploy_jitter import start_board_process, stop_board_process

    from irondog.agents import cyberdog2 as cd
    from irondog.agents import export
    from irondog.agents.onnx_runner import OnnxPolicy

    if args.policy is None:
        path = Path(tempfile.mkdtemp()) / "joystick.onnx"
        export.export_checkpoint(ROOT / "examples/joystick_cpu", path)
    else:
        path = Path(args.policy)
    policy = OnnxPolicy(path)
    config = cd.LcmDeployConfig(
        stand_time=1.0, realtime_priority=args.rt_priority, spin_s=args.spin_ms * 1e-3,
        board_timeout=30.0, feedback_timeout=args.feedback_timeout,
    )  # fmt: skip
    board_priority = max(args.rt_priority - 1, 0)
    process = sim = None
    if args.board == "process":
        process, urls = start_board_process("239.255.76.69", board_priority)
    else:
        urls = cd.channel_urls(f"memq://?soak={os.getpid()}")
        sim = cd.SimulatedCyberDog2(urls, realtime_priority=board_priority).start()
    loop = cd.LcmDeployLoop(policy, urls, config, command=lap_command)
    minutes: list[dict] = []
    began = time.perf_counter()
    last = {"frames": 0, "late_frames": 0, "spi_data": 0, "sent": 0, "jitter": 0}

    def every_minute(k: int) -> None:
        if (k + 1) % round(PERIOD_S * cd.BOARD_RATE):
            return
        c = loop.counts
        jitter = np.abs(np.asarray(loop.jitter[last["jitter"] :])) * 1e3
        row = {
            "until_s": round((len(minutes) + 1) * PERIOD_S),
            "frames": c["frames"] - last["frames"],
            "late_frames": c["late_frames"] - last["late_frames"],
            "spi_data": c["spi_data"] - last["spi_data"],
            "jitter_ms_p99": round(float(np.percentile(jitter, 99)), 3),
            "jitter_ms_max": round(float(jitter.max()), 3),
            "board_decay_flags": c["board_decay_flags"],
            "load": round(os.getloadavg()[0], 2),
        }
        if sim is not None:
            row["down"] = bool(sim.robot.fallen())
        last.update(frames=c["frames"], late_frames=c["late_frames"], spi_data=c["spi_data"],
                    jitter=len(loop.jitter))  # fmt: skip
        minutes.append(row)
        print(json.dumps(row), flush=True)

    try:
        report = loop.run(args.minutes * 60.0, on_frame=every_minute)
    finally:
        loop.close()
        board: dict = {}
        if sim is not None:
            sim.close()
            board = dict(sim.counts)
        if process is not None:
            board = stop_board_process(process)
    summary = {
        "minutes": args.minutes,
        "board": args.board,
        "rt_priority": args.rt_priority,
        "spin_ms": args.spin_ms,
        "feedback_timeout_s": args.feedback_timeout,
        "wall_s": round(time.perf_counter() - began, 1),
        "cpus": os.cpu_count(),
        "load_at_end": os.getloadavg(),
        "frames": report["frames"],
        "late_frames": report["late_frames"],
        "commands_sent": report["sent"],
        "spi_data_received": report["spi_data"],
        "bad_messages": report["bad_messages"],
        "watchdog": report["watchdog"],
        "board_decay_flags_seen": report["board_decay_flags"],
        "jitter_ms_p50": report["jitter_ms_p50"],
        "jitter_ms_p99": report["jitter_ms_p99"],
        "jitter_ms_max": report["jitter_ms_max"],
        "end_to_end_ms_p99": report["end_to_end_ms_p99"],
        "per_minute": minutes,
    }
    if board:
        summary["spi_lost"] = board["published"] - report["spi_data"]
        summary["commands_lost"] = report["sent"] - board["commands"]
        summary["board_decay_ticks"] = board["link_decay_ticks"]
        summary["board_lost_ticks"] = board["link_lost_ticks"]
    print(json.dumps(summary, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
