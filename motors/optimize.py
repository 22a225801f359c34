"""Constrained design optimisation of the joint actuator: least mass that meets a duty.

Minimise mass over the ``MotorDesign`` variables subject to (each with a stated margin):

- ``peak_torque``: peak torque >= duty peak torque x ``torque_margin``;
- ``no_load_speed``: no-load speed at the bus voltage >= duty peak speed x ``speed_margin``;
- ``duty_envelope``: every duty operating point (torque x torque_margin at speed x speed_margin)
  inside the torque-speed envelope of the hot motor;
- ``winding_temp``: hottest winding over the mission (cycle repeated, 30 minutes, from
  ambient) <= the insulation limit less ``temp_margin``;
- ``mission_peak_winding`` (when ``peak_winding_limit`` > 0 and the requirement has mission
  segments): the hottest winding over the mission in its order (each segment's mean copper
  loss, laid end to end from ambient, ``design.winding_peak_over_segments``) <= the limit;
- ``outer_diameter`` and ``length`` within the joint's envelope;
- optionally ``continuous_torque`` and ``efficiency`` floors (datasheet-style specs, Pareto);
- the physical limits of ``design.physical_limits`` (always): ``peak_shear_stress``,
  ``continuous_shear_stress``, ``peak_current_density``, ``continuous_current_density``,
  ``sun_contact_stress``, ``sun_bending_stress``.

The optimiser is CMA-ES (the ``cma`` package) on the box-normalised variables, constraints as
a penalty. An infeasible problem ends with a report naming each violated constraint.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from irondog.config import check, from_dict, load, read_yaml, to_dict
from irondog.motors import design as md
from irondog.motors.cybergear import CyberGearParams
from irondog.motors.duty import Duty

# Design variables the optimiser moves, with log-scaled bounds (others stay as in the start).
VARIABLES = (
    "airgap_diameter",
    "stack_length",
    "magnet_thickness",
    "back_iron_thickness",
    "slot_depth",
    "turns",
    "slot_fill",
    "gear_ratio",
    "housing_thickness",
)


@dataclasses.dataclass(frozen=True)
class OptimizeConfig:
    """Margins, the joint envelope, variable bounds and the optimiser's budget."""

    torque_margin: float = 1.2  # x duty torque
    speed_margin: float = 1.2  # x duty speed
    temp_margin: float = 10.0  # K below the winding limit
    winding_temp_limit: float = 120.0  # C, class B
    ambient_temp: float = 25.0  # C
    mission_s: float = 1800.0  # s, the cycle repeated from a cold start
    # C, hottest winding over the ordered mission segments (0: not constrained)
    peak_winding_limit: float = 0.0
    max_outer_diameter: float = 0.0805  # m, the joint's envelope (the CyberGear's size)
    max_length: float = 0.0365  # m
    envelope_bins: int = 24  # duty operating points kept (speed-binned maxima)
    airgap_diameter: tuple[float, float] = (0.025, 0.075)  # m
    stack_length: tuple[float, float] = (0.003, 0.03)  # m
    magnet_thickness: tuple[float, float] = (0.001, 0.005)  # m
    back_iron_thickness: tuple[float, float] = (0.001, 0.006)  # m
    slot_depth: tuple[float, float] = (0.002, 0.015)  # m
    turns: tuple[float, float] = (20.0, 400.0)
    slot_fill: tuple[float, float] = (0.3, 0.55)  # 0.55: the CyberGear's claimed technology
    gear_ratio: tuple[float, float] = (4.0, 11.0)
    housing_thickness: tuple[float, float] = (0.0015, 0.004)  # m
    popsize: int = 16
    max_evals: int = 6000
    restarts: int = 2  # extra CMA-ES runs from random starts; the best is kept
    sigma0: float = 0.25  # initial step, in box-normalised units
    seed: int = 1
    penalty: float = 2.0  # kg of objective per unit of relative constraint violation

    def __post_init__(self) -> None:
        check(self.torque_margin >= 1.0, "torque_margin", "must be >= 1")
        check(self.speed_margin >= 1.0, "speed_margin", "must be >= 1")
        check(self.temp_margin >= 0.0, "temp_margin", "must be >= 0")
        check(
            self.winding_temp_limit - self.temp_margin > self.ambient_temp,
            "winding_temp_limit",
            "limit less margin must exceed the ambient temperature",
        )
        check(self.mission_s > 0, "mission_s", "must be > 0")
        check(
            self.peak_winding_limit == 0.0 or self.peak_winding_limit > self.ambient_temp,
            "peak_winding_limit",
            "must be 0 (not constrained) or above the ambient temperature",
        )
        check(self.max_outer_diameter > 0, "max_outer_diameter", "must be > 0")
        check(self.max_length > 0, "max_length", "must be > 0")
        check(self.envelope_bins >= 1, "envelope_bins", "must be >= 1")
        for name in VARIABLES:
            lo, hi = getattr(self, name)
            check(0 < lo < hi, name, f"bounds must satisfy 0 < low < high, got ({lo}, {hi})")
        check(self.slot_fill[1] <= 1.0, "slot_fill", "upper bound must be <= 1")
        check(self.popsize >= 4, "popsize", "must be >= 4")
        check(self.max_evals >= self.popsize, "max_evals", "must be >= popsize")
        check(self.restarts >= 0, "restarts", "must be >= 0")
        check(0 < self.sigma0 <= 1, "sigma0", "must be in (0, 1]")
        check(self.penalty > 0, "penalty", "must be > 0")

    def constants(self, base: md.DesignConstants = md.DEFAULT_CONSTANTS) -> md.DesignConstants:
        """Design constants with this config's ambient and winding limit."""
        return dataclasses.replace(
            base, ambient_temp=self.ambient_temp, winding_temp_limit=self.winding_temp_limit
        )


@dataclasses.dataclass(frozen=True)
class Requirements:
    """What the motor must do, before margins (from a duty cycle or a datasheet-style spec)."""

    peak_torque: float  # N m
    peak_speed: float  # rad/s
    envelope_speed: np.ndarray  # (nb,) rad/s, duty operating points (speed-binned maxima)
    envelope_torque: np.ndarray  # (nb,) N m
    duty_torque: np.ndarray | None = None  # (T, 12) |tau| N m, for thermal and efficiency
    duty_speed: np.ndarray | None = None  # (T, 12) |w| rad/s
    continuous_torque: float = 0.0  # N m stall, continuous (0: not required)
    no_load_speed: float = 0.0  # rad/s (0: from peak_speed only)
    min_efficiency: float = 0.0  # duty-cycle efficiency floor (Pareto sweeps)
    label: str = "duty"
    segment_index: np.ndarray | None = None  # (T,) mission segment of each duty_torque row
    segment_seconds: np.ndarray | None = None  # (S,) s, each segment's length, in order


def requirements_from_duty(
    duty: Duty | list[Duty], config: OptimizeConfig, label: str = "duty"
) -> Requirements:
    """Peak torque and speed and the operating points of a duty cycle (or several: all must
    be met; they are stacked side by side as extra joints, cut to the shortest)."""
    duties = duty if isinstance(duty, list) else [duty]
    n = min(d.joint_torque.shape[0] for d in duties)
    tau = np.abs(np.concatenate([d.joint_torque[:n] for d in duties], axis=1))  # (T, 12 k) N m
    w = np.abs(np.concatenate([d.joint_vel[:n] for d in duties], axis=1))  # (T, 12 k) rad/s
    flat_w, flat_tau = w.ravel(), tau.ravel()
    edges = np.quantile(flat_w, np.linspace(0.0, 1.0, config.envelope_bins + 1))
    idx = np.clip(np.searchsorted(edges, flat_w, side="right") - 1, 0, config.envelope_bins - 1)
    speeds, torques = [], []
    for b in range(config.envelope_bins):
        sel = idx == b
        if np.any(sel):
            # Conservative point: the bin's largest speed with its largest torque.
            speeds.append(flat_w[sel].max())
            torques.append(flat_tau[sel].max())
    return Requirements(
        peak_torque=float(tau.max()),
        peak_speed=float(w.max()),
        envelope_speed=np.asarray(speeds),
        envelope_torque=np.asarray(torques),
        duty_torque=tau,
        duty_speed=w,
        label=label,
    )


def requirements_from_spec(
    peak_torque: float, no_load_speed: float, continuous_torque: float, label: str = "spec"
) -> Requirements:
    """A datasheet-style requirement: peak and continuous torque, no-load speed (no duty)."""
    check(peak_torque > 0, "peak_torque", "must be > 0")
    check(no_load_speed > 0, "no_load_speed", "must be > 0")
    check(continuous_torque >= 0, "continuous_torque", "must be >= 0")
    return Requirements(
        peak_torque=peak_torque,
        peak_speed=0.0,
        envelope_speed=np.zeros(0),
        envelope_torque=np.zeros(0),
        continuous_torque=continuous_torque,
        no_load_speed=no_load_speed,
        label=label,
    )


# The CyberGear's own datasheet figures (FACTS.md): the peak spec a mission design keeps.
CYBERGEAR_PEAK_TORQUE = 12.0  # N m
CYBERGEAR_NO_LOAD_SPEED = 296.0 * 2.0 * math.pi / 60.0  # rad/s at 24 V


def requirements_from_mission(
    duty: Duty,
    config: OptimizeConfig,
    samples: int = 3000,
    peak_torque: float = CYBERGEAR_PEAK_TORQUE,
    no_load_speed: float = CYBERGEAR_NO_LOAD_SPEED,
    label: str = "mission",
    segment_minutes: tuple[float, ...] | None = None,
) -> Requirements:
    """Requirements from a mission duty recorded on the CyberGear.

    Peak: the CyberGear's own ``peak_torque`` and ``no_load_speed`` (the policies ride its
    12 N m limit, so a saturated sample only says they wanted at least that much). Operating
    points: the duty's speed-binned maxima, each capped at the CyberGear model's hot envelope
    at that speed (what the CyberGear delivered, the new motor must deliver). Thermal: the duty
    itself, cut to ``samples`` rows (``duty.reduce_duty``), so one optimiser run takes minutes.
    The config's margins apply on top; ``configs/motor/mission.yaml`` sets them to 1 (the spec
    is the CyberGear's own) and the design is checked by re-simulating the mission
    (``benchmarks/motor_mission.py``).

    Segments: ``segment_minutes`` (default ``mission.MISSION``'s), laid end to end as
    ``mission.assemble`` lays them, tag each kept row with its segment, for the
    ``mission_peak_winding`` constraint; the duty's length must match them.
    """
    from irondog.motors.duty import reduce_rows

    if segment_minutes is None:
        from irondog.motors.mission import MISSION

        segment_minutes = tuple(s.minutes for s in MISSION)
    rows_per = np.array([max(1, round(60.0 * m / duty.dt)) for m in segment_minutes])
    n = duty.joint_torque.shape[0]
    if int(rows_per.sum()) != n:
        raise ValueError(
            f"segment_minutes: {len(rows_per)} segments make {int(rows_per.sum())} rows at dt "
            f"{duty.dt} s, the duty has {n} (in {duty.source})"
        )
    rows = reduce_rows(duty, samples)
    segment = np.searchsorted(np.cumsum(rows_per), rows, side="right")  # (T,) 0..S-1
    empty = sorted(set(range(len(rows_per))) - set(segment.tolist()))
    if empty:
        raise ValueError(
            f"samples: {samples} rows leave mission segment(s) {empty} empty (in {duty.source})"
        )
    reduced = Duty(duty.joint_torque[rows], duty.joint_vel[rows], duty.dt, duty.source)
    req = requirements_from_duty(reduced, config, label=label)
    cybergear = md.evaluate(md.CYBERGEAR, config.constants())
    cap = md.torque_speed_envelope(cybergear, req.envelope_speed, config.winding_temp_limit)
    return dataclasses.replace(
        req,
        peak_torque=peak_torque,
        peak_speed=0.0,
        no_load_speed=no_load_speed,
        envelope_torque=np.minimum(req.envelope_torque, cap),
        segment_index=segment,
        segment_seconds=rows_per * duty.dt,
    )


@dataclasses.dataclass(frozen=True)
class Assessment:
    """A design checked against requirements: each constraint's value and whether it holds."""

    perf: md.MotorPerformance
    # name -> (achieved, required, violation); violation = relative shortfall, <= 0 when met
    constraints: dict[str, tuple[float, float, float]]
    mission_winding_temp: float  # C, hottest winding after the mission (inf: runaway)
    duty_efficiency: float  # output energy / (output + losses) over the duty (nan: no duty)

    @property
    def feasible(self) -> bool:
        """Every constraint holds."""
        return all(v[2] <= 1e-9 for v in self.constraints.values())

    @property
    def violation(self) -> float:
        """Sum of relative shortfalls."""
        return float(sum(max(v[2], 0.0) for v in self.constraints.values()))

    def binding(self, tol: float = 0.02) -> list[str]:
        """Constraints violated or within ``tol`` (relative) of their limit."""
        return [k for k, v in self.constraints.items() if v[2] > -tol]

    def explain(self) -> str:
        """One line per violated constraint: what is needed and what the design gives."""
        lines = []
        for name, (have, need, viol) in self.constraints.items():
            if viol > 1e-9:
                lines.append(
                    f"{name}: needs {_fmt(name, need, True)}, best design gives {_fmt(name, have)}"
                )
        return "\n".join(lines) if lines else "all constraints met"

    def table(self) -> str:
        """Every constraint, one line each: met or VIOLATED, the design's value and the bound."""
        lines = []
        for name, (have, need, viol) in self.constraints.items():
            state = "VIOLATED" if viol > 1e-9 else "met"
            lines.append(
                f"  {name:28s} {state:8s} {_fmt(name, have):>18s}  (needs {_fmt(name, need, True)})"
            )
        return "\n".join(lines)


_UNITS = {
    "peak_torque": ("N m", 1.0),
    "continuous_torque": ("N m", 1.0),
    "no_load_speed": ("rad/s", 1.0),
    "duty_envelope": ("x envelope", 1.0),
    "winding_temp": ("C after the mission", 1.0),
    "mission_peak_winding": ("C hottest in the mission", 1.0),
    "outer_diameter": ("mm", 1e3),
    "length": ("mm", 1e3),
    "efficiency": ("", 1.0),
    "peak_shear_stress": ("kPa", 1e-3),
    "continuous_shear_stress": ("kPa", 1e-3),
    "peak_current_density": ("A/mm^2 rms", 1e-6),
    "continuous_current_density": ("A/mm^2 rms", 1e-6),
    "sun_contact_stress": ("MPa", 1e-6),
    "sun_bending_stress": ("MPa", 1e-6),
}
# Constraints that are upper bounds (the rest are floors).
_UPPER = {
    "outer_diameter",
    "length",
    "winding_temp",
    "mission_peak_winding",
    "duty_envelope",
    "peak_shear_stress",
    "continuous_shear_stress",
    "peak_current_density",
    "continuous_current_density",
    "sun_contact_stress",
    "sun_bending_stress",
}


def _fmt(name: str, value: float, need: bool = False) -> str:
    unit, scale = _UNITS.get(name, ("", 1.0))
    upper = name in _UPPER
    prefix = "<= " if need and upper else ""
    return f"{prefix}{value * scale:.3g} {unit}".strip()


def assess(perf: md.MotorPerformance, req: Requirements, config: OptimizeConfig) -> Assessment:
    """Check ``perf`` against ``req`` with the margins of ``config``."""
    c: dict[str, tuple[float, float, float]] = {}
    need_tau = req.peak_torque * config.torque_margin
    if need_tau > 0:
        c["peak_torque"] = (perf.peak_torque, need_tau, need_tau / max(perf.peak_torque, 1e-9) - 1)
    need_w = max(req.peak_speed * config.speed_margin, req.no_load_speed)
    w_nl = perf.no_load_speed
    if need_w > 0:
        c["no_load_speed"] = (w_nl, need_w, need_w / max(w_nl, 1e-9) - 1)
    if req.envelope_speed.size:
        env = md.torque_speed_envelope(
            perf, req.envelope_speed * config.speed_margin, config.winding_temp_limit
        )
        ratio = req.envelope_torque * config.torque_margin / np.maximum(env, 1e-9)
        worst = float(ratio.max())
        c["duty_envelope"] = (worst, 1.0, worst - 1.0)
    t_allowed = config.winding_temp_limit - config.temp_margin
    mission_temp = config.ambient_temp
    efficiency = math.nan
    if req.duty_torque is not None and req.duty_speed is not None:
        tau, w = req.duty_torque, req.duty_speed  # (T, 12)
        current = md.current_from_torque(perf, tau + perf.drag_torque * (w > 1e-3))
        loss_ref = 1.5 * perf.phase_resistance * np.mean(current**2, axis=0)  # (12,) W
        p_worst = float(loss_ref.max())
        mission_temp = float(
            md.winding_temp_after(perf, p_worst, config.mission_s, config.ambient_temp)
        )
        if not math.isfinite(mission_temp) or md.steady_winding_temp(perf, p_worst) == math.inf:
            mission_temp = math.inf
        rise_allowed = t_allowed - config.ambient_temp
        c["winding_temp"] = (
            mission_temp,
            t_allowed,
            (mission_temp - config.ambient_temp) / rise_allowed - 1,
        )
        if config.peak_winding_limit > 0 and req.segment_index is not None:
            c["mission_peak_winding"] = mission_peak_winding(
                perf, current, req, config.peak_winding_limit, config.ambient_temp
            )
        out = float(np.sum(tau * w))  # J/s summed, proportional to energy
        loss = md.losses(perf, tau, w, (mission_temp if math.isfinite(mission_temp) else 200.0))
        total_loss = float(sum(np.sum(v) for v in loss.values()))
        efficiency = out / (out + total_loss) if out > 0 else 0.0
    if req.continuous_torque > 0:
        cont = perf.rated_torque
        c["continuous_torque"] = (cont, req.continuous_torque, req.continuous_torque / cont - 1)
    if req.min_efficiency > 0:
        eff = efficiency if math.isfinite(efficiency) else 0.0
        c["efficiency"] = (eff, req.min_efficiency, req.min_efficiency / max(eff, 1e-9) - 1)
    c["outer_diameter"] = (
        perf.outer_diameter,
        config.max_outer_diameter,
        perf.outer_diameter / config.max_outer_diameter - 1,
    )
    c["length"] = (perf.length, config.max_length, perf.length / config.max_length - 1)
    for name, (value, bound) in md.physical_limits(perf).items():
        c[name] = (value, bound, value / bound - 1)
    return Assessment(perf, c, mission_temp, efficiency)


def mission_peak_winding(
    perf: md.MotorPerformance,
    current: np.ndarray,
    req: Requirements,
    limit: float,
    ambient: float,
) -> tuple[float, float, float]:
    """(hottest winding C over the ordered mission, ``limit``, relative violation).

    ``current`` (T, J) A at each duty row; each segment's mean copper loss per joint (W at the
    reference temperature) goes through ``design.winding_peak_over_segments`` from
    ``ambient``. Violation: the rise above ambient over the allowed rise, less 1.
    """
    if req.segment_index is None or req.segment_seconds is None:
        raise ValueError("mission_peak_winding: the requirement has no mission segments")
    loss = 1.5 * perf.phase_resistance * current**2  # (T, J) W
    segments = req.segment_seconds.size
    counts = np.bincount(req.segment_index, minlength=segments)  # (S,)
    if np.any(counts == 0) or np.any(np.diff(req.segment_index) < 0):
        raise ValueError("segment_index: every segment needs rows, in time order")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    seg_loss = np.add.reduceat(loss, starts, axis=0) / counts[:, None]  # (S, J) W
    hottest, _ = md.winding_peak_over_segments(perf, seg_loss, req.segment_seconds, ambient)
    if not math.isfinite(hottest):
        return math.inf, limit, math.inf
    return hottest, limit, (hottest - ambient) / (limit - ambient) - 1


# ------------------------------------------------------------------------------------------
# The optimiser.


def _bounds(config: OptimizeConfig) -> tuple[np.ndarray, np.ndarray]:
    lo = np.log([getattr(config, k)[0] for k in VARIABLES])
    hi = np.log([getattr(config, k)[1] for k in VARIABLES])
    return lo, hi


def _decode(u: np.ndarray, start: md.MotorDesign, config: OptimizeConfig) -> md.MotorDesign:
    lo, hi = _bounds(config)
    values = np.exp(lo + np.clip(u, 0.0, 1.0) * (hi - lo))
    return start.replace(**dict(zip(VARIABLES, values.tolist(), strict=True)))


def _encode(design: md.MotorDesign, config: OptimizeConfig) -> np.ndarray:
    lo, hi = _bounds(config)
    x = np.log([getattr(design, k) for k in VARIABLES])
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0)


@dataclasses.dataclass(frozen=True)
class OptimizeResult:
    """The best design found, its check against the requirements, and the run's cost."""

    design: md.MotorDesign
    assessment: Assessment
    requirements: Requirements
    evaluations: int
    seconds: float
    history: np.ndarray  # (n,) best objective after each generation

    @property
    def perf(self) -> md.MotorPerformance:
        """Derived quantities of the best design."""
        return self.assessment.perf

    @property
    def feasible(self) -> bool:
        """The best design meets every constraint."""
        return self.assessment.feasible

    def report(self) -> str:
        """A short text report: mass, feasibility and the binding constraints."""
        a = self.assessment
        head = (
            f"{self.requirements.label}: {1e3 * self.perf.mass:.1f} g, "
            f"{'feasible' if a.feasible else 'INFEASIBLE'} "
            f"({self.evaluations} evaluations, {self.seconds:.1f} s)"
        )
        if not a.feasible:
            return head + "\nviolated constraints:\n" + a.explain() + "\n" + a.table()
        return head + f"\nbinding constraints: {', '.join(a.binding()) or 'none'}\n" + a.table()


def objective(
    u: np.ndarray,
    start: md.MotorDesign,
    req: Requirements,
    config: OptimizeConfig,
    constants: md.DesignConstants,
) -> float:
    """Mass (kg) plus the penalty for constraint violations; invalid geometry scores badly."""
    return _score(u, start, req, config, constants)[0]


def _score(
    u: np.ndarray,
    start: md.MotorDesign,
    req: Requirements,
    config: OptimizeConfig,
    constants: md.DesignConstants,
) -> tuple[float, bool]:
    """(objective, feasible) of the box-normalised point ``u``."""
    try:
        perf = md.evaluate(_decode(u, start, config), constants)
        a = assess(perf, req, config)
    except (ValueError, ZeroDivisionError, FloatingPointError, OverflowError):
        return 100.0, False
    if not math.isfinite(a.violation):
        return 100.0, False
    return perf.mass + config.penalty * a.violation, a.feasible


def optimize(
    req: Requirements,
    config: OptimizeConfig | None = None,
    start: md.MotorDesign = md.CYBERGEAR,
    constants: md.DesignConstants | None = None,
    max_evals: int | None = None,
) -> OptimizeResult:
    """Least-mass design meeting ``req``: CMA-ES from ``start``, then ``restarts`` random starts."""
    import cma  # CMA-ES, pinned 4.5.0

    config = config if config is not None else OptimizeConfig()
    constants = constants if constants is not None else config.constants()
    budget = max_evals if max_evals is not None else config.max_evals
    t0 = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    runs = 1 + config.restarts
    best_u, best_f, evals, history = None, math.inf, 0, []
    # The penalty lets a point just past a limit score below every feasible one; the feasible
    # point of least mass is kept apart and wins whenever one was seen.
    feasible_u, feasible_f = None, math.inf
    with np.errstate(all="ignore"):
        for run in range(runs):
            x0 = _encode(start, config) if run == 0 else rng.uniform(0.1, 0.9, len(VARIABLES))
            es = cma.CMAEvolutionStrategy(
                x0.tolist(),
                config.sigma0,
                {
                    "bounds": [0.0, 1.0],
                    "popsize": config.popsize,
                    "seed": config.seed + run,
                    "maxfevals": max(config.popsize, budget // runs),
                    "verbose": -9,
                    "tolfun": 1e-7,
                },
            )
            while not es.stop():
                xs = es.ask()
                scored = [_score(np.asarray(x), start, req, config, constants) for x in xs]
                fs = [f for f, _ in scored]
                es.tell(xs, fs)
                evals += len(xs)
                k = int(np.argmin(fs))
                if fs[k] < best_f:
                    best_f, best_u = fs[k], np.asarray(xs[k])
                for x, (f, ok) in zip(xs, scored, strict=True):
                    if ok and f < feasible_f:
                        feasible_f, feasible_u = f, np.asarray(x)
                history.append(feasible_f if feasible_u is not None else best_f)
    design = _decode(feasible_u if feasible_u is not None else best_u, start, config)
    perf = md.evaluate(design, constants)
    return OptimizeResult(
        design=design,
        assessment=assess(perf, req, config),
        requirements=req,
        evaluations=evals,
        seconds=time.perf_counter() - t0,
        history=np.asarray(history),
    )


def pareto_front(
    req: Requirements,
    axis: str,
    levels: np.ndarray,
    config: OptimizeConfig | None = None,
    start: md.MotorDesign = md.CYBERGEAR,
    evals_per_point: int = 1500,
) -> list[tuple[float, float, bool]]:
    """Least mass at each level of ``axis`` (epsilon-constraint): ``peak_torque`` or ``efficiency``.

    ``peak_torque``: the duty's torques scaled so that its peak is the level (N m, before
    margin); ``efficiency``: a floor on the duty-cycle efficiency. Returns (level, mass kg,
    feasible) per level.
    """
    config = config if config is not None else OptimizeConfig()
    cheap = dataclasses.replace(config, restarts=0)
    out = []
    for level in levels:
        if axis == "peak_torque":
            # The whole duty's torque scaled so that its peak is ``level`` (thermal load too).
            scale = float(level) / max(req.peak_torque, 1e-9)
            r = dataclasses.replace(
                req,
                peak_torque=float(level),
                envelope_torque=req.envelope_torque * scale,
                duty_torque=None if req.duty_torque is None else req.duty_torque * scale,
                continuous_torque=req.continuous_torque * scale,
            )
        elif axis == "efficiency":
            r = dataclasses.replace(req, min_efficiency=float(level))
        else:
            raise ValueError(f"axis: must be 'peak_torque' or 'efficiency', got {axis!r}")
        res = optimize(r, cheap, start=start, max_evals=evals_per_point)
        out.append((float(level), res.perf.mass, res.feasible))
    return out


# ------------------------------------------------------------------------------------------
# Motor YAML files and the co-design loop.


@dataclasses.dataclass(frozen=True)
class MotorFile:
    """A motor YAML: the design variables, and the simulation parameters derived from them."""

    name: str = "cybergear"
    design: md.MotorDesign = dataclasses.field(default_factory=md.MotorDesign)
    params: CyberGearParams | None = None  # derived by to_params(); recomputed when absent
    summary: dict[str, Any] = dataclasses.field(default_factory=dict)  # informative only


def save_motor(
    path: str | Path, name: str, design: md.MotorDesign, extra: dict | None = None
) -> Path:
    """Write a motor YAML (design, derived params and a datasheet-style summary)."""
    import yaml

    perf = md.evaluate(design)
    summary = {k: float(f"{v:.5g}") for k, v in md.summary(perf).items()}
    summary["mass_breakdown_g"] = {k: round(1e3 * v, 2) for k, v in perf.mass_breakdown.items()}
    if extra:
        summary.update(extra)
    body = {
        "name": name,
        "design": to_dict(design),
        "params": to_dict(md.to_params(perf)),
        "summary": summary,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "# irondog motor design (irondog motor optimize); params are derived from design.\n"
    path.write_text(text + yaml.safe_dump(body, sort_keys=False))
    return path


def load_motor(path: str | Path) -> tuple[md.MotorDesign, CyberGearParams]:
    """Read a motor YAML strictly: (design, simulation parameters).

    A design past a physical limit (``design.physical_limits``) loads, with a warning that
    names each limit it violates.
    """
    data = read_yaml(path)
    motor = from_dict(MotorFile, data, source=str(path))
    for line in md.limit_violations(md.evaluate(motor.design)):
        warnings.warn(f"{path}: design violates a physical limit: {line}", stacklevel=2)
    params = motor.params if motor.params is not None else md.to_params(motor.design)
    return motor.design, params


def motor_model(
    path: str | Path, xml_path: str | Path | None = None
) -> tuple[Any, CyberGearParams]:
    """(MjModel with 12 of this motor, CyberGearParams) from a motor YAML: plug into the envs."""
    from irondog.motors.duty import apply_motor

    _, params = load_motor(path)
    return apply_motor(params, xml_path), params


@dataclasses.dataclass(frozen=True)
class CodesignStep:
    """One pass of the loop: the duty used, the design found, its check on the new duty."""

    iteration: int
    result: OptimizeResult
    recheck: Assessment | None  # the design against the duty re-simulated with it


def codesign(
    duty: Duty,
    config: OptimizeConfig | None = None,
    simulate: Callable[[CyberGearParams], Duty] | None = None,
    max_iterations: int = 4,
    tolerance_kg: float = 0.002,
    log: Callable[[str], None] = print,
) -> list[CodesignStep]:
    """Optimise for ``duty``; re-simulate the robot with the new motor; repeat until stable.

    Each pass must meet every duty recorded so far (the start's and each re-simulation's).
    ``simulate(params) -> Duty`` re-runs the robot with 12 motors of ``params`` (masses
    included); without it the loop stops after one optimisation. Stable: the mass changes by
    less than ``tolerance_kg`` and the design meets the duty re-simulated with itself.
    """
    config = config if config is not None else OptimizeConfig()
    steps: list[CodesignStep] = []
    start = md.CYBERGEAR
    prev_mass = None
    duties = [duty]  # every duty seen so far must be met, so the loop cannot cycle
    for it in range(max_iterations):
        req = requirements_from_duty(duties, config, label=f"co-design pass {it + 1}")
        res = optimize(req, config, start=start)
        recheck = None
        log(res.report())
        if simulate is not None:
            new_duty = simulate(md.to_params(res.perf))
            recheck = assess(res.perf, requirements_from_duty(new_duty, config), config)
            log(
                f"  re-simulated with the new motor: {'meets' if recheck.feasible else 'misses'}"
                f" its duty ({recheck.explain() if not recheck.feasible else 'all constraints'})"
            )
            duties.append(new_duty)
        steps.append(CodesignStep(it + 1, res, recheck))
        mass = res.perf.mass
        stable = prev_mass is not None and abs(mass - prev_mass) < tolerance_kg
        if simulate is None or (stable and recheck is not None and recheck.feasible):
            break
        prev_mass = mass
        start = res.design
    return steps


def load_config(
    path: str | Path | None, overrides: list[str] | tuple[str, ...] = ()
) -> OptimizeConfig:
    """OptimizeConfig from defaults, a YAML file and dotted overrides (strict)."""
    return load(OptimizeConfig, path, overrides)
