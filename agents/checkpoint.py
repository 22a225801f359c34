"""Training checkpoints: msgpack files (flax.serialization), written atomically, never pickled.

A checkpoint holds the learner (parameters, normalisers, optimiser state, learning rate,
counters, PRNG key), the resolved run config, the network/observation sizes and the irondog
version. ``save`` writes a temporary file in the same folder and renames it over the target
(``os.replace``), so a crash never leaves a half-written checkpoint. Loading checks the
format and names what is missing or mismatched.
"""

from __future__ import annotations

import copy
import os
import re
import tempfile
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np
from flax import serialization

from irondog import __version__

FORMAT = "irondog-checkpoint"
FORMAT_VERSION = 1
PATTERN = re.compile(r"^checkpoint_(\d{8})\.msgpack$")


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not fit the run; the message says why."""


class Checkpoint(NamedTuple):
    """A loaded checkpoint, before the learner is restored into a template."""

    path: Path
    learner_state: dict[str, Any]  # flax state dict of ppo.Learner
    config: dict[str, Any]  # irondog.config.to_dict(RunConfig)
    sizes: dict[str, Any]  # observation_size, privileged_observation_size, action_size
    irondog_version: str


def env_identity(env: Any) -> dict[str, Any]:
    """Sizes and joint names that a checkpoint must share with the env it runs or resumes on."""
    sizes: dict[str, Any] = {
        "observation_size": int(env.observation_size),
        "privileged_observation_size": int(env.privileged_observation_size),
        "action_size": int(env.action_size),
    }
    model = getattr(env, "model", None) or getattr(env, "mj_model", None)
    if model is not None:
        import mujoco

        sizes["actuators"] = [
            mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_ACTUATOR, i) for i in range(model.nu)
        ]
    return sizes


def warm_start(fresh: Any, restored: Any, keep_noise: bool = False) -> Any:
    """``fresh`` (a new Learner) with the policy, value network and observation statistics
    of ``restored``; the optimiser, step size and counters stay fresh, and so does the
    exploration noise unless ``keep_noise``."""
    params = (
        restored.params if keep_noise else restored.params.replace(log_std=fresh.params.log_std)
    )
    return fresh.replace(
        params=params,
        obs_normalizer=restored.obs_normalizer,
        privileged_normalizer=restored.privileged_normalizer,
    )


# A widened normaliser counts this many rows seen, about eight iterations of 512 x 24 steps:
# its new entries (mean 0, std 1) then find their statistics within a few iterations, and the
# kept entries, already right for the same robot, move little.
WIDENED_COUNT = 1.0e5


def widen_inputs(checkpoint: Checkpoint, observation_size: int) -> Checkpoint:
    """``checkpoint`` with ``observation_size - saved`` more actor inputs, appended to the
    saved observation (the gait task's layout extends the joystick task's by its gait command
    and clock). The critic, whose input is the actor's plus privileged extras, gets the same
    entries at the same place. The new inputs' first-layer weights are zero, so the widened
    policy acts exactly as the saved one until training gives them weight (network surgery
    as in "Net2Net", Chen et al. 2016). Used by ``irondog train --init-from`` only."""
    old = checkpoint.sizes.get("observation_size")
    old_privileged = checkpoint.sizes.get("privileged_observation_size")
    if not isinstance(old, int) or not isinstance(old_privileged, int):
        raise CheckpointError(f"{checkpoint.path}: the checkpoint records no observation sizes")
    extra = observation_size - old
    if extra <= 0:
        raise CheckpointError(
            f"{checkpoint.path}: observation_size {old} cannot widen to {observation_size}"
        )
    widths = {old: "actor", old_privileged: "critic"}

    def grow(array: Any, fill: float) -> np.ndarray:
        array = np.asarray(array)
        block = np.full((extra, *array.shape[1:]), fill, dtype=array.dtype)
        return np.concatenate([array[:old], block, array[old:]], axis=0)

    def visit(node: Any, path: tuple[str, ...]) -> Any:
        if isinstance(node, dict):
            if set(node) >= {"mean", "std", "var", "count"}:  # a normaliser
                return {
                    **node,
                    "mean": grow(node["mean"], 0.0),
                    "std": grow(node["std"], 1.0),
                    "var": grow(node["var"], 1.0),
                    "count": np.minimum(np.asarray(node["count"]), np.float32(WIDENED_COUNT)),
                }
            return {key: visit(value, (*path, key)) for key, value in node.items()}
        kernel = path[-2:] == ("Dense_0", "kernel")
        network = next((part for part in path if part in ("actor", "critic")), None)
        if kernel and network and widths.get(np.shape(node)[0]) == network:
            return grow(node, 0.0)
        return node

    sizes = {
        **checkpoint.sizes,
        "observation_size": observation_size,
        "privileged_observation_size": old_privileged + extra,
    }
    return checkpoint._replace(learner_state=visit(checkpoint.learner_state, ()), sizes=sizes)


def filename(iteration: int) -> str:
    """File name of the checkpoint after ``iteration`` iterations."""
    return f"checkpoint_{iteration:08d}.msgpack"


def save(
    directory: str | Path,
    learner: Any,
    config: dict[str, Any],
    sizes: dict[str, Any],
    iteration: int,
) -> Path:
    """Write ``learner`` (host or device arrays) atomically; return the checkpoint's path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    host = jax.tree.map(
        lambda x: np.asarray(x.addressable_data(0) if hasattr(x, "addressable_data") else x),
        learner,
    )
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "irondog_version": __version__,
        "config": config,
        "sizes": sizes,
        "learner": serialization.to_state_dict(host),
    }
    data = serialization.msgpack_serialize(payload)
    target = directory / filename(iteration)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".msgpack", dir=directory)  # TEMPORARY_GLOB
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a checkpoint is a normal file
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


TEMPORARY_GLOB = ".tmp-*.msgpack"  # what ``save`` writes before the atomic rename


def remove_stale_temporaries(directory: str | Path) -> list[Path]:
    """Delete the half-written ``.tmp-*.msgpack`` files a killed ``save`` left in
    ``directory`` (the finished checkpoints are untouched); return the paths removed."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    removed = []
    for path in sorted(directory.glob(TEMPORARY_GLOB)):
        try:
            path.unlink()
            removed.append(path)
        except OSError:
            pass  # another process's file, or already gone: left as it is
    return removed


def latest(directory: str | Path) -> Path | None:
    """The checkpoint with the most iterations in ``directory``, or None."""
    directory = Path(directory)
    if not directory.is_dir():
        return None
    found = sorted(p for p in directory.iterdir() if PATTERN.match(p.name))
    return found[-1] if found else None


def load(path: str | Path) -> Checkpoint:
    """Read a checkpoint file; CheckpointError if it is missing, corrupt or not ours."""
    path = Path(path)
    if path.is_dir():
        found = latest(path)
        if found is None:
            raise CheckpointError(f"no checkpoint_*.msgpack in {path}")
        path = found
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        payload = serialization.msgpack_restore(path.read_bytes())
    except Exception as err:  # msgpack raises several types for damaged data
        raise CheckpointError(f"checkpoint {path} is corrupt or not msgpack ({err})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an irondog checkpoint")
    if payload.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format {payload.get('format_version')}, "
            f"this irondog reads format {FORMAT_VERSION}"
        )
    for key in ("learner", "config", "sizes"):
        if not isinstance(payload.get(key), dict):
            raise CheckpointError(f"{path}: the checkpoint has no {key!r} section")
    return Checkpoint(
        path=path,
        learner_state=payload["learner"],
        config=payload["config"],
        sizes=payload["sizes"],
        irondog_version=str(payload.get("irondog_version", "unknown")),
    )


def restore(checkpoint: Checkpoint, template: Any) -> Any:
    """The learner of ``checkpoint`` in the structure of ``template``; shapes are checked."""
    try:
        learner = serialization.from_state_dict(template, checkpoint.learner_state)
    except (ValueError, KeyError, TypeError) as err:
        raise CheckpointError(
            f"{checkpoint.path}: the saved learner does not fit this run ({err})"
        ) from None
    problems = []

    def compare(path, want, got):
        if np.shape(want) != np.shape(got):
            name = jax.tree_util.keystr(path)
            problems.append(f"{name}: checkpoint {np.shape(got)}, run {np.shape(want)}")

    jax.tree_util.tree_map_with_path(compare, template, learner)
    if problems:
        raise CheckpointError(
            f"{checkpoint.path}: parameter shapes differ: " + "; ".join(problems[:5])
        )
    return jax.tree.map(lambda t, x: np.asarray(x, dtype=np.asarray(t).dtype), template, learner)


# Settings that must match for a run to start from a checkpoint's networks (--init-from) ...
NETWORK_KEYS = ("train.actor_hidden", "train.critic_hidden", "train.activation")
# ... and, to continue the same run (--resume), also its task.
STRUCTURAL_KEYS = (*NETWORK_KEYS, "train.env_name")


def _get(config: dict[str, Any], dotted: str) -> Any:
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _mismatches(
    checkpoint: Checkpoint,
    config: dict[str, Any],
    sizes: dict[str, Any],
    keys: tuple[str, ...],
    other: str = "config",
) -> list[str]:
    """ "key: checkpoint A, <other> B" for each size and config key that differs."""
    mismatches = []
    for key, value in sizes.items():
        saved = checkpoint.sizes.get(key)
        if saved != value:
            mismatches.append(f"{key}: checkpoint {saved}, {other} {value}")
    for key in keys:
        saved, now = _get(checkpoint.config, key), _get(config, key)
        if saved != now:
            mismatches.append(f"{key}: checkpoint {saved!r}, {other} {now!r}")
    return mismatches


def check_compatible(
    checkpoint: Checkpoint,
    config: dict[str, Any],
    sizes: dict[str, Any],
    warm_start: bool = False,
) -> None:
    """CheckpointError naming every mismatch between a checkpoint and the run about to resume
    (or, with ``warm_start``, to start from its networks: another env id may be trained)."""
    mismatches = _mismatches(
        checkpoint, config, sizes, NETWORK_KEYS if warm_start else STRUCTURAL_KEYS
    )
    if mismatches:
        action = "warm-start from" if warm_start else "resume from"
        raise CheckpointError(f"cannot {action} {checkpoint.path}: " + "; ".join(mismatches))


def average(checkpoints: list[Checkpoint], weights: list[float] | None = None) -> dict[str, Any]:
    """A learner state whose networks are the weighted mean of ``checkpoints``' (a "soup").

    Averaging the weights of checkpoints warm-started from one policy smooths the swings of a
    PPO fine-tune between checkpoints (Wortsman et al. 2022, "Model soups"; WiSE-FT). Averaged:
    actor and critic parameters, the action log-std and each observation normaliser's mean and
    variance (its std is recomputed from the mean variance, floored as ``normalize`` does).
    Everything else (optimiser moments, counters, random key) is the last checkpoint's.
    CheckpointError unless there are two or more checkpoints of the same networks and sizes.
    """
    from irondog.agents.normalize import STD_FLOOR

    if len(checkpoints) < 2:
        raise CheckpointError(f"averaging needs two or more checkpoints, got {len(checkpoints)}")
    weights = [1.0] * len(checkpoints) if weights is None else [float(w) for w in weights]
    if len(weights) != len(checkpoints):
        raise CheckpointError(
            f"weights: {len(weights)} given for {len(checkpoints)} checkpoints (one each)"
        )
    if not all(np.isfinite(w) and w > 0 for w in weights):
        raise CheckpointError(f"weights: must all be finite and > 0, got {weights}")
    last = checkpoints[-1]
    for other in checkpoints[:-1]:
        mismatches = _mismatches(other, last.config, last.sizes, NETWORK_KEYS, "last input")
        if mismatches:
            raise CheckpointError(
                f"cannot average {other.path} with {last.path} (other networks): "
                + "; ".join(mismatches)
            )
    share = np.asarray(weights, dtype=np.float64) / sum(weights)

    def mean(path: Any, *arrays: Any) -> np.ndarray:
        arrays = tuple(np.asarray(a) for a in arrays)
        if any(a.shape != arrays[-1].shape for a in arrays):
            shapes = ", ".join(
                f"{c.path}: {a.shape}" for c, a in zip(checkpoints, arrays, strict=True)
            )
            raise CheckpointError(f"{jax.tree_util.keystr(path)} differs in shape: {shapes}")
        stacked = np.stack([a.astype(np.float64) for a in arrays])
        return np.tensordot(share, stacked, axes=1).astype(arrays[-1].dtype)

    def averaged(*keys: str) -> Any:
        trees = []
        for c in checkpoints:
            node: Any = c.learner_state
            for key in keys:
                node = node[key]
            trees.append(node)
        try:
            return jax.tree_util.tree_map_with_path(mean, *trees)
        except ValueError as err:  # the trees differ in structure
            raise CheckpointError(f"cannot average {'/'.join(keys)}: {err}") from None

    state = copy.deepcopy(last.learner_state)
    state["params"] = averaged("params")
    for name in ("obs_normalizer", "privileged_normalizer"):
        stats = state[name]
        stats["mean"] = averaged(name, "mean")
        stats["var"] = averaged(name, "var")
        stats["std"] = np.maximum(np.sqrt(stats["var"]), STD_FLOOR).astype(stats["var"].dtype)
    return state
