"""The 50 Hz CAN deployment loop for 12 CyberGear motors, and a simulated robot that answers it.

``DeployLoop`` talks to the motors through any python-can bus. Each control tick it

1. re-sends the command the motors already hold, so that every motor answers with fresh
   feedback (type 2), and waits briefly for the 12 replies;
2. builds the observation exactly as the policy file's metadata describes (IMU readings from
   an ``imu`` callable, joint readings from the feedback);
3. runs the ONNX policy (onnxruntime, one thread) and sends 12 operation-mode frames.

Safety: joint targets are clamped to the joint limits and to the torque limit
(``|Kp (q* - q)| <= torque_limit``); a watchdog latches zero-torque damping (Kp = 0, Kd > 0)
when feedback times out, a motor reports a fault or leaves run mode, or a NaN appears;
Ctrl-C (and every other exit) sends stop frames. Malformed and unexpected frames are counted,
never fatal.

``SimulatedCanRobot`` is the CyberDog 2 MJCF in plain MuJoCo behind a CAN bus (python-can's
virtual interface): 12 motors that answer enable/stop/set-zero/get-id and operation frames
and apply the CyberGear MIT law at every 0.004 s physics step, paced to the wall clock.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import can
import numpy as np

from irondog.agents.onnx_runner import (
    OnnxPolicy,
    PhysicsOptions,
    SimRobot,
    build_observation,
    load_robot,
)
from irondog.motors import can_protocol as cp

DEFAULT_MOTOR_IDS = tuple(range(1, 13))  # CAN ids in joint order FR, FL, RR, RL x abad, hip, knee

ImuReadings = Mapping[str, np.ndarray]  # local_linvel (3,), gyro (3,), quat (4,) or gravity (3,)


def still_imu() -> dict[str, np.ndarray]:
    """Upright and at rest: for bench tests of the motors without an IMU (not for walking)."""
    return {"local_linvel": np.zeros(3), "gyro": np.zeros(3), "gravity": np.array([0.0, 0.0, -1.0])}


def set_realtime_priority(priority: int) -> None:
    """Put the calling thread under SCHED_FIFO at ``priority`` (Linux; root or CAP_SYS_NICE)."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except (PermissionError, AttributeError, OSError) as err:
        raise RuntimeError(
            f"deploy: cannot set real-time priority {priority} ({err}); run as root, grant "
            "CAP_SYS_NICE, or leave --rt-priority at 0"
        ) from None


class SimulatedCanRobot:
    """The MuJoCo CyberDog 2 answering as 12 CyberGear motors on a python-can bus."""

    def __init__(
        self,
        channel: str,
        motor_ids: tuple[int, ...] = DEFAULT_MOTOR_IDS,
        host_id: int = cp.DEFAULT_HOST_ID,
        options: PhysicsOptions | None = None,
        interface: str = "virtual",
    ) -> None:
        self.bus = can.Bus(interface=interface, channel=channel)
        self.robot = SimRobot(load_robot(options or PhysicsOptions()))
        self.motor_ids = tuple(motor_ids)
        self.index = {mid: i for i, mid in enumerate(self.motor_ids)}
        self.host_id = host_id
        n = len(self.motor_ids)
        self.enabled = np.zeros(n, dtype=bool)
        self.zero_offset = np.zeros(n)  # rad, set by set-zero frames
        self.target = self.robot.readings()["joint_pos"]  # rad (joint frame)
        self.velocity = np.zeros(n)
        self.kp = np.zeros(n)
        self.kd = np.zeros(n)
        self.torque_ff = np.zeros(n)
        self.silent = False  # True: receive but never answer (watchdog tests)
        self.frames_in = 0
        self.bad_frames = 0
        self.physics_steps = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ bus side
    def _reply(self, i: int) -> None:
        if self.silent:
            return
        r = self.robot
        q = float(r.data.qpos[r.qadr[i]]) - self.zero_offset[i]
        msg = cp.encode_feedback(
            self.motor_ids[i], self.host_id, q, float(r.data.qvel[r.dadr[i]]),
            float(r.torque[i]), float(r.winding[i]), faults=0, mode=2 if self.enabled[i] else 0,
        )  # fmt: skip
        self.bus.send(msg)

    def handle(self, msg: can.Message) -> None:
        """React to one frame from the bus, as the addressed motor would."""
        self.frames_in += 1
        try:
            comm = cp.comm_type_of(msg)
            if comm == cp.COMM_CONTROL:
                cmd = cp.decode_control(msg)
                i = self.index.get(cmd.motor_id)
                if i is None:
                    return
                with self._lock:
                    self.target[i] = cmd.angle + self.zero_offset[i]
                    self.velocity[i], self.kp[i], self.kd[i] = cmd.velocity, cmd.kp, cmd.kd
                    self.torque_ff[i] = cmd.torque
                    self._reply(i)
            elif comm in (cp.COMM_ENABLE, cp.COMM_STOP, cp.COMM_SET_ZERO, cp.COMM_GET_ID):
                req = cp.decode_simple(msg)
                i = self.index.get(req.motor_id)
                if i is None:
                    return
                with self._lock:
                    if comm == cp.COMM_GET_ID:
                        if not self.silent:
                            self.bus.send(cp.encode_get_id_reply(req.motor_id, 0xC0FFEE00 + i))
                        return
                    if comm == cp.COMM_ENABLE:
                        self.enabled[i] = True
                    elif comm == cp.COMM_STOP:
                        self.enabled[i] = False
                    else:
                        self.zero_offset[i] = float(self.robot.data.qpos[self.robot.qadr[i]])
                    self._reply(i)
        except cp.FrameError:
            self.bad_frames += 1

    def imu(self) -> dict[str, np.ndarray]:
        """The simulated IMU (velocimeter, gyro, orientation), read under the physics lock."""
        with self._lock:
            readings = self.robot.readings()
        return {k: readings[k] for k in ("local_linvel", "gyro", "quat")}

    def trunk_height(self) -> float:
        """Trunk height, m (world z)."""
        with self._lock:
            return float(self.robot.data.qpos[2])

    def trunk_position(self) -> np.ndarray:
        """Trunk position (3,), m, world frame."""
        with self._lock:
            return self.robot.data.qpos[0:3].copy()

    # ------------------------------------------------------------------ physics side
    def _physics_step(self) -> None:
        with self._lock:
            on = self.enabled
            # A disabled motor gives no torque (Kp = Kd = 0, no feed-forward).
            self.robot.physics_step(
                self.target,
                np.where(on, self.kp, 0.0),
                np.where(on, self.kd, 0.0),
                tau_ff=np.where(on, self.torque_ff, 0.0),
                qd_target=np.where(on, self.velocity, 0.0),
            )
            self.physics_steps += 1

    def _run(self) -> None:
        dt = self.robot.model.opt.timestep
        start = time.perf_counter()
        sim_time = 0.0
        while not self._stop.is_set():
            wait = start + sim_time + dt - time.perf_counter()
            msg = self.bus.recv(timeout=max(wait, 0.0))
            if msg is not None:
                self.handle(msg)
            # Catch up with the wall clock (at most 10 steps at once, then drop the backlog),
            # also while frames keep arriving.
            steps = 0
            while time.perf_counter() >= start + sim_time + dt and steps < 10:
                self._physics_step()
                sim_time += dt
                steps += 1
            if steps == 10 and time.perf_counter() >= start + sim_time + dt:
                sim_time = time.perf_counter() - start

    def start(self) -> SimulatedCanRobot:
        """Run the motors and the physics in a background thread."""
        self._thread = threading.Thread(target=self._run, name="simulated-cyberdog", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop the thread and leave the bus."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        while (msg := self.bus.recv(timeout=0.0)) is not None:  # frames sent before closing
            self.handle(msg)
        self.bus.shutdown()

    def __enter__(self) -> SimulatedCanRobot:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()


@dataclasses.dataclass(frozen=True)
class DeployConfig:
    """Settings of the deployment loop (gains and timing come from the policy file)."""

    motor_ids: tuple[int, ...] = DEFAULT_MOTOR_IDS
    host_id: int = cp.DEFAULT_HOST_ID
    command: tuple[float, float, float] = (0.0, 0.0, 0.0)  # vx m/s, vy m/s, yaw rad/s
    gait: tuple[float, ...] | None = None  # (8,) gait command of a gait-conditioned policy
    stand_time: float = 1.0  # s, ramp from the measured pose to the default pose first
    feedback_timeout: float = 0.1  # s without feedback from a motor trips the watchdog
    reply_wait: float = 0.004  # s, longest wait for the 12 replies within a tick
    damping_kd: float = 1.0  # N m s/rad, the watchdog's zero-torque damping
    enable_timeout: float = 1.0  # s for every motor to answer the enable frame
    # Linux SCHED_FIFO priority (1-99) of the loop's thread; 0 keeps the normal scheduler.
    # Needs root or CAP_SYS_NICE; on a loaded machine it is what keeps the jitter low.
    realtime_priority: int = 0

    def __post_init__(self) -> None:
        if len(self.motor_ids) != len(set(self.motor_ids)):
            raise ValueError(f"deploy: motor ids repeat: {self.motor_ids}")
        for name in ("feedback_timeout", "reply_wait", "enable_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"deploy: {name} must be > 0")
        if not 0 < self.damping_kd <= cp.KD_RANGE[1]:
            raise ValueError(f"deploy: damping_kd must be in (0, {cp.KD_RANGE[1]}]")
        if self.stand_time < 0:
            raise ValueError("deploy: stand_time must be >= 0")
        if not 0 <= self.realtime_priority <= 99:
            raise ValueError("deploy: realtime_priority must be in 0..99")


def jitter_report(lateness: list[float]) -> dict[str, float]:
    """p50 / p99 / max of a loop's lateness in ms (the first tick, the warm-up, left out)."""
    jitter = np.abs(np.asarray(lateness[1:] or [0.0])) * 1e3
    return {
        "jitter_ms_p50": float(np.percentile(jitter, 50)),
        "jitter_ms_p99": float(np.percentile(jitter, 99)),
        "jitter_ms_max": float(jitter.max()),
    }


class DeployLoop:
    """Runs an ONNX policy on the motors at the policy's control rate (50 Hz)."""

    def __init__(
        self,
        policy: OnnxPolicy,
        bus: can.BusABC,
        imu: Callable[[], ImuReadings],
        config: DeployConfig | None = None,
    ) -> None:
        self.policy = policy
        self.bus = bus
        self.imu = imu
        self.cfg = config or DeployConfig()
        meta = policy.metadata
        n = len(meta["joint_names"])
        if len(self.cfg.motor_ids) != n:
            raise ValueError(f"deploy: {len(self.cfg.motor_ids)} motor ids for {n} joints")
        self.index = {mid: i for i, mid in enumerate(self.cfg.motor_ids)}
        self.dt = float(meta["control_dt"])
        self.kp, self.kd = float(meta["kp"]), float(meta["kd"])
        self.default_pose = np.asarray(meta["default_pose"], dtype=np.float64)
        self.limits = np.asarray(meta["joint_limits"], dtype=np.float64)  # (12, 2) rad
        self.torque_limit = float(meta["torque_limit"])
        self.action_scale, self.action_clip = (
            float(meta["action_scale"]),
            float(meta["action_clip"]),
        )
        self.command = np.asarray(self.cfg.command, dtype=np.float64)
        self.gait = None if self.cfg.gait is None else np.asarray(self.cfg.gait, np.float64)
        self.phase = 0.0  # gait clock, cycles
        self.q = np.full(n, np.nan)  # rad, latest feedback
        self.qd = np.full(n, np.nan)  # rad/s
        self.tau = np.zeros(n)  # N m
        self.temperature = np.zeros(n)  # C
        self.faults = np.zeros(n, dtype=np.int64)
        self.mode = np.zeros(n, dtype=np.int64)  # 2 = running
        self.last_seen = np.full(n, -np.inf)  # perf_counter s
        self.last_action = np.zeros(n)
        self.held: list[can.Message] = [self._damping(mid) for mid in self.cfg.motor_ids]
        self.tripped: str | None = None  # watchdog reason, latched
        self.counts = dict.fromkeys(
            ("feedback", "bad_frames", "unexpected_frames", "sent", "ticks", "policy_steps",
             "missed_replies", "clamped_targets", "send_errors"), 0,
        )  # fmt: skip
        self.jitter: list[float] = []  # s, tick start minus its schedule
        self.compute: list[float] = []  # s, tick start to commands sent

    # ------------------------------------------------------------------ frames
    def _damping(self, motor_id: int) -> can.Message:
        return cp.encode_control(motor_id, 0.0, 0.0, 0.0, self.cfg.damping_kd, 0.0)

    def _send(self, msg: can.Message) -> None:
        try:
            self.bus.send(msg)
            self.counts["sent"] += 1
        except can.CanError:
            self.counts["send_errors"] += 1  # a full or failed bus: the watchdog sees silence

    def _take(self, msg: can.Message) -> bool:
        """Account one received frame; True when it is fresh feedback from one of our motors."""
        try:
            if cp.comm_type_of(msg) != cp.COMM_FEEDBACK:
                self.counts["unexpected_frames"] += 1
                return False
            fb = cp.decode_feedback(msg)
        except cp.FrameError:
            self.counts["bad_frames"] += 1
            return False
        i = self.index.get(fb.motor_id)
        if i is None or fb.host_id != self.cfg.host_id:
            self.counts["unexpected_frames"] += 1
            return False
        self.q[i], self.qd[i], self.tau[i] = fb.angle, fb.velocity, fb.torque
        self.temperature[i], self.faults[i], self.mode[i] = fb.temperature, fb.faults, fb.mode
        self.last_seen[i] = time.perf_counter()
        self.counts["feedback"] += 1
        return True

    def _collect(self, deadline: float, since: float) -> None:
        """Read frames until every motor answered after ``since`` or ``deadline`` passes."""
        while True:
            if (self.last_seen >= since).all():
                msg = self.bus.recv(timeout=0.0)  # drain what is already there
                if msg is None:
                    return
            else:
                msg = self.bus.recv(timeout=max(deadline - time.perf_counter(), 0.0))
                if msg is None:
                    self.counts["missed_replies"] += int((self.last_seen < since).sum())
                    return
            self._take(msg)

    # ------------------------------------------------------------------ safety
    def trip(self, reason: str) -> None:
        """Latch the watchdog: zero-torque damping from now on."""
        if self.tripped is None:
            self.tripped = reason
        self.held = [self._damping(mid) for mid in self.cfg.motor_ids]

    def safe_targets(self, target: np.ndarray) -> np.ndarray:
        """Clamp joint targets to the joint limits and to |Kp (q* - q)| <= torque limit."""
        clamped = np.clip(target, self.limits[:, 0], self.limits[:, 1])
        if self.kp > 0:
            reach = self.torque_limit / self.kp  # rad
            clamped = np.clip(clamped, self.q - reach, self.q + reach)
        self.counts["clamped_targets"] += int(np.sum(np.abs(clamped - target) > 1e-9))
        return clamped

    # ------------------------------------------------------------------ loop
    def enable(self) -> None:
        """Enable every motor and wait for all of them to answer."""
        start = time.perf_counter()
        for mid in self.cfg.motor_ids:
            self._send(cp.encode_enable(mid, self.cfg.host_id))
        self._collect(start + self.cfg.enable_timeout, start)
        missing = [
            mid
            for mid, seen in zip(self.cfg.motor_ids, self.last_seen, strict=True)
            if seen < start
        ]
        if missing:
            self.stop_motors()
            raise RuntimeError(
                f"deploy: no feedback from motor ids {missing} within {self.cfg.enable_timeout} s "
                "of enabling (check power, wiring, --channel and the ids)"
            )

    def stop_motors(self) -> None:
        """Zero-torque damping once, then stop frames to every motor."""
        for mid in self.cfg.motor_ids:
            self._send(self._damping(mid))
        for mid in self.cfg.motor_ids:
            self._send(cp.encode_stop(mid, self.cfg.host_id))

    def tick(self, t: float, start_pose: np.ndarray) -> None:
        """One control step at ``t`` s after the start."""
        tick_start = time.perf_counter()
        self.counts["ticks"] += 1
        for msg in self.held:  # refresh: every motor answers with fresh feedback
            self._send(msg)
        self._collect(tick_start + self.cfg.reply_wait, tick_start)
        if self.tripped is None:
            self._control(t, start_pose, tick_start)
        if self.tripped is not None:
            self.trip(self.tripped)
        for msg in self.held:
            self._send(msg)
        self.compute.append(time.perf_counter() - tick_start)

    def _control(self, t: float, start_pose: np.ndarray, now: float) -> None:
        stale = now - self.last_seen > self.cfg.feedback_timeout
        if stale.any():
            ids = [self.cfg.motor_ids[i] for i in np.flatnonzero(stale)]
            return self.trip(f"feedback timeout from motor ids {ids}")
        if self.faults.any():
            ids = [self.cfg.motor_ids[i] for i in np.flatnonzero(self.faults)]
            return self.trip(f"motor fault reported by ids {ids}")
        if (self.mode != 2).any():  # a motor that reset (e.g. a brown-out) no longer runs
            ids = [self.cfg.motor_ids[i] for i in np.flatnonzero(self.mode != 2)]
            return self.trip(f"motor ids {ids} left run mode")
        if t < self.cfg.stand_time:
            blend = t / self.cfg.stand_time
            target = (1.0 - blend) * start_pose + blend * self.default_pose
        else:
            imu = self.imu()
            readings = {**imu, "joint_pos": self.q, "joint_vel": self.qd}
            meta = self.policy.metadata
            obs = build_observation(
                meta["observation_layout"], readings, self.default_pose, self.last_action,
                self.command, self.gait, self.phase,
            )  # fmt: skip
            if not np.isfinite(obs).all():
                return self.trip("NaN or infinity in the observation")
            action = self.policy(obs).astype(np.float64)
            if not np.isfinite(action).all():
                return self.trip("NaN or infinity in the policy's action")
            action = np.clip(action, -self.action_clip, self.action_clip)
            self.last_action = action
            self.counts["policy_steps"] += 1
            if self.gait is not None:  # the gait clock, as the training task advances it
                self.phase = (self.phase + self.gait[0] * self.dt) % 1.0
            target = self.default_pose + self.action_scale * action
        target = self.safe_targets(target)
        self.held = [
            cp.encode_control(mid, float(target[i]), 0.0, self.kp, self.kd, 0.0)
            for i, mid in enumerate(self.cfg.motor_ids)
        ]

    def run(
        self, duration: float | None = None, on_tick: Callable[[int], None] | None = None
    ) -> dict:
        """Enable, run until ``duration`` s (None: until Ctrl-C), stop the motors; a report."""
        self.enable()
        start_pose = self.q.copy()
        interrupted = False
        previous_switch = sys.getswitchinterval()
        sys.setswitchinterval(2e-4)  # s: bound the wait for the GIL held by other threads
        if self.cfg.realtime_priority:
            set_realtime_priority(self.cfg.realtime_priority)
        start = time.perf_counter()
        k = 0
        try:
            while duration is None or k * self.dt < duration:
                scheduled = start + k * self.dt
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                self.jitter.append(time.perf_counter() - scheduled)
                self.tick(k * self.dt, start_pose)
                if on_tick is not None:
                    on_tick(k)
                k += 1
        except KeyboardInterrupt:
            interrupted = True
        finally:
            self.stop_motors()
            sys.setswitchinterval(previous_switch)
            if self.cfg.realtime_priority:
                os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
        return self.report(interrupted)

    def report(self, interrupted: bool = False) -> dict[str, Any]:
        """Counts, watchdog state and timing of the run so far."""
        compute = np.asarray(self.compute or [0.0]) * 1e3
        return {
            **self.counts,
            "watchdog": self.tripped,
            "interrupted": interrupted,
            **jitter_report(self.jitter),
            "tick_compute_ms_p50": float(np.percentile(compute, 50)),
            "tick_compute_ms_p99": float(np.percentile(compute, 99)),
        }
