"""Where the native trainer's CPU goes: physics call patterns, the env's control step, the update.

Everything is counted in process CPU time (all threads, ``time.process_time``), interleaved
in one process, repeat after repeat, so that the shared machine's load moves every variant
alike; the table gives medians and each variant's ratio to raw ``Batch.step(nstep=5)``.

Physics (joystick_cpu model, ``--num-envs`` simulations, one control step = 5 physics steps):
  - raw ``Batch.step(nstep=5)`` with a NumPy PD law (train_throughput.py's reference),
  - the same as five ``Batch.step()`` calls (the env's pattern: the CyberGear law needs fresh
    torques every physics step),
  - raw in a ``persistent=True`` batch (one MjData per simulation),
  - raw with the randomised model fields expanded per simulation (five calls),
  - ``env.step`` holding the home pose (zero actions) and with random actions,
  - ``env.step`` (random actions) on a ``persistent=True`` batch; before timing, it is checked
    against the default batch bit for bit (qpos, qvel, obs, rewards) over ``--check-steps``,
  - ``env.step`` driven by a walking policy (``--policy``, default the shipped
    examples/joystick_cpu) over the env's own command draws, and that policy's forward alone:
    what the trainer's physics costs once its robots walk, against raw's standing robots.
Update (``--update``): one jitted PPO update of joystick_cpu's shapes, as configured, with one
epoch, with ReLU, and without the policy-lag correction.

    python benchmarks/batch_call_cost.py [--num-envs 512] [--repeats 5] [--update]
                                         [--policy examples/joystick_cpu]

Prints Markdown tables (paste into benchmarks/RESULTS.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from collections.abc import Callable

import numpy as np
from mujoco.batch import Batch

from irondog.agents.config import RunConfig
from irondog.config import load
from irondog.envs import native, randomize, registry, terrain
from irondog.envs.robot import NUM_JOINTS, RobotIds

CONFIG = "configs/train/joystick_cpu.yaml"


def make_env(run: RunConfig, persistent: bool) -> native.NativeEnv:
    """The preset's native env, on a ``persistent`` batch or the default one."""
    default = native.Batch
    native.Batch = lambda model, nsim, nthread=0: default(  # type: ignore[misc]
        model, nsim, nthread=nthread, persistent=persistent
    )
    try:
        return registry.make(run.train.env_name, run.env)
    finally:
        native.Batch = default


def raw_stepper(cfg, split: bool, persistent: bool = False, expand: bool = False) -> Callable:
    """A raw batch control step: NumPy PD law, then 5 physics steps in one call or five."""
    model = terrain.build_model(cfg)
    pose = RobotIds.from_model(model).default_pose
    batch = Batch(model, cfg.num_envs, nthread=cfg.num_threads or os.cpu_count() or 1,
                  persistent=persistent)  # fmt: skip
    batch.reset(keyframe=0)
    if expand:  # per-simulation copies of the fields randomisation writes
        for name in randomize.RANDOMIZED_FIELDS:
            field = batch.expand(name)
            field[:] = field * 1.0
        batch.set_const()
    qpos, qvel, ctrl = batch.bind("qpos"), batch.bind("qvel"), batch.bind("ctrl")

    def step() -> None:
        ctrl[:] = np.clip(cfg.kp * (pose - qpos[:, 7:]) - cfg.kd * qvel[:, 6:], -12, 12)
        if split:
            for _ in range(cfg.substeps):
                batch.step()
        else:
            batch.step(nstep=cfg.substeps)

    return step


def env_stepper(env: native.NativeEnv, action: np.ndarray) -> Callable:
    state = [env.reset(1)]

    def step() -> None:
        state[0] = env.step(state[0], action)

    return step


def policy_steppers(env: native.NativeEnv, path: str) -> tuple[Callable, Callable]:
    """``env.step`` under the policy at ``path`` (its forward included), and the forward alone.

    The robots first walk for ``WALK_IN`` control steps, so that the timed steps are the
    steady state of a walking policy rather than its start from rest.
    """
    from irondog.agents import policy

    act, _ = policy.load_policy(path)
    state = [env.reset(1)]
    for _ in range(WALK_IN):
        state[0] = env.step(state[0], act(state[0].obs).astype(np.float32))

    def step() -> None:
        state[0] = env.step(state[0], act(state[0].obs).astype(np.float32))

    def forward() -> None:
        act(state[0].obs)

    return step, forward


WALK_IN = 100  # control steps, 2 s at 50 Hz


def check_persistent(run: RunConfig, action: np.ndarray, steps: int) -> float:
    """Largest |difference| of qpos, qvel, obs, reward between a persistent and a default env."""
    envs = [make_env(run, False), make_env(run, True)]
    states = [env.reset(1) for env in envs]
    worst = 0.0
    for _ in range(steps):
        states = [env.step(s, action) for env, s in zip(envs, states, strict=True)]
        rows = [
            np.concatenate([e.qpos.ravel(), e.qvel.ravel(), s.obs.ravel(), s.reward])
            for e, s in zip(envs, states, strict=True)
        ]
        worst = max(worst, float(np.max(np.abs(rows[0] - rows[1]))))
    return worst


def cpu_table(cases: dict[str, Callable], steps: int, repeats: int, base: str) -> None:
    for step in cases.values():  # warm-up
        step()
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, step in cases.items():
            started = time.process_time()
            for _ in range(steps):
                step()
            cpu[name].append((time.process_time() - started) / steps)
    reference = np.array(cpu[base])
    print(f"\n| variant | CPU ms per call (median) | {base} CPU / its CPU (median) |")
    print("| --- | --- | --- |")
    for name, values in cpu.items():
        ratio = np.median(reference / np.array(values))
        print(f"| {name} | {1e3 * np.median(values):.1f} | {ratio:.3f} |")


def update_cases(run: RunConfig) -> dict[str, Callable]:
    """One jitted PPO update of the preset's shapes, and cheaper variants of it."""
    import jax
    import jax.numpy as jnp

    from irondog.agents import ppo
    from irondog.envs import task

    cfg = run.train
    env_cfg = registry.make_config(cfg.env_name, run.env)
    steps, n, obs = cfg.unroll_length, env_cfg.num_envs, task.observation_size(env_cfg.task)
    priv, act = obs + task.PRIVILEGED_EXTRA, NUM_JOINTS
    rng = np.random.default_rng(0)

    def normal(*shape: int) -> jax.Array:
        return jnp.asarray(rng.standard_normal(shape).astype(np.float32))

    rollout = ppo.Rollout(
        obs=normal(steps, n, obs), privileged_obs=normal(steps, n, priv),
        next_privileged_obs=normal(steps, n, priv), actions=normal(steps, n, act),
        action_means=normal(steps, n, act), log_probs=normal(steps, n),
        rewards=normal(steps, n), dones=jnp.zeros((steps, n)),
        truncations=jnp.zeros((steps, n)), env_metrics={"x": normal(steps, n)},
    )  # fmt: skip
    episodes = ppo.EpisodeStats(jnp.zeros(n), jnp.zeros(n))
    variants = {
        f"update as configured ({cfg.num_epochs} epochs x {cfg.num_minibatches} minibatches)":
            (cfg, cfg.overlap_update),
        "update, 1 epoch": (dataclasses.replace(cfg, num_epochs=1), cfg.overlap_update),
        "update, ReLU instead of ELU": (dataclasses.replace(cfg, activation="relu"),
                                        cfg.overlap_update),
        "update without the policy-lag correction": (cfg, False),
    }  # fmt: skip
    cases = {}
    for name, (variant, lag) in variants.items():
        nets = ppo.make_networks(variant, obs, priv, act)
        learner = ppo.init_learner(variant, obs, priv, act, jax.random.PRNGKey(0))
        update = jax.jit(ppo.make_update(variant, nets, policy_lag=lag))

        def run_update(update=update, learner=learner) -> None:
            jax.block_until_ready(update(learner, rollout, episodes))

        cases[name] = run_update
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-envs", type=int, default=512)
    parser.add_argument("--steps", type=int, default=10, help="control steps per sample")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--check-steps", type=int, default=100)
    parser.add_argument("--update", action="store_true", help="time the PPO update too")
    parser.add_argument(
        "--policy",
        default="examples/joystick_cpu",
        help="checkpoint whose walking robots env.step is also timed under ('' skips it)",
    )
    args = parser.parse_args()
    run = load(RunConfig, CONFIG, [f"env.num_envs={args.num_envs}"])
    cfg = registry.make_config(run.train.env_name, run.env)
    n = cfg.num_envs
    print(f"# {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; {n} envs, {CONFIG}")
    random_action = np.random.default_rng(0).uniform(-0.3, 0.3, (n, NUM_JOINTS))
    worst = check_persistent(run, random_action, args.check_steps)
    print(f"persistent vs default batch, {args.check_steps} control steps, random actions: "
          f"largest |difference| of qpos, qvel, obs, reward {worst:.3g}")  # fmt: skip
    base = "raw Batch.step(nstep=5)"
    cases = {
        base: raw_stepper(cfg, split=False),
        "raw, 5 x Batch.step()": raw_stepper(cfg, split=True),
        "raw Batch.step(nstep=5), persistent=True": raw_stepper(cfg, False, persistent=True),
        "raw, 5 x Batch.step(), randomised fields expanded": raw_stepper(cfg, True, expand=True),
        "env.step, zero actions (home pose)": env_stepper(make_env(run, False), 0 * random_action),
        "env.step, random actions": env_stepper(make_env(run, False), random_action),
        "env.step, random actions, persistent=True": env_stepper(make_env(run, True),
                                                                 random_action),
    }  # fmt: skip
    if args.policy:
        walking, forward = policy_steppers(make_env(run, False), args.policy)
        cases[f"env.step, {args.policy} walking (its forward included)"] = walking
        cases[f"{args.policy} forward alone"] = forward
    cpu_table(cases, args.steps, args.repeats, base)
    if args.update:
        cases = update_cases(run)
        cpu_table(cases, 1, args.repeats, next(iter(cases)))
    print(f"# load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
