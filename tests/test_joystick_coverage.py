"""The joystick coverage benchmark's driver, on the shipped 0.5 m/s trot with a tiny grid."""

import csv
import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "joystick_coverage.py"
TROT = Path(__file__).resolve().parents[1] / "examples" / "trot_cpu"


def bench():
    spec = importlib.util.spec_from_file_location("joystick_coverage_bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_cells_are_judged_against_the_nominal_and_the_perturbed_targets():
    b = bench()
    nominal, pushed = b.CONDITIONS[0], b.CONDITIONS[1]
    row = {"command": b.ZERO, "falls": 0, "track": 0.04, "step": 0.1, "yaw": 0.1, "drift": 0.06}
    assert b.judge(row, nominal) == ["drift 0.06 > 0.05"]
    assert b.judge({**row, "drift": 0.03}, nominal) == []
    walking = {**row, "command": (1.0, 0.0, 0.0), "track": 0.12, "yaw": 0.25}
    assert b.judge(walking, nominal) == ["track 0.12 > 0.10", "yaw 0.25 > 0.20"]
    assert b.judge(walking, pushed) == []  # 0.15 m/s under perturbation, yaw not judged
    assert b.judge({**walking, "falls": 1}, pushed) == ["falls 1"]
    merged = b.merge([{**row, "episodes": 1, "falls": 1}, {**row, "episodes": 3, "track": 0.08}])
    assert merged["episodes"] == 4 and merged["falls"] == 1
    assert abs(merged["track"] - 0.07) < 1e-9


def test_yaw_bias_is_the_steady_veer_and_the_yaw_error_counts_the_wobble_too():
    import numpy as np

    b = bench()
    t, n = 100, 2
    wobble = 0.3 * np.where(np.arange(t) % 2 == 0, 1.0, -1.0)[:, None]  # alternating, mean 0
    yaw_rate = 0.05 + np.tile(wobble, (1, n))  # a 0.05 rad/s veer under it
    zeros = np.zeros((t, n, 2))
    cell = b.cell_metrics(
        zeros, np.zeros((t, n)), yaw_rate, np.zeros((t, n, 3)), np.ones((t, n), bool),
        np.zeros(n, bool), (0.5, 0.0, 0.0), 0.02, 10,
    )  # fmt: skip
    assert abs(cell["yaw_bias"] - 0.05) < 1e-9
    assert abs(cell["yaw"] - 0.3) < 0.01  # |0.35| and |-0.25| alternate
    turning = b.cell_metrics(
        zeros, np.zeros((t, n)), yaw_rate, np.zeros((t, n, 3)), np.ones((t, n), bool),
        np.zeros(n, bool), (0.0, 0.0, 0.15), 0.02, 10,
    )  # fmt: skip
    assert abs(turning["yaw_bias"] + 0.10) < 1e-9  # turning 0.10 rad/s slower than asked
    merged = b.merge([{**cell, "episodes": 1}, {**turning, "episodes": 3}])
    assert abs(merged["yaw_bias"] - (0.05 - 0.30) / 4) < 1e-9


def test_quick_grid_runs_both_ways_on_the_shipped_trot(tmp_path, capsys):
    out = tmp_path / "coverage.csv"
    args = ["--checkpoint", str(TROT), "--quick", "--nominal-only", "--seeds", "0", "--csv"]
    assert bench().main([*args, str(out)]) == 0
    rows = {(r["cell"], r["way"]): r for r in csv.DictReader(out.open())}
    assert set(rows) == {(c, w) for c in ("stand", "forward 0.5", "turn left 0.75")
                         for w in ("eval", "onnx")}  # fmt: skip
    for way in ("eval", "onnx"):
        # Trained for 0.5 m/s forward only: it tracks that, and walks on when told to stand.
        assert rows[("forward 0.5", way)]["missed"] == ""
        assert float(rows[("forward 0.5", way)]["track"]) < 0.1
        assert float(rows[("stand", way)]["drift"]) > 0.3
        assert "drift" in rows[("stand", way)]["missed"]
    assert "1 of 3 cells met" in capsys.readouterr().out


def test_gait_flag_holds_one_gait_both_ways_and_refuses_what_it_cannot(tmp_path, capsys):
    gaits = TROT.parent / "gaits_cpu"
    out = tmp_path / "coverage.csv"
    args = ["--checkpoint", str(gaits), "--gait", "pronk", "--quick", "--nominal-only"]
    assert bench().main([*args, "--seeds", "0", "--csv", str(out)]) == 0
    assert "gait pronk" in capsys.readouterr().out
    rows = {(r["cell"], r["way"]): r for r in csv.DictReader(out.open())}
    for way in ("eval", "onnx"):
        assert int(rows[("forward 0.5", way)]["falls"]) == 0
        assert float(rows[("forward 0.5", way)]["track"]) < 0.2
    # the two ways drive the same gait clock: their errors agree
    eval_track, onnx_track = (float(rows[("forward 0.5", w)]["track"]) for w in ("eval", "onnx"))
    assert abs(eval_track - onnx_track) < 0.05
    with pytest.raises(SystemExit, match="trained without gaits"):
        bench().main(["--checkpoint", str(TROT), "--gait", "pronk", "--quick"])
    with pytest.raises(SystemExit, match="'gallop' is not one of walk, trot"):
        bench().main(["--checkpoint", str(gaits), "--gait", "gallop", "--quick"])
