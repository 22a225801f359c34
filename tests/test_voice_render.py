"""A voice command carried out by a policy: the joystick plan drives the rollout and video."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from irondog.agents import evaluate
from irondog.agents.render import render_video
from irondog.config import load
from irondog.envs.config import EnvConfig

ROOT = Path(__file__).resolve().parents[1]


def zero_policy(obs: np.ndarray) -> np.ndarray:
    return np.zeros((obs.shape[0], 12), np.float32)


def test_rollout_follows_a_command_schedule():
    cfg = load(EnvConfig, overrides=["num_envs=2", "num_threads=1"])
    env = evaluate.make_env(cfg)
    plan = np.array([[0.5, 0.0, 0.0], [0.0, 0.0, 1.0]])
    trace = evaluate.rollout(env, zero_policy, 6, command_at=lambda t: plan[t // 3])
    assert trace.command.shape == (6, 2, 3)  # (steps, simulations, 3)
    np.testing.assert_allclose(trace.command[:3], np.broadcast_to(plan[0], (3, 2, 3)))
    np.testing.assert_allclose(trace.command[3:], np.broadcast_to(plan[1], (3, 2, 3)))


def test_render_video_lasts_as_long_as_the_schedule(tmp_path):
    cfg = load(EnvConfig, overrides=["num_threads=1"])
    schedule = [(0.2, 0.5, 0.0, 0.0), (0.2, 0.0, 0.0, 0.8)]
    result = render_video(
        zero_policy, cfg, tmp_path / "plan.gif", width=96, height=72, fps=25, schedule=schedule
    )
    assert result.frames == 10  # 0.4 s at 25 fps
    assert result.trace.command[-1, 0].tolist() == [0.0, 0.0, 0.8]


def test_voice_render_needs_a_checkpoint_and_one_file(tmp_path):
    wav = ROOT / "voice" / "data" / "goforward.raw"
    proc = subprocess.run(
        [sys.executable, "-m", "irondog.cli", "voice", "--audio", str(wav),
         "--render", str(tmp_path / "v.mp4")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 2 and "--checkpoint and --render go together" in proc.stderr


@pytest.mark.slow
def test_spoken_command_walks_the_trained_dog(tmp_path):
    out = tmp_path / "dog.gif"
    proc = subprocess.run(
        [sys.executable, "-m", "irondog.cli", "voice", "--audio",
         str(ROOT / "voice" / "data" / "goforward.raw"), "--checkpoint",
         str(ROOT / "examples" / "trot_cpu"), "--render", str(out)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "move forward 10 m" in proc.stdout and out.stat().st_size > 0


def test_what_the_policy_cannot_do_is_said() -> None:
    from irondog.envs.config import CommandConfig, EnvConfig
    from irondog.voice.commands import parse_canonical, plan
    from irondog.voice.locomotion import beyond_policy

    forward_only = EnvConfig(
        command=CommandConfig(lin_vel_x=(0.5, 0.5), lin_vel_y=(0.0, 0.0), yaw_rate=(0.0, 0.0))
    )
    segments, _ = plan(parse_canonical("move forward 2 m then turn left then move left 1 m"))
    lines = beyond_policy(segments, forward_only)
    assert len(lines) == 2
    assert "'turn left'" in lines[0] and "turning rate of 0.8 rad/s" in lines[0]
    assert "'move left 1 m'" in lines[1] and "sideways speed" in lines[1]
    assert beyond_policy(segments, EnvConfig()) == []  # the default ranges cover all three
