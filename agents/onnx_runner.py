"""Run an exported policy from its ONNX file and metadata alone, on native MuJoCo; no JAX.

``OnnxPolicy`` wraps an onnxruntime session (one thread) with input checks; ``build_observation``
assembles the observation in the order the file's ``observation_layout`` gives, from plain
readings, and is shared with the CAN deployment loop. ``play`` drives the CyberDog 2 MJCF with
the CyberGear MIT law at physics rate, with physics options changed to probe robustness, and
reports tracking error and falls.

Importing this module must not import jax or flax (a test checks): the observation terms are
re-derived here in NumPy from the metadata's definitions (gravity and the gait clock come from
``irondog.envs.task``, which imports neither), and a test compares them with the
training task's ``irondog.envs.task.observation``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import mujoco
import numpy as np
import onnxruntime as ort

from irondog.agents.export import MetadataError, read_metadata
from irondog.envs import task
from irondog.envs.task import parse_command  # noqa: F401 (re-exported: the deploy commands use it)
from irondog.motors.cybergear import CyberGearParams, copper_loss, mit_torque, thermal_step

INTEGRATORS = {
    "euler": mujoco.mjtIntegrator.mjINT_EULER,
    "rk4": mujoco.mjtIntegrator.mjINT_RK4,
    "implicit": mujoco.mjtIntegrator.mjINT_IMPLICIT,
    "implicitfast": mujoco.mjtIntegrator.mjINT_IMPLICITFAST,
}


class OnnxPolicy:
    """An exported actor: ``policy(obs)`` -> action, with clear errors for bad observations."""

    def __init__(self, path: str | Path, threads: int = 1) -> None:
        self.path = Path(path)
        self.metadata = read_metadata(self.path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(
            str(self.path), options, providers=["CPUExecutionProvider"]
        )
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        self.input_name = self.metadata["input_name"]
        self.output_name = self.metadata["output_name"]
        if [i.name for i in inputs] != [self.input_name] or self.output_name not in [
            o.name for o in outputs
        ]:
            raise MetadataError(
                f"{self.path}: graph inputs {[i.name for i in inputs]} / outputs "
                f"{[o.name for o in outputs]} do not match metadata "
                f"{self.input_name!r} -> {self.output_name!r}"
            )
        self.observation_size = int(self.metadata["observation_size"])
        self.action_size = int(self.metadata["action_size"])
        if len(inputs[0].shape) != 2 or inputs[0].shape[-1] != self.observation_size:
            raise MetadataError(
                f"{self.path}: graph input has shape {inputs[0].shape}, metadata says "
                f"(batch, {self.observation_size}) (observation_size); re-export the policy"
            )
        self._check_output_shape(outputs[[o.name for o in outputs].index(self.output_name)])
        self._names = observation_names(self.metadata["observation_layout"])

    def _check_output_shape(self, output: Any) -> None:
        """MetadataError unless the graph gives (batch, action_size): its declared shape where
        it has one, and what one all-zero observation actually returns."""
        declared = output.shape
        fixed = declared[-1] if declared and isinstance(declared[-1], int) else None
        probe = self.session.run(
            [self.output_name], {self.input_name: np.zeros((1, self.observation_size), np.float32)}
        )[0]
        got = tuple(probe.shape)
        wrong_rank = bool(declared) and len(declared) != 2
        if wrong_rank or fixed not in (None, self.action_size) or got != (1, self.action_size):
            raise MetadataError(
                f"{self.path}: graph output {self.output_name!r} has shape {declared} (gives "
                f"{got} for one observation), metadata says (batch, {self.action_size}) "
                "(action_size); re-export the policy"
            )

    def __call__(self, obs: Any) -> np.ndarray:
        """Actions (action_size,) or (n, action_size) for obs (obs_size,) or (n, obs_size)."""
        obs = np.asarray(obs, dtype=np.float32)
        single = obs.ndim == 1
        batch = obs.reshape(1, -1) if single else obs
        if batch.ndim != 2 or batch.shape[1] != self.observation_size:
            raise ValueError(
                f"observation has shape {obs.shape}; {self.path.name} expects "
                f"(..., {self.observation_size})"
            )
        if not np.isfinite(batch).all():
            bad = sorted({self._names[j] for j in np.flatnonzero(~np.isfinite(batch).all(axis=0))})
            raise ValueError(f"observation holds NaN or infinite values in {', '.join(bad)}")
        action = self.session.run([self.output_name], {self.input_name: batch})[0]
        return action[0] if single else action


def observation_names(layout: list[Mapping[str, Any]]) -> list[str]:
    """One name per observation entry, e.g. 'joint_pos[3]'."""
    return [f"{item['name']}[{i}]" for item in layout for i in range(int(item["size"]))]


def projected_gravity(quat: np.ndarray) -> np.ndarray:
    """Gravity (0, 0, -1) in the body frame of the unit quaternion (w, x, y, z), (3,)."""
    return task.projected_gravity(np.asarray(quat, dtype=np.float64)[None, :])[0]


def build_observation(
    layout: list[Mapping[str, Any]],
    readings: Mapping[str, np.ndarray],
    default_pose: np.ndarray,
    last_action: np.ndarray,
    command: np.ndarray,
    gait: np.ndarray | None = None,
    phase: float = 0.0,
) -> np.ndarray:
    """The policy observation (obs_size,) float32, in the order of the file's layout.

    ``readings``: local_linvel (3,) m/s, gyro (3,) rad/s, quat (4,) w x y z (or gravity (3,)),
    joint_pos (12,) rad, joint_vel (12,) rad/s. Gait-conditioned policies also take the gait
    command (8,) and the gait clock ``phase`` (cycles).
    """
    gravity = readings["gravity"] if "gravity" in readings else projected_gravity(readings["quat"])
    clock = None
    if gait is not None:
        from irondog.envs import gaits  # NumPy only

        gait = np.asarray(gait, dtype=np.float64)
        feet = gaits.foot_phases(np.array([phase]), gait[None, :])
        clock = gaits.clock_features(feet)[0]
    terms = {
        "local_linvel": readings["local_linvel"],
        "gyro": readings["gyro"],
        "gravity": gravity,
        "joint_pos": np.asarray(readings["joint_pos"]) - default_pose,
        "joint_vel": readings["joint_vel"],
        "last_action": last_action,
        "command": command,
        "gait": gait,
        "clock": clock,
    }
    parts = []
    for item in layout:
        name, size = item["name"], int(item["size"])
        if name not in terms:
            raise MetadataError(
                f"observation_layout names {name!r}, which this runner cannot build"
            )
        if terms[name] is None:
            raise ValueError(f"this policy observes the {name!r} of a gait: give a gait command")
        value = np.asarray(terms[name], dtype=np.float64).reshape(-1)
        if value.shape != (size,):
            raise ValueError(f"observation term {name} has {value.size} values, layout says {size}")
        parts.append(value * float(item.get("scale", 1.0)))
    return np.concatenate(parts).astype(np.float32)


@dataclasses.dataclass
class PhysicsOptions:
    """Changes to the robot's physics for a sim-to-sim probe (None keeps the MJCF value)."""

    timestep: float | None = None  # s
    integrator: str | None = None  # euler, rk4, implicit, implicitfast
    friction: float | None = None  # sliding friction of the floor and the feet
    added_mass: float = 0.0  # kg on the trunk


def load_robot(options: PhysicsOptions, model_path: str | Path | None = None) -> mujoco.MjModel:
    """The CyberDog 2 MJCF with ``options`` applied."""
    from irondog.envs.robot import load_model

    model = load_model(model_path)
    if options.timestep is not None:
        if not options.timestep > 0:
            raise ValueError(f"--timestep must be > 0, got {options.timestep}")
        model.opt.timestep = options.timestep
    if options.integrator is not None:
        if options.integrator not in INTEGRATORS:
            raise ValueError(
                f"--integrator {options.integrator!r} is not one of {list(INTEGRATORS)}"
            )
        model.opt.integrator = INTEGRATORS[options.integrator]
    if options.friction is not None:
        if not options.friction >= 0:
            raise ValueError(f"--friction must be >= 0, got {options.friction}")
        model.geom_friction[:, 0] = options.friction
    if options.added_mass:
        trunk = model.body("trunk").id
        if model.body_mass[trunk] + options.added_mass <= 0:
            raise ValueError(f"--added-mass {options.added_mass} leaves the trunk without mass")
        model.body_mass[trunk] += options.added_mass
    return model


class SimRobot:
    """One native MuJoCo CyberDog 2 driven by joint targets through the CyberGear MIT law."""

    def __init__(self, model: mujoco.MjModel, motor: CyberGearParams | None = None) -> None:
        from irondog.envs.config import EnvConfig
        from irondog.envs.robot import JOINT_NAMES, RobotIds

        self.model = model
        self.data = mujoco.MjData(model)
        self.motor = motor or CyberGearParams()
        self.ids = RobotIds.from_model(model)  # the task's own id lookup
        self.qadr = self.ids.joint_qpos
        self.dadr = self.ids.joint_dofs
        self.actuators = np.array([model.actuator(name).id for name in JOINT_NAMES])
        self.sensor = self.ids.sensor_slices
        self._fall = EnvConfig()  # the training's fall_tilt and fall_height
        self.reset()

    def reset(self) -> None:
        """Back to the home keyframe, motors warmed up."""
        mujoco.mj_resetDataKeyframe(self.model, self.data, self.model.keyframe("home").id)
        mujoco.mj_forward(self.model, self.data)
        self.winding = np.full(12, 40.0)  # C (EnvConfig.initial_winding_temp)
        self.housing = np.full(12, 40.0)
        self.torque = np.zeros(12)

    def readings(self) -> dict[str, np.ndarray]:
        """IMU and joint readings, as build_observation takes them."""
        d = self.data
        return {
            "local_linvel": d.sensordata[self.sensor["local_linvel"]].copy(),
            "gyro": d.sensordata[self.sensor["gyro"]].copy(),
            "quat": d.qpos[3:7].copy(),
            "joint_pos": d.qpos[self.qadr].copy(),
            "joint_vel": d.qvel[self.dadr].copy(),
        }

    def physics_step(
        self, q_target: np.ndarray, kp: Any, kd: Any, tau_ff: Any = 0.0, qd_target: Any = 0.0
    ) -> None:
        """One physics step with the MIT law (per-joint or scalar gains), thermal model too."""
        d = self.data
        q, qd = d.qpos[self.qadr], d.qvel[self.dadr]
        tau = mit_torque(
            q_target, q, qd, kp, kd, self.motor, tau_ff=tau_ff, qd_target=qd_target,
            winding_temp=self.winding,
        )  # fmt: skip
        d.ctrl[self.actuators] = tau
        mujoco.mj_step(self.model, d)
        loss = copper_loss(tau, self.motor, self.winding)  # W
        self.winding, self.housing = thermal_step(
            self.winding, self.housing, loss, self.motor, self.model.opt.timestep
        )
        self.torque = tau

    def fallen(self) -> bool:
        """The task's fall test (``task.is_fallen``): trunk tilted past fall_tilt or lower
        than fall_height above the lowest foot."""
        d = self.data
        readings = task.readings_from_physics(
            d.qpos[None], d.qvel[None], d.sensordata[None], np.zeros((1, 12)), np.zeros(1), self.ids
        )
        return bool(task.is_fallen(readings, self._fall)[0])


def gait_command(metadata: Mapping[str, Any], name: str | None) -> np.ndarray | None:
    """The (8,) gait vector of a named preset for a gait-conditioned policy, else None."""
    if metadata.get("task", "joystick") != "gaits":
        if name is not None:
            raise ValueError(f"--gait {name!r}: this policy was trained without gait commands")
        return None
    presets = metadata["gait_presets"]
    name = name or "trot"
    if name not in presets:
        raise ValueError(f"--gait {name!r} is not one of {', '.join(presets)}")
    return np.asarray(presets[name], dtype=np.float64)


def policy_step(
    policy: OnnxPolicy,
    readings: Mapping[str, np.ndarray],
    last_action: np.ndarray,
    command: np.ndarray,
    gait: np.ndarray | None = None,
    phase: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """(clipped action (12,), joint targets (12,) rad) for one control step."""
    meta = policy.metadata
    default = np.asarray(meta["default_pose"])
    obs = build_observation(
        meta["observation_layout"], readings, default, last_action, command, gait, phase
    )
    clip = float(meta["action_clip"])
    action = np.clip(policy(obs).astype(np.float64), -clip, clip)
    return action, default + float(meta["action_scale"]) * action


def play(
    policy: OnnxPolicy,
    duration: float,
    command: np.ndarray,
    options: PhysicsOptions | None = None,
    gait: np.ndarray | None = None,
) -> dict[str, Any]:
    """Drive the MJCF robot for ``duration`` s; tracking errors, falls and timing."""
    meta = policy.metadata
    options = options or PhysicsOptions()
    if options.timestep is None:  # train-time physics step unless asked otherwise
        options = dataclasses.replace(options, timestep=float(meta["sim_dt"]))
    model = load_robot(options)
    robot = SimRobot(model)
    control_dt = float(meta["control_dt"])
    substeps = control_dt / model.opt.timestep
    if abs(substeps - round(substeps)) > 1e-6 or round(substeps) < 1:
        raise ValueError(
            f"timestep {model.opt.timestep} s does not divide control_dt {control_dt} s"
        )
    substeps = round(substeps)
    kp, kd = float(meta["kp"]), float(meta["kd"])
    steps = max(1, round(duration / control_dt))
    last_action = np.zeros(policy.action_size)
    lin_err, yaw_err, fwd = [], [], []
    falls, start, phase = 0, time.perf_counter(), 0.0
    walked = 0.0  # m, trunk xy displacement summed over episodes
    origin = robot.data.qpos[0:2].copy()
    for _ in range(steps):
        readings = robot.readings()
        last_action, target = policy_step(policy, readings, last_action, command, gait, phase)
        for _ in range(substeps):
            robot.physics_step(target, kp, kd)
        if gait is not None:  # the gait clock, as the training task advances it
            phase = (phase + gait[0] * control_dt) % 1.0
        after = robot.readings()
        lin_err.append(float(np.linalg.norm(after["local_linvel"][:2] - command[:2])))
        yaw_err.append(abs(float(after["gyro"][2] - command[2])))
        fwd.append(float(after["local_linvel"][0]))
        if not np.isfinite(robot.data.qpos).all() or robot.fallen():
            falls += 1
            if np.isfinite(robot.data.qpos[0:2]).all():
                walked += float(np.linalg.norm(robot.data.qpos[0:2] - origin))
            robot.reset()
            origin = robot.data.qpos[0:2].copy()
            last_action, phase = np.zeros(policy.action_size), 0.0
    wall = time.perf_counter() - start
    walked += float(np.linalg.norm(robot.data.qpos[0:2] - origin))
    return {
        "steps": steps,
        "sim_time_s": steps * control_dt,
        "falls": falls,
        "lin_vel_error_mean": float(np.mean(lin_err)),
        "yaw_rate_error_mean": float(np.mean(yaw_err)),
        "forward_velocity_mean": float(np.mean(fwd)),
        "displacement_m": walked,
        "command": [float(c) for c in command],
        "timestep": float(model.opt.timestep),
        "integrator": next(k for k, v in INTEGRATORS.items() if v == model.opt.integrator),
        "realtime_factor": steps * control_dt / wall if wall > 0 else float("inf"),
    }
