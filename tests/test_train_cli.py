"""``irondog train`` end to end on the toy env: logs, checkpoints, resume, Ctrl-C, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_ppo_toy import NumpyPointMassEnv

from irondog import cli, cmd_train
from irondog.agents import checkpoint

SMOKE = str(Path(__file__).resolve().parents[1] / "configs" / "train" / "smoke.yaml")


@pytest.fixture(autouse=True)
def toy_env(monkeypatch):
    """Train on the point-mass env so the CLI tests take seconds."""
    made = []

    def make_env(run_config):
        env = NumpyPointMassEnv(run_config.env.num_envs, episode_steps=10)
        made.append(env)
        return env

    monkeypatch.setattr(cmd_train, "make_env", make_env)
    monkeypatch.setenv("IRONDOG_JAX_CACHE", "")
    return made


def _train(log_dir: Path, *extra: str) -> int:
    flags = [a for a in extra if a.startswith("--")]
    overrides = [a for a in extra if not a.startswith("--")]
    argv = ["train", "--config", SMOKE, "--no-progress", *flags, f"train.log_dir={log_dir}"]
    return cli.main([*argv, *overrides])


def test_train_writes_logs_and_checkpoints_then_resumes(tmp_path: Path, capsys) -> None:
    assert _train(tmp_path) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "checkpoint_00000002.msgpack" in names and "config.yaml" in names
    assert any(n.startswith("events.out.tfevents") for n in names)
    # a fresh run into the same folder would overwrite: refused
    assert _train(tmp_path) == 2
    assert "--resume" in capsys.readouterr().err
    assert _train(tmp_path, "--resume", "train.num_iterations=3") == 0
    assert checkpoint.latest(tmp_path).name == "checkpoint_00000003.msgpack"
    state = checkpoint.load(tmp_path).learner_state
    assert int(state["iteration"]) == 3 and int(state["env_steps"]) == 3 * 32 * 8


def test_resumed_run_ages_its_simulations(tmp_path: Path, monkeypatch) -> None:
    from irondog.agents import ppo

    ages: list[int] = []
    real = ppo.aged
    monkeypatch.setattr(ppo, "aged", lambda state, steps: ages.append(steps) or real(state, steps))
    assert _train(tmp_path, "train.num_iterations=2") == 0
    assert _train(tmp_path, "--resume", "train.num_iterations=3") == 0
    assert ages == [0, 2 * 8]  # fresh, then two iterations of 8 steps old


def test_resume_with_incompatible_config_names_the_mismatch(tmp_path: Path, capsys) -> None:
    assert _train(tmp_path, "train.num_iterations=1") == 0
    assert _train(tmp_path, "--resume", "train.actor_hidden=[64]") == 2
    err = capsys.readouterr().err
    assert "cannot resume from" in err
    assert "train.actor_hidden: checkpoint [32, 32], config [64]" in err


def test_corrupt_checkpoint_is_an_error_and_is_not_overwritten(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "checkpoint_00000004.msgpack"
    bad.write_bytes(b"not a checkpoint")
    assert _train(tmp_path, "--resume") == 2
    assert "corrupt" in capsys.readouterr().err
    assert bad.read_bytes() == b"not a checkpoint"
    assert _train(tmp_path / "empty", "--resume") == 2


def test_ctrl_c_saves_the_last_iteration(tmp_path: Path, toy_env, monkeypatch, capsys) -> None:
    original = NumpyPointMassEnv.step
    calls = {"n": 0}

    def step(self, state, action):
        calls["n"] += 1
        if calls["n"] > 8 * 2 + 3:  # during the third iteration
            raise KeyboardInterrupt
        return original(self, state, action)

    monkeypatch.setattr(NumpyPointMassEnv, "step", step)
    assert _train(tmp_path, "train.num_iterations=5") == 0
    assert "interrupted" in capsys.readouterr().out
    assert checkpoint.latest(tmp_path).name == "checkpoint_00000002.msgpack"


def test_sigterm_saves_the_last_iteration_as_ctrl_c_does(tmp_path: Path, monkeypatch, capsys):
    import os
    import signal

    original = NumpyPointMassEnv.step
    calls = {"n": 0}

    def step(self, state, action):
        calls["n"] += 1
        if calls["n"] == 8 * 2 + 3:  # during the third iteration: what kill and SLURM send
            os.kill(os.getpid(), signal.SIGTERM)
        return original(self, state, action)

    monkeypatch.setattr(NumpyPointMassEnv, "step", step)
    before = signal.getsignal(signal.SIGTERM)
    assert _train(tmp_path, "train.num_iterations=5") == 0
    assert "interrupted: saved" in capsys.readouterr().out
    assert checkpoint.latest(tmp_path).name == "checkpoint_00000002.msgpack"
    assert signal.getsignal(signal.SIGTERM) == before  # the handler is put back


def test_a_half_written_checkpoint_is_removed_at_the_next_start(tmp_path: Path, capsys) -> None:
    assert _train(tmp_path, "train.num_iterations=1") == 0
    finished = checkpoint.latest(tmp_path)
    data = finished.read_bytes()
    stale = tmp_path / ".tmp-abc123.msgpack"  # a save killed before its rename
    stale.write_bytes(b"half")
    assert _train(tmp_path, "--resume", "train.num_iterations=2") == 0
    assert f"removed {stale}" in capsys.readouterr().err
    assert not stale.exists() and finished.read_bytes() == data
    assert checkpoint.latest(tmp_path).name == "checkpoint_00000002.msgpack"


def test_too_many_envs_fail_early_with_an_estimate(tmp_path: Path, toy_env, capsys) -> None:
    assert _train(tmp_path, "env.num_envs=200000000") == 2
    assert "GiB" in capsys.readouterr().err
    assert toy_env == []  # failed before building the environment


def test_sb3_overrides_rebuild_the_same_env_config() -> None:
    from irondog.agents.config import RunConfig
    from irondog.agents.sb3_baseline import env_overrides
    from irondog.config import load
    from irondog.envs.config import EnvConfig

    run = load(RunConfig, SMOKE, ["env.kp=25.5", "env.randomization.friction=[0.5, 0.9]"])
    rebuilt = load(EnvConfig, overrides=[*env_overrides(run), f"num_envs={run.env.num_envs}"])
    assert rebuilt == run.env


@pytest.mark.slow  # builds the real native env and imports torch: about 30 s
@pytest.mark.parametrize("algo", ["ppo", "sb3-ppo"])
def test_smoke_preset_on_the_real_env(tmp_path: Path, monkeypatch, algo: str) -> None:
    monkeypatch.setattr(cmd_train, "make_env", _real_make_env)
    assert _train(tmp_path, f"--algo={algo}") == 0
    expected = "checkpoint_00000002.msgpack" if algo == "ppo" else "sb3_ppo.zip"
    assert (tmp_path / expected).is_file()


_real_make_env = cmd_train.make_env


def test_init_from_warm_starts_a_new_run_with_the_policy_only(tmp_path: Path, capsys) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    assert _train(source, "train.num_iterations=3") == 0
    assert _train(target, f"--init-from={source}", "train.num_iterations=1") == 0
    before = checkpoint.load(source).learner_state
    after = checkpoint.load(target).learner_state
    assert int(after["iteration"]) == 1  # a new run: the count starts again
    assert int(after["env_steps"]) == 32 * 8
    # the observation statistics carry over (then take one more iteration of data)
    assert int(after["obs_normalizer"]["count"]) > int(before["obs_normalizer"]["count"])
    # the exploration noise is the configured one again, not the source's learned one
    assert _train(tmp_path / "fresh", "train.num_iterations=1") == 0
    fresh_state = checkpoint.load(tmp_path / "fresh").learner_state
    assert after["params"]["log_std"] == pytest.approx(fresh_state["params"]["log_std"], abs=0.05)
    # ... unless asked to keep the source's (fine-tuning): then it starts from the learned one
    source_std = np.asarray(before["params"]["log_std"])
    assert np.abs(source_std - np.asarray(fresh_state["params"]["log_std"])).max() > 0.01
    kept = tmp_path / "kept"
    assert _train(kept, f"--init-from={source}", "train.num_iterations=1",
                  "train.init_noise_from_checkpoint=true") == 0  # fmt: skip
    kept_std = np.asarray(checkpoint.load(kept).learner_state["params"]["log_std"])
    assert (
        np.abs(kept_std - source_std).max()
        < np.abs(kept_std - fresh_state["params"]["log_std"]).max()
    )


def test_init_from_refuses_another_network_and_resume_together(tmp_path: Path, capsys) -> None:
    source = tmp_path / "source"
    assert _train(source, "train.num_iterations=1") == 0
    assert _train(tmp_path / "a", f"--init-from={source}", "train.actor_hidden=[64]") == 2
    err = capsys.readouterr().err
    assert "warm-start" in err and "train.actor_hidden: checkpoint [32, 32], config [64]" in err
    assert _train(tmp_path / "b", f"--init-from={tmp_path / 'missing'}") == 2
    assert "does not exist" in capsys.readouterr().err
    assert _train(source, "--resume", f"--init-from={source}") == 2
    assert "exclude each other" in capsys.readouterr().err
