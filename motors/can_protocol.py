"""CyberGear CAN frames: encode and decode the private protocol's 29-bit extended frames.

Layout of the 29-bit identifier (CyberGear instruction manual, section 4):

    bits 28-24  communication type
    bits 23-8   "data area 2" (16 bits; meaning depends on the type)
    bits 7-0    target address (the motor's CAN id, or the host's in replies)

and 8 data bytes. The bus runs CAN 2.0 at 1 Mbps. Types implemented here:

    0  get device id      id: host id in bits 15-8, motor id in 7-0; reply: motor id in
                          bits 15-8, 0xFE in 7-0, data = the 64-bit MCU unique id
    1  operation ("MIT")  id: torque in bits 23-8, motor id in 7-0; data (big-endian u16):
                          angle, velocity, Kp, Kd
    2  feedback           id: mode bits 23-22, fault bits 21-16, motor id 15-8, host id 7-0;
                          data (big-endian u16): angle, velocity, torque, temperature x 10
    3  enable             id: host id in bits 15-8, motor id in 7-0; data zero
    4  stop               as 3; data byte 0 = 1 also clears faults
    6  set mechanical zero as 3; data byte 0 = 1

Every physical quantity travels as a 16-bit linear map of its range (``to_u16``/``from_u16``);
one quantisation step is ``(hi - lo) / 65535``. Encoding clamps finite out-of-range values into
the range (what the motor firmware would do with them) and raises ``ValueError`` for NaN or
infinity. Decoding a frame that is not what it claims to be raises ``FrameError``; the
deployment loop counts those and carries on.
"""

from __future__ import annotations

import dataclasses
import math

import can

# Communication types (bits 28-24 of the identifier).
COMM_GET_ID = 0
COMM_CONTROL = 1
COMM_FEEDBACK = 2
COMM_ENABLE = 3
COMM_STOP = 4
COMM_SET_ZERO = 6

# Operation-mode ranges (FACTS.md; the manual's sample code uses +/-12.5 rad for the angle).
ANGLE_RANGE = (-4.0 * math.pi, 4.0 * math.pi)  # rad
VELOCITY_RANGE = (-30.0, 30.0)  # rad/s
TORQUE_RANGE = (-12.0, 12.0)  # N m
KP_RANGE = (0.0, 500.0)  # N m/rad
KD_RANGE = (0.0, 5.0)  # N m s/rad
U16_MAX = 0xFFFF
ID_MASK = 0x1FFFFFFF  # 29 bits

DEFAULT_HOST_ID = 0xFD  # our CAN id as the host (any id no motor uses)
GET_ID_REPLY_TARGET = 0xFE

# Fault bits of the feedback frame, as bit positions of the identifier.
FAULT_BITS = {
    16: "undervoltage",
    17: "overcurrent",
    18: "over_temperature",
    19: "magnetic_encoder",
    20: "hall_encoder",
    21: "not_calibrated",
}
MODES = {0: "reset", 1: "calibration", 2: "run"}


class FrameError(ValueError):
    """A CAN frame that is malformed or not the frame expected (counted, never fatal)."""


def step(bounds: tuple[float, float]) -> float:
    """One quantisation step of the 16-bit map over ``bounds``."""
    return (bounds[1] - bounds[0]) / U16_MAX


def to_u16(value: float, bounds: tuple[float, float], name: str) -> int:
    """Map ``value`` linearly from ``bounds`` onto 0..65535, rounding; clamps finite values."""
    if not math.isfinite(value):
        raise ValueError(f"CAN field {name}: value must be finite, got {value}")
    lo, hi = bounds
    clamped = min(max(float(value), lo), hi)
    return int(round((clamped - lo) * U16_MAX / (hi - lo)))


def from_u16(raw: int, bounds: tuple[float, float]) -> float:
    """Inverse of ``to_u16``: 0..65535 back onto ``bounds``."""
    lo, hi = bounds
    return lo + raw * (hi - lo) / U16_MAX


def _check_id(value: int, name: str) -> int:
    if not isinstance(value, int) or not 0 <= value <= 0xFF:
        raise ValueError(f"CAN field {name}: must be an integer in 0..255, got {value!r}")
    return value


def make_id(comm_type: int, data2: int, target: int) -> int:
    """The 29-bit identifier from its three fields."""
    if not 0 <= comm_type <= 0x1F:
        raise ValueError(f"CAN field comm_type: must be in 0..31, got {comm_type}")
    if not 0 <= data2 <= U16_MAX:
        raise ValueError(f"CAN field data2: must be in 0..65535, got {data2}")
    return (comm_type << 24) | (data2 << 8) | _check_id(target, "target")


def split_id(arbitration_id: int) -> tuple[int, int, int]:
    """(communication type, data area 2, target) of a 29-bit identifier."""
    return (arbitration_id >> 24) & 0x1F, (arbitration_id >> 8) & U16_MAX, arbitration_id & 0xFF


def _message(comm_type: int, data2: int, target: int, data: bytes) -> can.Message:
    return can.Message(
        arbitration_id=make_id(comm_type, data2, target),
        is_extended_id=True,
        dlc=8,
        data=data,
    )


def _pack_u16(*values: int) -> bytes:
    return b"".join(v.to_bytes(2, "big") for v in values)


def _unpack_u16(data: bytes | bytearray) -> tuple[int, int, int, int]:
    return tuple(int.from_bytes(data[i : i + 2], "big") for i in range(0, 8, 2))  # type: ignore[return-value]


def _check_frame(msg: can.Message, comm_type: int) -> tuple[int, int]:
    """Check the frame is a well-formed data frame of ``comm_type``; return (data2, target)."""
    if not msg.is_extended_id:
        raise FrameError(f"standard (11-bit) id 0x{msg.arbitration_id:X}; CyberGear uses 29-bit")
    if msg.is_remote_frame or msg.is_error_frame:
        raise FrameError(f"remote or error frame, id 0x{msg.arbitration_id:X}")
    if msg.arbitration_id > ID_MASK:
        raise FrameError(f"id 0x{msg.arbitration_id:X} is wider than 29 bits")
    got_type, data2, target = split_id(msg.arbitration_id)
    if got_type != comm_type:
        raise FrameError(f"communication type {got_type}, expected {comm_type}")
    if msg.dlc != 8 or len(msg.data) != 8:
        raise FrameError(f"type {comm_type} frame with {len(msg.data)} data bytes, expected 8")
    return data2, target


@dataclasses.dataclass(frozen=True)
class ControlCommand:
    """An operation-mode command: the motor applies tau = Kp (q* - q) + Kd (qd* - qd) + tau_ff."""

    motor_id: int
    angle: float  # rad, target
    velocity: float  # rad/s, target
    kp: float  # N m/rad
    kd: float  # N m s/rad
    torque: float  # N m, feed-forward


@dataclasses.dataclass(frozen=True)
class Feedback:
    """A motor's reply (type 2)."""

    motor_id: int
    host_id: int
    angle: float  # rad
    velocity: float  # rad/s
    torque: float  # N m
    temperature: float  # C
    faults: int  # bits 0-5 = id bits 16-21 (see FAULT_BITS)
    mode: int  # 0 reset, 1 calibration, 2 run

    @property
    def fault_names(self) -> tuple[str, ...]:
        """Names of the active fault bits."""
        return tuple(name for bit, name in FAULT_BITS.items() if self.faults >> (bit - 16) & 1)


@dataclasses.dataclass(frozen=True)
class SimpleCommand:
    """Enable (3), stop (4) or set-zero (6) request from the host."""

    comm_type: int
    motor_id: int
    host_id: int
    flag: int  # data byte 0: clear-fault for stop, 1 for set-zero


def encode_control(
    motor_id: int,
    angle: float,
    velocity: float,
    kp: float,
    kd: float,
    torque: float = 0.0,
) -> can.Message:
    """Operation-mode ("MIT") control frame, type 1."""
    data = _pack_u16(
        to_u16(angle, ANGLE_RANGE, "angle"),
        to_u16(velocity, VELOCITY_RANGE, "velocity"),
        to_u16(kp, KP_RANGE, "kp"),
        to_u16(kd, KD_RANGE, "kd"),
    )
    return _message(
        COMM_CONTROL, to_u16(torque, TORQUE_RANGE, "torque"), _check_id(motor_id, "motor_id"), data
    )


def decode_control(msg: can.Message) -> ControlCommand:
    """Read a type-1 frame (what a motor, or the simulated robot, receives)."""
    data2, target = _check_frame(msg, COMM_CONTROL)
    a, v, kp, kd = _unpack_u16(msg.data)
    return ControlCommand(
        motor_id=target,
        angle=from_u16(a, ANGLE_RANGE),
        velocity=from_u16(v, VELOCITY_RANGE),
        kp=from_u16(kp, KP_RANGE),
        kd=from_u16(kd, KD_RANGE),
        torque=from_u16(data2, TORQUE_RANGE),
    )


def encode_feedback(
    motor_id: int,
    host_id: int,
    angle: float,
    velocity: float,
    torque: float,
    temperature: float,
    faults: int = 0,
    mode: int = 2,
) -> can.Message:
    """Feedback frame, type 2 (what a motor sends; the simulated robot uses it)."""
    if not 0 <= faults <= 0x3F:
        raise ValueError(f"CAN field faults: must be 6 bits (0..63), got {faults}")
    if mode not in MODES:
        raise ValueError(f"CAN field mode: must be one of {sorted(MODES)}, got {mode}")
    if not math.isfinite(temperature):
        raise ValueError(f"CAN field temperature: value must be finite, got {temperature}")
    temp_raw = min(max(int(round(temperature * 10.0)), 0), U16_MAX)  # 0.1 C units
    data2 = (mode << 14) | (faults << 8) | _check_id(motor_id, "motor_id")
    data = _pack_u16(
        to_u16(angle, ANGLE_RANGE, "angle"),
        to_u16(velocity, VELOCITY_RANGE, "velocity"),
        to_u16(torque, TORQUE_RANGE, "torque"),
        temp_raw,
    )
    return _message(COMM_FEEDBACK, data2, _check_id(host_id, "host_id"), data)


def decode_feedback(msg: can.Message) -> Feedback:
    """Read a type-2 feedback frame; raises FrameError if it is not one."""
    data2, target = _check_frame(msg, COMM_FEEDBACK)
    mode = data2 >> 14
    if mode not in MODES:
        raise FrameError(f"feedback frame with undefined mode {mode}")
    a, v, t, temp = _unpack_u16(msg.data)
    return Feedback(
        motor_id=data2 & 0xFF,
        host_id=target,
        angle=from_u16(a, ANGLE_RANGE),
        velocity=from_u16(v, VELOCITY_RANGE),
        torque=from_u16(t, TORQUE_RANGE),
        temperature=temp / 10.0,
        faults=(data2 >> 8) & 0x3F,
        mode=mode,
    )


def _simple(comm_type: int, motor_id: int, host_id: int, flag: int) -> can.Message:
    data = bytes([flag, 0, 0, 0, 0, 0, 0, 0])
    return _message(
        comm_type, _check_id(host_id, "host_id") << 8, _check_id(motor_id, "motor_id"), data
    )


def encode_enable(motor_id: int, host_id: int = DEFAULT_HOST_ID) -> can.Message:
    """Enable (start running) frame, type 3."""
    return _simple(COMM_ENABLE, motor_id, host_id, 0)


def encode_stop(
    motor_id: int, host_id: int = DEFAULT_HOST_ID, clear_fault: bool = False
) -> can.Message:
    """Stop frame, type 4; ``clear_fault`` sets data byte 0 to 1."""
    return _simple(COMM_STOP, motor_id, host_id, 1 if clear_fault else 0)


def encode_set_zero(motor_id: int, host_id: int = DEFAULT_HOST_ID) -> can.Message:
    """Set the present position as mechanical zero (lost at power-off), type 6."""
    return _simple(COMM_SET_ZERO, motor_id, host_id, 1)


def encode_get_id(motor_id: int, host_id: int = DEFAULT_HOST_ID) -> can.Message:
    """Get-device-id request, type 0."""
    return _simple(COMM_GET_ID, motor_id, host_id, 0)


def encode_get_id_reply(motor_id: int, unique_id: int) -> can.Message:
    """A motor's reply to get-id: its CAN id and 64-bit MCU unique id."""
    if not 0 <= unique_id < 1 << 64:
        raise ValueError(f"CAN field unique_id: must fit 64 bits, got {unique_id}")
    return _message(
        COMM_GET_ID,
        _check_id(motor_id, "motor_id"),
        GET_ID_REPLY_TARGET,
        unique_id.to_bytes(8, "big"),
    )


def decode_get_id_reply(msg: can.Message) -> tuple[int, int]:
    """(motor id, 64-bit unique id) of a get-id reply."""
    data2, target = _check_frame(msg, COMM_GET_ID)
    if target != GET_ID_REPLY_TARGET:
        raise FrameError(f"get-id frame addressed to 0x{target:02X}, not a reply (0xFE)")
    return data2 & 0xFF, int.from_bytes(bytes(msg.data), "big")


def decode_simple(msg: can.Message) -> SimpleCommand:
    """Read an enable (3), stop (4), set-zero (6) or get-id (0) request."""
    if not msg.is_extended_id:
        raise FrameError(f"standard (11-bit) id 0x{msg.arbitration_id:X}; CyberGear uses 29-bit")
    comm_type = split_id(msg.arbitration_id)[0]
    if comm_type not in (COMM_GET_ID, COMM_ENABLE, COMM_STOP, COMM_SET_ZERO):
        raise FrameError(f"communication type {comm_type} is not enable, stop, set-zero or get-id")
    data2, target = _check_frame(msg, comm_type)
    return SimpleCommand(comm_type, motor_id=target, host_id=data2 >> 8, flag=msg.data[0])


def comm_type_of(msg: can.Message) -> int:
    """Communication type of an extended frame (FrameError for a standard one)."""
    if not msg.is_extended_id:
        raise FrameError(f"standard (11-bit) id 0x{msg.arbitration_id:X}; CyberGear uses 29-bit")
    return split_id(msg.arbitration_id)[0]
