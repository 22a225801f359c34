"""Deployment loop jitter at 50 Hz on python-can's virtual bus, with the simulated robot.

    python benchmarks/deploy_jitter.py [--seconds 15] [--policy policy.onnx]

Jitter is the wake-up time of each control tick minus its schedule. Measured in one run:
  * reference: a bare ``time.sleep`` loop at 50 Hz doing nothing (what the OS gives);
  * the deployment loop (refresh, 12 feedback replies, observation, ONNX policy, 12 commands)
    against ``SimulatedCanRobot`` (MuJoCo physics in a thread of the same process), with the
    normal scheduler and with SCHED_FIFO priority 50 (``--rt-priority 50``; needs root).
Target: p99 under 2 ms.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def _bare(seconds: float, dt: float, priority: int) -> np.ndarray:
    if priority:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    jitter, start = [], time.perf_counter()
    try:
        for k in range(round(seconds / dt)):
            scheduled = start + k * dt
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            jitter.append(time.perf_counter() - scheduled)
    finally:
        if priority:
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    return np.abs(np.asarray(jitter[1:])) * 1e3


def _deploy(policy_path: Path, seconds: float, priority: int, channel: str) -> dict:
    import can

    from irondog.agents.deploy import DeployConfig, DeployLoop, SimulatedCanRobot
    from irondog.agents.onnx_runner import OnnxPolicy

    policy = OnnxPolicy(policy_path)
    with SimulatedCanRobot(channel) as sim:
        bus = can.Bus(interface="virtual", channel=channel)
        try:
            loop = DeployLoop(
                policy, bus, sim.imu, DeployConfig(stand_time=1.0, realtime_priority=priority)
            )
            report = loop.run(seconds)
        finally:
            bus.shutdown()
    report["trunk_height_m"] = sim.trunk_height()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--policy", default=None, help="ONNX policy (default: untrained actor)")
    args = parser.parse_args()

    from irondog.agents import export
    from irondog.agents.config import RunConfig

    path = Path(args.policy) if args.policy else Path(tempfile.mkdtemp()) / "policy.onnx"
    if not args.policy:
        export.export_random(RunConfig(), path)
    rows = []
    for priority in (0, 50):
        try:
            bare = _bare(args.seconds, 0.02, priority)
            rep = _deploy(path, args.seconds, priority, f"jitter-{priority}")
        except (PermissionError, RuntimeError) as err:
            print(f"priority {priority}: skipped ({err})")
            continue
        rows.append((f"reference: bare sleep loop, priority {priority}",
                     np.percentile(bare, 50), np.percentile(bare, 99), bare.max(), ""))  # fmt: skip
        note = (
            f"ticks {rep['ticks']}, missed replies {rep['missed_replies']}, tick compute "
            f"p50/p99 {rep['tick_compute_ms_p50']:.2f}/{rep['tick_compute_ms_p99']:.2f} ms, "
            f"watchdog {rep['watchdog']}, trunk {rep['trunk_height_m']:.3f} m"
        )
        name = f"deploy loop + simulated robot, priority {priority}"
        rows.append((name, rep["jitter_ms_p50"], rep["jitter_ms_p99"], rep["jitter_ms_max"], note))
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, {args.seconds} s per row")
    print("| loop | jitter p50 ms | p99 ms | max ms | notes |")
    print("| --- | --- | --- | --- | --- |")
    for name, p50, p99, worst, note in rows:
        print(f"| {name} | {p50:.3f} | {p99:.3f} | {worst:.3f} | {note} |")


if __name__ == "__main__":
    main()
