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


def fake_rows(seed: int, fidelity: float, stride: float | None, falls: float) -> list[dict]:
    """One seed's rows: the five gaits, then the switching episodes (16 episodes each)."""
    b = bench()
    names = ["walk", "trot", "pace", "bound", "pronk", "switching every 4 s"]
    return [
        {"seed": seed, "case": n, "episodes": 16, "fidelity": fidelity, "tracking_error": 0.2,
         "tracking_error_stride": stride, "fall_rate": falls if n.startswith("sw") else 0.0}
        for n in names[: len(b.gaits.PRESETS) + 1]
    ]  # fmt: skip


def test_targets_are_judged_per_seed_and_the_seed_table_pools_them():
    b = bench()
    good, bad = fake_rows(0, 0.95, 0.12, 0.0), fake_rows(1, 0.85, None, 1 / 16)
    verdict = b.targets(good)
    assert verdict["fidelity >= 90% for each gait"] and not any(
        v for k, v in verdict.items() if "every step" in k
    )
    worse = b.targets(bad)
    assert not worse["fidelity >= 90% for each gait"]
    assert not worse["tracking <= 0.15 m/s for each gait, stride mean"]  # missing counts as not
    assert worse["falls < 5% with switches"] is False  # 1 of 16 is 6%
    table = b.by_seed({0: good, 1: bad})
    assert "seeds 0 / 1" in table
    assert "| walk | 95.0% / 85.0% | 90.0% | 85.0% | 0.200 | - | 0 of 32 |" in table
    assert table.splitlines()[-1].endswith("| 1 of 32 |")
