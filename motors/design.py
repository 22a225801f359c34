"""Parametric model of a joint actuator: surface-magnet PMSM plus a single-stage planetary gear.

``evaluate(design)`` turns the design variables (``MotorDesign``) into the quantities a robot
and a design optimiser need (``MotorPerformance``): mass breakdown, torque and back-EMF
constants, phase resistance and inductance, reflected rotor inertia, a two-node thermal
model, current- and saturation-limited peak torque, no-load speed at the bus voltage, the
torque-speed envelope and an efficiency map. ``to_params`` gives the ``CyberGearParams`` that
the simulation's motor law uses, so any design can be simulated.

Layout (inner rotor): shaft hub, rotor back iron, surface magnets, air gap, stator teeth and
slots (fractional-slot concentrated winding), stator yoke, aluminium housing; the planetary
gear is stacked axially inside the same housing. Currents are amplitudes of the phase current
(the FOC ``i_q`` convention the CyberGear manual's 6.5 A / 23 A use); ``kt`` is per A rms.

Physics is first-order machine-design arithmetic (magnetic loading from the magnet and the
gap, flux per pole, winding resistance from slot area and turn length). Where the detail is
beyond such a model, a coefficient in ``DesignConstants`` is *fitted* so that the CyberGear
design point (``CYBERGEAR``) reproduces the FACTS.md datasheet; each fitted one says so.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import numpy as np

from irondog.config import check
from irondog.motors.cybergear import COPPER_ALPHA, RPM, CyberGearParams

MU0 = 4e-7 * math.pi  # H/m


@dataclasses.dataclass(frozen=True)
class MotorDesign:
    """Design variables of one actuator (SI units; defaults are the CyberGear design point)."""

    airgap_diameter: float = 0.0587  # m, stator bore
    stack_length: float = 0.00847  # m, laminated stack
    magnet_thickness: float = 0.0025  # m, radial
    back_iron_thickness: float = 0.003  # m, stator yoke and rotor back iron (each)
    slot_depth: float = 0.00443  # m, radial tooth length
    turns: float = 91.5  # series turns per phase
    slot_fill: float = 0.55  # copper area / slot area (CyberGear claim: 55%)
    gear_ratio: float = 7.75
    housing_thickness: float = 0.0015  # m, aluminium shell and end plates
    peak_current: float = 23.0  # A (amplitude), the driver's current limit
    bus_voltage: float = 24.0  # V

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            check(
                isinstance(value, int | float) and math.isfinite(value),
                f.name,
                f"must be a finite number, got {value!r}",
            )
            check(value > 0, f.name, f"must be > 0, got {value}")
        check(self.slot_fill <= 1.0, "slot_fill", f"must be <= 1, got {self.slot_fill}")
        check(
            self.gear_ratio >= 3.0, "gear_ratio", f"must be >= 3 (sun size), got {self.gear_ratio}"
        )
        check(
            self.gear_ratio <= 15.0,
            "gear_ratio",
            f"single stage must be <= 15, got {self.gear_ratio}",
        )
        check(self.turns >= 1.0, "turns", f"must be >= 1, got {self.turns}")
        check(
            self.magnet_thickness + self.back_iron_thickness < 0.45 * self.airgap_diameter,
            "magnet_thickness",
            "magnet plus back iron must fit inside the rotor (< 0.45 airgap_diameter)",
        )

    def replace(self, **changes: Any) -> MotorDesign:
        """A copy with ``changes`` applied (checked again)."""
        return dataclasses.replace(self, **changes)


@dataclasses.dataclass(frozen=True)
class DesignConstants:
    """Materials, topology and fitted coefficients shared by every design."""

    pole_pairs: int = 14  # FACTS.md: 28 poles
    slots: int = 24  # 24 slots / 28 poles, concentrated winding
    winding_factor: float = 0.933  # fundamental winding factor of 24s/28p
    airgap: float = 0.0005  # m, mechanical
    remanence: float = 1.25  # T, sintered NdFeB (N42 class)
    magnet_recoil_permeability: float = 1.05
    magnet_arc: float = 0.8  # pole-arc fraction
    tooth_flux_density: float = 1.65  # T, teeth are sized to carry the gap flux at this
    iron_saturation: float = 1.8  # T, knee of the lamination's B-H curve
    copper_resistivity: float = 1.68e-8  # ohm m at 20 C (FACTS.md)
    density_copper: float = 8960.0  # kg/m^3
    density_iron: float = 7650.0  # laminations
    density_magnet: float = 7500.0
    density_aluminium: float = 2700.0
    density_steel: float = 7850.0  # gears
    heat_copper: float = 385.0  # J/(kg K)
    heat_iron: float = 460.0
    heat_magnet: float = 440.0
    heat_aluminium: float = 900.0
    heat_steel: float = 460.0
    heat_other: float = 800.0  # electronics, bearings, fasteners
    gear_efficiency: float = 0.96  # single-stage planetary, per mesh pair
    planets: int = 3
    # Fitted: gear surface-durability factor (Lewis/K-factor style) at peak torque, MPa, such
    # that the CyberGear's 12 N m needs a gear face of about 8 mm.
    gear_k_factor: float = 4.0e6  # Pa
    min_gear_face: float = 0.003  # m
    ring_rim: float = 0.002  # m, ring gear rim below the tooth root
    carrier_thickness: float = 0.003  # m, aluminium
    # Fitted: end-turn length per coil side, as a multiple of the tooth pitch.
    end_turn_factor: float = 1.2
    insulation_build: float = 0.0005  # m, slot liner and wedge eat into the slot depth
    fixed_axial: float = 0.0085  # m, bearings, encoder and driver board
    electronics_mass: float = 0.0154  # kg, driver board, encoder, connectors
    bearing_mass_per_diameter: float = 0.35  # kg/m, bearings scale with the bore
    hub_fill: float = 0.25  # fraction of the rotor hub disc that is material (aluminium)
    # Fitted: phase inductance as a multiple of the magnetising inductance (slot and end
    # leakage of a concentrated winding), so that the CyberGear has 262 uH per phase, the middle
    # of the datasheet's 187-339 uH (read as per phase: then the envelope's corner falls near
    # the datasheet's 110 rpm).
    leakage_factor: float = 68.0
    # Fitted: saturation under load, tau = kt i / (1 + a i^2), a from the armature reaction.
    saturation_coeff: float = 56.9
    voltage_utilisation: float = 0.978  # fitted: peak line voltage / bus (dead time, drops)
    drag_fraction: float = 0.0083  # fitted: no-load drag torque / peak torque (0.5 A no-load)
    iron_loss_coeff: float = 0.02  # W/(kg Hz T^2) hysteresis, Steinmetz-style
    eddy_loss_coeff: float = 4e-5  # W/(kg Hz^2 T^2)
    # Two-node thermal model (winding node: copper + stator iron; housing node: the rest plus
    # the joint structure it is bolted to). Fitted to the FACTS.md overload table.
    stator_in_winding_node: float = 1.0  # fraction of stator iron lumped with the copper
    winding_to_housing_htc: float = 493.0  # W/(m^2 K) across the slot liner (slot walls)
    housing_to_ambient_htc: float = 14.9  # W/(m^2 K), convection + radiation, outer skin
    mount_heat_capacity: float = 309.0  # J/K of the joint structure the motor is bolted to
    ambient_temp: float = 25.0  # C
    winding_temp_limit: float = 120.0  # C (class B; the overload table's limit)
    reference_temp: float = 25.0  # C, resistance is quoted here

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in ("ambient_temp", "reference_temp"):
                continue
            check(value > 0, f.name, f"must be > 0, got {value}")
        check(self.gear_efficiency <= 1.0, "gear_efficiency", "must be <= 1")
        check(self.magnet_arc <= 1.0, "magnet_arc", "must be <= 1")


DEFAULT_CONSTANTS = DesignConstants()
CYBERGEAR = MotorDesign()  # the CyberGear design point (calibrated against FACTS.md)


@dataclasses.dataclass(frozen=True)
class MotorPerformance:
    """Derived quantities of one design (SI units, output side unless named ``motor_``)."""

    design: MotorDesign
    constants: DesignConstants
    mass_breakdown: dict[str, float]  # kg by part
    outer_diameter: float  # m
    length: float  # m
    airgap_flux_density: float  # T
    iron_flux_density: float  # T, largest of teeth, yoke, rotor back iron at no load
    flux_linkage: float  # Wb, phase flux-linkage amplitude (motor side)
    kt: float  # N m per A rms at the output, linear region
    kt_amplitude: float  # N m per A amplitude at the output, linear region
    ke_ll_rms_per_rpm: float  # V rms line to line per output rpm
    phase_resistance: float  # ohm at reference_temp
    phase_inductance: float  # H
    saturation: float  # a in tau = kt_amplitude i / (1 + a i^2), 1/A^2
    rotor_inertia: float  # kg m^2, motor side
    reflected_inertia: float  # kg m^2 at the output
    winding_capacity: float  # J/K
    housing_capacity: float  # J/K
    winding_to_housing: float  # K/W
    housing_to_ambient: float  # K/W
    peak_torque_current: float  # N m at the driver current limit
    peak_torque_saturation: float  # N m, where more current gives no more torque
    drag_torque: float  # N m at the output
    gear_face: float  # m
    # Added for the physical limits (see ``physical_limits``).
    magnet_flux_fraction: float = 1.0  # pole flux after magnet leakage, relative to CyberGear's
    pole_pitch: float = 0.0  # m, at the bore
    wire_area: float = 0.0  # m^2, copper cross-section of one conductor
    sun_diameter: float = 0.0  # m, pitch diameter
    sun_tangential_force: float = 0.0  # N per planet mesh at the gear's peak torque
    planet_to_sun: float = 0.0  # u = d_planet / d_sun

    @property
    def mass(self) -> float:
        """Total mass, kg."""
        return float(sum(self.mass_breakdown.values()))

    @property
    def peak_torque(self) -> float:
        """Peak output torque, N m (current- or saturation-limited, less drag)."""
        return min(self.peak_torque_current, self.peak_torque_saturation) - self.drag_torque

    @property
    def resistance_line(self) -> float:
        """Line-to-line resistance at the reference temperature, ohm (star winding)."""
        return 2.0 * self.phase_resistance

    @property
    def no_load_speed(self) -> float:
        """No-load output speed at the bus voltage, rad/s (drag current included)."""
        return float(no_load_speed(self))

    @property
    def rated_torque(self) -> float:
        """Continuous output torque at which the winding settles at its limit, N m."""
        return continuous_torque(self)

    @property
    def peak_torque_density(self) -> float:
        """Peak torque per mass, N m/kg."""
        return self.peak_torque / self.mass


def _soft_min(x: float, cap: float, sharpness: float = 6.0) -> float:
    """Smooth min(x, cap) for x, cap > 0."""
    return x / (1.0 + (x / cap) ** sharpness) ** (1.0 / sharpness)


def magnet_leakage(
    airgap_diameter: float, magnet_thickness: float, constants: DesignConstants
) -> float:
    """Magnet leakage factor f >= 1 of a surface-magnet rotor: gap flux = magnet flux / f.

    The flux-tube estimate of Hanselman ("Brushless Permanent Magnet Motor Design", 2nd ed.,
    the magnetic-circuit chapter): leakage from each magnet edge to its neighbour across the
    inter-magnet gap, as a permeance in parallel with the air gap,
    f = 1 + 4 l_m / (pi mu_r alpha_m tau_p) ln(1 + pi g / ((1 - alpha_m) tau_p)).
    It grows quickly once the pole pitch tau_p nears a few magnet thicknesses.
    """
    c = constants
    tau_p = math.pi * airgap_diameter / (2 * c.pole_pairs)  # m
    arc = c.magnet_arc
    k = 4.0 * magnet_thickness / (math.pi * c.magnet_recoil_permeability * arc * tau_p)
    return 1.0 + k * math.log(1.0 + math.pi * c.airgap / ((1.0 - arc) * tau_p))


def evaluate(
    design: MotorDesign, constants: DesignConstants = DEFAULT_CONSTANTS
) -> MotorPerformance:
    """All derived quantities of ``design``."""
    c = constants
    d = design
    p = c.pole_pairs
    r_bore = 0.5 * d.airgap_diameter  # m
    # --- magnetic loading -------------------------------------------------------------
    g_eff = c.airgap + d.magnet_thickness / c.magnet_recoil_permeability  # m
    b_gap = c.remanence * d.magnet_thickness / g_eff  # T, open-circuit gap flux density
    tau_pole = math.pi * d.airgap_diameter / (2 * p)  # m, pole pitch
    b_fund = 4.0 / math.pi * b_gap * math.sin(c.magnet_arc * math.pi / 2)  # T
    phi_pole = 2.0 / math.pi * b_fund * tau_pole * d.stack_length  # Wb
    # Magnet-to-magnet leakage grows as the pole pitch shrinks; the calibration above holds at
    # the CyberGear's pole pitch, so only the change from its leakage enters.
    flux_fraction = magnet_leakage(CYBERGEAR.airgap_diameter, CYBERGEAR.magnet_thickness, c)
    flux_fraction /= magnet_leakage(d.airgap_diameter, d.magnet_thickness, c)
    phi_pole *= flux_fraction
    # Teeth are sized for the gap flux; the yoke and rotor back iron carry half a pole's flux.
    tooth_fraction = min(max(b_gap / c.tooth_flux_density, 0.2), 0.8)
    b_yoke = 0.5 * phi_pole / (d.back_iron_thickness * d.stack_length)  # T
    b_iron = max(b_yoke, c.tooth_flux_density)
    # A thin back iron saturates and chokes the flux (smooth cap at the saturation knee).
    choke = _soft_min(b_yoke, c.iron_saturation) / b_yoke
    phi_pole *= choke
    psi = c.winding_factor * d.turns * phi_pole  # Wb, phase flux-linkage amplitude
    kt_motor_amp = 1.5 * p * psi  # N m per A amplitude, motor side
    kt_amp = kt_motor_amp * d.gear_ratio * c.gear_efficiency
    kt_rms = kt_amp * math.sqrt(2.0)
    # Back-EMF, line to line rms per output rpm: sqrt(3) * psi * p * w_motor / sqrt(2).
    ke_ll = math.sqrt(1.5) * psi * p * d.gear_ratio * RPM
    # --- slots and winding ------------------------------------------------------------
    r_slot_top = r_bore + d.slot_depth  # m
    slot_area_total = (1 - tooth_fraction) * math.pi * (r_slot_top**2 - r_bore**2)  # m^2
    usable = max(1.0 - c.insulation_build / d.slot_depth, 0.05)
    copper_area_total = d.slot_fill * slot_area_total * usable  # m^2
    conductors = 3 * d.turns * 2  # two coil sides per turn, three phases
    wire_area = copper_area_total / conductors  # m^2
    tooth_pitch = 2 * math.pi * (r_bore + 0.5 * d.slot_depth) / c.slots  # m
    turn_length = 2 * d.stack_length + 2 * c.end_turn_factor * tooth_pitch  # m
    rho = c.copper_resistivity * (1 + COPPER_ALPHA * (c.reference_temp - 20.0))
    r_phase = rho * d.turns * turn_length / wire_area  # ohm
    end_turn_axial = 0.5 * tooth_pitch  # m, per side
    m_copper = c.density_copper * copper_area_total * turn_length / 2  # kg
    # Inductance: magnetising inductance of the equivalent winding times a leakage factor.
    l_mag = 3 / math.pi * MU0 * (c.winding_factor * d.turns / p) ** 2 * d.stack_length * r_bore
    l_mag /= g_eff
    l_phase = c.leakage_factor * l_mag  # H
    # Saturation under load: armature-reaction flux density per ampere relative to the
    # magnet's; iron already near its knee saturates sooner.
    b_arm_per_amp = MU0 * 3 / math.pi * c.winding_factor * d.turns / (p * g_eff)  # T/A
    loading = b_iron / c.iron_saturation
    sat_a = c.saturation_coeff * (b_arm_per_amp / b_gap) ** 2 * loading**2  # 1/A^2
    # --- masses -----------------------------------------------------------------------
    r_stator_out = r_slot_top + d.back_iron_thickness
    r_mag_out = r_bore - c.airgap
    r_mag_in = r_mag_out - d.magnet_thickness
    r_rotor_in = r_mag_in - d.back_iron_thickness
    ring = lambda ro, ri: math.pi * (ro**2 - ri**2)  # noqa: E731 (annulus area, m^2)
    m_teeth = c.density_iron * tooth_fraction * ring(r_slot_top, r_bore) * d.stack_length
    m_yoke = c.density_iron * ring(r_stator_out, r_slot_top) * d.stack_length
    m_magnet = c.density_magnet * c.magnet_arc * ring(r_mag_out, r_mag_in) * d.stack_length
    m_rotor_iron = c.density_iron * ring(r_mag_in, r_rotor_in) * d.stack_length
    m_hub = c.density_aluminium * c.hub_fill * math.pi * r_rotor_in**2 * d.stack_length
    # Planetary gear inside the housing, ring pitch circle just inside the stator's outside.
    d_ring = 2 * r_stator_out - 2 * c.ring_rim  # m, ring pitch diameter
    d_sun = d_ring / (d.gear_ratio - 1)  # m
    d_planet = 0.5 * (d_ring - d_sun)  # m
    # Peak torque the gear must carry: the motor's capability at the current limit.
    tau_em_peak = kt_amp * d.peak_current / (1 + sat_a * d.peak_current**2)  # N m, output
    i_sat = 1.0 / math.sqrt(sat_a)  # A, where torque peaks
    tau_sat = kt_amp * i_sat / 2.0  # N m, saturation-limited
    tau_gear = min(tau_em_peak, tau_sat)
    # Sun-planet contact: tangential load per planet vs face width and the K factor.
    f_tangential = 2 * tau_gear / (d.gear_ratio * c.planets * d_sun)  # N
    u = d_planet / d_sun
    face = max(f_tangential * (u + 1) / (u * c.gear_k_factor * d_sun), c.min_gear_face)  # m
    m_gear_teeth = (
        c.density_steel
        * face
        * (
            math.pi / 4 * (d_sun**2 + 0.7 * c.planets * d_planet**2)
            + ring(0.5 * d_ring + c.ring_rim, 0.5 * d_ring)
        )
    )
    m_carrier = c.density_aluminium * c.carrier_thickness * math.pi / 4 * (d_ring - d_planet) ** 2
    m_gear = m_gear_teeth + m_carrier
    # Housing: aluminium shell around stator and gear, two end plates.
    length = (
        d.stack_length
        + 2 * end_turn_axial
        + face
        + c.carrier_thickness
        + c.fixed_axial
        + 2 * d.housing_thickness
    )  # m
    outer_d = 2 * (r_stator_out + d.housing_thickness)  # m
    m_housing = c.density_aluminium * (
        ring(0.5 * outer_d, r_stator_out) * (length - 2 * d.housing_thickness)
        + 2 * math.pi * (0.5 * outer_d) ** 2 * d.housing_thickness * 0.6  # plates, 40% pockets
    )
    m_bearings = c.bearing_mass_per_diameter * d.airgap_diameter
    masses = {
        "copper": m_copper,
        "stator_iron": m_teeth + m_yoke,
        "magnets": m_magnet,
        "rotor_iron": m_rotor_iron + m_hub,
        "gear": m_gear,
        "housing": m_housing,
        "bearings": m_bearings,
        "electronics": c.electronics_mass,
    }
    # --- inertia ----------------------------------------------------------------------
    j_ring = lambda m, ro, ri: 0.5 * m * (ro**2 + ri**2)  # noqa: E731
    j_rotor = (
        j_ring(m_magnet, r_mag_out, r_mag_in)
        + j_ring(m_rotor_iron, r_mag_in, r_rotor_in)
        + 0.5 * m_hub * r_rotor_in**2
        + 0.5 * c.density_steel * face * math.pi / 4 * d_sun**2 * (0.5 * d_sun) ** 2
    )  # kg m^2, motor side
    # --- thermal ----------------------------------------------------------------------
    m_stator = m_teeth + m_yoke
    c_winding = m_copper * c.heat_copper + c.stator_in_winding_node * m_stator * c.heat_iron
    c_housing = (
        (1 - c.stator_in_winding_node) * m_stator * c.heat_iron
        + m_magnet * c.heat_magnet
        + m_rotor_iron * c.heat_iron
        + m_hub * c.heat_aluminium
        + m_gear_teeth * c.heat_steel
        + m_carrier * c.heat_aluminium
        + m_housing * c.heat_aluminium
        + (m_bearings + c.electronics_mass) * c.heat_other
        + c.mount_heat_capacity
    )
    slot_wall_area = c.slots * 2 * d.slot_depth * d.stack_length  # m^2
    r_wh = 1.0 / (c.winding_to_housing_htc * slot_wall_area)  # K/W
    skin = math.pi * outer_d * length + 2 * math.pi * (0.5 * outer_d) ** 2  # m^2
    r_ha = 1.0 / (c.housing_to_ambient_htc * skin)  # K/W
    drag = c.drag_fraction * tau_gear  # N m
    return MotorPerformance(
        design=d,
        constants=c,
        mass_breakdown={k: float(v) for k, v in masses.items()},
        outer_diameter=outer_d,
        length=length,
        airgap_flux_density=b_gap * choke * flux_fraction,
        iron_flux_density=max(b_yoke, c.tooth_flux_density),
        flux_linkage=psi,
        kt=kt_rms,
        kt_amplitude=kt_amp,
        ke_ll_rms_per_rpm=ke_ll,
        phase_resistance=r_phase,
        phase_inductance=l_phase,
        saturation=sat_a,
        rotor_inertia=j_rotor,
        reflected_inertia=j_rotor * d.gear_ratio**2,
        winding_capacity=c_winding,
        housing_capacity=c_housing,
        winding_to_housing=r_wh,
        housing_to_ambient=r_ha,
        peak_torque_current=tau_em_peak,
        peak_torque_saturation=tau_sat,
        drag_torque=drag,
        gear_face=face,
        magnet_flux_fraction=flux_fraction,
        pole_pitch=tau_pole,
        wire_area=wire_area,
        sun_diameter=d_sun,
        sun_tangential_force=f_tangential,
        planet_to_sun=u,
    )


# ------------------------------------------------------------------------------------------
# Electrical behaviour: torque-current, voltage limit, envelope, efficiency.


def torque_from_current(perf: MotorPerformance, current: Any) -> Any:
    """Electromagnetic output torque (N m, before drag) at current amplitude ``current`` (A)."""
    i = np.asarray(current, dtype=float)
    return perf.kt_amplitude * i / (1.0 + perf.saturation * i**2)


def current_from_torque(perf: MotorPerformance, torque: Any) -> Any:
    """Current amplitude (A) that gives electromagnetic output torque ``|torque|`` (N m).

    Torques past the saturation limit return the current at the limit (the motor cannot give
    more); callers check feasibility separately.
    """
    tau = np.abs(np.asarray(torque, dtype=float))
    a, k = perf.saturation, perf.kt_amplitude
    tau_c = np.minimum(tau, perf.peak_torque_saturation)
    # Smaller root of a tau i^2 - k i + tau = 0, written to avoid 0/0 at tau = 0.
    disc = np.maximum(k**2 - 4 * a * tau_c**2, 0.0)
    return 2 * tau_c / (k + np.sqrt(disc))


def _resistance(perf: MotorPerformance, winding_temp: Any) -> Any:
    return perf.phase_resistance * (
        1 + COPPER_ALPHA * (np.asarray(winding_temp, float) - perf.constants.reference_temp)
    )


def max_current_at_speed(perf: MotorPerformance, speed: Any, winding_temp: Any = None) -> Any:
    """Largest q-axis current amplitude (A) the bus voltage allows at output ``speed`` (rad/s).

    Phase voltage amplitude limit V: (R i + w_e psi)^2 + (w_e L i)^2 <= V^2, motoring, no field
    weakening; clipped to the driver's current limit.
    """
    c = perf.constants
    temp = c.reference_temp if winding_temp is None else winding_temp
    w = np.abs(np.asarray(speed, dtype=float))
    w_e = w * perf.design.gear_ratio * c.pole_pairs  # rad/s electrical
    v_max = c.voltage_utilisation * perf.design.bus_voltage / math.sqrt(3.0)  # V, phase amplitude
    r = _resistance(perf, temp)
    e = w_e * perf.flux_linkage
    qa = r**2 + (w_e * perf.phase_inductance) ** 2
    qb = 2 * r * e
    qc = e**2 - v_max**2
    i = (-qb + np.sqrt(np.maximum(qb**2 - 4 * qa * qc, 0.0))) / (2 * qa)
    return np.clip(i, 0.0, perf.design.peak_current)


def torque_speed_envelope(perf: MotorPerformance, speed: Any, winding_temp: Any = None) -> Any:
    """Largest output torque (N m) at output ``speed`` (rad/s), motoring, drag subtracted."""
    i = max_current_at_speed(perf, speed, winding_temp)
    i = np.minimum(i, 1.0 / math.sqrt(perf.saturation))  # past the knee more current is useless
    return np.maximum(torque_from_current(perf, i) - perf.drag_torque, 0.0)


def no_load_speed(perf: MotorPerformance) -> float:
    """Output speed where the envelope reaches zero torque, rad/s (bisection)."""
    lo, hi = 0.0, 1.0
    while torque_speed_envelope(perf, hi) > 0 and hi < 1e4:
        hi *= 2
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if torque_speed_envelope(perf, mid) > 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def losses(
    perf: MotorPerformance, torque: Any, speed: Any, winding_temp: Any = None
) -> dict[str, Any]:
    """Loss powers (W) at output ``torque`` (N m) and ``speed`` (rad/s): copper, iron, gear."""
    c = perf.constants
    temp = c.reference_temp if winding_temp is None else winding_temp
    tau = np.abs(np.asarray(torque, float))
    w = np.abs(np.asarray(speed, float))
    i = current_from_torque(perf, tau + perf.drag_torque)
    copper = 1.5 * _resistance(perf, temp) * i**2
    f_e = w * perf.design.gear_ratio * c.pole_pairs / (2 * math.pi)  # Hz
    iron_mass = perf.mass_breakdown["stator_iron"]
    b2 = perf.iron_flux_density**2
    iron = iron_mass * b2 * (c.iron_loss_coeff * f_e + c.eddy_loss_coeff * f_e**2)
    gear = (perf.drag_torque + (1 / c.gear_efficiency - 1) * tau) * w
    return {"copper": copper, "iron": iron, "gear": gear}


def efficiency_map(
    perf: MotorPerformance, speed: Any, torque: Any, winding_temp: Any = None
) -> Any:
    """Motoring efficiency on the grid ``speed`` (ns,) x ``torque`` (nt,); NaN outside envelope."""
    w = np.asarray(speed, float)[:, None]  # (ns, 1) rad/s
    tau = np.asarray(torque, float)[None, :]  # (1, nt) N m
    loss = losses(perf, tau, w, winding_temp)
    out = tau * w
    eff = out / (out + loss["copper"] + loss["iron"] + loss["gear"] + 1e-12)
    inside = tau <= torque_speed_envelope(perf, w, winding_temp)
    return np.where(inside & (out > 0), eff, np.nan)


# ------------------------------------------------------------------------------------------
# Thermal behaviour.


def steady_winding_temp(perf: MotorPerformance, copper_loss_ref: float) -> float:
    """Steady winding temperature (C) for a copper loss ``copper_loss_ref`` (W at reference T).

    Copper loss grows with temperature, P = P0 (1 + alpha (T - T0)); inf means thermal runaway.
    """
    c = perf.constants
    r_total = perf.winding_to_housing + perf.housing_to_ambient
    # T - Ta = r (P0 (1 + alpha (T - T0))) -> T = (Ta + r P0 (1 + alpha (Ta - T0)) ... solve.
    gain = r_total * copper_loss_ref * COPPER_ALPHA
    if gain >= 1.0:
        return math.inf
    rise = r_total * copper_loss_ref * (1 + COPPER_ALPHA * (c.ambient_temp - c.reference_temp))
    return c.ambient_temp + rise / (1 - gain)


def continuous_torque(perf: MotorPerformance) -> float:
    """Stall torque (N m, output) that settles the winding exactly at its limit."""
    c = perf.constants
    r_total = perf.winding_to_housing + perf.housing_to_ambient
    p_allowed = (c.winding_temp_limit - c.ambient_temp) / r_total  # W at the hot winding
    r_hot = float(_resistance(perf, c.winding_temp_limit))
    i = math.sqrt(p_allowed / (1.5 * r_hot))
    return float(torque_from_current(perf, min(i, 1 / math.sqrt(perf.saturation))))


def thermal_matrices(perf: MotorPerformance) -> tuple[np.ndarray, np.ndarray]:
    """(A, B) of the linear two-node model d[Tw, Th]/dt = A [Tw, Th] + B [P, Ta]."""
    cw, ch = perf.winding_capacity, perf.housing_capacity
    gw, ga = 1 / perf.winding_to_housing, 1 / perf.housing_to_ambient
    a = np.array([[-gw / cw, gw / cw], [gw / ch, -(gw + ga) / ch]])
    b = np.array([[1 / cw, 0.0], [0.0, ga / ch]])
    return a, b


def _thermal_solution(
    perf: MotorPerformance, copper_loss_ref: float, start_temp: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Modal form of the two-node response to a constant loss (W at the reference temperature).

    The loss grows with the winding temperature, so the system x' = M x + v stays linear.
    Returns (steady state (2,), eigenvalues (2,), modal weights (2, 2)) such that
    x(t) = steady + weights @ exp(eigenvalues t).
    """
    c = perf.constants
    a, b = thermal_matrices(perf)
    m = a.copy()
    m[0, 0] += copper_loss_ref * COPPER_ALPHA / perf.winding_capacity
    p_const = copper_loss_ref * (1 - COPPER_ALPHA * c.reference_temp)
    v = b @ np.array([p_const, c.ambient_temp])
    steady = np.linalg.solve(m, -v)
    eigvals, eigvecs = np.linalg.eig(m)
    coeffs = np.linalg.solve(eigvecs, np.array([start_temp, start_temp]) - steady)
    return steady, eigvals.real, eigvecs.real * coeffs.real[None, :]


def winding_temp_after(
    perf: MotorPerformance, copper_loss_ref: float, seconds: Any, start_temp: float | None = None
) -> Any:
    """Winding temperature (C) after ``seconds`` at a constant copper loss (W at reference T)."""
    start = perf.constants.ambient_temp if start_temp is None else start_temp
    steady, lam, weights = _thermal_solution(perf, copper_loss_ref, start)
    t = np.asarray(seconds, float)[..., None]
    return steady[0] + np.sum(weights[0] * np.exp(lam * t), axis=-1)


def winding_peak_over_segments(
    perf: MotorPerformance,
    segment_loss_ref: Any,
    segment_seconds: Any,
    start_temp: float | None = None,
) -> tuple[float, int]:
    """(hottest winding C, segment it happens in) over segments laid end to end, in order.

    ``segment_loss_ref`` (S, J) W at the reference temperature: each joint's mean copper loss
    in each segment; ``segment_seconds`` (S,) their lengths. Each segment is the exact solution
    of the two-node model at a constant loss (the loss growing with the winding, as in
    ``winding_temp_after``), winding and housing carried from one segment to the next, from
    ``start_temp`` (default ambient). Within a segment the winding is s + w1 e^(l1 t) +
    w2 e^(l2 t), so its hottest point is at the segment's start, its end, or the one stationary
    point, all computed in closed form. A segment past runaway (the loss outgrowing the
    cooling) still has a finite, fast-growing winding temperature.
    """
    c = perf.constants
    loss = np.atleast_2d(np.asarray(segment_loss_ref, dtype=float))  # (S, J)
    seconds = np.asarray(segment_seconds, dtype=float).reshape(-1)
    if loss.shape[0] != seconds.size:
        raise ValueError(
            f"segment_seconds: {seconds.size} segments, segment_loss_ref has {loss.shape[0]}"
        )
    a, b = thermal_matrices(perf)
    start = c.ambient_temp if start_temp is None else start_temp
    x = np.full((loss.shape[1], 2), float(start))  # (J, [winding, housing]) C
    hottest, where = float(start), 0
    for k in range(loss.shape[0]):
        p0 = loss[k]  # (J,) W
        m00 = a[0, 0] + p0 * COPPER_ALPHA / perf.winding_capacity  # (J,)
        m01, m10, m11 = a[0, 1], a[1, 0], a[1, 1]
        v0 = p0 * (1 - COPPER_ALPHA * c.reference_temp) / perf.winding_capacity
        v1 = b[1, 1] * c.ambient_temp
        det = m00 * m11 - m01 * m10
        tr = m00 + m11
        # det <= 0: the loss outgrows the cooling (runaway, an eigenvalue >= 0); the segment
        # is still finite, the same closed form holds with a growing mode.
        det = np.where(np.abs(det) < 1e-15, 1e-15, det)
        # Steady state (the fixed point, unstable on runaway): M xs = -v.
        xs0 = (-v0 * m11 + v1 * m01) / det
        xs1 = (-m00 * v1 + m10 * v0) / det
        root = np.sqrt(np.maximum(0.25 * tr**2 - det, 0.0))
        l1, l2 = 0.5 * tr + root, 0.5 * tr - root  # real: the network is an RC ladder
        gap = np.maximum(l1 - l2, 1e-12)
        d0, d1 = x[:, 0] - xs0, x[:, 1] - xs1
        # expm(M t) = (e^(l1 t) (M - l2 I) - e^(l2 t) (M - l1 I)) / (l1 - l2)
        w1 = ((m00 - l2) * d0 + m01 * d1) / gap
        w2 = -((m00 - l1) * d0 + m01 * d1) / gap
        h1 = (m10 * d0 + (m11 - l2) * d1) / gap
        h2 = -(m10 * d0 + (m11 - l1) * d1) / gap
        t_end = seconds[k]
        e1, e2 = np.exp(l1 * t_end), np.exp(l2 * t_end)
        end_w = xs0 + w1 * e1 + w2 * e2
        candidates = [end_w]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = -(w2 * l2) / (w1 * l1)
            t_star = np.where(ratio > 0, np.log(np.where(ratio > 0, ratio, 1.0)) / gap, -1.0)
        inside = (t_star > 0) & (t_star < t_end)
        if np.any(inside):
            ts = np.where(inside, t_star, 0.0)
            candidates.append(
                np.where(inside, xs0 + w1 * np.exp(l1 * ts) + w2 * np.exp(l2 * ts), -np.inf)
            )
        peak = float(np.max(candidates))
        if peak > hottest:
            hottest, where = peak, k
        x = np.stack([end_w, xs1 + h1 * e1 + h2 * e2], axis=1)
    return hottest, where


def overload_time(
    perf: MotorPerformance,
    torque: float,
    start_temp: float | None = None,
    horizon: float = 20000.0,
) -> float:
    """Seconds at constant stall ``torque`` (N m) until the winding hits its limit (inf: never)."""
    c = perf.constants
    start = c.ambient_temp if start_temp is None else start_temp
    if torque > perf.peak_torque_saturation:
        return 0.0
    i = float(current_from_torque(perf, torque))
    p0 = 1.5 * perf.phase_resistance * i**2  # W at the reference temperature
    limit = c.winding_temp_limit
    # Bracket on a log grid, then bisect on the exact modal solution.
    grid = np.geomspace(1e-2, horizon, 200)
    temps = winding_temp_after(perf, p0, grid, start)
    above = np.nonzero(temps >= limit)[0]
    if start >= limit:
        return 0.0
    if len(above) == 0:
        return math.inf
    k = above[0]
    lo, hi = (grid[k - 1] if k > 0 else 0.0), grid[k]
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        if winding_temp_after(perf, p0, mid, start) < limit:
            lo = mid
        else:
            hi = mid
    return float(0.5 * (lo + hi))


# ------------------------------------------------------------------------------------------
# Physical limits: loadings beyond which the first-order model (or the hardware) is not
# trusted. ``physical_limits`` gives each one's value and bound.

# Spur-gear rating data (textbook values): a 17-tooth sun, the fewest a 20 deg full-depth
# involute cuts without undercut; its Lewis form factor; the elastic and zone factors of
# ISO 6336 / AGMA 2001 for steel on steel at 20 deg.
SUN_TEETH = 17
LEWIS_FORM_FACTOR = 0.303  # Y for 17 teeth, 20 deg full depth (Lewis table)
ELASTIC_COEFFICIENT = 189.8e3  # Z_E, sqrt(Pa) (189.8 sqrt(MPa)), steel on steel
ZONE_FACTOR = 2.495  # Z_H for 20 deg spur gears


@dataclasses.dataclass(frozen=True)
class DesignLimits:
    """Bounds on electromagnetic and gear loading.

    Peak shear stress and both current densities are bounded at ``cybergear_factor`` times the
    calibrated CyberGear's own (its FACTS.md datasheet point): the saturation and thermal
    coefficients are fitted there, so a design loaded far beyond it is an extrapolation. The
    continuous shear stress is bounded by published servo practice: Hendershot and Miller
    ("Design of Brushless Permanent-Magnet Machines") give a torque per rotor volume
    TRV = 2 x shear stress of 15-50 kN m/m^3 for high-performance servo motors, so at most
    25 kPa (the CyberGear: 11.8 kPa). The sun gear's bounds are the AGMA 2001 allowables of
    carburised and hardened grade 1 steel: contact 1240 MPa (180 ksi), bending 380 MPa (55 ksi).
    """

    cybergear_factor: float = 1.25
    continuous_shear_stress: float = 25e3  # Pa
    sun_contact_stress: float = 1240e6  # Pa
    sun_bending_stress: float = 380e6  # Pa


DEFAULT_LIMITS = DesignLimits()


def loadings(perf: MotorPerformance) -> dict[str, float]:
    """Air-gap shear stress (Pa), current density (A/m^2 rms) and sun-gear stresses (Pa).

    Shear stress sigma = T_motor / (2 pi r^2 L) with r the bore radius and L the stack length
    (the rotor's tangential force per gap area); peak at the peak torque, continuous at the
    rated (continuous) torque. Current density: the rms current of that torque over one
    conductor's copper area. Sun gear at the gear's peak torque, per planet mesh F_t: Lewis
    bending F_t / (b m Y), Hertz contact Z_E Z_H sqrt(F_t (u + 1) / (b d_sun u)).
    """
    d = perf.design
    r = 0.5 * d.airgap_diameter
    to_motor = 1.0 / (d.gear_ratio * perf.constants.gear_efficiency)
    area_moment = 2.0 * math.pi * r**2 * d.stack_length  # m^3
    peak_em = perf.peak_torque + perf.drag_torque  # N m, output, before drag
    cont = perf.rated_torque
    i_peak = float(current_from_torque(perf, peak_em)) / math.sqrt(2.0)  # A rms
    i_cont = float(current_from_torque(perf, cont)) / math.sqrt(2.0)
    module = perf.sun_diameter / SUN_TEETH  # m
    f_t, b, u = perf.sun_tangential_force, perf.gear_face, perf.planet_to_sun
    return {
        "peak_shear_stress": peak_em * to_motor / area_moment,
        "continuous_shear_stress": cont * to_motor / area_moment,
        "peak_current_density": i_peak / perf.wire_area,
        "continuous_current_density": i_cont / perf.wire_area,
        "sun_contact_stress": ELASTIC_COEFFICIENT
        * ZONE_FACTOR
        * math.sqrt(f_t * (u + 1) / (b * perf.sun_diameter * u)),
        "sun_bending_stress": f_t / (b * module * LEWIS_FORM_FACTOR),
    }


@functools.lru_cache(maxsize=8)
def limit_values(
    constants: DesignConstants = DEFAULT_CONSTANTS, limits: DesignLimits = DEFAULT_LIMITS
) -> dict[str, float]:
    """The bound on each of ``loadings`` (same keys and units)."""
    ref = loadings(evaluate(CYBERGEAR, constants))
    out = {k: limits.cybergear_factor * v for k, v in ref.items() if not k.startswith("sun_")}
    out["continuous_shear_stress"] = limits.continuous_shear_stress
    out["sun_contact_stress"] = limits.sun_contact_stress
    out["sun_bending_stress"] = limits.sun_bending_stress
    return out


def physical_limits(
    perf: MotorPerformance, limits: DesignLimits = DEFAULT_LIMITS
) -> dict[str, tuple[float, float]]:
    """Each physical limit's (value, bound); met when value <= bound."""
    bound = limit_values(perf.constants, limits)
    return {k: (v, bound[k]) for k, v in loadings(perf).items()}


def limit_violations(perf: MotorPerformance, limits: DesignLimits = DEFAULT_LIMITS) -> list[str]:
    """One line per violated physical limit, naming it (empty when all are met)."""
    units = {"stress": (1e-3, "kPa"), "density": (1e-6, "A/mm^2")}
    lines = []
    for name, (value, bound) in physical_limits(perf, limits).items():
        if value > bound * (1 + 1e-9):
            scale, unit = units["density" if "density" in name else "stress"]
            if name.startswith("sun_"):
                scale, unit = 1e-6, "MPa"
            lines.append(f"{name} {value * scale:.4g} {unit} exceeds {bound * scale:.4g} {unit}")
    return lines


# ------------------------------------------------------------------------------------------
# To the simulation.


def to_params(perf: MotorPerformance | MotorDesign) -> CyberGearParams:
    """``CyberGearParams`` for the simulation's motor law, fitted to this design's curves.

    The law's voltage-limited line kt (V - ke w) / R is fitted through the envelope's corner
    (where it leaves the peak torque) and its point at 95% of the no-load speed.
    """
    if isinstance(perf, MotorDesign):
        perf = evaluate(perf)
    c = perf.constants
    peak = perf.peak_torque
    w_nl = perf.no_load_speed
    # Corner: the highest speed that still gives the peak torque (bisection).
    lo, hi = 0.0, w_nl
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        if torque_speed_envelope(perf, mid) >= peak * 0.999:
            lo = mid
        else:
            hi = mid
    w1, tau1 = lo, peak
    w2 = 0.95 * w_nl
    tau2 = float(torque_speed_envelope(perf, w2))
    r_line = perf.resistance_line
    gain = perf.kt / r_line  # N m/V, as the law uses it
    if w2 - w1 < 1e-3 * w_nl or tau1 - tau2 < 1e-3 * peak:
        # Flat almost to no load: fall from the peak at 95% to zero at the no-load speed.
        w1, tau1, w2, tau2 = w2, peak, w_nl, 0.0
    ke = (tau1 - tau2) / (gain * (w2 - w1))
    drive_voltage = tau1 / gain + ke * w1
    # The law needs rated < peak; a motor whose winding could carry its peak current forever
    # is capped just below it (the driver's current limit binds, not the heat).
    rated = min(perf.rated_torque, 0.95 * peak)
    i_rated = float(current_from_torque(perf, rated + perf.drag_torque))
    i_peak = float(current_from_torque(perf, peak + perf.drag_torque))
    return CyberGearParams(
        mass=perf.mass,
        gear_ratio=perf.design.gear_ratio,
        torque_limit=peak,
        rated_torque=rated,
        rated_current=i_rated,
        peak_current=i_peak,
        kt=perf.kt,
        resistance=r_line,
        ke=ke,
        drive_voltage=drive_voltage,
        bus_voltage=perf.design.bus_voltage,
        velocity_limit=w_nl,
        rotor_inertia=perf.rotor_inertia,
        copper_loss_coeff=1.5 * perf.phase_resistance,
        winding_capacity=perf.winding_capacity,
        winding_to_housing=perf.winding_to_housing,
        housing_capacity=perf.housing_capacity,
        housing_to_ambient=perf.housing_to_ambient,
        winding_temp_limit=c.winding_temp_limit,
        reference_temp=c.reference_temp,
    )


def summary(perf: MotorPerformance) -> dict[str, float]:
    """Headline figures of a design, in datasheet units (g, N m, rpm, ohm, uH, mm)."""
    return {
        "mass_g": 1e3 * perf.mass,
        "peak_torque_Nm": perf.peak_torque,
        "rated_torque_Nm": perf.rated_torque,
        "no_load_rpm": perf.no_load_speed / RPM,
        "kt_Nm_per_A_rms": perf.kt,
        "ke_V_rms_per_rpm": perf.ke_ll_rms_per_rpm,
        "resistance_line_ohm": perf.resistance_line,
        "inductance_phase_uH": 1e6 * perf.phase_inductance,
        "reflected_inertia_kgm2": perf.reflected_inertia,
        "outer_diameter_mm": 1e3 * perf.outer_diameter,
        "length_mm": 1e3 * perf.length,
        "peak_torque_density_Nm_per_kg": perf.peak_torque_density,
    }
