"""A policy on other motors: eval --motor, the policy's duty cycle, motor optimize --duty CK."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from irondog.agents import evaluate
from irondog.envs.config import EnvConfig
from irondog.motors import duty as du
from irondog.motors import optimize as mo
from irondog.motors import policy_duty as pd

ROOT = Path(__file__).resolve().parent.parent
LIGHT = ROOT / "configs" / "motor" / "trot_optimized.yaml"
CHECKPOINT = ROOT / "examples" / "trot_cpu" / "checkpoint_00000351.msgpack"


def test_with_motor_changes_masses_and_motor_law() -> None:
    _, params = mo.load_motor(LIGHT)
    stock = evaluate.make_env(evaluate.eval_env_config(EnvConfig(), 1, 0.2, num_threads=1))
    cfg, model = evaluate.with_motor(EnvConfig(), LIGHT)
    assert cfg.motor == params and params.mass < 0.3
    env = evaluate.make_env(evaluate.eval_env_config(cfg, 1, 0.2, num_threads=1), model)
    assert env.model is model and env.cfg.motor.mass == params.mass
    # 12 motors of the new mass replace 12 of 317 g.
    expected = evaluate.robot_mass(stock.model) + 12 * (params.mass - du.BASELINE_MOTOR_MASS)
    assert evaluate.robot_mass(env.model) == pytest.approx(expected, abs=1e-6)
    hinge = env.model.jnt_dofadr[1:]  # the 12 joint dofs (the free joint is first)
    np.testing.assert_allclose(env.model.dof_armature[hinge], params.armature)
    assert not np.allclose(stock.model.dof_armature[hinge], params.armature)
    np.testing.assert_allclose(env.model.actuator_ctrlrange[:, 1], params.torque_limit)


def test_eval_cli_motor(capsys) -> None:
    from irondog.cli import main

    argv = ["eval", "--policy", "zero", "--episodes", "1", "--seconds", "0.4"]
    assert main([*argv, "--motor", str(LIGHT)]) == 0
    assert "(240.3 g each, physics step 2.5 ms)" in capsys.readouterr().out


def test_eval_cli_motor_bad_input(tmp_path: Path, capsys) -> None:
    from irondog.cli import main

    argv = ["eval", "--policy", "zero", "--episodes", "1", "--seconds", "0.2", "--motor"]
    assert main([*argv, str(tmp_path / "none.yaml")]) == 2
    assert "none.yaml does not exist" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text(LIGHT.read_text().replace("slot_fill: 0.5", "slot_fill: 1.5", 1))
    assert main([*argv, str(bad)]) == 2
    err = capsys.readouterr().err
    assert "slot_fill" in err and "bad.yaml" in err


def _trace(n: int = 3, steps: int = 100, fall_at: dict[int, int] | None = None):
    done = np.zeros((steps, n), bool)
    for env, step in (fall_at or {}).items():
        done[step, env] = True
    torque = np.arange(n)[None, :, None] + np.zeros((steps, n, 12))  # env i: torque i
    return evaluate.Trace(
        dt=0.02,
        command=np.zeros((steps, n, 3)),
        base_pos=np.zeros((steps, n, 3)),
        base_vel=np.zeros((steps, n, 3)),
        yaw_rate=np.zeros((steps, n)),
        joint_pos=np.zeros((steps, n, 12)),
        joint_vel=np.ones((steps, n, 12)),
        torque=torque,
        winding_temp=np.full((steps, n, 12), 40.0),
        contact=np.ones((steps, n, 4), bool),
        tracking_error=np.zeros((steps, n)),
        done=done,
        truncated=np.zeros((steps, n), bool),
    )


def test_duty_from_trace_drops_falls_and_warmup() -> None:
    duty = pd.duty_from_trace(_trace(fall_at={1: 70}), warmup=1.0)
    assert duty.dt == 0.02 and duty.joint_torque.shape == (2 * 50, 12)
    assert set(np.unique(duty.joint_torque)) == {0.0, 2.0}  # the fallen env 1 is left out
    with pytest.raises(ValueError, match="every episode fell"):
        pd.duty_from_trace(_trace(n=1, fall_at={0: 10}))
    assert pd.is_checkpoint(CHECKPOINT) and not pd.is_checkpoint("duty.npz")


def test_shipped_policy_walks_on_the_light_motor(tmp_path: Path) -> None:
    """The trained trot on 12 motors of configs/motor/trot_optimized.yaml (2 ms physics)."""
    _, params = mo.load_motor(LIGHT)
    duty, metrics = pd.policy_duty(CHECKPOINT, params, episodes=2, seconds=3.0)
    assert metrics["fall_rate"] == 0.0
    assert metrics["mean_speed"] > 0.35  # commanded 0.5 m/s
    assert metrics["tracking_error"] < 0.15
    assert duty.joint_torque.shape == (2 * 100, 12)
    assert np.abs(duty.joint_torque).max() <= params.torque_limit + 1e-6
    du.save_duty(tmp_path / "d.npz", duty)
    assert du.load_duty(tmp_path / "d.npz").joint_torque.shape == duty.joint_torque.shape


def test_motor_optimize_with_a_checkpoint_resimulates_the_policy(tmp_path: Path, capsys) -> None:
    from irondog.cli import main

    out, saved = tmp_path / "m.yaml", tmp_path / "duty.npz"
    argv = ["motor", "optimize", "--duty", str(CHECKPOINT.parent), "--out", str(out),
            "--episodes", "1", "--seconds", "1.6", "--iterations", "2", "--save-duty",
            str(saved), "--set", "max_evals=200", "restarts=0"]  # fmt: skip
    assert main(argv) in (0, 1)  # 1: no design met every constraint (reported)
    printed = capsys.readouterr().out
    assert "on the CyberGear: tracking error" in printed
    assert printed.count("re-simulated with the new motor") >= 1
    assert "policy on" in printed and "g motors: tracking error" in printed
    design, params = mo.load_motor(out)
    assert 0.1 < params.mass < 0.6
    assert du.load_duty(saved).joint_torque.shape == (30, 12)  # 0.6 s after the warm-up


GAIT_TROT = ROOT / "examples" / "trot_gait_cpu"
CODESIGNED = ROOT / "configs" / "motor" / "trot_policy.yaml"


def test_schedule_trot_walks_on_its_codesigned_motor_without_saturating() -> None:
    """The symmetric trot on 12 motors of the co-design result for it (about half the mass)."""
    base, base_metrics = pd.policy_duty(GAIT_TROT, None, episodes=2, seconds=3.0)
    _, params = mo.load_motor(CODESIGNED)
    assert params.mass < 0.9 * 0.317  # the target: at least 10% lighter
    duty, metrics = pd.policy_duty(GAIT_TROT, params, episodes=2, seconds=3.0)
    assert metrics["fall_rate"] == 0.0 and base_metrics["fall_rate"] == 0.0
    assert metrics["tracking_error"] < 1.1 * base_metrics["tracking_error"] + 0.01
    # the policy keeps off the CyberGear's limit, so its duty says what it needs
    assert du.saturation(base).max() < 0.002
    assert np.abs(duty.joint_torque).max() <= params.torque_limit + 1e-6


@pytest.mark.slow
def test_motor_report_takes_a_checkpoint_and_resimulates_it(tmp_path: Path, capsys) -> None:
    from irondog.cli import main

    argv = ["motor", "report", "--motor", str(CODESIGNED), "--duty", str(GAIT_TROT),
            "--out", str(tmp_path), "--pareto-points", "2"]  # fmt: skip
    assert main(argv) == 0
    report = (tmp_path / "report.md").read_text()
    assert f"Duty: policy {GAIT_TROT}" in report
    # the single-trot example is past two physical limits: the report says so, naming them
    assert "optimised on its re-simulated duty: INFEASIBLE" in report
    assert "peak_current_density" in report and "peak_shear_stress" in report
    for name in ("pareto.png", "envelope.png", "thermal.png"):
        assert (tmp_path / name).stat().st_size > 1000
