"""ONNX export: parity with the JAX actor, metadata, bad input, SB3, and the JAX-free runner."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import onnx
import pytest

from irondog.agents import export
from irondog.agents.onnx_runner import OnnxPolicy, PhysicsOptions, build_observation, play

OBS, ACT = 48, 12


def _random_actor(activation: str, seed: int = 0):
    """flax actor params (output layer scaled to O(1) actions) and a random normaliser."""
    jax = pytest.importorskip("jax")
    from irondog.agents.networks import MLP

    actor = MLP((64, 64, ACT), activation)
    params = actor.init(jax.random.PRNGKey(seed), np.zeros((1, OBS), np.float32))
    rng = np.random.default_rng(seed)
    mean = rng.normal(0, 1, OBS).astype(np.float32)
    std = rng.uniform(0.05, 3.0, OBS).astype(np.float32)
    return actor, params, mean, std


def _jax_policy(actor, params, mean, std, obs):
    import jax.numpy as jnp

    from irondog.agents import normalize

    state = normalize.NormalizerState(
        mean=jnp.asarray(mean), std=jnp.asarray(std), var=jnp.asarray(std**2), count=jnp.ones(())
    )
    return np.asarray(actor.apply(params, normalize.normalize(state, jnp.asarray(obs))))


@pytest.fixture(scope="module")
def metadata():
    return export.policy_metadata(config_dict={"seed": 0})


@pytest.fixture(scope="module")
def policy_file(tmp_path_factory, metadata):
    actor, params, mean, std = _random_actor("elu")
    path = tmp_path_factory.mktemp("policy") / "policy.onnx"
    export.export_flax_actor(params, "elu", mean, std, 5.0, metadata, path)
    return path, actor, params, mean, std


@pytest.mark.parametrize("activation", ["elu", "swish", "tanh", "relu"])
def test_parity_random_observations(tmp_path, metadata, activation) -> None:
    actor, params, mean, std = _random_actor(activation, seed=1)
    path = export.export_flax_actor(
        params, activation, mean, std, 5.0, metadata, tmp_path / "p.onnx"
    )
    rng = np.random.default_rng(2)
    # Wide draws so that the normaliser's clip at +/-5 is exercised too.
    obs = (mean + std * rng.normal(0, 4.0, (10_000, OBS))).astype(np.float32)
    want = _jax_policy(actor, params, mean, std, obs)
    got = OnnxPolicy(path)(obs)
    assert np.abs(want).max() > 1e-3  # a real signal, not all zeros
    assert np.abs(got - want).max() <= 1e-5


def test_parity_recorded_observations(policy_file) -> None:
    native = pytest.importorskip("irondog.envs.native")
    from irondog.envs.config import EnvConfig

    path, actor, params, mean, std = policy_file
    env = native.NativeEnv(EnvConfig(num_envs=100, num_threads=1))
    state = env.reset(0)
    rng = np.random.default_rng(3)
    rows = []
    for _ in range(100):  # 100 steps x 100 simulations = 10,000 recorded observations
        rows.append(np.asarray(state.obs))
        state = env.step(state, rng.uniform(-1, 1, (100, ACT)))
    obs = np.concatenate(rows).astype(np.float32)
    assert obs.shape == (10_000, OBS)
    got = OnnxPolicy(path)(obs)
    assert np.abs(got - _jax_policy(actor, params, mean, std, obs)).max() <= 1e-5


@pytest.mark.parametrize("task_name", ["joystick", "gaits"])
def test_observation_builder_matches_training_task(task_name) -> None:
    native = pytest.importorskip("irondog.envs.native")
    from irondog.envs.config import EnvConfig, NoiseConfig

    cfg = EnvConfig(num_envs=4, num_threads=1, noise=NoiseConfig(scale=0.0), task=task_name)
    meta = export.policy_metadata(cfg)
    size = meta_size = sum(item["size"] for item in meta["observation_layout"])
    assert meta_size == (48 if task_name == "joystick" else 64)
    env = native.NativeEnv(cfg)
    state = env.reset(1)
    rng = np.random.default_rng(4)
    for _ in range(5):
        state = env.step(state, rng.uniform(-1, 1, (4, ACT)))
    tinfo = state.info["task"]
    s = env.ids.sensor_slices
    for i in range(4):
        readings = {
            "local_linvel": env.sensordata[i, s["local_linvel"]],
            "gyro": env.sensordata[i, s["gyro"]],
            "quat": env.qpos[i, 3:7],
            "joint_pos": env.qpos[i, 7:],
            "joint_vel": env.qvel[i, 6:],
        }
        gait = np.asarray(tinfo.gait[i]) if task_name == "gaits" else None
        mine = build_observation(
            meta["observation_layout"], readings, np.asarray(meta["default_pose"]),
            np.asarray(tinfo.last_action[i]), np.asarray(tinfo.command[i]),
            gait, float(tinfo.phase[i]),
        )  # fmt: skip
        np.testing.assert_allclose(mine, state.privileged_obs[i, :size], atol=1e-5)


def test_gait_policy_plays_with_a_gait_command(tmp_path) -> None:
    from irondog.agents.onnx_runner import gait_command

    policy = OnnxPolicy(export.scripted_trot(tmp_path / "trot.onnx"))
    assert policy.observation_size == 64 and policy.metadata["task"] == "gaits"
    report = play(policy, 4.0, np.zeros(3), gait=gait_command(policy.metadata, "trot"))
    assert report["steps"] == 200 and report["falls"] == 0
    assert report["displacement_m"] > 0.4 and report["forward_velocity_mean"] > 0.1
    with pytest.raises(ValueError, match="give a gait command"):
        play(policy, 0.1, np.zeros(3))
    with pytest.raises(ValueError, match="not one of"):
        gait_command(policy.metadata, "gallop")
    with pytest.raises(ValueError, match="without gait commands"):
        gait_command({"task": "joystick"}, "trot")


def test_metadata_is_complete_and_json(policy_file) -> None:
    path = policy_file[0]
    model = onnx.load(str(path))
    assert model.opset_import[0].version == export.OPSET
    assert [i.name for i in model.graph.input] == ["obs"]
    assert [o.name for o in model.graph.output] == ["action"]
    meta = export.read_metadata(path)
    for key in export.REQUIRED_METADATA:
        assert key in meta
    assert meta["joint_names"][:3] == ["FR_abad", "FR_hip", "FR_knee"]
    assert [item["name"] for item in meta["observation_layout"]][0] == "local_linvel"
    assert meta["observation_size"] == OBS and len(meta["default_pose"]) == ACT
    assert meta["training_config_hash"] == export.config_hash({"seed": 0})


def test_missing_metadata_is_a_clear_error(policy_file, tmp_path) -> None:
    model = onnx.load(str(policy_file[0]))
    keep = [p for p in model.metadata_props if p.key != "kp"]
    del model.metadata_props[:]
    model.metadata_props.extend(keep)
    bad = tmp_path / "no_kp.onnx"
    onnx.save(model, str(bad))
    with pytest.raises(export.MetadataError, match="missing kp"):
        OnnxPolicy(bad)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        OnnxPolicy(tmp_path / "absent.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not an onnx file")
    with pytest.raises(export.MetadataError, match="junk.onnx"):
        OnnxPolicy(tmp_path / "junk.onnx")


def test_bad_observations_are_clear_errors(policy_file) -> None:
    policy = OnnxPolicy(policy_file[0])
    with pytest.raises(ValueError, match=r"expects \(\.\.\., 48\)"):
        policy(np.zeros(47))
    obs = np.zeros(OBS)
    obs[7] = np.nan  # gravity[1]
    with pytest.raises(ValueError, match="gravity"):
        policy(obs)


def test_bad_export_inputs_raise(metadata) -> None:
    _, params, mean, std = _random_actor("elu")
    with pytest.raises(ValueError, match="activation"):
        export.build_actor_model(export.layers_from_flax(params), "gelu", mean, std, 5.0, metadata)
    with pytest.raises(ValueError, match="normaliser"):
        export.build_actor_model(
            export.layers_from_flax(params), "elu", mean[:3], std, 5.0, metadata
        )
    with pytest.raises(ValueError, match="Dense_0"):
        export.layers_from_flax({"params": {"Conv_0": {}}})


def test_sb3_policy_exports_with_parity(tmp_path, metadata) -> None:
    pytest.importorskip("stable_baselines3")
    import gymnasium as gym
    from stable_baselines3 import PPO

    env = gym.make("Pendulum-v1")
    model = PPO("MlpPolicy", env, seed=0, device="cpu")
    meta = {**metadata, "observation_layout": [{"name": "pendulum", "size": 3}],
            "joint_names": ["pole"], "default_pose": [0.0]}  # fmt: skip
    path = export.export_sb3(model, tmp_path / "sb3.onnx", meta)
    obs = np.random.default_rng(5).uniform(-8, 8, (2000, 3)).astype(np.float32)
    want, _ = model.predict(obs, deterministic=True)
    got = OnnxPolicy(path)(obs)
    assert np.abs(got - want).max() <= 1e-5


def test_runner_does_not_import_jax() -> None:
    code = (
        "import sys, irondog.agents.onnx_runner, irondog.agents.deploy, irondog.cmd_play_onnx;"
        "bad = [m for m in ('jax', 'flax', 'torch') if m in sys.modules];"
        "sys.exit(f'imported {bad}' if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr + result.stdout


def test_play_reports_tracking_and_falls(policy_file) -> None:
    policy = OnnxPolicy(policy_file[0])
    report = play(policy, 0.4, np.array([0.3, 0.0, 0.0]), PhysicsOptions(integrator="euler"))
    assert report["steps"] == 20 and report["falls"] >= 0
    assert np.isfinite(report["lin_vel_error_mean"]) and report["integrator"] == "euler"
    with pytest.raises(ValueError, match="does not divide"):
        play(policy, 0.1, np.zeros(3), PhysicsOptions(timestep=0.003))
    with pytest.raises(ValueError, match="integrator"):
        play(policy, 0.1, np.zeros(3), PhysicsOptions(integrator="leapfrog"))


def test_checkpoint_export_matches_ppo_inference(tmp_path) -> None:
    jax = pytest.importorskip("jax")
    ppo = pytest.importorskip("irondog.agents.ppo")
    from irondog.agents import checkpoint, normalize
    from irondog.agents.config import RunConfig, TrainConfig
    from irondog.cli import main
    from irondog.config import to_dict

    cfg = RunConfig(train=TrainConfig(actor_hidden=(32, 32), critic_hidden=(32,)))
    learner = ppo.init_learner(cfg.train, OBS, OBS + 17, ACT, jax.random.PRNGKey(0))
    rng = np.random.default_rng(6)
    norm = normalize.update(learner.obs_normalizer, rng.normal(1.0, 2.0, (512, OBS)))
    # Make the output layer large enough that the comparison is not of near-zeros.
    actor = jax.tree.map(lambda x: x, learner.params.actor)
    last = actor["params"]["Dense_2"]
    actor["params"]["Dense_2"] = {**last, "kernel": last["kernel"] * 50.0}
    learner = learner.replace(obs_normalizer=norm, params=learner.params.replace(actor=actor))
    sizes = {"observation_size": OBS, "privileged_observation_size": OBS + 17, "action_size": ACT}
    saved = checkpoint.save(tmp_path / "run", learner, to_dict(cfg), sizes, iteration=3)

    out = tmp_path / "policy.onnx"
    assert main(["export", "--checkpoint", str(tmp_path / "run"), "--out", str(out)]) == 0
    nets = ppo.make_networks(cfg.train, OBS, OBS + 17, ACT)
    obs = rng.normal(1.0, 6.0, (10_000, OBS)).astype(np.float32)
    want = np.asarray(nets.action_mean(learner.params, normalize.normalize(norm, obs)))
    got = OnnxPolicy(out)(obs)
    assert np.abs(want).max() > 1e-2
    assert np.abs(got - want).max() <= 1e-5
    meta = export.read_metadata(out)
    assert meta["checkpoint_iteration"] == int(learner.iteration)
    assert meta["training_config_hash"] == export.config_hash(checkpoint.load(saved).config)
    assert main(["export", "--checkpoint", str(tmp_path / "none"), "--out", str(out)]) == 2


def test_sb3_zip_with_vecnormalize_exports_from_the_cli(tmp_path) -> None:
    pytest.importorskip("stable_baselines3")
    import gymnasium as gym
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    from irondog.cli import main

    class Spaces(gym.Env):
        observation_space = gym.spaces.Box(-np.inf, np.inf, (OBS,), np.float32)
        action_space = gym.spaces.Box(-1.0, 1.0, (ACT,), np.float32)

        def reset(self, seed=None, options=None):
            return np.zeros(OBS, np.float32), {}

        def step(self, action):
            return np.zeros(OBS, np.float32), 0.0, False, False, {}

    venv = VecNormalize(DummyVecEnv([Spaces]), clip_obs=4.0)
    rng = np.random.default_rng(7)
    venv.obs_rms.mean = rng.normal(0, 1, OBS)
    venv.obs_rms.var = rng.uniform(0.1, 4.0, OBS)
    model = PPO("MlpPolicy", venv, seed=0, device="cpu", policy_kwargs={"net_arch": [32, 32]})
    model.policy.action_net.weight.data *= 100.0  # O(1) actions, some beyond the bounds
    model.save(tmp_path / "sb3.zip")
    venv.save(tmp_path / "vecnorm.pkl")
    out = tmp_path / "sb3.onnx"
    args = ["export", "--sb3", str(tmp_path / "sb3.zip"), "--vecnormalize",
            str(tmp_path / "vecnorm.pkl"), "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    obs = rng.normal(0, 3, (2000, OBS)).astype(np.float32)
    want, _ = model.predict(venv.normalize_obs(obs), deterministic=True)
    assert np.abs(want).max() > 0.5
    assert np.abs(OnnxPolicy(out)(obs) - want).max() <= 1e-5
    assert export.read_metadata(out)["joint_names"][0] == "FR_abad"
    assert main(["export", "--sb3", str(tmp_path / "none.zip"), "--out", str(out)]) == 2


def test_trained_policy_plays_from_onnx(tmp_path) -> None:
    """The shipped trained trot (examples/trot_cpu), exported from the CLI, tracks 0.5 m/s."""
    pytest.importorskip("jax")
    from pathlib import Path

    from irondog.cli import main

    checkpoint = Path(__file__).resolve().parent.parent / "examples/trot_cpu"
    out = tmp_path / "trot.onnx"
    assert main(["export", "--checkpoint", str(checkpoint), "--out", str(out)]) == 0
    assert export.read_metadata(out)["checkpoint_iteration"] == 351
    report = play(OnnxPolicy(out), 4.0, np.array([0.5, 0.0, 0.0]))
    assert report["falls"] == 0
    assert report["lin_vel_error_mean"] < 0.1  # m/s; the training eval measured 0.048
    assert report["displacement_m"] > 1.4  # 2 m commanded


def test_gait_metadata_carries_the_presets_training_uses(monkeypatch) -> None:
    from irondog.envs import gaits
    from irondog.envs.config import EnvConfig

    faster = dataclasses.replace(gaits.PRESETS["trot"], frequency=2.5)
    monkeypatch.setattr(gaits, "_packaged_preset", lambda name: faster if name == "trot"
                        else gaits.PRESETS[name])  # fmt: skip
    meta = export.policy_metadata(EnvConfig(task="gaits"))
    # The YAML-overridden preset training samples, not the code default beneath it.
    assert meta["gait_presets"]["trot"] == faster.vector().tolist()
    assert meta["gait_presets"]["pace"] == gaits.PRESETS["pace"].vector().tolist()
