"""Errors the library raises for bad user input; ``irondog.cli.main`` prints them in one line.

Library modules (envs/, agents/, motors/, voice/) import from here, never from the CLI.
"""

from __future__ import annotations

from irondog.config import ConfigError
from irondog.outputs import OutputError

__all__ = ["ConfigError", "OutputError", "UserError", "USER_ERRORS"]


class UserError(Exception):
    """An error caused by the user's input; printed without a traceback."""


# What ``irondog.cli.main`` catches and prints as ``irondog <command>: error: <message>``.
USER_ERRORS: tuple[type[Exception], ...] = (ConfigError, OutputError, UserError, FileNotFoundError)
