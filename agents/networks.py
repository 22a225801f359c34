"""Actor-critic networks: plain MLPs (flax.linen) and a Gaussian policy head.

The actor and the critic are each an ``MLP`` whose parameters read
``{"params": {"Dense_0": {"kernel": (in, h0), "bias": (h0,)}, "Dense_1": ...}}`` with the
activation between layers and none after the last; the ONNX exporter reads that layout.
The critic is asymmetric: it sees the privileged (noise-free, richer) observation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
from flax import struct

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "elu": nn.elu,
    "relu": nn.relu,
    "tanh": jnp.tanh,
    "swish": nn.swish,
    "silu": nn.silu,
}


class MLP(nn.Module):
    """Dense layers of ``features`` sizes; ``activation`` between them, none after the last."""

    features: Sequence[int]
    activation: str = "elu"
    last_layer_scale: float = 1.0  # orthogonal init gain of the output layer

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        act = ACTIVATIONS[self.activation]
        for i, size in enumerate(self.features):
            last = i == len(self.features) - 1
            gain = self.last_layer_scale if last else jnp.sqrt(2.0)
            x = nn.Dense(size, kernel_init=nn.initializers.orthogonal(gain))(x)
            if not last:
                x = act(x)
        return x


@struct.dataclass
class ActorCriticParams:
    """All trainable parameters."""

    actor: Any  # {"params": {"Dense_i": ...}} -> action mean (.., action_size)
    critic: Any  # {"params": {"Dense_i": ...}} -> value (.., 1)
    log_std: jax.Array  # (action_size,) state-independent log standard deviation


class ActorCritic(NamedTuple):
    """The two networks and their sizes; functions of explicit parameters."""

    actor: MLP
    critic: MLP
    observation_size: int
    privileged_observation_size: int
    action_size: int
    init_noise_std: float

    def init(self, rng: jax.Array) -> ActorCriticParams:
        """Fresh parameters."""
        actor_rng, critic_rng = jax.random.split(rng)
        return ActorCriticParams(
            actor=self.actor.init(actor_rng, jnp.zeros((1, self.observation_size))),
            critic=self.critic.init(critic_rng, jnp.zeros((1, self.privileged_observation_size))),
            log_std=jnp.full((self.action_size,), jnp.log(self.init_noise_std), jnp.float32),
        )

    def action_mean(self, params: ActorCriticParams, obs: jax.Array) -> jax.Array:
        """Deterministic action (.., action_size) from normalised obs (.., observation_size)."""
        return self.actor.apply(params.actor, obs)

    def value(self, params: ActorCriticParams, privileged_obs: jax.Array) -> jax.Array:
        """State value (..,) from normalised privileged obs."""
        return self.critic.apply(params.critic, privileged_obs)[..., 0]


def make_actor_critic(
    observation_size: int,
    privileged_observation_size: int,
    action_size: int,
    actor_hidden: Sequence[int] = (256, 128, 128),
    critic_hidden: Sequence[int] = (256, 128, 128),
    activation: str = "elu",
    init_noise_std: float = 1.0,
) -> ActorCritic:
    """Build the actor (obs -> action mean) and the critic (privileged obs -> value)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation {activation!r} is not one of {sorted(ACTIVATIONS)}")
    return ActorCritic(
        actor=MLP((*actor_hidden, action_size), activation, last_layer_scale=0.01),
        critic=MLP((*critic_hidden, 1), activation, last_layer_scale=1.0),
        observation_size=observation_size,
        privileged_observation_size=privileged_observation_size,
        action_size=action_size,
        init_noise_std=init_noise_std,
    )
