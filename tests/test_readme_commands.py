"""Every `irondog ...` line in the README's ```bash blocks parses against the CLI's arguments."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from irondog.cli import build_parser

README = Path(__file__).resolve().parents[1] / "README.md"
SHELL_OPERATORS = {"|", "||", "&&", ";", "&", ">", ">>", "<", "2>", "2>&1"}


def readme_commands(text: str) -> list[tuple[int, list[str]]]:
    """(line number, argv after `irondog`) of each irondog command in the ```bash blocks."""
    found = []
    in_bash, pending, start = False, "", 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("```"):
            in_bash = not in_bash and stripped in ("```bash", "```sh", "```shell")
            continue
        if not in_bash:
            continue
        if not pending:
            start = number
        pending += line.rstrip("\\") + " " if line.endswith("\\") else line
        if line.endswith("\\"):
            continue
        words, pending = shlex.split(pending, comments=True), ""
        while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", words[0]):  # VAR=value prefix
            words = words[1:]
        if words[:3] == ["nice", "-n", "19"]:
            words = words[3:]
        if not words or words[0] != "irondog":
            continue
        argv = []
        for word in words[1:]:
            if word in SHELL_OPERATORS:
                break
            argv.append(word)
        found.append((start, argv))
    return found


COMMANDS = readme_commands(README.read_text())


def test_the_readme_has_commands() -> None:
    assert len(COMMANDS) > 20
    assert {argv[0] for _, argv in COMMANDS if argv} >= {"train", "eval", "export", "deploy"}


@pytest.mark.parametrize(("line", "argv"), COMMANDS, ids=[f"README:{n}" for n, _ in COMMANDS])
def test_readme_command_parses(line: int, argv: list[str]) -> None:
    parser = build_parser()
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            parser.parse_args(argv)
    except SystemExit as stop:
        if stop.code:  # --help and --version exit 0
            pytest.fail(f"README line {line}: irondog {shlex.join(argv)}\n{err.getvalue()}")


def test_extraction_and_a_wrong_flag_fail() -> None:
    text = (
        "```bash\nMUJOCO_GL=egl irondog render --policy zero \\\n    --out a.mp4  # comment\n"
        "irondog eval --episodes 4 | tee log\n```\n```python\nirondog = 1\n```\n"
    )
    assert readme_commands(text) == [
        (2, ["render", "--policy", "zero", "--out", "a.mp4"]),
        (4, ["eval", "--episodes", "4"]),
    ]
    with pytest.raises(pytest.fail.Exception, match="unrecognized arguments: --no-such-flag"):
        test_readme_command_parses(1, ["eval", "--no-such-flag"])
