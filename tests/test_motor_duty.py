"""Duty cycles: the rollouts file, reductions, the mission thermal model, robot with new motors."""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np
import pytest

from irondog.motors import design as md
from irondog.motors import duty as du
from irondog.motors.cybergear import COPPER_ALPHA, CyberGearParams


def sine_duty(amplitude: float = 6.0, speed: float = 5.0, steps: int = 400) -> du.Duty:
    t = np.arange(steps) * 0.01
    tau = amplitude * np.sin(2 * np.pi * 2.0 * t)[:, None] * np.ones(12)
    vel = speed * np.cos(2 * np.pi * 2.0 * t)[:, None] * np.ones(12)
    return du.Duty(tau, vel, 0.01)


def test_summary_hand_values():
    duty = sine_duty()
    s = du.summarize(duty)
    np.testing.assert_allclose(s.peak_torque, 6.0, rtol=3e-3)
    np.testing.assert_allclose(s.rms_torque, 6.0 / np.sqrt(2), rtol=1e-3)
    np.testing.assert_allclose(s.peak_speed, 5.0, rtol=1e-3)
    # tau w = 15 sin(2x): peak 15 W, mean of the positive half 15/pi W.
    np.testing.assert_allclose(s.peak_power, 15.0, rtol=3e-3)
    np.testing.assert_allclose(s.mean_power, 15.0 / np.pi, rtol=1e-2)
    assert len(s.as_table()) == 12


def test_rollouts_round_trip_and_batched_layout(tmp_path):
    duty = sine_duty()
    path = du.save_duty(tmp_path / "d.npz", duty)
    back = du.load_duty(path)
    np.testing.assert_array_equal(back.joint_torque, duty.joint_torque)
    assert back.dt == duty.dt
    batched = np.stack([duty.joint_torque, -duty.joint_torque], axis=1)  # (T, 2 envs, 12)
    np.savez(tmp_path / "b.npz", joint_torque=batched, joint_vel=batched, dt=0.02)
    loaded = du.load_duty(tmp_path / "b.npz")
    assert loaded.joint_torque.shape == (800, 12)
    np.testing.assert_array_equal(loaded.joint_torque[400:], -duty.joint_torque)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"joint_vel": np.zeros((5, 12)), "dt": 0.01}, "missing array.*joint_torque"),
        (
            {"joint_torque": np.zeros((5, 11)), "joint_vel": np.zeros((5, 11)), "dt": 0.01},
            "joint_torque: expected shape",
        ),
        (
            {"joint_torque": np.full((5, 12), np.nan), "joint_vel": np.zeros((5, 12)), "dt": 0.01},
            "joint_torque: contains NaN",
        ),
        (
            {"joint_torque": np.zeros((5, 12)), "joint_vel": np.zeros((6, 12)), "dt": 0.01},
            "joint_vel: shape",
        ),
        (
            {"joint_torque": np.zeros((5, 12)), "joint_vel": np.zeros((5, 12)), "dt": -1.0},
            "dt: must be",
        ),
    ],
)
def test_bad_rollouts_name_field_and_file(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=message) as err:
        du.load_duty(path)
    assert "bad.npz" in str(err.value)


def test_missing_rollouts_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        du.load_duty(tmp_path / "nope.npz")


def test_thermal_mission_reaches_the_analytic_steady_state():
    params = CyberGearParams()
    duty = du.Duty(np.full((100, 12), 3.0), np.zeros((100, 12)), 0.01)
    trace = du.thermal_mission(duty, params, mission_s=30000.0, step_s=0.5)
    p0 = float(du.copper_loss(3.0, params, params.reference_temp))
    r = params.winding_to_housing + params.housing_to_ambient
    # T - 25 = r p0 (1 + alpha (T - 25))  ->  T = 25 + r p0 / (1 - alpha r p0)
    steady = 25.0 + r * p0 / (1 - COPPER_ALPHA * r * p0)
    np.testing.assert_allclose(trace.winding[-1], steady, rtol=2e-3)
    assert np.all(np.diff(trace.winding[:, 0]) >= -1e-9)  # heats monotonically from ambient
    with pytest.raises(ValueError, match="mission_s"):
        du.thermal_mission(duty, params, mission_s=0.0)


def test_apply_motor_changes_mass_armature_and_range():
    base = du.apply_motor(CyberGearParams())
    for mass in (0.25, 0.20):  # the second takes more than a rotor geom holds
        params = dataclasses.replace(CyberGearParams(), mass=mass, torque_limit=10.0)
        model = du.apply_motor(params)
        change = model.body_subtreemass[0] - base.body_subtreemass[0]
        assert change == pytest.approx(12 * (mass - 0.317), abs=1e-9)
        np.testing.assert_allclose(model.dof_armature[6:], params.armature)
        np.testing.assert_allclose(model.actuator_ctrlrange, [[-10.0, 10.0]] * 12)


def test_scripted_trot_records_a_duty_and_walks():
    params = md.to_params(md.CYBERGEAR)
    model = du.apply_motor(params)
    cfg = du.TrotConfig(duration=1.5, settle=0.5)
    result = du.scripted_trot(params, model, cfg)
    assert result.duty.joint_torque.shape == (round(1.5 / model.opt.timestep), 12)
    assert result.min_height > 0.15  # did not fall
    assert np.abs(result.duty.joint_torque).max() <= params.torque_limit + 1e-9
    assert np.abs(result.duty.joint_torque).max() > 2.0  # carries the robot's weight
    assert isinstance(model, mujoco.MjModel)


def test_trot_config_rejects_bad_values():
    with pytest.raises(ValueError, match="period"):
        du.TrotConfig(period=0.0)


def test_saturation_counts_samples_at_the_speed_dependent_torque_limit():
    params = CyberGearParams()
    tau = np.full((100, 12), 3.0)
    w = np.zeros((100, 12))
    tau[:10, 8] = params.torque_limit  # 10% of the samples at +peak
    tau[10:15, 8] = -params.torque_limit  # and 5% at -peak
    # At speed the limit falls below the peak: torque on that line saturates too.
    w[:20, 2] = 0.9 * params.drive_voltage / params.ke
    lower, upper = du.torque_limits(w[:20, 2], params)
    assert float(upper[0]) < params.torque_limit
    tau[:20, 2] = upper
    frac = du.saturation(du.Duty(tau, w, 0.02), params)
    assert frac[8] == pytest.approx(0.15)
    assert frac[2] == pytest.approx(0.20)
    assert np.all(np.delete(frac, [2, 8]) == 0.0)
    # A stronger motor is not saturated by the same torques.
    strong = dataclasses.replace(params, torque_limit=2 * params.torque_limit)
    assert du.saturation(du.Duty(tau, np.zeros_like(w), 0.02), strong).max() == 0.0


def test_optimize_warns_when_the_duty_rides_the_torque_limit(capsys):
    from irondog import cmd_motor

    tau = np.full((200, 12), 2.0)
    cmd_motor._warn_saturation(du.Duty(tau, np.zeros_like(tau), 0.02))
    assert capsys.readouterr().err == ""
    tau[:10, 5] = CyberGearParams().torque_limit
    cmd_motor._warn_saturation(du.Duty(tau, np.zeros_like(tau), 0.02))
    err = capsys.readouterr().err
    assert "FL_knee" in err and "5.0%" in err and "torque_over" in err
