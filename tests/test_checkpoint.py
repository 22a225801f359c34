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
