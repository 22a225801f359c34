"""The plots a locomotion engineer looks at (matplotlib, Agg back end: no display needed).

- ``gait_diagram``: foot-contact timeline (stance bars per foot);
- ``joint_traces``: joint angles and torques per leg;
- ``motor_envelope``: torque-speed operating points over the CyberGear envelope, with the
  winding-temperature trace;
- ``learning_curves``: scalars from the TensorBoard event files of a training run.

Event files are read with a small TFRecord reader over tensorboardX's own protobuf classes
(``tensorboardX.proto.event_pb2``), so the ``tensorboard`` package is not needed.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from irondog.motors.cybergear import (
    DRIVER_FAULT_C,
    DRIVER_WARNING_C,
    CyberGearParams,
    torque_limits,
)

FEET = ("FR", "FL", "RR", "RL")
PARTS = ("abad", "hip", "knee")
# Scalars worth a learning curve, if the run logged them (first match of each group wins).
CURVE_TAGS: tuple[tuple[str, ...], ...] = (
    ("episode/return", "eval/episode_reward", "rollout/ep_rew_mean"),
    ("reward/per_step",),
    ("episode/length", "rollout/ep_len_mean"),
    ("env/tracking_error",),
    ("episode/fall_fraction",),
    ("loss/policy", "train/policy_gradient_loss"),
    ("loss/value", "train/value_loss"),
)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    _pyplot().close(fig)
    return path


def gait_diagram(contact: np.ndarray, dt: float, path: str | Path, title: str = "") -> Path:
    """Stance bars per foot over time from a (T, 4) contact timeline; writes a PNG."""
    from irondog.agents import gait

    plt = _pyplot()
    contact = np.asarray(contact, dtype=bool)
    fig, ax = plt.subplots(figsize=(8, 2.4))
    intervals = gait.stance_intervals(contact, dt)
    for row in range(4):
        ax.broken_barh(intervals[row], (row - 0.35, 0.7), color="#333333")
    ax.set_yticks(range(4), FEET)
    ax.invert_yaxis()
    ax.set_xlim(0, len(contact) * dt)
    ax.set_xlabel("time (s)")
    ax.set_title(title or "gait diagram (black: foot on the ground)")
    fig.tight_layout()
    return _save(fig, path)


def joint_traces(joint_pos: np.ndarray, torque: np.ndarray, dt: float, path: str | Path) -> Path:
    """Joint angle (rad) and torque (N m) per leg, (T, 12) each, FR/FL/RR/RL x abad/hip/knee."""
    plt = _pyplot()
    t = np.arange(len(joint_pos)) * dt
    fig, axes = plt.subplots(2, 4, figsize=(12, 5), sharex=True)
    for leg, foot in enumerate(FEET):
        for k, part in enumerate(PARTS):
            j = 3 * leg + k
            axes[0, leg].plot(t, joint_pos[:, j], label=part)
            axes[1, leg].plot(t, torque[:, j], label=part)
        axes[0, leg].set_title(foot)
        axes[1, leg].set_xlabel("time (s)")
    axes[0, 0].set_ylabel("angle (rad)")
    axes[1, 0].set_ylabel("torque (N m)")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def motor_envelope(
    joint_vel: np.ndarray,
    torque: np.ndarray,
    winding_temp: np.ndarray,
    dt: float,
    path: str | Path,
    params: CyberGearParams | None = None,
    max_strength: float = 1.0,
) -> Path:
    """Operating points (speed, torque) of all joints over the CyberGear torque-speed envelope,
    and the winding temperature of each joint over time.

    ``max_strength`` > 1 (domain randomisation of motor strength) also draws the strongest
    randomised motor's envelope: a robot given such a motor can exceed the nominal one.
    """
    plt = _pyplot()
    params = params if params is not None else CyberGearParams()
    speeds = np.linspace(-params.velocity_limit, params.velocity_limit, 400)  # rad/s
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 4.5))
    hot = float(np.max(winding_temp)) if np.size(winding_temp) else params.reference_temp
    for temp, style in ((params.reference_temp, "-"), (max(hot, params.reference_temp + 1), "--")):
        lower, upper = torque_limits(speeds, params, winding_temp=temp)
        ax.plot(speeds, upper, "k" + style, lw=1.2, label=f"envelope at {temp:.0f} C")
        ax.plot(speeds, lower, "k" + style, lw=1.2)
    if max_strength > 1.0:
        lower, upper = torque_limits(speeds, params, strength=max_strength)
        label = f"envelope x{max_strength:g} (randomised motor strength)"
        ax.plot(speeds, upper, "k:", lw=1.0, label=label)
        ax.plot(speeds, lower, "k:", lw=1.0)
    ax.axhspan(-params.rated_torque, params.rated_torque, color="g", alpha=0.08,
               label=f"continuous (+/-{params.rated_torque:g} N m)")  # fmt: skip
    qd = np.asarray(joint_vel).reshape(-1, 12)
    tau = np.asarray(torque).reshape(-1, 12)
    for k, part in enumerate(PARTS):
        cols = [3 * leg + k for leg in range(4)]
        ax.scatter(qd[:, cols].ravel(), tau[:, cols].ravel(), s=3, alpha=0.4, label=part)
    ax.set_xlabel("joint speed (rad/s)")
    ax.set_ylabel("joint torque (N m)")
    ax.set_title("operating points over the CyberGear envelope")
    ax.set_ylim(-1.15 * params.torque_limit, 1.15 * params.torque_limit)
    ax.legend(fontsize=7, loc="upper right")
    temps = np.asarray(winding_temp).reshape(-1, 12)
    t = np.arange(len(temps)) * dt
    for j in range(12):
        bx.plot(t, temps[:, j], lw=0.8, label=f"{FEET[j // 3]} {PARTS[j % 3]}")
    temperature_limits(bx, params.winding_temp_limit)
    bx.set_xlabel("time (s)")
    bx.set_ylabel("winding temperature (C)")
    bx.set_title("winding temperature")
    bx.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    return _save(fig, path)


def temperature_limits(ax: Any, winding_limit: float) -> None:
    """Mark the winding's insulation limit and the driver's warning and fault on ``ax`` (a
    temperature axis), each named as what it is (see irondog.motors.cybergear)."""
    ax.axhline(winding_limit, color="red", lw=1,
               label=f"winding limit {winding_limit:g} C (class B)")  # fmt: skip
    ax.axhline(DRIVER_FAULT_C, color="purple", ls="--", lw=1,
               label=f"driver fault {DRIVER_FAULT_C:g} C (driver's sensor)")  # fmt: skip
    ax.axhline(DRIVER_WARNING_C, color="orange", ls="--", lw=1,
               label=f"driver warning {DRIVER_WARNING_C:g} C (driver's sensor)")  # fmt: skip


# --- TensorBoard event files -------------------------------------------------------------


def _read_records(path: Path) -> list[bytes]:
    """The payloads of a TFRecord file (length, masked CRC, data, masked CRC framing)."""
    from tensorboardX.crc32c import crc32c

    def masked(data: bytes) -> int:
        crc = crc32c(data)
        return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF

    raw = path.read_bytes()
    out, pos = [], 0
    while pos + 12 <= len(raw):
        header = raw[pos : pos + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", raw[pos + 8 : pos + 12])
        if masked(header) != length_crc or pos + 16 + length > len(raw):
            break  # a file still being written ends in a partial record
        data = raw[pos + 12 : pos + 12 + length]
        (data_crc,) = struct.unpack("<I", raw[pos + 12 + length : pos + 16 + length])
        if masked(data) != data_crc:
            break
        out.append(data)
        pos += 16 + length
    return out


def read_scalars(log_dir: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """tag -> (steps, values) of every scalar in the event files under ``log_dir``."""
    from tensorboardX.proto import event_pb2

    found: dict[str, list[tuple[int, float]]] = {}
    for path in sorted(Path(log_dir).rglob("events.out.tfevents.*")):
        for record in _read_records(path):
            event = event_pb2.Event()
            try:
                event.ParseFromString(record)
            except Exception:  # noqa: BLE001 - a damaged record is skipped, not fatal
                continue
            if not event.HasField("summary"):
                continue
            for value in event.summary.value:
                if value.HasField("simple_value"):
                    found.setdefault(value.tag, []).append((event.step, value.simple_value))
    out = {}
    for tag, pairs in found.items():
        pairs.sort(key=lambda p: p[0])
        out[tag] = (np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]))
    return out


def learning_curves(
    log_dir: str | Path, path: str | Path, tags: Sequence[Sequence[str]] = CURVE_TAGS
) -> Path | None:
    """A grid of learning curves from ``log_dir``'s event files; None if it logged none."""
    scalars = read_scalars(log_dir)
    chosen = []
    for group in tags:
        tag = next((t for t in group if t in scalars), None)
        if tag is not None:
            chosen.append(tag)
    if not chosen:
        return None
    plt = _pyplot()
    cols = min(3, len(chosen))
    rows = -(-len(chosen) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    for ax, tag in zip(axes.ravel(), chosen, strict=False):
        steps, values = scalars[tag]
        ax.plot(steps, values, marker="o" if len(steps) < 20 else None, ms=3)
        ax.set_title(tag, fontsize=10)
        ax.set_xlabel("environment steps")
    for ax in axes.ravel()[len(chosen) :]:
        ax.axis("off")
    fig.tight_layout()
    return _save(fig, path)
