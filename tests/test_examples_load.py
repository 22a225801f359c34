"""The shipped checkpoints in examples/ load, act in their environment, and export to ONNX
files whose runner gives the same actions (written before the control step was shared)."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from irondog.agents import export, onnx_runner, policy
from irondog.envs.native import NativeEnv

EXAMPLES = sorted(Path(__file__).resolve().parents[1].glob("examples/*/checkpoint_*.msgpack"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_a_shipped_checkpoint_loads_acts_and_exports(path, tmp_path):
    act, env_config = policy.load_policy(path)
    env = NativeEnv(dataclasses.replace(env_config, num_envs=2, num_threads=1))
    policy.check_env_matches(path, env)
    state = env.reset(0)
    for _ in range(5):
        state = env.step(state, act(state.obs))
    assert np.isfinite(state.obs).all() and not state.done.any()
    onnx_path = export.export_checkpoint(path, tmp_path / "policy.onnx")
    runner = onnx_runner.OnnxPolicy(onnx_path)
    # The ONNX graph leaves the action unclipped; the runner and the loops clip it to [-1, 1].
    np.testing.assert_allclose(np.clip(runner(state.obs), -1, 1), act(state.obs), atol=1e-5)
