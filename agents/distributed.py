"""Data parallelism with JAX sharding: one mesh axis "batch" over every device of every process.

The trainer jit-compiles its functions over global arrays: the environment batch is sharded
along "batch" and the parameters are replicated, so XLA inserts the all-reduces (gradient and
normaliser means) itself. The same code runs on one CPU, on all local GPUs, and across
processes started with ``initialize`` (CPU collectives through gloo).
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

AXIS = "batch"


def initialize(coordinator_address: str, num_processes: int, process_id: int) -> None:
    """Join a multi-process run (call before any other JAX use); CPU collectives use gloo."""
    if not 0 <= process_id < num_processes:
        raise ValueError(f"process_id {process_id} is not in [0, num_processes={num_processes})")
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(
        coordinator_address=coordinator_address,
        num_processes=num_processes,
        process_id=process_id,
    )


def make_mesh(num_local_devices: int = 0) -> Mesh:
    """A 1-D mesh over ``num_local_devices`` per process (0: all of them), every process."""
    if num_local_devices == 0 or jax.process_count() > 1:
        devices = jax.devices()
    else:
        available = jax.local_devices()
        if num_local_devices > len(available):
            raise ValueError(
                f"num_devices={num_local_devices} but only {len(available)} local devices exist"
            )
        devices = available[:num_local_devices]
    return Mesh(np.asarray(devices), (AXIS,))


def batch_sharding(mesh: Mesh, axis: int = 0) -> NamedSharding:
    """Sharding that splits array dimension ``axis`` across the mesh."""
    return NamedSharding(mesh, P(*([None] * axis), AXIS))


def replicated(mesh: Mesh) -> NamedSharding:
    """Sharding that keeps a full copy on every device."""
    return NamedSharding(mesh, P())


def shard(mesh: Mesh, local: Any, axis: int = 0) -> Any:
    """Global arrays from this process's slice of the batch (a pytree of arrays)."""
    sharding = batch_sharding(mesh, axis)
    return jax.tree.map(
        lambda x: jax.make_array_from_process_local_data(sharding, np.asarray(x)), local
    )


def replicate(mesh: Mesh, tree: Any) -> Any:
    """Global replicated arrays from values every process holds identically."""
    sharding = replicated(mesh)
    return jax.tree.map(
        lambda x: jax.make_array_from_process_local_data(sharding, np.asarray(x)), tree
    )


def to_local(array: jax.Array, axis: int = 0) -> np.ndarray:
    """This process's slice of a batch-sharded global array, as NumPy."""
    if jax.process_count() == 1:
        return np.asarray(array)
    shards = sorted(array.addressable_shards, key=lambda s: s.index[axis].start or 0)
    seen: dict[int, np.ndarray] = {}
    for s in shards:  # replicated leftovers appear once per device; keep each slice once
        seen.setdefault(s.index[axis].start or 0, np.asarray(s.data))
    return np.concatenate([seen[k] for k in sorted(seen)], axis=axis)


def is_main_process() -> bool:
    """True on the process that writes logs and checkpoints."""
    return jax.process_index() == 0


def to_host(tree: Any) -> Any:
    """NumPy copies of replicated global arrays (works when other processes hold devices)."""
    return jax.tree.map(lambda x: np.asarray(x.addressable_data(0)), tree)
