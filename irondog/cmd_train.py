"""Train a locomotion policy with irondog's JAX PPO (or stable-baselines3's PPO as a baseline).

    irondog train --config configs/train/trot_cpu.yaml [dotted overrides] [--resume]
    irondog train --config configs/train/smoke.yaml train.num_iterations=5 env.num_envs=64
    irondog train --config configs/train/trot_cpu.yaml --algo sb3-ppo
    irondog train --config configs/train/gaits_cpu.yaml --init-from runs/trot_gait_cpu

``--init-from`` warm-starts a new run from another run's policy: its network weights and
observation statistics (the networks and observation sizes must match), with a fresh
optimiser, the configured exploration noise and the iteration count at zero; for example all
gaits learned on top of a trot. ``train.init_noise_from_checkpoint=true`` keeps the source's
learned exploration noise instead, to fine-tune a policy without first shaking it.

Logs go to train.log_dir: TensorBoard event files, config.yaml and checkpoint_*.msgpack
(every train.checkpoint_every iterations, at the end, and on Ctrl-C).
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

DEFAULT_CONFIG = "configs/train/trot_cpu.yaml"
SIM_BYTES_PER_ENV = {"native": 64 * 1024, "mjx": 256 * 1024}  # measured ~16 KiB native, x4


def register(parser: argparse.ArgumentParser) -> None:
    """Add the train sub-command's arguments."""
    from irondog.argtypes import at_least

    parser.add_argument("--config", default=DEFAULT_CONFIG, help="RunConfig YAML (env:, train:)")
    parser.add_argument("overrides", nargs="*", help="dotted overrides, e.g. env.num_envs=2048")
    parser.add_argument("--resume", action="store_true", help="continue from train.log_dir")
    parser.add_argument(
        "--init-from",
        metavar="CHECKPOINT",
        help="warm start: weights and observation statistics of this checkpoint (file or run "
        "folder); fresh optimiser, exploration noise and iteration count",
    )
    parser.add_argument("--algo", choices=("ppo", "sb3-ppo"), help="overrides train.algo")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    group = parser.add_argument_group("multi-process (jax.distributed)")
    group.add_argument("--coordinator", help="host:port of process 0, e.g. 127.0.0.1:12355")
    group.add_argument("--num-processes", type=at_least(1), default=1)
    group.add_argument("--process-id", type=at_least(0), default=0)


def load_config(args: argparse.Namespace) -> Any:
    """The resolved RunConfig: defaults, the YAML file, the overrides, then --algo."""
    from irondog.agents.config import RunConfig
    from irondog.config import load

    overrides = list(args.overrides)
    if args.algo:
        overrides.append(f"train.algo={args.algo}")
    return load(RunConfig, args.config, overrides)


def make_env(run_config: Any) -> Any:
    """The environment batch named by train.env_name (per process)."""
    try:
        from irondog.envs.registry import make
    except ModuleNotFoundError:  # before the registry exists: build the back end directly
        if run_config.env.backend == "mjx":
            from irondog.envs.mjx_env import MjxEnv as Backend
        else:
            from irondog.envs.native import NativeEnv as Backend
        return Backend(run_config.env)
    return make(run_config.train.env_name, run_config.env)


def check_memory(run_config: Any, num_processes: int = 1) -> None:
    """Fail before building anything if the run cannot fit in memory; say what it needs."""
    import psutil

    from irondog.agents.ppo import estimate_memory_bytes
    from irondog.errors import UserError

    env = run_config.env
    need = estimate_memory_bytes(
        run_config.train,
        env.num_envs,
        observation_size=48,
        privileged_observation_size=128,  # an upper bound before the env exists
        action_size=12,
        sim_bytes_per_env=SIM_BYTES_PER_ENV[env.backend],
    )
    have, where = psutil.virtual_memory().available, "host memory available"
    if env.backend == "mjx":
        import jax

        stats = jax.local_devices()[0].memory_stats() or {}
        if "bytes_limit" in stats:
            have, where = stats["bytes_limit"] - stats.get("bytes_in_use", 0), "device memory"
    if need > have:
        raise UserError(
            f"env.num_envs={env.num_envs} needs about {need / 2**30:.1f} GiB "
            f"(simulations + rollout of train.unroll_length={run_config.train.unroll_length} "
            f"+ update), but only {have / 2**30:.1f} GiB of {where}; lower env.num_envs"
        )


def _enable_compile_cache() -> None:
    import jax

    cache = os.environ.get("IRONDOG_JAX_CACHE", str(Path.home() / ".cache" / "irondog" / "jax"))
    if cache:
        jax.config.update("jax_compilation_cache_dir", cache)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``irondog train``."""
    from irondog.agents import checkpoint
    from irondog.errors import UserError
    from irondog.outputs import check_output_dir

    if args.coordinator:
        from irondog.agents import distributed

        distributed.initialize(args.coordinator, args.num_processes, args.process_id)
    run_config = load_config(args)
    log_dir = Path(run_config.train.log_dir)
    if args.init_from is not None and not Path(args.init_from).exists():
        raise UserError(f"--init-from {args.init_from} does not exist")
    check_output_dir(log_dir, "train.log_dir")  # before the imports and the work
    for stale in checkpoint.remove_stale_temporaries(log_dir):
        print(
            f"irondog train: removed {stale}, a checkpoint left half-written by a run that "
            "was killed while saving",
            file=sys.stderr,
        )
    existing = checkpoint.latest(log_dir)
    if args.resume and existing is None:
        raise UserError(f"--resume: no checkpoint_*.msgpack in {log_dir}")
    if not args.resume and existing is not None:
        raise UserError(
            f"{log_dir} already holds {existing.name}; pass --resume to continue it, or set "
            "train.log_dir to a new folder (nothing was overwritten)"
        )
    if args.resume and args.init_from:
        raise UserError(
            "--resume and --init-from exclude each other: resume continues a run, "
            "--init-from starts a new one"
        )
    saved = warm = None
    try:
        if args.resume:
            saved = checkpoint.load(existing)
        if args.init_from:
            warm = checkpoint.load(args.init_from)
    except checkpoint.CheckpointError as err:
        raise UserError(str(err)) from None
    if warm is not None and run_config.train.algo != "ppo":
        raise UserError("--init-from: only irondog's PPO (train.algo=ppo) can warm-start")
    check_memory(run_config, args.num_processes)

    # SIGTERM (kill, SLURM, systemd) ends the run as Ctrl-C does: the last iteration is saved.
    previous = _stop_on_sigterm()
    try:
        return _run(args, run_config, log_dir, saved, warm)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _stop_on_sigterm() -> Any:
    """Make SIGTERM raise KeyboardInterrupt; the previous handler (None off the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    from irondog.cli import interrupt

    return signal.signal(signal.SIGTERM, interrupt)


def _run(args: argparse.Namespace, run_config: Any, log_dir: Path, saved: Any, warm: Any) -> int:
    """Build the environment and train (after every check has passed)."""
    import yaml

    from irondog.agents import checkpoint
    from irondog.config import to_dict
    from irondog.errors import UserError

    if run_config.train.algo == "sb3-ppo":
        from irondog.agents import sb3_baseline

        return sb3_baseline.run(run_config, resume=saved is not None)

    if args.num_processes == 1:  # ranks must compile alike; a cache hit on one can stall both
        _enable_compile_cache()
    env = make_env(run_config)
    config_dict = to_dict(run_config)
    sizes = checkpoint.env_identity(env)
    try:
        if saved is not None:
            checkpoint.check_compatible(saved, config_dict, sizes)
        if warm is not None:
            warm = _widen_for_task(warm, run_config.env.task, sizes)
            checkpoint.check_compatible(warm, config_dict, sizes, warm_start=True)
    except checkpoint.CheckpointError as err:
        raise UserError(str(err)) from None
    log_dir.mkdir(parents=True, exist_ok=True)
    (log_dir / "config.yaml").write_text(yaml.safe_dump(config_dict, sort_keys=False))
    return _train_ppo(run_config, env, config_dict, sizes, saved, args.no_progress, warm)


def _widen_for_task(warm: Any, task_name: str, sizes: dict[str, Any]) -> Any:
    """``warm`` with its inputs widened when it was trained on a task whose observation the
    run's task extends (the joystick policy starting the gait task); else ``warm`` itself."""
    from irondog.agents import checkpoint
    from irondog.envs import task

    saved_task = (warm.config.get("env") or {}).get("task", "joystick")
    if saved_task == task_name or saved_task not in task.TASKS:
        return warm
    saved = [name for name, *_ in task.observation_layout(saved_task)]
    wanted = [name for name, *_ in task.observation_layout(task_name)]
    if wanted[: len(saved)] != saved:
        return warm  # check_compatible names the size mismatch
    print(
        f"irondog train: {warm.path} was trained on task {saved_task!r}; its networks take "
        f"the {task_name!r} task's extra inputs ({', '.join(wanted[len(saved) :])}) with zero "
        "weights, so it starts acting as it did",
        file=sys.stderr,
    )
    return checkpoint.widen_inputs(warm, int(sizes["observation_size"]))


def _train_ppo(run_config, env, config_dict, sizes, saved, no_progress: bool, warm=None) -> int:
    import jax
    from tensorboardX import SummaryWriter
    from tqdm import tqdm

    from irondog.agents import checkpoint, distributed, ppo
    from irondog.errors import UserError

    cfg = run_config.train
    log_dir = Path(cfg.log_dir)
    main = distributed.is_main_process()
    rng = jax.random.PRNGKey(cfg.seed)
    train = ppo.make_train(cfg, env)
    learner = None
    if saved is not None:
        template = ppo.init_learner(
            cfg, env.observation_size, env.privileged_observation_size, env.action_size, rng
        )
        try:
            learner = checkpoint.restore(saved, template)
        except checkpoint.CheckpointError as err:
            raise UserError(str(err)) from None
    elif warm is not None:
        template = ppo.init_learner(
            cfg, env.observation_size, env.privileged_observation_size, env.action_size, rng
        )
        try:
            restored = checkpoint.restore(warm, template)
            learner = checkpoint.warm_start(template, restored, cfg.init_noise_from_checkpoint)
        except checkpoint.CheckpointError as err:
            raise UserError(f"--init-from {warm.path}: {err}") from None
    start = int(learner.iteration) if learner is not None else 0
    steps_per_iteration = env.num_envs * jax.process_count() * cfg.unroll_length
    writer = SummaryWriter(str(log_dir)) if main else None
    bar = tqdm(
        total=train.num_iterations * steps_per_iteration,
        initial=start * steps_per_iteration,
        unit="step",
        unit_scale=True,
        disable=no_progress or not main,
        dynamic_ncols=True,
    )
    last: dict[str, Any] = {"learner": learner, "iteration": start, "saved": None}
    shown: dict[str, float] = {}

    def save(current) -> None:
        if main:
            last["saved"] = checkpoint.save(log_dir, current, config_dict, sizes, last["iteration"])

    def on_iteration(current, metrics: dict[str, float]) -> None:
        last["learner"], last["iteration"] = current, int(metrics["iteration"])
        step = int(metrics["env_steps"])
        if writer is not None:
            for key, value in metrics.items():
                if math.isfinite(value):
                    writer.add_scalar(key, value, step)
        for key, name in (
            ("episode/return", "return"),
            ("env/tracking_error", "track_err"),
            ("episode/fall_fraction", "falls"),
        ):
            if math.isfinite(metrics.get(key, math.nan)):
                shown[name] = metrics[key]
        bar.set_postfix(
            {"steps/s": f"{metrics['time/steps_per_s']:.0f}"}
            | {k: f"{v:.3g}" for k, v in shown.items()},
            refresh=False,
        )
        bar.update(steps_per_iteration)
        if cfg.checkpoint_every and last["iteration"] % cfg.checkpoint_every == 0:
            save(current)

    try:
        result = train(rng, learner=learner, callback=on_iteration)
        if last["learner"] is not None:
            save(result.learner)
    except KeyboardInterrupt:
        bar.close()
        if last["learner"] is not None and last["iteration"] > start:
            save(last["learner"])
            print(f"\ninterrupted: saved {last['saved']}; continue with --resume")
        else:
            print("\ninterrupted before the first iteration finished; nothing saved")
        return 0
    finally:
        bar.close()
        if writer is not None:
            writer.close()
    if main and last["saved"] is not None:
        print(f"done: {last['iteration']} iterations; checkpoint {last['saved']}")
    return 0
