"""Does overlapping the update with the rollout change learning? Same preset, same seed, twice.

Trains ``--iterations`` iterations with ``train.overlap_update=true`` (the default: the next
rollout acts with the policy from before the update in flight) and then with ``false`` (each
rollout waits for the update), and prints the training tracking error and reward per step
every ``--every`` iterations, side by side, with each run's steps/s (median after the first
iteration). Both runs see the same simulations and the same first rollout.

    python benchmarks/overlap_learning.py --iterations 80                  # joystick_cpu
    python benchmarks/overlap_learning.py --iterations 40 --config configs/train/trot_cpu.yaml

Prints a Markdown table (paste into benchmarks/RESULTS.md); --csv writes every iteration.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import os

import jax
import numpy as np

from irondog.agents import ppo
from irondog.agents.config import RunConfig
from irondog.config import load
from irondog.envs import registry

KEYS = ("env/tracking_error", "reward/per_step", "episode/return", "time/steps_per_s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/train/joystick_cpu.yaml")
    parser.add_argument("overrides", nargs="*")
    parser.add_argument("--iterations", type=int, default=80)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--csv", help="write every iteration of both runs here")
    args = parser.parse_args()
    run = load(RunConfig, args.config, args.overrides)
    print(
        f"# {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
        f"{args.config} {args.overrides}, seed {run.train.seed}"
    )
    histories = {}
    for overlap in (True, False):
        cfg = dataclasses.replace(run.train, num_iterations=args.iterations, overlap_update=overlap)
        env = registry.make(cfg.env_name, run.env)
        result = ppo.make_train(cfg, env)(jax.random.PRNGKey(cfg.seed))
        histories[overlap] = result.history
    print(f"# load average at the end {os.getloadavg()[0]:.1f}\n")
    print(
        "| iteration | track err m/s, overlapped | not overlapped | reward/step, overlapped "
        "| not overlapped |"
    )
    print("| --- | --- | --- | --- | --- |")
    for i in range(args.every - 1, args.iterations, args.every):
        a, b = histories[True][i], histories[False][i]
        print(
            f"| {i + 1} | {a['env/tracking_error']:.3f} | {b['env/tracking_error']:.3f} "
            f"| {a['reward/per_step']:.4f} | {b['reward/per_step']:.4f} |"
        )
    for overlap, history in histories.items():
        sps = np.median([m["time/steps_per_s"] for m in history[1:]])
        print(f"overlap_update={str(overlap).lower()}: median {sps:,.0f} steps/s")
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["overlap_update", "iteration", *KEYS])
            for overlap, history in histories.items():
                for m in history:
                    writer.writerow([overlap, int(m["iteration"]), *(m[k] for k in KEYS)])


if __name__ == "__main__":
    main()
