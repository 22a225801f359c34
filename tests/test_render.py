"""Offscreen rendering (tiny frames), overlays, plots, TensorBoard reading and the view command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from irondog.agents import plots, policy, render
from irondog.envs.config import EnvConfig

CFG = EnvConfig(num_threads=1)


def _frames(path: Path) -> np.ndarray:
    import imageio.v3 as iio

    return np.stack(list(iio.imiter(path)))


def test_mp4_of_one_robot(tmp_path: Path) -> None:
    out = tmp_path / "run.mp4"
    result = render.render_video(
        policy.zero_policy(), CFG, out, seconds=0.4, width=96, height=64, fps=25, label="test"
    )
    assert result.frames == 10 and result.fps == 25.0
    frames = _frames(out)
    assert frames.shape[1:] == (64, 96, 3) and len(frames) == 10
    # The robot and the floor are drawn (an unprepared MjData renders an all-black frame).
    assert frames[-1, 32:].mean() > 20
    assert result.trace.contact.shape == (20, 1, 4)


def test_gif_and_grid(tmp_path: Path) -> None:
    out = tmp_path / "grid.gif"
    result = render.render_video(
        policy.zero_policy(), CFG, out, seconds=0.2, width=64, height=48, grid=2, overlay=False
    )
    frames = _frames(out)
    assert len(frames) == result.frames == 5
    assert frames.shape[1:3] == (48, 64)
    assert frames[0].mean() > 20


def test_grid_shows_every_robot() -> None:
    from irondog.agents import evaluate

    env = evaluate.make_env(evaluate.eval_env_config(CFG, 4, 1.0, num_threads=1))
    env.reset(0)
    four = render.FrameRenderer(env, 128, 96, grid=2)
    try:
        image = four.frame()
    finally:
        four.close()
    # Four robots stand in a square: white trunk pixels in each quarter of the frame.
    white = image.min(axis=2) > 170  # (H, W) the trunks are light grey, the floor darker
    rows, cols = np.nonzero(white)
    assert len(rows) > 20
    assert cols.min() < 64 < cols.max()  # robots left and right of the centre


def test_overlay_draws_text() -> None:
    frame = np.zeros((60, 200, 3), np.uint8)
    lines = render.command_lines(np.array([0.5, 0.0, -0.2]), 0.45, 1.0, "label")
    assert "vx +0.50" in lines[1] and "yaw -0.20" in lines[1]
    out = render.draw_overlay(frame, lines, font_size=10)
    assert out.shape == frame.shape and out[:, :100].max() > 200


def test_bad_output_fails_before_any_simulation(tmp_path: Path, monkeypatch) -> None:
    from irondog.agents import evaluate

    def no_env(cfg):  # the rollout must never start
        raise AssertionError("an environment was built")

    monkeypatch.setattr(evaluate, "make_env", no_env)
    with pytest.raises(ValueError, match="suffixes .mp4, .gif"):
        render.render_video(policy.zero_policy(), CFG, tmp_path / "run.avi")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match="cannot write"):
        render.render_video(policy.zero_policy(), CFG, blocker / "run.mp4")
    (tmp_path / "folder.mp4").mkdir()
    with pytest.raises(ValueError, match="is a folder"):
        render.render_video(policy.zero_policy(), CFG, tmp_path / "folder.mp4")


def test_no_gl_back_end_gives_a_hint(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["MUJOCO_GL"] = "glfw"  # a windowing back end with no display: cannot start
    main = "import sys; from irondog.cli import main; sys.exit(main(sys.argv[1:]))"
    cmd = [sys.executable, "-c", main, "render", "--policy", "zero", "--seconds", "0.1",
           "--out", str(tmp_path / "x.mp4")]  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "OpenGL" in done.stderr and "MUJOCO_GL=egl" in done.stderr
    env["MUJOCO_GL"] = "vulkan"
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "not a GL back end" in done.stderr


def test_plots_write_pngs(tmp_path: Path) -> None:
    from irondog.agents import gait

    contact = gait.synthetic_contacts("trot", 100, 0.02)
    t = np.arange(100)[:, None] * 0.02
    q = np.sin(2 * np.pi * 2 * t) * np.ones((1, 12))
    for path in (
        plots.gait_diagram(contact, 0.02, tmp_path / "gait.png"),
        plots.joint_traces(q, 3 * q, 0.02, tmp_path / "joints.png"),
        plots.motor_envelope(4 * q, 5 * q, 40 + t * np.ones((1, 12)), 0.02, tmp_path / "env.png"),
    ):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tensorboard_scalars_round_trip(tmp_path: Path) -> None:
    from tensorboardX import SummaryWriter

    writer = SummaryWriter(str(tmp_path))
    for step in range(5):
        writer.add_scalar("episode/return", 0.5 * step, step * 100)
        writer.add_scalar("loss/value", 1.0 / (step + 1), step * 100)
    writer.close()
    scalars = plots.read_scalars(tmp_path)
    steps, values = scalars["episode/return"]
    np.testing.assert_array_equal(steps, [0, 100, 200, 300, 400])
    np.testing.assert_allclose(values, [0.0, 0.5, 1.0, 1.5, 2.0])
    assert plots.learning_curves(tmp_path, tmp_path / "lc.png") == tmp_path / "lc.png"
    assert plots.learning_curves(tmp_path / "empty", tmp_path / "none.png") is None


def test_view_without_display_points_to_render(monkeypatch, capsys) -> None:
    from irondog import cmd_view
    from irondog.cli import main

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert main(["view", "--policy", "zero"]) == 2
    assert "irondog render --policy zero --out run.mp4" in capsys.readouterr().err
    limits = EnvConfig().command
    cmd = cmd_view.apply_key(np.zeros(3), cmd_view.KEY_UP, limits)
    assert cmd.tolist() == [0.1, 0.0, 0.0]
    for _ in range(30):
        cmd = cmd_view.apply_key(cmd, cmd_view.KEY_LEFT, limits)
    assert cmd[2] == pytest.approx(limits.yaw_rate[1])  # clipped to the training range
    assert cmd_view.apply_key(cmd, cmd_view.KEY_HOME, limits).tolist() == [0.0, 0.0, 0.0]


@pytest.mark.slow
def test_viewer_opens_and_arrow_keys_steer(tmp_path: Path) -> None:
    """Needs Debian's xvfb and xdotool (not installed by install.sh): a virtual display."""
    import shutil

    if not (shutil.which("xvfb-run") and shutil.which("xdotool")):
        pytest.skip("xvfb-run and xdotool are needed (apt-get install xvfb xdotool)")
    log = tmp_path / "view.log"
    script = f"""
MUJOCO_GL=glfw {sys.executable} -c 'import sys; from irondog.cli import main; \
sys.exit(main(sys.argv[1:]))' view --policy zero --command vx=0 > {log} 2>&1 &
pid=$!
for i in $(seq 60); do win=$(xdotool search --name MuJoCo | head -1); [ -n "$win" ] && break; \
sleep 1; done
sleep 2
xdotool key --window "$win" Up; sleep 0.5; xdotool key --window "$win" Left; sleep 1
kill $pid
"""
    subprocess.run(["xvfb-run", "-a", "bash", "-c", script], timeout=180, check=False)
    text = log.read_text()
    assert "command vx +0.10 vy +0.00 yaw +0.00" in text, text[-2000:]
    assert "command vx +0.10 vy +0.00 yaw +0.20" in text
