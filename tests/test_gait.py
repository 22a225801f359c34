"""Gait analysis on synthetic contact timelines, one per textbook gait."""

from __future__ import annotations

import numpy as np
import pytest

from irondog.agents import gait

DT = 0.02  # s, the control step


@pytest.mark.parametrize("name", gait.GAITS)
def test_each_gait_is_recognised(name: str) -> None:
    duty = 0.7 if name == "walk" else 0.5
    contact = gait.synthetic_contacts(name, steps=300, dt=DT, frequency=2.0, duty=duty)
    summary = gait.analyse(contact, DT)
    assert summary.gait == name
    assert summary.stride_frequency == pytest.approx(2.0, rel=0.05)
    np.testing.assert_allclose(summary.duty_factor, duty, atol=0.03)


def test_diagonal_sequence_walk_is_a_walk() -> None:
    # RL, FR, RR, FL evenly spaced: the other walk template.
    offsets = np.array([0.0, 0.5, 0.25, 0.75])
    t = np.arange(400)[:, None] * DT
    contact = ((t * 1.25 - offsets) % 1.0) < 0.75
    assert gait.classify(contact, DT) == "walk"


def test_phases_of_a_trot() -> None:
    contact = gait.synthetic_contacts("trot", steps=250, dt=DT, frequency=2.5, duty=0.5)
    phases = gait.relative_phases(contact, DT)
    np.testing.assert_allclose(phases, [0.0, 0.5, 0.5, 0.0], atol=0.03)


def test_standing_and_random_contacts() -> None:
    assert gait.classify(np.ones((100, 4), bool), DT) == "stand"
    assert gait.stride_frequency(np.ones((100, 4), bool), DT) == 0.0
    rng = np.random.default_rng(0)
    # Feet stepping at unrelated frequencies: no template fits.
    t = np.arange(500)[:, None] * DT
    freqs = np.array([1.0, 1.7, 2.3, 3.1])
    contact = ((t * freqs + rng.random(4)) % 1.0) < 0.5
    assert gait.classify(contact, DT) == "irregular"


def test_debounce_removes_chatter_but_keeps_steps() -> None:
    contact = gait.synthetic_contacts("pace", steps=200, dt=DT, frequency=2.0, duty=0.5)
    noisy = contact.copy()
    noisy[40, :] = ~noisy[40, :]  # one-step glitch on every foot
    assert len(gait.touchdowns(noisy)[0]) > len(gait.touchdowns(contact)[0])
    np.testing.assert_array_equal(gait.debounce(noisy, 2), contact)
    assert gait.classify(noisy, DT) == "pace"


def test_debounce_keeps_the_first_landing_of_a_bouncing_foot() -> None:
    # Swing, a 2-step landing, a 1-step bounce, then the stance goes on: one touchdown, at the
    # first landing (step 10), not after the bounce (step 13).
    column = np.array([1] * 5 + [0] * 5 + [1, 1, 0] + [1] * 10 + [0] * 5 + [1] * 5, bool)
    contact = np.repeat(column[:, None], 4, axis=1)
    clean = gait.debounce(contact, 3)
    np.testing.assert_array_equal(gait.touchdowns(clean)[0], [10, 28])
    assert clean[10:23, 0].all()
    # A lone 2-step touch inside a swing is still chatter.
    blip = np.array([1] * 5 + [0] * 4 + [1, 1] + [0] * 4 + [1] * 5, bool)
    assert not gait.debounce(np.repeat(blip[:, None], 4, axis=1), 3)[5:15, 0].any()


def test_stance_intervals_cover_the_stance_steps() -> None:
    contact = gait.synthetic_contacts("bound", steps=100, dt=DT, frequency=2.0, duty=0.4)
    intervals = gait.stance_intervals(contact, DT)
    for foot in range(4):
        total = sum(duration for _, duration in intervals[foot])
        assert total == pytest.approx(contact[:, foot].sum() * DT)


def test_bad_input() -> None:
    with pytest.raises(ValueError, match=r"shape \(T, 4\)"):
        gait.analyse(np.ones((10, 3)), DT)
    with pytest.raises(ValueError, match="dt must be > 0"):
        gait.analyse(np.ones((10, 4)), 0.0)
    with pytest.raises(ValueError, match="unknown gait"):
        gait.synthetic_contacts("gallop", 10, DT)


def test_a_bouncing_foot_does_not_double_the_stride_frequency() -> None:
    contact = gait.synthetic_contacts("trot", steps=300, dt=DT, frequency=2.0, duty=0.6)
    bouncy = contact.copy()
    for start in range(6, 300, 25):  # a 40 ms lift in the middle of every FR stance
        bouncy[start : start + 2, 0] = False
    assert len(gait.touchdowns(bouncy)[0]) > len(gait.touchdowns(contact)[0])
    summary = gait.analyse(bouncy, DT)
    assert summary.gait == "trot"
    assert summary.stride_frequency == pytest.approx(2.0, rel=0.05)
    # Without the chatter filter the bounce touchdowns pull FR's phase off the trot.
    assert gait.analyse(bouncy, DT, min_run=DT).gait != "trot"


def test_recorded_trained_trot_is_irregular() -> None:
    """Contacts of the shipped policy (examples/trot_cpu), 8 episodes x 10 s at 0.5 m/s.

    FR + RL land together (a trot diagonal) but RR barely touches the ground and lands about
    0.75-0.9 stride after FR (once 0.1) instead of 0.5: not a trot, and the classifier must say so.
    """
    from pathlib import Path

    data = np.load(Path(__file__).parent / "data" / "trot_cpu_contacts.npz")
    contact = np.unpackbits(data["contact"], axis=0, count=int(data["steps"])).astype(bool)
    dt = float(data["dt"])
    assert contact.shape == (500, 8, 4)
    for episode in range(contact.shape[1]):
        summary = gait.analyse(contact[50:, episode], dt)  # after 1 s of warm-up
        assert summary.gait == "irregular"
        fr, fl, rr, rl = summary.duty_factor
        assert min(fr, rl) > 0.65 and rr < 0.2  # one diagonal carries the robot
        # RL lands with FR (0.16 stride apart at most: this policy's feet chatter a lot)
        assert gait._phase_distance(summary.phases[3], 0.0) < 0.2
        assert gait._phase_distance(summary.phases[2], 0.5) > 0.2  # RR off its trot slot
        assert 3.0 < summary.stride_frequency < 5.0
