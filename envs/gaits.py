"""Gait commands: walk, trot, pace, bound and pronk as points of one parameter space.

A gait is a stepping frequency, the phase offset of each foot in the cycle, a duty factor
(the fraction of the cycle a foot is on the ground), a swing height, and a body height and
pitch. A per-simulation clock advances the cycle phase; foot ``i`` should be on the ground
while ``(phase + offset_i) mod 1 < duty``. Named presets live in ``configs/gaits/*.yaml``
(defaults below); any two presets can be blended continuously with ``interpolate``.

Out-of-range values: ``gait_vector`` clamps each parameter to the trained range in
``GaitRanges`` with a warning (a robot should keep walking when asked for a little too
much); an unknown gait name is an error that lists the known ones.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from irondog.config import ConfigError, check, load

# Feet in the order of the robot's legs: FR, FL, RR, RL. Offsets are relative to FR.
GAIT_FIELDS = (
    "frequency",  # Hz, stepping cycles per second
    "offset_fl",  # cycle fraction of FL after FR
    "offset_rr",
    "offset_rl",
    "duty",  # fraction of the cycle in stance
    "swing_height",  # m, foot clearance at mid-swing
    "body_height",  # m, trunk above the ground
    "pitch",  # rad, trunk pitch, positive nose down
)
GAIT_SIZE = len(GAIT_FIELDS)  # 8
GAIT_INDEX = {name: i for i, name in enumerate(GAIT_FIELDS)}


def field(gait: Any, name: str, keepdims: bool = False) -> Any:
    """The ``name`` column of gait vectors (n, 8): (n,), or (n, 1) with ``keepdims``."""
    i = GAIT_INDEX[name]
    return gait[:, i : i + 1] if keepdims else gait[:, i]


@dataclasses.dataclass(frozen=True)
class GaitParams:
    """One gait: a point in the gait space (see GAIT_FIELDS for units)."""

    frequency: float = 2.0
    offset_fl: float = 0.5
    offset_rr: float = 0.5
    offset_rl: float = 0.0
    duty: float = 0.5
    swing_height: float = 0.06
    body_height: float = 0.25
    pitch: float = 0.0

    def __post_init__(self) -> None:
        check(self.frequency > 0, "frequency", f"must be > 0, got {self.frequency}")
        for name in ("offset_fl", "offset_rr", "offset_rl"):
            value = getattr(self, name)
            check(0 <= value < 1, name, f"must be in [0, 1), got {value}")
        check(0 < self.duty < 1, "duty", f"must be in (0, 1), got {self.duty}")
        check(self.swing_height > 0, "swing_height", "must be > 0")
        check(self.body_height > 0, "body_height", "must be > 0")

    def vector(self) -> np.ndarray:
        """(8,) in GAIT_FIELDS order."""
        return np.array([getattr(self, name) for name in GAIT_FIELDS], dtype=np.float64)


# The five gaits of the CyberDog 2, as phase patterns (stock gait period 0.5 s = 2 Hz). The
# walk and the pace step at 2.25 Hz: a stance foot sweeps speed x duty / frequency, 0.17 m at
# 0.5 m/s for the walk, where 1.5 Hz would ask 0.25 m, the edge of what the 0.12 + 0.174 m leg
# reaches at 0.25 m body height (the first gait policy, asked for 1.5 Hz, stepped at 2.2 Hz
# instead). The five-gait policy, trained with both at 2 Hz, keeps to 2.25 Hz better: 76% of
# walk and 85% of pace strides on schedule against 54% and 83% (benchmarks/RESULTS.md, "Gaits
# on command"); its walk at 2 Hz tapped a front foot mid-swing in half of its strides.
PRESETS: dict[str, GaitParams] = {
    "walk": GaitParams(2.25, 0.5, 0.75, 0.25, 0.75, 0.06, 0.25, 0.0),
    "trot": GaitParams(2.0, 0.5, 0.5, 0.0, 0.5, 0.06, 0.25, 0.0),
    "pace": GaitParams(2.25, 0.5, 0.0, 0.5, 0.5, 0.06, 0.25, 0.0),
    "bound": GaitParams(2.5, 0.0, 0.5, 0.5, 0.4, 0.06, 0.24, 0.0),
    "pronk": GaitParams(2.5, 0.0, 0.0, 0.0, 0.4, 0.06, 0.24, 0.0),
}


@dataclasses.dataclass(frozen=True)
class GaitRanges:
    """The range each gait parameter is trained over (and clamped to)."""

    frequency: tuple[float, float] = (1.25, 3.0)
    duty: tuple[float, float] = (0.3, 0.8)
    swing_height: tuple[float, float] = (0.03, 0.10)
    body_height: tuple[float, float] = (0.2, 0.28)
    pitch: tuple[float, float] = (-0.2, 0.2)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            lo, hi = getattr(self, f.name)
            check(lo <= hi, f.name, f"lower bound {lo} exceeds upper {hi}")

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(lo, hi), each (8,), in GAIT_FIELDS order (offsets span [0, 1))."""
        lo = [self.frequency[0], 0, 0, 0, self.duty[0], self.swing_height[0],
              self.body_height[0], self.pitch[0]]  # fmt: skip
        hi = [self.frequency[1], 1, 1, 1, self.duty[1], self.swing_height[1],
              self.body_height[1], self.pitch[1]]  # fmt: skip
        return np.array(lo), np.array(hi)


def presets_directory() -> Path:
    """``configs/gaits`` of the installed package."""
    return Path(str(resources.files("irondog.configs") / "gaits"))


def preset(name: str, directory: str | Path | None = None) -> GaitParams:
    """A named gait: the code default overridden by ``<directory>/<name>.yaml``
    (``configs/gaits`` by default) where that file exists."""
    if name not in PRESETS:
        raise ConfigError(f"unknown gait {name!r}; known gaits: {', '.join(PRESETS)}")
    if directory is None:
        return _packaged_preset(name)
    return _read_preset(name, Path(directory))


def _read_preset(name: str, directory: Path) -> GaitParams:
    path = directory / f"{name}.yaml"
    if path.is_file():
        return load(GaitParams, path, base=PRESETS[name])
    return PRESETS[name]


@functools.cache
def _packaged_preset(name: str) -> GaitParams:
    # The packaged presets are read once per process: environments sample gaits at every
    # reset and resample, and parsing five YAML files there cost milliseconds per step.
    return _read_preset(name, presets_directory())


def interpolate(a: GaitParams, b: GaitParams, t: float) -> np.ndarray:
    """Blend two gaits, (8,): offsets along the shorter way round the cycle."""
    va, vb = a.vector(), b.vector()
    out = va + t * (vb - va)
    for i in (1, 2, 3):
        delta = (vb[i] - va[i] + 0.5) % 1.0 - 0.5
        out[i] = (va[i] + t * delta) % 1.0
    return out


def gait_vector(values: np.ndarray, ranges: GaitRanges) -> np.ndarray:
    """Clamp gait vectors (..., 8) to the trained ranges, warning about what was clamped."""
    lo, hi = ranges.bounds()
    values = np.asarray(values, dtype=np.float64)
    offsets = values[..., 1:4] % 1.0
    clamped = np.clip(values, lo, hi)
    clamped[..., 1:4] = offsets
    moved = ~np.isclose(clamped, values) & ~np.isin(np.arange(GAIT_SIZE), (1, 2, 3))
    if moved.any():
        names = sorted({GAIT_FIELDS[i] for i in np.nonzero(moved)[-1]})
        warnings.warn(
            f"gait parameters {', '.join(names)} outside the trained range were clamped",
            stacklevel=2,
        )
    return clamped


def foot_phases(phase: Any, gait: Any, xp: ModuleType = np) -> Any:
    """(n, 4) cycle phase of each foot (FR, FL, RR, RL) from the clock (n,) and gaits (n, 8)."""
    first = GAIT_INDEX["offset_fl"]
    offsets = gait[:, first : first + 3]  # FL, RR, RL after FR
    offsets = xp.concatenate([xp.zeros_like(offsets[:, :1]), offsets], axis=1)
    return (phase[:, None] + offsets) % 1.0


def desired_contact(foot_phase: Any, duty: Any) -> Any:
    """(n, 4) True where the schedule puts a foot on the ground."""
    return foot_phase < duty[:, None]


def clock_features(foot_phase: Any, xp: ModuleType = np) -> Any:
    """(n, 8) sin and cos of each foot's phase: what the policy sees of the clock."""
    angle = 2.0 * np.pi * foot_phase
    return xp.concatenate([xp.sin(angle), xp.cos(angle)], axis=1)


def sample_gaits(
    preset_draw: Any, blend_draw: Any, presets: np.ndarray, blend_probability: float,
    xp: ModuleType = np, weights: Sequence[float] = (),
) -> Any:  # fmt: skip
    """Gaits (n, 8) from draws in [0, 1): a preset, or a blend of two presets.

    ``preset_draw`` (n, 2) picks the two presets, ``blend_draw`` (n, 2) decides whether to
    blend and by how much; ``presets`` is (k, 8). ``weights`` (k,) makes some presets drawn
    more often than others (empty: all alike).
    """
    k = presets.shape[0]
    w = np.ones(k) if len(weights) == 0 else np.asarray(weights, dtype=np.float64)
    edges = xp.asarray((np.cumsum(w) / np.sum(w))[:-1], dtype=preset_draw.dtype)
    first = xp.searchsorted(edges, preset_draw[:, 0], side="right").astype(np.int32)
    second = xp.searchsorted(edges, preset_draw[:, 1], side="right").astype(np.int32)
    a, b = xp.asarray(presets)[first], xp.asarray(presets)[second]
    t = xp.where(blend_draw[:, 0] < blend_probability, blend_draw[:, 1], 0.0)[:, None]
    blended = a + t * (b - a)
    # Offsets blend the shorter way round the cycle.
    delta = (b[:, 1:4] - a[:, 1:4] + 0.5) % 1.0 - 0.5
    offsets = (a[:, 1:4] + t * delta) % 1.0
    return xp.concatenate([blended[:, :1], offsets, blended[:, 4:]], axis=1)


@functools.cache
def preset_matrix(names: tuple[str, ...]) -> np.ndarray:
    """(k, 8) gait vectors of the named packaged presets (read-only; built once per names)."""
    matrix = np.stack([preset(name).vector() for name in names])
    matrix.flags.writeable = False
    return matrix
