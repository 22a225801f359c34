"""Training throughput, side by side in one run on the same environment config:

1. raw ``mujoco.batch`` stepping (plain Batch.step with a NumPy PD law, as envs/bench.py),
2. the native env's ``step`` with fixed random actions (the task functions included),
3. irondog PPO training (rollout with a NumPy policy forward, jitted update overlapped with
   the next rollout: ``train.overlap_update``), first iteration (compilation) excluded,
4. the same with ``train.overlap_update=false`` (each rollout waits for the update), unless
   ``--skip-waiting``,
5. stable-baselines3 PPO through the SB3 VecEnv adapter, same settings and the same budget.

The machine is shared, so its load swings: 1 and 2 are measured for ``--chunk`` seconds
after every PPO iteration (outside PPO's own timing) and the table reports medians over the
iterations of both PPO runs. Next to steps/s it reports the process's CPU time (all threads:
the simulation's, JAX's, the main thread) per 1,000 env steps, which moves less with the
load than the wall clock does: on a 2-core machine a trainer can reach at most (raw CPU) /
(trainer CPU) of raw steps/s, however well its work overlaps.

    python benchmarks/train_throughput.py                       # trot_cpu preset, 512 envs
    python benchmarks/train_throughput.py --budget 600000 --skip-sb3 env.num_envs=1024
    python benchmarks/train_throughput.py --config configs/train/joystick_cpu.yaml --skip-sb3

Prints a Markdown table (paste into benchmarks/RESULTS.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import platform
import time

import jax
import numpy as np

from irondog.agents import ppo, sb3_baseline
from irondog.agents.config import RunConfig
from irondog.config import load
from irondog.envs import registry
from irondog.envs.config import EnvConfig


class RawBatch:
    """Plain ``mujoco.batch`` stepping of the same model: a NumPy PD law per control step."""

    def __init__(self, cfg: EnvConfig) -> None:
        from mujoco.batch import Batch

        from irondog.envs import terrain
        from irondog.envs.robot import RobotIds

        self.cfg = cfg
        model = terrain.build_model(cfg)
        self.pose = RobotIds.from_model(model).default_pose
        self.batch = Batch(model, cfg.num_envs, nthread=cfg.num_threads or os.cpu_count() or 1)
        self.batch.reset(keyframe=0)
        self.qpos, self.qvel = self.batch.bind("qpos"), self.batch.bind("qvel")
        self.ctrl = self.batch.bind("ctrl")

    def steps_per_second(self, seconds: float) -> tuple[float, float]:
        """(env (control) steps/s, process CPU s per 1,000 env steps) over ``seconds``."""
        cfg, steps = self.cfg, 0
        started, cpu = time.perf_counter(), time.process_time()
        while time.perf_counter() - started < seconds:
            torque = cfg.kp * (self.pose - self.qpos[:, 7:]) - cfg.kd * self.qvel[:, 6:]
            self.ctrl[:] = np.clip(torque, -12, 12)
            self.batch.step(nstep=cfg.substeps)
            steps += 1
        done = cfg.num_envs * steps
        return done / (time.perf_counter() - started), _per_1000(time.process_time() - cpu, done)


def _per_1000(cpu_seconds: float, steps: int) -> float:
    return 1000.0 * cpu_seconds / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/train/trot_cpu.yaml")
    parser.add_argument("overrides", nargs="*")
    parser.add_argument("--budget", type=int, default=400_000, help="env steps per trainer")
    parser.add_argument("--chunk", type=float, default=1.0, help="s per reference sample")
    parser.add_argument("--skip-sb3", action="store_true")
    parser.add_argument("--skip-waiting", action="store_true", help="no overlap_update=false run")
    args = parser.parse_args()
    run = load(RunConfig, args.config, args.overrides)
    env_cfg = registry.make_config(run.train.env_name, run.env)
    n = env_cfg.num_envs
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}; {n} envs, {args.config} {args.overrides}"
    )

    raw_step = RawBatch(env_cfg)
    probe_env = registry.make(run.train.env_name, run.env)
    probe = {"state": probe_env.reset(1)}
    action = np.random.default_rng(0).uniform(-0.3, 0.3, (n, probe_env.action_size))
    action = action.astype(np.float32)
    raw_samples: list[float] = []
    env_samples: list[float] = []
    raw_cpu: list[float] = []  # process CPU s per 1,000 env steps
    env_cpu: list[float] = []
    trainer_cpu: dict[bool, list[float]] = {}  # by overlap_update
    last_exit = [0.0]  # process CPU time when the last callback returned
    batch_share: list[float] = []  # share of env.step's time inside mujoco's Batch.step
    batch = probe_env.batch
    inside = [0.0]

    class TimedBatch:
        """The probe env's Batch, timing its step calls (the gap to raw is what is left)."""

        def step(self, *args: object, **kwargs: object) -> None:
            started = time.perf_counter()
            batch.step(*args, **kwargs)
            inside[0] += time.perf_counter() - started

        def __getattr__(self, name: str) -> object:
            return getattr(batch, name)

    probe_env.batch = TimedBatch()

    def measure_references(*_: object, cpu_of: list[float] | None = None) -> None:
        if cpu_of is not None:  # the trainer's CPU since the last callback: one iteration
            cpu_of.append(_per_1000(time.process_time() - last_exit[0], per_iteration))
        sps, cpu = raw_step.steps_per_second(args.chunk)
        raw_samples.append(sps)
        raw_cpu.append(cpu)
        steps, started, inside[0] = 0, time.perf_counter(), 0.0
        cpu_started = time.process_time()
        while time.perf_counter() - started < args.chunk:
            probe["state"] = probe_env.step(probe["state"], action)
            steps += 1
        elapsed = time.perf_counter() - started
        env_samples.append(n * steps / elapsed)
        env_cpu.append(_per_1000(time.process_time() - cpu_started, n * steps))
        batch_share.append(inside[0] / elapsed)
        last_exit[0] = time.process_time()

    cfg = run.train
    per_iteration = n * cfg.unroll_length
    iterations = max(2, math.ceil(args.budget / per_iteration))
    variants = [("overlapped update", True)]
    if not args.skip_waiting:
        variants.append(("update not overlapped", False))
    rows = []
    summaries = []
    ppo_sps = {}
    ppo_cpu: dict[bool, float] = {}  # median CPU s per 1,000 env steps
    for label, overlap in variants:
        env = registry.make(cfg.env_name, run.env)
        train_cfg = dataclasses.replace(cfg, num_iterations=iterations, overlap_update=overlap)
        train = ppo.make_train(train_cfg, env)
        started = time.perf_counter()
        cpu_of = trainer_cpu.setdefault(overlap, [])

        def callback(*_: object, cpu_of: list[float] = cpu_of) -> None:
            measure_references(cpu_of=cpu_of)

        last_exit[0] = time.process_time()
        result = train(jax.random.PRNGKey(cfg.seed), callback=callback)
        total = time.perf_counter() - started
        steady = result.history[1:]
        ppo_sps[overlap] = float(np.median([m["time/steps_per_s"] for m in steady]))
        # From one callback to the next: one rollout and one update (the first, left out,
        # also holds the reset and the update's compilation).
        ppo_cpu[overlap] = float(np.median(cpu_of[1:]))
        history = result.history
        returns = [m["episode/return"] for m in history if np.isfinite(m["episode/return"])]
        rows.append(
            (
                f"irondog PPO, {label}, {iterations} iterations ({iterations * per_iteration} "
                "steps)",
                ppo_sps[overlap],
                ppo_cpu[overlap],
                f"{returns[-1]:.3g}" if returns else "n/a",
                f"{history[-1]['env/tracking_error']:.3f}",
            )
        )
        summaries.append(
            f"irondog PPO, {label}: first iteration (compilation) "
            f"{history[0]['time/iteration_s']:.1f} s, wall {total:.1f} s in all"
        )
    raw_env = float(np.median(raw_samples[1:]))
    stepped = float(np.median(env_samples[1:]))
    raw_cpu_s = float(np.median(raw_cpu[1:]))
    rows = [
        ("raw mujoco.batch (Batch.step, NumPy PD)", raw_env, raw_cpu_s, "", ""),
        ("native env.step, random actions", stepped, float(np.median(env_cpu[1:])), "", ""),
        *rows,
    ]
    if not args.skip_sb3:
        cpu_started = time.process_time()
        sb3 = sb3_baseline.train(run, iterations * per_iteration)
        rows.append(
            (
                f"SB3 PPO, {sb3['steps']} steps",
                sb3["steps_per_s"],
                _per_1000(time.process_time() - cpu_started, sb3["steps"]),
                f"{sb3['episode_return']:.3g}",
                f"{sb3['curve'][-1]['env/tracking_error']:.3f}",
            )
        )
    print(
        "\n| run | env steps/s | ratio to raw batch | CPU s per 1k steps | raw CPU / its CPU "
        "| last return | track err m/s |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, sps, cpu, ret, err in rows:
        print(
            f"| {name} | {sps:,.0f} | {sps / raw_env:.2f} | {cpu:.3f} | {raw_cpu_s / cpu:.2f} "
            f"| {ret} | {err} |"
        )
    print()
    for line in summaries:
        print(line)
    print(f"irondog PPO (overlapped) / env.step: {ppo_sps[True] / stepped:.2f}")
    print(f"share of env.step inside Batch.step (median): {np.median(batch_share[1:]):.3f}")
    if False in ppo_sps:
        print(f"overlapped / not overlapped: {ppo_sps[True] / ppo_sps[False]:.2f}")
    if not args.skip_sb3:
        print(f"irondog PPO (overlapped) / SB3 PPO steps/s: {ppo_sps[True] / rows[-1][1]:.1f}x")
    print(f"# load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
