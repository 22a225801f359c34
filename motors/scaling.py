"""Conventional sizing rules: the "first draft" an engineer would size before any optimisation.

Xiaomi reports that simulation took 20% of the mass out of the CyberGear's first draft. Our
first draft is sized from a datasheet-style spec (peak and continuous torque, no-load speed)
with textbook rules of thumb, each stated in ``DraftRules``:

1. gear ratio fixed at the product's 7.75 (speed and torque spec);
2. rotor volume from the air-gap shear stress at the continuous torque,
   T_motor = sigma * pi D^2 L / 2, with sigma = 10 kPa (the conservative end of the 7-25 kPa
   that naturally cooled servo motors reach);
3. stack aspect L / D = 0.2 (pancake, as quasi-direct-drive actuators are built);
4. magnet thickness = 5 air gaps;
5. back iron sized for 1.2 T in the yoke at no load (well below the 1.8 T knee);
6. turns such that the no-load speed at the bus voltage is 5% above the spec (battery sag);
7. slot depth such that the continuous current runs at 17.4 A/mm^2 rms in the copper: the
   current density of the calibrated CyberGear at its own 4 N m continuous rating
   (``design.loadings``), so the draft is sized for the continuous torque it is asked for and
   not, as with a textbook 4-8 A/mm^2 for a totally enclosed motor in this thermal model, for
   about twice it;
8. slot fill 55% (the CyberGear's technology) and the same 23 A driver;
9. the CyberGear's 1.5 mm aluminium housing wall.

The rules are the CyberGear's technology applied to the spec, so the draft and the optimised
design differ only by what the optimiser chose.

Scaling laws at constant current density and radial build (FACTS.md): torque ~ r^2 l, mass and
copper loss ~ r l, rotor inertia ~ r^3 l; ``scaled`` applies them to a design.
"""

from __future__ import annotations

import dataclasses
import math

from irondog.config import check
from irondog.motors import design as md


@dataclasses.dataclass(frozen=True)
class DraftRules:
    """The rules of thumb of a first draft (see the module docstring)."""

    gear_ratio: float = 7.75
    shear_stress: float = 10e3  # Pa at the continuous torque
    aspect: float = 0.2  # stack length / air-gap diameter
    magnet_gaps: float = 5.0  # magnet thickness in air gaps
    yoke_flux_density: float = 1.2  # T at no load
    speed_headroom: float = 1.05  # no-load speed / spec
    current_density: float = 17.4e6  # A/m^2 rms at the continuous current (the CyberGear's)
    slot_fill: float = 0.55
    housing_thickness: float = 0.0015  # m, the CyberGear's wall
    peak_current: float = 23.0  # A, the driver

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            check(getattr(self, f.name) > 0, f.name, f"must be > 0, got {getattr(self, f.name)}")
        check(self.slot_fill <= 1, "slot_fill", "must be <= 1")
        check(self.speed_headroom >= 1, "speed_headroom", "must be >= 1")


def first_draft(
    continuous_torque: float,
    no_load_speed: float,
    rules: DraftRules | None = None,
    constants: md.DesignConstants = md.DEFAULT_CONSTANTS,
) -> md.MotorDesign:
    """A design sized by ``rules`` for continuous output torque (N m) and no-load speed (rad/s)."""
    check(continuous_torque > 0, "continuous_torque", "must be > 0")
    check(no_load_speed > 0, "no_load_speed", "must be > 0")
    rules = rules if rules is not None else DraftRules()
    c = constants
    motor_torque = continuous_torque / (rules.gear_ratio * c.gear_efficiency)  # N m
    d2l = 2 * motor_torque / (math.pi * rules.shear_stress)  # m^3
    diameter = (d2l / rules.aspect) ** (1 / 3)  # m
    length = rules.aspect * diameter  # m
    magnet = rules.magnet_gaps * c.airgap
    # Yoke flux density: half a pole's flux through the back iron (as in design.evaluate).
    g_eff = c.airgap + magnet / c.magnet_recoil_permeability
    b_gap = c.remanence * magnet / g_eff
    b_fund = 4 / math.pi * b_gap * math.sin(c.magnet_arc * math.pi / 2)

    def back_iron_for(diameter: float) -> float:
        phi_per_length = 2 / math.pi * b_fund * math.pi * diameter / (2 * c.pole_pairs)
        return 0.5 * phi_per_length / rules.yoke_flux_density

    back_iron = back_iron_for(diameter)
    design = md.MotorDesign(
        airgap_diameter=diameter,
        stack_length=length,
        magnet_thickness=magnet,
        back_iron_thickness=back_iron,
        slot_depth=0.006,
        turns=50.0,
        slot_fill=rules.slot_fill,
        gear_ratio=rules.gear_ratio,
        housing_thickness=rules.housing_thickness,
        peak_current=rules.peak_current,
    )
    target_speed = rules.speed_headroom * no_load_speed
    for _ in range(4):  # turns and slot depth depend on each other weakly
        lo, hi = 5.0, 2000.0
        for _ in range(60):  # more turns, lower no-load speed
            mid = math.sqrt(lo * hi)
            if md.evaluate(design.replace(turns=mid), c).no_load_speed > target_speed:
                lo = mid
            else:
                hi = mid
        design = design.replace(turns=lo)
        perf = md.evaluate(design, c)
        current_rms = continuous_torque / perf.kt  # A rms per phase
        copper_area = 6 * design.turns * current_rms / rules.current_density  # m^2, all slots
        tooth_fraction = min(max(b_gap / c.tooth_flux_density, 0.2), 0.8)
        slot_area = copper_area / rules.slot_fill  # m^2 (liner ignored in the rule)
        r = 0.5 * design.airgap_diameter
        depth = math.sqrt(r**2 + slot_area / ((1 - tooth_fraction) * math.pi)) - r
        design = design.replace(slot_depth=depth + c.insulation_build)
    return design


def scaled(design: md.MotorDesign, radius_scale: float, length_scale: float) -> md.MotorDesign:
    """``design`` with its air-gap diameter and stack scaled (radial build and turns kept)."""
    check(radius_scale > 0, "radius_scale", "must be > 0")
    check(length_scale > 0, "length_scale", "must be > 0")
    return design.replace(
        airgap_diameter=design.airgap_diameter * radius_scale,
        stack_length=design.stack_length * length_scale,
    )
