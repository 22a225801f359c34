"""A self-contained static HTML report of a policy: video, plots and the metrics table.

    build_report(act, env_config, "report/", label="runs/trot")

``report/index.html`` embeds every image and the video as data URIs, so the one file can be
mailed to a colleague; the same media are also written beside it (``run.mp4``, ``*.png``,
``metrics.json``). A small script in the page records, once the media have loaded, whether
each image decoded and the video's duration, in ``<pre id="media-check">`` (the report test
reads it from headless Chromium).
"""

from __future__ import annotations

import base64
import datetime
import html
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from irondog import __version__
from irondog.agents import evaluate, plots, render
from irondog.envs.config import EnvConfig
from irondog.progress import QUIET, Progress


class ReportResult(NamedTuple):
    """Files written by ``build_report``."""

    index: Path
    video: Path
    images: dict[str, Path]  # name -> PNG
    metrics: dict[str, Any]


CHECK_SCRIPT = """
<script>
// Record whether each image decoded and the video's duration (read by tests/test_report.py).
(function () {
  const out = document.getElementById("media-check");
  const result = {images: {}, video: null};
  const write = () => { out.textContent = JSON.stringify(result); };
  for (const img of document.querySelectorAll("img")) {
    const done = () => { result.images[img.alt] = img.complete && img.naturalWidth > 0; write(); };
    if (img.complete) { done(); } else { img.addEventListener("load", done);
      img.addEventListener("error", done); }
  }
  const video = document.querySelector("video");
  if (video) {
    const meta = () => { result.video = video.duration; write(); };
    if (video.readyState >= 1) { meta(); } else { video.addEventListener("loadedmetadata", meta);
      video.addEventListener("error", () => { result.video = "error"; write(); }); }
  }
  write();
})();
</script>
"""

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 1.6em; }
table { border-collapse: collapse; } td { padding: 3px 12px; border-bottom: 1px solid #ddd; }
td:first-child { color: #555; } img, video { max-width: 100%; border: 1px solid #ccc; }
.meta { color: #666; font-size: 0.9em; } pre { background: #f5f5f5; padding: 8px; }
#media-check { display: none; }
"""


def _data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def render_html(
    label: str,
    metrics: dict[str, Any],
    video: Path,
    images: dict[str, tuple[Path, str]],
    env_config: EnvConfig,
) -> str:
    """The page: metrics table, video and captioned plots, media embedded as data URIs."""
    esc = html.escape
    rows = "\n".join(
        f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in evaluate.table_rows(metrics)
    )
    mime = "video/mp4" if video.suffix == ".mp4" else "image/gif"
    if mime == "video/mp4":
        media = (
            f'<video controls loop muted playsinline width="640" '
            f'src="{_data_uri(video, mime)}"></video>'
        )
    else:
        media = f'<img alt="video" src="{_data_uri(video, mime)}">'
    figures = "\n".join(
        f'<h2>{esc(caption)}</h2>\n<img alt="{esc(name)}" src="{_data_uri(path, "image/png")}">'
        for name, (path, caption) in images.items()
    )
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    env_line = (
        f"{env_config.terrain} terrain, control {1 / env_config.ctrl_dt:.0f} Hz, "
        f"Kp {env_config.kp:g}, Kd {env_config.kd:g}, action scale {env_config.action_scale:g}"
    )
    public = {k: v for k, v in metrics.items() if not k.startswith("_")}
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>irondog report: {esc(label)}</title><style>{STYLE}</style></head>
<body>
<h1>irondog policy report</h1>
<p class="meta">policy: <b>{esc(label)}</b><br>environment: {esc(env_line)}<br>
generated {esc(stamp)} by irondog {esc(__version__)}</p>
<h2>Metrics ({metrics["episodes"]} parallel episodes of {metrics["seconds"]:.1f} s)</h2>
<table>{rows}</table>
<h2>Video (tracking camera)</h2>
{media}
{figures}
<h2>All metrics (JSON)</h2>
<pre>{esc(json.dumps(public, indent=2))}</pre>
<pre id="media-check">pending</pre>
{CHECK_SCRIPT}
</body></html>
"""


def build_report(
    act: Callable[[np.ndarray], np.ndarray],
    env_config: EnvConfig,
    out_dir: str | Path,
    label: str = "policy",
    log_dir: str | Path | None = None,
    episodes: int = 16,
    seconds: float = 10.0,
    command: tuple[float, float, float] | None = evaluate.DEFAULT_COMMAND,
    video_seconds: float = 5.0,
    width: int = 640,
    height: int = 480,
    seed: int = 0,
    env_check: Callable[[Any], None] | None = None,
    progress: Progress = QUIET,
) -> ReportResult:
    """Evaluate, render and plot ``act``; write ``out_dir/index.html`` and its media."""
    out = render.check_writable_dir(out_dir)
    video_path = render.check_output_path(out / "run.mp4")
    # The video first: it starts the GL back end, so a machine without one fails at once.
    progress.say(f"rendering a {video_seconds:g} s video")
    video = render.render_video(
        act, env_config, video_path, seconds=video_seconds, width=width, height=height,
        command=command, label=label, seed=seed, env_check=env_check, progress=progress,
    )  # fmt: skip
    progress.say(f"evaluating {episodes} episodes x {seconds:g} s")
    metrics, _ = evaluate.evaluate(
        act, env_config, episodes=episodes, seconds=seconds, command=command, seed=seed,
        progress=progress,
    )  # fmt: skip
    progress.say("drawing the plots")
    (out / "metrics.json").write_text(evaluate.to_json(metrics) + "\n")

    trace = video.trace  # (T, 1, ...) the robot in the video
    valid = trace.valid[:, 0]
    rows = np.flatnonzero(valid) if valid.any() else np.arange(len(valid))
    dt = trace.dt
    images: dict[str, tuple[Path, str]] = {}
    images["gait"] = (
        plots.gait_diagram(trace.contact[rows, 0], dt, out / "gait.png"),
        f"Gait diagram (the robot in the video; whole batch: {metrics['gait']})",
    )
    images["joints"] = (
        plots.joint_traces(trace.joint_pos[rows, 0], trace.torque[rows, 0], dt, out / "joints.png"),
        "Joint angles and torques",
    )
    strength = env_config.randomization.motor_strength
    randomised = env_config.randomization.enabled and strength[1] > 1.0
    max_strength = strength[1] if randomised else 1.0
    strength_note = (
        f"domain randomisation scales each robot's motor strength by {strength[0]:g}-"
        f"{strength[1]:g}, so points up to the dotted x{strength[1]:g} envelope are expected "
        "(--no-randomize keeps them inside the solid one)."
        if randomised
        else "every point lies inside the envelope (domain randomisation off)."
    )
    images["envelope"] = (
        plots.motor_envelope(
            trace.joint_vel[rows, 0], trace.torque[rows, 0], trace.winding_temp[rows, 0], dt,
            out / "envelope.png", env_config.motor, max_strength=max_strength,
        ),
        "Torque-speed operating points over the CyberGear envelope (the motor law's limit at "
        "the joint, before the joint's own friction, which MuJoCo applies separately); "
        + strength_note + " Winding temperature against the winding's 120 C limit and the "
        "driver's 75 C warning and 80 C fault (those act on the driver's own sensor).",
    )  # fmt: skip
    if log_dir is not None:
        curves = plots.learning_curves(log_dir, out / "learning.png")
        if curves is not None:
            images["learning"] = (curves, f"Learning curves ({log_dir})")
    page = render_html(label, metrics, video.path, images, env_config)
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return ReportResult(index, video.path, {k: p for k, (p, _) in images.items()}, metrics)
