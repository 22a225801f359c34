"""Evaluate a policy: parallel episodes, tracking, falls, cost of transport, torques, gait.

    irondog eval --checkpoint examples/joystick_cpu [--command vx=1.0,vy=0,yaw=0.5] [--episodes 16]
    irondog eval --policy zero --episodes 4 --seconds 2 --json metrics.json
    irondog eval --checkpoint runs/trot --motor configs/motor/trot_optimized.yaml
    irondog eval --checkpoint runs/gaits_cpu --gait bound
    irondog eval --checkpoint runs/gaits_cpu --gait trot:4,bound:4,walk:4   # seconds each

Prints a table (or JSON with --format json); --json PATH also writes the JSON to a file.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_policy_arguments(parser: argparse.ArgumentParser) -> None:
    """--checkpoint / --policy / --config / --env / --command / --seed (shared by eval,
    render, report and view)."""
    group = parser.add_argument_group("policy")
    group.add_argument("--checkpoint", metavar="PATH", help="checkpoint file or run folder")
    group.add_argument(
        "--policy", choices=("zero",), help="built-in policy instead: zero = stand in home pose"
    )
    group.add_argument(
        "--config", metavar="YAML", help="with --policy: RunConfig YAML giving the environment"
    )
    group.add_argument("--env", metavar="NAME", help="registered environment id to run it in")
    group.add_argument(
        "--command",
        dest="joystick",
        default="vx=0.5,vy=0,yaw=0",
        help="joystick command vx=M/S,vy=M/S,yaw=RAD/S, or 'train' for the training "
        "distribution (default: %(default)s)",
    )
    group.add_argument("--seed", type=int, default=0)
    group.add_argument(
        "--randomize",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="domain randomisation (friction, masses, motor strength, gains, latency; never "
        "pushes) on or off; --no-randomize is the stock robot. Default: as the policy's "
        "training config (on for every shipped config)",
    )


def resolve(args: argparse.Namespace) -> tuple[Any, Any]:
    """(Selected policy, command tuple or None) from the shared arguments; UserError if bad."""
    from pathlib import Path

    from irondog.errors import UserError

    for flag, value in (("--checkpoint", args.checkpoint), ("--config", args.config)):
        if value is not None and not Path(value).exists():  # before importing JAX and MuJoCo
            hint = "; train one, or try --policy zero" if flag == "--checkpoint" else ""
            raise UserError(f"{flag} {value} does not exist{hint}")
    from irondog.agents import evaluate, policy

    try:
        command = None if args.joystick == "train" else evaluate.parse_command(args.joystick)
        selected = policy.select(args.checkpoint, args.policy, args.config, args.env)
    except (ValueError, KeyError) as err:  # CheckpointError is a ValueError
        raise UserError(str(err).strip("'\"")) from None
    randomize = getattr(args, "randomize", None)
    if randomize is not None:
        env_config = evaluate.with_randomization(selected.env_config, randomize)
        selected = selected._replace(env_config=env_config)
    return selected, command


def add_gait_argument(parser: argparse.ArgumentParser) -> None:
    """--gait NAME or NAME:S,NAME:S,... (eval and render)."""
    parser.add_argument(
        "--gait",
        metavar="GAIT",
        help="gait-conditioned policies: one gait (walk, trot, pace, bound, pronk) or a "
        "schedule such as trot:4,bound:4,walk:4 (seconds each; the run then lasts that long "
        "unless --seconds is given, and the schedule repeats to fill it). Default: trot",
    )


def resolve_gait(args: argparse.Namespace, env_config: Any, default_seconds: float) -> Any:
    """(GaitSchedule or None, seconds) from --gait / --seconds; UserError if bad.

    A joystick policy takes no --gait (error); a gait policy without one trots.
    """
    from irondog.agents import gait_schedule
    from irondog.config import ConfigError
    from irondog.errors import UserError

    seconds = args.seconds
    if seconds is not None and seconds <= 0:
        raise UserError(f"--seconds must be > 0, got {seconds}")
    from irondog.envs import task

    takes_gaits = task.variant(env_config.task).gait_commanded
    if args.gait is None and not takes_gaits:
        return None, seconds if seconds is not None else default_seconds
    try:
        if args.gait is not None:
            gait_schedule.check_policy_takes_gaits(env_config)
        schedule = gait_schedule.parse(args.gait or "trot", env_config.gaits.ranges)
    except (ValueError, ConfigError) as err:
        raise UserError(str(err)) from None
    if seconds is None:
        seconds = schedule.seconds if schedule.seconds is not None else default_seconds
    return schedule, seconds


def register(parser: argparse.ArgumentParser) -> None:
    """Add the eval sub-command's arguments."""
    from irondog.argtypes import at_least, positive
    from irondog.progress import add_quiet_argument

    add_policy_arguments(parser)
    add_gait_argument(parser)
    parser.add_argument("--episodes", type=at_least(1), default=16, help="parallel episodes")
    parser.add_argument(
        "--seconds", type=positive, default=None, help="episode length, s (default 10)"
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--json", metavar="PATH", help="also write the metrics JSON here")
    parser.add_argument(
        "--motor",
        metavar="YAML",
        help="motor YAML (irondog motor optimize): simulate 12 of these motors (their law, "
        "masses, rotor inertia, torque range) instead of the CyberGear",
    )
    add_quiet_argument(parser)


def run(args: argparse.Namespace) -> int:
    """Run the evaluation and print the metrics."""
    from pathlib import Path

    from irondog.errors import UserError
    from irondog.progress import from_args

    json_path = Path(args.json) if args.json else None
    if json_path is not None:  # fail before the long work, not after it
        from irondog.outputs import check_output_file

        check_output_file(json_path, (".json",), "--json")
    selected, command = resolve(args)
    from irondog.agents import evaluate

    env_config, model = selected.env_config, None
    schedule, seconds = resolve_gait(args, env_config, 10.0)
    try:
        if args.motor is not None:
            env_config, model = evaluate.with_motor(env_config, args.motor)
        metrics, _ = evaluate.evaluate(
            selected.act, env_config, episodes=args.episodes, seconds=seconds,
            command=command, seed=args.seed, env_check=selected.env_check, model=model,
            gait_schedule=schedule, progress=from_args(args),
        )  # fmt: skip
    except ValueError as err:
        raise UserError(str(err)) from None
    text = evaluate.to_json(metrics)
    if json_path is not None:
        from irondog.outputs import write_or_fallback

        json_path = write_or_fallback(json_path, lambda path: path.write_text(text + "\n"))
    if args.format == "json":
        print(text)
    else:
        print(f"policy: {selected.label}")
        if args.motor is not None:
            print(
                f"motor: {args.motor} ({1e3 * env_config.motor.mass:.1f} g each, physics step "
                f"{1e3 * env_config.sim_dt:.3g} ms)"
            )
        print(evaluate.format_table(metrics))
        if json_path is not None:
            print(f"metrics JSON: {json_path}")
    return 0
