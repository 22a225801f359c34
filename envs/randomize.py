"""Domain randomisation as pure functions: uniform draws in, per-simulation parameters out.

``draw_parameters`` maps an (n, NUM_DRAWS(nbody)) array of uniforms in [0, 1) to named
parameters; ``model_fields`` turns them into per-simulation MjModel fields. The native back
end writes those into ``mujoco.batch`` expanded fields, the MJX back end into a batched
``mjx.Model``; the motor design optimiser reads the same parameter record.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from irondog.envs.config import RandomizationConfig
from irondog.envs.robot import NUM_JOINTS, RobotIds

# Model fields that randomisation writes, per simulation.
RANDOMIZED_FIELDS = (
    "body_mass",
    "body_inertia",
    "body_ipos",
    "geom_friction",
    "dof_frictionloss",
    "dof_armature",
)


def num_draws(nbody: int) -> int:
    """How many uniform numbers one simulation's randomisation takes."""
    return 1 + nbody + 1 + 3 + 1 + 1 + 1 + NUM_JOINTS + NUM_JOINTS + 1


def _lerp(bounds: tuple[float, float], u: Any) -> Any:
    return bounds[0] + (bounds[1] - bounds[0]) * u


def draw_parameters(
    uniform: Any, cfg: RandomizationConfig, nbody: int, xp: ModuleType = np
) -> dict[str, Any]:
    """Named per-simulation parameters from uniforms (n, num_draws(nbody)) in [0, 1)."""
    n = uniform.shape[0]
    if not cfg.enabled:
        one = xp.ones((n,), dtype=uniform.dtype)
        return {
            "friction": None,
            "link_mass_scale": xp.ones((n, nbody), dtype=uniform.dtype),
            "added_mass": 0.0 * one,
            "com_offset": xp.zeros((n, 3), dtype=uniform.dtype),
            "strength": one,
            "kp_scale": one,
            "kd_scale": one,
            "joint_friction": None,
            "armature_scale": xp.ones((n, NUM_JOINTS), dtype=uniform.dtype),
            "latency": xp.zeros((n,), dtype=np.int32),
        }
    col = 0

    def take(width: int) -> Any:
        nonlocal col
        out = uniform[:, col : col + width]
        col += width
        return out

    friction = _lerp(cfg.friction, take(1)[:, 0])
    mass_scale = _lerp(cfg.link_mass_scale, take(nbody))
    added = _lerp(cfg.trunk_added_mass, take(1)[:, 0])
    com = cfg.trunk_com_offset * (2.0 * take(3) - 1.0)
    strength = _lerp(cfg.motor_strength, take(1)[:, 0])
    kp_scale = _lerp(cfg.kp_scale, take(1)[:, 0])
    kd_scale = _lerp(cfg.kd_scale, take(1)[:, 0])
    joint_friction = _lerp(cfg.joint_friction, take(NUM_JOINTS))
    armature_scale = _lerp(cfg.armature_scale, take(NUM_JOINTS))
    lat_lo, lat_hi = cfg.latency_substeps
    latency = xp.floor(lat_lo + (lat_hi - lat_lo + 1) * take(1)[:, 0]).astype(np.int32)
    latency = xp.minimum(latency, lat_hi)
    return {
        "friction": friction,
        "link_mass_scale": mass_scale,
        "added_mass": added,
        "com_offset": com,
        "strength": strength,
        "kp_scale": kp_scale,
        "kd_scale": kd_scale,
        "joint_friction": joint_friction,
        "armature_scale": armature_scale,
        "latency": latency,
    }


def model_fields(
    params: dict[str, Any], base: dict[str, Any], ids: RobotIds, xp: ModuleType = np
) -> dict[str, Any]:
    """Per-simulation model fields (n, ...) from parameters and the base model's fields.

    ``base`` maps each name in RANDOMIZED_FIELDS to the nominal model's array.
    """
    n = params["strength"].shape[0]
    scale = params["link_mass_scale"]  # (n, nbody), world body included
    mass = base["body_mass"] * scale
    trunk = ids.trunk_body
    trunk_mass = base["body_mass"][trunk] * scale[:, trunk] + params["added_mass"]
    trunk_ratio = trunk_mass / (base["body_mass"][trunk] * scale[:, trunk])
    onehot = np.zeros(base["body_mass"].shape, dtype=bool)
    onehot[trunk] = True
    mass = xp.where(onehot, trunk_mass[:, None], mass)
    inertia_scale = xp.where(onehot, (scale[:, trunk] * trunk_ratio)[:, None], scale)
    inertia = base["body_inertia"] * inertia_scale[:, :, None]
    ipos = base["body_ipos"] + onehot[None, :, None] * params["com_offset"][:, None, :]

    friction = xp.broadcast_to(base["geom_friction"], (n,) + base["geom_friction"].shape)
    if params["friction"] is not None:
        feet = np.zeros(base["geom_friction"].shape[0], dtype=bool)
        feet[ids.foot_geoms] = True
        slide = xp.where(feet[None, :], params["friction"][:, None], friction[:, :, 0])
        friction = xp.concatenate([slide[:, :, None], friction[:, :, 1:]], axis=2)

    frictionloss = xp.broadcast_to(base["dof_frictionloss"], (n,) + base["dof_frictionloss"].shape)
    armature = xp.broadcast_to(base["dof_armature"], (n,) + base["dof_armature"].shape)
    joints = np.zeros(base["dof_armature"].shape[0], dtype=bool)
    joints[ids.joint_dofs] = True
    if params["joint_friction"] is not None:
        jf = xp.zeros((n, base["dof_armature"].shape[0]), dtype=frictionloss.dtype)
        jf = _scatter(jf, ids.joint_dofs, params["joint_friction"], xp)
        frictionloss = xp.where(joints[None, :], jf, frictionloss)
    arm_scale = _scatter(
        xp.ones((n, base["dof_armature"].shape[0]), dtype=armature.dtype),
        ids.joint_dofs,
        params["armature_scale"],
        xp,
    )
    armature = armature * arm_scale
    return {
        "body_mass": mass,
        "body_inertia": inertia,
        "body_ipos": ipos,
        "geom_friction": friction,
        "dof_frictionloss": frictionloss,
        "dof_armature": armature,
    }


def _scatter(target: Any, columns: np.ndarray, values: Any, xp: ModuleType) -> Any:
    """target with target[:, columns] = values, without in-place writes."""
    if xp is np:
        out = np.array(target, copy=True)
        out[:, columns] = values
        return out
    return target.at[:, columns].set(values)
