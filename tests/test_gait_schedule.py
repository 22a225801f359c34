"""Gait schedules: parsing --gait, commanding gaits in a rollout, the CLI and voice wiring."""

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from irondog.agents import evaluate, gait_schedule
from irondog.config import ConfigError, load
from irondog.envs import gaits
from irondog.envs.config import EnvConfig

DT = 0.02


def zero_policy(obs: np.ndarray) -> np.ndarray:
    return np.zeros((obs.shape[0], 12))


def gait_cfg(*extra: str) -> EnvConfig:
    return load(EnvConfig, overrides=["task=gaits", "num_envs=2", "num_threads=1", *extra])


def test_one_gait_holds_for_the_whole_run():
    s = gait_schedule.parse("bound")
    assert s.names == ("bound",) and s.seconds is None
    at = s.gait_at(DT)
    np.testing.assert_allclose(at(0), gaits.preset("bound").vector())
    np.testing.assert_allclose(at(10_000), gaits.preset("bound").vector())


def test_a_timed_schedule_switches_on_time_and_repeats():
    s = gait_schedule.parse(" Trot:4, bound:4 ,walk:4")
    assert s.names == ("trot", "bound", "walk") and s.seconds == 12.0
    steps = {"trot": (0, 199), "bound": (200, 399), "walk": (400, 599)}
    for name, (first, last) in steps.items():
        assert s.name_at_step(first, DT) == name and s.name_at_step(last, DT) == name
        np.testing.assert_allclose(s.gait_at(DT)(first), gaits.preset(name).vector())
    assert s.name_at_step(600, DT) == "trot"  # 12 s later it starts again
    assert s.describe() == "trot 4 s, bound 4 s, walk 4 s"


def test_unknown_gaits_and_bad_durations_are_clear_errors():
    with pytest.raises(ConfigError, match="unknown gait 'gallop'; known gaits: walk, trot, pace"):
        gait_schedule.parse("trot:4,gallop:4")
    with pytest.raises(ValueError, match="'fast' is not a number"):
        gait_schedule.parse("trot:fast")
    with pytest.raises(ValueError, match="must be > 0"):
        gait_schedule.parse("trot:0")
    with pytest.raises(ValueError, match="missing for bound"):
        gait_schedule.parse("trot:4,bound")
    with pytest.raises(ValueError, match="write one gait"):
        gait_schedule.parse("trot,,bound:2")


def test_a_preset_outside_the_trained_range_is_clamped_with_a_warning():
    narrow = gaits.GaitRanges(frequency=(1.25, 2.2))
    with pytest.warns(UserWarning, match="frequency"):
        s = gait_schedule.parse("bound", narrow)  # bound steps at 2.5 Hz
    assert s.vectors[0, 0] == 2.2


def test_rollout_commands_gaits_and_the_clock_runs_on_across_switches():
    cfg = evaluate.eval_env_config(gait_cfg(), 2, 1.0, first_gait="trot")
    env = evaluate.make_env(cfg)
    s = gait_schedule.from_pieces([("trot", 0.5), ("bound", 0.5)])
    trace = evaluate.rollout(env, zero_policy, 50, gait_at=s.gait_at(cfg.ctrl_dt))
    trot, bound = gaits.preset("trot").vector(), gaits.preset("bound").vector()
    np.testing.assert_allclose(trace.gait[:25], np.broadcast_to(trot, (25, 2, 8)), atol=1e-6)
    np.testing.assert_allclose(trace.gait[25:], np.broadcast_to(bound, (25, 2, 8)), atol=1e-6)
    # The clock advances by the commanded frequency each step, with no reset at the switch.
    freq = trace.gait[:, 0, 0]
    expected = np.cumsum(freq * cfg.ctrl_dt) % 1.0
    np.testing.assert_allclose(trace.phase[:, 0], expected, atol=1e-5)
    assert not trace.done.any()


def test_rollout_takes_one_gait_per_simulation():
    cfg = evaluate.eval_env_config(gait_cfg(), 2, 0.2, first_gait="trot")
    env = evaluate.make_env(cfg)
    table = np.stack([gaits.preset("pace").vector(), gaits.preset("pronk").vector()])
    trace = evaluate.rollout(env, zero_policy, 5, gait_at=lambda t: table)
    np.testing.assert_allclose(trace.gait[-1], table, atol=1e-6)


def test_the_observation_shows_the_commanded_gait():
    cfg = evaluate.eval_env_config(gait_cfg("noise.scale=0"), 2, 0.2, first_gait="walk")
    env = evaluate.make_env(cfg)
    seen = []

    def act(obs):
        seen.append(obs[:, 48:56].copy())
        return np.zeros((obs.shape[0], 12))

    evaluate.rollout(env, act, 3, gait_at=lambda t: gaits.preset("pronk").vector())
    # The first observation (reset) shows the schedule's first gait; later ones the command.
    np.testing.assert_allclose(seen[0][0], gaits.preset("walk").vector(), atol=1e-6)
    np.testing.assert_allclose(seen[-1][0], gaits.preset("pronk").vector(), atol=1e-6)


def test_eval_config_for_a_schedule_stops_the_env_resampling_gaits():
    cfg = evaluate.eval_env_config(gait_cfg(), 4, 20.0, first_gait="bound")
    assert cfg.gaits.presets == ("bound",) and cfg.gaits.blend_probability == 0.0
    assert cfg.command.resample_interval > cfg.episode_length


def test_a_joystick_policy_cannot_take_a_gait():
    joystick = load(EnvConfig, overrides=["num_envs=2", "num_threads=1"])
    with pytest.raises(ValueError, match="runs the joystick task, which takes no gait"):
        evaluate.eval_env_config(joystick, 2, 1.0, first_gait="trot")
    env = evaluate.make_env(joystick)
    with pytest.raises(ValueError, match="a gait schedule: this policy runs the joystick"):
        evaluate.rollout(env, zero_policy, 2, gait_at=lambda t: gaits.preset("trot").vector())


def test_evaluate_reports_each_commanded_gait():
    s = gait_schedule.parse("trot:1,pronk:1")
    metrics, trace = evaluate.evaluate(zero_policy, gait_cfg(), episodes=2, seconds=2.0,
                                       gait_schedule=s)  # fmt: skip
    assert metrics["gait_command"] == "trot 1 s, pronk 1 s"
    assert metrics["gait_fidelity"] == 0.0  # the zero policy stands: no strides at all
    assert trace.gait.shape == (100, 2, 8)
    text = evaluate.format_table(metrics)
    assert "commanded gait" in text and "trot 1 s, pronk 1 s" in text
    assert "strides matching the schedule" in text
    evaluate.to_json(metrics)  # JSON-ready


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "irondog.cli", *args], capture_output=True, text=True, timeout=300
    )


def test_cli_eval_with_a_gait_schedule_on_a_gait_env():
    proc = cli("eval", "--policy", "zero", "--env", "irondog/CyberDog2-Gaits-v0", "--gait",
               "trot:0.5,bound:0.5", "--episodes", "2", "--format", "json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    import json

    metrics = json.loads(proc.stdout)
    assert metrics["seconds"] == pytest.approx(1.0)  # the schedule's length
    assert metrics["gait_command"] == "trot 0.5 s, bound 0.5 s"


def test_cli_gait_errors():
    proc = cli("eval", "--policy", "zero", "--env", "irondog/CyberDog2-Gaits-v0",
               "--gait", "gallop")  # fmt: skip
    assert proc.returncode == 2
    assert "unknown gait 'gallop'; known gaits: walk, trot, pace, bound, pronk" in proc.stderr
    proc = cli("eval", "--policy", "zero", "--gait", "bound", "--episodes", "1")
    assert proc.returncode == 2 and "runs the joystick task" in proc.stderr
    proc = cli("render", "--policy", "zero", "--gait", "bound", "--out", "/tmp/x.gif")
    assert proc.returncode == 2 and "runs the joystick task" in proc.stderr


def test_render_overlay_names_the_commanded_gait(tmp_path):
    from irondog.agents import render

    lines = render.command_lines(np.array([0.5, 0, 0]), 0.4, 1.0, "label", "bound")
    assert lines[0] == "label" and lines[2] == "gait bound"
    s = gait_schedule.parse("trot:0.2,bound:0.2")
    shown = []
    original = render.command_lines

    def spy(*args, **kwargs):
        lines = original(*args, **kwargs)
        shown.append(lines)
        return lines

    render.command_lines = spy
    try:
        result = render.render_video(zero_policy, gait_cfg(), tmp_path / "g.gif", seconds=0.4,
                                     width=64, height=48, fps=25, gait_schedule=s)  # fmt: skip
    finally:
        render.command_lines = original
    assert result.frames == 10
    gaits_shown = [next(line for line in lines if line.startswith("gait ")) for lines in shown]
    assert gaits_shown[0] == "gait trot" and gaits_shown[-1] == "gait bound"


def test_voice_plan_gaits_map_onto_presets(capsys):
    from irondog.voice.locomotion import plan_gaits

    gait_env = gait_cfg()
    s = plan_gaits([("bound", 3.0), ("walk", 2.0)], gait_env, asked=True)
    assert s.names == ("bound", "walk") and s.seconds == 5.0 and not s.cycle
    np.testing.assert_allclose(s.vectors[1], gaits.preset("walk").vector())
    assert capsys.readouterr().err == ""
    joystick = dataclasses.replace(gait_env, task="joystick")
    assert plan_gaits([("bound", 3.0), ("bound", 1.0)], joystick, asked=True) is None
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "gait (bound) is ignored" in err
    assert plan_gaits([("trot", 3.0)], joystick) is None  # the default gait: nothing to say
    assert capsys.readouterr().err == ""


class FakePipeline:
    """Stands in for the speech pipeline: 'understands' a fixed canonical command."""

    def __init__(self, text: str) -> None:
        from irondog.voice.commands import JoystickState, parse_canonical, plan
        from irondog.voice.pipeline import Result

        command = parse_canonical(text)
        segments, self.state = plan(command, JoystickState())
        self.result = Result(command, text, text, 1.0, ((text, 1.0),), "ok", {}, tuple(segments))

    def understand_file(self, path):
        return self.result


def carry_out(monkeypatch, tmp_path, text: str, env_config: EnvConfig):
    """Run the voice --render path with a zero policy on ``env_config``; the rollout trace."""
    import argparse

    from irondog import cmd_voice
    from irondog.agents import policy, render

    monkeypatch.setattr(policy, "load_policy", lambda path: (zero_policy, env_config))
    traces = []
    original = render.render_video

    def keep(*args, **kwargs):
        kwargs.update(width=32, height=24)
        result = original(*args, **kwargs)
        traces.append(result.trace)
        return result

    monkeypatch.setattr(render, "render_video", keep)
    args = argparse.Namespace(audio=["x.wav"], render=str(tmp_path / "v.gif"), json=False,
                              checkpoint="fake")  # fmt: skip
    assert cmd_voice._carry_out(FakePipeline(text), args) == 0
    return traces[0]


def test_voice_render_commands_the_plans_gaits(monkeypatch, tmp_path, capsys):
    text = "move forward 1 s then gait bound then move forward 1 s"
    trace = carry_out(monkeypatch, tmp_path, text, gait_cfg())
    np.testing.assert_allclose(trace.gait[10, 0], gaits.preset("trot").vector(), atol=1e-6)
    np.testing.assert_allclose(trace.gait[-1, 0], gaits.preset("bound").vector(), atol=1e-6)
    assert "ignored" not in capsys.readouterr().err


def test_voice_render_with_a_joystick_policy_ignores_the_gait(monkeypatch, tmp_path, capsys):
    joystick = load(EnvConfig, overrides=["num_threads=1"])
    trace = carry_out(monkeypatch, tmp_path, "gait walk then move forward 1 s", joystick)
    assert len(trace.done) == 50  # the move is carried out all the same
    assert capsys.readouterr().err.count("gait (walk) is ignored") == 1
