"""Time to trot on this machine with the CPU preset, one command:

    python benchmarks/train_time_to_trot.py                  # 30 min budget, trot_cpu.yaml
    python benchmarks/train_time_to_trot.py --minutes 5 env.num_envs=256

Trains irondog PPO and, every ``--eval-minutes`` of wall clock, runs the deterministic policy
for one 20-s episode on ``--eval-envs`` fresh simulations commanded 0.5 m/s forward. The goal
is met when the mean horizontal speed error is at most 0.1 m/s and under 5% of those episodes
end in a fall. Writes the learning curve (steps, wall clock, return, tracking error, falls)
to <log_dir>/curve.csv, the evaluations to <log_dir>/evals.csv, a final checkpoint, and
prints a Markdown summary for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import os
import time
from pathlib import Path

import jax
import numpy as np

from irondog.agents import checkpoint, ppo
from irondog.agents.config import RunConfig
from irondog.config import load, to_dict
from irondog.envs import registry

TARGET_ERROR = 0.1  # m/s
TARGET_FALLS = 0.05  # fraction of 20-s episodes


class StopTraining(Exception):
    """Raised by the callback when the goal is met or the time is up."""


def evaluate(env, policy, learner, episode_steps: int, seed: int) -> dict[str, float]:
    """One episode per simulation with the mean action: tracking error and fall fraction."""
    state = env.reset(seed)
    alive = np.ones(env.num_envs, bool)
    fell = np.zeros(env.num_envs, bool)
    error_sum, error_count = 0.0, 0
    for _ in range(episode_steps):
        action = np.asarray(policy(learner.params, learner.obs_normalizer, state.obs))
        state = env.step(state, action)
        error_sum += float(state.metrics["tracking_error"][alive].sum())
        error_count += int(alive.sum())
        ended = alive & (state.done > 0.5)
        fell |= ended & (state.truncated < 0.5)
        alive &= ~ended
        if not alive.any():
            break
    return {
        "eval/tracking_error": error_sum / max(error_count, 1),
        "eval/fall_fraction": float(fell.mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/train/trot_cpu.yaml")
    parser.add_argument("overrides", nargs="*")
    parser.add_argument("--minutes", type=float, default=30.0, help="wall-clock budget")
    parser.add_argument("--eval-minutes", type=float, default=3.0)
    parser.add_argument("--eval-envs", type=int, default=32)
    parser.add_argument("--log-dir", default="runs/time_to_trot")
    args = parser.parse_args()
    run = load(RunConfig, args.config, [*args.overrides, "train.total_steps=10_000_000_000"])
    log_dir = Path(args.log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)

    env = registry.make(run.train.env_name, run.env)
    eval_cfg = dataclasses.replace(run.env, num_envs=args.eval_envs)
    eval_env = registry.make(run.train.env_name, eval_cfg)
    episode_steps = registry.make_config(run.train.env_name, run.env).episode_steps
    train = ppo.make_train(run.train, env)
    policy = jax.jit(ppo.make_inference_fn(train.networks))

    start = time.perf_counter()
    eval_seconds = 0.0
    last_eval = start
    curve: list[dict[str, float]] = []
    evals: list[dict[str, float]] = []
    final: dict = {"learner": None, "reached": None}

    def on_iteration(learner, metrics: dict[str, float]) -> None:
        nonlocal last_eval, eval_seconds
        final["learner"] = learner
        now = time.perf_counter()
        row = {
            k: metrics.get(k, float("nan"))
            for k in (
                "iteration",
                "env_steps",
                "episode/return",
                "env/tracking_error",
                "episode/fall_fraction",
                "time/steps_per_s",
                "reward/per_step",
                "policy/std",
            )
        }
        row["wall_s"] = now - start
        curve.append(row)
        print(
            f"it {int(row['iteration']):4d}  steps {row['env_steps']:>11,.0f}  "
            f"wall {row['wall_s']:6.0f} s  return {row['episode/return']:8.3g}  "
            f"track {row['env/tracking_error']:.3f}  falls {row['episode/fall_fraction']:.3f}  "
            f"{row['time/steps_per_s']:6.0f} steps/s  r/step {row['reward/per_step']:.4f}  "
            f"std {row['policy/std']:.3f}",
            flush=True,
        )
        out_of_time = now - start > args.minutes * 60
        if now - last_eval > args.eval_minutes * 60 or out_of_time:
            result = evaluate(eval_env, policy, learner, episode_steps, seed=10_000 + len(evals))
            eval_seconds += time.perf_counter() - now
            last_eval = time.perf_counter()
            result.update(wall_s=now - start, env_steps=row["env_steps"], eval_total_s=eval_seconds)
            evals.append(result)
            print(f"  eval: {result}", flush=True)
            if (
                result["eval/tracking_error"] <= TARGET_ERROR
                and result["eval/fall_fraction"] < TARGET_FALLS
            ):
                final["reached"] = result
                raise StopTraining
        if out_of_time:
            raise StopTraining

    try:
        train(jax.random.PRNGKey(run.train.seed), callback=on_iteration)
    except (StopTraining, KeyboardInterrupt):
        pass
    for name, rows in (("curve.csv", curve), ("evals.csv", evals)):
        if rows:
            with open(log_dir / name, "w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
    if final["learner"] is not None:
        sizes = {
            "observation_size": env.observation_size,
            "privileged_observation_size": env.privileged_observation_size,
            "action_size": env.action_size,
        }
        iteration = int(curve[-1]["iteration"])
        checkpoint.save(log_dir, final["learner"], to_dict(run), sizes, iteration)

    print(f"\n## Time to trot ({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f})\n")
    print("| wall min | env steps | eval track err m/s | eval falls | train steps/s |")
    print("| --- | --- | --- | --- | --- |")
    for result in evals:
        sps = np.mean([r["time/steps_per_s"] for r in curve if r["wall_s"] <= result["wall_s"]])
        print(
            f"| {result['wall_s'] / 60:.1f} | {result['env_steps']:,.0f} | "
            f"{result['eval/tracking_error']:.3f} | {result['eval/fall_fraction']:.2f} | "
            f"{sps:,.0f} |"
        )
    if final["reached"]:
        print(
            f"\nGoal met after {final['reached']['wall_s'] / 60:.1f} min of wall clock "
            f"({final['reached']['eval_total_s'] / 60:.1f} min of it evaluating)."
        )
    else:
        print(f"\nGoal NOT met within {args.minutes:.0f} min.")


if __name__ == "__main__":
    main()
