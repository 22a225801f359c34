"""PPO in JAX: ``make_train(cfg, env) -> train(rng)``.

Read top to bottom:
  1. records: ``Learner`` (what a checkpoint holds), ``Rollout`` (one iteration of data),
     ``EpisodeStats`` (per-env running return and length);
  2. ``init_learner``: networks, optimiser and a fresh learner;
  3. ``make_update``: normaliser update, GAE, epochs of clipped-PPO minibatch steps (one jit);
  4. the two rollout drivers, one algorithm:
     - host loop (native ``mujoco.batch`` env, NumPy in and out): the env steps on the host
       with a NumPy policy forward, and the jitted update of one iteration runs while the
       next rollout is collected (``train.overlap_update``: one update of policy lag);
     - scan (MJX env, a pure pytree): ``lax.scan`` over ``env.step`` plus the update in one
       compiled function;
  5. ``make_train``: ties them together and runs the iterations.

Arrays are time-major: (T, N, ...) with T = unroll_length and N = envs over all processes.
Data parallelism comes from sharding N over the mesh (agents/distributed.py); the math does
not change with the number of devices or processes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import struct
from threadpoolctl import threadpool_limits

from irondog.agents import distributed, losses, normalize
from irondog.agents.config import TrainConfig
from irondog.agents.networks import ActorCritic, ActorCriticParams, make_actor_critic
from irondog.envs.base import aged

# --- 1. records ------------------------------------------------------------------------


@struct.dataclass
class Learner:
    """Everything that learns or steers learning; a checkpoint holds exactly this."""

    params: ActorCriticParams
    opt_state: Any  # optax state of clip_by_global_norm + scale_by_adam
    obs_normalizer: normalize.NormalizerState  # actor input statistics
    privileged_normalizer: normalize.NormalizerState  # critic input statistics
    learning_rate: jax.Array  # () current step size (moves with the KL-adaptive schedule)
    iteration: jax.Array  # () int32, iterations completed
    env_steps: jax.Array  # () int32, environment steps taken (all envs, all processes)
    rng: jax.Array  # (2,) uint32 PRNG key


@struct.dataclass
class Rollout:
    """One iteration of experience, time-major (T, N, ...)."""

    obs: jax.Array  # (T, N, obs) raw actor observation before the action
    privileged_obs: jax.Array  # (T, N, priv) raw critic observation before the action
    next_privileged_obs: jax.Array  # (T, N, priv) after the action (terminal one if it ended)
    actions: jax.Array  # (T, N, A) Gaussian samples, before clipping to [-1, 1]
    action_means: jax.Array  # (T, N, A) behaviour policy mean
    log_probs: jax.Array  # (T, N) behaviour log-probabilities of actions
    rewards: jax.Array  # (T, N)
    dones: jax.Array  # (T, N) 1 where the episode ended at this step
    truncations: jax.Array  # (T, N) 1 where it ended by the time limit
    env_metrics: dict[str, jax.Array]  # name -> (T, N)


@struct.dataclass
class EpisodeStats:
    """Per-env sums of the episodes in progress, carried from one iteration to the next."""

    running_return: jax.Array  # (N,)
    running_length: jax.Array  # (N,) policy steps


class TrainResult(NamedTuple):
    """What ``train`` returns."""

    learner: Learner
    history: list[dict[str, float]]  # one metrics dict per iteration


# --- 2. learner -----------------------------------------------------------------------


def make_networks(
    cfg: TrainConfig, observation_size: int, privileged_observation_size: int, action_size: int
) -> ActorCritic:
    """The actor-critic networks configured by ``cfg``."""
    return make_actor_critic(
        observation_size,
        privileged_observation_size,
        action_size,
        actor_hidden=cfg.actor_hidden,
        critic_hidden=cfg.critic_hidden,
        activation=cfg.activation,
        init_noise_std=cfg.init_noise_std,
    )


def make_optimizer(cfg: TrainConfig) -> optax.GradientTransformation:
    """Gradient clipping then Adam; the learning rate is applied by the update (it adapts)."""
    return optax.chain(optax.clip_by_global_norm(cfg.max_grad_norm), optax.scale_by_adam(eps=1e-5))


def init_learner(
    cfg: TrainConfig,
    observation_size: int,
    privileged_observation_size: int,
    action_size: int,
    rng: jax.Array,
) -> Learner:
    """A fresh learner (also the template a checkpoint is restored into)."""
    nets = make_networks(cfg, observation_size, privileged_observation_size, action_size)
    init_rng, rng = jax.random.split(rng)
    params = nets.init(init_rng)
    return Learner(
        params=params,
        opt_state=make_optimizer(cfg).init(params),
        obs_normalizer=normalize.init(observation_size),
        privileged_normalizer=normalize.init(privileged_observation_size),
        learning_rate=jnp.float32(cfg.learning_rate),
        iteration=jnp.int32(0),
        env_steps=jnp.int32(0),
        rng=rng,
    )


def make_inference_fn(nets: ActorCritic) -> Callable[..., jax.Array]:
    """Deterministic policy: (params, obs_normalizer, obs (.., obs)) -> action (.., A), clipped."""

    def policy(
        params: ActorCriticParams, obs_normalizer: normalize.NormalizerState, obs: jax.Array
    ) -> jax.Array:
        mean = nets.action_mean(params, normalize.normalize(obs_normalizer, obs))
        return jnp.clip(mean, -1.0, 1.0)

    return policy


def _sample_action(nets: ActorCritic, learner: Learner, obs: jax.Array, t: jax.Array):
    """Stochastic action for step t of this iteration's rollout: (env action, raw, mean, logp)."""
    key = jax.random.fold_in(jax.random.fold_in(learner.rng, 0), t)
    mean = nets.action_mean(learner.params, normalize.normalize(learner.obs_normalizer, obs))
    raw = mean + jnp.exp(learner.params.log_std) * jax.random.normal(key, mean.shape)
    log_prob = losses.gaussian_log_prob(raw, mean, learner.params.log_std)
    return jnp.clip(raw, -1.0, 1.0), raw, mean, log_prob


# --- 3. update ------------------------------------------------------------------------


def make_update(cfg: TrainConfig, nets: ActorCritic, policy_lag: bool = False) -> Callable:
    """(learner, rollout, episodes) -> (learner, episodes, metrics): one PPO update, pure.

    ``policy_lag``: the rollout was collected by the policy one update older than
    ``learner`` (the host driver's overlap); the update then clips against, and measures its
    KL from, the policy it starts from, and reweights samples by proximal / behaviour
    probability. Without it the behaviour policy is the proximal one.
    """
    optimizer = make_optimizer(cfg)

    def loss_fn(params, minibatch, obs_normalizer, privileged_normalizer, old_log_std):
        obs = normalize.normalize(obs_normalizer, minibatch["obs"])
        privileged_obs = normalize.normalize(privileged_normalizer, minibatch["privileged_obs"])
        mean = nets.action_mean(params, obs)  # (B, A)
        log_prob = losses.gaussian_log_prob(minibatch["actions"], mean, params.log_std)  # (B,)
        values = nets.value(params, privileged_obs)  # (B,)
        advantages = minibatch["advantages"]
        if cfg.normalize_advantages:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        # Decoupled PPO (Hilton et al. 2021, "Batch size-invariance for policy optimization"):
        # the ratio is taken to the proximal policy (the one this update starts from) and
        # each sample is weighted by proximal / behaviour probability, which corrects for a
        # rollout that ran one update behind. Without policy lag the two policies are the
        # same, the weights are exactly 1 and this is the plain clipped surrogate.
        policy_loss = losses.clipped_surrogate(
            log_prob,
            minibatch["prox_log_probs"],
            advantages,
            cfg.clip_epsilon,
            weights=jnp.exp(minibatch["prox_log_probs"] - minibatch["log_probs"])
            if policy_lag
            else None,
        )
        value_loss = losses.value_loss(
            values,
            minibatch["values"],
            minibatch["returns"],
            cfg.clip_epsilon if cfg.value_clip else None,
        )
        entropy = losses.gaussian_entropy(params.log_std)
        total = policy_loss + cfg.value_coef * value_loss - cfg.entropy_coef * entropy
        kl = losses.gaussian_kl(
            minibatch["prox_action_means"],
            old_log_std,
            jax.lax.stop_gradient(mean),
            jax.lax.stop_gradient(params.log_std),
        ).mean()
        stats = {
            "loss/policy": policy_loss,
            "loss/value": value_loss,
            "loss/entropy": entropy,
            "loss/kl": kl,
            "loss/clip_fraction": jnp.mean(
                jnp.abs(jnp.exp(log_prob - minibatch["prox_log_probs"]) - 1.0) > cfg.clip_epsilon
            ),
        }
        return total, stats

    def minibatch_step(carry, minibatch, obs_normalizer, privileged_normalizer, old_log_std):
        params, opt_state, learning_rate = carry
        (_, stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            params, minibatch, obs_normalizer, privileged_normalizer, old_log_std
        )
        if cfg.lr_schedule == "kl-adaptive":
            kl = stats["loss/kl"]
            learning_rate = jnp.where(
                kl > 2.0 * cfg.desired_kl,
                learning_rate / 1.5,
                jnp.where(kl < 0.5 * cfg.desired_kl, learning_rate * 1.5, learning_rate),
            )
            learning_rate = jnp.clip(learning_rate, cfg.min_learning_rate, cfg.max_learning_rate)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        updates = jax.tree.map(lambda u: -learning_rate * u, updates)
        params = optax.apply_updates(params, updates)
        if cfg.max_noise_std is not None:  # projected back under the bound after each step
            params = params.replace(log_std=jnp.minimum(params.log_std, jnp.log(cfg.max_noise_std)))
        return (params, opt_state, learning_rate), stats

    def episode_statistics(episodes: EpisodeStats, rollout: Rollout):
        def step(carry, x):
            running_return, running_length = carry
            reward, done, truncated = x
            running_return = running_return + reward
            running_length = running_length + 1.0
            finished = (
                jnp.sum(running_return * done),
                jnp.sum(running_length * done),
                jnp.sum(done),
                jnp.sum(done * (1.0 - truncated)),
            )
            return (running_return * (1.0 - done), running_length * (1.0 - done)), finished

        carry = (episodes.running_return, episodes.running_length)
        xs = (rollout.rewards, rollout.dones, rollout.truncations)
        (running_return, running_length), sums = jax.lax.scan(step, carry, xs)
        return_sum, length_sum, count, falls = (s.sum() for s in sums)
        safe = jnp.maximum(count, 1.0)
        nan = jnp.float32(jnp.nan)
        metrics = {
            "episode/return": jnp.where(count > 0, return_sum / safe, nan),
            "episode/length": jnp.where(count > 0, length_sum / safe, nan),
            "episode/count": count,
            "episode/fall_fraction": jnp.where(count > 0, falls / safe, nan),
        }
        return EpisodeStats(running_return, running_length), metrics

    def update(learner: Learner, rollout: Rollout, episodes: EpisodeStats):
        obs_normalizer = learner.obs_normalizer
        privileged_normalizer = learner.privileged_normalizer
        if cfg.normalize_observations:
            obs_normalizer = normalize.update(obs_normalizer, rollout.obs)
            privileged_normalizer = normalize.update(privileged_normalizer, rollout.privileged_obs)

        def value_of(privileged_obs):  # (T, N, priv) -> (T, N)
            return nets.value(
                learner.params, normalize.normalize(privileged_normalizer, privileged_obs)
            )

        values = value_of(rollout.privileged_obs)
        next_values = value_of(rollout.next_privileged_obs)
        advantages, returns = losses.gae(
            rollout.rewards,
            values,
            next_values,
            rollout.dones,
            rollout.truncations,
            cfg.gamma,
            cfg.gae_lambda,
        )
        if policy_lag:  # the policy this update starts from, on the rollout's observations
            prox_action_means = nets.action_mean(
                learner.params, normalize.normalize(obs_normalizer, rollout.obs)
            )  # (T, N, A)
            prox_log_probs = losses.gaussian_log_prob(
                rollout.actions, prox_action_means, learner.params.log_std
            )  # (T, N)
        else:
            prox_action_means, prox_log_probs = rollout.action_means, rollout.log_probs
        samples = {
            "obs": rollout.obs,
            "privileged_obs": rollout.privileged_obs,
            "actions": rollout.actions,
            "prox_action_means": prox_action_means,
            "prox_log_probs": prox_log_probs,
            "log_probs": rollout.log_probs,
            "values": values,
            "advantages": advantages,
            "returns": returns,
        }
        batch_size = rollout.rewards.size
        samples = jax.tree.map(lambda x: x.reshape(batch_size, *x.shape[2:]), samples)

        def epoch(carry, key):
            order = jax.random.permutation(key, batch_size)
            minibatches = jax.tree.map(
                lambda x: x[order].reshape(cfg.num_minibatches, -1, *x.shape[1:]), samples
            )
            return jax.lax.scan(
                lambda c, mb: minibatch_step(
                    c, mb, obs_normalizer, privileged_normalizer, learner.params.log_std
                ),
                carry,
                minibatches,
            )

        update_key = jax.random.fold_in(learner.rng, 1)
        epoch_keys = jax.random.split(update_key, cfg.num_epochs)
        carry = (learner.params, learner.opt_state, learner.learning_rate)
        (params, opt_state, learning_rate), stats = jax.lax.scan(epoch, carry, epoch_keys)

        episodes, episode_metrics = episode_statistics(episodes, rollout)
        metrics = {k: v.mean() for k, v in stats.items()}
        metrics.update(episode_metrics)
        metrics["reward/per_step"] = rollout.rewards.mean()
        metrics["value/mean"] = values.mean()
        metrics["policy/std"] = jnp.exp(params.log_std).mean()
        metrics["learning_rate"] = learning_rate
        for name, value in rollout.env_metrics.items():
            metrics[f"env/{name}"] = value.mean()
        learner = Learner(
            params=params,
            opt_state=opt_state,
            obs_normalizer=obs_normalizer,
            privileged_normalizer=privileged_normalizer,
            learning_rate=learning_rate,
            iteration=learner.iteration + 1,
            env_steps=learner.env_steps + batch_size,
            rng=jax.random.fold_in(learner.rng, 2),
        )
        return learner, episodes, metrics

    return update


# --- 4. rollout drivers ---------------------------------------------------------------


def _next_privileged_obs(state: Any, xp: Any) -> Any:
    """Critic input after a step: the terminal observation where the episode just ended."""
    done = state.done[:, None] > 0
    return xp.where(done, state.info["terminal_privileged_obs"], state.privileged_obs)


# NumPy twins of networks.ACTIVATIONS, for the host driver's policy forward.
_NUMPY_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
    "relu": lambda x: np.maximum(x, 0),
    "tanh": np.tanh,
    "swish": lambda x: x / (1.0 + np.exp(-x)),
    "silu": lambda x: x / (1.0 + np.exp(-x)),
}


def _numpy_policy(cfg: TrainConfig, mesh, num_envs: int, action_size: int) -> Callable:
    """behaviour learner -> act(obs (n, obs), t) -> (env action, raw, mean, logp), NumPy.

    The host driver runs the policy forward in NumPy rather than through JAX so that it
    never queues behind an update running on the JAX CPU device (one CPU device executes
    one computation at a time). The Gaussian noise is drawn in JAX, once per rollout, with
    the keys ``_sample_action`` uses, so both drivers sample the same actions.
    """
    activation = _NUMPY_ACTIVATIONS[cfg.activation]
    noise_sharding = distributed.batch_sharding(mesh, axis=1)

    @jax.jit
    def rollout_noise(rng: jax.Array, stream: jax.Array) -> jax.Array:  # (T, N, A) N(0, 1)
        # stream 0: _sample_action's keys; stream 1 (3 here, as 1 and 2 are the update's
        # and the next learner's): a second rollout from the same learner
        key = jax.random.fold_in(rng, jnp.where(stream == 0, 0, 3))
        noise = jax.vmap(
            lambda t: jax.random.normal(jax.random.fold_in(key, t), (num_envs, action_size))
        )(jnp.arange(cfg.unroll_length))
        return jax.lax.with_sharding_constraint(noise, noise_sharding)

    def for_learner(learner: Learner, stream: int = 0) -> Callable:
        params, norm = distributed.to_host((learner.params, learner.obs_normalizer))
        actor = params.actor["params"]
        layers = [
            (actor[f"Dense_{i}"]["kernel"], actor[f"Dense_{i}"]["bias"]) for i in range(len(actor))
        ]
        log_std = params.log_std  # (A,)
        std = np.exp(log_std)
        noise = distributed.to_local(rollout_noise(learner.rng, stream), axis=1)  # (T, n, A)

        def act(obs: np.ndarray, t: int):
            x = np.clip((obs - norm.mean) / norm.std, -normalize.CLIP, normalize.CLIP)
            for i, (kernel, bias) in enumerate(layers):
                x = x @ kernel + bias
                if i < len(layers) - 1:
                    x = activation(x)
            mean = x  # (n, A)
            raw = mean + std * noise[t]
            z = (raw - mean) / std
            log_prob = np.sum(-0.5 * z**2 - log_std - 0.5 * losses.LOG_2PI, axis=-1)  # (n,)
            return np.clip(raw, -1.0, 1.0), raw, mean, log_prob

        return act

    return for_learner


def _host_rollout(env, cfg: TrainConfig) -> Callable:
    """Native back end: ``(act, env_state) -> (env_state, host columns)``; all NumPy."""
    names = (
        "obs",
        "privileged_obs",
        "next_privileged_obs",
        "actions",
        "action_means",
        "log_probs",
        "rewards",
        "dones",
        "truncations",
    )

    def rollout(act: Callable, env_state: Any):
        # threadpoolctl: one BLAS thread. The policy's matrices are small, and OpenBLAS's
        # worker threads, which spin while they wait, would take cores from the update
        # running beside the rollout and from the simulation threads (measured: the overlap
        # was slower than none with them, 1.2x faster without; benchmarks/RESULTS.md).
        with threadpool_limits(limits=1, user_api="blas"):
            return collect(act, env_state)

    def collect(act: Callable, env_state: Any):
        columns: dict[str, list] = {k: [] for k in names}
        env_metrics: dict[str, list] = {}
        for t in range(cfg.unroll_length):
            obs = np.asarray(env_state.obs, np.float32)
            action, raw, mean, log_prob = act(obs, t)
            columns["obs"].append(obs)
            columns["privileged_obs"].append(env_state.privileged_obs)
            env_state = env.step(env_state, action.astype(np.float32))
            columns["next_privileged_obs"].append(_next_privileged_obs(env_state, np))
            columns["actions"].append(raw)
            columns["action_means"].append(mean)
            columns["log_probs"].append(log_prob)
            columns["rewards"].append(env_state.reward)
            columns["dones"].append(env_state.done)
            columns["truncations"].append(env_state.truncated)
            for name, value in env_state.metrics.items():
                env_metrics.setdefault(name, []).append(value)
        host = {k: np.stack(v).astype(np.float32) for k, v in columns.items()}
        host_metrics = {k: np.stack(v).astype(np.float32) for k, v in env_metrics.items()}
        return env_state, host, host_metrics

    return rollout


def _scan_iteration(env, nets: ActorCritic, update, cfg: TrainConfig):
    """MJX back end: rollout (lax.scan over env.step) and update in one compiled function."""

    def env_step(learner: Learner, state: Any, t: jax.Array):
        action, raw, mean, log_prob = _sample_action(nets, learner, state.obs, t)
        next_state = env.step(state, action)
        record = Rollout(
            obs=state.obs,
            privileged_obs=state.privileged_obs,
            next_privileged_obs=_next_privileged_obs(next_state, jnp),
            actions=raw,
            action_means=mean,
            log_probs=log_prob,
            rewards=next_state.reward,
            dones=next_state.done,
            truncations=next_state.truncated,
            env_metrics=next_state.metrics,
        )
        return next_state, record

    def iteration(learner: Learner, env_state: Any, episodes: EpisodeStats):
        env_state, rollout = jax.lax.scan(
            lambda s, t: env_step(learner, s, t), env_state, jnp.arange(cfg.unroll_length)
        )
        rollout = jax.tree.map(lambda x: x.astype(jnp.float32), rollout)
        learner, episodes, metrics = update(learner, rollout, episodes)
        return learner, env_state, episodes, metrics

    return jax.jit(iteration, donate_argnums=(1,))


# --- 5. train -------------------------------------------------------------------------


def make_train(
    cfg: TrainConfig, env: Any, env_seed: int | None = None
) -> Callable[..., TrainResult]:
    """Return ``train(rng, learner=None, callback=None) -> TrainResult``.

    ``env`` follows envs/base.py; NumPy states select the host-loop driver, JAX states the
    compiled scan driver. ``num_envs`` is per process. ``env_seed`` defaults to
    ``cfg.seed + process index``. ``callback(learner, metrics)`` runs after each iteration
    (logging, checkpoints); pass a restored ``learner`` to resume.
    """
    mesh = distributed.make_mesh(cfg.num_devices)
    num_envs = env.num_envs * jax.process_count()
    batch_size = num_envs * cfg.unroll_length
    minibatch_size = batch_size // cfg.num_minibatches
    if batch_size % cfg.num_minibatches or minibatch_size % mesh.size:
        raise ValueError(
            f"train.num_minibatches={cfg.num_minibatches}: the batch of {batch_size} "
            f"({num_envs} envs x {cfg.unroll_length} steps) must split into minibatches "
            f"divisible by the {mesh.size} devices"
        )
    if num_envs % mesh.size:
        raise ValueError(f"{num_envs} envs do not split evenly over {mesh.size} devices")
    num_iterations = cfg.iterations(num_envs)
    nets = make_networks(
        cfg, env.observation_size, env.privileged_observation_size, env.action_size
    )
    host_policy = _numpy_policy(cfg, mesh, num_envs, env.action_size)
    host_rollout = _host_rollout(env, cfg)
    host_update = jax.jit(make_update(cfg, nets, policy_lag=cfg.overlap_update))
    scan_iteration = _scan_iteration(env, nets, make_update(cfg, nets), cfg)
    base_seed = cfg.seed + jax.process_index() if env_seed is None else env_seed

    def train(
        rng: jax.Array,
        learner: Learner | None = None,
        callback: Callable[[Learner, dict[str, float]], None] | None = None,
    ) -> TrainResult:
        if learner is None:
            learner = init_learner(
                cfg, env.observation_size, env.privileged_observation_size, env.action_size, rng
            )
        learner = distributed.replicate(mesh, learner)
        start = int(distributed.to_host(learner.iteration))
        env_state = env.reset(base_seed + start)  # a resumed run sees fresh episodes
        # ... from simulations as old as the run: its command curriculum goes on.
        env_state = aged(env_state, start * cfg.unroll_length)
        on_host = isinstance(env_state.obs, np.ndarray)
        if not on_host:
            env_state = _place(mesh, env_state, env.num_envs)
        episodes = distributed.shard(
            mesh,
            EpisodeStats(
                running_return=np.zeros(env.num_envs, np.float32),
                running_length=np.zeros(env.num_envs, np.float32),
            ),
        )
        history: list[dict[str, float]] = []

        def finish(learner: Learner, metrics: dict, seconds: float) -> None:
            metrics = {k: float(v) for k, v in distributed.to_host(metrics).items()}
            metrics["iteration"] = float(distributed.to_host(learner.iteration))
            metrics["env_steps"] = float(distributed.to_host(learner.env_steps))
            metrics["time/iteration_s"] = seconds
            metrics["time/steps_per_s"] = batch_size / seconds
            history.append(metrics)
            if callback is not None:
                callback(learner, metrics)

        if not on_host:
            for _ in range(start, num_iterations):
                started = time.perf_counter()
                learner, env_state, episodes, metrics = scan_iteration(learner, env_state, episodes)
                jax.block_until_ready(metrics)
                finish(learner, metrics, time.perf_counter() - started)
            return TrainResult(learner, history)

        # Host driver. JAX dispatches the update asynchronously, so while it computes, the
        # next rollout steps the simulations; with train.overlap_update that rollout acts
        # with the policy from before that update (one update of lag, which the update
        # corrects for, see make_update). An iteration's time runs from the start of its
        # rollout to the start of the next one, the callbacks left out; its metrics and
        # callback come once the next rollout has been collected.
        act = host_policy(learner)
        pending = None  # (learner, metrics, started, callback seconds) of the update in flight

        def finish_pending(end: float | None = None) -> None:
            """Report the update in flight; its time runs to ``end`` (default: once it is done)."""
            done_learner, done_metrics, began, callback_s = pending
            if end is None:
                jax.block_until_ready(done_metrics)
                end = time.perf_counter()
            finish(done_learner, done_metrics, end - began - callback_s)

        for _ in range(start, num_iterations):
            started = time.perf_counter()
            try:
                env_state, host, host_metrics = host_rollout(act, env_state)
            except KeyboardInterrupt:  # the update in flight is finished work: report it
                if pending is not None:
                    finish_pending()
                raise
            callback_s = 0.0
            if pending is not None:
                collected = time.perf_counter()
                finish_pending(end=started)
                callback_s = time.perf_counter() - collected
            rollout = Rollout(
                **distributed.shard(mesh, host, axis=1),
                env_metrics=distributed.shard(mesh, host_metrics, axis=1),
            )
            if cfg.overlap_update:  # the learner is ready: its update ran during the rollout
                # The first two rollouts both act with the initial policy: fresh noise for
                # the second.
                act = host_policy(learner, stream=int(pending is None))
            learner, episodes, metrics = host_update(learner, rollout, episodes)
            if not cfg.overlap_update:
                act = host_policy(learner)  # waits for the update
            pending = (learner, metrics, started, callback_s)
        if pending is not None:
            finish_pending()
        return TrainResult(learner, history)

    train.num_iterations = num_iterations  # type: ignore[attr-defined]
    train.networks = nets  # type: ignore[attr-defined]
    return train


def _place(mesh, tree: Any, num_envs: int) -> Any:
    """Shard leaves that lead with num_envs over the mesh; replicate the rest."""

    def place(x):
        if getattr(x, "ndim", 0) >= 1 and x.shape[0] == num_envs:
            return distributed.shard(mesh, x)
        return distributed.replicate(mesh, x)

    return jax.tree.map(place, tree)


def estimate_memory_bytes(
    cfg: TrainConfig,
    num_envs: int,
    observation_size: int,
    privileged_observation_size: int,
    action_size: int,
    sim_bytes_per_env: int,
) -> int:
    """Rough peak memory of a run: simulations, the rollout, its shuffled copy and activations."""
    floats_per_step = (
        observation_size + 2 * privileged_observation_size + 2 * action_size + 8
    )  # rollout row: obs, priv, next priv, actions, means, logp, reward, done, ... + metrics
    rollout = cfg.unroll_length * num_envs * floats_per_step * 4
    minibatch = cfg.unroll_length * num_envs // cfg.num_minibatches
    widest = sum(cfg.actor_hidden) + sum(cfg.critic_hidden)
    activations = minibatch * widest * 4 * 3  # forward, backward, optimiser temporaries
    return num_envs * sim_bytes_per_env + 3 * rollout + activations
