"""Duty cycles of a trained policy, and the robot re-simulated with another motor under it.

    duty, metrics = policy_duty("examples/trot_cpu/checkpoint_00000351.msgpack")
    simulate = policy_simulator("examples/trot_cpu/checkpoint_00000351.msgpack")
    steps = codesign(duty, config, simulate)        # irondog.motors.optimize

The policy runs its evaluation episodes (``irondog.agents.evaluate``) at a fixed command on the
native batch; joint torque and speed are sampled once per control step, after a warm-up, from
the episodes that did not fall, and laid back to back in the rollouts ``.npz`` format of
``irondog.motors.duty``. With another motor the model gets its masses, reflected inertia and
torque range (``irondog.motors.duty.apply_motor``) and the motor law its parameters.

Physics step: the environment applies the motor's PD law explicitly once per physics step.
A light motor has a small reflected rotor inertia, and at the training step of 4 ms the
damping term ``Kd dt / I`` of a knee then exceeds the explicit stability bound: the joints
chatter (a simulation artefact; the real drive closes its loop at kHz rates). Each simulation
therefore takes the step its motors need (``irondog.motors.duty.motor_env_config``: the
policy's own step while the PD law stays within half its bound, else the largest
``ctrl_dt / n`` that does); the CyberGear keeps 4 ms.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from irondog.motors.cybergear import CyberGearParams
from irondog.motors.duty import Duty, apply_motor, motor_env_config

COMMAND = (0.5, 0.0, 0.0)  # vx m/s, vy m/s, yaw rad/s: the trot benchmark's command


def is_checkpoint(path: str | Path) -> bool:
    """True for a training checkpoint (``.msgpack`` file or a run folder), not an ``.npz``."""
    path = Path(path)
    return path.is_dir() or path.suffix == ".msgpack"


def policy_rollout(
    checkpoint: str | Path,
    params: CyberGearParams | None = None,
    episodes: int = 8,
    seconds: float = 8.0,
    command: tuple[float, float, float] = COMMAND,
    sim_dt: float | None = None,
    seed: int = 0,
    randomize: bool = False,
    payload: float = 0.0,
    gait: str | None = None,
    pushes: tuple[float, float] | None = None,
) -> tuple[dict[str, Any], Any]:
    """(eval metrics, trace) of the policy on 12 motors of ``params`` (None: the CyberGear
    model of the MJCF, as trained). ``sim_dt`` None: the physics step the motors need (the
    policy's own where it is stable enough, see the module docstring).

    The robot is the nominal one unless ``randomize``: the training's randomisation (motor
    strength x0.9-1.1, masses, friction) would put torques above the motor's own limit.
    ``payload`` kg rides on the trunk (``add_payload``); ``gait`` (a gait policy's
    ``--gait`` text, e.g. ``bound``) commands its gait. ``pushes`` (interval s, velocity m/s):
    the environment's push randomisation on the nominal robot (``push_only``).
    """
    from irondog.agents import evaluate, policy

    selected = policy.select(str(checkpoint), None)
    cfg = selected.env_config
    if not randomize:
        cfg = dataclasses.replace(
            cfg, randomization=dataclasses.replace(cfg.randomization, enabled=False)
        )
    model = None
    if pushes is not None:
        cfg = dataclasses.replace(cfg, randomization=push_only(cfg.randomization, *pushes))
    if params is not None:
        if cfg.terrain != "flat":
            raise ValueError(f"{checkpoint}: only a flat-ground policy can take another motor")
        cfg = dataclasses.replace(cfg, motor=params)
        model = apply_motor(params)
    if payload > 0:
        import mujoco

        from irondog.motors.duty import robot_xml

        if model is None:
            model = mujoco.MjModel.from_xml_path(str(robot_xml()))
        add_payload(model, payload)
    if sim_dt is not None:
        cfg = dataclasses.replace(cfg, sim_dt=sim_dt)
    elif model is not None:
        cfg = motor_env_config(cfg, model)
    schedule = None
    if gait is not None:
        from irondog.agents import gait_schedule

        gait_schedule.check_policy_takes_gaits(cfg)
        schedule = gait_schedule.parse(gait, cfg.gaits.ranges)
    return evaluate.evaluate(
        selected.act,
        cfg,
        episodes=episodes,
        seconds=seconds,
        command=command,
        seed=seed,
        env_check=selected.env_check,
        model=model,
        gait_schedule=schedule,
        pushes=pushes is not None,
    )


def push_only(rand: Any, interval: float, velocity: float) -> Any:
    """``rand`` (a ``RandomizationConfig``) with pushes every ``interval`` s of up to
    ``velocity`` m/s per horizontal axis and every other range at the MJCF's nominal value (feet
    friction 0.8, joint friction loss 0.05 N m, no added mass, offsets or latency)."""
    if not (interval > 0 and velocity > 0):
        raise ValueError(f"pushes: interval and velocity must be > 0, got {interval}, {velocity}")
    return dataclasses.replace(
        rand,
        enabled=True,
        friction=(0.8, 0.8),  # the MJCF's foot and floor friction
        link_mass_scale=(1.0, 1.0),
        trunk_added_mass=(0.0, 0.0),
        trunk_com_offset=0.0,
        motor_strength=(1.0, 1.0),
        kp_scale=(1.0, 1.0),
        kd_scale=(1.0, 1.0),
        joint_friction=(0.05, 0.05),  # the MJCF's frictionloss
        armature_scale=(1.0, 1.0),
        latency_substeps=(0, 0),
        push_interval=interval,
        push_velocity=velocity,
    )


def add_payload(model: Any, kg: float, body: str = "trunk") -> Any:
    """``model`` with ``kg`` more on ``body`` (in place): mass added at the body's centre of
    mass and its inertia scaled with it (a payload spread like the trunk). Returns ``model``."""
    if kg < 0:
        raise ValueError(f"payload: must be >= 0 kg, got {kg}")
    b = model.body(body).id
    scale = (model.body_mass[b] + kg) / model.body_mass[b]
    model.body_mass[b] += kg
    model.body_inertia[b] *= scale
    return model


def duty_from_trace(trace: Any, warmup: float = 1.0, source: str = "policy") -> Duty:
    """The torque and speed (per control step) of the episodes that did not fall, after
    ``warmup`` s, back to back; ValueError if every episode fell."""
    start = int(round(warmup / trace.dt))
    fell = (trace.done & ~trace.truncated).any(axis=0)  # (n,)
    keep = np.flatnonzero(~fell)
    if len(keep) == 0:
        raise ValueError(f"{source}: every episode fell; no duty cycle to record")
    torque = trace.torque[start:, keep].transpose(1, 0, 2).reshape(-1, 12)  # (T k, 12) N m
    vel = trace.joint_vel[start:, keep].transpose(1, 0, 2).reshape(-1, 12)  # (T k, 12) rad/s
    return Duty(torque, vel, float(trace.dt), source=source)


def policy_duty(
    checkpoint: str | Path, params: CyberGearParams | None = None, **kwargs: Any
) -> tuple[Duty, dict[str, Any]]:
    """(duty, eval metrics) of the policy's rollouts on motors ``params`` (see policy_rollout)."""
    metrics, trace = policy_rollout(checkpoint, params, **kwargs)
    return duty_from_trace(trace, source=f"policy {checkpoint}"), metrics


def policy_simulator(
    checkpoint: str | Path, log: Callable[[str], None] | None = print, **kwargs: Any
) -> Callable[[CyberGearParams], Duty]:
    """``simulate(params) -> Duty`` for ``codesign``: the policy re-run on the new motors."""

    def simulate(params: CyberGearParams) -> Duty:
        duty, metrics = policy_duty(checkpoint, params, **kwargs)
        if log is not None:
            log(
                f"  policy on {1e3 * params.mass:.1f} g motors: tracking error "
                f"{metrics['tracking_error']:.3f} m/s, fall rate {metrics['fall_rate']:.0%}, "
                f"peak winding {metrics['winding_temp_peak']:.1f} C"
            )
        return duty

    return simulate


def auto_sim_dt(checkpoint: str | Path, params: CyberGearParams | None) -> float:
    """The physics step (s) ``policy_rollout`` takes for the policy on motors ``params``."""
    from irondog.agents import policy

    cfg = policy.select(str(checkpoint), None).env_config
    if params is None:
        return float(cfg.sim_dt)
    cfg = dataclasses.replace(cfg, motor=params)
    return float(motor_env_config(cfg, apply_motor(params)).sim_dt)
