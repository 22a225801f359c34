"""Physical limits of the actuator model, each against a value computed by hand."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from irondog.motors import design as md
from irondog.motors import optimize as mo

ROOT = Path(__file__).resolve().parents[1]
CG = md.CYBERGEAR  # bore 58.7 mm, stack 8.47 mm, magnet 2.5 mm, 91.5 turns, ratio 7.75


@pytest.fixture(scope="module")
def cybergear() -> md.MotorPerformance:
    return md.evaluate(CG)


def test_shear_stress_by_hand(cybergear):
    # sigma = T_motor / (2 pi r^2 L); T_motor = T_out / (7.75 x 0.96 gear efficiency)
    t_out = cybergear.peak_torque + cybergear.drag_torque  # about 12.53 N m before drag
    by_hand = t_out / (7.75 * 0.96) / (2 * math.pi * 0.02935**2 * 0.00847)
    assert by_hand == pytest.approx(36.7e3, rel=0.01)  # 1.684 N m / 4.584e-5 m^3
    lim = md.physical_limits(cybergear)
    assert lim["peak_shear_stress"][0] == pytest.approx(by_hand, rel=1e-6)
    assert lim["peak_shear_stress"][1] == pytest.approx(1.25 * by_hand, rel=1e-6)
    # continuous: 4.04 N m / 7.44 / 4.584e-5 m^3 = 11.8 kPa, bounded at 25 kPa (TRV 50)
    assert lim["continuous_shear_stress"][0] == pytest.approx(11.84e3, rel=0.01)
    assert lim["continuous_shear_stress"][1] == 25e3


def test_current_density_by_hand(cybergear):
    # Gap flux 1.25 T x 2.5 / (0.5 + 2.5 / 1.05) = 1.085 T -> teeth 1.085 / 1.65 = 65.7% of
    # the slot ring; slot area 0.343 pi (33.78^2 - 29.35^2) mm^2 = 301 mm^2; copper 55% of it
    # less the 0.5 mm liner (1 - 0.5 / 4.43): 146.9 mm^2 over 6 x 91.5 conductors.
    wire = 146.9e-6 / (6 * 91.5)  # m^2, 0.2675 mm^2
    assert cybergear.wire_area == pytest.approx(wire, rel=0.005)
    # Peak: about the driver's 23 A amplitude = 16.26 A rms -> 60.8 A/mm^2.
    lim = md.physical_limits(cybergear)
    assert lim["peak_current_density"][0] == pytest.approx(23 / math.sqrt(2) / wire, rel=0.01)
    assert lim["peak_current_density"][1] == pytest.approx(1.25 * 60.8e6, rel=0.01)
    assert lim["continuous_current_density"][0] == pytest.approx(17.4e6, rel=0.01)


def test_magnet_leakage_by_hand():
    c = md.DEFAULT_CONSTANTS
    # CyberGear: tau_p = pi 58.7 / 28 = 6.586 mm; 4 x 2.5 / (pi 1.05 0.8 6.586) = 0.5754;
    # ln(1 + pi 0.5 / (0.2 x 6.586)) = 0.7851 -> f = 1.452.
    assert md.magnet_leakage(0.0587, 0.0025, c) == pytest.approx(1.4517, rel=1e-3)
    # Half the bore (tau_p 3.198 mm): 1.185 x ln(3.456) = 1.4695 -> f = 2.470.
    assert md.magnet_leakage(0.0285, 0.0025, c) == pytest.approx(2.4695, rel=1e-3)
    small = md.evaluate(CG.replace(airgap_diameter=0.0285))
    assert small.magnet_flux_fraction == pytest.approx(1.4517 / 2.4695, rel=2e-3)
    assert md.evaluate(CG).magnet_flux_fraction == 1.0  # the calibration point is unchanged
    # the torque constant carries it: same design without leakage would have 1 / 0.588 more
    assert small.pole_pitch == pytest.approx(3.198e-3, rel=1e-3)


def test_sun_gear_stresses_by_hand(cybergear):
    assert cybergear.gear_face > md.DEFAULT_CONSTANTS.min_gear_face  # sized by the K factor
    # The face is sized so that F_t (u + 1) / (b d u) = K = 4 MPa, so Hertz contact is
    # Z_E Z_H sqrt(K) = 189.8 sqrt(MPa) x 2.495 x 2 sqrt(MPa) = 947 MPa.
    lim = md.physical_limits(cybergear)
    assert lim["sun_contact_stress"][0] == pytest.approx(947.1e6, rel=1e-3)
    # Lewis: F_t / (b m Y) with m = d / 17: K u 17 / ((u + 1) Y); u = (7.75 - 2) / 2 = 2.875
    # -> 4 MPa x 2.875 x 17 / (3.875 x 0.303) = 166.5 MPa.
    assert lim["sun_bending_stress"][0] == pytest.approx(166.5e6, rel=1e-3)
    assert lim["sun_contact_stress"][1] == 1240e6 and lim["sun_bending_stress"][1] == 380e6
    assert md.limit_violations(cybergear) == []


def test_a_limit_can_be_violated_and_is_named():
    # The stock CyberGear with a 40 A driver: peak current density past 1.25 x its own.
    perf = md.evaluate(CG.replace(peak_current=40.0))
    lines = md.limit_violations(perf)
    assert any(line.startswith("peak_current_density") for line in lines), lines
    # A bound is a parameter: a lower bending allowable flags the same gear.
    weak = md.DesignLimits(sun_bending_stress=100e6)
    assert any(x.startswith("sun_bending_stress") for x in md.limit_violations(perf, weak))


def test_optimize_reports_limits_and_never_calls_a_violation_feasible():
    config = mo.OptimizeConfig()
    req = mo.requirements_from_spec(6.0, 20.0, 1.0)
    a = mo.assess(md.evaluate(CG.replace(peak_current=40.0)), req, config)
    assert a.constraints["peak_current_density"][2] > 0
    assert not a.feasible
    assert "peak_current_density" in a.explain()
    table = a.table()
    for name in md.physical_limits(a.perf):
        assert name in table
    assert "VIOLATED" in table
    ok = mo.assess(md.evaluate(CG), req, config)
    assert ok.feasible and "VIOLATED" not in ok.table()


def test_motor_yaml_past_a_limit_loads_with_a_warning(tmp_path):
    path = mo.save_motor(tmp_path / "hot.yaml", "hot", CG.replace(peak_current=40.0))
    with pytest.warns(UserWarning, match="peak_current_density"):
        design, params = mo.load_motor(path)
    assert design.peak_current == 40.0 and params.mass > 0
    ok = mo.save_motor(tmp_path / "ok.yaml", "ok", CG)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mo.load_motor(ok)


def test_shipped_cybergear_yaml_is_within_every_limit():
    perf = md.evaluate(mo.load_motor(ROOT / "configs" / "motor" / "cybergear.yaml")[0])
    values = np.array([v / b for v, b in md.physical_limits(perf).values()])
    assert np.all(values <= 1.0)
