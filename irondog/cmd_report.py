"""Write a self-contained HTML report of a policy: video, gait and motor plots, metrics.

    irondog report --checkpoint examples/joystick_cpu --out report/
    irondog report --policy zero --out report/ --episodes 4 --seconds 3

report/index.html embeds everything (send the one file); the media are also saved beside it.
Learning curves come from the TensorBoard files in the checkpoint's folder (or --log-dir).
"""

from __future__ import annotations

import argparse


def register(parser: argparse.ArgumentParser) -> None:
    """Add the report sub-command's arguments."""
    from irondog.argtypes import at_least, positive
    from irondog.cmd_eval import add_policy_arguments
    from irondog.progress import add_quiet_argument

    add_policy_arguments(parser)
    parser.add_argument("--out", required=True, help="output folder (index.html and media)")
    parser.add_argument("--episodes", type=at_least(1), default=16, help="parallel eval episodes")
    parser.add_argument("--seconds", type=positive, default=10.0, help="eval episode length, s")
    parser.add_argument("--video-seconds", type=positive, default=5.0, help="video length, s")
    parser.add_argument("--width", type=at_least(16), default=640, help="video pixels")
    parser.add_argument("--height", type=at_least(16), default=480, help="video pixels")
    parser.add_argument("--log-dir", help="TensorBoard logs (default: the checkpoint's folder)")
    add_quiet_argument(parser)


def run(args: argparse.Namespace) -> int:
    """Evaluate, render, plot and write the page."""
    from pathlib import Path

    from irondog.errors import UserError
    from irondog.outputs import check_output_dir

    check_output_dir(args.out, "--out")  # before the imports and anything slow

    from irondog.agents import render, report
    from irondog.cmd_eval import resolve
    from irondog.progress import from_args

    selected, command = resolve(args)
    log_dir = args.log_dir
    if log_dir is None and selected.checkpoint is not None:
        log_dir = selected.checkpoint.parent
    if log_dir is not None and not Path(log_dir).is_dir():
        raise UserError(f"--log-dir {log_dir} is not a folder")
    try:
        result = report.build_report(
            selected.act, selected.env_config, args.out, label=selected.label, log_dir=log_dir,
            episodes=args.episodes, seconds=args.seconds, command=command,
            video_seconds=args.video_seconds, width=args.width, height=args.height,
            seed=args.seed, env_check=selected.env_check, progress=from_args(args),
        )  # fmt: skip
    except (ValueError, render.RenderError) as err:
        raise UserError(str(err)) from None
    print(f"wrote {result.index} (video {result.video.name}, {len(result.images)} plots)")
    return 0
