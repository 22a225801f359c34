"""MJX variants that take minutes to compile on a CPU: rough ground and the gait task."""

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
        assert np.asarray(state.info["task"].step).max() <= 1  # reset after 5 steps
        if cfg.terrain == "rough":
            assert "terrain_level" in state.metrics
    finally:
        jax.config.update("jax_disable_most_optimizations", False)
