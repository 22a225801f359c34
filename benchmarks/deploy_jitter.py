"""Deployment loop jitter: CAN at 50 Hz and the CyberDog 2 LCM path at 500 Hz, simulated robot.

    python benchmarks/deploy_jitter.py [--seconds 15] [--policy policy.onnx] [--paths can,lcm]
        [--boards thread,process] [--spin-ms 0,0.3]

Jitter is the wake-up time of each control tick minus its schedule. Measured in one run:
  * reference: a bare ``time.sleep`` loop at 50 Hz doing nothing (what the OS gives);
  * the deployment loop (refresh, 12 feedback replies, observation, ONNX policy, 12 commands)
    against ``SimulatedCanRobot`` (MuJoCo physics in a thread of the same process), with the
    normal scheduler and with SCHED_FIFO priority 50 (``--rt-priority 50``; needs root).
  * the CyberDog 2 loop (``agents/cyberdog2.py``: 500 Hz motor_ctrl frames, the policy every
    10th) against ``SimulatedCyberDog2``, beside bare 500 Hz loops (sleep only, and sleep with
    the same busy-wait tail). The board runs either as a thread of this process over
    ``memq://`` (sharing the interpreter lock with the loop) or as its own process,
    ``irondog sim-robot`` on a private ttl=0 multicast group, as the real board is another
    computer. Each row gives the state-to-command latency both ways: from the newest
    spi_data's arrival, and end to end from the board's stamp on state_estimator; where the
    frame's time goes (frame compute, the ONNX call); and the frames that started later than
    one 2 ms period. The 10-minute soak is ``benchmarks/lcm_soak.py``.
Target: p99 under 2 ms.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _bare(seconds: float, dt: float, priority: int, spin: float = 0.0) -> np.ndarray:
    if priority:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    jitter, start = [], time.perf_counter()
    try:
        for k in range(round(seconds / dt)):
            scheduled = start + k * dt
            delay = scheduled - time.perf_counter()
            if delay > spin:
                time.sleep(delay - spin)
            while time.perf_counter() < scheduled:
                pass
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


def start_board_process(group: str, priority: int) -> tuple[subprocess.Popen, dict[str, str]]:
    """``irondog sim-robot`` in its own process on a private ttl=0 multicast ``group``."""
    from irondog.agents import cyberdog2 as cd

    port = 7800 + os.getpid() % 100 * 2
    board = f"udpm://{group}:{port}?ttl=0"
    state = f"udpm://{group}:{port + 1}?ttl=0"
    command = [sys.executable, "-c", "import sys; from irondog.cli import main; sys.exit(main())",
               "sim-robot", "--lcm-url", board, "--state-lcm-url", state,
               "--rt-priority", str(priority), "--json"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return process, cd.channel_urls(board, state)


def stop_board_process(process: subprocess.Popen) -> dict:
    """Stop ``irondog sim-robot`` (SIGTERM, as Ctrl-C) and return its counts."""
    import json

    process.terminate()
    out, err = process.communicate(timeout=30)
    try:
        return json.loads(out[out.index("{") :])
    except ValueError:
        raise RuntimeError(f"sim-robot gave no report: {err.strip()[-300:]}") from None


def _deploy_lcm(policy_path: Path, seconds: float, priority: int, board: str, spin: float) -> dict:
    from irondog.agents import cyberdog2 as cd
    from irondog.agents.onnx_runner import OnnxPolicy

    policy = OnnxPolicy(policy_path)
    config = cd.LcmDeployConfig(stand_time=1.0, realtime_priority=priority, spin_s=spin,
                                board_timeout=30.0)  # fmt: skip
    # With a priority the simulated board's threads run under SCHED_FIFO too (one below).
    board_priority = max(priority - 1, 0)
    if board == "process":
        process, urls = start_board_process("239.255.76.68", board_priority)
        try:
            loop = cd.LcmDeployLoop(policy, urls, config)
            try:
                report = loop.run(seconds)
            finally:
                loop.close()
        finally:
            report_board = stop_board_process(process)
        report["board"] = report_board
        return report
    urls = cd.channel_urls(f"memq://?bench={priority}-{spin}")
    with cd.SimulatedCyberDog2(urls, realtime_priority=board_priority) as sim:
        loop = cd.LcmDeployLoop(policy, urls, config)
        try:
            report = loop.run(seconds)
        finally:
            loop.close()
    report["board"] = sim.counts
    return report


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _lcm_note(rep: dict) -> str:
    board = rep["board"]
    received = f"spi_data received {rep['spi_data']}"
    if board:  # a board in its own process counts from its start to its stop
        received += f" of {board['published']} sent; board got {board['commands']} commands"
    return (
        f"frames {rep['frames']}, late (> 2 ms) {rep['late_frames']}, {received}; "
        f"spi_data arrival -> motor_ctrl p50/p99 {_ms(rep['latency_ms_p50'])}/"
        f"{_ms(rep['latency_ms_p99'])} ms, board stamp -> motor_ctrl (end to end) "
        f"{_ms(rep['end_to_end_ms_p50'])}/{_ms(rep['end_to_end_ms_p99'])} ms; frame compute "
        f"{_ms(rep['frame_compute_ms_p50'])}/{_ms(rep['frame_compute_ms_p99'])} ms, policy call "
        f"{_ms(rep['policy_ms_p50'])}/{_ms(rep['policy_ms_p99'])} ms; watchdog {rep['watchdog']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--policy", default=None, help="ONNX policy (default: untrained actor)")
    parser.add_argument("--paths", default="can,lcm", help="comma list of can, lcm")
    parser.add_argument("--boards", default="thread,process", help="LCM board: thread, process")
    parser.add_argument("--spin-ms", default="0,0.3", help="LCM busy-wait tails to compare, ms")
    parser.add_argument("--priorities", default="0,50", help="SCHED_FIFO priorities (0: normal)")
    args = parser.parse_args()
    paths = set(args.paths.split(","))
    boards = args.boards.split(",")
    spins = [float(v) * 1e-3 for v in args.spin_ms.split(",")]

    from irondog.agents import export
    from irondog.agents.config import RunConfig

    path = Path(args.policy) if args.policy else Path(tempfile.mkdtemp()) / "policy.onnx"
    if not args.policy:
        export.export_random(RunConfig(), path)
    rows = []
    for priority in (int(v) for v in args.priorities.split(",")):
        scheduler = f"SCHED_FIFO {priority}" if priority else "normal scheduler"
        for spin in spins if "lcm" in paths else ():
            tail = f", busy-wait {spin * 1e3:g} ms" if spin else ""
            try:
                bare = _bare(args.seconds, 0.002, priority, spin)
            except PermissionError as err:
                print(f"lcm {scheduler}: skipped ({err})")
                break
            ref = f"reference: bare 500 Hz sleep loop{tail}, {scheduler}"
            rows.append((ref, np.percentile(bare, 50), np.percentile(bare, 99), bare.max(), ""))
            for board in boards:
                try:
                    rep = _deploy_lcm(path, args.seconds, priority, board, spin)
                except (PermissionError, RuntimeError) as err:
                    print(f"lcm {board} {scheduler}: skipped ({err})")
                    continue
                name = f"CyberDog 2 LCM loop, board in a {board}{tail}, {scheduler}"
                rows.append((name, rep["jitter_ms_p50"], rep["jitter_ms_p99"],
                             rep["jitter_ms_max"], _lcm_note(rep)))  # fmt: skip
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
