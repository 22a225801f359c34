"""Baseline: stable-baselines3's PPO (PyTorch) on the same environment, through the SB3 VecEnv
adapter (envs/sb3_adapter.py), with PPO settings mapped from the same TrainConfig.

Differences that SB3 does not offer: its critic sees the actor's observation (no asymmetric
critic), and its learning rate is fixed (no KL-adaptive schedule).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import yaml

from irondog.agents.config import RunConfig
from irondog.config import to_dict


def env_overrides(run_config: RunConfig) -> list[str]:
    """The run's EnvConfig as dotted overrides, for the adapter's own config loader."""
    out: list[str] = []

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(f"{prefix}.{key}" if prefix else key, value)
        elif prefix != "num_envs":  # the adapter sets num_envs itself
            text = yaml.safe_dump(node, default_flow_style=True).strip()
            out.append(f"{prefix}={text.removesuffix('...').strip()}")

    walk("", to_dict(run_config.env))
    return out


def make_vec_env(run_config: RunConfig) -> Any:
    """The SB3 VecEnv over the same environment config, observations normalised like ours."""
    from stable_baselines3.common.vec_env import VecNormalize

    from irondog.envs.sb3_adapter import CyberDog2SB3VecEnv

    venv = CyberDog2SB3VecEnv(
        run_config.env.num_envs, run_config.train.env_name, env_overrides(run_config)
    )
    venv.seed(run_config.train.seed)
    return VecNormalize(venv, norm_obs=True, norm_reward=False, clip_obs=5.0, gamma=0.99)


def make_model(run_config: RunConfig, venv: Any) -> Any:
    """SB3 PPO with the TrainConfig's settings."""
    import torch
    from stable_baselines3 import PPO

    cfg = run_config.train
    activations = {
        "elu": torch.nn.ELU,
        "relu": torch.nn.ReLU,
        "tanh": torch.nn.Tanh,
        "swish": torch.nn.SiLU,
        "silu": torch.nn.SiLU,
    }
    batch = run_config.env.num_envs * cfg.unroll_length
    return PPO(
        "MlpPolicy",
        venv,
        learning_rate=cfg.learning_rate if cfg.lr_schedule == "fixed" else 3e-4,
        n_steps=cfg.unroll_length,
        batch_size=batch // cfg.num_minibatches,
        n_epochs=cfg.num_epochs,
        gamma=cfg.gamma,
        gae_lambda=cfg.gae_lambda,
        clip_range=cfg.clip_epsilon,
        clip_range_vf=cfg.clip_epsilon if cfg.value_clip else None,
        ent_coef=cfg.entropy_coef,
        vf_coef=cfg.value_coef,
        max_grad_norm=cfg.max_grad_norm,
        target_kl=None,
        policy_kwargs={
            "net_arch": {"pi": list(cfg.actor_hidden), "vf": list(cfg.critic_hidden)},
            "activation_fn": activations[cfg.activation],
            "log_std_init": math.log(cfg.init_noise_std),
        },
        seed=cfg.seed,
        device=cfg.sb3_device,
        verbose=0,
    )


def train(run_config: RunConfig, total_steps: int, log_dir: Path | None = None) -> dict:
    """Train SB3 PPO for ``total_steps``; return steps/s, the last mean return and curve."""
    from stable_baselines3.common.callbacks import BaseCallback

    venv = make_vec_env(run_config)
    model = make_model(run_config, venv)
    writer = None
    if log_dir is not None:
        from tensorboardX import SummaryWriter

        writer = SummaryWriter(str(log_dir))
    curve: list[dict[str, float]] = []

    class Recorder(BaseCallback):
        """Collects finished-episode returns and tracking error per rollout."""

        def __init__(self) -> None:
            super().__init__()
            self.returns: list[float] = []
            self.errors: list[float] = []

        def _on_step(self) -> bool:
            for info in self.locals.get("infos", []):
                if "episode" in info:
                    self.returns.append(info["episode"]["r"])
            state = venv.venv._state
            if state is not None and "tracking_error" in state.metrics:
                self.errors.append(float(state.metrics["tracking_error"].mean()))
            return True

        def _on_rollout_end(self) -> None:
            point = {
                "env_steps": float(self.num_timesteps),
                "wall_s": time.perf_counter() - started,
                "episode/return": float(sum(self.returns) / len(self.returns))
                if self.returns
                else math.nan,
                "env/tracking_error": float(sum(self.errors) / len(self.errors))
                if self.errors
                else math.nan,
            }
            curve.append(point)
            if writer is not None:
                for key, value in point.items():
                    if math.isfinite(value):
                        writer.add_scalar(key, value, int(self.num_timesteps))
            self.returns, self.errors = [], []

    started = time.perf_counter()
    model.learn(total_timesteps=total_steps, callback=Recorder())
    seconds = time.perf_counter() - started
    if writer is not None:
        writer.close()
        model.save(str(log_dir / "sb3_ppo.zip"))
        venv.save(str(log_dir / "sb3_vecnormalize.pkl"))
    returns = [p["episode/return"] for p in curve if math.isfinite(p["episode/return"])]
    return {
        "steps": model.num_timesteps,
        "seconds": seconds,
        "steps_per_s": model.num_timesteps / seconds,
        "episode_return": returns[-1] if returns else math.nan,
        "curve": curve,
    }


def run(run_config: RunConfig, resume: bool = False) -> int:
    """``irondog train --algo sb3-ppo``: train the baseline and print its throughput."""
    from irondog.errors import UserError

    if resume:
        raise UserError("--resume is only supported for --algo ppo")
    cfg = run_config.train
    total = cfg.total_steps
    if cfg.num_iterations:
        total = cfg.num_iterations * run_config.env.num_envs * cfg.unroll_length
    log_dir = Path(cfg.log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    (log_dir / "config.yaml").write_text(yaml.safe_dump(to_dict(run_config), sort_keys=False))
    result = train(run_config, total, log_dir)
    print(
        f"sb3-ppo: {result['steps']} steps in {result['seconds']:.0f} s "
        f"({result['steps_per_s']:.0f} steps/s), last mean return {result['episode_return']:.3g}; "
        f"model {log_dir / 'sb3_ppo.zip'}"
    )
    return 0
