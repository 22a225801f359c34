"""Run a simulated robot that answers as the real one does, for `irondog deploy` on one machine.

    irondog sim-robot --robot cyberdog2
    irondog sim-robot --robot cyberdog2 --lcm-url "udpm://239.255.76.67:7667?ttl=0" --duration 30

The CyberDog 2 is its MJCF in native MuJoCo behind a simulated motion board: it publishes
spi_data, state_estimator and motor_ctrl_state at 500 Hz and applies motor_ctrl through the
CyberGear law, with the board's link timeouts and jump clamps. ttl=0 keeps the multicast on
this machine. Ctrl-C stops it and prints its counts.
"""

from __future__ import annotations

import argparse
import time


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``irondog sim-robot``."""
    from irondog.argtypes import in_range, positive

    parser.add_argument("--robot", choices=("cyberdog2",), default="cyberdog2", help="robot")
    parser.add_argument(
        "--lcm-url",
        default="udpm://239.255.76.67:7667?ttl=0",
        help="LCM URL (default the SDK's multicast group, ttl=0: this machine only)",
    )
    parser.add_argument(
        "--state-lcm-url",
        default=None,
        help="LCM URL of state_estimator (default: port 7669 of --lcm-url's group)",
    )
    parser.add_argument(
        "--duration", type=positive, default=None, help="seconds to run; default until Ctrl-C"
    )
    parser.add_argument(
        "--rt-priority",
        type=in_range(0, 99, integer=True),
        default=0,
        help="SCHED_FIFO priority 1-99 for the board's threads (needs root); 0 = off",
    )
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")


def run(args: argparse.Namespace) -> int:
    """Serve until --duration or Ctrl-C; print the board's counts."""
    from irondog.agents import cyberdog2 as cd
    from irondog.cli import print_report, stop_on_signals
    from irondog.errors import UserError

    urls = cd.channel_urls(args.lcm_url, args.state_lcm_url)
    try:
        sim = cd.SimulatedCyberDog2(urls, realtime_priority=args.rt_priority)
    except cd.LcmError as err:
        raise UserError(str(err)) from None
    stop_on_signals()
    print(f"sim-robot: {args.robot} on {args.lcm_url} (Ctrl-C stops)", flush=True)
    start = sim.trunk_position()
    sim.start()
    began = time.perf_counter()
    try:
        while args.duration is None or time.perf_counter() - began < args.duration:
            time.sleep(0.05)
    except KeyboardInterrupt:
        pass
    finally:
        sim.close()
    moved = sim.trunk_position() - start
    report = {**sim.counts, "err_flag": hex(sim.err_flag),
              "trunk_moved_xy_m": [round(float(v), 3) for v in moved[:2]]}  # fmt: skip
    print_report(report, args.json)
    return 0
