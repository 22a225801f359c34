"""The mission duty: its stated mix, how segments are laid end to end, and its check."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from irondog.motors import duty as du
from irondog.motors import mission as mi
from irondog.motors import policy_duty as pd
from irondog.motors.cybergear import CyberGearParams


def test_mission_is_thirty_minutes_of_the_stated_mix():
    assert sum(s.minutes for s in mi.MISSION) == pytest.approx(30.0)
    labels = " ".join(s.label for s in mi.MISSION)
    for part in ("stand up from lying", "push recovery", "fastest 1.5", "turning", "2 kg payload",
                 "bound", "pronk", "standing"):  # fmt: skip
        assert part in labels
    assert max(s.command[0] for s in mi.MISSION) == 1.5  # the joystick range's top speed
    for s in mi.MISSION:
        assert s.checkpoint.exists(), s.checkpoint


def test_assemble_tiles_each_segment_to_its_minutes():
    a = du.Duty(np.ones((3, 12)), np.zeros((3, 12)), 0.02)
    b = du.Duty(2 * np.ones((5, 12)), np.ones((5, 12)), 0.02)
    m = mi.assemble([a, b], [0.01, 0.02])  # 0.6 s and 1.2 s: 30 and 60 samples
    assert m.joint_torque.shape == (90, 12)
    assert np.all(m.joint_torque[:30] == 1) and np.all(m.joint_torque[30:] == 2)
    with pytest.raises(ValueError, match="dt"):
        mi.assemble([a, du.Duty(np.ones((3, 12)), np.zeros((3, 12)), 0.01)], [1, 1])


def test_mission_check_thermal_falls_and_tracking():
    params = CyberGearParams()
    cool = du.Duty(np.full((100, 12), 1.0), np.zeros((100, 12)), 0.02)
    rows = [{"fall_rate": 0.0, "tracking_error": 0.10}]
    ok = mi.mission_check(params, rows, mi.assemble([cool], [30.0]), rows)
    assert ok["thermal_ok"] and ok["falls_ok"] and ok["tracking_ok"]
    # 8 N m held for 30 minutes: the CyberGear's overload table gives 160 s to 120 C.
    hot = du.Duty(np.full((100, 12), 8.0), np.zeros((100, 12)), 0.02)
    worse = [{"fall_rate": 0.25, "tracking_error": 0.13}]
    bad = mi.mission_check(params, worse, mi.assemble([hot], [30.0]), rows)
    assert not bad["thermal_ok"] and bad["hottest_winding_C"] > 120.0
    assert not bad["falls_ok"] and not bad["tracking_ok"]


def test_payload_adds_mass_to_the_trunk():
    model = mujoco.MjModel.from_xml_path(str(du.robot_xml()))
    before = float(model.body_mass.sum())
    trunk = model.body("trunk").id
    m0 = float(model.body_mass[trunk])
    pd.add_payload(model, 2.0)
    assert float(model.body_mass.sum()) == pytest.approx(before + 2.0)
    assert float(model.body_mass[trunk]) == pytest.approx(m0 + 2.0)
    with pytest.raises(ValueError, match="payload"):
        pd.add_payload(model, -1.0)


def test_stand_up_segment_stands_the_robot_up_on_the_cybergear():
    metrics, duty = mi.stand_up_rollout(None)
    assert metrics["lying"]  # it starts fallen, from the damped sprawl
    assert metrics["fall_rate"] == 0.0 and metrics["tracking_error"] < 0.03  # m below home
    assert 1.0 < metrics["torque_peak"] <= 12.0 + 1e-6
    assert duty.joint_torque.shape == (200, 12) and duty.dt == pytest.approx(0.02)


def test_push_only_keeps_pushes_and_nominal_ranges():
    from irondog.envs.config import RandomizationConfig

    r = pd.push_only(RandomizationConfig(enabled=False), 4.5, 1.0)
    assert r.enabled and r.push_interval == 4.5 and r.push_velocity == 1.0
    assert r.friction == (0.8, 0.8) and r.motor_strength == (1.0, 1.0)
    assert r.latency_substeps == (0, 0) and r.trunk_added_mass == (0.0, 0.0)
    with pytest.raises(ValueError, match="pushes"):
        pd.push_only(RandomizationConfig(), 0.0, 1.0)


def test_reduce_duty_keeps_peaks_and_rms_within_tolerance():
    rng = np.random.default_rng(3)
    # A mission-like duty: three segments of different loads, each tiled, 60,000 rows.
    parts = [rng.normal(0, s, (400, 12)) for s in (1.0, 3.0, 6.0)]
    tau = np.concatenate([np.tile(p, (50, 1)) for p in parts])
    vel = np.concatenate([np.tile(rng.normal(0, 5, (400, 12)), (50, 1)) for _ in parts])
    duty = du.Duty(tau, vel, 0.02)
    small = du.reduce_duty(duty, 3000)
    assert 3000 <= small.joint_torque.shape[0] <= 3024
    np.testing.assert_array_equal(np.abs(small.joint_torque).max(0), np.abs(tau).max(0))
    np.testing.assert_array_equal(np.abs(small.joint_vel).max(0), np.abs(vel).max(0))
    rms = np.sqrt(np.mean(small.joint_torque**2, 0) / np.mean(tau**2, 0))
    assert np.all(np.abs(rms - 1.0) < 0.05), rms  # the real mission measured 0.978..1.051
    assert du.reduce_duty(duty, 10**6) is duty
    with pytest.raises(ValueError, match="samples"):
        du.reduce_duty(duty, 0)


def test_mission_requirements_take_the_cybergears_peak_and_cap_at_its_envelope():
    from irondog.motors import design as md
    from irondog.motors import optimize as mo

    rng = np.random.default_rng(0)
    tau = np.clip(rng.normal(0, 6, (5000, 12)), -12, 12)  # rides the 12 N m limit
    duty = du.Duty(tau, rng.normal(0, 10, (5000, 12)), 0.02)
    cfg = mo.load_config(mi.ROOT / "configs" / "motor" / "mission.yaml")
    req = mo.requirements_from_mission(duty, cfg, samples=1000, segment_minutes=(100.0 / 60,))
    assert req.peak_torque == 12.0 and req.no_load_speed == pytest.approx(31.0, abs=0.01)
    assert req.duty_torque.shape[0] <= 1024
    cybergear = mo.assess(md.evaluate(md.CYBERGEAR, cfg.constants()), req, cfg)
    assert cybergear.constraints["duty_envelope"][2] <= 1e-9  # the CyberGear meets its own
