"""MJX variants that take minutes to compile on a CPU: rough ground, the gait task and the GPU
presets."""

import jax
import numpy as np
import pytest

from irondog.config import load
from irondog.envs.config import EnvConfig
from irondog.envs.mjx_env import MjxEnv


@pytest.mark.slow
@pytest.mark.parametrize("variant", [["terrain=rough"], ["task=gaits"]])
def test_mjx_variant_steps_and_autoresets(variant):
    jax.config.update("jax_disable_most_optimizations", True)
    try:
        cfg = load(EnvConfig, overrides=["num_envs=4", "episode_length=0.1", *variant])
        env = MjxEnv(cfg)
        state = env.reset(0)
        for _ in range(6):
            state = env.step(state, np.zeros((4, 12), np.float32))
        assert np.isfinite(np.asarray(state.obs)).all()
        assert np.asarray(state.info.task.step).max() <= 1  # reset after 5 steps
        if cfg.terrain == "rough":
            assert "terrain_level" in state.metrics
    finally:
        jax.config.update("jax_disable_most_optimizations", False)


@pytest.mark.slow
@pytest.mark.gpu  # the GPU presets (shrunk so that a CPU runs them too: -m slow or -m gpu)
@pytest.mark.parametrize("preset", ["trot_gpu", "rough_gpu", "gaits_gpu", "joystick_gpu"])
def test_gpu_preset_trains_on_the_mjx_back_end(tmp_path, preset):
    # configs/train/<preset>.yaml as written (MJX, its networks, rewards and terrain), shrunk
    # to 64 simulations and two iterations so a CPU runs it (minutes, most of it compiling).
    from irondog import cli

    log_dir = tmp_path / preset
    overrides = [
        "env.num_envs=64", "train.num_minibatches=4", "train.num_iterations=2",
        "train.checkpoint_every=1", f"train.log_dir={log_dir}",
    ]  # fmt: skip
    argv = ["train", "--config", f"configs/train/{preset}.yaml", "--no-progress", *overrides]
    assert cli.main(argv) == 0
    assert sorted(p.name for p in log_dir.glob("checkpoint_*.msgpack")) == [
        "checkpoint_00000001.msgpack", "checkpoint_00000002.msgpack",
    ]  # fmt: skip


@pytest.mark.gpu
def test_the_warp_path_steps_and_autoresets():
    # MuJoCo Warp (env.mjx_impl=warp) needs mujoco-warp and a CUDA GPU.
    pytest.importorskip("mujoco_warp")
    if not any(d.platform == "gpu" for d in jax.devices()):
        pytest.skip("no GPU: the Warp path runs on CUDA only")
    cfg = load(EnvConfig, overrides=["num_envs=64", "episode_length=0.1", "mjx_impl=warp"])
    env = MjxEnv(cfg)
    state = env.reset(0)
    for _ in range(6):
        state = env.step(state, np.zeros((64, 12), np.float32))
    assert np.isfinite(np.asarray(state.obs)).all()
    assert np.asarray(state.info.task.step).max() <= 1  # reset after 5 steps
