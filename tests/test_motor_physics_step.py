"""The physics step a motor's reflected inertia needs (eval --motor, motor report, co-design)."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pytest

from irondog.motors import duty as du
from irondog.motors import optimize as mo
from irondog.motors.cybergear import CyberGearParams

ROOT = Path(__file__).resolve().parents[1]


def test_pd_step_load_by_hand():
    # (2 kd dt / I + kp dt^2 / I) / 4 = (2 x 0.6 x 0.004 / 0.004 + 30 x 1.6e-5 / 0.004) / 4
    assert du.pd_step_load(np.array([0.004, 0.01]), 30.0, 0.6, 0.004) == pytest.approx(0.33)


def _motor(name: str) -> CyberGearParams:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # trot_policy.yaml is past a physical limit
        return mo.load_motor(ROOT / "configs" / "motor" / name)[1]


def test_cybergear_keeps_the_training_step_and_a_light_motor_gets_a_shorter_one():
    stock = du.apply_motor(CyberGearParams())
    assert du.stable_sim_dt(stock, 30.0, 0.6, 0.02) >= 0.004  # the training step is stable
    light = du.apply_motor(_motor("trot_policy.yaml"))  # 0.22e-3 kg m^2 reflected
    inertia = du.joint_inertia(light)
    assert du.pd_step_load(inertia, 30.0, 0.6, 0.004) > 1.0  # unstable at 4 ms: chatter
    dt = du.stable_sim_dt(light, 30.0, 0.6, 0.02)
    assert dt < 0.002 and 0.02 / dt == pytest.approx(round(0.02 / dt))
    assert du.pd_step_load(inertia, 30.0, 0.6, dt) <= du.MAX_PD_STEP_LOAD
    assert du.pd_step_load(inertia, 30.0, 0.6, 0.02 / (round(0.02 / dt) - 1)) > du.MAX_PD_STEP_LOAD


def test_with_motor_sets_the_step():
    from irondog.agents import evaluate
    from irondog.envs.config import EnvConfig

    cfg = EnvConfig()
    light, _ = evaluate.with_motor(cfg, ROOT / "configs" / "motor" / "trot_policy.yaml")
    assert light.sim_dt < 0.002 and light.motor.mass == pytest.approx(0.15629, rel=1e-3)
    same, _ = evaluate.with_motor(cfg, ROOT / "configs" / "motor" / "cybergear.yaml")
    assert same.sim_dt == cfg.sim_dt
    assert dataclasses.replace(same, motor=cfg.motor) == cfg
