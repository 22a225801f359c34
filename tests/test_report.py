"""The HTML report, opened in headless Chromium: images decode, the video has a duration."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from irondog.agents import policy, report
from irondog.envs.config import EnvConfig

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    cmd = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> report.ReportResult:
    from tensorboardX import SummaryWriter

    root = tmp_path_factory.mktemp("report")
    logs = root / "logs"
    writer = SummaryWriter(str(logs))
    for step in range(4):
        writer.add_scalar("episode/return", float(step), step * 64)
    writer.close()
    return report.build_report(
        policy.zero_policy(), EnvConfig(num_threads=1), root / "out", label="zero <test>",
        log_dir=logs, episodes=2, seconds=0.6, video_seconds=0.4, width=96, height=64,
    )  # fmt: skip


def test_report_files(built: report.ReportResult) -> None:
    assert set(built.images) == {"gait", "joints", "envelope", "learning"}
    page = built.index.read_text()
    assert "zero &lt;test&gt;" in page  # the label is escaped
    assert page.count("data:image/png;base64,") == 4 and "data:video/mp4;base64," in page
    assert "velocity tracking error" in page
    metrics = json.loads((built.index.parent / "metrics.json").read_text())
    assert metrics["episodes"] == 2 and metrics["gait"] == "stand"


def test_report_in_headless_chromium(built: report.ReportResult, tmp_path: Path) -> None:
    url = built.index.resolve().as_uri()
    done = _chromium(["--virtual-time-budget=10000", "--dump-dom", url], tmp_path / "profile")
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'id="media-check">([^<]*)<', done.stdout)
    assert found, "the page's media check did not run"
    check = json.loads(found.group(1))
    assert check["images"] == {"gait": True, "joints": True, "envelope": True, "learning": True}
    assert isinstance(check["video"], float | int) and check["video"] > 0.2  # 0.4 s video

    shot = tmp_path / "report.png"
    done = _chromium(
        ["--virtual-time-budget=5000", "--window-size=1200,1600", f"--screenshot={shot}", url],
        tmp_path / "profile2",
    )
    assert done.returncode == 0 and shot.read_bytes()[:4] == b"\x89PNG"
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one


def test_broken_media_are_reported(built: report.ReportResult, tmp_path: Path) -> None:
    # The check itself can fail: a page whose image data is damaged reports false.
    page = built.index.read_text()
    broken = re.sub(r'(alt="gait" src="data:image/png;base64,)[^"]{200}', r"\1AAAA", page, count=1)
    path = tmp_path / "broken.html"
    path.write_text(broken)
    done = _chromium(
        ["--virtual-time-budget=10000", "--dump-dom", path.as_uri()], tmp_path / "profile"
    )
    check = json.loads(re.search(r'id="media-check">([^<]*)<', done.stdout).group(1))
    assert check["images"]["gait"] is False and check["images"]["joints"] is True


def test_report_cli_bad_output(tmp_path: Path, capsys) -> None:
    from irondog.cli import main

    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["report", "--policy", "zero", "--out", str(blocker / "report")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_report_of_the_shipped_trained_policy(tmp_path: Path) -> None:
    """`irondog report` on examples/trot_cpu: it walks, and the page has its gait and video."""
    pytest.importorskip("jax")
    from irondog.cli import main

    checkpoint = Path(__file__).resolve().parent.parent / "examples/trot_cpu"
    out = tmp_path / "report"
    argv = ["report", "--checkpoint", str(checkpoint / "checkpoint_00000351.msgpack"),
            "--out", str(out), "--episodes", "2", "--seconds", "2", "--video-seconds", "0.4",
            "--width", "96", "--height", "64"]  # fmt: skip
    assert main(argv) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["fall_rate"] == 0.0 and metrics["mean_speed"] > 0.3  # 0.5 m/s commanded
    page = (out / "index.html").read_text()
    assert "checkpoint_00000351" in page and "data:video/mp4;base64," in page
    assert page.count("data:image/png;base64,") == 3  # gait, joints, envelope: no TB logs
