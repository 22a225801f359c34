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
    for part in ("fastest 1.5", "turning", "2 kg payload", "bound", "pronk", "standing"):
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
