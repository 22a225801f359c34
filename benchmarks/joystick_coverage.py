r"""Issue 20 targets for a joystick policy: every corner of its command range, nominal, perturbed.

Each cell of the grid holds one command (both signs of every axis at the edge of the range,
half-speed cells, fast forward while turning, diagonal walking, zero) for ``--seconds`` s
after the robot starts from rest; the first ``--warmup`` s (speeding up) are not judged.
Each is run two ways:

- through the project's evaluation (``irondog eval``: ``agents.evaluate`` on the native
  batch with the training's domain randomisation, ``--episodes`` parallel episodes);
- through the exported ONNX file on one MuJoCo robot (``play-onnx``: ``agents.onnx_runner``'s
  ``SimRobot`` and ``policy_step``, no JAX), one episode per seed.

Per cell: velocity tracking error (``track``: planar velocity and command averaged over each
0.5-s stride, trunk-heading frame, as ``evaluate.stride_tracking_error``; ``step``: the same
at every 20-ms control step, which also counts the surge within a stride), yaw-rate error
(``yaw``: mean absolute, the target's; ``yaw_bias``: mean signed, a steady veer, not judged),
body drift at the zero command (net trunk displacement / time) and falls.

Targets (issue 20). Nominal, every cell: ``track`` <= 0.10 m/s, yaw-rate error <= 0.2 rad/s,
drift <= 0.05 m/s at zero, no falls. Perturbed (pushes of 1.0 m/s every 4.5 s, floor friction
0.4 and 1.2, 20 ms of action latency, +-1.5 kg payload, a 2-ms physics step with
implicitfast), every cell: no falls and ``track`` <= 0.15 m/s.

    python benchmarks/joystick_coverage.py --checkpoint examples/joystick_cpu --seeds 1 2
    python benchmarks/joystick_coverage.py --checkpoint examples/trot_cpu --quick
    python benchmarks/joystick_coverage.py --curve runs/joystick_cpu --seeds 3 --episodes 8 \
        --every 200

``--gait NAME`` (a gait-conditioned policy, ``irondog/CyberDog2-Gaits-v0``) holds that gait
command in every cell, both ways, so each gait's range can be read from its own grid.

``--curve`` evaluates the run's checkpoints (nominal conditions, project evaluation only) and
prints grid error against the wall clock of training (read from the run's TensorBoard file).
Writes benchmarks/results/joystick_coverage.csv (or joystick_curve.csv with --curve).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import math
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
STRIDE_S = 0.5  # s, the window of the stride-mean error (envs.task.STRIDE_S)
NOMINAL_TRACK, PERTURBED_TRACK, YAW_TARGET, DRIFT_TARGET = 0.10, 0.15, 0.2, 0.05
PUSH_SPEED, PUSH_EVERY = 1.0, 4.5  # m/s, s
LATENCY = 0.020  # s
ZERO = (0.0, 0.0, 0.0)

# (name, (vx m/s, vy m/s, yaw rad/s)); the range edges are the issue's, -1.0..1.5 / +-0.5 / +-1.5.
GRID: tuple[tuple[str, tuple[float, float, float]], ...] = (
    ("stand", ZERO),
    ("forward 0.5", (0.5, 0.0, 0.0)),
    ("forward 1.0", (1.0, 0.0, 0.0)),
    ("forward 1.5", (1.5, 0.0, 0.0)),
    ("backward 0.5", (-0.5, 0.0, 0.0)),
    ("backward 1.0", (-1.0, 0.0, 0.0)),
    ("left 0.5", (0.0, 0.5, 0.0)),
    ("right 0.5", (0.0, -0.5, 0.0)),
    ("turn left 1.5", (0.0, 0.0, 1.5)),
    ("turn right 1.5", (0.0, 0.0, -1.5)),
    ("turn left 0.75", (0.0, 0.0, 0.75)),
    ("fast forward, left 1.0", (1.5, 0.0, 1.0)),
    ("fast forward, right 1.0", (1.5, 0.0, -1.0)),
    ("forward 1.0, left 1.5", (1.0, 0.0, 1.5)),
    ("backward 0.5, right 1.0", (-0.5, 0.0, -1.0)),
    ("forward-left diagonal", (0.8, 0.4, 0.0)),
    ("back-right diagonal", (-0.6, -0.4, 0.0)),
    ("sideways while turning", (0.0, 0.3, -0.8)),
)
QUICK_GRID = (("stand", ZERO), ("forward 0.5", (0.5, 0.0, 0.0)), ("turn left 0.75", (0, 0, 0.75)))


@dataclasses.dataclass(frozen=True)
class Perturbation:
    """One condition of the table; None / 0 keeps what the policy was trained with."""

    name: str
    push: float = 0.0  # m/s horizontal kick every PUSH_EVERY s, random direction
    friction: float | None = None
    latency: float = 0.0  # s of action latency (whole physics steps)
    payload: float = 0.0  # kg on the trunk
    sim_dt: float | None = None  # s
    integrator: str | None = None


CONDITIONS = (
    Perturbation("nominal"),
    Perturbation(f"pushes {PUSH_SPEED} m/s every {PUSH_EVERY} s", push=PUSH_SPEED),
    Perturbation("friction 0.4", friction=0.4),
    Perturbation("friction 1.2", friction=1.2),
    Perturbation("latency 20 ms", latency=LATENCY),
    Perturbation("payload +1.5 kg", payload=1.5),
    Perturbation("payload -1.5 kg", payload=-1.5),
    Perturbation("2 ms step, implicitfast", sim_dt=0.002, integrator="implicitfast"),
)


def targets(condition: Perturbation, command: tuple[float, float, float]) -> dict[str, float]:
    """The limit on each metric of a cell (falls must be 0 everywhere)."""
    if condition.name != "nominal":
        return {"track": PERTURBED_TRACK}
    out = {"track": NOMINAL_TRACK, "yaw": YAW_TARGET}
    if command == ZERO:
        out["drift"] = DRIFT_TARGET
    return out


def judge(row: dict[str, Any], condition: Perturbation) -> list[str]:
    """The targets a cell misses, e.g. ['track 0.14 > 0.10', 'falls 1'] (empty: met)."""
    missed = [f"falls {row['falls']}"] if row["falls"] else []
    for key, limit in targets(condition, row["command"]).items():
        value = row[key]
        if value is None or not math.isfinite(value):
            missed.append(f"{key} n/a")
        elif value > limit:
            missed.append(f"{key} {value:.2f} > {limit:.2f}")
    return missed


def _stride_windows(
    vel: np.ndarray, command: np.ndarray, valid: np.ndarray, dt: float
) -> list[float]:
    """|mean velocity - mean command| (m/s) over back-to-back STRIDE_S windows of one episode.

    vel, command: (T, 2) in the trunk-heading frame; valid: (T,) episode still running."""
    w = max(1, round(STRIDE_S / dt))
    out = []
    for t in range(0, len(vel) - w + 1, w):
        if valid[t : t + w].all():
            out.append(float(np.linalg.norm(vel[t : t + w].mean(0) - command[t : t + w].mean(0))))
    return out


def cell_metrics(
    heading_vel: np.ndarray,
    step_err: np.ndarray,
    yaw_rate: np.ndarray,
    pos: np.ndarray,
    valid: np.ndarray,
    fell: np.ndarray,
    command: tuple[float, float, float],
    dt: float,
    start: int,
) -> dict[str, Any]:
    """Metrics of one cell from time-major arrays (T, n, ...) after the ``start`` warm-up rows."""
    cmd = np.asarray(command)
    strides, drifts = [], []
    for i in range(valid.shape[1]):
        ok = valid[start:, i]
        strides += _stride_windows(
            heading_vel[start:, i], np.broadcast_to(cmd[:2], (len(ok), 2)), ok, dt
        )
        rows = np.flatnonzero(ok) + start
        if len(rows) > 1:
            span = (rows[-1] - rows[0]) * dt
            drifts.append(float(np.linalg.norm(pos[rows[-1], i, :2] - pos[rows[0], i, :2]) / span))
    mask = valid[start:]

    def mean(x: np.ndarray) -> float | None:
        return float(x[mask].mean()) if mask.any() else None

    return {
        "command": tuple(float(c) for c in command),
        "episodes": int(valid.shape[1]),
        "falls": int(fell.sum()),
        "track": float(np.mean(strides)) if strides else None,
        "step": mean(step_err[start:]),
        "yaw": mean(np.abs(yaw_rate[start:] - cmd[2])),
        # signed: a steady veer (a yaw bias) apart from the wobble within each stride
        "yaw_bias": mean(yaw_rate[start:] - cmd[2]),
        "drift": float(np.mean(drifts)) if drifts else None,
    }


def _heading_frame(world_vel: np.ndarray, heading: np.ndarray) -> np.ndarray:
    """Planar world velocity (..., 2+) rotated into the trunk's heading frame (..., 2)."""
    c, s = np.cos(heading), np.sin(heading)
    vx, vy = world_vel[..., 0], world_vel[..., 1]
    return np.stack([c * vx + s * vy, -s * vx + c * vy], axis=-1)


def _push_directions(rng: np.random.Generator, n: int) -> np.ndarray:
    angle = rng.uniform(0.0, 2.0 * np.pi, n)
    return PUSH_SPEED * np.stack([np.cos(angle), np.sin(angle)], axis=1)


def eval_cell(
    act: Callable[[np.ndarray], np.ndarray],
    env_config: Any,
    command: tuple[float, float, float],
    condition: Perturbation,
    episodes: int,
    seconds: float,
    warmup: float,
    seed: int,
    gait: str | None = None,
) -> dict[str, Any]:
    """One cell through the project's evaluation (native batch, training randomisation)."""
    from irondog.agents import evaluate
    from irondog.agents.onnx_runner import PhysicsOptions, load_robot

    cfg = evaluate.eval_env_config(env_config, episodes, seconds, command, first_gait=gait)
    rand = cfg.randomization
    if condition.friction is not None:
        rand = dataclasses.replace(rand, friction=(condition.friction, condition.friction))
    if condition.payload:
        rand = dataclasses.replace(rand, trunk_added_mass=(condition.payload, condition.payload))
    sim_dt = condition.sim_dt or cfg.sim_dt
    if condition.latency:
        k = round(condition.latency / sim_dt)
        rand = dataclasses.replace(rand, latency_substeps=(k, k))
    elif condition.sim_dt:  # the trained latency range, in seconds, at the new step
        lo, hi = (round(x * cfg.sim_dt / sim_dt) for x in rand.latency_substeps)
        rand = dataclasses.replace(rand, latency_substeps=(lo, hi))
    cfg = dataclasses.replace(cfg, randomization=rand, sim_dt=sim_dt)
    model = load_robot(PhysicsOptions(integrator=condition.integrator))
    env = evaluate.make_env(cfg, model)
    steps = round(seconds / cfg.ctrl_dt)
    rng = np.random.default_rng(seed + 1000)
    every = round(PUSH_EVERY / cfg.ctrl_dt)

    def push(t: int, state: Any, env: Any) -> None:
        if condition.push and (t + 1) % every == 0:
            env.qvel[:, 0:2] += _push_directions(rng, env.num_envs)

    trace = evaluate.rollout(env, act, steps, seed, on_step=push)
    fell = (trace.done & ~trace.truncated).any(axis=0)
    return cell_metrics(
        _heading_frame(trace.base_vel, trace.heading), trace.tracking_error, trace.yaw_rate,
        trace.base_pos, trace.valid, fell, command, cfg.ctrl_dt, round(warmup / cfg.ctrl_dt),
    )  # fmt: skip


def onnx_cell(
    policy: Any,
    command: tuple[float, float, float],
    condition: Perturbation,
    seconds: float,
    warmup: float,
    seed: int,
    gait: str | None = None,
) -> dict[str, Any]:
    """One episode of a cell through the exported file, as ``play-onnx`` drives it."""
    from irondog.agents.evaluate import trunk_heading
    from irondog.agents.onnx_runner import (
        PhysicsOptions,
        SimRobot,
        gait_command,
        load_robot,
        policy_step,
    )

    meta = policy.metadata
    gait_vector, phase = gait_command(meta, gait), 0.0
    options = PhysicsOptions(
        timestep=condition.sim_dt or float(meta["sim_dt"]),
        integrator=condition.integrator,
        friction=condition.friction,
        added_mass=condition.payload,
    )
    robot = SimRobot(load_robot(options))
    dt = float(meta["control_dt"])
    substeps = round(dt / robot.model.opt.timestep)
    delay = round(condition.latency / robot.model.opt.timestep)
    kp, kd = float(meta["kp"]), float(meta["kd"])
    cmd = np.asarray(command, dtype=np.float64)
    rng = np.random.default_rng(seed + 1000)
    every = round(PUSH_EVERY / dt)
    last_action = np.zeros(policy.action_size)
    target = previous = np.asarray(meta["default_pose"], dtype=np.float64)
    rows: dict[str, list] = {"vel": [], "err": [], "yaw": [], "pos": [], "heading": []}
    fell = False
    for t in range(round(seconds / dt)):
        previous = target
        last_action, target = policy_step(
            policy, robot.readings(), last_action, cmd, gait_vector, phase
        )
        for k in range(substeps):
            robot.physics_step(previous if k < delay else target, kp, kd)
        if gait_vector is not None:  # the gait clock, as play-onnx advances it
            phase = (phase + gait_vector[0] * dt) % 1.0
        after = robot.readings()
        rows["vel"].append(robot.data.qvel[0:2].copy())
        rows["err"].append(float(np.linalg.norm(after["local_linvel"][:2] - cmd[:2])))
        rows["yaw"].append(float(after["gyro"][2]))
        rows["pos"].append(robot.data.qpos[0:3].copy())
        rows["heading"].append(float(trunk_heading(robot.data.qpos[3:7])))
        if not np.isfinite(robot.data.qpos).all() or robot.fallen():
            fell = True
            break
        if condition.push and (t + 1) % every == 0:
            robot.data.qvel[0:2] += _push_directions(rng, 1)[0]
    n = len(rows["err"])
    valid = np.ones((n, 1), dtype=bool)
    if fell:
        valid[-1] = False
    heading_vel = _heading_frame(np.asarray(rows["vel"]), np.asarray(rows["heading"]))
    return cell_metrics(
        heading_vel[:, None], np.asarray(rows["err"])[:, None], np.asarray(rows["yaw"])[:, None],
        np.asarray(rows["pos"])[:, None], valid, np.array([fell]), command, dt,
        min(round(warmup / dt), max(n - 1, 0)),
    )  # fmt: skip


def merge(cells: list[dict[str, Any]]) -> dict[str, Any]:
    """One row from the same cell run with several seeds: falls and episodes add, errors average
    (weighted by episodes)."""
    out = dict(cells[0])
    out["episodes"] = sum(c["episodes"] for c in cells)
    out["falls"] = sum(c["falls"] for c in cells)
    for key in ("track", "step", "yaw", "yaw_bias", "drift"):
        pairs = [(c[key], c["episodes"]) for c in cells if c.get(key) is not None]
        out[key] = sum(v * w for v, w in pairs) / sum(w for _, w in pairs) if pairs else None
    return out


def fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def signed(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.3f}"


def table(rows: list[dict[str, Any]], condition: Perturbation) -> list[str]:
    """Markdown rows of one condition's grid, each marked met / missed."""
    lines = [
        f"#### {condition.name} ({rows[0]['way']})",
        "",
        "| cell | vx, vy, yaw | episodes | falls | track m/s | step m/s | yaw err rad/s | "
        "yaw bias rad/s | drift m/s | target |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        missed = judge(r, condition)
        verdict = "met" if not missed else "**missed**: " + ", ".join(missed)
        c = r["command"]
        drift = fmt(r["drift"]) if c == ZERO else ""
        lines.append(
            f"| {r['cell']} | {c[0]:+.2f}, {c[1]:+.2f}, {c[2]:+.2f} | {r['episodes']} | "
            f"{r['falls']} | {fmt(r['track'])} | {fmt(r['step'])} | {fmt(r['yaw'])} | "
            f"{signed(r['yaw_bias'])} | {drift} | {verdict} |"
        )
    met = sum(not judge(r, condition) for r in rows)
    lines += ["", f"{met} of {len(rows)} cells met.", ""]
    return lines


def grid_error(rows: list[dict[str, Any]]) -> tuple[float, float, int, int]:
    """(mean track error, mean yaw error, falls, cells meeting the nominal targets)."""
    track = [r["track"] for r in rows if r["track"] is not None]
    yaw = [r["yaw"] for r in rows if r["yaw"] is not None]
    met = sum(not judge(r, CONDITIONS[0]) for r in rows)
    return (
        float(np.mean(track)) if track else math.nan,
        float(np.mean(yaw)) if yaw else math.nan,
        sum(r["falls"] for r in rows),
        met,
    )


def run_grid(
    act: Callable | None,
    env_config: Any,
    policy: Any,
    grid: tuple,
    conditions: tuple,
    args: argparse.Namespace,
) -> list[dict[str, Any]]:
    """Every cell of every condition, both ways (``act`` None: ONNX only; ``policy`` None:
    evaluation only), merged over the seeds."""
    out = []
    for condition in conditions:
        for name, command in grid:
            if act is not None:
                cells = [
                    eval_cell(act, env_config, command, condition, args.episodes, args.seconds,
                              args.warmup, seed, args.gait)
                    for seed in args.seeds
                ]  # fmt: skip
                out.append({**merge(cells), "cell": name, "condition": condition.name,
                            "way": "eval"})  # fmt: skip
            if policy is not None:
                cells = [
                    onnx_cell(
                        policy, command, condition, args.seconds, args.warmup, seed, args.gait
                    )
                    for seed in args.seeds
                ]
                out.append({**merge(cells), "cell": name, "condition": condition.name,
                            "way": "onnx"})  # fmt: skip
    return out


def read_wall_clock(run_dir: Path) -> dict[int, float]:
    """{iteration: seconds since the first iteration's end} from a run's TensorBoard events."""
    from tensorboardX.proto import event_pb2

    out: dict[int, float] = {}
    for path in sorted(run_dir.glob("events.out.tfevents.*")):
        data, i = path.read_bytes(), 0
        while i + 12 <= len(data):
            (length,) = struct.unpack("<Q", data[i : i + 8])
            if i + 12 + length + 4 > len(data):
                break
            event = event_pb2.Event.FromString(data[i + 12 : i + 12 + length])
            i += 12 + length + 4
            for value in event.summary.value:
                if value.tag == "iteration":
                    out[round(value.simple_value)] = event.wall_time
    if not out:
        return {}
    t0 = out[min(out)]
    return {it: wall - t0 for it, wall in out.items()}


def check_gait(args: argparse.Namespace, env_config: Any) -> None:
    """A gait policy holds ``--gait`` (default trot, as play-onnx); a joystick one takes none."""
    from irondog.envs import task

    takes_gaits = task.variant(env_config.task).gait_commanded
    if args.gait is not None and not takes_gaits:
        raise SystemExit(f"--gait {args.gait}: {args.checkpoint} was trained without gaits")
    if takes_gaits:
        args.gait = args.gait or "trot"
        if args.gait not in env_config.gaits.presets:
            known = ", ".join(env_config.gaits.presets)
            raise SystemExit(f"--gait {args.gait!r} is not one of {known}")


def curve(args: argparse.Namespace) -> None:
    from irondog.agents.policy import load_policy

    run_dir = Path(args.curve)
    wall = read_wall_clock(run_dir)
    every = sorted(run_dir.glob("checkpoint_*.msgpack"))
    files = [f for f in every if int(f.stem.split("_")[1]) % args.every == 0]
    files += [f for f in every[-1:] if f not in files]
    grid = QUICK_GRID if args.quick else GRID
    print(f"grid error against wall clock, {run_dir}, seeds {args.seeds}, {args.episodes} "
          f"episodes x {args.seconds} s per cell, project evaluation, nominal")  # fmt: skip
    print("| iteration | wall min | mean track m/s | mean yaw err rad/s | falls | cells met |")
    print("| --- | --- | --- | --- | --- | --- |")
    out = []
    for path in files:
        iteration = int(path.stem.split("_")[1])
        act, env_config = load_policy(path)
        check_gait(args, env_config)
        rows = run_grid(act, env_config, None, grid, CONDITIONS[:1], args)
        track, yaw, falls, met = grid_error(rows)
        minutes = wall.get(iteration, math.nan) / 60.0
        print(f"| {iteration} | {minutes:.1f} | {track:.3f} | {yaw:.3f} | {falls} | "
              f"{met} of {len(rows)} |", flush=True)  # fmt: skip
        out.append({"iteration": iteration, "wall_min": minutes, "track": track, "yaw": yaw,
                    "falls": falls, "cells_met": met, "cells": len(rows)})  # fmt: skip
    write_csv(out, args.csv or RESULTS / "joystick_curve.csv")


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--checkpoint", default="examples/joystick_cpu")
    parser.add_argument("--onnx", default=None, help="exported file (default: export --checkpoint)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--episodes", type=int, default=16, help="parallel episodes per eval cell")
    parser.add_argument("--seconds", type=float, default=10.0, help="episode length, s")
    parser.add_argument("--warmup", type=float, default=2.0, help="s not judged, from rest")
    parser.add_argument("--quick", action="store_true", help="3 cells, 2 episodes of 3 s")
    parser.add_argument("--nominal-only", action="store_true", help="skip the perturbed set")
    parser.add_argument("--perturbed-only", action="store_true", help="skip the nominal grid")
    parser.add_argument("--way", choices=("both", "eval", "onnx"), default="both")
    parser.add_argument("--curve", metavar="RUN", help="grid error of a run's checkpoints")
    parser.add_argument(
        "--every", type=int, default=1, help="--curve: checkpoints at multiples of N iterations"
    )
    parser.add_argument(
        "--gait", default=None, help="gait policies: the gait held in every cell (walk, trot, ...)"
    )
    parser.add_argument("--csv", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.episodes, args.seconds, args.warmup = min(args.episodes, 2), 3.0, 1.0
    if args.curve:
        curve(args)
        return 0

    import tempfile

    from irondog.agents import checkpoint, export
    from irondog.agents.onnx_runner import OnnxPolicy
    from irondog.agents.policy import load_policy, load_run_config, resolved_env_config

    if args.way == "onnx":  # the training config alone: no policy to build
        run_config = load_run_config(checkpoint.load(args.checkpoint))
        act, env_config = None, resolved_env_config(run_config.train.env_name, run_config.env)
    else:
        act, env_config = load_policy(args.checkpoint)
    check_gait(args, env_config)
    policy = None
    if args.way != "eval":
        path = args.onnx or export.export_checkpoint(
            args.checkpoint, Path(tempfile.mkdtemp()) / "policy.onnx"
        )
        policy = OnnxPolicy(path)
    grid = QUICK_GRID if args.quick else GRID
    conditions = CONDITIONS[:1] if args.nominal_only else CONDITIONS
    if args.perturbed_only:
        conditions = CONDITIONS[1:]
    start = time.perf_counter()
    rows = run_grid(act, env_config, policy, grid, conditions, args)
    gait = f", gait {args.gait}" if args.gait else ""
    print(f"{args.checkpoint}{gait}: seeds {args.seeds}, eval {args.episodes} episodes per seed, "
          f"onnx 1 episode per seed, {args.seconds} s per episode, first {args.warmup} s "
          f"not judged ({time.perf_counter() - start:.0f} s)\n")  # fmt: skip
    for condition in conditions:
        for way in ("eval", "onnx"):
            part = [r for r in rows if r["condition"] == condition.name and r["way"] == way]
            if part:
                print("\n".join(table(part, condition)))
    summary = [(c, w, [r for r in rows if r["condition"] == c.name and r["way"] == w])
               for c in conditions for w in ("eval", "onnx")]  # fmt: skip
    print("| condition | way | cells met | falls | mean track m/s | worst track m/s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for c, w, part in summary:
        if part:
            met = sum(not judge(r, c) for r in part)
            track = [r["track"] for r in part if r["track"] is not None]
            print(f"| {c.name} | {w} | {met} of {len(part)} | {sum(r['falls'] for r in part)} | "
                  f"{np.mean(track):.3f} | {max(track):.3f} |")  # fmt: skip
    csv_rows = [{**r, "command": " ".join(f"{x:g}" for x in r["command"]),
                 "missed": "; ".join(judge(r, next(c for c in conditions
                                                   if c.name == r["condition"])))}
                for r in rows]  # fmt: skip
    write_csv(csv_rows, args.csv or RESULTS / "joystick_coverage.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
