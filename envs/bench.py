"""Throughput measurements of the back ends, side by side with raw ``mujoco.batch`` stepping."""

from __future__ import annotations

import os
import time

import numpy as np
import psutil

from irondog.envs.config import EnvConfig


def rss_mb() -> float:
    """Resident memory of this process, MB."""
    return psutil.Process().memory_info().rss / 2**20


def raw_batch_steps_per_second(cfg: EnvConfig, seconds: float = 5.0) -> float:
    """Physics steps/s of plain ``Batch.step`` on the same model, with a PD law in NumPy
    written once per control step (the least work a controller can do)."""
    from mujoco.batch import Batch

    from irondog.envs import terrain
    from irondog.envs.robot import RobotIds

    model = terrain.build_model(cfg)
    ids = RobotIds.from_model(model)
    batch = Batch(model, cfg.num_envs, nthread=cfg.num_threads or os.cpu_count() or 1)
    batch.reset(keyframe=0)
    qpos, qvel, ctrl = batch.bind("qpos"), batch.bind("qvel"), batch.bind("ctrl")
    steps = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        ctrl[:] = np.clip(cfg.kp * (ids.default_pose - qpos[:, 7:]) - cfg.kd * qvel[:, 6:], -12, 12)
        batch.step(nstep=cfg.substeps)
        steps += cfg.substeps
    return cfg.num_envs * steps / (time.perf_counter() - start)


def env_steps_per_second(cfg: EnvConfig, seconds: float = 5.0, seed: int = 0) -> dict[str, float]:
    """Environment and physics steps/s of the configured back end.

    The policy holds the home pose (zero actions), the motion the raw reference's PD law
    makes, so that both run the same physics and the difference is the environment's own
    work: motor law at every physics step, sensors, task, randomisation, resets.
    """
    from irondog.envs.registry import backend_factory

    env = backend_factory(cfg.backend)(cfg)
    state = env.reset(seed)
    action = np.zeros((cfg.num_envs, env.action_size), dtype=np.float32)
    state = env.step(state, action)  # warm-up (compiles the MJX step)
    _block(state)
    steps = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        state = env.step(state, action)
        steps += 1
    _block(state)
    elapsed = time.perf_counter() - start
    env_sps = cfg.num_envs * steps / elapsed
    return {
        "env_steps_per_s": env_sps,
        "physics_steps_per_s": env_sps * cfg.substeps,
        "rss_mb": rss_mb(),
    }


def _block(state: object) -> None:
    obs = getattr(state, "obs", None)
    if hasattr(obs, "block_until_ready"):
        obs.block_until_ready()
