"""Evaluation: metrics on hand-made traces, policy loading from checkpoints, the eval CLI."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from irondog.agents import evaluate, gait
from irondog.envs.config import EnvConfig

DT = 0.02


def _trace(steps: int = 200, n: int = 2, speed: float = 0.5) -> evaluate.Trace:
    """n robots trotting at ``speed`` along x, every joint at 2 N m and 3 rad/s."""
    contact = gait.synthetic_contacts("trot", steps, DT, frequency=2.0, duty=0.5)
    zeros = np.zeros((steps, n))
    vel = np.zeros((steps, n, 3))
    vel[:, :, 0] = speed
    command = np.zeros((steps, n, 3))
    command[:, :, 0] = 0.6
    return evaluate.Trace(
        dt=DT,
        command=command,
        base_pos=np.zeros((steps, n, 3)),
        base_vel=vel,
        yaw_rate=zeros.copy(),
        joint_pos=np.zeros((steps, n, 12)),
        joint_vel=np.full((steps, n, 12), 3.0),
        torque=np.full((steps, n, 12), 2.0),
        winding_temp=np.full((steps, n, 12), 50.0),
        contact=np.repeat(contact[:, None, :], n, axis=1),
        tracking_error=np.full((steps, n), 0.1),
        done=np.zeros((steps, n), bool),
        truncated=np.zeros((steps, n), bool),
    )


def test_metrics_of_a_known_trace() -> None:
    trace = _trace()
    mass = 8.5
    m = evaluate.compute_metrics(trace, EnvConfig(), mass)
    assert m["fall_rate"] == 0.0
    assert m["gait"] == "trot" and m["gait_votes"] == {"trot": 2}
    assert m["stride_frequency"] == pytest.approx(2.0, rel=0.05)
    assert m["duty_factor"] == pytest.approx(0.5, abs=0.03)
    assert m["torque_mean"] == pytest.approx(2.0) and m["joint_speed_peak"] == pytest.approx(3.0)
    assert m["tracking_error"] == pytest.approx(0.1)
    assert m["winding_temp_peak"] == pytest.approx(50.0)
    # 12 joints x 2 N m x 3 rad/s = 72 W at 0.5 m/s: CoT = 72 / (8.5 * 9.81 * 0.5).
    assert m["cost_of_transport_mech"] == pytest.approx(72.0 / (mass * 9.81 * 0.5), rel=1e-6)
    assert m["cost_of_transport_elec"] > m["cost_of_transport_mech"]
    json.loads(evaluate.to_json(m))
    assert "fall rate" in evaluate.format_table(m)


def test_a_fall_is_counted_and_masked() -> None:
    trace = _trace()
    done = trace.done.copy()
    done[50, 1] = True
    torque = trace.torque.copy()
    torque[60:, 1] = 11.0  # after the fall: the autoreset episode, must not count
    trace = trace._replace(done=done, torque=torque)
    m = evaluate.compute_metrics(trace, EnvConfig(), 8.5)
    assert m["fall_rate"] == 0.5
    assert m["gait_votes"] == {"fell": 1, "trot": 1}
    assert m["torque_peak"] == pytest.approx(2.0)


def test_standing_has_no_cost_of_transport() -> None:
    m = evaluate.compute_metrics(_trace(speed=0.0), EnvConfig(), 8.5)
    assert m["cost_of_transport_mech"] is None
    assert "n/a" in evaluate.format_table(m)


def test_parse_command() -> None:
    assert evaluate.parse_command("vx=0.5,vy=-0.1,yaw=0.3") == (0.5, -0.1, 0.3)
    assert evaluate.parse_command("yaw=1") == (0.0, 0.0, 1.0)
    for bad in ("vx=fast", "speed=1", "vx", "vx=nan"):
        with pytest.raises(ValueError, match="--command"):
            evaluate.parse_command(bad)


def test_zero_policy_stands_in_the_simulator() -> None:
    from irondog.agents import policy

    cfg = EnvConfig(num_threads=1)
    metrics, trace = evaluate.evaluate(policy.zero_policy(), cfg, episodes=2, seconds=1.0)
    assert trace.contact.shape == (50, 2, 4)
    assert metrics["fall_rate"] == 0.0
    assert metrics["gait"] == "stand"
    assert metrics["tracking_error"] > 0.3  # asked for 0.5 m/s, stood still
    assert 0.0 < metrics["torque_peak"] <= cfg.motor.torque_limit
    assert metrics["winding_temp_peak"] >= cfg.initial_winding_temp


def _surging(steps: int, mean: float, surge: float, heading: float, hz: float) -> evaluate.Trace:
    """One robot heading ``heading`` rad, its forward speed ``mean`` +- ``surge`` at ``hz``."""
    t = np.arange(steps) * DT
    forward = mean + surge * np.sin(2 * np.pi * hz * t)
    trace = _trace(steps, n=1)
    vel = np.zeros((steps, 1, 3))
    vel[:, 0, 0], vel[:, 0, 1] = forward * np.cos(heading), forward * np.sin(heading)
    command = np.zeros((steps, 1, 3))
    command[:, 0, 0] = 0.5
    error = np.abs(forward - 0.5)[:, None]
    return trace._replace(
        base_vel=vel, command=command, tracking_error=error, heading=np.full((steps, 1), heading)
    )


def test_stride_mean_tracking_leaves_out_the_surge_within_a_stride() -> None:
    # A bound-like surge of 0.3 m/s at 2 Hz around the commanded 0.5 m/s, heading along +y:
    # large at every step, nothing left once averaged over the 0.5 s stock gait period.
    surging = _surging(200, mean=0.5, surge=0.3, heading=np.pi / 2, hz=2.0)
    assert evaluate.stride_tracking_error(surging) == pytest.approx(0.0, abs=1e-9)
    assert surging.tracking_error.mean() > 0.15
    # Too slow by 0.1 m/s: that stays, whatever the surge and the heading.
    slow = _surging(200, mean=0.4, surge=0.3, heading=-2.0, hz=2.0)
    assert evaluate.stride_tracking_error(slow) == pytest.approx(0.1, abs=1e-9)
    m = evaluate.compute_metrics(slow, EnvConfig(), 8.5)
    assert m["tracking_error_stride"] == pytest.approx(0.1, abs=1e-9)
    assert "stride mean" in evaluate.format_table(m)


def test_stride_mean_tracking_follows_the_commanded_gait_and_the_episode() -> None:
    # A 2.5 Hz surge averages out over the 2.5 Hz gait's cycle, not over 0.5 s.
    surging = _surging(200, mean=0.5, surge=0.3, heading=0.3, hz=2.5)
    assert evaluate.stride_tracking_error(surging) > 0.01
    gait = np.zeros((200, 1, 8))
    gait[:, :, 0] = 2.5
    assert evaluate.stride_tracking_error(surging._replace(gait=gait)) == pytest.approx(
        0.0, abs=1e-9
    )
    # Strides after a fall (the autoreset episode) do not count; none at all: NaN.
    slow = _surging(200, mean=0.4, surge=0.0, heading=0.0, hz=2.0)
    vel = slow.base_vel.copy()
    vel[100:, 0, 0] = 3.0
    done = slow.done.copy()
    done[99, 0] = True
    assert evaluate.stride_tracking_error(slow._replace(base_vel=vel, done=done)) == (
        pytest.approx(0.1)
    )
    assert np.isnan(evaluate.stride_tracking_error(slow._replace(heading=None)))
    done[10, 0] = True
    assert np.isnan(evaluate.stride_tracking_error(slow._replace(done=done)))


def test_the_rollout_records_the_trunk_heading() -> None:
    from irondog.agents import policy

    _, trace = evaluate.evaluate(policy.zero_policy(), EnvConfig(num_threads=1), episodes=2,
                                 seconds=0.2)  # fmt: skip
    assert trace.heading.shape == (10, 2)
    assert np.all(np.abs(trace.heading) <= np.pi)
    # Quaternion (w, x, y, z) of a yaw by 1 rad reads 1 rad.
    quat = np.array([np.cos(0.5), 0.0, 0.0, np.sin(0.5)])
    assert evaluate.trunk_heading(quat) == pytest.approx(1.0)


def test_the_simulator_records_contact_at_every_physics_step() -> None:
    from irondog.agents import policy

    cfg = EnvConfig(num_threads=1)
    _, trace = evaluate.evaluate(policy.zero_policy(), cfg, episodes=2, seconds=1.0)
    assert trace.substep_contact.shape == (50, 2, cfg.substeps, 4)
    # The control step's contact is the one after its last physics step.
    np.testing.assert_array_equal(trace.substep_contact[:, :, -1], trace.contact)
    assert trace.substep_contact[-1].all()  # standing: every foot down throughout


def test_footfall_timeline_times_touchdowns_to_the_physics_step() -> None:
    from irondog.agents import gait_fidelity
    from irondog.envs import gaits

    pronk = gaits.preset("pronk").vector()
    late = pronk.copy()
    late[3] = (pronk[3] - 0.06) % 1.0  # RL lands 0.06 cycle (24 ms) after the others
    steps, sub = 500, 5
    fine, _ = gait_fidelity.scheduled_contacts(late, steps * sub, DT / sub, start_phase=0.3)
    trace = _trace(steps, n=1)._replace(
        contact=fine[sub - 1 :: sub, None],
        substep_contact=fine.reshape(steps, sub, 4)[:, None],
        gait=np.tile(pronk, (steps, 1, 1)),
    )
    contact, gait_rows, valid, dt = evaluate.footfall_timeline(trace)
    assert dt == pytest.approx(DT / sub)
    assert contact.shape == (steps * sub, 1, 4) and gait_rows.shape == (steps * sub, 1, 8)
    np.testing.assert_array_equal(contact[:, 0], fine)
    named = {"pronk": pronk}
    timed = gait_fidelity.by_commanded_gait(contact, gait_rows, valid, dt, named)["pronk"]
    assert timed["fidelity"] == 1.0
    assert timed["median_phase_error"] == pytest.approx(0.06, abs=0.011)
    # Timed to the control step, the same error reads as a whole number of 20 ms steps.
    coarse = gait_fidelity.by_commanded_gait(
        trace.contact, trace.gait, trace.valid, trace.dt, named
    )["pronk"]
    assert coarse["median_phase_error"] / (DT * pronk[0]) == pytest.approx(
        round(coarse["median_phase_error"] / (DT * pronk[0]))
    )
    # A trace without physics-step contact (MJX, say) is judged at the control step.
    assert evaluate.footfall_timeline(trace._replace(substep_contact=None))[3] == DT


# --- checkpoints and the CLI ---------------------------------------------------------------


def _save_checkpoint(directory: Path, observation_size: int = 48) -> tuple[Path, object]:
    import jax

    from irondog.agents import checkpoint, normalize, ppo
    from irondog.agents.config import RunConfig, TrainConfig
    from irondog.config import to_dict

    cfg = RunConfig(
        env=EnvConfig(num_envs=4, num_threads=1),
        train=TrainConfig(actor_hidden=(16,), critic_hidden=(16,)),
    )
    priv = observation_size + 17
    learner = ppo.init_learner(cfg.train, observation_size, priv, 12, jax.random.PRNGKey(1))
    rng = np.random.default_rng(0)
    norm = normalize.update(learner.obs_normalizer, rng.normal(0.0, 2.0, (64, observation_size)))
    learner = learner.replace(obs_normalizer=norm)
    sizes = {
        "observation_size": observation_size,
        "privileged_observation_size": priv,
        "action_size": 12,
    }
    path = checkpoint.save(directory, learner, to_dict(cfg), sizes, iteration=1)
    return path, learner


def test_load_policy_matches_ppo_inference(tmp_path: Path) -> None:
    from irondog.agents import normalize, policy, ppo
    from irondog.agents.config import TrainConfig

    path, learner = _save_checkpoint(tmp_path / "run")
    act, env_config = policy.load_policy(tmp_path / "run")  # the folder: latest checkpoint
    assert env_config.terrain == "flat" and env_config.num_envs == 4
    nets = ppo.make_networks(TrainConfig(actor_hidden=(16,), critic_hidden=(16,)), 48, 65, 12)
    obs = np.random.default_rng(1).normal(0, 3, (5, 48)).astype(np.float32)
    mean = nets.action_mean(learner.params, normalize.normalize(learner.obs_normalizer, obs))
    np.testing.assert_allclose(act(obs), np.clip(np.asarray(mean), -1, 1), atol=1e-6)
    with pytest.raises(ValueError, match=r"wants \(n, 48\)"):
        act(np.zeros((2, 40), np.float32))


def test_eval_cli_writes_json_and_table(tmp_path: Path, capsys) -> None:
    from irondog.cli import main

    _save_checkpoint(tmp_path / "run")
    out = tmp_path / "m.json"
    argv = ["eval", "--checkpoint", str(tmp_path / "run"), "--episodes", "2", "--seconds", "0.4"]
    assert main([*argv, "--json", str(out), "--command", "vx=0.3,yaw=0.1"]) == 0
    printed = capsys.readouterr().out
    assert "velocity tracking error" in printed and "gait" in printed
    data = json.loads(out.read_text())
    assert data["episodes"] == 2 and data["command"] == {"vx": 0.3, "vy": 0.0, "yaw": 0.1}
    for key in ("fall_rate", "cost_of_transport_mech", "torque_peak", "joint_speed_mean",
                "winding_temp_peak", "gait", "duty_factor", "stride_frequency"):  # fmt: skip
        assert key in data


def test_eval_cli_bad_input(tmp_path: Path, capsys) -> None:
    from irondog.cli import main

    assert main(["eval", "--checkpoint", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "--policy zero" in err

    # A checkpoint whose observation size differs from the environment's.
    _save_checkpoint(tmp_path / "odd", observation_size=40)
    assert main(["eval", "--checkpoint", str(tmp_path / "odd"), "--episodes", "1"]) == 2
    assert "observation_size: checkpoint 40, environment 48" in capsys.readouterr().err

    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    assert main(["eval", "--policy", "zero", "--json", str(blocker / "m.json")]) == 2
    assert "cannot write" in capsys.readouterr().err
    assert main(["eval"]) == 2
    assert "--checkpoint PATH or --policy zero" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse, before any import
        main(["eval", "--policy", "zero", "--episodes", "0"])
    assert "--episodes: must be >= 1" in capsys.readouterr().err


def test_varying_commands_are_labelled() -> None:
    trace = _trace()
    command = trace.command.copy()
    command[:, 1, 0] = -0.3  # the second robot was asked for something else
    m = evaluate.compute_metrics(trace._replace(command=command), EnvConfig(), 8.5)
    assert m["command"] == "training distribution"
    assert "training distribution" in evaluate.format_table(m)
    assert evaluate.compute_metrics(trace, EnvConfig(), 8.5)["command"]["vx"] == 0.6


def test_all_fallen() -> None:
    trace = _trace()
    done = trace.done.copy()
    done[5, :] = True
    m = evaluate.compute_metrics(trace._replace(done=done), EnvConfig(), 8.5)
    assert m["fall_rate"] == 1.0 and m["gait"] == "fell"
    assert m["duty_factor"] is None and m["duty_factor_per_foot"] is None
    assert "n/a" in evaluate.format_table(m)


def test_eval_commands_the_full_speed_of_a_curriculum_trained_policy() -> None:
    from irondog.config import load
    from irondog.envs.config import EnvConfig

    trained = load(
        EnvConfig,
        overrides=["command.curriculum_steps=3000", "command.curriculum_start=0.3",
                   "num_threads=1"],
    )  # fmt: skip
    cfg = evaluate.eval_env_config(trained, episodes=2, seconds=0.1, command=(0.5, 0.0, 0.2))
    env = evaluate.make_env(cfg)
    state = env.reset(0)
    np.testing.assert_allclose(state.info["task"].command, [[0.5, 0.0, 0.2]] * 2)
    assert trained.command.curriculum_steps == 3000  # the training config is left alone


def test_eval_holds_every_axis_of_the_command_of_a_single_axis_trained_policy() -> None:
    """A preset's single-axis draws would zero two axes of the evaluated command."""
    from irondog.config import load
    from irondog.envs.config import EnvConfig

    trained = load(EnvConfig, overrides=["command.single_axis_probability=1.0", "num_threads=1"])
    cfg = evaluate.eval_env_config(trained, episodes=16, seconds=0.1, command=(0.5, 0.3, 0.2))
    env = evaluate.make_env(cfg)
    state = env.reset(0)
    np.testing.assert_allclose(state.info["task"].command, [[0.5, 0.3, 0.2]] * 16)
    # the training config itself draws one axis only
    raw = evaluate.make_env(dataclasses.replace(cfg, command=trained.command))
    assert ((raw.reset(0).info["task"].command != 0).sum(axis=1) <= 1).all()


def test_eval_randomize_switch_is_used_and_reported(monkeypatch, capsys) -> None:
    from irondog.agents import evaluate
    from irondog.cli import main

    built = []
    original = evaluate.make_env

    def make_env(cfg, model=None):
        built.append(cfg.randomization.enabled)
        return original(cfg, model)

    monkeypatch.setattr(evaluate, "make_env", make_env)
    argv = ["eval", "--policy", "zero", "--episodes", "2", "--seconds", "0.4"]
    results = {}
    for flag, expected in (([], True), (["--randomize"], True), (["--no-randomize"], False)):
        assert main([*argv, *flag, "--format", "json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert built[-1] is expected and data["domain_randomization"] is expected
        results[expected] = data["torque_peak"]
    assert results[True] != results[False]  # the switch changes the robot simulated
    assert main([*argv, "--no-randomize"]) == 0
    assert "domain randomisation" in capsys.readouterr().out
