"""A real CyberDog 2 through its motor SDK's LCM messages, and a simulated board that answers.

The robot's 12 CyberGears sit behind its motion-control board; the way in is four LCM
channels (FACTS.md, "CyberDog 2 low-level control"):

- ``motor_ctrl`` (``motor_ctrl_lcmt``, we publish): q_des, qd_des, kp_des, kd_des, tau_des;
- ``spi_data`` (``spi_data_t``, the board publishes at 500 Hz): joint angles, velocities,
  torques, temperatures and the motor flags;
- ``state_estimator`` (``state_estimator_lcmt``, port 7669): the body state;
- ``motor_ctrl_state`` (``motor_ctrl_state_lcmt``): the board's link errors (err_flag).

Joint order and signs. Both the board and the policy list the legs FR, FL, RR, RL, each as
abad, hip, knee, so the order maps one to one. On the wire every value is in the motor's
sense, ``wire = joint x sig`` with sig = (1, -1, -1) per leg; the SDK's joint convention
(zero = leg straight down, hip forward-positive range -1.33..2.79, knee -2.53..-0.52) is the
one the MJCF and so the policy use (``envs/assets/cyberdog2.xml`` has the same ranges and
zero), so no offset is needed.

Frames of ``state_estimator`` (cyberdog_locomotion's state estimator, which fills it):
``quat`` is the body orientation, body -> world, x y z w as the SDK documents it; ``rpy``
the Z-Y-X Euler angles of the same rotation; ``omegaBody`` the angular velocity in the body
frame (the IMU gyro) and ``omegaWorld`` the same vector in the world frame
(``omegaWorld = R omegaBody``); ``vBody`` the estimated linear velocity in the body frame.
The policy was trained on the body-frame gyro and velocity, so the deploy loop reads
``omegaBody`` and ``vBody`` (and if a board sends only ``omegaWorld``, ``gyro_from_world``
rotates it with R^T); gravity in the body frame is R^T (0, 0, -1) from ``quat``, and the
loop refuses to start when ``quat`` and ``rpy`` disagree (a quaternion in the other order).
"""

from __future__ import annotations

import dataclasses
import os
import struct
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from irondog.agents.lcm_types import (
    motor_ctrl_lcmt,
    motor_ctrl_state_lcmt,
    spi_data_t,
    state_estimator_lcmt,
)
from irondog.agents.onnx_runner import (
    OnnxPolicy,
    PhysicsOptions,
    SimRobot,
    build_observation,
    load_robot,
    projected_gravity,
)

# --------------------------------------------------------------------- facts (FACTS.md)
BOARD_URL = "udpm://239.255.76.67:7667?ttl=255"
BOARD_RATE = 500.0  # Hz, the SDK's loop
SDK_LEGS = ("FR", "FL", "RR", "RL")
SDK_PARTS = ("abad", "hip", "knee")
SDK_JOINT_NAMES = tuple(f"{leg}_{part}" for leg in SDK_LEGS for part in SDK_PARTS)
SIG = np.tile([1.0, -1.0, -1.0], 4)  # SDK joint = motor value x sig
JOINT_RANGES = np.array(  # SDK convention, rad, in SDK_JOINT_NAMES order
    [[-0.68, 0.68], [-1.33, 2.79], [-2.53, -0.52]] * 2
    + [[-0.68, 0.68], [-0.98, 3.14], [-2.53, -0.52]] * 2
)
JUMP_LIMIT = np.deg2rad(np.tile([8.0, 10.0, 12.0], 4))  # rad per frame, board clamps above
KP_MAX, KD_MAX, TAU_MAX, QD_MAX = 200.0, 10.0, 12.0, 12.0
ERR_LINK_10MS = 0x01  # no command for > 10 ms: targets decay
ERR_LINK_500MS = 0x02  # > 500 ms: high damping, the robot lies down until all-zero frames
ERR_JUMP = {0: 0x04, 1: 0x08, 2: 0x10}  # a q_des jump clamped on an abad / hip / knee
MOTOR_FAULT_MASK = 0x3FFFFFFF
LINK_DECAY_S, LINK_LOST_S = 0.010, 0.500
LOST_KD = 10.0  # N m s/rad, the board's high-damping mode
# Feet folded under the trunk (SDK joint sense, per leg abad, hip, knee; inside every range).
# The stand-up ramp passes through it: from the sprawl the simulated robot sinks into under
# the board's damping (hips at their -1.33 rad stop, legs forward), a straight joint-space
# ramp to the standing pose flipped it onto its back; through this pose it stands up.
TUCK_POSE = np.tile([0.0, 1.0, -2.45], 4)
TUCK_FROM = 0.5  # rad: a start pose this far from the default pose stands up through the tuck

ROUTE_HINT = (
    "connect the PC to the robot's Ethernet port at 192.168.44.100/24 and add the multicast "
    "route (the SDK's auto_lcm_init.sh): sudo ifconfig IFACE multicast && sudo route add -net "
    "224.0.0.0 netmask 240.0.0.0 dev IFACE"
)


# --------------------------------------------------------------------- joint mapping
def policy_index(joint_names: list[str] | tuple[str, ...]) -> np.ndarray:
    """For each policy joint, its index in the SDK's order; refuses names it cannot place."""
    unknown = [n for n in joint_names if n not in SDK_JOINT_NAMES]
    if unknown or len(joint_names) != len(SDK_JOINT_NAMES) or len(set(joint_names)) != 12:
        raise ValueError(
            f"policy joint_names {list(joint_names)} do not fit the CyberDog 2's 12 joints "
            f"{list(SDK_JOINT_NAMES)}"
        )
    return np.array([SDK_JOINT_NAMES.index(n) for n in joint_names])


def wire_to_policy(wire: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Motor-sense values in SDK order (12,) -> joint values in the policy's order."""
    return (np.asarray(wire, dtype=np.float64) * SIG)[index]


def policy_to_wire(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Joint values in the policy's order (12,) -> motor-sense values in SDK order."""
    sdk = np.empty(12)
    sdk[index] = values
    return sdk * SIG + 0.0  # + 0.0: no negative zeros on the wire


def spi_joints(msg: spi_data_t) -> dict[str, np.ndarray]:
    """q, qd, tau (motor sense, SDK order (12,)) and the motor flags of one spi_data."""

    def legs(a: list, h: list, k: list) -> np.ndarray:
        return np.column_stack([a, h, k]).reshape(12).astype(np.float64)

    return {
        "q": legs(msg.q_abad, msg.q_hip, msg.q_knee),
        "qd": legs(msg.qd_abad, msg.qd_hip, msg.qd_knee),
        "tau": legs(msg.tau_abad, msg.tau_hip, msg.tau_knee),
        "flags": np.asarray(msg.flags, dtype=np.int64) & 0xFFFFFFFF,
    }


# --------------------------------------------------------------------- body state
def quat_xyzw_to_wxyz(quat: np.ndarray) -> np.ndarray:
    """The SDK's (x, y, z, w) quaternion in MuJoCo's and the task's (w, x, y, z) order."""
    x, y, z, w = np.asarray(quat, dtype=np.float64)
    return np.array([w, x, y, z])


def rotation(quat_wxyz: np.ndarray) -> np.ndarray:
    """Rotation matrix body -> world of a unit quaternion (w, x, y, z), (3, 3)."""
    w, x, y, z = quat_wxyz / np.linalg.norm(quat_wxyz)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


def gravity_from_rpy(rpy: np.ndarray) -> np.ndarray:
    """Gravity (0, 0, -1) in the body frame from Z-Y-X Euler angles (roll, pitch, yaw)."""
    r, p, _ = rpy
    return np.array([np.sin(p), -np.sin(r) * np.cos(p), -np.cos(r) * np.cos(p)])


def rpy_from_quat(quat_wxyz: np.ndarray) -> np.ndarray:
    """Z-Y-X Euler angles (roll, pitch, yaw) of a unit quaternion (w, x, y, z)."""
    m = rotation(quat_wxyz)
    return np.array(
        [
            np.arctan2(m[2, 1], m[2, 2]),
            np.arcsin(np.clip(-m[2, 0], -1.0, 1.0)),
            np.arctan2(m[1, 0], m[0, 0]),
        ]
    )


def gyro_from_world(omega_world: np.ndarray, quat_wxyz: np.ndarray) -> np.ndarray:
    """A world-frame angular velocity (omegaWorld) in the body frame: R^T omega."""
    return rotation(quat_wxyz).T @ np.asarray(omega_world, dtype=np.float64)


def body_state(msg: state_estimator_lcmt) -> dict[str, np.ndarray]:
    """The policy's IMU readings from one state_estimator message (frames: module doc)."""
    quat = quat_xyzw_to_wxyz(msg.quat)
    return {
        "gravity": projected_gravity(quat),
        "gyro": np.asarray(msg.omegaBody, dtype=np.float64),
        "local_linvel": np.asarray(msg.vBody, dtype=np.float64),
        "quat": quat,
        "rpy": np.asarray(msg.rpy, dtype=np.float64),
        "position": np.asarray(msg.p, dtype=np.float64),  # world frame, the robot's odometry
    }


# --------------------------------------------------------------------- LCM endpoints
class LcmError(RuntimeError):
    """An LCM URL that cannot be opened, or a board that does not answer."""


def open_lcm(url: str) -> Any:
    """``lcm.LCM(url)``, or an LcmError in one line with the C library's reason and the route.

    The lcm C library prints why a URL failed on file descriptor 2 and raises a bare
    "Couldn't create LCM"; that text is caught here and goes into the one-line message.
    """
    import tempfile

    import lcm  # PyPI lcm: the LCM project's own Python binding

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            return lcm.LCM(url)
        except (RuntimeError, OSError) as err:
            failure: BaseException | None = err
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        caught.seek(0)
        said = " ".join(caught.read().decode(errors="replace").split())
    reason = "; ".join(part for part in (said, str(failure)) if part)
    raise LcmError(f"cannot open LCM URL {url!r} ({reason}); {ROUTE_HINT}")


class _Endpoint:
    """One ``lcm.LCM`` per URL in this process, with the one thread that calls handle().

    It subscribes once, to every channel, before its thread starts, and hands each message
    to the Python callbacks of its channel: ``lcm`` subscribe/unsubscribe calls made while
    another thread dispatches could deadlock against the interpreter lock.
    """

    def __init__(self, url: str) -> None:
        self.lc = open_lcm(url)
        self.url = url
        self.users = 0
        self.callbacks: dict[str, list[Callable[[bytes], None]]] = {}
        self._lock = threading.Lock()
        self.lc.subscribe(".*", self._dispatch)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, name=f"lcm {url}", daemon=True)
        self._thread.start()

    def _dispatch(self, channel: str, data: bytes) -> None:
        with self._lock:
            callbacks = list(self.callbacks.get(channel, ()))
        for callback in callbacks:
            callback(data)

    def add(self, channel: str, callback: Callable[[bytes], None]) -> None:
        with self._lock:
            self.callbacks.setdefault(channel, []).append(callback)

    def remove(self, channel: str, callback: Callable[[bytes], None]) -> None:
        with self._lock:
            self.callbacks[channel].remove(callback)

    def _spin(self) -> None:
        while not self._stop.is_set():
            self.lc.handle_timeout(5)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1.0)


_ENDPOINTS: dict[str, _Endpoint] = {}
_ENDPOINTS_LOCK = threading.Lock()


class LcmNode:
    """Publish and subscribe on named channels, each on its URL.

    Objects in one process on the same URL share one ``lcm.LCM`` (so ``memq://`` joins a
    simulated board and a deploy loop in the same process) with one receive thread; the
    callbacks run on that thread.
    """

    def __init__(self, urls: Mapping[str, str]) -> None:
        self.urls = dict(urls)  # channel -> URL
        self._subs: list[tuple[_Endpoint, str, Callable[[bytes], None]]] = []
        self._eps: dict[str, _Endpoint] = {}
        try:
            for url in sorted(set(self.urls.values())):
                self._eps[url] = self._acquire(url)
        except LcmError:
            self.close()
            raise

    @staticmethod
    def _acquire(url: str) -> _Endpoint:
        with _ENDPOINTS_LOCK:
            ep = _ENDPOINTS.get(url)
            if ep is None:
                ep = _ENDPOINTS[url] = _Endpoint(url)
            ep.users += 1
            return ep

    def subscribe(self, channel: str, callback: Callable[[bytes], None]) -> None:
        """Call ``callback(data)`` for every message on ``channel`` (on the receive thread)."""
        ep = self._eps[self.urls[channel]]
        ep.add(channel, callback)
        self._subs.append((ep, channel, callback))

    def publish(self, channel: str, data: bytes) -> None:
        self._eps[self.urls[channel]].lc.publish(channel, data)

    def set_priority(self, priority: int) -> None:
        """SCHED_FIFO ``priority`` for the receive threads (0: the normal scheduler)."""
        policy = os.SCHED_FIFO if priority else os.SCHED_OTHER
        for ep in self._eps.values():
            tid = ep._thread.native_id
            if tid is not None:
                os.sched_setscheduler(tid, policy, os.sched_param(priority))

    def close(self) -> None:
        for ep, channel, callback in self._subs:
            ep.remove(channel, callback)
        self._subs.clear()
        with _ENDPOINTS_LOCK:
            for url, ep in self._eps.items():
                ep.users -= 1
                if ep.users == 0:
                    ep.close()
                    _ENDPOINTS.pop(url, None)
        self._eps.clear()


def channel_urls(board_url: str = BOARD_URL, state_url: str | None = None) -> dict[str, str]:
    """Channel -> URL; state_estimator on port 7669 of a udpm group unless ``state_url`` says."""
    if state_url is None:
        udpm = board_url.startswith("udpm://") and ":7667" in board_url
        state_url = board_url.replace(":7667", ":7669", 1) if udpm else board_url
    return {
        "motor_ctrl": board_url,
        "spi_data": board_url,
        "motor_ctrl_state": board_url,
        "state_estimator": state_url,
    }


# Every SDK type has fixed-size fields only, so each has one encoded size (fingerprint included).
_SIZES = {
    kind: len(kind().encode())
    for kind in (motor_ctrl_lcmt, motor_ctrl_state_lcmt, spi_data_t, state_estimator_lcmt)
}


def _decode(kind: type, data: bytes) -> Any:
    """Decode one message, None when the bytes are not a ``kind`` (wrong type or length).

    The generated decoder checks the fingerprint and a short buffer but not trailing bytes;
    the length is checked here.
    """
    if len(data) != _SIZES[kind]:
        return None
    try:
        return kind.decode(data)
    except (ValueError, struct.error):
        return None


# --------------------------------------------------------------------- simulated board
class SimulatedCyberDog2:
    """The MuJoCo CyberDog 2 behind a simulated motion board, on the SDK's LCM messages.

    At 500 Hz it publishes ``spi_data``, ``state_estimator`` and ``motor_ctrl_state``; the
    latest ``motor_ctrl`` drives the joints through the CyberGear law (``SimRobot``) at every
    physics step. Like the board it starts with err_flag bit 1 set (no low-level control)
    until all-zero frames arrive; past 10 ms without a command it decays the gains (bit 0),
    past 500 ms it holds high damping (kp 0, kd 10) until all-zero frames arrive again (bit 1);
    a q_des jump above 8/10/12 deg from the last applied target is clamped to that step
    (bits 2-4). The jump reference of the first frame after damping is the measured angle.
    """

    def __init__(
        self,
        urls: Mapping[str, str] | None = None,
        options: PhysicsOptions | None = None,
        realtime_priority: int = 0,
    ) -> None:
        self.realtime_priority = realtime_priority  # SCHED_FIFO for its threads (benchmarks)
        self.robot = SimRobot(load_robot(options or PhysicsOptions()))
        self.node = LcmNode(urls or channel_urls())
        self.node.subscribe("motor_ctrl", self._on_command)
        z = np.zeros(12)
        self.cmd = {"q": z.copy(), "qd": z.copy(), "kp": z.copy(), "kd": z.copy(), "tau": z.copy()}
        self.applied_q: np.ndarray | None = None  # SDK sense, last applied q_des
        self.last_command = -np.inf  # perf_counter s
        self.err_flag = ERR_LINK_500MS
        self.low_level = False
        self.motor_flags = np.zeros(12, dtype=np.int64)  # set bits to simulate a motor fault
        self.silent = False  # True: publish nothing (a board that does not answer)
        self.counts = dict.fromkeys(
            ("commands", "bad_messages", "zero_frames", "jump_clamps", "published",
             "link_decay_ticks", "link_lost_ticks", "physics_steps"), 0,
        )  # fmt: skip
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _on_command(self, data: bytes) -> None:
        msg = _decode(motor_ctrl_lcmt, data)
        if msg is None:
            self.counts["bad_messages"] += 1
            return
        fields = ("q_des", "qd_des", "kp_des", "kd_des", "tau_des")
        arrays = [np.asarray(getattr(msg, f), dtype=np.float64) * s for f, s in
                  zip(fields, (SIG, SIG, 1.0, 1.0, SIG), strict=True)]  # fmt: skip
        q, qd, kp, kd, tau = arrays
        with self._lock:
            self.counts["commands"] += 1
            self.last_command = time.perf_counter()
            if not any(a.any() for a in arrays):
                self.counts["zero_frames"] += 1
                self.err_flag &= ~ERR_LINK_500MS
                self.low_level = True
                self.applied_q = None
                self.cmd = {k: np.zeros(12) for k in self.cmd}
                return
            if self.err_flag & ERR_LINK_500MS:
                return  # high damping holds until all-zero frames arrive
            reference = self.applied_q
            if reference is None:
                reference = self.robot.data.qpos[self.robot.qadr]
            step = np.clip(q - reference, -JUMP_LIMIT, JUMP_LIMIT)
            jumped = np.abs(step - (q - reference)) > 1e-5  # float32 on the wire
            self.err_flag &= ~(ERR_JUMP[0] | ERR_JUMP[1] | ERR_JUMP[2])
            for part, bit in ERR_JUMP.items():
                if jumped[part::3].any():
                    self.err_flag |= bit
            self.counts["jump_clamps"] += int(jumped.sum())
            q = reference + step
            self.applied_q = q
            self.cmd = {
                "q": q,
                "qd": np.clip(qd, -QD_MAX, QD_MAX),
                "kp": np.clip(kp, 0.0, KP_MAX),
                "kd": np.clip(kd, 0.0, KD_MAX),
                "tau": np.clip(tau, -TAU_MAX, TAU_MAX),
            }

    def _link(self, now: float) -> None:
        """The board's link timeouts, once per 500 Hz frame (under the lock)."""
        interval = now - self.last_command
        if interval > LINK_LOST_S:
            self.counts["link_lost_ticks"] += 1
            self.err_flag |= ERR_LINK_500MS | ERR_LINK_10MS
            self.applied_q = None
            self.cmd = {k: np.zeros(12) for k in self.cmd}
            self.cmd["kd"] = np.full(12, LOST_KD)
        elif interval > LINK_DECAY_S:
            self.counts["link_decay_ticks"] += 1
            self.err_flag |= ERR_LINK_10MS
            for key in ("kp", "tau"):
                self.cmd[key] = self.cmd[key] * 0.95  # per 2 ms frame
        else:
            self.err_flag &= ~ERR_LINK_10MS
        if not self.low_level:  # not in low-level mode: the board's own damping
            self.cmd = {k: np.zeros(12) for k in self.cmd}
            self.cmd["kd"] = np.full(12, LOST_KD)

    def _physics_step(self) -> None:
        c = self.cmd
        self.robot.physics_step(c["q"], c["kp"], c["kd"], tau_ff=c["tau"], qd_target=c["qd"])
        self.counts["physics_steps"] += 1

    def _publish(self, now: float) -> None:
        r = self.robot
        d = r.data
        q = d.qpos[r.qadr] * SIG
        qd = d.qvel[r.dadr] * SIG
        tau = r.torque * SIG
        spi = spi_data_t()
        spi.q_abad, spi.q_hip, spi.q_knee = (q[i::3].tolist() for i in range(3))
        spi.qd_abad, spi.qd_hip, spi.qd_knee = (qd[i::3].tolist() for i in range(3))
        spi.tau_abad, spi.tau_hip, spi.tau_knee = (tau[i::3].tolist() for i in range(3))
        temp = np.round(r.winding).astype(int)
        spi.tmp_abad, spi.tmp_hip, spi.tmp_knee = (temp[i::3].tolist() for i in range(3))
        spi.flags = [int(f) for f in self.motor_flags]
        readings = r.readings()
        quat = readings["quat"]  # w x y z
        rot = rotation(quat)
        est = state_estimator_lcmt()
        est.p = d.qpos[0:3].tolist()
        est.vBody = readings["local_linvel"].tolist()
        est.vWorld = (rot @ readings["local_linvel"]).tolist()
        est.rpy = rpy_from_quat(quat).tolist()
        est.omegaBody = readings["gyro"].tolist()
        est.omegaWorld = (rot @ readings["gyro"]).tolist()
        est.quat = [quat[1], quat[2], quat[3], quat[0]]  # x y z w
        est.timestamp = int(now * 1e6)
        state = motor_ctrl_state_lcmt()
        state.err_flag = int(self.err_flag)
        state.ctrl_topic_interval = float(min(now - self.last_command, 1e3))
        self.node.publish("spi_data", spi.encode())
        self.node.publish("state_estimator", est.encode())
        self.node.publish("motor_ctrl_state", state.encode())
        self.counts["published"] += 1

    def _run(self) -> None:
        if self.realtime_priority:
            from irondog.agents.deploy import set_realtime_priority

            set_realtime_priority(self.realtime_priority)
            self.node.set_priority(self.realtime_priority)
        frame = 1.0 / BOARD_RATE
        dt = self.robot.model.opt.timestep
        start = time.perf_counter()
        sim_time = 0.0
        k = 0
        while not self._stop.is_set():
            delay = start + k * frame - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            now = time.perf_counter()
            k = max(k + 1, int((now - start) / frame))  # a late frame is skipped, not bunched
            with self._lock:
                self._link(now)
                steps = 0
                while sim_time + dt <= now - start and steps < 10:
                    self._physics_step()
                    sim_time += dt
                    steps += 1
                if steps == 10:
                    sim_time = max(sim_time, now - start - dt)
                if not self.silent:
                    self._publish(now)

    def start(self) -> SimulatedCyberDog2:
        """Run the board and the physics in a background thread."""
        self._thread = threading.Thread(target=self._run, name="simulated-board", daemon=True)
        self._thread.start()
        return self

    def trunk_position(self) -> np.ndarray:
        """Trunk position (3,), m, world frame."""
        with self._lock:
            return self.robot.data.qpos[0:3].copy()

    def sim_time(self) -> float:
        """Simulated seconds so far (behind the wall clock when the machine cannot keep up)."""
        with self._lock:
            return self.counts["physics_steps"] * float(self.robot.model.opt.timestep)

    def trunk_yaw(self) -> float:
        """Trunk heading, rad."""
        with self._lock:
            return float(rpy_from_quat(self.robot.data.qpos[3:7])[2])

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        self.node.close()

    def __enter__(self) -> SimulatedCyberDog2:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()


# --------------------------------------------------------------------- deploy loop
@dataclasses.dataclass(frozen=True)
class LcmDeployConfig:
    """Settings of the CyberDog 2 loop (gains and the policy rate come from the policy file)."""

    command: tuple[float, float, float] = (0.0, 0.0, 0.0)  # vx m/s, vy m/s, yaw rad/s
    gait: tuple[float, ...] | None = None
    stand_time: float = 1.0  # s, ramp from the measured pose (through TUCK_POSE) to the default
    board_timeout: float = 2.0  # s to wait for the board's first spi_data / state_estimator
    feedback_timeout: float = 0.05  # s without spi_data or state_estimator trips the watchdog
    zero_frames: int = 10  # all-zero frames that put the board into low-level mode
    # s of further all-zero frames while the board still reports err_flag bit 1: the SDK
    # clears it only once the robot has lain for 2 s. Still set after this: damping and stop.
    zero_wait: float = 3.0
    damping_kd: float = 1.0  # N m s/rad, our damping after a trip or at the end
    damping_time: float = 0.5  # s of damping frames before the loop stops
    realtime_priority: int = 0
    # Between policy steps: False holds the policy's target for all its board frames (as the
    # simulation the policy was trained in holds it over its physics steps); True moves the
    # frame target linearly from the previous policy target to the new one, reaching it on
    # the step's last frame (smoother q_des, half a policy step of extra lag on average).
    interpolate: bool = False
    # The stand-up ramp goes measured pose -> TUCK_POSE -> default pose, half the time each,
    # when a joint starts more than TUCK_FROM rad from the default pose (a robot that lies or
    # hangs); a robot that already stands ramps straight. False: always straight.
    tuck: bool = True
    # Sleep until this long before each frame, then busy-wait on the clock: Python's sleep
    # wakes late by the scheduler's latency, the spin does not (costs up to spin_s of CPU
    # per 2 ms frame). 0: sleep only.
    spin_s: float = 0.0

    def __post_init__(self) -> None:
        for name in ("board_timeout", "feedback_timeout", "damping_time", "zero_wait"):
            if not getattr(self, name) > 0:
                raise ValueError(f"deploy: {name} must be > 0")
        if self.stand_time < 0:
            raise ValueError("deploy: stand_time must be >= 0")
        if not 1 <= self.zero_frames <= 500:
            raise ValueError("deploy: zero_frames must be in 1..500")
        if not 0 <= self.spin_s < 1.0 / BOARD_RATE:
            raise ValueError(f"deploy: spin_s must be in [0, {1.0 / BOARD_RATE:g}) s")
        if not 0 < self.damping_kd <= KD_MAX:
            raise ValueError(f"deploy: damping_kd must be in (0, {KD_MAX}]")


# What the deploy loop can build an observation from (spi_data, state_estimator, its own state).
LCM_OBSERVATIONS = frozenset(
    ("local_linvel", "gyro", "gravity", "joint_pos", "joint_vel", "last_action", "command",
     "gait", "clock")
)  # fmt: skip


def frame_target(
    start: np.ndarray, end: np.ndarray, j: int, every: int, interpolate: bool
) -> np.ndarray:
    """The target of frame ``j`` (0..every-1) of a policy step that moves ``start`` -> ``end``.

    Holding gives ``end`` on every frame; interpolating gives start + (end - start) (j+1)/every,
    so the step's last frame reaches ``end`` and no frame moves more than 1/every of the step.
    """
    if not interpolate:
        return end
    return start + (end - start) * (min(j, every - 1) + 1) / every


def check_policy(meta: Mapping[str, Any]) -> np.ndarray:
    """Refuse a policy that does not fit the CyberDog 2; its joints' SDK indices.

    Each refusal is a ValueError naming the metadata field: joint_names, action_size,
    default_pose, control_dt, kp / kd, observation_layout.
    """
    index = policy_index(meta["joint_names"])
    if int(meta["action_size"]) != 12:
        raise ValueError(f"policy action_size {meta['action_size']} is not the CyberDog 2's 12")
    pose = np.asarray(meta["default_pose"], dtype=np.float64)
    ranges = JOINT_RANGES[index]
    fits = pose.shape == (12,)
    outside = np.flatnonzero((pose < ranges[:, 0]) | (pose > ranges[:, 1])) if fits else []
    if not fits or len(outside):
        i = int(outside[0]) if len(outside) else 0
        raise ValueError(
            f"policy default_pose {pose.tolist()} is not 12 angles inside the CyberDog 2's "
            f"joint ranges (e.g. {meta['joint_names'][i]}: {ranges[i, 0]:g}..{ranges[i, 1]:g} rad)"
        )
    unknown = [i["name"] for i in meta["observation_layout"] if i["name"] not in LCM_OBSERVATIONS]
    if unknown:
        raise ValueError(
            f"policy observation_layout needs {unknown}, which the CyberDog 2's messages do not "
            f"give (they give {sorted(LCM_OBSERVATIONS)})"
        )
    ratio = float(meta["control_dt"]) * BOARD_RATE
    if not (ratio >= 1 and abs(ratio - round(ratio)) < 1e-6):
        raise ValueError(
            f"policy control_dt {meta['control_dt']} s is not a whole number of the board's "
            f"{1e3 / BOARD_RATE:g} ms frames"
        )
    if not 0 <= float(meta["kp"]) <= KP_MAX or not 0 <= float(meta["kd"]) <= KD_MAX:
        raise ValueError(
            f"policy kp {meta['kp']} / kd {meta['kd']} exceed the board's 0-200 / 0-10"
        )
    return index


class LcmDeployLoop:
    """Runs an ONNX policy on a CyberDog 2 (or the simulated board) over its LCM messages.

    The policy runs at its control rate (50 Hz); between policy steps the loop holds the
    target, or with ``interpolate`` moves it linearly to the new one (``frame_target``), and
    sends ``motor_ctrl`` at the board's 500 Hz. Safety: all-zero start frames; a ramp from
    the measured pose (through a tucked one) to the default pose; targets clamped to the joint
    ranges, to
    ``|Kp (q* - q)| <= torque_limit`` and to the per-frame jump limits (each clamp counted);
    err_flag bit 1 (link lost), any motor flag in 0x3FFFFFFF, missing spi_data or body state,
    or a NaN latch damping (kp 0, kd ``damping_kd``) for ``damping_time`` and then stop.
    """

    def __init__(
        self,
        policy: OnnxPolicy,
        urls: Mapping[str, str] | None = None,
        config: LcmDeployConfig | None = None,
        command: Callable[[float], np.ndarray] | None = None,
    ) -> None:
        self.policy = policy
        self.cfg = config or LcmDeployConfig()
        meta = policy.metadata
        self.index = check_policy(meta)
        self.dt = float(meta["control_dt"])
        self.every = round(self.dt * BOARD_RATE)  # board frames per policy step
        self.kp, self.kd = float(meta["kp"]), float(meta["kd"])
        self.default_pose = np.asarray(meta["default_pose"], dtype=np.float64)
        limits = np.asarray(meta["joint_limits"], dtype=np.float64)
        sdk = JOINT_RANGES[self.index]  # the tighter of the policy's and the SDK's ranges
        self.limits = np.column_stack([np.maximum(limits[:, 0], sdk[:, 0]),
                                       np.minimum(limits[:, 1], sdk[:, 1])])  # fmt: skip
        self.jump = JUMP_LIMIT[self.index] - 1e-4  # rad: inside the board's limit in float32
        self.torque_limit = float(meta["torque_limit"])
        self.action_scale = float(meta["action_scale"])
        self.action_clip = float(meta["action_clip"])
        fixed = np.asarray(self.cfg.command, dtype=np.float64)
        self.command_at = command or (lambda _t: fixed)
        self.command = fixed
        self.gait = None if self.cfg.gait is None else np.asarray(self.cfg.gait, np.float64)
        self.phase = 0.0
        self.q = np.full(12, np.nan)
        self.qd = np.full(12, np.nan)
        self.flags = np.zeros(12, dtype=np.int64)
        self.imu: dict[str, np.ndarray] | None = None
        self.err_flag = 0
        self.seen = {"spi_data": -np.inf, "state_estimator": -np.inf, "motor_ctrl_state": -np.inf}
        self.last_action = np.zeros(12)
        self.target: np.ndarray | None = None  # policy order, rad, this frame's target
        self.step_from: np.ndarray | None = None  # the frame target when the last step began
        self.step_to: np.ndarray | None = None  # the last policy step's target
        self.sent_q: np.ndarray | None = None  # policy order, the last q_des sent
        self.tripped: str | None = None
        self.counts = dict.fromkeys(
            ("spi_data", "state_estimator", "motor_ctrl_state", "bad_messages", "sent",
             "frames", "policy_steps", "clamped_targets", "jump_clamps", "late_frames",
             "board_decay_flags", "board_jump_flags"), 0,
        )  # fmt: skip
        self.jitter: list[float] = []  # s, frame start minus its schedule
        self.latency: list[float] = []  # s, newest spi_data arrival to the command sent
        self.compute: list[float] = []  # s, frame start to its command sent
        self.policy_time: list[float] = []  # s, one ONNX policy call
        # s, the newest state_estimator's own timestamp to the command sent: end to end, from
        # the board's publish; only where the board stamps with this machine's monotonic
        # clock (the simulated board), so kept only when it is plausible (0..1 s).
        self.end_to_end: list[float] = []
        self.state_stamp = -np.inf  # s, timestamp of the newest state_estimator
        self._lock = threading.Lock()
        self.node = LcmNode(urls or channel_urls())
        self.node.subscribe("spi_data", self._on_spi)
        self.node.subscribe("state_estimator", self._on_state)
        self.node.subscribe("motor_ctrl_state", self._on_link)

    # ------------------------------------------------------------------ receiving
    def _on_spi(self, data: bytes) -> None:
        msg = _decode(spi_data_t, data)
        if msg is None:
            self.counts["bad_messages"] += 1
            return
        j = spi_joints(msg)
        with self._lock:
            self.q = wire_to_policy(j["q"], self.index)
            self.qd = wire_to_policy(j["qd"], self.index)
            self.flags = j["flags"][self.index]
            self.seen["spi_data"] = time.perf_counter()
            self.counts["spi_data"] += 1

    def _on_state(self, data: bytes) -> None:
        msg = _decode(state_estimator_lcmt, data)
        if msg is None:
            self.counts["bad_messages"] += 1
            return
        imu = body_state(msg)
        with self._lock:
            self.imu = imu
            self.state_stamp = msg.timestamp * 1e-6
            self.seen["state_estimator"] = time.perf_counter()
            self.counts["state_estimator"] += 1

    def _on_link(self, data: bytes) -> None:
        msg = _decode(motor_ctrl_state_lcmt, data)
        if msg is None:
            self.counts["bad_messages"] += 1
            return
        with self._lock:
            self.err_flag = int(msg.err_flag)
            self.seen["motor_ctrl_state"] = time.perf_counter()
            self.counts["motor_ctrl_state"] += 1

    # ------------------------------------------------------------------ sending
    def _send(self, q: np.ndarray, kp: float, kd: float) -> None:
        msg = motor_ctrl_lcmt()
        msg.q_des = policy_to_wire(q, self.index).tolist()
        msg.qd_des = [0.0] * 12
        msg.kp_des = [float(kp)] * 12
        msg.kd_des = [float(kd)] * 12
        msg.tau_des = [0.0] * 12
        self.node.publish("motor_ctrl", msg.encode())
        self.counts["sent"] += 1

    def _send_zero(self) -> None:
        self._send(np.zeros(12), 0.0, 0.0)

    def _send_damping(self) -> None:
        # kp 0, so q_des acts on nothing; the last target keeps the board's jump check quiet.
        hold = self.sent_q if self.sent_q is not None else np.zeros(12)
        self._send(hold, 0.0, self.cfg.damping_kd)

    # ------------------------------------------------------------------ safety
    def trip(self, reason: str) -> None:
        """Latch the watchdog: damping from now on, then stop."""
        if self.tripped is None:
            self.tripped = reason

    def safe_targets(self, target: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Joint ranges, the torque reach and the board's per-frame jump limits, counted."""
        clamped = np.clip(target, self.limits[:, 0], self.limits[:, 1])
        if self.kp > 0:
            reach = self.torque_limit / self.kp
            clamped = np.clip(clamped, q - reach, q + reach)
        self.counts["clamped_targets"] += int(np.sum(np.abs(clamped - target) > 1e-9))
        reference = q if self.sent_q is None else self.sent_q
        stepped = np.clip(clamped, reference - self.jump, reference + self.jump)
        self.counts["jump_clamps"] += int(np.sum(np.abs(stepped - clamped) > 1e-9))
        return stepped

    def _check(self, now: float, q: np.ndarray, flags: np.ndarray, err: int) -> None:
        for name, seen in self.seen.items():
            if name != "motor_ctrl_state" and now - seen > self.cfg.feedback_timeout:
                return self.trip(f"no {name} for {self.cfg.feedback_timeout * 1e3:.0f} ms")
        if err & ERR_LINK_500MS:
            return self.trip("board reports err_flag bit 1: link lost for > 500 ms")
        faulty = np.flatnonzero(flags & MOTOR_FAULT_MASK)
        if faulty.size:
            names = [self.policy.metadata["joint_names"][i] for i in faulty]
            codes = [hex(int(flags[i])) for i in faulty]
            return self.trip(f"motor fault flags {codes} on {names}")
        if not np.isfinite(q).all():
            return self.trip("NaN or infinity in the joint data")
        return None

    # ------------------------------------------------------------------ loop
    def wait_for_board(self) -> None:
        """Wait for joint data and body state; refuse to start on a quaternion/rpy mismatch."""
        deadline = time.perf_counter() + self.cfg.board_timeout
        while time.perf_counter() < deadline:
            if np.isfinite(self.seen["spi_data"]) and np.isfinite(self.seen["state_estimator"]):
                break
            time.sleep(0.01)
        else:
            missing = [n for n in ("spi_data", "state_estimator") if not np.isfinite(self.seen[n])]
            urls = sorted({self.node.urls[n] for n in missing})
            raise LcmError(
                f"no {' or '.join(missing)} from the board within {self.cfg.board_timeout:g} s "
                f"on {', '.join(urls)}; is the robot on, low-level control allowed, and is the "
                f"route set? {ROUTE_HINT}"
            )
        with self._lock:
            imu = self.imu
        assert imu is not None
        if np.abs(imu["gravity"] - gravity_from_rpy(imu["rpy"])).max() > 0.05:
            raise LcmError(
                "state_estimator: quat and rpy disagree (is quat in x, y, z, w order?); "
                "refusing to start"
            )

    def stand_target(self, t: float, start_pose: np.ndarray) -> np.ndarray:
        """The ramp's target ``t`` s in: start -> tucked -> default pose (or start -> default)."""
        blend = min(t / self.cfg.stand_time, 1.0) if self.cfg.stand_time else 1.0
        if not self.cfg.tuck:
            return (1.0 - blend) * start_pose + blend * self.default_pose
        tucked = TUCK_POSE[self.index]
        if not np.max(np.abs(start_pose - self.default_pose)) > TUCK_FROM:
            return (1.0 - blend) * start_pose + blend * self.default_pose
        if blend < 0.5:
            return start_pose + (tucked - start_pose) * (2.0 * blend)
        return tucked + (self.default_pose - tucked) * (2.0 * blend - 1.0)

    def frame(self, k: int, start_pose: np.ndarray) -> None:
        """Board frame ``k``: the policy every ``self.every`` frames, a command every frame."""
        now = time.perf_counter()
        self.counts["frames"] += 1
        with self._lock:
            q, qd, flags, err, imu = self.q, self.qd, self.flags, self.err_flag, self.imu
            received, stamp = self.seen["spi_data"], self.state_stamp
        self.counts["board_decay_flags"] += bool(err & ERR_LINK_10MS)
        self.counts["board_jump_flags"] += bool(err & 0x1C)
        if self.tripped is None:
            self._check(now, q, flags, err)
        if self.tripped is not None:
            self._send_damping()
            return
        t = k / BOARD_RATE
        first_policy_frame = round(self.cfg.stand_time * BOARD_RATE)
        if k < first_policy_frame:
            self.target = self.stand_target(t, start_pose)
        else:
            j = (k - first_policy_frame) % self.every  # frame within the policy step
            if j == 0:
                assert imu is not None
                observe = getattr(self.command_at, "observe", None)
                if observe is not None:  # a plan followed on odometry (PlanFollower)
                    observe(imu["position"], float(imu["rpy"][2]))
                self.command = np.asarray(self.command_at(t - self.cfg.stand_time), np.float64)
                readings = {**imu, "joint_pos": q, "joint_vel": qd}
                meta = self.policy.metadata
                obs = build_observation(
                    meta["observation_layout"], readings, self.default_pose, self.last_action,
                    self.command, self.gait, self.phase,
                )  # fmt: skip
                if not np.isfinite(obs).all():
                    self.trip("NaN or infinity in the observation")
                    return self._send_damping()
                called = time.perf_counter()
                action = self.policy(obs).astype(np.float64)
                self.policy_time.append(time.perf_counter() - called)
                if not np.isfinite(action).all():
                    self.trip("NaN or infinity in the policy's action")
                    return self._send_damping()
                action = np.clip(action, -self.action_clip, self.action_clip)
                self.last_action = action
                self.counts["policy_steps"] += 1
                if self.gait is not None:
                    self.phase = (self.phase + self.gait[0] * self.dt) % 1.0
                self.step_from = self.default_pose if self.target is None else self.target
                self.step_to = self.default_pose + self.action_scale * action
            assert self.step_from is not None and self.step_to is not None
            self.target = frame_target(
                self.step_from, self.step_to, j, self.every, self.cfg.interpolate
            )
        assert self.target is not None
        q_des = self.safe_targets(self.target, q)
        self._send(q_des, self.kp, self.kd)
        self.sent_q = q_des
        sent = time.perf_counter()
        self.latency.append(sent - received)
        self.compute.append(sent - now)
        if 0.0 <= sent - stamp < 1.0:
            self.end_to_end.append(sent - stamp)

    def run(
        self, duration: float | None = None, on_frame: Callable[[int], None] | None = None
    ) -> dict[str, Any]:
        """Zero frames, ramp, policy for ``duration`` s (None: until Ctrl-C), damping; a report."""
        self.wait_for_board()
        frame = 1.0 / BOARD_RATE
        spin = self.cfg.spin_s
        interrupted = False
        previous_switch = sys.getswitchinterval()
        sys.setswitchinterval(2e-4)
        if self.cfg.realtime_priority:
            from irondog.agents.deploy import set_realtime_priority

            set_realtime_priority(self.cfg.realtime_priority)
            self.node.set_priority(self.cfg.realtime_priority)
        try:
            for _ in range(self.cfg.zero_frames):  # into low-level mode, link errors cleared
                self._send_zero()
                time.sleep(frame)
            deadline = time.perf_counter() + self.cfg.zero_wait
            while self.err_flag & ERR_LINK_500MS and time.perf_counter() < deadline:
                self._send_zero()
                time.sleep(frame)
            with self._lock:
                start_pose = self.q.copy()
            start = time.perf_counter()
            k = 0
            while duration is None or k * frame < duration:
                scheduled = start + k * frame
                delay = scheduled - time.perf_counter()
                if delay > spin:
                    time.sleep(delay - spin)
                while time.perf_counter() < scheduled:  # the busy-wait tail (spin_s)
                    pass
                late = time.perf_counter() - scheduled
                self.jitter.append(late)
                if late > frame:
                    self.counts["late_frames"] += 1
                self.frame(k, start_pose)
                if on_frame is not None:
                    on_frame(k)
                if self.tripped is not None:
                    break
                k += 1
        except KeyboardInterrupt:
            interrupted = True
        finally:
            end = time.perf_counter() + self.cfg.damping_time
            while time.perf_counter() < end:
                self._send_damping()
                time.sleep(frame)
            sys.setswitchinterval(previous_switch)
            if self.cfg.realtime_priority:
                os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
                self.node.set_priority(0)
        return self.report(interrupted)

    def close(self) -> None:
        self.node.close()

    def report(self, interrupted: bool = False) -> dict[str, Any]:
        """Counts, watchdog state, loop jitter and state-to-command latency."""
        from irondog.agents.deploy import jitter_report

        def ms(values: list[float], q: float) -> float | None:
            return float(np.percentile(values, q) * 1e3) if values else None

        latency = np.asarray(self.latency or [0.0]) * 1e3
        return {
            **self.counts,
            "watchdog": self.tripped,
            "interrupted": interrupted,
            **jitter_report(self.jitter),
            "latency_ms_p50": float(np.percentile(latency, 50)),
            "latency_ms_p99": float(np.percentile(latency, 99)),
            "end_to_end_ms_p50": ms(self.end_to_end, 50),
            "end_to_end_ms_p99": ms(self.end_to_end, 99),
            "frame_compute_ms_p50": ms(self.compute, 50),
            "frame_compute_ms_p99": ms(self.compute, 99),
            "policy_ms_p50": ms(self.policy_time, 50),
            "policy_ms_p99": ms(self.policy_time, 99),
        }


# --------------------------------------------------------------------- command sources
def plan_schedule(
    segments: list[Any] | tuple[Any, ...], ranges: Mapping[str, Any] | None = None
) -> Callable[[float], np.ndarray]:
    """The joystick command at ``t`` s into a timed plan (voice segments), zero after its end.

    Each segment holds (vx, vy, yaw_rate) for its ``duration_s``; values are clipped to the
    policy's trained ``ranges``.
    """
    ends = np.cumsum([float(s.duration_s) for s in segments]) if segments else np.zeros(0)
    values = np.array([[s.vx, s.vy, s.yaw_rate] for s in segments], dtype=np.float64)
    if ranges is not None and len(values):
        for i, name in enumerate(("lin_vel_x", "lin_vel_y", "yaw_rate")):
            values[:, i] = np.clip(values[:, i], *ranges[name])

    def command_at(t: float) -> np.ndarray:
        i = int(np.searchsorted(ends, t, side="right"))
        return values[i].copy() if i < len(values) else np.zeros(3)

    return command_at


class PlanFollower:
    """A timed plan (voice segments) followed on the robot's own odometry.

    A segment that moves ends when the trunk has gone its distance (duration_s x its planned
    speed) from where the segment began, by ``state_estimator``'s position ``p``; a turn on
    the spot ends when the heading (yaw of ``rpy``) has turned its angle; anything else after
    its ``duration_s``. A segment the robot cannot finish (a command clipped to zero by the
    trained ranges, a robot that is stuck) ends once ``timeout_factor`` x its duration has
    passed and the last second brought less than 5% of its goal; one still making progress
    (a robot slower than told) goes on, up to ``limit_factor`` x its duration. Open loop, in
    time alone, a robot that tracks 0.46 of a commanded 0.5 m/s and needs half a second to
    get going stops short of "two meters" (``plan_schedule``).
    The deploy loop calls ``observe`` before each policy step and then the follower.
    """

    def __init__(
        self,
        segments: list[Any] | tuple[Any, ...],
        ranges: Mapping[str, Any] | None = None,
        timeout_factor: float = 2.0,
        limit_factor: float = 5.0,
    ) -> None:
        planned = np.array([[s.vx, s.vy, s.yaw_rate] for s in segments], np.float64)
        self.durations = np.array([float(s.duration_s) for s in segments])
        self.values = planned.reshape(-1, 3).copy()
        if ranges is not None and len(self.values):
            for i, name in enumerate(("lin_vel_x", "lin_vel_y", "yaw_rate")):
                self.values[:, i] = np.clip(self.values[:, i], *ranges[name])
        speed = np.hypot(planned[:, 0], planned[:, 1]) if len(planned) else np.zeros(0)
        self.goals = []  # (kind, amount): distance m, angle rad or time s
        for k in range(len(planned)):
            if speed[k] > 0:
                self.goals.append(("distance", float(self.durations[k] * speed[k])))
            elif planned[k, 2] != 0:
                self.goals.append(("angle", float(self.durations[k] * abs(planned[k, 2]))))
            else:
                self.goals.append(("time", float(self.durations[k])))
        self.timeout_factor = timeout_factor
        self.limit_factor = limit_factor
        self._history: list[tuple[float, float]] = []  # (t, progress) in this segment
        self.index = -1
        self.position = np.zeros(2)
        self.yaw = 0.0
        self.turned = 0.0
        self._last_yaw = 0.0
        self._began = (0.0, np.zeros(2))  # t, position where the segment began
        self.done: list[dict[str, Any]] = []  # one record per finished segment

    def observe(self, position_xy: np.ndarray, yaw: float) -> None:
        """The trunk's position (m, world xy) and heading (rad) from the state estimator."""
        self.position = np.asarray(position_xy, np.float64)[:2]
        step = (float(yaw) - self._last_yaw + np.pi) % (2 * np.pi) - np.pi
        self.turned += step
        self._last_yaw = self.yaw = float(yaw)

    def _progress(self, t: float) -> float:
        kind, _ = self.goals[self.index]
        if kind == "distance":
            return float(np.linalg.norm(self.position - self._began[1]))
        if kind == "angle":
            return abs(self.turned)
        return t - self._began[0]

    def __call__(self, t: float) -> np.ndarray:
        """The command at ``t`` s into the plan; zero once every segment is done."""
        while self.index < len(self.goals):
            if self.index >= 0:
                kind, goal = self.goals[self.index]
                progress = self._progress(t)
                elapsed = t - self._began[0]
                duration = self.durations[self.index]
                self._history.append((t, progress))
                while self._history and self._history[0][0] < t - 1.0:
                    self._history.pop(0)
                gained = progress - self._history[0][1]  # over the last second
                stalled = gained < 0.05 * goal and elapsed >= self.timeout_factor * duration
                if kind == "time":
                    going = elapsed < duration
                else:
                    going = progress < goal and not stalled
                if going and elapsed < self.limit_factor * max(duration, 1e-9):
                    return self.values[self.index].copy()
                self.done.append({"segment": self.index, "goal": kind, "target": round(goal, 3),
                                  "reached": round(progress, 3), "seconds": round(elapsed, 2),
                                  "timed_out": bool(progress < goal)})  # fmt: skip
            self.index += 1
            self._began = (t, self.position.copy())
            self.turned = 0.0
            self._history = []
        return np.zeros(3)


class TerminalKeys:
    """Arrow keys in the terminal steer the command, as in ``irondog view``.

    Up/down: vx +/- 0.1 m/s; page up/down: vy +/- 0.1 m/s; left/right: yaw +/- 0.2 rad/s;
    home or space: zero. Reads the terminal ``fd`` (stdin) in cbreak mode on a thread;
    ``restore()`` puts it back. ``feed`` takes the bytes a terminal sends, so with
    ``terminal=False`` the key handling runs without one.
    """

    SEQUENCES = {b"\x1b[A": 265, b"\x1b[B": 264, b"\x1b[C": 262, b"\x1b[D": 263,
                 b"\x1b[5~": 266, b"\x1b[6~": 267, b"\x1b[H": 268, b"\x1bOH": 268,
                 b"\x1b[1~": 268, b" ": 268}  # fmt: skip

    def __init__(
        self, ranges: Mapping[str, Any], fd: int | None = None, terminal: bool = True
    ) -> None:
        from types import SimpleNamespace

        self.ranges = ranges
        self.limits = SimpleNamespace(
            lin_vel_x=ranges["lin_vel_x"], lin_vel_y=ranges["lin_vel_y"],
            yaw_rate=ranges["yaw_rate"],
        )  # fmt: skip
        self.command = np.zeros(3)
        self.keys = 0  # keys understood so far
        self._pending = b""
        self._fd: int | None = None
        self._saved: Any = None
        if terminal:
            try:
                fd = sys.stdin.fileno() if fd is None else fd
            except (OSError, ValueError, AttributeError):  # no stdin, or one without a file
                raise ValueError("--keyboard needs a terminal on stdin") from None
            self._attach(fd)

    def _attach(self, fd: int) -> None:
        import termios
        import tty

        if not os.isatty(fd):
            raise ValueError("--keyboard needs a terminal on stdin")
        self._fd = fd
        self._saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)
        threading.Thread(target=self._read, name="keys", daemon=True).start()

    def feed(self, data: bytes) -> np.ndarray:
        """Apply the keys in ``data`` (a sequence may be split across calls); the command."""
        from irondog.agents.joystick_keys import apply_key

        buffer = self._pending + data
        while buffer:
            for seq, key in self.SEQUENCES.items():
                if buffer.startswith(seq):
                    self.command = apply_key(self.command, key, self.limits)
                    self.keys += 1
                    buffer = buffer[len(seq) :]
                    break
            else:
                if any(seq.startswith(buffer) for seq in self.SEQUENCES):
                    break  # the start of a sequence: wait for the rest
                buffer = buffer[1:]  # a key we do not use
        self._pending = buffer
        return self.command

    def _read(self) -> None:
        assert self._fd is not None
        while True:
            try:
                data = os.read(self._fd, 16)
            except OSError:
                return
            if not data:
                return
            self.feed(data)

    def __call__(self, _t: float) -> np.ndarray:
        return self.command

    def restore(self) -> None:
        import termios

        if self._fd is not None:
            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
