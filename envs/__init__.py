"""CyberDog 2 environments: robot model, task functions, physics back ends and adapters.

Importing this package registers the ids with Gymnasium too (cheap: entry points are strings).
"""

from irondog.envs.base import Env, State
from irondog.envs.config import EnvConfig
from irondog.envs.registry import make, names

__all__ = ["Env", "EnvConfig", "State", "make", "names"]

try:  # Gymnasium is a dependency; keep the core importable without it all the same.
    from irondog.envs import gym_adapter as _gym_adapter

    _gym_adapter.register_gymnasium()
except ImportError:  # pragma: no cover
    pass
