"""The command schema: canonical text and JSON, strict reading, joystick mapping."""

from __future__ import annotations

import json
import math
import random

import pytest

from irondog.config import ConfigError
from irondog.voice import corpus
from irondog.voice.commands import (
    Command,
    CommandError,
    Gait,
    JoystickLimits,
    JoystickState,
    Move,
    Posture,
    Stop,
    from_json,
    parse_canonical,
    plan,
    to_joystick,
    to_json,
    to_text,
)


def test_round_trips_over_sampled_commands() -> None:
    rng = random.Random(0)
    for _ in range(300):
        command = corpus.sample_command(rng)
        assert parse_canonical(to_text(command)) == command
        assert from_json(to_json(command)) == command


def test_documented_json_form() -> None:
    command = parse_canonical("move forward 2 m then gait bound then emergency stop")
    assert json.loads(to_json(command)) == {
        "actions": [
            {"action": "move", "vx": 0.5, "vy": 0.0, "yaw_rate": 0.0, "distance_m": 2.0},
            {"action": "gait", "gait": "bound"},
            {"action": "stop", "emergency": True},
        ]
    }


def test_same_meaning_same_schema() -> None:
    assert parse_canonical("turn around") == parse_canonical("turn left 180 deg")


def test_plan_times_and_velocities() -> None:
    segments = to_joystick(parse_canonical("move forward 2 m then turn right 90 deg"))
    assert segments[0].duration_s == pytest.approx(2.0 / 0.5)  # 2 m at 0.5 m/s
    assert (segments[0].vx, segments[0].vy, segments[0].yaw_rate) == (0.5, 0.0, 0.0)
    assert segments[1].yaw_rate == pytest.approx(-0.8)
    assert segments[1].duration_s == pytest.approx(math.pi / 2 / 0.8)


def test_speed_changes_and_limits() -> None:
    command = parse_canonical("speed up then move forward 3 m")
    segments, state = plan(command)
    assert state.speed_factor == pytest.approx(1.5)
    assert segments[1].vx == pytest.approx(0.75)
    assert segments[1].duration_s == pytest.approx(3.0 / 0.75)
    fast = JoystickState(speed_factor=3.0)
    segments, _ = plan(parse_canonical("move forward then turn left"), fast)
    assert segments[0].vx == pytest.approx(1.5)  # 0.5 * 3, at the env's upper bound
    assert segments[1].yaw_rate == pytest.approx(1.2)  # 0.8 * 3 clipped to 1.2 rad/s
    limits = JoystickLimits(lin_vel_x=(-0.5, 0.6))
    segments, _ = plan(parse_canonical("move forward"), fast, limits)
    assert segments[0].vx == pytest.approx(0.6)


def test_gait_carried_and_emergency_stop_drops_the_rest() -> None:
    command = Command((Gait("bound"), Move(vx=0.5), Stop(True), Posture("sit")))
    segments = to_joystick(command)
    assert [s.extra["gait"] for s in segments] == ["bound", "bound", "bound"]
    assert segments[-1].extra["emergency_stop"] is True
    assert len(segments) == 3  # "sit" after the emergency stop is dropped


def test_limits_from_env_config() -> None:
    from irondog.envs.config import CommandConfig

    limits = JoystickLimits.from_env(CommandConfig())
    assert limits.lin_vel_x == (-1.0, 1.5)
    assert limits.yaw_rate == (-1.2, 1.2)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "empty"),
        ("move up 3 m", "move up 3 m"),
        ("move forward 3 kg", "unit 'kg'"),
        ("turn left -90 deg", "positive"),
        ("sit then", "then"),
        ("dance", "dance"),
    ],
)
def test_bad_canonical_text(text: str, fragment: str) -> None:
    with pytest.raises(CommandError, match=fragment):
        parse_canonical(text)


def test_bad_json_names_the_field() -> None:
    with pytest.raises(CommandError, match=r"actions\[0\].*speed"):
        from_json('{"actions": [{"action": "move", "vx": 1, "speed": 2}]}')
    with pytest.raises(CommandError, match=r"actions\[1\].action"):
        from_json('{"actions": [{"action": "come_here"}, {"action": "dance"}]}')
    with pytest.raises(CommandError, match="not valid JSON"):
        from_json("{")


def test_move_checks_its_bounds() -> None:
    with pytest.raises(ConfigError, match="at most one"):
        Move(vx=0.5, distance_m=1.0, duration_s=2.0)
    with pytest.raises(ConfigError, match="non-zero"):
        Move()
    with pytest.raises(ConfigError, match="angle_deg"):
        Move(vx=0.5, angle_deg=90.0)


def test_a_bare_turn_is_a_quarter_turn_at_any_speed() -> None:
    import math

    for state in (None, JoystickState(speed_factor=3.0), JoystickState(speed_factor=0.25)):
        for text, sign in (("turn left", 1.0), ("turn right", -1.0)):
            (segment,), _ = plan(parse_canonical(text), state)
            assert segment.yaw_rate * sign > 0
            assert math.degrees(segment.duration_s * segment.yaw_rate) == pytest.approx(sign * 90)
    (walk,), _ = plan(parse_canonical("move forward"))
    assert walk.duration_s == pytest.approx(3.0)  # a bare move keeps its 3 s
    (custom,), _ = plan(parse_canonical("turn left"), None, JoystickLimits(default_turn_deg=45))
    assert math.degrees(custom.duration_s * custom.yaw_rate) == pytest.approx(45)
