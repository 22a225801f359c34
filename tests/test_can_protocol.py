"""CyberGear CAN frames: bit layout, round trips (hypothesis), clamping and malformed frames."""

from __future__ import annotations

import math

import can
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from irondog.motors import can_protocol as cp

finite = dict(allow_nan=False, allow_infinity=False)
motor_ids = st.integers(min_value=0, max_value=255)


def test_control_frame_layout_matches_manual() -> None:
    # Zero torque sits at mid-range: round(12 * 65535 / 24) = 32768 (0x8000) in bits 23-8.
    msg = cp.encode_control(motor_id=7, angle=0.0, velocity=0.0, kp=500.0, kd=0.0, torque=0.0)
    assert msg.is_extended_id and msg.dlc == 8
    assert msg.arbitration_id == (1 << 24) | (0x8000 << 8) | 7
    # Big-endian u16: angle mid, velocity mid, Kp full scale, Kd zero.
    assert bytes(msg.data) == bytes([0x80, 0x00, 0x80, 0x00, 0xFF, 0xFF, 0x00, 0x00])


def test_feedback_frame_layout_matches_manual() -> None:
    msg = cp.encode_feedback(
        motor_id=3, host_id=0xFD, angle=-4 * math.pi, velocity=30.0, torque=0.0,
        temperature=36.5, faults=0b000100, mode=2,
    )  # fmt: skip
    comm, data2, target = cp.split_id(msg.arbitration_id)
    assert comm == 2 and target == 0xFD
    assert data2 >> 14 == 2  # mode bits 23-22
    assert (data2 >> 8) & 0x3F == 0b000100  # fault bits 21-16: bit 18 over-temperature
    assert data2 & 0xFF == 3  # motor id in bits 15-8
    assert bytes(msg.data) == bytes([0x00, 0x00, 0xFF, 0xFF, 0x80, 0x00, 0x01, 0x6D])  # 365
    fb = cp.decode_feedback(msg)
    assert fb.fault_names == ("over_temperature",)
    assert fb.temperature == pytest.approx(36.5)


@settings(max_examples=300, deadline=None)
@given(
    motor_ids,
    st.floats(*cp.ANGLE_RANGE, **finite),
    st.floats(*cp.VELOCITY_RANGE, **finite),
    st.floats(*cp.KP_RANGE, **finite),
    st.floats(*cp.KD_RANGE, **finite),
    st.floats(*cp.TORQUE_RANGE, **finite),
)
def test_control_round_trip_within_one_step(mid, angle, vel, kp, kd, tau) -> None:
    cmd = cp.decode_control(cp.encode_control(mid, angle, vel, kp, kd, tau))
    assert cmd.motor_id == mid
    for got, want, bounds in [
        (cmd.angle, angle, cp.ANGLE_RANGE),
        (cmd.velocity, vel, cp.VELOCITY_RANGE),
        (cmd.kp, kp, cp.KP_RANGE),
        (cmd.kd, kd, cp.KD_RANGE),
        (cmd.torque, tau, cp.TORQUE_RANGE),
    ]:
        assert abs(got - want) <= cp.step(bounds) * 0.5 + 1e-9


@settings(max_examples=300, deadline=None)
@given(
    motor_ids,
    motor_ids,
    st.floats(*cp.ANGLE_RANGE, **finite),
    st.floats(*cp.VELOCITY_RANGE, **finite),
    st.floats(*cp.TORQUE_RANGE, **finite),
    st.floats(0.0, 200.0, **finite),
    st.integers(0, 63),
    st.sampled_from([0, 1, 2]),
)
def test_feedback_round_trip_within_one_step(
    mid, host, angle, vel, tau, temp, faults, mode
) -> None:
    fb = cp.decode_feedback(cp.encode_feedback(mid, host, angle, vel, tau, temp, faults, mode))
    assert (fb.motor_id, fb.host_id, fb.faults, fb.mode) == (mid, host, faults, mode)
    assert abs(fb.angle - angle) <= cp.step(cp.ANGLE_RANGE)
    assert abs(fb.velocity - vel) <= cp.step(cp.VELOCITY_RANGE)
    assert abs(fb.torque - tau) <= cp.step(cp.TORQUE_RANGE)
    assert abs(fb.temperature - temp) <= 0.05 + 1e-9


@given(st.floats(-1e6, 1e6, **finite))
def test_out_of_range_values_clamp(value) -> None:
    cmd = cp.decode_control(cp.encode_control(1, value, value, value, value, value))
    assert cp.ANGLE_RANGE[0] <= cmd.angle <= cp.ANGLE_RANGE[1]
    assert cp.KP_RANGE[0] <= cmd.kp <= cp.KP_RANGE[1]
    assert cp.KD_RANGE[0] <= cmd.kd <= cp.KD_RANGE[1]
    assert cp.TORQUE_RANGE[0] <= cmd.torque <= cp.TORQUE_RANGE[1]
    want = min(max(value, cp.TORQUE_RANGE[0]), cp.TORQUE_RANGE[1])
    assert abs(cmd.torque - want) <= cp.step(cp.TORQUE_RANGE)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_values_raise(bad) -> None:
    with pytest.raises(ValueError, match="kp"):
        cp.encode_control(1, 0.0, 0.0, bad, 1.0)


def test_bad_ids_raise() -> None:
    with pytest.raises(ValueError, match="motor_id"):
        cp.encode_control(256, 0.0, 0.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="host_id"):
        cp.encode_enable(1, host_id=-1)


def test_enable_stop_zero_get_id_frames() -> None:
    enable = cp.decode_simple(cp.encode_enable(5, host_id=0x10))
    assert (enable.comm_type, enable.motor_id, enable.host_id, enable.flag) == (3, 5, 0x10, 0)
    stop = cp.encode_stop(5, host_id=0x10, clear_fault=True)
    assert stop.arbitration_id == (4 << 24) | (0x10 << 16) | 5 and stop.data[0] == 1
    assert cp.decode_simple(cp.encode_stop(5)).flag == 0
    zero = cp.decode_simple(cp.encode_set_zero(9))
    assert zero.comm_type == 6 and zero.flag == 1
    assert cp.decode_simple(cp.encode_get_id(9)).comm_type == 0
    assert cp.decode_get_id_reply(cp.encode_get_id_reply(9, 0x0123456789ABCDEF)) == (
        9,
        0x0123456789ABCDEF,
    )


@pytest.mark.parametrize(
    "msg, reason",
    [
        (can.Message(arbitration_id=0x123, is_extended_id=False, data=bytes(8)), "11-bit"),
        (can.Message(arbitration_id=(1 << 24) | 1, is_extended_id=True, data=bytes(8)), "type 1"),
        (can.Message(arbitration_id=(2 << 24) | (2 << 22) | 1, is_extended_id=True, data=bytes(5)),
         "5 data bytes"),
        (can.Message(arbitration_id=(2 << 24) | (3 << 22), is_extended_id=True, data=bytes(8)),
         "undefined mode"),
        (can.Message(arbitration_id=(2 << 24), is_extended_id=True, is_remote_frame=True, dlc=8),
         "remote"),
    ],
)  # fmt: skip
def test_malformed_feedback_raises_frame_error(msg, reason) -> None:
    with pytest.raises(cp.FrameError, match=reason):
        cp.decode_feedback(msg)


@given(st.integers(0, cp.ID_MASK), st.binary(min_size=0, max_size=8), st.booleans())
def test_decoding_arbitrary_frames_never_crashes_otherwise(arb_id, data, extended) -> None:
    if not extended:
        arb_id &= 0x7FF
    msg = can.Message(arbitration_id=arb_id, is_extended_id=extended, data=data)
    try:
        fb = cp.decode_feedback(msg)
    except cp.FrameError:
        return
    assert fb.mode in cp.MODES
