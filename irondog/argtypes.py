"""Argument types that argparse checks while parsing, before a command imports anything heavy.

    parser.add_argument("--episodes", type=at_least(1), default=16)
    parser.add_argument("--fps", type=in_range(0, 50, low_open=True), default=25.0)

A bad value is argparse's usual one-line error, naming the option, in well under a second.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable


def at_least(low: int) -> Callable[[str], int]:
    """An integer >= ``low``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        return value

    parse.__name__ = "integer"  # argparse names the type in its own messages
    return parse


def in_range(
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    integer: bool = False,
) -> Callable[[str], float]:
    """A number in [low, high] (``low_open``: above ``low``, not equal to it)."""

    def parse(text: str) -> float:
        try:
            value = int(text) if integer else float(text)
        except ValueError:
            kind = "an integer" if integer else "a number"
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None
        if value != value:  # NaN
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")
        if low is not None and (value <= low if low_open else value < low):
            raise argparse.ArgumentTypeError(
                f"must be {'>' if low_open else '>='} {low:g}, got {text}"
            )
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be <= {high:g}, got {text}")
        return value

    parse.__name__ = "integer" if integer else "number"
    return parse


positive = in_range(0.0, low_open=True)  # a number > 0
non_negative = in_range(0.0)  # a number >= 0
