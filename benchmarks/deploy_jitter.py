"""Deployment loop jitter: CAN at 50 Hz and the CyberDog 2 LCM path at 500 Hz, simulated robot.

    python benchmarks/deploy_jitter.py [--seconds 15] [--policy policy.onnx] [--paths can,lcm]

Jitter is the wake-up time of each control tick minus its schedule. Measured in one run:
  * reference: a bare ``time.sleep`` loop at 50 Hz doing nothing (what the OS gives);
  * the deployment loop (refresh, 12 feedback replies, observation, ONNX policy, 12 commands)
    against ``SimulatedCanRobot`` (MuJoCo physics in a thread of the same process), with the
    normal scheduler and with SCHED_FIFO priority 50 (``--rt-priority 50``; needs root).
  * the CyberDog 2 loop (``agents/cyberdog2.py``: 500 Hz motor_ctrl frames, the policy every
    10th) against ``SimulatedCyberDog2`` over ``memq://`` in the same process, beside a bare
    500 Hz sleep loop; also the latency from the newest spi_data message to the command sent,
    and the frames that started later than one 2 ms period (a soak: ``--seconds 600``).
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


def _deploy_lcm(policy_path: Path, seconds: float, priority: int) -> dict:
    from irondog.agents import cyberdog2 as cd
    from irondog.agents.onnx_runner import OnnxPolicy

    policy = OnnxPolicy(policy_path)
    urls = cd.channel_urls(f"memq://?bench={priority}")
    # With a priority the simulated board's threads run under SCHED_FIFO too (one below).
    with cd.SimulatedCyberDog2(urls, realtime_priority=max(priority - 1, 0)) as sim:
        config = cd.LcmDeployConfig(stand_time=1.0, realtime_priority=priority)
        loop = cd.LcmDeployLoop(policy, urls, config)
        try:
            report = loop.run(seconds)
        finally:
            loop.close()
    report["board"] = sim.counts
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--policy", default=None, help="ONNX policy (default: untrained actor)")
    parser.add_argument("--paths", default="can,lcm", help="comma list of can, lcm")
    args = parser.parse_args()
    paths = set(args.paths.split(","))

    from irondog.agents import export
    from irondog.agents.config import RunConfig

    path = Path(args.policy) if args.policy else Path(tempfile.mkdtemp()) / "policy.onnx"
    if not args.policy:
        export.export_random(RunConfig(), path)
    rows = []
    for priority in (0, 50):
        if "lcm" in paths:
            try:
                bare = _bare(args.seconds, 0.002, priority)
                rep = _deploy_lcm(path, args.seconds, priority)
            except (PermissionError, RuntimeError) as err:
                print(f"lcm priority {priority}: skipped ({err})")
            else:
                ref = f"reference: bare 500 Hz sleep loop, priority {priority}"
                quantiles = np.percentile(bare, 50), np.percentile(bare, 99), bare.max()
                rows.append((ref, *quantiles, ""))
                note = (
                    f"frames {rep['frames']}, late (> 2 ms) {rep['late_frames']}, spi_data "
                    f"received {rep['spi_data']} of {rep['board']['published']} sent, "
                    f"spi_data -> motor_ctrl p50/p99 {rep['latency_ms_p50']:.2f}/"
                    f"{rep['latency_ms_p99']:.2f} ms, watchdog {rep['watchdog']}"
                )
                name = f"CyberDog 2 LCM loop (500 Hz) + simulated board, priority {priority}"
                rows.append((name, rep["jitter_ms_p50"], rep["jitter_ms_p99"],
                             rep["jitter_ms_max"], note))  # fmt: skip
        if "can" not in paths:
            continue
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
