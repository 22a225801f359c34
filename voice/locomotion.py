"""Voice to locomotion: an understood command's joystick plan as the rollout schedule a
trained policy follows (speeds, gaits), and what in it the policy was never trained to do.

The CLI (``irondog voice --render``) is a thin caller of ``render_plan``.
"""

from __future__ import annotations

import sys
from typing import Any

SEGMENT_CAP_S = 10.0  # s: an open-ended or long piece of the plan is shown for at most this


def schedule_of(segments, default_gait: str) -> tuple[list[tuple], list[tuple[str, float]]]:
    """The (seconds, vx, vy, yaw_rate) rollout schedule of a plan's timed segments and its
    (gait name, seconds) pieces; a plan without motion (stop, sit) stands still for 2 s."""
    timed = [seg for seg in segments if seg.duration_s > 0]
    schedule = [(min(seg.duration_s, SEGMENT_CAP_S), seg.vx, seg.vy, seg.yaw_rate) for seg in timed]
    gait_pieces = [
        (str(seg.extra.get("gait", "trot")), piece[0])
        for seg, piece in zip(timed, schedule, strict=True)
    ]
    if not schedule:
        schedule = [(2.0, 0.0, 0.0, 0.0)]  # stop, sit, ...: show the dog standing still
        gait_pieces = [(default_gait, 2.0)]
    return schedule, gait_pieces


def render_plan(result, act, env_config, path: str, default_gait: str, progress=None) -> Any:
    """Render the policy ``act`` (trained on ``env_config``) carrying out an accepted voice
    ``result``; what the policy cannot do as said is written to stderr first."""
    from irondog.agents.render import render_video
    from irondog.voice.commands import Gait

    timed = [seg for seg in result.segments if seg.duration_s > 0]
    schedule, gait_pieces = schedule_of(result.segments, default_gait)
    for line in beyond_policy(timed, env_config):
        print(f"irondog voice: {line}", file=sys.stderr)
    asked = any(isinstance(a, Gait) for a in result.command.actions)
    gait_schedule = plan_gaits(gait_pieces, env_config, asked)
    return render_video(
        act, env_config, path, schedule=schedule, label=result.text,
        gait_schedule=gait_schedule, progress=progress,
    )  # fmt: skip


MOTIONS = (("vx", "forward/backward speed", "m/s", "lin_vel_x"),
           ("vy", "sideways speed", "m/s", "lin_vel_y"),
           ("yaw_rate", "turning rate", "rad/s", "yaw_rate"))  # fmt: skip


def beyond_policy(segments, env_config) -> list[str]:
    """One line per plan piece asking what the policy was never trained to do: a forward,
    sideways or turning motion outside the ranges of its training (env_config.command).
    An axis the piece leaves at zero is not something said, and is not judged."""
    lines = []
    for seg in segments:
        for field, what, unit, key in MOTIONS:
            low, high = getattr(env_config.command, key)
            value = getattr(seg, field)
            if value != 0.0 and not low - 1e-9 <= value <= high + 1e-9:
                text = seg.extra.get("text", "the command")
                trained = f"{low:g} {unit}" if low == high else f"{low:g}..{high:g} {unit}"
                lines.append(
                    f"this policy cannot do {text!r}: it asks a {what} of {value:g} {unit}, "
                    f"the policy was trained on {trained} only; it will not do it as said"
                )
    return lines


def plan_gaits(pieces: list[tuple[str, float]], env_config, asked: bool = False) -> object:
    """The gait schedule of a voice plan's (gait name, seconds) pieces for a gait policy;
    None for a joystick policy, which cannot take a gait (said once on stderr when the command
    asked for a gait or the plan carries one other than the default trot)."""
    from irondog.agents import gait_schedule

    if getattr(env_config, "task", "joystick") != "gaits":
        names = sorted({name for name, _ in pieces})
        if not asked and names == ["trot"]:
            return None
        print(
            f"irondog voice: this policy was trained without gait commands; the plan's gait "
            f"({', '.join(names)}) is ignored and the policy walks its own gait",
            file=sys.stderr,
        )
        return None
    return gait_schedule.from_pieces(pieces, env_config.gaits.ranges, cycle=False)
