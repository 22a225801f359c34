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
    started = time.perf_counter()
    state = env.reset(seed)
    action = np.zeros((cfg.num_envs, env.action_size), dtype=np.float32)
    for _ in range(2):  # warm-up: compiles the MJX step (see mjx_physics_steps_per_second)
        state = env.step(state, action)
    _block(state)
    compile_s = time.perf_counter() - started
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
        "compile_s": compile_s,  # build, reset and first step (MJX: mostly compilation)
        "rss_mb": rss_mb(),
    }


def mjx_physics_steps_per_second(cfg: EnvConfig, seconds: float = 5.0) -> dict[str, float]:
    """Physics steps/s of bare ``mjx.step`` on the same model (MJX's counterpart of
    ``raw_batch_steps_per_second``): a PD law in JAX once per control step, ``cfg.substeps``
    vmapped ``mjx.step`` calls in one compiled ``lax.scan``, nominal model, no task."""
    import jax
    import jax.numpy as jnp
    from mujoco import mjx

    from irondog.envs import terrain
    from irondog.envs.mjx_env import check_impl, make_data_template
    from irondog.envs.robot import RobotIds

    check_impl(cfg.mjx_impl)
    started = time.perf_counter()
    model = terrain.build_model(cfg)
    model.opt.timestep = cfg.sim_dt
    ids = RobotIds.from_model(model)
    mx = mjx.put_model(model, impl=cfg.mjx_impl)
    template = make_data_template(model, mx, cfg.mjx_impl, cfg.num_envs)
    home = jnp.tile(jnp.asarray(ids.home_qpos), (cfg.num_envs, 1))
    data = jax.vmap(lambda q: template.replace(qpos=q))(home)
    pose = jnp.asarray(ids.default_pose)
    step = jax.vmap(mjx.step, in_axes=(None, 0))

    @jax.jit
    def control_step(data: mjx.Data) -> mjx.Data:
        torque = cfg.kp * (pose - data.qpos[:, 7:]) - cfg.kd * data.qvel[:, 6:]
        data = data.replace(ctrl=jnp.clip(torque, -12.0, 12.0))
        return jax.lax.scan(lambda d, _: (step(mx, d), None), data, None, cfg.substeps)[0]

    # Two warm-up calls: on the CPU here the second call compiled again (its input, the first
    # call's output, is placed unlike the vmap-built start), which the timed loop must not hold.
    for _ in range(2):
        data = control_step(data)
    data.qpos.block_until_ready()
    compile_s = time.perf_counter() - started
    steps = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        data = control_step(data)
        steps += 1
    data.qpos.block_until_ready()
    elapsed = time.perf_counter() - start
    return {
        "physics_steps_per_s": cfg.num_envs * steps * cfg.substeps / elapsed,
        "compile_s": compile_s,
    }


def _block(state: object) -> None:
    obs = getattr(state, "obs", None)
    if hasattr(obs, "block_until_ready"):
        obs.block_until_ready()
