"""Training throughput, side by side in one run on the same environment config:

1. raw ``mujoco.batch`` stepping (plain Batch.step with a NumPy PD law, envs/bench.py),
2. the native env's ``step`` with fixed random actions (the task functions included),
3. irondog PPO training (rollout + jitted inference + jitted update), first iteration
   (compilation) excluded,
4. stable-baselines3 PPO through the SB3 VecEnv adapter, same settings and the same budget.

    python benchmarks/train_throughput.py                       # trot_cpu preset, 512 envs
    python benchmarks/train_throughput.py --budget 600000 --skip-sb3 env.num_envs=1024

Prints a Markdown table (paste into benchmarks/results/train.md).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time

import jax
import numpy as np

from irondog.agents import ppo, sb3_baseline
from irondog.agents.config import RunConfig
from irondog.config import load
from irondog.envs import bench, registry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/train/trot_cpu.yaml")
    parser.add_argument("overrides", nargs="*")
    parser.add_argument("--budget", type=int, default=400_000, help="env steps per trainer")
    parser.add_argument("--seconds", type=float, default=10.0, help="per raw measurement")
    parser.add_argument("--skip-sb3", action="store_true")
    args = parser.parse_args()
    run = load(RunConfig, args.config, args.overrides)
    env_cfg = registry.make_config(run.train.env_name, run.env)
    n = env_cfg.num_envs
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}; {n} envs, {args.config} {args.overrides}"
    )

    raw_physics = bench.raw_batch_steps_per_second(env_cfg, args.seconds)
    raw_env = raw_physics / env_cfg.substeps
    stepped = bench.env_steps_per_second(env_cfg, args.seconds)["env_steps_per_s"]

    cfg = run.train
    per_iteration = n * cfg.unroll_length
    iterations = max(2, math.ceil(args.budget / per_iteration))
    env = registry.make(cfg.env_name, run.env)
    import dataclasses

    train = ppo.make_train(dataclasses.replace(cfg, num_iterations=iterations), env)
    started = time.perf_counter()
    result = train(jax.random.PRNGKey(cfg.seed))
    total = time.perf_counter() - started
    steady = result.history[1:]
    ours = sum(m["time/iteration_s"] for m in steady)
    ours_sps = per_iteration * len(steady) / ours
    returns = [m["episode/return"] for m in result.history if np.isfinite(m["episode/return"])]
    errors = [m["env/tracking_error"] for m in result.history]
    compile_s = result.history[0]["time/iteration_s"]

    rows = [
        ("raw mujoco.batch (Batch.step, NumPy PD)", raw_env, "", ""),
        ("native env.step, random actions", stepped, "", ""),
        (
            f"irondog PPO, {iterations} iterations ({iterations * per_iteration} steps)",
            ours_sps,
            f"{returns[-1]:.3g}" if returns else "n/a",
            f"{errors[-1]:.3f}",
        ),
    ]
    if not args.skip_sb3:
        sb3 = sb3_baseline.train(run, iterations * per_iteration)
        rows.append(
            (
                f"SB3 PPO, {sb3['steps']} steps",
                sb3["steps_per_s"],
                f"{sb3['episode_return']:.3g}",
                f"{sb3['curve'][-1]['env/tracking_error']:.3f}",
            )
        )
    print("\n| run | env steps/s | ratio to raw batch | last return | track err m/s |")
    print("| --- | --- | --- | --- | --- |")
    for name, sps, ret, err in rows:
        print(f"| {name} | {sps:,.0f} | {sps / raw_env:.2f} | {ret} | {err} |")
    print(
        f"\nirondog PPO: first iteration (compilation) {compile_s:.1f} s, "
        f"wall {total:.1f} s in all; vs env.step {ours_sps / stepped:.2f}"
    )
    if not args.skip_sb3:
        print(f"irondog PPO / SB3 PPO steps/s: {ours_sps / rows[-1][1]:.1f}x")


if __name__ == "__main__":
    main()
