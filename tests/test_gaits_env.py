"""Gait commands and the gait-conditioned task: schedules, presets, blends, clamping."""

import numpy as np
import pytest

from irondog.config import ConfigError, load
from irondog.envs import gaits, task
from irondog.envs.base import aged, with_command
from irondog.envs.config import EnvConfig
from irondog.envs.native import NativeEnv


def schedule(name: str, samples: int = 100) -> np.ndarray:
    """(samples, 4) desired contacts of a preset over one cycle."""
    g = np.tile(gaits.preset(name).vector(), (samples, 1))
    phase = np.arange(samples) / samples
    return gaits.desired_contact(gaits.foot_phases(phase, g), g[:, 4])


def test_presets_come_from_configs_and_match_the_code_defaults():
    for name in gaits.PRESETS:
        assert gaits.preset(name) == gaits.PRESETS[name]
    with pytest.raises(ConfigError, match="known gaits: walk, trot, pace, bound, pronk"):
        gaits.preset("gallop")


def test_a_preset_file_overrides_the_default(tmp_path):
    (tmp_path / "trot.yaml").write_text("frequency: 2.5\n")
    assert gaits.preset("trot", tmp_path).frequency == 2.5
    (tmp_path / "pace.yaml").write_text("duty: 1.5\n")
    with pytest.raises(ConfigError, match=r"duty.*pace\.yaml"):
        gaits.preset("pace", tmp_path)


@pytest.mark.parametrize(
    "name, together, apart",
    [
        ("trot", [(0, 3), (1, 2)], [(0, 1)]),  # FR+RL, FL+RR
        ("pace", [(0, 2), (1, 3)], [(0, 1)]),  # FR+RR, FL+RL
        ("bound", [(0, 1), (2, 3)], [(0, 2)]),  # fronts, rears
        ("pronk", [(0, 1), (0, 2), (0, 3)], []),
    ],
)
def test_contact_schedules_pair_the_right_feet(name, together, apart):
    contact = schedule(name)
    for a, b in together:
        assert (contact[:, a] == contact[:, b]).all()
    for a, b in apart:
        assert (contact[:, a] != contact[:, b]).mean() > 0.6


def test_walk_keeps_at_least_three_feet_down():
    contact = schedule("walk")
    assert contact.sum(axis=1).min() >= 3
    assert contact.mean() == pytest.approx(0.75, abs=0.02)


def test_interpolation_ends_at_the_presets_and_wraps_offsets():
    trot, bound = gaits.preset("trot"), gaits.preset("bound")
    np.testing.assert_allclose(gaits.interpolate(trot, bound, 0.0), trot.vector())
    np.testing.assert_allclose(gaits.interpolate(trot, bound, 1.0), bound.vector(), atol=1e-12)
    walk = gaits.preset("walk")  # RR 0.75 -> trot's 0.5 goes back 0.25, not forward 0.75
    mid = gaits.interpolate(walk, trot, 0.5)
    assert mid[2] == pytest.approx(0.625)


def test_out_of_range_gait_parameters_are_clamped_with_a_warning():
    ranges = gaits.GaitRanges()
    wish = gaits.preset("trot").vector()
    wish[0] = 9.0  # Hz
    with pytest.warns(UserWarning, match="frequency"):
        clamped = gaits.gait_vector(wish, ranges)
    assert clamped[0] == ranges.frequency[1]


def test_gait_task_observes_the_gait_and_clock_and_rewards_the_schedule():
    cfg = load(
        EnvConfig,
        overrides=["task=gaits", "num_envs=2", "num_threads=1", "randomization.enabled=false",
                   "noise.scale=0", "command.resample_interval=1000"],
    )  # fmt: skip
    env = NativeEnv(cfg)
    state = env.reset(0)
    assert state.obs.shape == (2, 64) and env.observation_size == task.observation_size("gaits")
    pronk = np.tile(gaits.preset("pronk").vector(), (2, 1))
    state = with_command(state, np.zeros((2, 3)), pronk)
    for _ in range(5):
        state = env.step(state, np.zeros((2, 12)))
    # The clock advanced by frequency * dt per step, and the observation carries it.
    assert state.info["task"].phase == pytest.approx((5 * 2.5 * 0.02) % 1.0)
    np.testing.assert_allclose(state.obs[:, 48:56], pronk, atol=1e-6)
    for name in ("gait_contact", "gait_swing_force", "body_pitch"):
        assert f"reward/{name}" in state.metrics


def one_robot(gait_name: str, command=(0.0, 0.0, 0.0)) -> task.TaskInfo:
    """Task state of one standing robot commanded ``gait_name``."""
    return task.initial_info(
        1, np.array([command]), np.zeros((1, 4, 3)),
        {k: np.ones(1) for k in ("friction", "added_mass", "strength", "kp_scale", "kd_scale")},
        gaits.preset(gait_name).vector()[None], dtype=np.float64,
    )  # fmt: skip


def upright_readings(foot_force) -> task.Readings:
    """Sensor readings of one upright, still robot with the given ground force per foot."""
    return task.Readings(
        base_pos=np.array([[0, 0, 0.25]]), base_quat=np.array([[1.0, 0, 0, 0]]),
        local_linvel=np.zeros((1, 3)), gyro=np.zeros((1, 3)), joint_pos=np.zeros((1, 12)),
        joint_vel=np.zeros((1, 12)), foot_pos=np.zeros((1, 4, 3)),
        foot_force=np.array([foot_force], dtype=float), joint_torque=np.zeros((1, 12)),
        power=np.zeros(1),
    )  # fmt: skip


# Action, fallen flags, default pose and joint range: what reward_terms takes after the info.
STILL = (np.zeros((1, 12)), np.zeros(1, bool), np.zeros(12), np.ones((12, 2)) * [-3, 3])


def test_gait_contact_term_counts_feet_on_schedule():
    cfg = EnvConfig(task="gaits")
    info = one_robot("trot").replace(phase=np.array([0.1]))  # FR, RL in stance; FL, RR swing
    args = (info, *STILL)
    on, _ = task.reward_terms(upright_readings([30, 0, 0, 30]), *args, cfg)
    off, _ = task.reward_terms(upright_readings([0, 30, 30, 0]), *args, cfg)
    assert on["gait_contact"][0] == 1.0 and off["gait_contact"][0] == 0.0
    assert on["gait_swing_force"][0] == 0.0 and off["gait_swing_force"][0] > 1.0


def test_gait_air_time_target_is_the_commanded_swing_time():
    # A walk swing (duty 0.75 at 2.25 Hz) lasts 1/9 s: the gait task pays it nothing, where a
    # fixed 0.25 s target would charge it; a longer swing is paid above the commanded one.
    cfg = EnvConfig(task="gaits")
    info = one_robot("walk", command=(0.5, 0.0, 0.0))
    readings = upright_readings([30.0, 0, 0, 0])
    walk = gaits.PRESETS["walk"]
    assert (1 - walk.duty) / walk.frequency == pytest.approx(1 / 9)
    swing = 1 / 9 - cfg.ctrl_dt  # FR lands now, after one commanded swing
    air = np.array([[swing, 0.0, 0.0, 0.0]])
    on_time, _ = task.reward_terms(readings, info.replace(feet_air_time=air), *STILL, cfg)
    late, _ = task.reward_terms(readings, info.replace(feet_air_time=air + 0.1), *STILL, cfg)
    assert on_time["feet_air_time"][0] == pytest.approx(0.0, abs=1e-9)
    assert late["feet_air_time"][0] == pytest.approx(0.1)
    joystick, _ = task.reward_terms(
        readings, info.replace(feet_air_time=air), *STILL, EnvConfig(task="joystick")
    )
    assert joystick["feet_air_time"][0] == pytest.approx(1 / 9 - 0.25)


def test_gait_touchdown_term_pays_landings_on_the_clock_and_charges_late_ones():
    # A pronk: every foot's stance starts at phase 0. FR lands after a swing; the other feet
    # are on the ground or in the air without landing, so only FR's touchdown is scored.
    cfg = EnvConfig(task="gaits")
    info = one_robot("pronk").replace(feet_air_time=np.array([[0.2, 0.0, 0.0, 0.0]]))
    readings = upright_readings([30.0, 0, 0, 0])

    def touchdown(phase):
        terms, _ = task.reward_terms(readings, info.replace(phase=np.array([phase])), *STILL, cfg)
        return terms["gait_touchdown"][0]

    assert touchdown(0.0) == pytest.approx(0.5)
    assert touchdown(0.98) == pytest.approx(touchdown(0.02))  # early and late alike
    assert 0 < touchdown(0.05) < 0.5
    assert touchdown(0.15) < 0 and touchdown(0.5) == pytest.approx(-0.5, abs=1e-6)
    # No landing, no score: the foot was already down.
    still = info.replace(feet_air_time=np.zeros((1, 4)), phase=np.array([0.3]))
    terms, _ = task.reward_terms(readings, still, *STILL, cfg)
    assert terms["gait_touchdown"][0] == 0.0


def test_gait_touchdown_term_pays_one_landing_per_foot_and_cycle():
    # A pronk foot lands early (clock 0.95), lifts and lands again on time (0.02): the second
    # landing scores as far off, not +0.5, so a stutter cannot buy back an early landing. Past
    # mid-swing (clock 0.5) a new cycle starts and its landing is paid again.
    cfg = EnvConfig(task="gaits")
    readings = upright_readings([30.0, 0, 0, 0])
    air = np.array([[0.2, 0.0, 0.0, 0.0]])
    info = one_robot("pronk").replace(feet_air_time=air, phase=np.array([0.95]))
    early, feet = task.reward_terms(readings, info, *STILL, cfg)
    assert -0.5 < early["gait_touchdown"][0] < 0.5
    np.testing.assert_array_equal(feet["feet_landed"], [[1.0, 0.0, 0.0, 0.0]])
    again = info.replace(feet_air_time=air, phase=np.array([0.02]), feet_landed=feet["feet_landed"])
    repeat, feet = task.reward_terms(readings, again, *STILL, cfg)
    assert repeat["gait_touchdown"][0] == pytest.approx(-0.5)
    fresh, _ = task.reward_terms(readings, again.replace(feet_landed=np.zeros((1, 4))), *STILL, cfg)
    assert fresh["gait_touchdown"][0] == pytest.approx(np.exp(-0.04) - 0.5)
    # The clock crossing mid-swing (0.49 -> 0.54 at 2.5 Hz) clears the flag of every foot.
    step = cfg.ctrl_dt * gaits.PRESETS["pronk"].frequency
    crossing = again.replace(feet_air_time=np.zeros((1, 4)), phase=np.array([0.49 + step]))
    _, feet = task.reward_terms(readings, crossing, *STILL, cfg)
    np.testing.assert_array_equal(feet["feet_landed"], np.zeros((1, 4)))
    # The joystick task has no schedule and keeps no landing flags.
    joystick = again.replace(feet_landed=np.zeros((1, 4)))
    assert not task.reward_terms(readings, joystick, *STILL, EnvConfig())[1]["feet_landed"].any()


def test_gait_liftoff_term_scores_the_start_of_each_swing_by_its_timing():
    # A walk (duty 0.75 at 2.25 Hz): FR has been off the ground for one control step (its
    # contact went in the step before, so its air time starts now). Lifting when its clock
    # read 0.75 is on time; lifting at 0.45, as a walk that cuts its stance short, is charged.
    cfg = EnvConfig(task="gaits")
    readings = upright_readings([0.0, 30, 30, 30])
    step = cfg.ctrl_dt * gaits.PRESETS["walk"].frequency
    info = one_robot("walk").replace(
        last_contact=np.array([[0.0, 1, 1, 1]]), step=np.array([5], dtype=np.int32)
    )

    def liftoff(clock_at_liftoff, **changes):
        lifted = info.replace(phase=np.array([clock_at_liftoff + step]), **changes)
        return task.reward_terms(readings, lifted, *STILL, cfg)[0]["gait_liftoff"][0]

    assert liftoff(0.75) == pytest.approx(0.5)
    assert liftoff(0.70) == pytest.approx(liftoff(0.80)) and 0 < liftoff(0.70) < 0.5
    assert liftoff(0.45) == pytest.approx(-0.5, abs=1e-3)
    # Already in the air a step longer, or only leaving this step (chatter filter): no event.
    assert liftoff(0.75, feet_air_time=np.array([[0.02, 0, 0, 0]])) == 0.0
    assert liftoff(0.75, last_contact=np.ones((1, 4))) == 0.0
    # An episode's first step: a foot in the air has not lifted off (last_contact starts at 0).
    assert liftoff(0.75, step=np.zeros(1, dtype=np.int32)) == 0.0
    assert "gait_liftoff" not in task.reward_terms(readings, info, *STILL, EnvConfig())[0]


def test_stride_tracking_term_charges_a_slow_mean_speed_not_the_surge_within_a_stride():
    # A bound (2 Hz) commanded 0.5 m/s, run for four strides: one robot surges 0.5 +- 0.3 m/s
    # at the stride frequency, one holds 0.38 m/s (a gait 0.12 m/s slow, as the stage-10 trot).
    cfg = EnvConfig(task="gaits")
    info = one_robot("bound", command=(0.5, 0.0, 0.0))
    dt, freq = cfg.ctrl_dt, gaits.PRESETS["bound"].frequency
    steps = int(round(4 / freq / dt))

    def run(speed):
        """Each term averaged over the last stride, and the stride-mean velocity at the end."""
        state, rows = info, []
        for k in range(steps):
            readings = upright_readings([30.0, 30, 30, 30])
            readings = readings._replace(local_linvel=np.array([[speed(k * dt), 0.0, 0.0]]))
            terms, feet = task.reward_terms(readings, state, *STILL, cfg)
            state = state.replace(**feet)
            rows.append(terms)
        last = rows[-int(round(1 / freq / dt)) :]
        return {name: np.mean([r[name][0] for r in last]) for name in last[0]}, state.vel_mean[0]

    surge, surge_mean = run(lambda t: 0.5 + 0.3 * np.sin(2 * np.pi * freq * t))
    slow, slow_mean = run(lambda t: 0.38)
    assert abs(surge_mean[0] - 0.5) < 0.06 and slow_mean[0] == pytest.approx(0.38, abs=0.01)
    assert surge["tracking_stride_vel"] > 0.9 > 0.8 > slow["tracking_stride_vel"]
    # The per-step term ranks them the other way round: it charges the surge.
    assert surge["tracking_lin_vel"] < slow["tracking_lin_vel"]
    # Off unless a preset weighs it; a sigma of zero is refused.
    assert cfg.rewards.tracking_stride_vel == 0.0
    with pytest.raises(ConfigError, match="tracking_stride_sigma.*> 0"):
        load(EnvConfig, overrides=["rewards.tracking_stride_sigma=0"])


def test_preset_weights_set_how_often_each_gait_is_drawn():
    two = ["task=gaits", "gaits.presets=[walk, trot]", "gaits.blend_probability=0"]
    draws = np.random.default_rng(0).random((20_000, 4))
    drawn = task.sample_gaits(draws, load(EnvConfig, overrides=[*two, "gaits.weights=[3, 1]"]))
    walk_share = np.mean(np.isclose(drawn[:, 4], gaits.preset("walk").duty))
    assert walk_share == pytest.approx(0.75, abs=0.02)
    even = task.sample_gaits(draws, load(EnvConfig, overrides=two))
    assert np.mean(np.isclose(even[:, 4], 0.75)) == pytest.approx(0.5, abs=0.02)
    with pytest.raises(ConfigError, match="weights: needs one weight per preset"):
        load(EnvConfig, overrides=["task=gaits", "gaits.weights=[1, 2]"])
    with pytest.raises(ConfigError, match="weights: must all be > 0"):
        load(EnvConfig, overrides=["task=gaits", "gaits.presets=[walk]", "gaits.weights=[0]"])


def test_torque_over_term_counts_only_torque_above_the_soft_limit():
    cfg = load(EnvConfig, overrides=["rewards.torque_soft_limit=7.0", "rewards.torque_over=-0.5"])
    n = 1
    info = task.initial_info(
        n, np.zeros((n, 3)), np.zeros((n, 4, 3)),
        {k: np.ones(n) for k in ("friction", "added_mass", "strength", "kp_scale", "kd_scale")},
        np.tile(gaits.preset("trot").vector(), (n, 1)), dtype=np.float64,
    )  # fmt: skip
    torque = np.zeros((1, 12))
    torque[0, 2], torque[0, 8], torque[0, 5] = 7.5, -8.0, 6.9  # 0.5 + 1.0 over, 6.9 under
    readings = task.Readings(
        base_pos=np.array([[0, 0, 0.25]]), base_quat=np.array([[1.0, 0, 0, 0]]),
        local_linvel=np.zeros((1, 3)), gyro=np.zeros((1, 3)), joint_pos=np.zeros((1, 12)),
        joint_vel=np.zeros((1, 12)), foot_pos=np.zeros((1, 4, 3)), foot_force=np.zeros((1, 4)),
        joint_torque=torque, power=np.zeros(1),
    )  # fmt: skip
    args = (info, np.zeros((1, 12)), np.zeros(1, bool), np.zeros(12), np.ones((12, 2)) * [-3, 3])
    terms, _ = task.reward_terms(readings, *args, cfg)
    assert terms["torque_over"][0] == pytest.approx(1.5)
    assert list(terms) == list(task.reward_names(cfg.task))
    total = task.total_reward(terms, cfg.rewards, cfg.ctrl_dt)
    lighter = task.total_reward({**terms, "torque_over": np.zeros(1)}, cfg.rewards, cfg.ctrl_dt)
    assert lighter[0] - total[0] == pytest.approx(0.5 * 1.5 * cfg.ctrl_dt)
    with pytest.raises(ConfigError, match="torque_soft_limit"):
        load(EnvConfig, overrides=["rewards.torque_soft_limit=0"])


def test_command_curriculum_widens_ranges_with_each_simulations_lifetime():
    cfg = load(
        EnvConfig,
        overrides=["num_envs=64", "num_threads=1", "command.curriculum_steps=10",
                   "command.curriculum_start=0.2", "command.resample_interval=0.02",
                   "command.zero_probability=0", "episode_length=0.1"],
    )  # fmt: skip
    env = NativeEnv(cfg)
    state = env.reset(0)
    early = np.abs(state.info["task"].command[:, 0]).max()
    assert early <= 0.2 * 1.5 + 1e-9  # 20% of the +1.5 m/s range at birth
    for _ in range(12):  # past curriculum_steps, across several episodes
        state = env.step(state, np.zeros((64, 12)))
    assert (state.info["task"].lifetime == 12).all()
    assert np.abs(state.info["task"].command[:, 0]).max() > 0.5


def test_aged_state_draws_from_the_ranges_its_age_has_reached():
    """A resumed run's simulations are as old as the run (agents/ppo.py): the curriculum goes
    on instead of starting again."""
    cfg = load(
        EnvConfig,
        overrides=["num_envs=64", "num_threads=1", "command.curriculum_steps=1000",
                   "command.curriculum_start=0.2", "command.resample_interval=0.02",
                   "command.zero_probability=0"],
    )  # fmt: skip
    env = NativeEnv(cfg)
    young = env.reset(0)
    old = aged(young, 1000)
    assert old.info["task"].lifetime.dtype == young.info["task"].lifetime.dtype
    assert (old.info["task"].lifetime == 1000).all() and (young.info["task"].lifetime == 0).all()
    assert aged(young, 0) is young
    young, old = env.step(young, np.zeros((64, 12))), env.step(old, np.zeros((64, 12)))
    assert np.abs(young.info["task"].command[:, 0]).max() <= 0.2 * 1.5 + 0.01
    assert np.abs(old.info["task"].command[:, 0]).max() > 0.5  # the whole range, redrawn


def test_packaged_presets_are_read_once() -> None:
    names = ("walk", "trot", "pace", "bound", "pronk")
    first = gaits.preset_matrix(names)
    assert gaits.preset_matrix(names) is first  # cached: no YAML parsed on the hot path
    assert not first.flags.writeable  # a caller cannot corrupt the cached presets
    with pytest.raises(ValueError):
        first[0, 0] = 9.0
    np.testing.assert_array_equal(first[1], gaits.preset("trot").vector())
