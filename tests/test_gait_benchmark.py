"""The gait fidelity benchmark's driver, run briefly with a standing (zero) policy."""

import argparse
import importlib.util
from pathlib import Path

import numpy as np

from irondog.config import load
from irondog.envs.config import EnvConfig

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gait_fidelity.py"


def bench():
    spec = importlib.util.spec_from_file_location("gait_fidelity_bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def zero_policy(obs: np.ndarray) -> np.ndarray:
    return np.zeros((obs.shape[0], 12))


def test_random_switches_always_change_gait():
    order = bench().random_switches(200, 5, np.random.default_rng(0))
    assert order.shape == (200, 5) and order.min() >= 0 and order.max() <= 4
    assert (np.diff(order, axis=1) != 0).all()
    assert len({tuple(row) for row in order}) > 150  # the sequences differ


def test_driver_rows_and_table_for_a_standing_policy():
    b = bench()
    cfg = load(EnvConfig, overrides=["task=gaits", "num_threads=1"])
    args = argparse.Namespace(episodes=2, seconds=2.0, speed=0.5, seed=0, settle=0.5,
                              switch_episodes=2, switch_seconds=2.0, switch_every=1.0)  # fmt: skip
    row = b.one_gait(zero_policy, cfg, "bound", args)
    assert row["case"] == "bound" and row["fidelity"] == 0.0 and row["classified"] == "stand"
    assert row["tracking_error"] > 0.4  # asked for 0.5 m/s, stands still
    rows = b.switching(zero_policy, cfg, args)
    assert rows[0]["case"] == "switching every 1 s" and rows[0]["fall_rate"] == 0.0
    table = b.markdown([row, *rows])
    assert table.count("\n") == 1 + 1 + len(rows) and "| bound | 0 | 0% |" in table
