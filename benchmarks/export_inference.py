"""ONNX policy inference latency, single-threaded, batch 1: p50 and p99 per step.

    python benchmarks/export_inference.py [--calls 20000] [--rt-priority 50]

Exports an untrained actor of the default training shape (48 -> 256 -> 128 -> 128 -> 12, elu,
normaliser folded in) and times, in the same run:
  * onnxruntime ``session.run`` (SessionOptions intra_op_num_threads=1), the target <= 50 us;
  * ``OnnxPolicy.__call__`` (the same plus the shape and NaN checks the loops use);
  * the reference: the JAX actor, jit-compiled, on the same CPU with one observation.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def _percentiles(samples: list[float]) -> tuple[float, float]:
    us = np.asarray(samples) * 1e6
    return float(np.percentile(us, 50)), float(np.percentile(us, 99))


def _time(fn, obs: np.ndarray, calls: int) -> list[float]:
    for _ in range(200):  # warm-up
        fn(obs)
    out = []
    for _ in range(calls):
        start = time.perf_counter()
        fn(obs)
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rt-priority", type=int, default=0,
                        help="SCHED_FIFO priority (needs root); 0 = normal")  # fmt: skip
    args = parser.parse_args()
    if args.rt_priority:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(args.rt_priority))

    import onnxruntime as ort

    from irondog.agents import export
    from irondog.agents.config import RunConfig
    from irondog.agents.onnx_runner import OnnxPolicy

    path = Path(tempfile.mkdtemp()) / "policy.onnx"
    export.export_random(RunConfig(), path)
    policy = OnnxPolicy(path, threads=1)
    obs = np.random.default_rng(0).normal(size=(1, 48)).astype(np.float32)
    session = policy.session
    feed = {"obs": obs}

    results = {}
    results["onnxruntime session.run"] = _percentiles(
        _time(lambda o: session.run(["action"], feed), obs, args.calls)
    )
    results["OnnxPolicy (with checks)"] = _percentiles(_time(policy, obs[0], args.calls))

    import jax

    from irondog.agents.networks import MLP

    cfg = RunConfig().train
    actor = MLP((*cfg.actor_hidden, 12), cfg.activation)
    params = actor.init(jax.random.PRNGKey(0), obs)
    forward = jax.jit(actor.apply)
    results["reference: JAX jit (CPU)"] = _percentiles(
        _time(lambda o: forward(params, o).block_until_ready(), obs, args.calls)
    )

    print(f"onnxruntime {ort.__version__}, jax {jax.__version__}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}, {args.calls} calls each, "
          f"priority {args.rt_priority}")  # fmt: skip
    ref = results["reference: JAX jit (CPU)"]
    print("| path | p50 us | p99 us | p50 ratio to JAX |")
    print("| --- | --- | --- | --- |")
    for name, (p50, p99) in results.items():
        print(f"| {name} | {p50:.1f} | {p99:.1f} | {p50 / ref[0]:.2f} |")


if __name__ == "__main__":
    main()
