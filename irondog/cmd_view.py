"""Watch a policy in MuJoCo's interactive viewer; the arrow keys steer it like a joystick.

    irondog view --checkpoint runs/trot
    irondog view --policy zero

Keys: Up/Down change vx by 0.1 m/s, Left/Right the yaw rate by 0.2 rad/s, Page Up/Page Down
vy by 0.1 m/s, Home stops (all zero). Needs a display; on a headless machine use
``irondog render`` to write a video instead.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from irondog.agents.joystick_keys import (  # noqa: F401 (the viewer's keys, re-exported)
    KEY_DOWN,
    KEY_HOME,
    KEY_LEFT,
    KEY_PAGE_DOWN,
    KEY_PAGE_UP,
    KEY_RIGHT,
    KEY_UP,
    STEPS,
    apply_key,
)

NO_DISPLAY = (
    "no display found (DISPLAY and WAYLAND_DISPLAY are unset), so the interactive viewer "
    "cannot open. Write a video instead: irondog render {policy} --out run.mp4"
)


def register(parser: argparse.ArgumentParser) -> None:
    """Add the view sub-command's arguments."""
    from irondog.cmd_eval import add_policy_arguments

    add_policy_arguments(parser)


def has_display() -> bool:
    """True where a window can open (X11/Wayland on Linux; macOS and Windows always)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run(args: argparse.Namespace) -> int:
    """Open the viewer and run the policy in real time until the window closes."""
    from irondog.errors import UserError

    if not has_display():
        source = f"--checkpoint {args.checkpoint}" if args.checkpoint else "--policy zero"
        raise UserError(NO_DISPLAY.format(policy=source))
    import dataclasses
    import time

    import mujoco
    import mujoco.viewer

    from irondog.agents import evaluate
    from irondog.cmd_eval import resolve
    from irondog.envs import task

    selected, command = resolve(args)
    cfg = dataclasses.replace(
        evaluate.eval_env_config(selected.env_config, 1, 3600.0, None, num_threads=1),
        episode_length=3600.0,
    )
    env = evaluate.make_env(cfg)
    if selected.env_check is not None:
        try:
            selected.env_check(env)
        except ValueError as err:
            raise UserError(str(err)) from None
    layout = task.observation_layout(cfg.task)
    offset = 0
    for name, size, _, _ in layout:
        if name == "command":
            break
        offset += size
    joystick = np.array(command if command is not None else (0.0, 0.0, 0.0))
    limits = selected.env_config.command

    def on_key(key: int) -> None:
        nonlocal joystick
        joystick = apply_key(joystick, key, limits)
        print(f"command vx {joystick[0]:+.2f} vy {joystick[1]:+.2f} yaw {joystick[2]:+.2f}")

    state = env.reset(args.seed)
    data = mujoco.MjData(env.model)
    try:
        viewer = mujoco.viewer.launch_passive(env.model, data, key_callback=on_key)
    except Exception as err:  # no GL, or macOS without mjpython
        raise UserError(
            f"the viewer could not open ({err}); on macOS run it with `mjpython -m irondog.cli "
            "view ...`, elsewhere use `irondog render` for a video"
        ) from None
    print("arrow keys: vx and yaw rate; Page Up/Down: vy; Home: stop; close the window to quit")
    with viewer:
        with viewer.lock():  # follow the trunk, like the videos' tracking camera
            viewer.cam.type = mujoco.mjtCamera.mjCAMERA_TRACKING
            viewer.cam.trackbodyid = mujoco.mj_name2id(env.model, mujoco.mjtObj.mjOBJ_BODY, "trunk")
            viewer.cam.distance, viewer.cam.elevation = 1.5, -20.0
        while viewer.is_running():
            start = time.perf_counter()
            tinfo = state.info.task
            state = state.replace(
                obs=_with_command(state.obs, offset, joystick),
                info={**state.info, "task": tinfo.replace(command=joystick[None, :].copy())},
            )
            state = env.step(state, selected.act(state.obs))
            data.qpos[:] = env.qpos[0]
            data.qvel[:] = env.qvel[0]
            mujoco.mj_forward(env.model, data)
            viewer.sync()
            time.sleep(max(0.0, cfg.ctrl_dt - (time.perf_counter() - start)))
    return 0


def _with_command(obs: np.ndarray, offset: int, command: np.ndarray) -> np.ndarray:
    obs = np.array(obs, copy=True)
    obs[:, offset : offset + 3] = command
    return obs
