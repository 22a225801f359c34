"""Long commands show progress on stderr; --quiet and JSON mode silence it."""

from __future__ import annotations

import json

from irondog import cli
from irondog.progress import Progress


def test_eval_progress_on_stderr_quiet_and_json(capsys) -> None:
    argv = ["eval", "--policy", "zero", "--episodes", "2", "--seconds", "0.4"]
    assert cli.main(argv) == 0
    captured = capsys.readouterr()
    assert "evaluating 2 episodes" in captured.err and "evaluating" not in captured.out
    assert cli.main([*argv, "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "velocity tracking error" in captured.out
    assert cli.main([*argv, "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and json.loads(captured.out)["episodes"] == 2


def test_render_progress(tmp_path, capsys) -> None:
    argv = ["render", "--policy", "zero", "--seconds", "0.2", "--width", "64", "--height", "48",
            "--out", str(tmp_path / "a.gif")]  # fmt: skip
    assert cli.main(argv) == 0
    assert "rendering a.gif" in capsys.readouterr().err
    assert cli.main([*argv, "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_status_lines_carry_the_elapsed_time(capsys) -> None:
    Progress().say("step one")
    Progress(quiet=True).say("hidden")
    err = capsys.readouterr().err
    assert err.startswith("[") and " s] step one" in err and "hidden" not in err
