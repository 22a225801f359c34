"""Argument errors come before the heavy imports; --help shows the defaults."""

from __future__ import annotations

import subprocess
import sys

import pytest

from irondog import cli

HEAVY = ("jax", "mujoco", "onnxruntime", "torch", "can", "matplotlib")

BAD_ARGUMENTS = [
    ["eval", "--policy", "zero", "--episodes", "0"],
    ["eval", "--policy", "zero", "--seconds", "-1"],
    ["render", "--policy", "zero", "--out", "x.mp4", "--fps", "0"],
    ["render", "--policy", "zero", "--out", "x.mp4", "--width", "8"],
    ["render", "--policy", "zero", "--out", "x.mp4", "--grid", "0"],
    ["report", "--policy", "zero", "--out", "r", "--episodes", "0"],
    ["play-onnx", "p.onnx", "--duration", "0"],
    ["deploy", "p.onnx", "--channel", "can0", "--host-id", "300"],
    ["deploy", "p.onnx", "--channel", "can0", "--duration", "nan"],
    ["motor", "optimize", "--scripted", "--out", "m.yaml", "--iterations", "0"],
    ["motor", "report", "--out", "r", "--pareto-points", "1"],
    ["motor", "trot", "--out", "d.npz", "--duration", "0"],
    ["train", "--num-processes", "0"],
    ["bench-env", "--seconds", "0"],
    ["sim-robot", "--duration", "0"],
]
MISSING_FILES = [
    ["play-onnx", "missing.onnx"],
    ["deploy", "missing.onnx", "--channel", "can0", "--imu", "none"],
    ["export", "--checkpoint", "missing", "--out", "p.onnx"],
    ["eval", "--checkpoint", "missing"],
]


@pytest.mark.parametrize("argv", BAD_ARGUMENTS, ids=lambda a: " ".join(a[:1] + a[-2:]))
def test_bad_number_is_a_one_line_usage_error(argv, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"argument {argv[-2]}" in err and ("must be" in err or "expected" in err), err


def test_argument_errors_import_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "from irondog import cli\n"
        f"for argv in {BAD_ARGUMENTS!r}:\n"
        "    try:\n"
        "        cli.main(argv)\n"
        "    except SystemExit as stop:\n"
        "        assert stop.code == 2, argv\n"
        f"for argv in {MISSING_FILES!r}:\n"
        "    assert cli.main(argv) == 2, argv\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_help_shows_defaults(capsys) -> None:
    for argv, shown in (
        (["eval", "--help"], "parallel episodes (default: 16)"),
        (["render", "--help"], "(default: 25.0)"),
        (["deploy", "--help"], "(default: 1000000)"),
        (["motor", "optimize", "--help"], "co-design passes at most (default: 4)"),
        (["train", "--help"], "(default: configs/train/trot_cpu.yaml)"),
    ):
        with pytest.raises(SystemExit):
            cli.main(argv)
        out = " ".join(capsys.readouterr().out.split())
        assert shown in out, (argv, out)
    with pytest.raises(SystemExit):
        cli.main(["eval", "--help"])
    out = capsys.readouterr().out
    assert "    irondog eval --checkpoint examples/joystick_cpu" in out  # docstring kept as written
