"""Rebuild a deterministic policy (observation -> action) from a training checkpoint.

    act, env_config = load_policy("runs/trot")          # folder: its latest checkpoint
    action = act(state.obs)                             # (n, 48) -> (n, 12) in [-1, 1]

``zero_policy`` stands the robot in its home pose (all-zero actions), so evaluation and
rendering can be tried without training.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from irondog.agents import checkpoint
from irondog.config import ConfigError
from irondog.envs.config import EnvConfig

DEFAULT_ENV = "irondog/CyberDog2-Joystick-v0"
Act = Callable[[np.ndarray], np.ndarray]  # (n, obs) float32 -> (n, action) float


def load_run_config(ck: checkpoint.Checkpoint) -> Any:
    """The RunConfig saved in a checkpoint; CheckpointError if it cannot be read."""
    from irondog.agents.config import RunConfig
    from irondog.config import from_dict

    try:
        return from_dict(RunConfig, ck.config, source=f"{ck.path} (config section)")
    except ConfigError as err:
        raise checkpoint.CheckpointError(
            f"{ck.path}: its config cannot be read ({err}); was it written by another "
            "irondog version? Re-train or export it with that version."
        ) from None


def resolved_env_config(env_name: str, env_config: EnvConfig) -> EnvConfig:
    """``env_config`` with the registered environment's own settings (e.g. terrain) applied."""
    from irondog.envs import registry

    return registry.make_config(env_name, env_config)


def load_policy(path: str | Path) -> tuple[Act, EnvConfig]:
    """(act, env_config) of the checkpoint at ``path`` (a file or a run folder).

    ``env_config`` is the training environment, resolved for its registered id. Raises
    CheckpointError (a ValueError) with a hint when the file is missing or unreadable.
    """
    import jax

    from irondog.agents import ppo

    ck = checkpoint.load(path)
    run_config = load_run_config(ck)
    sizes = ck.sizes
    try:
        obs_size = int(sizes["observation_size"])
        priv_size = int(sizes["privileged_observation_size"])
        action_size = int(sizes["action_size"])
    except (KeyError, TypeError, ValueError):
        raise checkpoint.CheckpointError(
            f"{ck.path}: the 'sizes' section lacks observation/action sizes ({sizes})"
        ) from None
    template = ppo.init_learner(
        run_config.train, obs_size, priv_size, action_size, jax.random.PRNGKey(0)
    )
    learner = checkpoint.restore(ck, template)
    nets = ppo.make_networks(run_config.train, obs_size, priv_size, action_size)
    policy = jax.jit(ppo.make_inference_fn(nets))
    params, normalizer = learner.params, learner.obs_normalizer

    def act(obs: np.ndarray) -> np.ndarray:
        obs = np.asarray(obs, dtype=np.float32)
        if obs.ndim != 2 or obs.shape[1] != obs_size:
            raise ValueError(f"observation has shape {obs.shape}, the policy wants (n, {obs_size})")
        return np.asarray(policy(params, normalizer, obs), dtype=np.float64)

    env_config = resolved_env_config(run_config.train.env_name, run_config.env)
    return act, env_config


def checkpoint_sizes(path: str | Path) -> dict[str, Any]:
    """The observation/action sizes and actuator names a checkpoint was trained with."""
    return dict(checkpoint.load(path).sizes)


def check_env_matches(path: str | Path, env: Any) -> None:
    """CheckpointError naming each size or actuator where ``env`` differs from the checkpoint."""
    from irondog.agents.checkpoint import env_identity

    saved = checkpoint_sizes(path)
    now = env_identity(env)
    problems = [
        f"{key}: checkpoint {saved.get(key)!r}, environment {value!r}"
        for key, value in now.items()
        if key in saved and saved[key] != value
    ]
    if problems:
        raise checkpoint.CheckpointError(
            f"{path} does not match the environment: "
            + "; ".join(problems)
            + ". Evaluate it on the environment it was trained on (drop --env), or re-train."
        )


def zero_policy(action_size: int = 12) -> Act:
    """All-zero actions: the robot holds its home pose (a standing baseline)."""

    def act(obs: np.ndarray) -> np.ndarray:
        return np.zeros((np.asarray(obs).shape[0], action_size))

    return act


def with_env_name(env_config: EnvConfig, env_name: str | None) -> EnvConfig:
    """``env_config`` moved to another registered id (``None`` keeps it)."""
    if env_name is None:
        return env_config
    return resolved_env_config(env_name, dataclasses.replace(env_config))


class Selected(NamedTuple):
    """A policy chosen on the command line, with the environment to run it in."""

    act: Act
    env_config: EnvConfig
    label: str  # for titles: the checkpoint path or "zero policy"
    checkpoint: Path | None
    env_check: Callable[[Any], None] | None  # raises if a built env does not fit the policy


CHECKPOINT_HINT = (
    " (train one with `irondog train --config configs/train/smoke.yaml`, point --checkpoint "
    "at its checkpoint_*.msgpack or run folder, or try the tools with --policy zero)"
)


def select(
    checkpoint_path: str | None,
    policy_name: str | None,
    config_path: str | None = None,
    env_name: str | None = None,
) -> Selected:
    """Resolve --checkpoint / --policy zero (+ --config, --env) into a runnable policy."""
    if (checkpoint_path is None) == (policy_name is None):
        raise ValueError("give exactly one of --checkpoint PATH or --policy zero")
    if policy_name is not None:
        if policy_name != "zero":
            raise ValueError(f"--policy {policy_name!r}: the only built-in policy is 'zero'")
        if config_path is not None:
            from irondog.agents.config import RunConfig
            from irondog.config import load

            run_config = load(RunConfig, config_path)
            name = env_name or run_config.train.env_name
            env_config = resolved_env_config(name, run_config.env)
        else:
            env_config = resolved_env_config(env_name or DEFAULT_ENV, EnvConfig())
        return Selected(zero_policy(), env_config, "zero policy (home pose)", None, None)
    try:
        act, env_config = load_policy(checkpoint_path)
        path = checkpoint.load(checkpoint_path).path
    except checkpoint.CheckpointError as err:
        raise checkpoint.CheckpointError(f"{err}{CHECKPOINT_HINT}") from None
    if env_name is not None:
        env_config = with_env_name(env_config, env_name)

    def env_check(env: Any) -> None:
        check_env_matches(path, env)

    return Selected(act, env_config, str(path), path, env_check)
