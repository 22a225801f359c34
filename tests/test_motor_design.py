"""The parametric actuator model: CyberGear datasheet, physics sanity, errors, simulation params."""

from __future__ import annotations

import math

import numpy as np
import pytest

from irondog.config import ConfigError
from irondog.motors import design as md
from irondog.motors.cybergear import (
    OVERLOAD_CURVE,
    RPM,
    CyberGearParams,
    copper_loss,
    thermal_step,
    torque_limits,
)

OVERLOAD = OVERLOAD_CURVE  # FACTS.md: (N m, s to 120 C from 25 C)


@pytest.fixture(scope="module")
def cybergear() -> md.MotorPerformance:
    return md.evaluate(md.CYBERGEAR)


@pytest.mark.parametrize(
    ("figure", "datasheet"),
    [
        ("mass", 0.317),
        ("peak_torque", 12.0),
        ("rated_torque", 4.0),
        ("no_load_speed", 296 * RPM),
        ("kt", 0.87),
        ("resistance_line", 0.45),
    ],
)
def test_cybergear_design_point_matches_datasheet(cybergear, figure, datasheet):
    value = getattr(cybergear, figure)
    assert abs(value / datasheet - 1) <= 0.10, f"{figure}: model {value}, datasheet {datasheet}"


def test_back_emf_and_inductance_in_datasheet_range(cybergear):
    assert 0.054 * 0.9 <= cybergear.ke_ll_rms_per_rpm <= 0.057 * 1.1
    assert 187e-6 <= cybergear.phase_inductance <= 339e-6
    # Kt and Ke of one machine agree: Kt = sqrt(3) Ke (rms, per rad/s) times gear efficiency.
    ke_rad = cybergear.ke_ll_rms_per_rpm / RPM
    assert cybergear.kt == pytest.approx(math.sqrt(3) * ke_rad * 0.96, rel=1e-6)


@pytest.mark.parametrize(("torque", "seconds"), OVERLOAD)
def test_design_model_overload_curve_within_10_percent(cybergear, torque, seconds):
    t = md.overload_time(cybergear, torque + cybergear.drag_torque)
    assert abs(t / seconds - 1) <= 0.10, f"{torque} N m: model {t:.0f} s, datasheet {seconds} s"


@pytest.mark.parametrize(("torque", "seconds"), OVERLOAD)
def test_default_law_overload_curve_within_10_percent(torque, seconds):
    """The environment's CyberGearParams defaults, stepped with its own thermal_step."""
    params = CyberGearParams()
    winding = housing = 25.0
    t, dt = 0.0, 0.05
    while winding < params.winding_temp_limit and t < 5 * seconds:
        loss = copper_loss(torque, params, winding)
        winding, housing = thermal_step(winding, housing, loss, params, dt)
        t += dt
    assert abs(t / seconds - 1) <= 0.10, f"{torque} N m: law {t:.0f} s, datasheet {seconds} s"


def test_envelope_follows_datasheet_curve_with_warm_winding(cybergear):
    # Datasheet: flat 12 N m to 110 rpm, then linear to 0.6 N m at 280 rpm. Within 10% of the
    # peak torque up to 240 rpm, winding at 80 C (the driver's fault temperature).
    rpm = np.array([0, 50, 110, 150, 200, 240])
    sheet = np.where(rpm <= 110, 12.0, 12.0 - (12.0 - 0.6) * (rpm - 110) / (280 - 110))
    model = md.torque_speed_envelope(cybergear, rpm * RPM, winding_temp=80.0)
    np.testing.assert_allclose(model, sheet, atol=1.2)
    assert np.all(np.diff(model) <= 1e-9)  # never rises with speed


def test_overload_time_agrees_with_time_stepping(cybergear):
    params = md.to_params(cybergear)
    tau = 9.0
    i = float(md.current_from_torque(cybergear, tau))
    p0 = 1.5 * cybergear.phase_resistance * i**2
    winding = housing = 25.0
    t, dt = 0.0, 0.01
    while winding < 120.0:
        loss = p0 * (1 + 0.0039 * (winding - 25.0))
        winding, housing = thermal_step(winding, housing, loss, params, dt)
        t += dt
    assert md.overload_time(cybergear, tau) == pytest.approx(t, rel=0.01)


def test_current_and_torque_are_inverse(cybergear):
    tau = np.linspace(0, 0.95 * cybergear.peak_torque_saturation, 50)
    back = md.torque_from_current(cybergear, md.current_from_torque(cybergear, tau))
    np.testing.assert_allclose(back, tau, atol=1e-9)
    # Saturation: the 23 A peak current gives less than the linear Kt would.
    assert md.torque_from_current(cybergear, 23.0) < cybergear.kt_amplitude * 23.0


def test_scaling_directions():
    base = md.evaluate(md.CYBERGEAR)
    longer = md.evaluate(md.CYBERGEAR.replace(stack_length=2 * md.CYBERGEAR.stack_length))
    assert longer.kt == pytest.approx(2 * base.kt, rel=0.02)  # flux per pole ~ stack length
    assert longer.mass > base.mass
    assert longer.resistance_line < 2 * base.resistance_line  # end turns do not grow
    assert longer.rotor_inertia > base.rotor_inertia
    geared = md.evaluate(md.CYBERGEAR.replace(gear_ratio=10.0))
    assert geared.no_load_speed < base.no_load_speed
    assert geared.reflected_inertia > base.reflected_inertia * (10.0 / 7.75) ** 2 * 0.9
    thin = md.evaluate(md.CYBERGEAR.replace(back_iron_thickness=0.0008))
    assert thin.airgap_flux_density < base.airgap_flux_density  # saturated back iron


def test_efficiency_map_is_physical(cybergear):
    speed = np.linspace(1.0, 30.0, 12)
    torque = np.linspace(0.5, 14.0, 10)
    eff = md.efficiency_map(cybergear, speed, torque)
    finite = eff[np.isfinite(eff)]
    assert finite.size > 20
    assert np.all((finite > 0) & (finite < 1))
    assert np.isnan(eff[-1, -1])  # 14 N m at 30 rad/s is outside the envelope
    assert np.nanmax(eff) > 0.6


def test_to_params_gives_a_usable_law(cybergear):
    params = md.to_params(cybergear)
    assert isinstance(params, CyberGearParams)
    assert params.mass == pytest.approx(cybergear.mass)
    assert params.torque_limit == pytest.approx(cybergear.peak_torque)
    assert params.armature == pytest.approx(cybergear.reflected_inertia)
    lower, upper = torque_limits(np.array([0.0, 0.95 * params.velocity_limit]), params)
    assert upper[0] == pytest.approx(cybergear.peak_torque)
    w2 = 0.95 * cybergear.no_load_speed
    assert upper[1] == pytest.approx(float(md.torque_speed_envelope(cybergear, w2)), rel=1e-6)
    # The law's cubic current fit passes through the model's rated and peak points.
    assert params.peak_current == pytest.approx(23.0, rel=1e-6)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("stack_length", -0.01),
        ("airgap_diameter", 0.0),
        ("slot_fill", 1.2),
        ("turns", float("nan")),
        ("gear_ratio", 2.0),
        ("magnet_thickness", 0.03),
    ],
)
def test_invalid_design_names_the_field(field, value):
    with pytest.raises(ConfigError, match=field):
        md.CYBERGEAR.replace(**{field: value})


def test_every_design_in_the_optimiser_box_gives_valid_law_params():
    from irondog.motors import optimize as mo

    config = mo.OptimizeConfig()
    rng = np.random.default_rng(0)
    for u in rng.uniform(0.0, 1.0, size=(150, len(mo.VARIABLES))):
        perf = md.evaluate(mo._decode(u, md.CYBERGEAR, config))
        params = md.to_params(perf)  # CyberGearParams checks its own fields
        lower, upper = torque_limits(np.array([0.0]), params)
        assert upper[0] == pytest.approx(perf.peak_torque)
        assert params.rated_torque < params.torque_limit
