"""CPU time per physics step of the native env, raw ``mujoco.batch`` and an earlier install.

    python benchmarks/env_cpu_time.py [--num-envs 4096] [--steps 40] [--repeats 3]
        [--baseline-python PATH]

``env_throughput.py`` measures wall-clock throughput, which on a shared machine moves with
the other jobs' load (the raw figure moved 4x within one run at load 5-9). This script counts
the CPU seconds (all threads of the process, ``time.process_time``) that a fixed number of
control steps take: the work itself, which another job's load changes far less. Each figure
is measured in a fresh process; raw, env and baseline env alternate within each repeat; the
least CPU time of the repeats is reported. The env holds the home pose (zero actions), the
motion the raw PD reference makes, as in ``env_throughput.py``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CODE = """
import json, time
import numpy as np
from irondog.config import load
from irondog.envs.config import EnvConfig
cfg = load(EnvConfig, overrides=["num_envs={num_envs}"])
steps = {steps}
if {kind!r} == "raw":
    import os
    from mujoco.batch import Batch
    from irondog.envs import terrain
    from irondog.envs.robot import RobotIds
    model = terrain.build_model(cfg)
    ids = RobotIds.from_model(model)
    batch = Batch(model, cfg.num_envs, nthread=cfg.num_threads or os.cpu_count() or 1)
    batch.reset(keyframe=0)
    qpos, qvel, ctrl = batch.bind("qpos"), batch.bind("qvel"), batch.bind("ctrl")
    def control_step():
        ctrl[:] = np.clip(cfg.kp * (ids.default_pose - qpos[:, 7:]) - cfg.kd * qvel[:, 6:],
                          -12, 12)
        batch.step(nstep=cfg.substeps)
    for _ in range(2):
        control_step()
else:
    from irondog.envs.native import NativeEnv
    env = NativeEnv(cfg)
    state = env.reset(0)
    action = np.zeros((cfg.num_envs, 12), dtype=np.float32)
    def control_step():
        global state
        state = env.step(state, action)
    for _ in range(2):
        control_step()
cpu, wall = time.process_time(), time.perf_counter()
for _ in range(steps):
    control_step()
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
physics = cfg.num_envs * steps * cfg.substeps
print(json.dumps({{"cpu_us_per_physics_step": 1e6 * cpu / physics,
                   "wall_us_per_physics_step": 1e6 * wall / physics}}))
"""


def measure(kind: str, num_envs: int, steps: int, python: str) -> dict:
    """One figure, in a fresh process of ``python``."""
    code = CODE.format(kind=kind, num_envs=num_envs, steps=steps)
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--num-envs", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=40, help="control steps per figure")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline-python", metavar="PATH", help="an earlier install")
    args = parser.parse_args()
    kinds = [("raw", sys.executable), ("env", sys.executable)]
    if args.baseline_python:
        kinds.append(("baseline", args.baseline_python))
    runs: dict[str, list[dict]] = {name: [] for name, _ in kinds}
    for _ in range(args.repeats):
        for name, python in kinds:
            kind = "raw" if name == "raw" else "env"
            runs[name].append(measure(kind, args.num_envs, args.steps, python))
    best = {name: min(r["cpu_us_per_physics_step"] for r in rs) for name, rs in runs.items()}
    result = {
        "num_envs": args.num_envs,
        "cpu_us_per_physics_step": {k: round(v, 3) for k, v in best.items()},
        "all_cpu_us": {
            k: [round(r["cpu_us_per_physics_step"], 3) for r in v] for k, v in runs.items()
        },
        "all_wall_us": {
            k: [round(r["wall_us_per_physics_step"], 3) for r in v] for k, v in runs.items()
        },
        # As a throughput ratio (higher is better): raw CPU time over the env's.
        "ratio_env_to_raw": round(best["raw"] / best["env"], 3),
    }
    if "baseline" in best:
        result["ratio_baseline_to_raw"] = round(best["raw"] / best["baseline"], 3)
        result["ratio_env_to_baseline"] = round(best["baseline"] / best["env"], 3)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
