"""Measure environment steps/s for a back end and a number of simulations."""

from __future__ import annotations

import argparse
import json


def register(parser: argparse.ArgumentParser) -> None:
    from irondog.argtypes import at_least, positive

    parser.add_argument("--config", help="EnvConfig YAML (for example configs/env/flat.yaml)")
    parser.add_argument("--backend", choices=["native", "mjx"], help="physics back end")
    parser.add_argument("--num-envs", type=at_least(1), help="number of parallel simulations")
    parser.add_argument("--seconds", type=positive, default=5.0, help="time to measure each figure")
    parser.add_argument("--raw", action="store_true", help="also measure raw mujoco.batch")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("overrides", nargs="*", help="dotted overrides, e.g. terrain=rough")


def run(args: argparse.Namespace) -> int:
    from irondog.config import ConfigError, load
    from irondog.envs import bench
    from irondog.envs.config import EnvConfig

    overrides = list(args.overrides)
    if args.backend:
        overrides.append(f"backend={args.backend}")
    if args.num_envs is not None:
        overrides.append(f"num_envs={args.num_envs}")
    if args.seconds <= 0:
        raise ConfigError(f"--seconds must be > 0, got {args.seconds}")
    cfg = load(EnvConfig, args.config, overrides)
    result = {"backend": cfg.backend, "num_envs": cfg.num_envs, "terrain": cfg.terrain}
    result.update(bench.env_steps_per_second(cfg, args.seconds))
    if args.raw:
        raw = bench.raw_batch_steps_per_second(cfg, args.seconds)
        result["raw_physics_steps_per_s"] = raw
        result["ratio_to_raw"] = result["physics_steps_per_s"] / raw
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            text = f"{value:,.1f}" if isinstance(value, float) else str(value)
            print(f"{key:24s} {text}")
    return 0
