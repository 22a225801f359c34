"""Typed training configuration: a frozen TrainConfig and the RunConfig that pairs it with an env.

Load a preset with ``irondog.config.load(RunConfig, "configs/train/trot_cpu.yaml", overrides)``;
the YAML holds overrides of the defaults below, under the keys ``env:`` and ``train:``.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from irondog.config import check
from irondog.envs.config import EnvConfig

Activation = Literal["elu", "relu", "tanh", "swish", "silu"]


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """PPO (or the SB3 baseline) hyper-parameters, logging and checkpointing."""

    algo: Literal["ppo", "sb3-ppo"] = "ppo"
    env_name: str = "irondog/CyberDog2-Joystick-v0"
    total_steps: int = 20_000_000  # environment steps (all envs together)
    num_iterations: int = 0  # 0: derived from total_steps
    unroll_length: int = 24  # policy steps per env per iteration
    num_minibatches: int = 4
    num_epochs: int = 4
    learning_rate: float = 1e-3
    lr_schedule: Literal["fixed", "kl-adaptive"] = "kl-adaptive"
    desired_kl: float = 0.01  # target KL for the adaptive schedule
    min_learning_rate: float = 1e-5
    max_learning_rate: float = 1e-2
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_epsilon: float = 0.2
    value_clip: bool = True  # clip the value update to +/- clip_epsilon
    entropy_coef: float = 0.005
    value_coef: float = 1.0
    max_grad_norm: float = 1.0
    normalize_advantages: bool = True
    actor_hidden: tuple[int, ...] = (256, 128, 128)
    critic_hidden: tuple[int, ...] = (256, 128, 128)
    activation: Activation = "elu"
    init_noise_std: float = 1.0  # initial action std (actions live in [-1, 1])
    # Largest action std the update may reach; None: no bound. An entropy bonus meets no
    # counterweight once the noise passes the action bounds (the clipped actions no longer
    # change), so the std can grow without end: a gait run at entropy_coef 0.005 went from
    # 0.5 to 3.3 (benchmarks/RESULTS.md).
    max_noise_std: float | None = None
    # --init-from: keep the source policy's learned action std instead of init_noise_std (to
    # fine-tune a policy; the configured std suits learning new skills on top of it).
    init_noise_from_checkpoint: bool = False
    normalize_observations: bool = True
    # Native back end: the next rollout runs while the update computes, acting with the
    # policy from before that update (one update of lag, corrected in the loss by decoupled
    # PPO's proximal policy and importance weights). False: each rollout waits for the update.
    overlap_update: bool = True
    seed: int = 0
    checkpoint_every: int = 50  # iterations; 0 only saves at the end
    log_dir: str = "runs/trot"
    num_devices: int = 0  # 0: every local device
    sb3_device: str = "cpu"  # torch device for the SB3 baseline

    def __post_init__(self) -> None:
        check(bool(self.env_name), "env_name", "must not be empty")
        check(self.total_steps > 0, "total_steps", f"must be > 0, got {self.total_steps}")
        check(self.num_iterations >= 0, "num_iterations", "must be >= 0")
        check(self.unroll_length > 0, "unroll_length", "must be > 0")
        check(self.num_minibatches > 0, "num_minibatches", "must be > 0")
        check(self.num_epochs > 0, "num_epochs", "must be > 0")
        check(self.learning_rate > 0, "learning_rate", "must be > 0")
        check(self.desired_kl > 0, "desired_kl", "must be > 0")
        check(
            0 < self.min_learning_rate <= self.max_learning_rate,
            "min_learning_rate",
            "must be > 0 and <= max_learning_rate",
        )
        check(0 < self.gamma <= 1, "gamma", f"must be in (0, 1], got {self.gamma}")
        check(0 <= self.gae_lambda <= 1, "gae_lambda", f"must be in [0, 1], got {self.gae_lambda}")
        check(self.clip_epsilon > 0, "clip_epsilon", "must be > 0")
        check(self.entropy_coef >= 0, "entropy_coef", "must be >= 0")
        check(self.value_coef >= 0, "value_coef", "must be >= 0")
        check(self.max_grad_norm > 0, "max_grad_norm", "must be > 0")
        for name in ("actor_hidden", "critic_hidden"):
            sizes = getattr(self, name)
            check(len(sizes) > 0, name, "needs at least one hidden layer")
            check(all(s > 0 for s in sizes), name, f"sizes must be > 0, got {list(sizes)}")
        check(self.init_noise_std > 0, "init_noise_std", "must be > 0")
        check(
            self.max_noise_std is None or self.max_noise_std >= self.init_noise_std,
            "max_noise_std",
            f"must be null or >= init_noise_std ({self.init_noise_std}), got {self.max_noise_std}",
        )
        check(self.checkpoint_every >= 0, "checkpoint_every", "must be >= 0")
        check(bool(self.log_dir), "log_dir", "must not be empty")
        check(self.num_devices >= 0, "num_devices", "must be >= 0")

    def iterations(self, num_envs: int) -> int:
        """Iterations to run: num_iterations, or enough to cover total_steps."""
        if self.num_iterations:
            return self.num_iterations
        per_iteration = num_envs * self.unroll_length
        return max(1, -(-self.total_steps // per_iteration))


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything ``irondog train`` needs: the environment and the trainer."""

    env: EnvConfig = dataclasses.field(default_factory=EnvConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        batch = self.env.num_envs * self.train.unroll_length
        check(
            batch % self.train.num_minibatches == 0,
            "train.num_minibatches",
            f"{self.train.num_minibatches} does not divide the batch of {batch} "
            f"(env.num_envs {self.env.num_envs} x train.unroll_length {self.train.unroll_length})",
        )
