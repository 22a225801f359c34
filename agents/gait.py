"""Gait analysis from foot-contact timelines: pure NumPy functions, no simulator needed.

A contact timeline is a (T, 4) boolean array, one row per control step, feet in the
order FR, FL, RR, RL (``irondog.envs.robot.LEGS``). From it:

- ``duty_factor``: the fraction of the stride each foot is on the ground;
- ``stride_period`` / ``stride_frequency``: the median time between touchdowns of a foot;
- ``relative_phases``: when each foot touches down, as a fraction of the stride after FR;
- ``classify``: the nearest of the textbook footfall patterns (walk, trot, pace, bound,
  pronk), or ``stand`` (no foot lifts) / ``irregular`` (no clear pattern).

The footfall templates are the usual ones for quadrupeds (Hildebrand's phase convention):
diagonal pairs together for a trot, lateral pairs for a pace, front and rear pairs for a
bound, all four together for a pronk, and four evenly spaced footfalls for a walk.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

FEET = ("FR", "FL", "RR", "RL")
GAITS = ("walk", "trot", "pace", "bound", "pronk")

# Touchdown phase of each foot (FR, FL, RR, RL) relative to FR, in strides.
TEMPLATES: dict[str, tuple[tuple[float, float, float, float], ...]] = {
    "trot": ((0.0, 0.5, 0.5, 0.0),),
    "pace": ((0.0, 0.5, 0.0, 0.5),),
    "bound": ((0.0, 0.0, 0.5, 0.5),),
    "pronk": ((0.0, 0.0, 0.0, 0.0),),
    # Lateral-sequence walk (RL, FL, RR, FR) and diagonal-sequence walk (RL, FR, RR, FL).
    "walk": ((0.0, 0.5, 0.75, 0.25), (0.0, 0.5, 0.25, 0.75)),
}
MATCH_TOLERANCE = 0.125  # strides: mean phase distance beyond which a gait is "irregular"
# Shorter stance or swing runs are chatter: real swings last 100 ms or more even in a fast
# trot, stances 80 ms or more; at 50 Hz control 60 ms is three steps.
MIN_RUN = 0.06  # s
MIN_CONSISTENCY = 0.7  # mean resultant length of a foot's touchdown phases (1 = always the same)


class GaitSummary(NamedTuple):
    """What ``analyse`` finds in one contact timeline."""

    gait: str  # one of GAITS, "stand" or "irregular"
    duty_factor: np.ndarray  # (4,) fraction of time in stance per foot
    stride_frequency: float  # Hz, 0 when no foot steps twice
    phases: np.ndarray  # (4,) touchdown phase relative to FR in [0, 1); NaN if unknown
    phase_error: float  # strides, mean distance to the matched template (NaN if none)


def _as_contact(contact: np.ndarray) -> np.ndarray:
    contact = np.asarray(contact)
    if contact.ndim != 2 or contact.shape[1] != 4:
        raise ValueError(f"contact timeline must have shape (T, 4), got {contact.shape}")
    return contact.astype(bool)


def _flip_short_runs(column: np.ndarray, value: bool, min_steps: int) -> None:
    """In place: interior runs of ``value`` shorter than ``min_steps`` take the other value."""
    edges = np.flatnonzero(np.diff(column.astype(np.int8))) + 1
    bounds = np.concatenate([[0], edges, [len(column)]])
    # Interior runs only: the first and last may be cut by the window.
    for start, stop in zip(bounds[1:-2], bounds[2:-1], strict=True):
        if column[start] == value and stop - start < min_steps:
            column[start:stop] = not value


def debounce(contact: np.ndarray, min_steps: int = 2) -> np.ndarray:
    """Remove stance or swing runs shorter than ``min_steps`` (contact chatter), (T, 4).

    Short lifts inside a stance are bridged first, then short touches inside a swing are
    dropped: a foot that lands, bounces for a step and lands again touched down when it
    first landed (flipping runs one by one in time order would drop that first landing).
    """
    contact = _as_contact(contact).copy()
    if min_steps <= 1:
        return contact
    for foot in range(4):
        _flip_short_runs(contact[:, foot], False, min_steps)
        _flip_short_runs(contact[:, foot], True, min_steps)
    return contact


def touchdowns(contact: np.ndarray) -> list[np.ndarray]:
    """Step indices where each foot goes from swing to stance; one array per foot."""
    contact = _as_contact(contact)
    rising = contact[1:] & ~contact[:-1]  # (T-1, 4)
    return [np.flatnonzero(rising[:, foot]) + 1 for foot in range(4)]


def liftoffs(contact: np.ndarray) -> list[np.ndarray]:
    """Step indices where each foot goes from stance to swing; one array per foot."""
    contact = _as_contact(contact)
    falling = ~contact[1:] & contact[:-1]
    return [np.flatnonzero(falling[:, foot]) + 1 for foot in range(4)]


def stance_intervals(contact: np.ndarray, dt: float) -> list[list[tuple[float, float]]]:
    """(start s, duration s) of each stance of each foot, for a gait diagram."""
    contact = _as_contact(contact)
    out = []
    for foot in range(4):
        padded = np.concatenate([[0], contact[:, foot].astype(np.int8), [0]])
        change = np.flatnonzero(np.diff(padded))
        starts, stops = change[0::2], change[1::2]
        out.append([(s * dt, (e - s) * dt) for s, e in zip(starts, stops, strict=True)])
    return out


def duty_factor(contact: np.ndarray) -> np.ndarray:
    """(4,) fraction of steps each foot is in stance."""
    contact = _as_contact(contact)
    if len(contact) == 0:
        return np.full(4, np.nan)
    return contact.mean(axis=0)


def stride_period(contact: np.ndarray, dt: float) -> float:
    """Median time between successive touchdowns of the same foot, s; NaN if none."""
    intervals = [np.diff(t) for t in touchdowns(contact) if len(t) >= 2]
    if not intervals:
        return float("nan")
    return float(np.median(np.concatenate(intervals)) * dt)


def stride_frequency(contact: np.ndarray, dt: float) -> float:
    """Strides per second (Hz); 0 when no foot touches down twice."""
    period = stride_period(contact, dt)
    return 0.0 if not np.isfinite(period) or period <= 0 else 1.0 / period


def relative_phases(contact: np.ndarray, dt: float) -> np.ndarray:
    """(4,) circular-mean touchdown phase of each foot after FR's, in strides [0, 1).

    NaN for a foot that never touches down, or everywhere if FR does not step twice.
    """
    return _phases_and_consistency(contact, dt)[0]


def phase_consistency(contact: np.ndarray, dt: float) -> np.ndarray:
    """(4,) mean resultant length of each foot's touchdown phases: 1 locked to FR, ~0 random."""
    return _phases_and_consistency(contact, dt)[1]


def _phases_and_consistency(contact: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    downs = touchdowns(contact)
    period = stride_period(contact, dt) / dt  # steps
    phases = np.full(4, np.nan)
    consistency = np.zeros(4)
    reference = downs[0]
    if not np.isfinite(period) or len(reference) == 0:
        return phases, consistency
    for foot in range(4):
        own = downs[foot]
        if len(own) == 0:
            continue
        # Offset of each touchdown from the latest FR touchdown at or before it
        # (or the first one, for touchdowns before FR's first).
        idx = np.clip(np.searchsorted(reference, own, side="right") - 1, 0, None)
        offset = (own - reference[idx]) / period  # strides, may be negative at the start
        angle = 2.0 * np.pi * offset
        s, c = np.sin(angle).mean(), np.cos(angle).mean()
        phases[foot] = (np.arctan2(s, c) / (2.0 * np.pi)) % 1.0
        consistency[foot] = np.hypot(s, c)
    phases[0] = 0.0
    return phases, consistency


def _phase_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Circular distance between phases in strides, in [0, 0.5]."""
    d = np.abs(np.asarray(a) - np.asarray(b)) % 1.0
    return np.minimum(d, 1.0 - d)


def match_template(phases: np.ndarray) -> tuple[str, float]:
    """The gait whose footfall template is nearest to ``phases`` (4,), and the distance."""
    phases = np.asarray(phases, dtype=float)
    if phases.shape != (4,) or not np.isfinite(phases).all():
        return "irregular", float("nan")
    best, best_err = "irregular", float("inf")
    for name, variants in TEMPLATES.items():
        for template in variants:
            err = float(_phase_distance(phases, np.asarray(template)).mean())
            if err < best_err:
                best, best_err = name, err
    return (best, best_err) if best_err <= MATCH_TOLERANCE else ("irregular", best_err)


def analyse(contact: np.ndarray, dt: float, min_run: float = MIN_RUN) -> GaitSummary:
    """Duty factor, stride frequency, phases and gait class of a (T, 4) contact timeline.

    Stance or swing runs shorter than ``min_run`` seconds are treated as contact chatter
    (a foot bouncing) and merged into their neighbours first.
    """
    if dt <= 0:
        raise ValueError(f"dt must be > 0, got {dt}")
    contact = debounce(contact, max(1, int(round(min_run / dt))))
    duty = duty_factor(contact)
    if len(contact) == 0:
        return GaitSummary("irregular", duty, 0.0, np.full(4, np.nan), float("nan"))
    if contact.all() or not any(len(t) for t in liftoffs(contact)):
        return GaitSummary("stand", duty, 0.0, np.full(4, np.nan), float("nan"))
    frequency = stride_frequency(contact, dt)
    phases, consistency = _phases_and_consistency(contact, dt)
    gait, err = match_template(phases)
    if consistency.min() < MIN_CONSISTENCY:
        gait = "irregular"  # the feet do not keep a fixed phase to each other
    return GaitSummary(gait, duty, frequency, phases, err)


def classify(contact: np.ndarray, dt: float) -> str:
    """Gait class of a (T, 4) contact timeline: walk, trot, pace, bound, pronk, stand or
    irregular."""
    return analyse(contact, dt).gait


def synthetic_contacts(
    gait: str, steps: int, dt: float, frequency: float = 2.0, duty: float = 0.6
) -> np.ndarray:
    """A (steps, 4) contact timeline of an ideal ``gait`` (for tests and examples)."""
    if gait == "stand":
        return np.ones((steps, 4), dtype=bool)
    if gait not in TEMPLATES:
        raise ValueError(f"unknown gait {gait!r}; one of {', '.join((*GAITS, 'stand'))}")
    offsets = np.asarray(TEMPLATES[gait][0])
    t = np.arange(steps)[:, None] * dt  # (T, 1) s
    phase = (t * frequency - offsets[None, :]) % 1.0  # (T, 4), 0 at touchdown
    return phase < duty
