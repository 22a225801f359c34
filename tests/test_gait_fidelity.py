"""Gait fidelity on synthetic contact timelines: perfect schedules score 1, wrong gaits 0."""

import numpy as np
import pytest

from irondog.agents import gait_fidelity as gf
from irondog.envs import gaits

DT = 0.02  # s, the control step


def vec(name: str) -> np.ndarray:
    return gaits.preset(name).vector()


@pytest.mark.parametrize("name", list(gaits.PRESETS))
def test_a_robot_that_follows_the_schedule_scores_one(name):
    contact, _ = gf.scheduled_contacts(vec(name), 500, DT, start_phase=0.3)
    report = gf.stride_report(contact, vec(name), DT)
    expected = 10 * vec(name)[0]  # 10 s of strides at the commanded frequency
    assert report.strides >= expected - 2
    assert gf.fidelity(report) == 1.0
    step = DT * vec(name)[0]  # one control step, in cycles: the timeline's resolution
    assert report.phase_error.max() <= step + 1e-9 and report.period_error.max() <= step + 1e-9


@pytest.mark.parametrize(
    "performed, commanded", [("pace", "trot"), ("trot", "pace"), ("bound", "trot"),
                             ("trot", "bound"), ("pronk", "bound"), ("bound", "pronk")],
)  # fmt: skip
def test_the_wrong_gait_scores_zero(performed, commanded):
    # Same frequency and duty as the commanded gait, only the footfall pattern differs.
    wrong = vec(performed).copy()
    wrong[[0, 4]] = vec(commanded)[[0, 4]]
    contact, _ = gf.scheduled_contacts(wrong, 500, DT)
    report = gf.stride_report(contact, vec(commanded), DT)
    assert report.strides > 10
    assert gf.fidelity(report) == 0.0


def test_commanded_touchdown_phases_follow_the_env_convention():
    # Foot i is down while (phase + offset_i) mod 1 < duty: it lands when the clock reads
    # -offset_i, i.e. (1 - offset_i) of a cycle after FR. The walk is asymmetric, so it tells.
    np.testing.assert_allclose(gf.commanded_touchdown_phases(vec("walk")), [0, 0.5, 0.25, 0.75])
    contact, _ = gf.scheduled_contacts(vec("walk"), 400, DT)
    from irondog.agents import gait

    np.testing.assert_allclose(gait.relative_phases(contact, DT), [0, 0.5, 0.25, 0.75], atol=0.03)


def test_a_foot_off_by_more_than_the_tolerance_fails_its_strides():
    trot = vec("trot")
    late = trot.copy()
    late[3] = (trot[3] - 0.15) % 1.0  # RL lands 0.15 cycle after its commanded time
    contact, _ = gf.scheduled_contacts(late, 500, DT)
    report = gf.stride_report(contact, trot, DT)
    assert gf.fidelity(report) == 0.0
    assert np.median(report.phase_error[:, 2]) == pytest.approx(0.15, abs=0.03)
    slightly = trot.copy()
    slightly[3] = (trot[3] - 0.04) % 1.0  # 0.04 cycle: within tolerance
    contact, _ = gf.scheduled_contacts(slightly, 500, DT)
    assert gf.fidelity(gf.stride_report(contact, trot, DT)) == 1.0


def test_stepping_at_the_wrong_frequency_fails_on_the_period():
    trot = vec("trot")
    fast = trot.copy()
    fast[0] = 1.5 * trot[0]
    contact, _ = gf.scheduled_contacts(fast, 500, DT)
    report = gf.stride_report(contact, trot, DT)
    assert report.strides > 10 and gf.fidelity(report) == 0.0
    assert report.phase_error.max() < 0.05  # the pattern itself is right


def test_standing_still_or_pausing_is_not_a_good_stride():
    trot = vec("trot")
    assert gf.stride_report(np.ones((300, 4), bool), trot, DT).strides == 0
    assert gf.fidelity(gf.stride_report(np.ones((300, 4), bool), trot, DT)) == 0.0
    contact, _ = gf.scheduled_contacts(trot, 500, DT)
    contact[200:300] = True  # stands for 2 s mid-run
    report = gf.stride_report(contact, trot, DT)
    assert 0.7 < gf.fidelity(report) < 1.0
    assert report.period_error.max() > 1.0


def test_a_foot_that_never_lands_fails_every_stride():
    contact, _ = gf.scheduled_contacts(vec("trot"), 400, DT)
    contact[:, 2] = True  # RR never lifts
    report = gf.stride_report(contact, vec("trot"), DT)
    assert report.strides > 5 and gf.fidelity(report) == 0.0
    assert (report.phase_error[:, 1] == 0.5).all()


def test_a_foot_that_taps_the_ground_mid_swing_fails_those_strides():
    trot = vec("trot")
    fine = 0.004  # s: the physics step, so the tap outlasts the 60 ms chatter filter
    contact, _ = gf.scheduled_contacts(trot, 2500, fine)
    assert gf.fidelity(gf.stride_report(contact, trot, fine)) == 1.0
    # FL (foot 1) comes down for 80 ms in the middle of every other swing, landing on time.
    swings = np.flatnonzero(np.diff(contact[:, 1].astype(int)) == -1) + 1  # lift-offs
    tapped = swings[1::2][:-1]
    for lift in tapped:
        mid = lift + int(0.125 / fine)  # halfway through the 250 ms swing
        contact[mid - 10 : mid + 10, 1] = True
    report = gf.stride_report(contact, trot, fine)
    assert report.double_touchdown.sum() >= len(tapped) - 1
    assert not report.matched[report.double_touchdown].any()
    assert 0.3 < gf.fidelity(report) < 0.7  # the untapped strides still match
    # Its on-time touchdowns keep the footfall pattern right: the phase errors stay small.
    assert np.median(report.phase_error) < 0.02


def test_strides_across_a_gait_change_are_skipped_and_the_rest_judged():
    trot, bound = vec("trot"), vec("bound")
    command = np.concatenate([np.tile(trot, (200, 1)), np.tile(bound, (200, 1))])
    contact, phase = gf.scheduled_contacts(command, 400, DT)
    report = gf.stride_report(contact, command, DT)
    assert gf.fidelity(report) == 1.0
    # About 8 trot strides in 4 s and 10 bound strides, less the one spanning the switch.
    assert 15 <= report.strides <= 18
    # The clock runs on across the change: each touchdown lands on the clock's schedule.
    errors = gf.touchdown_clock_error(contact, command, phase, DT)
    assert len(errors) > 60 and errors.max() < 0.06


def test_touchdowns_against_the_clock_catch_a_robot_out_of_step():
    trot = vec("trot")
    contact, phase = gf.scheduled_contacts(trot, 400, DT)
    shifted = (phase + 0.3) % 1.0  # the robot trots perfectly, but 0.3 cycle off the clock
    assert gf.fidelity(gf.stride_report(contact, trot, DT)) == 1.0
    errors = gf.touchdown_clock_error(contact, trot, shifted, DT)
    assert np.median(errors) == pytest.approx(0.3, abs=0.03)


def test_by_commanded_gait_judges_each_stretch_and_names_it():
    trot, bound, walk = vec("trot"), vec("bound"), vec("walk")
    command = np.concatenate([np.tile(g, (200, 1)) for g in (trot, bound, walk)])
    contact, _ = gf.scheduled_contacts(command, 600, DT)
    n = 3
    contact_b = np.repeat(contact[:, None], n, axis=1)
    command_b = np.repeat(command[:, None], n, axis=1)
    valid = np.ones((600, n), bool)
    valid[260:, 2] = False  # episode 2 fell early in the bound (too little of it to judge)
    named = {"trot": trot, "bound": bound, "walk": walk}
    out = gf.by_commanded_gait(contact_b, command_b, valid, DT, named, settle=1.0)
    assert set(out) == {"trot", "bound", "walk"}
    for name in out:
        assert out[name]["fidelity"] == 1.0
        assert out[name]["classified"] == {name: 3 if name == "trot" else 2}
    assert out["walk"]["strides"] < out["trot"]["strides"]  # 2.25 vs 2 Hz: two episodes vs three
    assert out["trot"]["phase_match"] == 1.0 and out["trot"]["median_phase_error"] < 0.05


def test_by_commanded_gait_tells_pattern_from_period():
    trot = vec("trot")
    fast = trot.copy()
    fast[0] *= 1.5  # right footfall pattern, wrong frequency
    contact, _ = gf.scheduled_contacts(fast, 300, DT)
    out = gf.by_commanded_gait(contact[:, None], np.tile(trot, (300, 1, 1)),
                               np.ones((300, 1), bool), DT, {"trot": trot})  # fmt: skip
    assert out["trot"]["phase_match"] == 1.0 and out["trot"]["fidelity"] == 0.0
    assert out["trot"]["median_period_error"] == pytest.approx(0.33, abs=0.05)


def test_shapes_are_checked():
    with pytest.raises(ValueError, match=r"shape \(8,\) or \(10, 8\)"):
        gf.stride_report(np.zeros((10, 4), bool), np.zeros((9, 8)), DT)
    with pytest.raises(ValueError, match="dt must be > 0"):
        gf.stride_report(np.zeros((10, 4), bool), vec("trot"), 0.0)
    with pytest.raises(ValueError, match=r"phase must have shape \(10,\)"):
        gf.touchdown_clock_error(np.zeros((10, 4), bool), vec("trot"), np.zeros(3), DT)
