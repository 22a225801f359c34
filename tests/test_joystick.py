"""The joystick task's full-range settings: the stand-still term, range checks, clamping."""

import warnings
from pathlib import Path

import numpy as np
import pytest

from irondog.agents import onnx_runner
from irondog.config import ConfigError, load
from irondog.envs import gaits, task
from irondog.envs.config import EnvConfig

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "joystick_cpu"


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


def test_stride_yaw_term_charges_a_steady_veer_not_the_wobble_within_a_stride():
    """Told to go straight, a robot whose yaw rate swings +-0.3 rad/s at the stride frequency
    keeps the stride-mean yaw term near 1; one that veers a steady 0.1 rad/s pays."""
    cfg = load(EnvConfig, overrides=["rewards.tracking_stride_yaw=1.0"])
    params = {k: np.ones(1) for k in ("friction", "added_mass", "strength", "kp_scale", "kd_scale")}
    command = np.array([[1.0, 0.0, 0.0]])
    dt, steps = cfg.ctrl_dt, 200  # 4 s, eight 0.5-s strides

    def run(yaw_rate):
        info = task.initial_info(
            1, command, np.zeros((1, 4, 3)), params,
            np.tile(gaits.preset("trot").vector(), (1, 1)), dtype=np.float64,
        )  # fmt: skip
        rows = []
        for k in range(steps):
            readings = task.Readings(
                base_pos=np.array([[0, 0, 0.25]]), base_quat=np.array([[1.0, 0, 0, 0]]),
                local_linvel=np.array([[1.0, 0, 0]]), gyro=np.array([[0, 0, yaw_rate(k * dt)]]),
                joint_pos=np.zeros((1, 12)), joint_vel=np.zeros((1, 12)),
                foot_pos=np.zeros((1, 4, 3)), foot_force=np.zeros((1, 4)),
                joint_torque=np.zeros((1, 12)), power=np.zeros(1),
            )  # fmt: skip
            args = (np.zeros((1, 12)), np.zeros(1, bool), np.zeros(12), np.ones((12, 2)) * [-3, 3])
            terms, feet = task.reward_terms(readings, info, *args, cfg)
            info = info.replace(**feet)
            rows.append(terms)
        last = rows[-25:]  # the last stride
        return {name: float(np.mean([r[name][0] for r in last])) for name in last[0]}, info

    wobble, wobble_info = run(lambda t: 0.3 * np.sin(2 * np.pi * 2.0 * t))
    veer, veer_info = run(lambda t: 0.1)
    assert abs(wobble_info.vel_mean[0, 2]) < 0.06
    assert veer_info.vel_mean[0, 2] == pytest.approx(0.1, abs=1e-3)
    assert wobble["tracking_stride_yaw"] > 0.95 > 0.85 > veer["tracking_stride_yaw"]
    # The per-step yaw term ranks them the other way round: it charges the wobble.
    assert wobble["tracking_ang_vel"] < veer["tracking_ang_vel"]
    # Off unless a preset weighs it.
    assert load(EnvConfig).rewards.tracking_stride_yaw == 0.0


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
    home = task.total_reward(_terms(cfg, [0.0, 0.0, 0.0], np.zeros(12)), cfg.rewards, cfg.ctrl_dt)
    assert home[0] > total[0]
    # Off by default: the shipped trot presets' rewards do not change.
    assert load(EnvConfig).rewards.stand_still == 0.0


@pytest.mark.parametrize(
    ("value", "message"),
    [("[1.5, -1.5]", "lower bound 1.5 exceeds upper -1.5"), ("[0, .nan]", "must be finite")],
)
def test_a_command_range_the_policy_cannot_learn_is_an_error_naming_key_and_file(
    tmp_path, value, message
):
    preset = tmp_path / "bad.yaml"
    preset.write_text(f"command:\n  yaw_rate: {value}\n")
    with pytest.raises(ConfigError) as err:
        load(EnvConfig, preset)
    text = str(err.value)
    assert "command.yaw_rate" in text and message in text and str(preset) in text


def test_a_command_outside_the_trained_range_is_clamped_with_a_warning():
    ranges = {"lin_vel_x": [-1.0, 1.5], "lin_vel_y": [-0.5, 0.5], "yaw_rate": [-1.5, 1.5]}
    with pytest.warns(UserWarning) as record:
        command = onnx_runner.parse_command("vx=2,vy=-0.2,yaw=-3", ranges)
    messages = [str(w.message) for w in record]
    assert messages == [
        "--command: vx=2 is outside the policy's trained lin_vel_x [-1, 1.5]; clamped to 1.5",
        "--command: yaw=-3 is outside the policy's trained yaw_rate [-1.5, 1.5]; clamped to -1.5",
    ]
    np.testing.assert_allclose(command, [1.5, -0.2, -1.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # inside the range: no warning, nothing changed
        inside = onnx_runner.parse_command("vx=-1.0,vy=0.5,yaw=1.5", ranges)
    np.testing.assert_allclose(inside, [-1.0, 0.5, 1.5])
    with pytest.raises(ValueError, match="must be finite"):
        onnx_runner.parse_command("vx=nan", ranges)


def test_the_exported_metadata_carries_the_joystick_presets_trained_ranges():
    from irondog.agents import export
    from irondog.agents.config import RunConfig

    run = load(RunConfig, "configs/train/joystick_cpu.yaml")
    ranges = export.policy_metadata(run.env)["command_ranges"]
    assert ranges == {"lin_vel_x": [-1.0, 1.5], "lin_vel_y": [-0.5, 0.5], "yaw_rate": [-1.5, 1.5]}
    assert run.env.rewards.stand_still < 0 and run.env.command.zero_probability > 0


def test_the_gpu_preset_trains_the_cpu_presets_task_on_mjx():
    from irondog.agents.config import RunConfig

    cpu = load(RunConfig, "configs/train/joystick_cpu.yaml").env
    gpu = load(RunConfig, "configs/train/joystick_gpu.yaml").env
    assert gpu.backend == "mjx" and gpu.num_envs >= 8192
    assert gpu.rewards == cpu.rewards and gpu.randomization == cpu.randomization
    same = ("lin_vel_x", "lin_vel_y", "yaw_rate", "resample_interval", "zero_probability",
            "single_axis_probability")  # fmt: skip
    assert all(getattr(gpu.command, k) == getattr(cpu.command, k) for k in same)


def test_the_shipped_joystick_policy_exports_from_its_folder_and_is_steered(tmp_path):
    """examples/joystick_cpu, exported from the CLI, walks where it is told (ONNX runner)."""
    pytest.importorskip("jax")
    from irondog.agents import export
    from irondog.cli import main

    out = tmp_path / "joystick.onnx"
    assert main(["export", "--checkpoint", str(EXAMPLE), "--out", str(out)]) == 0
    meta = export.read_metadata(out)
    assert meta["command_ranges"]["lin_vel_x"] == [-1.0, 1.5]
    assert meta["command_ranges"]["yaw_rate"] == [-1.5, 1.5]
    policy = onnx_runner.OnnxPolicy(out)
    back = onnx_runner.play(policy, 3.0, np.array([-0.5, 0.0, 0.0]))
    assert back["falls"] == 0 and back["forward_velocity_mean"] < -0.3
    side = onnx_runner.play(policy, 3.0, np.array([0.0, 0.5, 0.0]))
    assert side["falls"] == 0 and side["displacement_m"] > 1.0
    turn = onnx_runner.play(policy, 3.0, np.array([0.0, 0.0, 1.0]))
    assert turn["falls"] == 0 and turn["yaw_rate_error_mean"] < 0.4
    stand = onnx_runner.play(policy, 3.0, np.zeros(3))
    assert stand["falls"] == 0 and stand["displacement_m"] < 0.3


def test_single_axis_commands_keep_one_axis_and_leave_other_presets_streams_alone():
    import dataclasses

    from irondog.envs import task
    from irondog.envs.config import CommandConfig
    from irondog.envs.control import NumpySampler

    rng = np.random.default_rng(0)
    uniform, zero_draw = rng.random((3000, 3)), rng.random(3000)
    cfg = CommandConfig(zero_probability=0.0, single_axis_probability=0.5)
    axis_draw = rng.random((3000, 2))
    command = task.sample_commands(uniform, zero_draw, cfg, axis_draw=axis_draw)
    moving = (command != 0).sum(axis=1)
    single = axis_draw[:, 0] < 0.5
    assert (moving[single] == 1).all() and (moving[~single] == 3).all()
    # each axis is the kept one about a third of the time
    kept = np.argmax(command[single] != 0, axis=1)
    assert all(abs((kept == a).mean() - 1 / 3) < 0.05 for a in range(3))
    with pytest.raises(ValueError, match="axis_draw"):
        task.sample_commands(uniform, zero_draw, cfg)
    with pytest.raises(ValueError, match="single_axis_probability"):
        CommandConfig(single_axis_probability=1.5)
    # a preset without single-axis commands draws exactly what it drew before
    plain = dataclasses.replace(cfg, single_axis_probability=0.0)
    draws = task.command_draws(NumpySampler(np.random.default_rng(1), 4), None, plain)
    assert set(draws) == {"uniform", "zero_draw"}
    old = np.random.default_rng(1)
    np.testing.assert_array_equal(draws["uniform"], old.random((4, 3)))
