"""The CyberDog 2 MJCF against the published figures in FACTS.md (within 2%)."""

import mujoco
import numpy as np
import pytest

from irondog.envs.robot import FOOT_NAMES, JOINT_NAMES, RobotIds, load_model

# FACTS.md: trunk 4.03 kg; per leg abad 0.354, thigh 0.482, calf 0.116 and three 0.0567 rotors.
FACTS_TOTAL_MASS = 4.03 + 4 * (0.354 + 0.482 + 0.116 + 3 * 0.0567)
DEG = np.pi / 180


@pytest.fixture(scope="module")
def model():
    return load_model()


def test_total_mass_matches_facts(model):
    total = model.body_subtreemass[model.body("trunk").id]
    assert total == pytest.approx(FACTS_TOTAL_MASS, rel=0.02)
    assert total == pytest.approx(8.5, rel=0.02)


def test_link_lengths_and_offsets(model):
    for leg in ("FR", "FL", "RR", "RL"):
        abad = model.body(f"{leg}_abad")
        thigh = model.body(f"{leg}_thigh")
        calf = model.body(f"{leg}_calf")
        assert np.abs(abad.pos[:2]) == pytest.approx([0.164, 0.042], rel=0.02)
        assert abs(thigh.pos[1]) == pytest.approx(0.094, rel=0.02)
        assert np.linalg.norm(calf.pos) == pytest.approx(0.12, rel=0.02)
        foot = model.site(f"{leg}_foot")
        assert np.linalg.norm(foot.pos) == pytest.approx(0.17391, rel=0.02)
    for name in FOOT_NAMES:
        assert model.geom(name).size[0] == pytest.approx(0.019, rel=0.02)


def test_joint_ranges_match_facts(model):
    expected = {
        "abad": (-39, 39),
        "knee": (-145, -30),
    }
    for name in JOINT_NAMES:
        leg, part = name.split("_")
        if part == "hip":
            lo, hi = (-76, 160) if leg.startswith("F") else (-56, 180)
        else:
            lo, hi = expected[part]
        assert model.joint(name).range == pytest.approx([lo * DEG, hi * DEG], rel=0.02, abs=1e-3)


def test_armature_is_reflected_rotor_inertia(model):
    ids = RobotIds.from_model(model)
    assert model.dof_armature[ids.joint_dofs] == pytest.approx(4.78e-5 * 7.75**2, rel=0.02)


def test_only_feet_collide(model):
    colliding = [model.geom(i).name for i in range(model.ngeom) if model.geom_contype[i]]
    assert sorted(colliding) == sorted(["floor", *FOOT_NAMES])


def test_home_keyframe_stands_at_quarter_metre(model):
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, model.keyframe("home").id)
    mujoco.mj_forward(model, data)
    assert data.qpos[2] == pytest.approx(0.25, abs=0.01)
    for name in FOOT_NAMES:
        # Foot sphere bottoms within 1 cm of the ground, all joints inside their ranges.
        assert data.geom(name).xpos[2] - 0.019 == pytest.approx(0.0, abs=0.01)
    ids = RobotIds.from_model(model)
    q = data.qpos[ids.joint_qpos]
    assert np.all(q > ids.joint_range[:, 0]) and np.all(q < ids.joint_range[:, 1])
