"""Every shipped preset loads strictly and fits the environment it names."""

from pathlib import Path

import pytest

from irondog.agents.config import RunConfig
from irondog.config import load
from irondog.envs import registry
from irondog.envs.config import EnvConfig
from irondog.envs.gaits import GaitParams

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("env/*.yaml")), ids=lambda p: p.name)
def test_env_presets_load(path):
    assert load(EnvConfig, path).num_envs > 0


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("train/*.yaml")), ids=lambda p: p.name)
def test_train_presets_load_and_match_their_env_id(path):
    run = load(RunConfig, path)
    env = registry.make_config(run.train.env_name, run.env)
    assert env.num_envs > 0


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("gaits/*.yaml")), ids=lambda p: p.name)
def test_gait_presets_load(path):
    assert 0 < load(GaitParams, path).duty < 1
