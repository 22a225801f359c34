"""The CyberGear law in the simulation: datasheet curve, MIT-mode PD, NumPy = JAX."""

import jax.numpy as jnp
import numpy as np
import pytest

from irondog.config import ConfigError
from irondog.motors.cybergear import (
    RPM,
    CyberGearParams,
    copper_loss,
    mit_torque,
    thermal_step,
    torque_limits,
)


def datasheet_curve(rpm: np.ndarray) -> np.ndarray:
    """FACTS.md: flat at 12 N m to about 110 rpm, then linear to 0.6 N m at 280 rpm."""
    return np.where(rpm <= 110, 12.0, 12.0 + (0.6 - 12.0) * (rpm - 110) / (280 - 110))


def test_torque_speed_envelope_reproduces_datasheet_within_5_percent():
    params = CyberGearParams()
    rpm = np.linspace(0, 280, 57)
    _, upper = torque_limits(rpm * RPM, params, winding_temp=params.reference_temp)
    expected = datasheet_curve(rpm)
    np.testing.assert_allclose(upper, expected, rtol=0.05)


def test_no_load_speed_matches_datasheet():
    params = CyberGearParams()
    # 296 rpm (31.0 rad/s) at no load, 0.5 A: the voltage limit crosses zero within 5%.
    assert params.no_load_speed == pytest.approx(31.0, rel=0.05)


def test_mit_law_pd_inside_envelope_and_clipped_outside():
    params = CyberGearParams()
    q, qd = np.array([0.1]), np.array([0.5])
    tau = mit_torque(np.array([0.2]), q, qd, kp=20.0, kd=0.5, params=params, tau_ff=0.3)
    assert tau == pytest.approx(20.0 * 0.1 - 0.5 * 0.5 + 0.3)
    # A huge command saturates at the peak torque at low speed ...
    assert mit_torque(np.array([5.0]), q, np.array([0.0]), 100.0, 0.0, params) == pytest.approx(12)
    # ... and at the voltage-limited torque at high speed (200 rpm).
    fast = np.array([200 * RPM])
    tau_fast = mit_torque(np.array([5.0]), q, fast, 100.0, 0.0, params)
    assert tau_fast == pytest.approx(datasheet_curve(np.array([200.0])), rel=0.05)
    assert tau_fast < 12.0


def test_hot_winding_lowers_high_speed_torque():
    params = CyberGearParams()
    w = np.array([200 * RPM])
    _, cold = torque_limits(w, params, winding_temp=25.0)
    _, hot = torque_limits(w, params, winding_temp=100.0)
    assert hot < cold


def test_numpy_and_jax_give_the_same_torques():
    params = CyberGearParams()
    rng = np.random.default_rng(0)
    args = dict(
        q_target=rng.uniform(-2, 2, (64, 12)),
        q=rng.uniform(-2, 2, (64, 12)),
        qd=rng.uniform(-35, 35, (64, 12)),
        kp=rng.uniform(0, 60, (64, 12)),
        kd=rng.uniform(0, 2, (64, 12)),
    )
    temps = rng.uniform(25, 110, (64, 12))
    ref = mit_torque(**args, params=params, winding_temp=temps)
    got = mit_torque(
        **{k: jnp.asarray(v, jnp.float32) for k, v in args.items()},
        params=params,
        winding_temp=jnp.asarray(temps, jnp.float32),
        xp=jnp,
    )
    np.testing.assert_allclose(np.asarray(got), ref, rtol=1e-4, atol=1e-4)


def test_thermal_model_heats_under_load_and_cools_at_rest():
    params = CyberGearParams()
    winding = housing = np.array([25.0])
    for _ in range(1000):  # 10 s at the peak torque
        loss = copper_loss(np.array([12.0]), params, winding)
        winding, housing = thermal_step(winding, housing, loss, params, 0.01, 25.0)
    assert winding[0] > housing[0] > 25.0
    hot = winding[0]
    for _ in range(1000):
        winding, housing = thermal_step(winding, housing, 0.0, params, 0.01, 25.0)
    assert winding[0] < hot


def test_invalid_motor_parameters_name_the_field():
    with pytest.raises(ConfigError, match="kt"):
        CyberGearParams(kt=-1.0)


def test_in_place_substep_law_equals_mit_torque_and_copper_loss_bit_for_bit():
    from irondog.motors.cybergear import MitSubsteps

    rng = np.random.default_rng(7)
    n = 64
    for params in (CyberGearParams(), CyberGearParams(viscous_friction=0.02, coulomb_friction=0.1)):
        kp = 20.0 * rng.uniform(0.8, 1.2, (n, 1)) * np.ones((1, 12))  # (n, 12) N m/rad
        kd = 0.5 * rng.uniform(0.8, 1.2, (n, 1)) * np.ones((1, 12))
        winding = rng.uniform(25.0, 110.0, (n, 12))  # C
        strength = rng.uniform(0.8, 1.2, (n, 1))
        law = MitSubsteps(kp, kd, params, winding, strength)
        loss_in_place = np.zeros((n, 12))
        loss = np.zeros((n, 12))
        for _ in range(3):  # buffers reused across physics steps
            target = rng.uniform(-1.5, 1.5, (n, 12))
            q = rng.uniform(-1.5, 1.5, (n, 12))
            qd = rng.uniform(-40.0, 40.0, (n, 12))  # past the no-load speed too
            expected = mit_torque(
                target, q, qd, kp, kd, params, winding_temp=winding, strength=strength
            )
            tau = law.torque(target, q, qd)
            assert np.array_equal(tau, expected)
            assert np.array_equal(np.signbit(tau), np.signbit(expected))
            law.add_copper_loss(loss_in_place)
            loss = loss + copper_loss(expected, params, winding)
            assert np.array_equal(loss_in_place, loss)
