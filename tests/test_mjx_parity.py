"""The MJX back end runs the same task as the native one: same numbers, same inputs.

MJX compiles for about a minute on a 2-core CPU, so this is the one MJX test of the fast
suite: a batch of 4 for 20 control steps, with XLA's heavier optimisations turned off to cut
compilation time.
"""

import jax
import numpy as np
import pytest

from irondog.config import load
from irondog.envs.config import EnvConfig
from irondog.envs.mjx_env import MjxEnv
from irondog.envs.native import NativeEnv

# Observations: float32 MJX against float64 MuJoCo through contacts; velocities dominate.
OBS_ATOL = 2e-2
REWARD_ATOL = 1e-4


@pytest.fixture
def fast_compile():
    jax.config.update("jax_disable_most_optimizations", True)
    yield
    jax.config.update("jax_disable_most_optimizations", False)


def test_native_and_mjx_match_for_20_control_steps(fast_compile):
    cfg = load(
        EnvConfig,
        overrides=[
            "num_envs=4", "randomization.enabled=false", "noise.scale=0",
            "command.resample_interval=1000", "num_threads=1",
        ],
    )  # fmt: skip
    native = NativeEnv(cfg)
    ns = native.reset(1)
    mjx_env = MjxEnv(cfg, autoreset=False)  # nothing ends in 20 steps; skips a compile
    ms = mjx_env.reset_to(native.qpos.copy(), native.qvel.copy(), ns.info["task"].command)
    np.testing.assert_allclose(np.asarray(ms.obs), ns.obs, atol=1e-5)
    rng = np.random.default_rng(0)
    for _ in range(20):
        action = rng.uniform(-0.3, 0.3, (4, 12)).astype(np.float32)
        ns = native.step(ns, action)
        ms = mjx_env.step(ms, action)
        np.testing.assert_allclose(np.asarray(ms.obs), ns.obs, atol=OBS_ATOL)
        np.testing.assert_allclose(np.asarray(ms.reward), ns.reward, atol=REWARD_ATOL)
        np.testing.assert_array_equal(np.asarray(ms.done), ns.done)
    tau_native = ns.metrics["reward/torque"]
    np.testing.assert_allclose(np.asarray(ms.metrics["reward/torque"]), tau_native, rtol=1e-2)
