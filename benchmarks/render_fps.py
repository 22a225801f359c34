"""Offscreen rendering speed at 640x480 (target: 30 fps), EGL and OSMesa side by side.

    python benchmarks/render_fps.py [--frames 60] [--backends egl osmesa]

For each GL back end (a child process each: MuJoCo picks it at import), in the same run:
- reference: ``mujoco.Renderer`` out of the box (4x multisampling, shadows, reflections);
- irondog: ``FrameRenderer`` as ``irondog render`` uses it (no multisampling, shadows or
  reflections), alone and with the overlay and H.264 encoding;
- the 16-robot grid view, and the end-to-end ``render_video`` (simulation + policy too).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _rate(fn, frames: int) -> float:
    fn()  # warm up (first frame compiles shaders / uploads meshes)
    start = time.perf_counter()
    for _ in range(frames):
        fn()
    return frames / (time.perf_counter() - start)


def child(frames: int, width: int, height: int) -> dict:
    """Measure in this process (MUJOCO_GL already set); returns frames per second."""
    import mujoco
    import numpy as np

    from irondog.agents import evaluate, policy, render
    from irondog.envs.config import EnvConfig

    cfg = evaluate.eval_env_config(EnvConfig(num_threads=1), 16, 5.0, num_threads=1)
    env = evaluate.make_env(cfg)
    state = env.reset(0)
    for _ in range(10):
        state = env.step(state, np.zeros((16, 12)))
    out: dict = {"backend": os.environ.get("MUJOCO_GL"), "width": width, "height": height}

    data = env.batch.get_data(0)
    mujoco.mj_forward(env.model, data)
    env.model.vis.quality.offsamples = 4
    reference = mujoco.Renderer(env.model, height=height, width=width)

    def ref_frame():
        reference.update_scene(data, camera=render.CAMERA)
        return reference.render()

    out["reference_fps"] = _rate(ref_frame, frames)
    reference.close()

    single = render.FrameRenderer(env, width, height, grid=1)
    out["irondog_fps"] = _rate(lambda: single.frame(), frames)
    with tempfile.TemporaryDirectory() as tmp:
        writer = render.VideoWriter(Path(tmp) / "bench.mp4", 25.0)
        lines = render.command_lines(np.array([0.5, 0.0, 0.0]), 0.5, 1.0, "bench")

        def full():
            writer.append(render.draw_overlay(single.frame(), lines, font_size=15))

        out["irondog_overlay_encode_fps"] = _rate(full, frames)
        writer.close()
    single.close()

    grid = render.FrameRenderer(env, width, height, grid=4)
    out["grid16_fps"] = _rate(lambda: grid.frame(), max(5, frames // 4))
    grid.close()

    with tempfile.TemporaryDirectory() as tmp:
        seconds = frames / 25.0
        start = time.perf_counter()
        result = render.render_video(
            policy.zero_policy(), EnvConfig(num_threads=1), Path(tmp) / "e2e.mp4",
            seconds=seconds, width=width, height=height, fps=25.0,
        )  # fmt: skip
        out["end_to_end_fps"] = result.frames / (time.perf_counter() - start)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--backends", nargs="+", default=["egl", "osmesa"])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.frames, args.width, args.height)))
        return 0
    rows = []
    for backend in args.backends:
        env = dict(os.environ, MUJOCO_GL=backend)
        cmd = [sys.executable, __file__, "--child", "--frames", str(args.frames),
               "--width", str(args.width), "--height", str(args.height)]  # fmt: skip
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{backend}: failed\n{done.stderr[-1500:]}", file=sys.stderr)
            continue
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print("| back end | size | reference fps | irondog fps | ratio | + overlay + H.264 | "
          "16-robot grid | end to end |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(
            f"| {r['backend']} | {r['width']}x{r['height']} | {r['reference_fps']:.1f} | "
            f"{r['irondog_fps']:.1f} | {r['irondog_fps'] / r['reference_fps']:.1f}x | "
            f"{r['irondog_overlay_encode_fps']:.1f} | {r['grid16_fps']:.1f} | "
            f"{r['end_to_end_fps']:.1f} |"
        )
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
