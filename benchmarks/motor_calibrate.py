"""Fit the CyberGear design point and the model's fitted coefficients to the FACTS.md datasheet.

Run once after changing the physics in ``irondog.motors.design``; it prints the design variables
and ``DesignConstants`` values to paste in as defaults, and the residual of every target.
Targets: Kt 0.87 N m/A rms, 0.45 ohm line to line, 317 g, 12 N m peak at 23 A, 296 rpm
no load at 24 V, 80.5 x 36.5 mm, reflected rotor inertia 2.9e-3 kg m^2 (weak), and the
overload table (seconds to 120 C from 25 C at constant stall torque).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy.optimize import least_squares, minimize  # scipy: least squares, Nelder-Mead

from irondog.motors import design as D
from irondog.motors.cybergear import OVERLOAD_CURVE, RPM

OVERLOAD = OVERLOAD_CURVE  # FACTS.md: (N m, s to 120 C from 25 C)
DESIGN_VARS = ["airgap_diameter", "stack_length", "turns", "slot_depth", "housing_thickness"]
CONST_VARS = [
    "saturation_coeff",
    "voltage_utilisation",
    "winding_to_housing_htc",
    "housing_to_ambient_htc",
    "mount_heat_capacity",
    "stator_in_winding_node",
    "drag_fraction",
    "electronics_mass",
]


def unpack(x: np.ndarray) -> tuple[D.MotorDesign, D.DesignConstants]:
    """Design and constants from the log-scaled vector ``x``."""
    vals = np.exp(x)
    n = len(DESIGN_VARS)
    design = D.CYBERGEAR.replace(**dict(zip(DESIGN_VARS, vals[:n].tolist(), strict=True)))
    consts = dataclasses.replace(
        D.DEFAULT_CONSTANTS, **dict(zip(CONST_VARS, vals[n:].tolist(), strict=True))
    )
    return design, consts


def residuals(x: np.ndarray) -> list[float]:
    """Log ratios model / datasheet."""
    design, consts = unpack(x)
    try:
        p = D.evaluate(design, consts)
    except ValueError:
        return [10.0] * (8 + len(OVERLOAD))
    out = [
        math.log(p.kt / 0.87),
        math.log(p.resistance_line / 0.45),
        math.log(p.mass / 0.317),
        math.log(p.peak_torque / 12.0),
        math.log(p.no_load_speed / (296 * RPM)),
        math.log(p.outer_diameter / 0.0805),
        math.log(p.length / 0.0365),
        0.2 * math.log(p.reflected_inertia / 2.9e-3),
    ]
    # The datasheet scalars weigh more than one overload point; size and inertia less.
    out = [w * r for w, r in zip([3, 3, 3, 3, 3, 1, 1, 1], out, strict=True)]
    for tau, seconds in OVERLOAD:
        t = D.overload_time(p, tau + p.drag_torque)
        out.append(math.log(min(max(t, 1e-3), 1e5) / seconds))
    return out


def main() -> None:
    x0 = np.log(
        [getattr(D.CYBERGEAR, k) for k in DESIGN_VARS]
        + [getattr(D.DEFAULT_CONSTANTS, k) for k in CONST_VARS]
    )
    lo = x0 - np.log(3.0)
    hi = x0 + np.log(3.0)
    i_stator = len(DESIGN_VARS) + CONST_VARS.index("stator_in_winding_node")
    hi[i_stator] = 0.0  # a fraction: at most 1
    i_sat = len(DESIGN_VARS) + CONST_VARS.index("saturation_coeff")
    lo[i_sat], hi[i_sat] = x0[i_sat] - np.log(100.0), x0[i_sat] + np.log(100.0)
    for name, (low, high) in {
        "voltage_utilisation": (0.85, 0.98),
        "electronics_mass": (0.015, 0.04),
        "housing_thickness": (0.0015, 0.004),
    }.items():
        k = (DESIGN_VARS + CONST_VARS).index(name)
        lo[k], hi[k] = math.log(low), math.log(high)
    x0 = np.clip(x0, lo + 1e-6, hi - 1e-6)
    fit = least_squares(residuals, x0, bounds=(lo, hi), diff_step=1e-3)

    # Then minimise the worst datasheet error (minimax; size and inertia count at 1/3).
    def worst(x: np.ndarray) -> float:
        r = np.abs(residuals(np.clip(x, lo, hi)))
        r[:5] /= 3.0  # undo the least-squares weights: every datasheet figure counts alike
        return float(max(np.max(r[:5]), np.max(r[8:]), np.max(r[5:8]) / 3.0))

    polish = minimize(
        worst, fit.x, method="Nelder-Mead", options={"maxiter": 3000, "xatol": 1e-5, "fatol": 1e-6}
    )
    fit.x = np.clip(polish.x, lo, hi)
    design, consts = unpack(fit.x)
    print("design:", {k: float(f"{getattr(design, k):.4g}") for k in DESIGN_VARS})
    print("constants:", {k: float(f"{getattr(consts, k):.4g}") for k in CONST_VARS})
    r = np.array(residuals(fit.x))
    r[:5] /= 3.0
    print("model / datasheet (kt, R, mass, peak, no-load; OD, length, inertia; overload):")
    print(np.round(np.exp(r), 3).tolist())


if __name__ == "__main__":
    main()
