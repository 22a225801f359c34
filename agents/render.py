"""Offscreen videos of a policy: MuJoCo's renderer (EGL or OSMesa, no display needed), the
MJCF's tracking camera "track", a command overlay (Pillow), and a grid of many robots.

    result = render_video(act, env_config, "run.mp4", seconds=5.0)            # one robot
    result = render_video(act, env_config, "grid.gif", grid=4, width=640)     # 16 robots

MP4 goes through imageio-ffmpeg (H.264, plays in browsers); GIF through Pillow. The output
path is checked (suffix, writable folder) and the GL back end is started before any
simulation runs, so a bad path or a missing GL library fails at once.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from irondog.envs.config import EnvConfig
from irondog.outputs import check_output_dir as check_writable_dir  # noqa: F401 (agents.report)
from irondog.outputs import check_output_file
from irondog.progress import QUIET, Progress

VIDEO_SUFFIXES = (".mp4", ".gif")
CAMERA = "track"  # tracking camera defined in envs/assets/cyberdog2.xml
GRID_SPACING = 0.8  # m between robots in the grid view
GL_HINT = (
    "MuJoCo could not start an OpenGL back end (MUJOCO_GL={gl}). On a headless Debian/Ubuntu "
    "machine install EGL (apt-get install libegl1 libegl-mesa0) or OSMesa "
    "(apt-get install libosmesa6) and set MUJOCO_GL=egl or MUJOCO_GL=osmesa; with a display, "
    "MUJOCO_GL=glfw. Original error: {err}"
)


class RenderError(RuntimeError):
    """Rendering cannot start (no GL back end, bad size); the message says how to fix it."""


class RenderResult(NamedTuple):
    """What ``render_video`` made."""

    path: Path
    frames: int
    fps: float
    width: int
    height: int
    render_seconds: float  # wall time spent rendering and encoding (not simulating)
    trace: Any  # irondog.agents.evaluate.Trace of the rollout


def check_output_path(path: str | Path, suffixes: tuple[str, ...] = VIDEO_SUFFIXES) -> Path:
    """Fail now (ValueError) if ``path`` has a wrong suffix or its folder cannot be written."""
    return check_output_file(path, suffixes)


def check_gl_setting() -> None:
    """ValueError if MUJOCO_GL names no back end MuJoCo knows (egl, osmesa, glfw)."""
    value = os.environ.get("MUJOCO_GL", "")
    if value and value.lower() not in ("egl", "osmesa", "glfw", "cgl", "wgl"):
        raise ValueError(f"MUJOCO_GL={value!r} is not a GL back end; use egl or osmesa")


def make_renderer(model: Any, width: int, height: int) -> Any:
    """A ``mujoco.Renderer`` of ``width`` x ``height``; RenderError with a hint if GL fails."""
    import mujoco

    if width < 16 or height < 16:
        raise RenderError(f"frame size {width}x{height} is too small (at least 16x16)")
    # The offscreen buffer must hold the frame; grow the model's (visual/global) setting.
    model.vis.global_.offwidth = max(model.vis.global_.offwidth, width)
    model.vis.global_.offheight = max(model.vis.global_.offheight, height)
    try:
        renderer = mujoco.Renderer(model, height=height, width=width)
    except Exception as err:  # mujoco.FatalError, ImportError, RuntimeError from the GL libs
        raise RenderError(
            GL_HINT.format(gl=os.environ.get("MUJOCO_GL", "<unset>"), err=err)
        ) from None
    # Cheaper frames on a software rasteriser: no shadows or floor reflections.
    renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = False
    renderer.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = False
    return renderer


def _font(size: int) -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)  # Pillow's bundled scalable font
    except TypeError:  # Pillow built without FreeType: fixed bitmap font
        return ImageFont.load_default()


def draw_overlay(frame: np.ndarray, lines: list[str], font_size: int = 14) -> np.ndarray:
    """``frame`` (H, W, 3) uint8 with ``lines`` of text in a dark box at the top left."""
    from PIL import Image, ImageDraw

    image = Image.fromarray(frame)
    draw = ImageDraw.Draw(image, "RGBA")
    font = _font(font_size)
    pad, y = 4, 4
    boxes = [draw.textbbox((0, 0), line, font=font) for line in lines]
    width = max((b[2] - b[0] for b in boxes), default=0) + 2 * pad
    height = sum(b[3] - b[1] + 2 for b in boxes) + 2 * pad
    draw.rectangle((2, 2, 2 + width, 2 + height), fill=(0, 0, 0, 150))
    for line, box in zip(lines, boxes, strict=True):
        draw.text((2 + pad, y + pad - box[1]), line, fill=(255, 255, 255, 255), font=font)
        y += box[3] - box[1] + 2
    return np.asarray(image)


def command_lines(
    command: np.ndarray, speed: float, t: float, label: str = "", gait: str = ""
) -> list[str]:
    """Overlay text: the joystick command (and commanded gait), the measured speed, the time."""
    vx, vy, yaw = (float(x) for x in command)
    lines = [f"cmd vx {vx:+.2f}  vy {vy:+.2f} m/s  yaw {yaw:+.2f} rad/s", f"speed {speed:.2f} m/s"
             f"   t {t:5.2f} s"]  # fmt: skip
    if gait:
        lines.insert(1, f"gait {gait}")
    if label:
        lines.insert(0, label)
    return lines


class VideoWriter:
    """Frames -> .mp4 (imageio-ffmpeg, H.264) or .gif (Pillow), chosen by the suffix."""

    def __init__(self, path: str | Path, fps: float) -> None:
        import imageio.v2 as iio

        self.path = Path(path)
        self.fps = fps
        self.gif = self.path.suffix.lower() == ".gif"
        self._frames: list[np.ndarray] = []
        self._count = 0
        self._writer = (
            None
            if self.gif
            else iio.get_writer(self.path, fps=fps, codec="libx264", quality=7, macro_block_size=2)
        )

    def append(self, frame: np.ndarray) -> None:
        """Add one (H, W, 3) uint8 frame."""
        self._count += 1
        if self._writer is None:
            self._frames.append(frame)
        elif self._count == 1:
            with warnings.catch_warnings():
                # The first frame starts ffmpeg through subprocess (fork + exec at once, which
                # is safe); silence JAX's generic warning about fork in a threaded process.
                warnings.filterwarnings("ignore", message="os.fork", category=RuntimeWarning)
                self._writer.append_data(frame)
        else:
            self._writer.append_data(frame)

    def close(self) -> None:
        """Finish the file."""
        if self._writer is not None:
            self._writer.close()
            return
        import imageio.v3 as iio3

        if self._frames:
            # Pillow's GIF writer: duration per frame in ms, loop forever.
            iio3.imwrite(self.path, np.stack(self._frames), duration=1000.0 / self.fps, loop=0)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class FrameRenderer:
    """Draws simulations of a native batch env: one robot from the tracking camera, or
    ``grid`` x ``grid`` robots side by side on one floor, all in a single render call."""

    def __init__(
        self, env: Any, width: int, height: int, grid: int = 1, antialias: bool = False
    ) -> None:
        if grid < 1:
            raise ValueError(f"--grid must be >= 1, got {grid}")
        if env.num_envs < grid * grid:
            raise ValueError(f"a {grid}x{grid} grid needs {grid * grid} simulations")
        self.env, self.grid = env, grid
        self.width, self.height = width, height
        # Multisampling costs about 4x on a software rasteriser (llvmpipe); off by default.
        env.model.vis.quality.offsamples = 4 if antialias else 0
        self.renderer = make_renderer(env.model, width, height)
        self._start: np.ndarray | None = None  # (n, 3) trunk start positions, grid view

    def _data(self, index: int) -> Any:
        import mujoco

        data = self.env.batch.get_data(index)  # a copy of that simulation's state only
        mujoco.mj_forward(self.env.model, data)  # positions, camera and lights for drawing
        return data

    def render(self, index: int = 0) -> np.ndarray:
        """(height, width, 3) uint8 view of simulation ``index`` from the tracking camera."""
        self.renderer.update_scene(self._data(index), camera=CAMERA)
        return self.renderer.render()

    def render_grid(self) -> np.ndarray:
        """(height, width, 3): the first grid*grid simulations, each shifted to its own slot
        of a square formation (GRID_SPACING apart), seen by a camera following the formation."""
        import mujoco

        count = self.grid * self.grid
        datas = [self._data(i) for i in range(count)]
        trunk = np.array([d.qpos[0:3] for d in datas])  # (count, 3) m
        if self._start is None:
            self._start = trunk.copy()
        rows, cols = np.divmod(np.arange(count), self.grid)
        half = (self.grid - 1) / 2
        slots = np.stack(
            [(cols - half) * GRID_SPACING, (half - rows) * GRID_SPACING, np.zeros(count)], axis=1
        )
        shift = slots - self._start * np.array([1.0, 1.0, 0.0])  # (count, 3)
        camera = mujoco.MjvCamera()
        camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        camera.lookat[:] = (trunk + shift).mean(axis=0)
        camera.distance = GRID_SPACING * (self.grid + 1.5)
        camera.elevation = -30.0
        camera.azimuth = 90.0
        scene = self.renderer.scene
        self.renderer.update_scene(datas[0], camera=camera)
        option, perturb = mujoco.MjvOption(), mujoco.MjvPerturb()
        dynamic = int(mujoco.mjtCatBit.mjCAT_DYNAMIC)
        first = scene.ngeom
        for g in range(scene.ngeom):  # robot 0's geoms: everything that moves
            if scene.geoms[g].category & dynamic:
                scene.geoms[g].pos[:] += shift[0]
        for i in range(1, count):
            first = scene.ngeom
            mujoco.mjv_addGeoms(self.env.model, datas[i], option, perturb, dynamic, scene)
            for g in range(first, scene.ngeom):
                scene.geoms[g].pos[:] += shift[i]
        return self.renderer.render()

    def frame(self) -> np.ndarray:
        """(height, width, 3): one robot, or the grid."""
        return self.render(0) if self.grid == 1 else self.render_grid()

    def close(self) -> None:
        """Free the GL context."""
        self.renderer.close()


def render_video(
    act: Callable[[np.ndarray], np.ndarray],
    env_config: EnvConfig,
    out: str | Path,
    seconds: float = 5.0,
    width: int = 640,
    height: int = 480,
    fps: float = 25.0,
    grid: int = 1,
    command: tuple[float, float, float] | None = (0.5, 0.0, 0.0),
    overlay: bool = True,
    label: str = "",
    seed: int = 0,
    antialias: bool = False,
    env_check: Callable[[Any], None] | None = None,
    schedule: Sequence[tuple[float, float, float, float]] | None = None,
    gait_schedule: Any = None,
    progress: Progress = QUIET,
) -> RenderResult:
    """Roll out ``act`` and write a video of it to ``out`` (.mp4 or .gif).

    ``schedule``: (duration_s, vx, vy, yaw_rate) pieces to command one after the other (the
    video then lasts as long as they do) instead of one fixed ``command``.
    ``gait_schedule``: an ``irondog.agents.gait_schedule.GaitSchedule`` commanding gaits over
    time (gait policies only; the overlay names the commanded gait).
    """
    from irondog.agents import evaluate

    out = check_output_path(out)
    if fps <= 0:
        raise ValueError(f"--fps must be > 0, got {fps}")
    command_at = None
    if schedule:
        from irondog.agents.gait_schedule import piece_index

        durations = [piece[0] for piece in schedule]
        table = np.array([piece[1:4] for piece in schedule], dtype=np.float64)
        seconds = float(sum(durations))

        def command_at(t: int) -> np.ndarray:  # step t's midpoint decides, as for gaits
            return table[piece_index(durations, (t + 0.5) * env_config.ctrl_dt)]

    first_gait = gait_schedule.names[0] if gait_schedule is not None else None
    cfg = evaluate.eval_env_config(
        env_config, grid * grid, seconds, command, num_threads=1, first_gait=first_gait
    )
    gait_at = gait_schedule.gait_at(cfg.ctrl_dt) if gait_schedule is not None else None
    env = evaluate.make_env(cfg)
    if env_check is not None:
        env_check(env)
    frames = FrameRenderer(
        env, width, height, grid, antialias
    )  # GL starts here, before the rollout
    stride = max(1, round(1.0 / (fps * cfg.ctrl_dt)))  # control steps per frame
    video_fps = 1.0 / (stride * cfg.ctrl_dt)
    steps = max(1, round(seconds / cfg.ctrl_dt))
    count, spent = 0, 0.0
    writer = VideoWriter(out, video_fps)

    bar = progress.bar(f"rendering {out.name}", steps)

    def on_step(t: int, state: Any, env: Any) -> None:
        nonlocal count, spent
        bar.update(1)
        if t % stride:
            return
        start = time.perf_counter()
        image = frames.frame()
        if overlay:
            speed = float(np.linalg.norm(env.qvel[0, :2]))
            tinfo = state.info.task
            tag = label if grid == 1 else f"{label}  {grid * grid} robots".strip()
            gait = "" if gait_schedule is None else gait_schedule.name_at_step(t, cfg.ctrl_dt)
            image = draw_overlay(
                image,
                command_lines(tinfo.command[0], speed, (t + 1) * cfg.ctrl_dt, tag, gait),
                font_size=max(10, height // 32),
            )
        writer.append(image)
        spent += time.perf_counter() - start
        count += 1

    try:
        trace = evaluate.rollout(
            env, act, steps, seed, on_step=on_step, command_at=command_at, gait_at=gait_at
        )
    finally:
        start = time.perf_counter()
        writer.close()  # also after an error: no ffmpeg process is left behind
        spent += time.perf_counter() - start
        frames.close()
        bar.close()
    return RenderResult(out, count, video_fps, width, height, spent, trace)
