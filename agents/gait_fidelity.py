"""Gait fidelity: do the feet follow the commanded contact schedule, stride by stride?

Pure NumPy on contact timelines (T, 4) (feet FR, FL, RR, RL) and the commanded gait vectors
(T, 8) (``irondog.envs.gaits.GAIT_FIELDS``); no simulator needed.

The commanded schedule puts foot ``i`` on the ground while ``(phase + offset_i) mod 1 < duty``,
so foot ``i`` touches down when the clock reads ``-offset_i``: ``(1 - offset_i) mod 1`` of a
cycle after FR (``commanded_touchdown_phases``). Measured and commanded are compared per
stride:

- A **stride** runs from one FR touchdown ``t_k`` to the next ``t_k+1`` (after the contact
  chatter filter of ``irondog.agents.gait.debounce``); its period is ``T_k = t_k+1 - t_k``.
  Strides during which the commanded gait changes are transitions and are not evaluated.
- The **phase error** of foot ``j`` (FL, RR, RL) in the stride is the circular distance, in
  cycles, between ``c_j`` (the commanded touchdown phase after FR) and the measured one: the
  touchdown of ``j`` nearest to ``t_k + c_j T_k``, at ``(s - t_k) / T_k``. A foot that does not
  touch down within half a stride of its commanded time has error 0.5.
- The **period error** is ``|T_k f - 1|`` (``f`` the commanded frequency): how far FR's own
  next touchdown is from where the clock puts it, in cycles.
- A foot that touches down **twice** within half a stride of its commanded time (a tap or
  stutter that lasts past the chatter filter) breaks the schedule, which has one stance per
  cycle, whatever the timing of its nearer touchdown.
- The stride **matches** when the largest of the three phase errors and the period error are
  all under ``tolerance`` (0.1 cycle) and no foot touched down twice. A robot standing still
  makes no strides (fidelity 0); one pausing mid-episode makes a stride far too long, which
  fails on the period error.

``fidelity`` = matched strides / evaluated strides.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from irondog.agents import gait as gait_analysis

TOLERANCE = 0.1  # cycles: phase error under which a stride matches the schedule


class StrideReport(NamedTuple):
    """Per-stride comparison of one contact timeline with its commanded schedule."""

    start: np.ndarray  # (k,) step index of each evaluated stride's first FR touchdown
    period: np.ndarray  # (k,) steps
    phase_error: np.ndarray  # (k, 3) cycles, FL RR RL
    period_error: np.ndarray  # (k,) cycles
    matched: np.ndarray  # (k,) bool
    double_touchdown: np.ndarray  # (k,) bool: a foot landed twice near its commanded time

    @property
    def strides(self) -> int:
        """Number of evaluated strides."""
        return len(self.start)


def commanded_touchdown_phases(gait: np.ndarray) -> np.ndarray:
    """(..., 4) touchdown phase of each foot after FR's, cycles in [0, 1), of gaits (..., 8)."""
    gait = np.asarray(gait, dtype=np.float64)
    offsets = np.concatenate([np.zeros_like(gait[..., :1]), gait[..., 1:4]], axis=-1)
    return (-offsets) % 1.0


def circular_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance between phases in cycles, in [0, 0.5]."""
    d = np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)) % 1.0
    return np.minimum(d, 1.0 - d)


def _per_step(gait: np.ndarray, steps: int) -> np.ndarray:
    gait = np.asarray(gait, dtype=np.float64)
    if gait.shape == (8,):
        return np.broadcast_to(gait, (steps, 8))
    if gait.shape != (steps, 8):
        raise ValueError(f"commanded gait must have shape (8,) or ({steps}, 8), got {gait.shape}")
    return gait


def stride_report(
    contact: np.ndarray,
    gait: np.ndarray,
    dt: float,
    tolerance: float = TOLERANCE,
    min_run: float = gait_analysis.MIN_RUN,
) -> StrideReport:
    """Compare a contact timeline (T, 4) with the commanded gait, (8,) or (T, 8) per step."""
    if dt <= 0:
        raise ValueError(f"dt must be > 0, got {dt}")
    contact = gait_analysis.debounce(contact, max(1, int(round(min_run / dt))))
    steps = len(contact)
    gait = _per_step(gait, steps)
    downs = gait_analysis.touchdowns(contact)
    fr = downs[0]
    starts, periods, phase_errors, period_errors, doubles = [], [], [], [], []
    for t0, t1 in zip(fr[:-1], fr[1:], strict=True):
        commanded = gait[t0]
        if not np.allclose(gait[t0 : t1 + 1], commanded):
            continue  # the gait changed during this stride: a transition
        period = float(t1 - t0)
        target = commanded_touchdown_phases(commanded)[1:]  # (3,) FL RR RL
        errors = np.full(3, 0.5)
        double = False
        for j, foot in enumerate((1, 2, 3)):
            own = downs[foot]
            if len(own) == 0:
                continue
            expected = t0 + target[j] * period
            nearest = own[np.argmin(np.abs(own - expected))]
            if abs(nearest - expected) <= 0.5 * period:
                errors[j] = circular_distance((nearest - t0) / period, target[j])
            near = (own >= expected - 0.5 * period) & (own < expected + 0.5 * period)
            double |= int(near.sum()) > 1
        starts.append(t0)
        periods.append(period)
        phase_errors.append(errors)
        period_errors.append(abs(period * dt * commanded[0] - 1.0))
        doubles.append(double)
    phase_error = np.array(phase_errors).reshape(-1, 3)
    period_error = np.array(period_errors, dtype=np.float64)
    double_touchdown = np.array(doubles, dtype=bool)
    matched = (
        (phase_error.max(axis=1, initial=0.0) < tolerance)
        & (period_error < tolerance)
        & ~double_touchdown
    )
    return StrideReport(
        np.array(starts, dtype=np.int64), np.array(periods), phase_error, period_error, matched,
        double_touchdown,
    )  # fmt: skip


def fidelity(report: StrideReport | list[StrideReport]) -> float:
    """Matched / evaluated strides over one report or many (0.0 when there are none)."""
    reports = report if isinstance(report, list) else [report]
    total = sum(r.strides for r in reports)
    return sum(int(r.matched.sum()) for r in reports) / total if total else 0.0


def touchdown_clock_error(
    contact: np.ndarray, gait: np.ndarray, phase: np.ndarray, dt: float,
    min_run: float = gait_analysis.MIN_RUN,
) -> np.ndarray:  # fmt: skip
    """Cycles between each touchdown and the clock's touchdown time for that foot, (m,).

    ``phase`` (T,) is the gait clock after each step: foot ``i`` is scheduled to touch down
    when ``(phase + offset_i) mod 1`` passes 0, so the error of a touchdown at step ``s`` is
    the circular distance of that value from 0. This checks the feet against the clock the
    policy observes, not only against each other.
    """
    contact = gait_analysis.debounce(contact, max(1, int(round(min_run / dt))))
    steps = len(contact)
    gait = _per_step(gait, steps)
    phase = np.asarray(phase, dtype=np.float64)
    if phase.shape != (steps,):
        raise ValueError(f"phase must have shape ({steps},), got {phase.shape}")
    offsets = np.concatenate([np.zeros((steps, 1)), gait[:, 1:4]], axis=1)  # (T, 4)
    foot_phase = (phase[:, None] + offsets) % 1.0
    errors = [
        circular_distance(foot_phase[s, foot], 0.0)
        for foot, times in enumerate(gait_analysis.touchdowns(contact))
        for s in times
    ]
    return np.asarray(errors, dtype=np.float64)


def scheduled_contacts(gait: np.ndarray, steps: int, dt: float, start_phase: float = 0.0):
    """(contact (T, 4) bool, phase (T,)) of a robot that follows the commanded schedule
    exactly, the clock running on across gait changes (as the env advances it)."""
    gait = _per_step(gait, steps)
    phase = (start_phase + np.cumsum(gait[:, 0] * dt)) % 1.0  # after each step
    offsets = np.concatenate([np.zeros((steps, 1)), gait[:, 1:4]], axis=1)
    contact = (phase[:, None] + offsets) % 1.0 < gait[:, 4:5]
    return contact, phase


def constant_runs(gait: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) step ranges over which the commanded gait (T, 8) stays the same."""
    gait = np.asarray(gait, dtype=np.float64)
    if len(gait) == 0:
        return []
    change = np.flatnonzero(~np.isclose(gait[1:], gait[:-1]).all(axis=1)) + 1
    bounds = np.concatenate([[0], change, [len(gait)]])
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def name_of(vector: np.ndarray, named: dict[str, np.ndarray]) -> str:
    """The name whose gait vector equals ``vector`` (8,), else ``custom``."""
    for name, known in named.items():
        if np.allclose(vector, known):
            return name
    return "custom"


def by_commanded_gait(
    contact: np.ndarray,
    gait: np.ndarray,
    valid: np.ndarray,
    dt: float,
    named: dict[str, np.ndarray],
    settle: float = 1.0,
    tolerance: float = TOLERANCE,
) -> dict[str, dict[str, object]]:
    """Per commanded gait: strides, fidelity and the classifier's votes, over a batch.

    ``contact`` (T, n, 4), ``gait`` (T, n, 8), ``valid`` (T, n) (False after a fall). Each
    stretch of one commanded gait in an episode is judged from ``settle`` seconds after it
    began (the policy's time to change gait) to its end.
    """
    skip = int(round(settle / dt))
    reports: dict[str, list[StrideReport]] = {}
    votes: dict[str, dict[str, int]] = {}
    for i in range(contact.shape[1]):
        for start, stop in constant_runs(gait[:, i]):
            rows = np.arange(start + skip, stop)
            rows = rows[valid[rows, i]] if len(rows) else rows
            name = name_of(gait[start, i], named)
            if len(rows) < 2 * max(1, int(round(1.0 / (gait[start, i, 0] * dt)))):
                continue  # under two commanded strides to judge
            reports.setdefault(name, []).append(
                stride_report(contact[rows, i], gait[start, i], dt, tolerance)
            )
            label = gait_analysis.classify(contact[rows, i], dt)
            votes.setdefault(name, {})[label] = votes.get(name, {}).get(label, 0) + 1
    out: dict[str, dict[str, object]] = {}
    for name, group in reports.items():
        phase = np.concatenate([r.phase_error.max(axis=1, initial=0.0) for r in group])
        period = np.concatenate([r.period_error for r in group])
        double = np.concatenate([r.double_touchdown for r in group])
        out[name] = {
            "strides": sum(r.strides for r in group),
            "fidelity": fidelity(group),
            # Footfall pattern alone (the period not judged), and the typical errors.
            "phase_match": float((phase < tolerance).mean()) if len(phase) else 0.0,
            "median_phase_error": float(np.median(phase)) if len(phase) else None,
            "median_period_error": float(np.median(period)) if len(period) else None,
            "double_touchdowns": float(double.mean()) if len(double) else 0.0,
            "classified": dict(sorted(votes[name].items())),
        }
    return out


def pooled_fidelity(per_gait: dict[str, dict[str, object]]) -> float:
    """Matched / evaluated strides over every gait of ``by_commanded_gait``'s result."""
    strides = sum(int(v["strides"]) for v in per_gait.values())
    matched = sum(float(v["fidelity"]) * int(v["strides"]) for v in per_gait.values())
    return matched / strides if strides else 0.0
