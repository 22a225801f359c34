"""Arrow keys as a joystick: the command (vx, vy, yaw rate) after each key press.

Used by ``irondog view`` (GLFW key codes from MuJoCo's viewer) and by the CyberDog 2 LCM
loop's ``--keyboard`` (terminal escape sequences mapped to the same codes).
"""

from __future__ import annotations

from typing import Any

import numpy as np

# GLFW key codes, as passed to mujoco.viewer's key_callback.
KEY_RIGHT, KEY_LEFT, KEY_DOWN, KEY_UP = 262, 263, 264, 265
KEY_PAGE_UP, KEY_PAGE_DOWN, KEY_HOME = 266, 267, 268
STEPS = {  # key -> (index into (vx, vy, yaw), change)
    KEY_UP: (0, 0.1),
    KEY_DOWN: (0, -0.1),
    KEY_PAGE_UP: (1, 0.1),
    KEY_PAGE_DOWN: (1, -0.1),
    KEY_LEFT: (2, 0.2),
    KEY_RIGHT: (2, -0.2),
}


def apply_key(command: np.ndarray, key: int, limits: Any) -> np.ndarray:
    """The joystick command (3,) after pressing ``key``, clipped to the training ranges."""
    command = np.array(command, dtype=np.float64)
    if key == KEY_HOME:
        return np.zeros(3)
    if key in STEPS:
        index, change = STEPS[key]
        low, high = (limits.lin_vel_x, limits.lin_vel_y, limits.yaw_rate)[index]
        command[index] = float(np.clip(round(command[index] + change, 3), low, high))
    return command
