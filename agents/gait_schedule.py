"""Gait commands over time for evaluation, rendering and voice: ``--gait trot:4,bound:4``.

    schedule = parse("trot:4,bound:4,walk:4")   # seconds each; repeats when the run is longer
    schedule = parse("bound")                   # one gait, the whole run
    gait_at = schedule.gait_at(ctrl_dt)         # step -> (8,) gait vector, for rollout(...)

Names are the presets of ``irondog.envs.gaits`` (``configs/gaits/*.yaml``): an unknown name is
an error listing the known ones. A preset file with a parameter outside the trained range is
clamped to it with a warning (``gaits.gait_vector``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from irondog.envs import gaits


def piece_index(durations: Sequence[float], time_s: float) -> int:
    """Which of back-to-back pieces lasting ``durations`` s is on at ``time_s``; the last one
    holds past the end."""
    ends = np.cumsum(durations)
    return min(int(np.searchsorted(ends, time_s, side="right")), len(ends) - 1)


class GaitSchedule(NamedTuple):
    """Named gaits, each held ``durations[i]`` s in turn (cycling); durations None: one gait
    held throughout."""

    names: tuple[str, ...]
    durations: tuple[float, ...] | None  # s each; None for a single untimed gait
    vectors: np.ndarray  # (k, 8) gait vectors, GAIT_FIELDS order
    cycle: bool = True  # repeat the schedule when the run is longer (else hold the last)

    @property
    def seconds(self) -> float | None:
        """Total length of one pass, s (None when untimed)."""
        return None if self.durations is None else float(sum(self.durations))

    def index_at(self, time_s: float) -> int:
        """Which piece is commanded at ``time_s`` seconds into the run."""
        if self.durations is None:
            return 0
        if self.cycle:
            time_s = time_s % self.seconds
        return piece_index(self.durations, time_s)

    def name_at_step(self, step: int, dt: float) -> str:
        """The gait name commanded at control step ``step``."""
        return self.names[self.index_at((step + 0.5) * dt)]

    def gait_at(self, dt: float) -> Callable[[int], np.ndarray]:
        """step -> (8,) commanded gait, for ``irondog.agents.evaluate.rollout(gait_at=...)``.

        Step ``t`` covers [t dt, (t + 1) dt); its midpoint decides the piece.
        """

        def at(step: int) -> np.ndarray:
            return self.vectors[self.index_at((step + 0.5) * dt)]

        return at

    def describe(self) -> str:
        """``trot 4 s, bound 4 s`` or ``bound``."""
        if self.durations is None:
            return self.names[0]
        return ", ".join(f"{n} {d:g} s" for n, d in zip(self.names, self.durations, strict=True))


def known() -> tuple[str, ...]:
    """Names of the gait presets."""
    return tuple(gaits.PRESETS)


def vector_of(name: str, ranges: gaits.GaitRanges | None = None) -> np.ndarray:
    """(8,) gait vector of a named preset, clamped (with a warning) to ``ranges``."""
    vector = gaits.preset(name).vector()  # ConfigError listing the known gaits
    return gaits.gait_vector(vector, ranges if ranges is not None else gaits.GaitRanges())


def from_pieces(
    pieces: Sequence[tuple[str, float]],
    ranges: gaits.GaitRanges | None = None,
    cycle: bool = False,
) -> GaitSchedule:
    """A schedule from (name, seconds) pieces (a voice plan's segments, say)."""
    if not pieces:
        raise ValueError("a gait schedule needs at least one gait")
    names = tuple(name for name, _ in pieces)
    durations = tuple(float(seconds) for _, seconds in pieces)
    for name, seconds in zip(names, durations, strict=True):
        if not (math.isfinite(seconds) and seconds > 0):
            raise ValueError(f"gait {name!r}: duration must be > 0 s, got {seconds:g}")
    vectors = np.stack([vector_of(name, ranges) for name in names])
    return GaitSchedule(names, durations, vectors, cycle)


def parse(text: str, ranges: gaits.GaitRanges | None = None) -> GaitSchedule:
    """``"bound"`` or ``"trot:4,bound:4,walk:4"`` (seconds each) -> GaitSchedule.

    ValueError (bad duration or form) or irondog.config.ConfigError (unknown gait) otherwise;
    both name the --gait argument.
    """
    from irondog.config import ConfigError

    parts = [p.strip() for p in str(text).split(",")]
    if not parts or any(not p for p in parts):
        raise ValueError(
            f"--gait {text!r}: write one gait (e.g. bound) or gait:seconds pieces "
            f"(e.g. trot:4,bound:4,walk:4); known gaits: {', '.join(known())}"
        )
    pieces: list[tuple[str, float | None]] = []
    for part in parts:
        name, sep, seconds = part.partition(":")
        name = name.strip().lower()
        if name not in gaits.PRESETS:
            raise ConfigError(f"--gait: unknown gait {name!r}; known gaits: {', '.join(known())}")
        if not sep:
            pieces.append((name, None))
            continue
        try:
            value = float(seconds)
        except ValueError:
            raise ValueError(f"--gait {part!r}: {seconds!r} is not a number of seconds") from None
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"--gait {part!r}: the duration must be > 0 s")
        pieces.append((name, value))
    if len(pieces) == 1 and pieces[0][1] is None:
        name = pieces[0][0]
        return GaitSchedule((name,), None, vector_of(name, ranges)[None, :], True)
    missing = [name for name, seconds in pieces if seconds is None]
    if missing:
        raise ValueError(
            f"--gait {text!r}: with several gaits each needs its seconds "
            f"(e.g. trot:4,bound:4); missing for {', '.join(missing)}"
        )
    return from_pieces([(n, float(s)) for n, s in pieces], ranges, cycle=True)  # type: ignore[arg-type]


def check_policy_takes_gaits(env_config: Any, what: str = "--gait") -> None:
    """ValueError unless ``env_config`` is the gait-conditioned task."""
    if getattr(env_config, "task", "joystick") != "gaits":
        raise ValueError(
            f"{what}: this policy runs the joystick task, which takes no gait "
            "command; use a gait-conditioned policy (env irondog/CyberDog2-Gaits-v0, e.g. "
            "trained with configs/train/gaits_cpu.yaml)"
        )
