"""PPO on the toy point-mass env: both rollout drivers, learning, determinism, configs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import numpy as np
import pytest
from test_ppo_toy import NumpyPointMassEnv, PointMassEnv

from irondog.agents import ppo
from irondog.agents.config import RunConfig, TrainConfig
from irondog.config import ConfigError, load

CFG = TrainConfig(
    num_iterations=12,
    unroll_length=16,
    num_minibatches=4,
    num_epochs=4,
    actor_hidden=(32, 32),
    critic_hidden=(32, 32),
    learning_rate=3e-3,
    entropy_coef=0.0,
)
PRESETS = Path(__file__).resolve().parents[1] / "configs" / "train"


@pytest.fixture(scope="module")
def host_run() -> ppo.TrainResult:
    return ppo.make_train(CFG, NumpyPointMassEnv(64))(jax.random.PRNGKey(0))


def test_host_driver_learns(host_run: ppo.TrainResult) -> None:
    first, last = host_run.history[0], host_run.history[-1]
    assert np.isfinite(last["loss/value"])
    assert last["reward/per_step"] > first["reward/per_step"] + 0.15
    assert last["env/tracking_error"] < 0.8 * first["env/tracking_error"]
    assert last["env_steps"] == 12 * 64 * 16


def test_scan_driver_matches_host_driver() -> None:
    # Without the overlap the host driver (NumPy policy forward) and the scan driver (JAX)
    # sample the same actions from the same policies.
    cfg = dataclasses.replace(CFG, num_iterations=3, overlap_update=False)
    host = ppo.make_train(cfg, NumpyPointMassEnv(64))(jax.random.PRNGKey(0))
    scan = ppo.make_train(cfg, PointMassEnv(64))(jax.random.PRNGKey(0))
    for on_host, compiled in zip(host.history, scan.history, strict=True):
        for key in ("reward/per_step", "loss/value", "loss/policy", "env/tracking_error"):
            assert compiled[key] == pytest.approx(on_host[key], rel=1e-4, abs=1e-6), key


def test_overlapped_rollout_acts_one_update_behind(host_run: ppo.TrainResult) -> None:
    # The first rollout is the same either way; the second acts with the initial policy
    # (fresh noise) while the first update computes, so from there the runs part.
    cfg = dataclasses.replace(CFG, num_iterations=3, overlap_update=False)
    waiting = ppo.make_train(cfg, NumpyPointMassEnv(64))(jax.random.PRNGKey(0)).history
    overlapped = host_run.history
    assert overlapped[0]["reward/per_step"] == waiting[0]["reward/per_step"]
    assert overlapped[1]["reward/per_step"] != waiting[1]["reward/per_step"]
    assert all(np.isfinite(m["loss/policy"]) for m in overlapped)


def test_same_seed_gives_identical_first_returns(host_run: ppo.TrainResult) -> None:
    cfg = dataclasses.replace(CFG, num_iterations=4)
    again = ppo.make_train(cfg, NumpyPointMassEnv(64))(jax.random.PRNGKey(0))
    for a, b in zip(host_run.history[:4], again.history, strict=True):
        assert a["reward/per_step"] == b["reward/per_step"]
        assert a["loss/policy"] == b["loss/policy"]
        assert a["episode/return"] == b["episode/return"] or np.isnan(a["episode/return"])


def test_actor_params_are_a_plain_dense_stack(host_run: ppo.TrainResult) -> None:
    actor = host_run.learner.params.actor
    assert list(actor) == ["params"]
    assert list(actor["params"]) == ["Dense_0", "Dense_1", "Dense_2"]
    assert actor["params"]["Dense_2"]["kernel"].shape == (32, 2)
    assert actor["params"]["Dense_0"]["kernel"].shape == (6, 32)


@pytest.mark.parametrize("preset", sorted(p.name for p in PRESETS.glob("*.yaml")))
def test_presets_load_strictly(preset: str) -> None:
    from irondog.envs import registry

    config = load(RunConfig, PRESETS / preset)
    assert config.train.iterations(config.env.num_envs) >= 1
    registry.make_config(config.train.env_name, config.env)  # the env id agrees with env:


def test_bad_train_settings_name_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  gamma: 1.5\n")
    with pytest.raises(ConfigError, match=r"gamma.*bad\.yaml"):
        load(RunConfig, bad)
    bad.write_text("train:\n  learning_rat: 0.1\n")
    with pytest.raises(ConfigError, match="learning_rat"):
        load(RunConfig, bad)
    with pytest.raises(ConfigError, match="num_minibatches"):
        load(
            RunConfig, None, ["env.num_envs=10", "train.unroll_length=3", "train.num_minibatches=4"]
        )


def test_max_noise_std_bounds_the_std_an_entropy_bonus_drives_up() -> None:
    # A large entropy bonus raises the std; the bound holds it (the host driver, 4 iterations).
    cfg = dataclasses.replace(CFG, num_iterations=4, entropy_coef=1.0, init_noise_std=0.5)
    free = ppo.make_train(cfg, NumpyPointMassEnv(64))(jax.random.PRNGKey(0))
    bounded = ppo.make_train(dataclasses.replace(cfg, max_noise_std=0.52), NumpyPointMassEnv(64))(
        jax.random.PRNGKey(0)
    )
    assert free.history[-1]["policy/std"] > 0.54
    assert max(h["policy/std"] for h in bounded.history) == pytest.approx(0.52, rel=1e-5)
    with pytest.raises(ConfigError, match="max_noise_std"):
        load(RunConfig, None, ["train.init_noise_std=0.5", "train.max_noise_std=0.2"])


def test_memory_estimate_grows_with_envs() -> None:
    small = ppo.estimate_memory_bytes(CFG, 1024, 48, 100, 12, sim_bytes_per_env=100_000)
    huge = ppo.estimate_memory_bytes(CFG, 10_000_000, 48, 100, 12, sim_bytes_per_env=100_000)
    assert huge > 1e12 > small


@pytest.mark.slow  # builds the native CyberDog 2 env twice: about 40 s
def test_native_env_same_seed_gives_identical_first_returns() -> None:
    from irondog.envs import registry

    run = load(RunConfig, PRESETS / "smoke.yaml", ["train.num_iterations=3"])
    histories = []
    for _ in range(2):
        env = registry.make(run.train.env_name, run.env)
        histories.append(ppo.make_train(run.train, env)(jax.random.PRNGKey(0)).history)
    for a, b in zip(*histories, strict=True):
        for key in ("reward/per_step", "loss/policy", "env/tracking_error"):
            assert a[key] == b[key], key
