"""Render a video of a policy offscreen (no display needed): tracking camera, command overlay.

    irondog render --checkpoint examples/joystick_cpu --command vx=1.0,vy=0,yaw=0.5 --out run.mp4
    irondog render --checkpoint examples/joystick_cpu --out grid.gif --grid 4   # 16 robots at once
    irondog render --policy zero --out stand.mp4 --seconds 2
    irondog render --checkpoint runs/gaits_cpu --gait bound --out bound.mp4
    irondog render --checkpoint runs/gaits_cpu --gait trot:4,bound:4,walk:4 --out switch.mp4

Uses MuJoCo's EGL or OSMesa back end (set MUJOCO_GL=egl or osmesa; egl is the default
without a display).
"""

from __future__ import annotations

import argparse


def register(parser: argparse.ArgumentParser) -> None:
    """Add the render sub-command's arguments."""
    from irondog.argtypes import at_least, in_range, positive
    from irondog.cmd_eval import add_gait_argument, add_policy_arguments
    from irondog.progress import add_quiet_argument

    add_policy_arguments(parser)
    add_gait_argument(parser)
    parser.add_argument("--out", required=True, help="output video, .mp4 or .gif")
    parser.add_argument(
        "--seconds", type=positive, default=None, help="video length, s (default 5)"
    )
    parser.add_argument("--width", type=at_least(16), default=640, help="pixels")
    parser.add_argument("--height", type=at_least(16), default=480, help="pixels")
    parser.add_argument(
        "--fps", type=in_range(0, 50, low_open=True), default=25.0, help="frames per second"
    )
    parser.add_argument("--grid", type=at_least(1), default=1, help="N: show N x N robots at once")
    parser.add_argument("--no-overlay", action="store_true", help="no command text")
    parser.add_argument("--antialias", action="store_true", help="smoother edges, ~4x slower")
    add_quiet_argument(parser)


def run(args: argparse.Namespace) -> int:
    """Roll out the policy and write the video."""
    from irondog.errors import UserError

    try:
        from irondog.agents import render
    except RuntimeError as err:  # MuJoCo rejects a bad MUJOCO_GL when it is imported
        raise UserError(f"{err}; set MUJOCO_GL=egl or MUJOCO_GL=osmesa") from None
    from irondog.cmd_eval import resolve, resolve_gait
    from irondog.progress import from_args

    try:
        render.check_gl_setting()
        out = render.check_output_path(args.out)  # before anything slow
    except ValueError as err:
        raise UserError(str(err)) from None
    selected, command = resolve(args)
    schedule, seconds = resolve_gait(args, selected.env_config, 5.0)
    try:
        result = render.render_video(
            selected.act, selected.env_config, out, seconds=seconds, width=args.width,
            height=args.height, fps=args.fps, grid=args.grid, command=command,
            overlay=not args.no_overlay, label=selected.label, seed=args.seed,
            antialias=args.antialias, env_check=selected.env_check, gait_schedule=schedule,
            progress=from_args(args),
        )  # fmt: skip
    except (ValueError, render.RenderError) as err:
        raise UserError(str(err)) from None
    rate = result.frames / result.render_seconds if result.render_seconds > 0 else float("nan")
    print(
        f"wrote {result.path}: {result.frames} frames, {result.width}x{result.height} at "
        f"{result.fps:g} fps; rendering+encoding {rate:.1f} frames/s"
    )
    return 0
