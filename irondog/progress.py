"""Progress of long commands on stderr: status lines and tqdm bars, silent when asked.

    progress = from_args(args)            # quiet with --quiet or in JSON mode
    progress.say("evaluating 16 episodes x 10 s")
    with progress.bar("simulating", total=500) as bar:
        ... bar.update(1) ...

Library functions take ``progress: Progress = QUIET``, so they print nothing unless a
command hands them its own. Results stay on stdout; only progress goes to stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any


class Progress:
    """Status lines and bars on stderr, or nothing when ``quiet``."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self._start = time.perf_counter()

    def say(self, text: str) -> None:
        """One status line on stderr, with the seconds since the command started."""
        if not self.quiet:
            elapsed = time.perf_counter() - self._start
            print(f"[{elapsed:5.1f} s] {text}", file=sys.stderr, flush=True)

    def bar(self, desc: str, total: int, unit: str = "step") -> Any:
        """A tqdm bar on stderr (a context manager with ``update(n)``), disabled when quiet."""
        from tqdm import tqdm

        return tqdm(
            total=total, desc=desc, unit=unit, disable=self.quiet, file=sys.stderr,
            leave=False, dynamic_ncols=True, mininterval=0.5,
        )  # fmt: skip


QUIET = Progress(quiet=True)


def add_quiet_argument(parser: argparse.ArgumentParser) -> None:
    """--quiet: no progress on stderr."""
    parser.add_argument("--quiet", action="store_true", help="no progress lines or bars on stderr")


def from_args(args: argparse.Namespace) -> Progress:
    """The command's Progress: quiet with --quiet, with --json (a flag) or --format json."""
    json_mode = getattr(args, "json", None) is True or getattr(args, "format", None) == "json"
    return Progress(quiet=bool(getattr(args, "quiet", False)) or json_mode)
