"""The joystick task's full-range settings: the stand-still term, range checks, clamping."""

import numpy as np
import pytest

from irondog.config import load
from irondog.envs import gaits, task
from irondog.envs.config import EnvConfig


def _terms(cfg: EnvConfig, command: list[float], joint_pos: np.ndarray) -> dict:
    n = 1
    params = {k: np.ones(n) for k in ("friction", "added_mass", "strength", "kp_scale", "kd_scale")}
    info = task.initial_info(
        n, np.array([command], dtype=np.float64), np.zeros((n, 4, 3)), params,
        np.tile(gaits.preset("trot").vector(), (n, 1)), dtype=np.float64,
    )  # fmt: skip
    readings = task.Readings(
        base_pos=np.array([[0, 0, 0.25]]), base_quat=np.array([[1.0, 0, 0, 0]]),
        local_linvel=np.zeros((1, 3)), gyro=np.zeros((1, 3)), joint_pos=joint_pos[None],
        joint_vel=np.zeros((1, 12)), foot_pos=np.zeros((1, 4, 3)), foot_force=np.zeros((1, 4)),
        joint_torque=np.zeros((1, 12)), power=np.zeros(1),
    )  # fmt: skip
    args = (info, np.zeros((1, 12)), np.zeros(1, bool), np.zeros(12), np.ones((12, 2)) * [-3, 3])
    terms, _ = task.reward_terms(readings, *args, cfg)
    return terms


def test_stand_still_term_charges_joint_distance_from_home_only_at_a_zero_command():
    cfg = load(EnvConfig, overrides=["rewards.stand_still=-0.5"])
    q = np.zeros(12)
    q[1], q[7] = 0.2, -0.3  # 0.5 rad from the home pose in all
    standing = _terms(cfg, [0.0, 0.0, 0.0], q)
    assert standing["stand_still"][0] == pytest.approx(0.5)
    assert list(standing) == list(task.reward_names(cfg.task))
    # Below the threshold (0.1) still counts as standing; a yaw command alone does not.
    assert _terms(cfg, [0.05, 0.0, 0.05], q)["stand_still"][0] == pytest.approx(0.5)
    assert _terms(cfg, [0.0, 0.0, 0.5], q)["stand_still"][0] == 0.0
    assert _terms(cfg, [0.5, 0.0, 0.0], q)["stand_still"][0] == 0.0
    total = task.total_reward(standing, cfg.rewards, cfg.ctrl_dt)
    home = task.total_reward(
        _terms(cfg, [0.0, 0.0, 0.0], np.zeros(12)), cfg.rewards, cfg.ctrl_dt
    )
    assert home[0] > total[0]
    # Off by default: the shipped trot presets' rewards do not change.
    assert load(EnvConfig).rewards.stand_still == 0.0
