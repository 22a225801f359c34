"""Data parallelism: two CPU processes on loopback (jax.distributed, gloo) and two local
devices must train the same parameters as one process holding the whole batch."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

TESTS = Path(__file__).resolve().parent
GLOBAL_ENVS = 32
ITERATIONS = 3


def _worker(out: str, process_id: int, num_processes: int, port: int) -> None:
    """Train on this process's share of the global batch; save the final params."""
    sys.path.insert(0, str(TESTS))
    from irondog.agents import distributed

    if num_processes > 1:
        distributed.initialize(f"127.0.0.1:{port}", num_processes, process_id)
    import jax
    from test_ppo_toy import NumpyPointMassEnv

    # The persistent compilation cache can leave one rank compiling while the other loads
    # from disk, and the collectives then wait forever: compile afresh in this test.
    jax.config.update("jax_enable_compilation_cache", False)

    from irondog.agents import ppo
    from irondog.agents.config import TrainConfig

    cfg = TrainConfig(
        num_iterations=ITERATIONS,
        unroll_length=8,
        num_minibatches=2,
        num_epochs=2,
        actor_hidden=(16, 16),
        critic_hidden=(16, 16),
        learning_rate=3e-3,
    )
    local = GLOBAL_ENVS // num_processes
    env = NumpyPointMassEnv(local, episode_steps=10, index_offset=process_id * local)
    result = ppo.make_train(cfg, env, env_seed=0)(jax.random.PRNGKey(0))
    leaves = jax.tree.leaves(distributed.to_host(result.learner))
    rewards = [m["reward/per_step"] for m in result.history]
    np.savez(out, *leaves, rewards=np.asarray(rewards), devices=jax.device_count())


def _launch(out: Path, process_id: int, num_processes: int, port: int, devices: int = 1):
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "IRONDOG_JAX_CACHE": ""}
    env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    args = [sys.executable, __file__, str(out), str(process_id), str(num_processes), str(port)]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _load(path: Path) -> tuple[list[np.ndarray], np.ndarray, int]:
    data = np.load(path)
    leaves = [data[f"arr_{i}"] for i in range(len(data.files) - 2)]
    return leaves, data["rewards"], int(data["devices"])


@pytest.mark.slow  # four fresh JAX processes compiling at once: about 50-90 s on 2 cores
def test_two_processes_and_two_devices_match_one_process(tmp_path: Path) -> None:
    port = _free_port()
    runs = {
        "rank0": _launch(tmp_path / "rank0.npz", 0, 2, port),
        "rank1": _launch(tmp_path / "rank1.npz", 1, 2, port),
        "single": _launch(tmp_path / "single.npz", 0, 1, port),
        "two_devices": _launch(tmp_path / "two_devices.npz", 0, 1, port, devices=2),
    }
    try:
        for name, proc in runs.items():
            output, _ = proc.communicate(timeout=240)
            assert proc.returncode == 0, f"{name} failed:\n{output.decode()[-3000:]}"
    finally:
        for proc in runs.values():  # never leave a rank waiting on its peer
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    rank0, rewards0, devices0 = _load(tmp_path / "rank0.npz")
    rank1, rewards1, _ = _load(tmp_path / "rank1.npz")
    single, rewards_single, _ = _load(tmp_path / "single.npz")
    two, rewards_two, devices_two = _load(tmp_path / "two_devices.npz")
    assert devices0 == 2 and devices_two == 2
    for a, b in zip(rank0, rank1, strict=True):  # replicas stay identical
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(rewards0, rewards_single, rtol=1e-5)
    np.testing.assert_allclose(rewards_two, rewards_single, rtol=1e-5)
    for a, b, c in zip(rank0, single, two, strict=True):  # same global batch, same params
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(c, b, rtol=1e-4, atol=1e-5)
    assert rewards_single.shape == (ITERATIONS,)


if __name__ == "__main__":
    _worker(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
