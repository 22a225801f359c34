"""The CyberDog 2 model: its MJCF, joint order, home pose and the ids the task reads.

All robot constants live here and in ``assets/cyberdog2.xml`` (written from FACTS.md).
"""

from __future__ import annotations

import dataclasses
from importlib import resources
from pathlib import Path

import mujoco
import numpy as np

ROBOT_NAME = "cyberdog2"
LEGS = ("FR", "FL", "RR", "RL")
JOINT_NAMES = tuple(f"{leg}_{part}" for leg in LEGS for part in ("abad", "hip", "knee"))
FOOT_NAMES = tuple(f"{leg}_foot" for leg in LEGS)
NUM_JOINTS = len(JOINT_NAMES)  # 12
FOOT_RADIUS = 0.019  # m
# Sensor names and widths in the MJCF, in sensordata order.
SENSORS = {
    "orientation": 4,
    "gyro": 3,
    "local_linvel": 3,
    "accelerometer": 3,
    **{f"{leg}_pos": 3 for leg in LEGS},
    **{f"{leg}_touch": 1 for leg in LEGS},
}


def asset_path(name: str = "cyberdog2.xml") -> Path:
    """Path of a robot asset shipped inside the package."""
    return Path(str(resources.files("irondog.envs") / "assets" / name))


def load_model(path: str | Path | None = None) -> mujoco.MjModel:
    """Compile the CyberDog 2 MJCF (or another file with the same names)."""
    path = Path(path) if path is not None else asset_path()
    if not path.is_file():
        raise FileNotFoundError(f"robot model {path} does not exist")
    return mujoco.MjModel.from_xml_path(str(path))


@dataclasses.dataclass(frozen=True)
class RobotIds:
    """Ids and address slices looked up by name once, at construction."""

    trunk_body: int
    foot_geoms: np.ndarray  # (4,)
    joint_qpos: np.ndarray  # (12,) qpos addresses
    joint_dofs: np.ndarray  # (12,) dof addresses
    joint_range: np.ndarray  # (12, 2) rad
    home_qpos: np.ndarray  # (nq,) keyframe "home"
    default_pose: np.ndarray  # (12,) rad, joint part of home
    sensor_slices: dict[str, slice]
    link_bodies: np.ndarray  # bodies whose mass is randomised (all but world)

    @staticmethod
    def from_model(model: mujoco.MjModel) -> RobotIds:
        joints = [model.joint(name) for name in JOINT_NAMES]
        slices = {}
        for name in SENSORS:
            sensor = model.sensor(name)
            adr = int(sensor.adr[0])
            slices[name] = slice(adr, adr + int(sensor.dim[0]))
        home = model.keyframe("home").qpos.copy()
        qadr = np.array([int(j.qposadr[0]) for j in joints])
        return RobotIds(
            trunk_body=model.body("trunk").id,
            foot_geoms=np.array([model.geom(name).id for name in FOOT_NAMES]),
            joint_qpos=qadr,
            joint_dofs=np.array([int(j.dofadr[0]) for j in joints]),
            joint_range=np.array([j.range for j in joints]),
            home_qpos=home,
            default_pose=home[qadr].copy(),
            sensor_slices=slices,
            link_bodies=np.arange(1, model.nbody),
        )
