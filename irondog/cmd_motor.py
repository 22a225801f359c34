"""Motor design: CyberGear model vs datasheet, duty cycles, optimiser, co-design, report.

irondog motor datasheet [--motor M.yaml]            the model's figures next to the datasheet
irondog motor trot --out duty.npz [--motor M.yaml]  record the scripted trot's duty cycle
irondog motor trot --checkpoint CK --out duty.npz   record a trained policy's duty cycle
irondog motor optimize --scripted --out M.yaml      co-design loop on the scripted trot
irondog motor optimize --duty CHECKPOINT --out M.yaml   co-design loop, policy re-simulated
irondog motor optimize --duty ROLLOUTS.npz --out M.yaml  one pass on recorded rollouts
irondog motor report --out DIR [--motor M.yaml]     Pareto, envelopes, thermal, mass table
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from irondog.outputs import write_or_fallback
from irondog.progress import from_args

DATASHEET = {  # FACTS.md
    "mass_g": 317.0,
    "peak_torque_Nm": 12.0,
    "rated_torque_Nm": 4.0,
    "no_load_rpm": 296.0,
    "kt_Nm_per_A_rms": 0.87,
    "resistance_line_ohm": 0.45,
}


def register(parser: argparse.ArgumentParser) -> None:
    """Add the motor sub-commands."""
    from irondog.argtypes import at_least, in_range, positive
    from irondog.progress import add_quiet_argument

    sub = parser.add_subparsers(dest="motor_command", metavar="ACTION")
    sheet = sub.add_parser("datasheet", help="model figures of a design next to the CyberGear's")
    sheet.add_argument("--motor", help="motor YAML (default: the CyberGear design point)")

    trot = sub.add_parser("trot", help="record the scripted trot's duty cycle to an .npz")
    trot.add_argument("--out", required=True, help="output .npz (joint_torque, joint_vel, dt)")
    trot.add_argument("--motor", help="motor YAML to simulate with (default: CyberGear)")
    trot.add_argument("--duration", type=positive, default=8.0, help="seconds recorded")
    trot.add_argument(
        "--checkpoint", help="record this trained policy (0.5 m/s forward) instead of the script"
    )
    trot.add_argument("--episodes", type=at_least(1), default=8, help="with --checkpoint: episodes")

    opt = sub.add_parser("optimize", help="least-mass motor for a duty; co-design loop")
    src = opt.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--duty",
        help="rollouts .npz with joint_torque (T,12), joint_vel, dt; or a policy checkpoint "
        "(.msgpack or run folder): its rollouts, re-simulated with each new motor",
    )
    src.add_argument("--scripted", action="store_true", help="use the scripted trot (re-simulated)")
    opt.add_argument("--out", required=True, help="motor YAML to write")
    opt.add_argument("--config", help="optimiser YAML (default: configs/motor/optimize.yaml)")
    opt.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="config overrides")
    opt.add_argument("--iterations", type=at_least(1), default=4, help="co-design passes at most")
    opt.add_argument(
        "--episodes", type=at_least(1), default=8, help="with a checkpoint: episodes per simulation"
    )
    opt.add_argument(
        "--seconds",
        type=in_range(1.0, low_open=True),
        default=8.0,
        help="with a checkpoint: seconds per episode (the first is warm-up)",
    )
    opt.add_argument("--save-duty", metavar="NPZ", help="with a checkpoint: save its first duty")

    rep = sub.add_parser("report", help="plots and tables: baseline vs optimised motor")
    rep.add_argument("--out", required=True, help="output folder")
    rep.add_argument("--motor", help="optimised motor YAML (default: optimise now, scripted trot)")
    rep.add_argument(
        "--duty",
        help="rollouts .npz, or a policy checkpoint (.msgpack or run folder) re-simulated on "
        "the new motor (default: the scripted trot)",
    )
    rep.add_argument("--config", help="optimiser YAML")
    rep.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="config overrides")
    rep.add_argument("--pareto-points", type=at_least(2), default=6, help="points per Pareto front")
    for leaf in (sheet, trot, opt, rep):
        add_quiet_argument(leaf)


def _config(args: argparse.Namespace):  # -> OptimizeConfig
    from irondog.motors.optimize import load_config

    path = args.config
    if path is None:
        default = Path(__file__).resolve().parent.parent / "configs" / "motor" / "optimize.yaml"
        path = default if default.is_file() else None
    return load_config(path, args.set)


def run(args: argparse.Namespace) -> int:
    """Dispatch to the motor action."""
    action = getattr(args, "motor_command", None)
    if action is None:
        print(__doc__)
        return 0
    actions = {"datasheet": _datasheet, "trot": _trot, "optimize": _optimize, "report": _report}
    try:
        _check_paths(args, action)  # before any simulation
        return actions[action](args)
    except ValueError as err:  # bad input (a field, a file): the message names it
        print(f"irondog motor {action}: error: {err}", file=sys.stderr)
        return 2


def _check_paths(args: argparse.Namespace, action: str) -> None:
    """ValueError naming the argument if an input is missing or an output cannot be written."""
    from irondog.outputs import check_output_dir, check_output_file

    for flag in ("motor", "duty", "checkpoint", "config"):
        value = getattr(args, flag, None)
        if value is not None and not Path(value).exists():
            raise ValueError(f"--{flag} {value} does not exist")
    if action == "trot":
        check_output_file(args.out, (".npz",), "--out")
    elif action == "optimize":
        check_output_file(args.out, (".yaml", ".yml"), "--out")
        if args.save_duty is not None:
            check_output_file(args.save_duty, (".npz",), "--save-duty")
    elif action == "report":
        check_output_dir(args.out, "--out")


def _datasheet(args: argparse.Namespace) -> int:
    from irondog.motors import design as md
    from irondog.motors.optimize import load_motor

    design = load_motor(args.motor)[0] if args.motor else md.CYBERGEAR
    perf = md.evaluate(design)
    print(f"{'figure':32s} {'model':>10s} {'CyberGear':>10s}")
    for key, value in md.summary(perf).items():
        ref = DATASHEET.get(key)
        print(f"{key:32s} {value:10.4g} {'' if ref is None else f'{ref:10.4g}'}")
    print("mass breakdown (g):", {k: round(1e3 * v, 1) for k, v in perf.mass_breakdown.items()})
    return 0


def _trot(args: argparse.Namespace) -> int:
    from irondog.motors import duty as du
    from irondog.motors.optimize import load_motor

    params = load_motor(args.motor)[1] if args.motor else du.CyberGearParams()
    what = args.checkpoint or "the scripted trot"
    from_args(args).say(f"recording {args.duration:g} s of {what}")
    if args.checkpoint:
        return _policy_trot(args, params if args.motor else None)
    model = du.apply_motor(params) if args.motor else None
    result = du.scripted_trot(params, model, du.TrotConfig(duration=args.duration))
    out = write_or_fallback(args.out, lambda path: du.save_duty(path, result.duty))
    s = du.summarize(result.duty, params)
    print(
        f"wrote {out}: {result.duty.duration:.1f} s, walked {result.forward_distance:.2f} m, "
        f"lowest trunk {result.min_height:.3f} m; peak torque {s.peak_torque.max():.2f} N m, "
        f"peak speed {s.peak_speed.max():.2f} rad/s, worst RMS torque {s.rms_torque.max():.2f} N m"
    )
    return 0


def _policy_trot(args: argparse.Namespace, params) -> int:
    from irondog.motors import duty as du
    from irondog.motors import policy_duty as pd

    if args.episodes < 1:
        raise ValueError("--episodes: must be >= 1")
    duty, m = pd.policy_duty(
        args.checkpoint, params, episodes=args.episodes, seconds=args.duration + 1.0
    )
    out = write_or_fallback(args.out, lambda path: du.save_duty(path, duty))
    s = du.summarize(duty, params)
    print(
        f"wrote {out}: {duty.duration:.1f} s of {args.checkpoint} "
        f"(tracking error {m['tracking_error']:.3f} m/s, fall rate {m['fall_rate']:.0%}); "
        f"peak torque {s.peak_torque.max():.2f} N m, peak speed {s.peak_speed.max():.2f} rad/s, "
        f"worst RMS torque {s.rms_torque.max():.2f} N m"
    )
    return 0


SATURATION_WARNING = 0.002  # fraction of a joint's samples at the torque limit


def _warn_saturation(duty) -> None:
    """Say on stderr when the duty rides the CyberGear's torque limit (see duty.saturation)."""
    from irondog.motors import duty as du

    frac = du.saturation(duty)
    worst = int(frac.argmax())
    if frac[worst] > SATURATION_WARNING:
        print(
            f"warning: the duty holds {du.JOINT_NAMES[worst]} at the CyberGear's torque limit "
            f"on {frac[worst]:.1%} of its samples: what it needs there is unknown, and sizing "
            "for peak torque plus margin asks for a stronger motor at each co-design pass. "
            "Train the policy with env.rewards.torque_over (configs/train/trot_gait_cpu.yaml) "
            "to keep its peaks off the limit.",
            file=sys.stderr,
        )


def _optimize(args: argparse.Namespace) -> int:
    from irondog.motors import design as md
    from irondog.motors import duty as du
    from irondog.motors import optimize as mo
    from irondog.motors import policy_duty as pd

    config = _config(args)
    if args.iterations < 1:
        raise ValueError("--iterations: must be >= 1")
    progress = from_args(args)
    progress.say(f"recording the duty of {'the scripted trot' if args.scripted else args.duty}")
    if args.scripted:
        duty = du.scripted_trot().duty
        simulate = du.simulate_scripted_trot
    elif pd.is_checkpoint(args.duty):
        if args.episodes < 1 or args.seconds <= 1.0:
            raise ValueError("--episodes must be >= 1 and --seconds > 1 (1 s is warm-up)")
        opts = {"episodes": args.episodes, "seconds": args.seconds}
        duty, m = pd.policy_duty(args.duty, None, **opts)
        print(
            f"policy {args.duty} on the CyberGear: tracking error {m['tracking_error']:.3f} m/s, "
            f"fall rate {m['fall_rate']:.0%}; {duty.duration:.1f} s of duty recorded"
        )
        if args.save_duty:
            write_or_fallback(args.save_duty, lambda path: du.save_duty(path, duty))
        simulate = pd.policy_simulator(args.duty, **opts)
    else:
        duty = du.load_duty(args.duty)
        simulate = None  # recorded rollouts cannot be re-simulated; one pass
    _warn_saturation(duty)
    base = mo.assess(
        md.evaluate(md.CYBERGEAR, config.constants()),
        mo.requirements_from_duty(duty, config),
        config,
    )
    print(
        f"CyberGear (317 g model {1e3 * base.perf.mass:.1f} g) on this duty: "
        f"{'meets it' if base.feasible else 'misses it: ' + base.explain()}"
    )
    progress.say(f"co-design: at most {args.iterations} passes of optimise, then re-simulate")
    steps = mo.codesign(duty, config, simulate, max_iterations=args.iterations)
    last = steps[-1]
    res = last.result
    extra = {
        "feasible": bool(res.feasible),
        "binding_constraints": res.assessment.binding(),
        "co_design_passes": len(steps),
        "mission_winding_temp_C": round(res.assessment.mission_winding_temp, 2),
        "duty": "scripted trot" if args.scripted else str(args.duty),
    }
    out = write_or_fallback(
        args.out, lambda path: mo.save_motor(path, "optimised", res.design, extra)
    )
    change = res.perf.mass / 0.317 - 1
    print(f"wrote {out}: {1e3 * res.perf.mass:.1f} g ({100 * change:+.1f}% vs 317 g)")
    if not res.feasible:
        print("no design meets every constraint; the binding ones:\n" + res.assessment.explain())
        return 1
    return 0


def _report(args: argparse.Namespace) -> int:
    config = _config(args)
    if args.pareto_points < 2:
        raise ValueError("--pareto-points: must be >= 2")
    from irondog.motors.report import write_report

    out = write_report(
        Path(args.out), config, args.motor, args.duty, args.pareto_points, from_args(args)
    )
    print(f"wrote {out}")
    return 0
