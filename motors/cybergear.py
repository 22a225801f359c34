"""The CyberGear actuator law: MIT-mode PD, voltage-limited envelope, two-node thermal model.

Every function here is a pure function of arrays and a ``CyberGearParams`` record, written once
for NumPy and jax.numpy: pass ``xp=numpy`` (native back end, motor design) or
``xp=jax.numpy`` (MJX back end). Quantities are at the joint (output side of the 7.75:1 gear).

Figures come from FACTS.md (the CyberGear manual and posters). Two are fitted rather than
published, and say so: the effective back-EMF constant and drive voltage make the
voltage-limited line pass through the datasheet's torque-speed curve, flat at 12 N m to
110 rpm and falling to 0.6 N m at 280 rpm, with the published 0.87 N m/A and 0.45 ohm.
"""

from __future__ import annotations

import dataclasses
import math
from types import ModuleType
from typing import Any

import numpy as np

from irondog.config import check

RPM = 2.0 * math.pi / 60.0  # rad/s per rpm
# Temperature limits (FACTS.md), two different things. The winding's own limit is its
# insulation's (class B, 120 C: CyberGearParams.winding_temp_limit, what the overload table
# runs to and what motor design keeps below). The driver's over-temperature warning and
# fault act on the temperature the driver reports over CAN (its sensor, not the modelled
# winding); a deployed robot stops at the fault first.
DRIVER_WARNING_C = 75.0  # C, CyberGear driver over-temperature warning
DRIVER_FAULT_C = 80.0  # C, CyberGear driver over-temperature fault

# Published overload curve (FACTS.md): (torque N m, seconds until the winding reaches 120 C
# from a 25 C start); 4 N m is continuous.
OVERLOAD_CURVE: tuple[tuple[float, float], ...] = (
    (12, 28), (11, 45), (10, 60), (9, 90), (8, 160), (7, 320), (6, 700), (5, 1800), (4.5, 2500),
)  # fmt: skip
COPPER_ALPHA = 0.0039  # 1/K, copper resistance temperature coefficient


@dataclasses.dataclass(frozen=True)
class CyberGearParams:
    """Parameters of one joint actuator (CyberGear by default), at the output shaft."""

    mass: float = 0.317  # kg
    gear_ratio: float = 7.75
    torque_limit: float = 12.0  # N m, peak at the joint
    rated_torque: float = 4.0  # N m, continuous
    rated_current: float = 6.5  # A at the rated torque
    peak_current: float = 23.0  # A at the peak torque
    kt: float = 0.87  # N m/A rms at the output
    resistance: float = 0.45  # ohm, line to line, at reference_temp
    # Fitted: the voltage-limited line tau = kt (V - ke w) / R through (110 rpm, 12 N m)
    # and (280 rpm, 0.6 N m).
    ke: float = 0.33126  # V s/rad, effective
    drive_voltage: float = 10.024  # V, effective, at the 24 V bus
    bus_voltage: float = 24.0  # V
    velocity_limit: float = 30.997  # rad/s (robot description)
    rotor_inertia: float = 4.78e-5  # kg m^2 about the spin axis
    # Current-torque relation with saturation, i = tau / k_lin + c tau^3, through the
    # published (4 N m, 6.5 A) and (12 N m, 23 A).
    # Copper loss P = copper_loss_coeff * i^2 * (1 + alpha (T - T0)) (FACTS.md derived figure).
    copper_loss_coeff: float = 0.3375  # W/A^2
    # Two-node thermal model, fitted (minimax, from 25 C) to the FACTS.md overload table with
    # the current law above: every listed time within 10% (FACTS.md's rounder 34 J/K, 1.0 K/W,
    # 350 J/K, 3.5 K/W miss the 12 N m / 28 s point by 30%). See tests/test_motor_design.py.
    winding_capacity: float = 55.2  # J/K
    winding_to_housing: float = 1.17  # K/W
    housing_capacity: float = 518.0  # J/K
    housing_to_ambient: float = 4.64  # K/W
    winding_temp_limit: float = 120.0  # C (insulation class B, overload table limit)
    reference_temp: float = 25.0  # C
    viscous_friction: float = 0.0  # N m s/rad at the joint
    coulomb_friction: float = 0.0  # N m at the joint

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in ("viscous_friction", "coulomb_friction"):
                check(value >= 0, f.name, f"must be >= 0, got {value}")
            elif f.name != "reference_temp":
                check(value > 0, f.name, f"must be > 0, got {value}")
        check(self.rated_torque < self.torque_limit, "rated_torque", "must be below torque_limit")
        check(self.rated_current < self.peak_current, "rated_current", "must be below peak_current")

    @property
    def armature(self) -> float:
        """Rotor inertia reflected through the gear, kg m^2 at the joint."""
        return self.rotor_inertia * self.gear_ratio**2

    @property
    def no_load_speed(self) -> float:
        """Speed where the voltage-limited torque reaches zero, rad/s."""
        return self.drive_voltage / self.ke

    @property
    def current_coefficients(self) -> tuple[float, float]:
        """(k_lin, c) of i = tau / k_lin + c tau^3, through the rated and peak points."""
        t1, i1, t2, i2 = self.rated_torque, self.rated_current, self.torque_limit, self.peak_current
        # Solve [1/k, c] from t1/k + c t1^3 = i1 and t2/k + c t2^3 = i2.
        det = t1 * t2**3 - t2 * t1**3
        inv_k = (i1 * t2**3 - i2 * t1**3) / det
        c = (t1 * i2 - t2 * i1) / det
        return 1.0 / inv_k, c


def _resistance_factor(winding_temp: Any, params: CyberGearParams) -> Any:
    return 1.0 + COPPER_ALPHA * (winding_temp - params.reference_temp)


def torque_limits(
    joint_vel: Any,
    params: CyberGearParams,
    winding_temp: Any = None,
    strength: Any = 1.0,
    xp: ModuleType = np,
) -> tuple[Any, Any]:
    """(lower, upper) torque the motor can give at ``joint_vel``, N m.

    Voltage-limited line kt (V - ke w)/R(T) (and its mirror), capped by the peak torque;
    ``strength`` scales both (domain randomisation of motor strength).
    """
    if winding_temp is None:
        winding_temp = params.reference_temp
    r = params.resistance * _resistance_factor(winding_temp, params)
    gain = params.kt / r  # N m per volt
    peak = params.torque_limit * strength
    upper = xp.minimum(gain * (params.drive_voltage - params.ke * joint_vel) * strength, peak)
    lower = xp.maximum(gain * (-params.drive_voltage - params.ke * joint_vel) * strength, -peak)
    # Beyond the no-load speed the motor can only brake: keep lower <= upper.
    upper = xp.maximum(upper, lower)
    return lower, upper


def mit_torque(
    q_target: Any,
    q: Any,
    qd: Any,
    kp: Any,
    kd: Any,
    params: CyberGearParams,
    tau_ff: Any = 0.0,
    qd_target: Any = 0.0,
    winding_temp: Any = None,
    strength: Any = 1.0,
    xp: ModuleType = np,
) -> Any:
    """Joint torque of the MIT-mode law, tau = Kp (q* - q) + Kd (qd* - qd) + tau_ff, limited.

    Shapes broadcast: typically (nenv, 12) rad, rad/s; kp, kd (nenv, 12) or scalars.
    Friction (viscous and Coulomb) is subtracted after the envelope.
    """
    command = kp * (q_target - q) + kd * (qd_target - qd) + tau_ff  # N m
    lower, upper = torque_limits(qd, params, winding_temp, strength, xp=xp)
    tau = xp.clip(command, lower, upper)
    if params.viscous_friction or params.coulomb_friction:
        tau = tau - params.viscous_friction * qd - params.coulomb_friction * xp.tanh(qd / 0.05)
    return tau


def current_from_torque(tau: Any, params: CyberGearParams, xp: ModuleType = np) -> Any:
    """Phase current (A rms) that gives torque ``tau`` (N m), with saturation."""
    k_lin, c = params.current_coefficients
    magnitude = xp.abs(tau)
    return magnitude / k_lin + c * magnitude * magnitude * magnitude


def copper_loss(tau: Any, params: CyberGearParams, winding_temp: Any, xp: ModuleType = np) -> Any:
    """Copper loss (W) at torque ``tau`` and winding temperature ``winding_temp`` (C)."""
    current = current_from_torque(tau, params, xp=xp)
    return params.copper_loss_coeff * current * current * _resistance_factor(winding_temp, params)


def thermal_step(
    winding_temp: Any,
    housing_temp: Any,
    power: Any,
    params: CyberGearParams,
    dt: float,
    ambient_temp: Any = 25.0,
) -> tuple[Any, Any]:
    """Advance the two-node thermal model by ``dt`` seconds (explicit Euler), temperatures C."""
    flow_wh = (winding_temp - housing_temp) / params.winding_to_housing  # W
    flow_ha = (housing_temp - ambient_temp) / params.housing_to_ambient  # W
    winding = winding_temp + dt * (power - flow_wh) / params.winding_capacity
    housing = housing_temp + dt * (flow_wh - flow_ha) / params.housing_capacity
    return winding, housing


def mechanical_power(tau: Any, qd: Any) -> Any:
    """Shaft power, W (positive when the motor does work)."""
    return tau * qd


class MitSubsteps:
    """The MIT law and its copper loss over one control step's physics steps, NumPy, in place.

    The native back end evaluates ``mit_torque`` and ``copper_loss`` at every physics step
    with the gains, winding temperature and strength of the control step. This computes the
    parts that do not change within the control step once (the envelope's gain and peak, the
    copper loss's resistance factor), keeps (n, 12) buffers, and writes with ``out=`` ufuncs,
    so a physics step allocates nothing. Every value is the same expression, operation for
    operation, as ``mit_torque`` with ``tau_ff = qd_target = 0`` followed by ``copper_loss``
    (tests/test_motor_law.py checks equality bit for bit). A new instance per control step:
    the returned torque is a buffer of its own that the next control step does not touch.
    """

    def __init__(
        self, kp: Any, kd: Any, params: CyberGearParams, winding_temp: Any, strength: Any
    ) -> None:
        shape = np.broadcast_shapes(np.shape(kp), np.shape(kd), np.shape(winding_temp))
        self.kp, self.kd, self.params = kp, kd, params
        factor = _resistance_factor(winding_temp, params)  # (n, 12)
        r = params.resistance * factor
        self.gain = params.kt / r  # N m per volt
        self.strength = strength
        self.peak = params.torque_limit * strength
        self.neg_peak = -self.peak
        k_lin, self.cubic = params.current_coefficients
        self.k_lin = k_lin
        self.loss_factor = factor
        self.friction = bool(params.viscous_friction or params.coulomb_friction)
        self.tau = np.empty(shape)
        self.lower = np.empty(shape)
        self.upper = np.empty(shape)
        self.scratch = np.empty(shape)

    def torque(self, q_target: Any, q: Any, qd: Any) -> np.ndarray:
        """(n, 12) N m: ``mit_torque(q_target, q, qd, kp, kd, params, winding_temp, strength)``."""
        p, tau, lower, upper, s = self.params, self.tau, self.lower, self.upper, self.scratch
        # command = kp * (q* - q) + kd * (0 - qd) + 0
        np.subtract(q_target, q, out=tau)
        np.multiply(self.kp, tau, out=tau)
        np.subtract(0.0, qd, out=s)
        np.multiply(self.kd, s, out=s)
        np.add(tau, s, out=tau)
        np.add(tau, 0.0, out=tau)
        # upper = min(gain (V - ke qd) strength, peak)
        # lower = max(gain (-V - ke qd) strength, -peak)
        np.multiply(p.ke, qd, out=s)  # ke qd
        np.subtract(p.drive_voltage, s, out=upper)
        np.multiply(self.gain, upper, out=upper)
        np.multiply(upper, self.strength, out=upper)
        np.minimum(upper, self.peak, out=upper)
        np.subtract(-p.drive_voltage, s, out=lower)
        np.multiply(self.gain, lower, out=lower)
        np.multiply(lower, self.strength, out=lower)
        np.maximum(lower, self.neg_peak, out=lower)
        np.maximum(upper, lower, out=upper)
        np.clip(tau, lower, upper, out=tau)
        if self.friction:
            tau[:] = tau - p.viscous_friction * qd - p.coulomb_friction * np.tanh(qd / 0.05)
        return tau

    def add_copper_loss(self, loss: np.ndarray) -> None:
        """``loss += copper_loss(tau, params, winding_temp)`` for the last ``torque``, W."""
        m, s = self.lower, self.upper  # free once the torque is clipped
        np.abs(self.tau, out=m)
        np.divide(m, self.k_lin, out=s)  # |tau| / k_lin
        np.multiply(self.cubic, m, out=self.scratch)
        np.multiply(self.scratch, m, out=self.scratch)
        np.multiply(self.scratch, m, out=self.scratch)
        np.add(s, self.scratch, out=s)  # current, A
        np.multiply(self.params.copper_loss_coeff, s, out=m)
        np.multiply(m, s, out=m)
        np.multiply(m, self.loss_factor, out=m)
        np.add(loss, m, out=loss)
