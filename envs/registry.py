"""One registry of named environments. It stores factories, never instances; nothing is
compiled or loaded until ``make`` is called."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from irondog.config import ConfigError
from irondog.envs.config import EnvConfig


@dataclasses.dataclass(frozen=True)
class EnvSpec:
    """A registered environment: its id, a one-line description and config overrides."""

    name: str
    description: str
    defaults: dict[str, Any] = dataclasses.field(default_factory=dict)


_REGISTRY: dict[str, EnvSpec] = {}


def register(name: str, description: str, **defaults: Any) -> None:
    """Add an environment id; ``defaults`` override EnvConfig fields for it."""
    if name in _REGISTRY:
        raise ValueError(f"environment {name!r} is already registered")
    _REGISTRY[name] = EnvSpec(name, description, dict(defaults))


def names() -> list[str]:
    """Registered ids, sorted."""
    return sorted(_REGISTRY)


def spec(name: str) -> EnvSpec:
    """The spec of ``name``, with a clear error listing the ids."""
    if name not in _REGISTRY:
        raise KeyError(f"unknown environment {name!r}; registered: {', '.join(names())}")
    return _REGISTRY[name]


def make_config(name: str, config: EnvConfig | None = None) -> EnvConfig:
    """The config for ``name``: ``config`` (or defaults) with the id's own settings applied.

    A setting of ``config`` that contradicts the id (``terrain: rough`` for the flat id, say)
    is an error naming the id that has it, rather than being silently replaced.
    """
    config = config if config is not None else EnvConfig()
    nominal = EnvConfig()
    for key, value in spec(name).defaults.items():
        current = getattr(config, key)
        if current != value and current != getattr(nominal, key):
            fits = [n for n in names() if _REGISTRY[n].defaults.get(key) == current]
            hint = f"; use {' or '.join(fits)}" if fits else ""
            raise ConfigError(
                f"env.{key}={current!r} contradicts environment {name} ({key}={value!r}){hint}"
            )
    return dataclasses.replace(config, **spec(name).defaults)


def make(name: str, config: EnvConfig | None = None) -> Any:
    """Build environment ``name`` on the back end its config names (native or mjx)."""
    cfg = make_config(name, config)
    return backend_factory(cfg.backend)(cfg)


def backend_factory(backend: str) -> Callable[[EnvConfig], Any]:
    """The environment class of a back end, imported on demand."""
    if backend == "native":
        from irondog.envs.native import NativeEnv

        return NativeEnv
    if backend == "mjx":
        from irondog.envs.mjx_env import MjxEnv

        return MjxEnv
    raise ValueError(f"unknown back end {backend!r}; use 'native' or 'mjx'")


register(
    "irondog/CyberDog2-Joystick-v0",
    "CyberDog 2 velocity tracking (vx, vy, yaw rate) on flat ground",
    terrain="flat",
    task="joystick",
)
register(
    "irondog/CyberDog2-JoystickRough-v0",
    "CyberDog 2 velocity tracking on a rough heightfield with a 10-level curriculum",
    terrain="rough",
    task="joystick",
)
register(
    "irondog/CyberDog2-Gaits-v0",
    "CyberDog 2 gait-conditioned joystick: walk, trot, pace, bound, pronk and blends on command",
    terrain="flat",
    task="gaits",
)
