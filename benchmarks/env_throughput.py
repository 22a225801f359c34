"""Native back end throughput and memory against raw ``mujoco.batch`` stepping, side by side.

Target (issue 2): with 4096 simulations, task and motor law included, at least 80% of the
physics steps/s of raw ``Batch.step`` on the same MJCF, in under 2 GB resident memory.

    python benchmarks/env_throughput.py [--num-envs 4096] [--seconds 20] [--repeats 3]
        [--baseline-python PATH]

Each repeat measures the raw batch and then the environment for the same number of seconds;
the best of the repeats of each is reported (the least disturbed by other processes).
``--baseline-python`` also measures the environment of another install (an interpreter whose
``irondog`` is an earlier commit) in each repeat, side by side with this one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys


def measure_in_subprocess(
    kind: str, num_envs: int, seconds: float, python: str = sys.executable
) -> dict:
    """Each figure in a fresh process, so that memory is that of one batch alone."""
    code = f"""
import json
from irondog.config import load
from irondog.envs import bench
from irondog.envs.config import EnvConfig
cfg = load(EnvConfig, overrides=["num_envs={num_envs}"])
if {kind!r} == "raw":
    sps = bench.raw_batch_steps_per_second(cfg, {seconds})
    print(json.dumps({{"physics_steps_per_s": sps, "rss_mb": bench.rss_mb()}}))
else:
    print(json.dumps(bench.env_steps_per_second(cfg, {seconds})))
"""
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--num-envs", type=int, default=4096)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--baseline-python", metavar="PATH", help="interpreter of an earlier install to compare"
    )
    args = parser.parse_args()
    raw, env, baseline = [], [], []
    for _ in range(args.repeats):
        raw.append(measure_in_subprocess("raw", args.num_envs, args.seconds))
        env.append(measure_in_subprocess("env", args.num_envs, args.seconds))
        if args.baseline_python:
            baseline.append(
                measure_in_subprocess("env", args.num_envs, args.seconds, args.baseline_python)
            )
    best_raw = max(r["physics_steps_per_s"] for r in raw)
    best_env = max(e["physics_steps_per_s"] for e in env)
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "num_envs": args.num_envs,
        "raw_physics_steps_per_s": round(best_raw),
        "env_physics_steps_per_s": round(best_env),
        "env_steps_per_s": round(max(e["env_steps_per_s"] for e in env)),
        "ratio_env_to_raw": round(best_env / best_raw, 3),
        "env_rss_mb": round(max(e["rss_mb"] for e in env)),
        "raw_rss_mb": round(max(r["rss_mb"] for r in raw)),
        "all_raw": [round(r["physics_steps_per_s"]) for r in raw],
        "all_env": [round(e["physics_steps_per_s"]) for e in env],
    }
    if baseline:
        best_base = max(b["physics_steps_per_s"] for b in baseline)
        result["baseline_env_physics_steps_per_s"] = round(best_base)
        result["ratio_baseline_to_raw"] = round(best_base / best_raw, 3)
        result["ratio_env_to_baseline"] = round(best_env / best_base, 3)
        result["all_baseline"] = [round(b["physics_steps_per_s"]) for b in baseline]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
