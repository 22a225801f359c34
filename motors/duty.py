"""Duty cycles from simulation: joint torque and speed series, their reduction, a scripted trot.

A duty cycle is the per-joint torque and speed of a robot doing its job, recorded from the
simulation. It comes in an ``.npz`` of rollouts with ``joint_torque`` (T, 12) N m,
``joint_vel`` (T, 12) rad/s and ``dt`` s (evaluated policy rollouts use the same format).
Without a policy, ``scripted_trot`` records one from the MJCF with plain MuJoCo (a trained
policy's duty comes from ``irondog.motors.policy_duty``):
PD about the ``home`` keyframe plus sinusoidal trot targets, torques from the CyberGear law.

``summarize`` reduces a duty to peak and RMS torque, peak speed, power and thermal load;
``thermal_mission`` repeats the cycle over a mission (30 minutes by default) through the
two-node thermal model of ``irondog.motors.cybergear``; ``apply_motor`` changes the robot
model for another motor (12 motors' mass, reflected rotor inertia, torque range).
"""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from irondog.envs.robot import JOINT_NAMES, LEGS  # noqa: F401 (the robot's, defined once)
from irondog.motors.cybergear import (
    COPPER_ALPHA,
    CyberGearParams,
    copper_loss,
    mit_torque,
    thermal_step,
    torque_limits,
)

NUM_JOINTS = 12
ROTOR_MASS = 0.0567  # kg, mass the MJCF gives each of the 12 rotor geoms (FACTS.md)
BASELINE_MOTOR_MASS = 0.317  # kg, the CyberGear the MJCF was written for
MIN_GEOM_MASS = 0.005  # kg, a rotor geom keeps at least this much


def robot_xml() -> Path:
    """Path of the CyberDog 2 MJCF shipped with irondog (found without importing irondog.envs)."""
    spec = importlib.util.find_spec("irondog.envs")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("package irondog.envs (the robot's MJCF) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "assets" / "cyberdog2.xml"


@dataclasses.dataclass(frozen=True)
class Duty:
    """Joint torque and speed series of one or more rollouts, back to back."""

    joint_torque: np.ndarray  # (T, 12) N m
    joint_vel: np.ndarray  # (T, 12) rad/s
    dt: float  # s between samples
    source: str = "<memory>"

    def __post_init__(self) -> None:
        where = f" (in {self.source})"
        for name in ("joint_torque", "joint_vel"):
            value = getattr(self, name)
            if value.ndim != 2 or value.shape[1] != NUM_JOINTS or value.shape[0] < 2:
                raise ValueError(f"{name}: expected shape (T >= 2, 12), got {value.shape}{where}")
            if not np.all(np.isfinite(value)):
                raise ValueError(f"{name}: contains NaN or inf{where}")
        if self.joint_torque.shape != self.joint_vel.shape:
            raise ValueError(
                f"joint_vel: shape {self.joint_vel.shape} differs from joint_torque "
                f"{self.joint_torque.shape}{where}"
            )
        if not (np.isfinite(self.dt) and self.dt > 0):
            raise ValueError(f"dt: must be a positive number of seconds, got {self.dt}{where}")

    @property
    def duration(self) -> float:
        """Length of the recorded cycle, s."""
        return self.joint_torque.shape[0] * self.dt


def load_duty(path: str | Path) -> Duty:
    """Read a rollouts ``.npz`` (``joint_torque``, ``joint_vel``, ``dt``); errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"duty file {path} does not exist")
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise ValueError(f"{path}: not a readable .npz ({err})") from None
    with data:
        missing = [k for k in ("joint_torque", "joint_vel", "dt") if k not in data.files]
        if missing:
            raise ValueError(f"{path}: missing array(s) {', '.join(missing)}; has {data.files}")
        torque = np.asarray(data["joint_torque"], dtype=float)
        vel = np.asarray(data["joint_vel"], dtype=float)
        dt_arr = np.asarray(data["dt"], dtype=float)
    if torque.ndim == 3:  # (T, nenv, 12) from batched rollouts: environments back to back
        torque = torque.transpose(1, 0, 2).reshape(-1, torque.shape[-1])
    if vel.ndim == 3:
        vel = vel.transpose(1, 0, 2).reshape(-1, vel.shape[-1])
    if dt_arr.size != 1:
        raise ValueError(f"dt: expected one number, got shape {dt_arr.shape} (in {path})")
    return Duty(torque, vel, float(dt_arr.reshape(())), source=str(path))


def save_duty(path: str | Path, duty: Duty, **extra: Any) -> Path:
    """Write ``duty`` in the rollouts ``.npz`` format (plus any ``extra`` arrays)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path, joint_torque=duty.joint_torque, joint_vel=duty.joint_vel, dt=duty.dt, **extra
    )
    return path


def reduce_duty(duty: Duty, samples: int = 3000, seed: int = 0) -> Duty:
    """``duty`` cut to about ``samples`` rows for the optimiser: one row drawn at random from
    each of ``samples`` equal blocks of time (stratified, so every part of a mission keeps its
    share), plus the rows that hold each joint's peak |torque| and peak |speed|, in time order.

    Peaks are kept exactly; mean-square torque (the copper loss) is an unbiased estimate: RMS torque
    within 5% per joint at 3000 rows of the 30-minute mission (measured 0.978-1.051,
    ``benchmarks/RESULTS.md``; ``tests/test_motor_mission.py`` holds the 5%).
    The ``dt`` stays the original's: the rows are no longer evenly spaced, so only order-free
    reductions (peaks, RMS, envelope points) are meaningful on the result.
    """
    rows = reduce_rows(duty, samples, seed)
    if rows.size == duty.joint_torque.shape[0]:
        return duty
    return Duty(
        duty.joint_torque[rows], duty.joint_vel[rows], duty.dt, source=f"{duty.source}, reduced"
    )


def reduce_rows(duty: Duty, samples: int = 3000, seed: int = 0) -> np.ndarray:
    """The row indices (sorted) that ``reduce_duty`` keeps: all rows when ``duty`` has at most
    ``samples``. Callers that need to know where each kept row came from (its mission segment)
    use these."""
    if samples < 1:
        raise ValueError(f"samples: must be >= 1, got {samples} (in {duty.source})")
    n = duty.joint_torque.shape[0]
    if n <= samples:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    edges = np.linspace(0, n, samples + 1).astype(np.int64)  # (samples + 1,) block bounds
    picks = edges[:-1] + (rng.random(samples) * np.diff(edges)).astype(np.int64)
    peaks = np.concatenate(
        [np.argmax(np.abs(duty.joint_torque), axis=0), np.argmax(np.abs(duty.joint_vel), axis=0)]
    )  # (24,) rows holding each joint's peaks
    return np.unique(np.concatenate([picks, peaks]))


@dataclasses.dataclass(frozen=True)
class DutySummary:
    """Per-joint reductions of a duty (arrays (12,)), and the worst joint's figures."""

    peak_torque: np.ndarray  # N m, max |tau|
    rms_torque: np.ndarray  # N m
    peak_speed: np.ndarray  # rad/s, max |w|
    rms_speed: np.ndarray  # rad/s
    peak_power: np.ndarray  # W, max |tau w|
    mean_power: np.ndarray  # W, mean of positive (motoring) tau w
    copper_loss: np.ndarray  # W, mean copper loss at the reference temperature (CyberGear law)

    def as_table(self) -> list[dict[str, float | str]]:
        """One row per joint, for reports."""
        rows = []
        for j, name in enumerate(JOINT_NAMES):
            rows.append(
                {
                    "joint": name,
                    "peak_torque_Nm": float(self.peak_torque[j]),
                    "rms_torque_Nm": float(self.rms_torque[j]),
                    "peak_speed_rad_s": float(self.peak_speed[j]),
                    "peak_power_W": float(self.peak_power[j]),
                    "mean_power_W": float(self.mean_power[j]),
                    "copper_loss_W": float(self.copper_loss[j]),
                }
            )
        return rows


def summarize(duty: Duty, params: CyberGearParams | None = None) -> DutySummary:
    """Peak/RMS torque, peak speed, power and copper loss per joint."""
    params = params if params is not None else CyberGearParams()
    tau, w = duty.joint_torque, duty.joint_vel  # (T, 12)
    power = tau * w  # (T, 12) W
    loss = copper_loss(tau, params, params.reference_temp)  # (T, 12) W
    return DutySummary(
        peak_torque=np.max(np.abs(tau), axis=0),
        rms_torque=np.sqrt(np.mean(tau**2, axis=0)),
        peak_speed=np.max(np.abs(w), axis=0),
        rms_speed=np.sqrt(np.mean(w**2, axis=0)),
        peak_power=np.max(np.abs(power), axis=0),
        mean_power=np.mean(np.maximum(power, 0.0), axis=0),
        copper_loss=np.mean(loss, axis=0),
    )


def saturation(
    duty: Duty, params: CyberGearParams | None = None, tolerance: float = 0.01
) -> np.ndarray:
    """(12,) fraction of each joint's samples at the motor's torque limit (within
    ``tolerance`` of it, at the reference temperature) for the motor the duty was recorded on.

    A saturated sample says only that the policy asked for at least that torque: a duty whose
    peaks sit at the limit cannot tell how strong a motor the gait needs, and sizing for
    "peak plus margin" then asks for a stronger motor at every co-design pass.
    """
    params = params if params is not None else CyberGearParams()
    lower, upper = torque_limits(duty.joint_vel, params)
    tau = duty.joint_torque
    at_limit = (tau >= upper * (1 - tolerance)) | (tau <= lower * (1 - tolerance))
    return np.mean(at_limit, axis=0)


@dataclasses.dataclass(frozen=True)
class ThermalTrace:
    """Winding and housing temperatures over a mission, per joint."""

    time: np.ndarray  # (n,) s
    winding: np.ndarray  # (n, 12) C
    housing: np.ndarray  # (n, 12) C

    @property
    def peak_winding(self) -> np.ndarray:
        """(12,) hottest winding temperature per joint, C."""
        return self.winding.max(axis=0)


def thermal_mission(
    duty: Duty,
    params: CyberGearParams,
    mission_s: float = 1800.0,
    ambient_temp: float = 25.0,
    start_temp: float | None = None,
    step_s: float = 0.1,
    copper_loss_ref: np.ndarray | None = None,
) -> ThermalTrace:
    """Repeat the duty cycle for ``mission_s`` through the two-node thermal model.

    Copper loss is averaged over ``step_s`` bins of the cycle (the winding's time constant is
    tens of seconds) and scaled by the winding's resistance rise at each step; the model is
    ``irondog.motors.cybergear.thermal_step``, the one the environment uses.
    ``copper_loss_ref`` (T, 12) W at the reference temperature overrides the CyberGear law's
    loss (the design model passes its own).
    """
    if mission_s <= 0:
        raise ValueError(f"mission_s: must be > 0, got {mission_s}")
    if step_s <= 0:
        raise ValueError(f"step_s: must be > 0, got {step_s}")
    if copper_loss_ref is None:
        copper_loss_ref = copper_loss(duty.joint_torque, params, params.reference_temp)
    per_bin = max(1, round(step_s / duty.dt))
    n_bins = max(1, copper_loss_ref.shape[0] // per_bin)
    trimmed = copper_loss_ref[: n_bins * per_bin].reshape(n_bins, per_bin, NUM_JOINTS)
    loss_bins = trimmed.mean(axis=1)  # (n_bins, 12) W at the reference temperature
    dt = per_bin * duty.dt
    n_steps = int(np.ceil(mission_s / dt))
    start = ambient_temp if start_temp is None else start_temp
    winding = np.full(NUM_JOINTS, start, dtype=float)
    housing = np.full(NUM_JOINTS, start, dtype=float)
    record_every = max(1, n_steps // 2000)
    times, w_hist, h_hist = [0.0], [winding.copy()], [housing.copy()]
    for k in range(n_steps):
        scale = 1.0 + COPPER_ALPHA * (winding - params.reference_temp)
        power = loss_bins[k % n_bins] * scale  # (12,) W
        winding, housing = thermal_step(winding, housing, power, params, dt, ambient_temp)
        if (k + 1) % record_every == 0 or k == n_steps - 1:
            times.append((k + 1) * dt)
            w_hist.append(winding.copy())
            h_hist.append(housing.copy())
    return ThermalTrace(np.asarray(times), np.asarray(w_hist), np.asarray(h_hist))


# ------------------------------------------------------------------------------------------
# The robot model with another motor, and a scripted trot on it.


def apply_motor(
    params: CyberGearParams,
    xml_path: str | Path | None = None,
    baseline_mass: float = BASELINE_MOTOR_MASS,
) -> Any:
    """The CyberDog 2 ``MjModel`` with 12 motors of ``params`` in place of the CyberGear.

    Each motor's mass change goes onto its rotor geom (class ``rotor``: the abad motors in the
    trunk, hip and knee motors in the abad links); what a rotor geom cannot give up (it keeps
    ``MIN_GEOM_MASS``) comes off its body's main geom. Joint armature becomes the motor's
    reflected rotor inertia and the actuators' torque range its peak torque.
    """
    import mujoco  # imported here: the design tools do not need MuJoCo

    path = Path(xml_path) if xml_path is not None else robot_xml()
    if not path.is_file():
        raise FileNotFoundError(f"robot model {path} does not exist")
    spec = mujoco.MjSpec.from_file(str(path))
    delta = params.mass - baseline_mass  # kg per motor
    rotors = [g for g in spec.geoms if g.classname.name == "rotor"]
    if len(rotors) != NUM_JOINTS:
        raise ValueError(f"{path}: expected 12 geoms of class 'rotor', found {len(rotors)}")
    for geom in rotors:
        new_mass = geom.mass + delta
        if new_mass < MIN_GEOM_MASS:
            rest = new_mass - MIN_GEOM_MASS  # < 0, taken from the host body's main geom
            new_mass = MIN_GEOM_MASS
            host = [g for g in spec.geoms if g.parent.name == geom.parent.name]
            host = [g for g in host if g.classname.name != "rotor" and g.mass > -rest]
            if not host:
                raise ValueError(
                    f"motor mass {params.mass} kg too small for body {geom.parent.name}"
                )
            host[0].mass = host[0].mass + rest
        geom.mass = new_mass
    for joint in spec.joints:
        if joint.type == mujoco.mjtJoint.mjJNT_HINGE:
            joint.armature = params.armature
    for actuator in spec.actuators:
        actuator.ctrlrange = np.array([-params.torque_limit, params.torque_limit])
        actuator.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
    return spec.compile()


@dataclasses.dataclass(frozen=True)
class TrotConfig:
    """Scripted trot: PD about the home pose plus sinusoidal targets (a stand-in for a policy)."""

    duration: float = 8.0  # s recorded
    settle: float = 1.0  # s simulated before recording starts
    period: float = 0.5  # s, gait period (stock controller)
    hip_amplitude: float = 0.2  # rad, fore-aft swing of the thigh
    knee_amplitude: float = 0.3  # rad, extra knee fold in swing (foot lift)
    kp: float = 30.0  # N m/rad (environment default)
    kd: float = 0.6  # N m s/rad
    winding_temp: float = 40.0  # C, for the motor law's resistance

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            may_be_zero = f.name in ("settle", "hip_amplitude", "knee_amplitude", "kd")
            if not (value >= 0 if may_be_zero else value > 0):
                raise ValueError(
                    f"{f.name}: must be {'>= 0' if may_be_zero else '> 0'}, got {value}"
                )


@dataclasses.dataclass(frozen=True)
class TrotResult:
    """A recorded scripted trot."""

    duty: Duty
    forward_distance: float  # m travelled by the trunk in the recording
    min_height: float  # m, lowest trunk height (a fall shows up here)
    mean_height: float  # m


def scripted_trot(
    params: CyberGearParams | None = None,
    model: Any = None,
    config: TrotConfig | None = None,
) -> TrotResult:
    """Simulate the trot on ``model`` (default: the CyberDog 2 MJCF) and record the duty.

    Diagonal pairs (FR+RL, FL+RR) swing half a period apart; the motor law
    ``irondog.motors.cybergear.mit_torque`` turns PD targets into joint torques.
    """
    import mujoco

    params = params if params is not None else CyberGearParams()
    config = config if config is not None else TrotConfig()
    if model is None:
        model = mujoco.MjModel.from_xml_path(str(robot_xml()))
    data = mujoco.MjData(model)
    key = model.key("home").id
    mujoco.mj_resetDataKeyframe(model, data, key)
    home = model.key_qpos[key][7:19].copy()  # (12,) rad
    dt = float(model.opt.timestep)
    leg_phase = np.array([0.0, np.pi, np.pi, 0.0])  # FR, FL, RR, RL
    hip = np.array([1, 4, 7, 10])
    knee = np.array([2, 5, 8, 11])
    n_settle = round(config.settle / dt)
    n_record = round(config.duration / dt)
    torques = np.empty((n_record, NUM_JOINTS))
    vels = np.empty((n_record, NUM_JOINTS))
    heights = np.empty(n_record)
    x_start = 0.0
    for k in range(n_settle + n_record):
        t = k * dt
        target = home.copy()
        if k >= n_settle // 2:  # stand first, then trot
            phase = 2 * np.pi * t / config.period + leg_phase  # (4,)
            target[hip] += config.hip_amplitude * np.cos(phase)
            target[knee] -= config.knee_amplitude * np.maximum(np.sin(phase), 0.0)
        q = data.qpos[7:19]
        qd = data.qvel[6:18]
        tau = mit_torque(
            target, q, qd, config.kp, config.kd, params, winding_temp=config.winding_temp
        )
        data.ctrl[:] = tau
        if k >= n_settle:
            i = k - n_settle
            if i == 0:
                x_start = float(data.qpos[0])
            torques[i] = tau
            vels[i] = qd
            heights[i] = data.qpos[2]
        mujoco.mj_step(model, data)
    return TrotResult(
        duty=Duty(torques, vels, dt, source="scripted trot"),
        forward_distance=float(data.qpos[0]) - x_start,
        min_height=float(heights.min()),
        mean_height=float(heights.mean()),
    )


def simulate_scripted_trot(params: CyberGearParams) -> Duty:
    """The scripted trot's duty on 12 motors of ``params`` (masses and armature included)."""
    return scripted_trot(params, apply_motor(params)).duty


# ------------------------------------------------------------------------------------------
# The physics step a motor needs.


def joint_inertia(model: Any) -> np.ndarray:
    """(12,) effective inertia (kg m^2) of each leg joint at the home pose, armature included.

    1 / (M^-1)_ii of the joint-space mass matrix: the inertia the joint's own torque sees with
    every other joint and the floating base free to move (smaller than M_ii).
    """
    import mujoco

    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, model.key("home").id)
    mujoco.mj_forward(model, data)
    full = np.zeros((model.nv, model.nv))
    mujoco.mj_fullM(model, data, full)  # MuJoCo 4: (m, d, dst)
    inv = np.linalg.inv(full)
    return 1.0 / np.diag(inv)[6 : 6 + NUM_JOINTS]


def pd_step_load(inertia: np.ndarray, kp: float, kd: float, dt: float) -> float:
    """How close the explicit PD law is to its stability bound at physics step ``dt`` (s).

    A joint of inertia I under tau = -kp q - kd qd, applied once per step (semi-implicit
    Euler, as MuJoCo steps a control torque), is stable for 2 kd dt / I + kp dt^2 / I < 4;
    this returns the left side over 4 for the worst joint (1: the bound; above it, chatter).
    """
    i = float(np.min(inertia))
    return (2.0 * kd * dt / i + kp * dt**2 / i) / 4.0


# Half the explicit bound: the stock CyberDog 2 (its MJCF's CyberGear armature) sits at 0.34
# at the training's 4 ms, the CyberGear design model (2.3e-3 kg m^2 reflected) at 0.40.
MAX_PD_STEP_LOAD = 0.5


def stable_sim_dt(
    model: Any,
    kp: float,
    kd: float,
    ctrl_dt: float,
    max_load: float = MAX_PD_STEP_LOAD,
    max_substeps: int = 64,
) -> float:
    """The largest physics step ``ctrl_dt / n`` (s) at which ``model``'s PD law stays within
    ``max_load`` of its explicit stability bound (``pd_step_load``).

    Light motors have a small reflected inertia, so the same PD gains need a shorter step
    (the real drive closes its loop at kHz rates); the CyberGear keeps the training's 4 ms.
    """
    inertia = joint_inertia(model)
    for n in range(1, max_substeps + 1):
        dt = ctrl_dt / n
        if pd_step_load(inertia, kp, kd, dt) <= max_load:
            return dt
    raise ValueError(
        f"no physics step down to ctrl_dt / {max_substeps} keeps the PD law stable "
        f"(joint inertia {inertia.min():.3g} kg m^2)"
    )


def motor_env_config(env_config: Any, model: Any) -> Any:
    """``env_config`` with the physics step ``model``'s motors need: its own ``sim_dt`` when
    that is within ``MAX_PD_STEP_LOAD``, else the largest ``ctrl_dt / n`` that is."""
    c = env_config
    if pd_step_load(joint_inertia(model), c.kp, c.kd, c.sim_dt) <= MAX_PD_STEP_LOAD:
        return c
    return dataclasses.replace(c, sim_dt=stable_sim_dt(model, c.kp, c.kd, c.ctrl_dt))
