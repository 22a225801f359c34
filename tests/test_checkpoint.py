"""Checkpoints: round trip, atomic writes, clear errors for missing/corrupt/incompatible files."""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np
import pytest

from irondog.agents import checkpoint, ppo
from irondog.agents.config import RunConfig, TrainConfig
from irondog.config import to_dict

CFG = TrainConfig(actor_hidden=(16, 16), critic_hidden=(16, 16))
SIZES = {"observation_size": 6, "privileged_observation_size": 8, "action_size": 2}


def _learner(seed: int = 0) -> ppo.Learner:
    return ppo.init_learner(CFG, 6, 8, 2, jax.random.PRNGKey(seed))


def _config() -> dict:
    return to_dict(RunConfig(train=CFG))


def test_round_trip_restores_every_array(tmp_path: Path) -> None:
    learner = _learner()
    path = checkpoint.save(tmp_path, learner, _config(), SIZES, iteration=7)
    assert path.name == "checkpoint_00000007.msgpack"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left
    loaded = checkpoint.load(tmp_path)  # a folder means its latest checkpoint
    assert loaded.path == path and loaded.sizes == SIZES
    assert loaded.config["train"]["actor_hidden"] == [16, 16]
    restored = checkpoint.restore(loaded, _learner(seed=1))
    same = jax.tree.map(lambda a, b: np.array_equal(np.asarray(a), b), learner, restored)
    assert all(jax.tree.leaves(same))


def test_latest_picks_most_iterations(tmp_path: Path) -> None:
    for it in (2, 10, 9):
        checkpoint.save(tmp_path, _learner(), _config(), SIZES, iteration=it)
    assert checkpoint.latest(tmp_path).name == "checkpoint_00000010.msgpack"


def test_failed_write_keeps_previous_checkpoint(tmp_path: Path, monkeypatch) -> None:
    path = checkpoint.save(tmp_path, _learner(), _config(), SIZES, iteration=1)
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        checkpoint.save(tmp_path, _learner(seed=3), _config(), SIZES, iteration=1)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_missing_and_corrupt_checkpoints_raise_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(checkpoint.CheckpointError, match="does not exist"):
        checkpoint.load(tmp_path / "checkpoint_00000001.msgpack")
    with pytest.raises(checkpoint.CheckpointError, match="no checkpoint"):
        checkpoint.load(tmp_path)
    path = checkpoint.save(tmp_path, _learner(), _config(), SIZES, iteration=1)
    path.write_bytes(path.read_bytes()[:100])  # truncated
    with pytest.raises(checkpoint.CheckpointError, match="corrupt"):
        checkpoint.load(path)
    other = tmp_path / "other.msgpack"
    other.write_bytes(b"\x81\xa1a\x01")  # valid msgpack {"a": 1}, not a checkpoint
    with pytest.raises(checkpoint.CheckpointError, match="not an irondog checkpoint"):
        checkpoint.load(other)


def test_incompatible_run_names_each_mismatch(tmp_path: Path) -> None:
    checkpoint.save(tmp_path, _learner(), _config(), SIZES, iteration=1)
    loaded = checkpoint.load(tmp_path)
    checkpoint.check_compatible(loaded, _config(), SIZES)  # same run: fine
    other = to_dict(RunConfig(train=TrainConfig(actor_hidden=(32, 16))))
    with pytest.raises(checkpoint.CheckpointError) as err:
        checkpoint.check_compatible(loaded, other, {**SIZES, "observation_size": 48})
    assert "observation_size: checkpoint 6, config 48" in str(err.value)
    assert "train.actor_hidden" in str(err.value)
    with pytest.raises(checkpoint.CheckpointError, match="shapes differ"):
        wider_cfg = TrainConfig(actor_hidden=(32, 16), critic_hidden=(16, 16))
        wider = ppo.init_learner(wider_cfg, 6, 8, 2, jax.random.PRNGKey(0))
        checkpoint.restore(loaded, wider)


def test_average_is_the_weighted_mean_of_networks_and_normalisers(tmp_path: Path) -> None:
    a, b = _learner(seed=0), _learner(seed=1)
    b = b.replace(obs_normalizer=b.obs_normalizer.replace(var=b.obs_normalizer.var * 9.0))
    checkpoint.save(tmp_path / "a", a, _config(), SIZES, iteration=5)
    checkpoint.save(tmp_path / "b", b, _config(), SIZES, iteration=8)
    loaded = [checkpoint.load(tmp_path / "a"), checkpoint.load(tmp_path / "b")]
    state = checkpoint.average(loaded, weights=[1.0, 3.0])
    soup = checkpoint.restore(checkpoint.Checkpoint(tmp_path, state, {}, SIZES, ""), a)
    mean = jax.tree.map(
        lambda x, y: 0.25 * np.asarray(x) + 0.75 * np.asarray(y), a.params, b.params
    )
    close = jax.tree.map(lambda x, y: np.allclose(x, y, atol=1e-6), mean, soup.params)
    assert all(jax.tree.leaves(close))
    np.testing.assert_allclose(soup.obs_normalizer.var, 0.25 + 0.75 * 9.0, rtol=1e-6)
    np.testing.assert_allclose(soup.obs_normalizer.std, np.sqrt(0.25 + 0.75 * 9.0), rtol=1e-6)
    assert int(soup.iteration) == int(b.iteration)  # counters and optimiser: the last one's
    same_opt = jax.tree.map(lambda x, y: np.array_equal(x, y), b.opt_state, soup.opt_state)
    assert all(jax.tree.leaves(same_opt))


def test_average_refuses_what_it_cannot_average(tmp_path: Path) -> None:
    checkpoint.save(tmp_path / "a", _learner(), _config(), SIZES, iteration=1)
    other = TrainConfig(actor_hidden=(8, 8), critic_hidden=(16, 16))
    small = ppo.init_learner(other, 6, 8, 2, jax.random.PRNGKey(0))
    checkpoint.save(tmp_path / "b", small, to_dict(RunConfig(train=other)), SIZES, iteration=1)
    a, b = checkpoint.load(tmp_path / "a"), checkpoint.load(tmp_path / "b")
    with pytest.raises(checkpoint.CheckpointError, match="two or more"):
        checkpoint.average([a])
    with pytest.raises(checkpoint.CheckpointError, match="weights: 1 given for 2"):
        checkpoint.average([a, a], weights=[1.0])
    with pytest.raises(checkpoint.CheckpointError, match="weights: must all be finite and > 0"):
        checkpoint.average([a, a], weights=[1.0, 0.0])
    with pytest.raises(checkpoint.CheckpointError, match="cannot average .*actor_hidden"):
        checkpoint.average([a, b])


def test_average_command_writes_a_new_checkpoint_and_never_overwrites(tmp_path: Path, capsys):
    from irondog import cli

    for name, seed in (("a", 0), ("b", 1)):
        checkpoint.save(tmp_path / name, _learner(seed), _config(), SIZES, iteration=3)
    args = [str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "soup")]
    assert cli.main(["average", *args]) == 0
    written = tmp_path / "soup" / "checkpoint_00000003.msgpack"
    assert checkpoint.load(written).sizes == SIZES
    before = written.read_bytes()
    assert cli.main(["average", *args, "--weights", "2", "1"]) == 2
    assert "exists" in capsys.readouterr().err and written.read_bytes() == before
    assert cli.main(["average", str(tmp_path / "a"), "--out", str(tmp_path / "x")]) == 2
    assert "two or more checkpoints" in capsys.readouterr().err


def test_widened_inputs_leave_the_policy_and_value_unchanged(tmp_path: Path) -> None:
    # a learner with trained-looking statistics and weights, 6 inputs (+2 privileged)
    learner = _learner(3)
    stats = ppo.normalize.NormalizerState(
        mean=jax.numpy.arange(6.0) * 0.1, std=jax.numpy.full(6, 2.0),
        var=jax.numpy.full(6, 4.0), count=jax.numpy.float32(5e6),
    )  # fmt: skip
    learner = learner.replace(obs_normalizer=stats)
    checkpoint.save(tmp_path, learner, _config(), SIZES, iteration=1)
    wide = checkpoint.widen_inputs(checkpoint.load(tmp_path), observation_size=9)
    assert wide.sizes["observation_size"] == 9 and wide.sizes["privileged_observation_size"] == 11
    template = ppo.init_learner(CFG, 9, 11, 2, jax.random.PRNGKey(0))
    restored = checkpoint.restore(wide, template)  # every shape fits, the optimiser's too
    assert float(restored.obs_normalizer.count) == checkpoint.WIDENED_COUNT
    nets = ppo.make_networks(CFG, 9, 11, 2)
    old_nets = ppo.make_networks(CFG, 6, 8, 2)
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(5, 6)).astype(np.float32)
    extra = rng.normal(size=(5, 3)).astype(np.float32) * 10  # any value of the new inputs
    before = ppo.make_inference_fn(old_nets)(learner.params, learner.obs_normalizer, obs)
    after = ppo.make_inference_fn(nets)(
        restored.params, restored.obs_normalizer, np.concatenate([obs, extra], axis=1)
    )
    np.testing.assert_allclose(after, before, atol=1e-6)
    privileged = rng.normal(size=(5, 8)).astype(np.float32)
    wide_privileged = np.concatenate([privileged[:, :6], extra, privileged[:, 6:]], axis=1)
    value_before = old_nets.value(learner.params, privileged)
    value_after = nets.value(restored.params, wide_privileged)
    np.testing.assert_allclose(value_after, value_before, atol=1e-5)
    with pytest.raises(checkpoint.CheckpointError, match="cannot widen"):
        checkpoint.widen_inputs(checkpoint.load(tmp_path), observation_size=6)


def test_train_widens_a_joystick_policy_for_the_gait_task_only(capsys) -> None:
    from irondog import cmd_train

    examples = Path(__file__).resolve().parents[1] / "examples"
    joystick = checkpoint.load(examples / "joystick_cpu")
    gaits_sizes = {"observation_size": 64, "privileged_observation_size": 81}
    wide = cmd_train._widen_for_task(joystick, "gaits", gaits_sizes)
    assert wide.sizes["observation_size"] == 64 and wide.sizes["privileged_observation_size"] == 81
    kernel = np.asarray(wide.learner_state["params"]["actor"]["params"]["Dense_0"]["kernel"])
    assert kernel.shape == (64, 128) and not kernel[48:].any() and kernel[:48].any()
    assert "extra inputs (gait, clock)" in capsys.readouterr().err
    # the same task, or a gait policy asked to run the joystick task: left for the size check
    assert cmd_train._widen_for_task(joystick, "joystick", gaits_sizes) is joystick
    gaits = checkpoint.load(examples / "gaits_cpu")
    assert cmd_train._widen_for_task(gaits, "joystick", {"observation_size": 48}) is gaits
