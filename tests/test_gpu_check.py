"""benchmarks/gpu_check.sh: its report from made-up records (fast) and its --smoke run on the CPU
(slow: it compiles the MJX step and a PPO iteration on the CPU, many minutes on two cores)."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from irondog.agents.config import RunConfig
from irondog.config import load

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "gpu_check.py"


def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def physics(impl, n, sps, overhead):
    bare = {"kind": "bare", "impl": impl, "num_envs": n, "physics_steps_per_s": sps * overhead,
            "compile_s": 10.0, "peak_memory_bytes": 2**30}  # fmt: skip
    env = {"kind": "env", "impl": impl, "num_envs": n, "physics_steps_per_s": sps,
           "env_steps_per_s": sps / 5, "compile_s": 30.0, "task_overhead": overhead,
           "peak_memory_bytes": 2 * 2**30}  # fmt: skip
    return [bare, env]


def test_targets_are_judged_from_the_environment_figures():
    mod = gpu_check()
    fast = {
        "mjx_jax": {"records": physics("jax", 8192, 1.5e6, 1.2) + physics("jax", 32768, 2e6, 1.1)}
    }
    assert "1,500,000 (target 1 M: met)" in mod.targets(fast)
    assert "32,768 simulations ran" in mod.targets(fast)
    slow = {"mjx_jax": {"records": physics("jax", 8192, 4e5, 1.2)}}
    assert "(target 1 M: not met)" in mod.targets(slow)
    assert "32,768 simulations did not run" in mod.targets(slow)
    assert "not measured" in mod.targets({"mjx_jax": {"records": []}})


def test_report_keeps_the_figures_of_the_stages_that_ran_and_names_the_failure():
    mod = gpu_check()
    stages = {
        "mjx_jax": {"seconds": 50, "error": None, "records": physics("jax", 8192, 1.2e6, 1.25)},
        "mjx_warp": {"seconds": 3, "error": "exit 1: ImportError: no warp", "records": []},
    }
    report = {"date": "d", "smoke": False, "peak_memory_bytes": 3 * 2**30, "stages": stages}
    report["targets"] = mod.targets(stages)
    text = mod.markdown(report)
    assert "| jax | 8,192 | 1,500,000 | 10.0 | 1,200,000 | 240,000 | 30.0 | 1.25 | 2.0 |" in text
    assert "- stage mjx_warp failed: exit 1: ImportError: no warp" in text
    assert "Peak device memory over all stages: 3.0 GiB." in text


def test_unknown_stage_is_a_clear_error(tmp_path):
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--stages", "mjx_jax,warp", "--out", str(tmp_path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 2
    assert "--stages: unknown ['warp']" in out.stderr
    assert not list(tmp_path.iterdir())  # nothing written


def test_joystick_gpu_preset_has_the_full_command_range():
    run = load(RunConfig, REPO / "configs" / "train" / "joystick_gpu.yaml")
    assert run.env.backend == "mjx" and run.env.num_envs == 8192
    command = run.env.command
    assert (command.lin_vel_x, command.lin_vel_y, command.yaw_rate) == (
        (-1.0, 1.5), (-0.5, 0.5), (-1.5, 1.5),
    )  # fmt: skip


@pytest.mark.slow
def test_smoke_mode_runs_every_stage_on_the_cpu(tmp_path):
    env = dict(os.environ, PYTHON=sys.executable, JAX_PLATFORMS="cpu")
    env.pop("OUT", None)
    cmd = ["bash", str(REPO / "benchmarks" / "gpu_check.sh"), "--smoke", "--out", str(tmp_path)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    stages = report["stages"]
    assert done.returncode == 0, {k: v["error"] for k, v in stages.items()}
    versions = stages["versions"]["records"][0]
    assert versions["packages"]["mujoco"] and versions["jax_backend"] == "cpu"
    records = stages["mjx_jax"]["records"]
    for kind in ("bare", "env"):
        sizes = sorted(r["num_envs"] for r in records if r["kind"] == kind)
        assert sizes == [4, 8]
    for r in records:
        assert r["physics_steps_per_s"] > 0 and r["compile_s"] > 0
    assert all(r["task_overhead"] > 0 for r in records if r["kind"] == "env")
    warp = stages["mjx_warp"]["records"]
    try:
        import mujoco_warp  # noqa: F401

        assert {r["kind"] for r in warp} == {"bare", "env"}
    except ImportError:
        assert [r["kind"] for r in warp] == ["skipped"]
    train = next(r for r in stages["train"]["records"] if r["kind"] == "train")
    assert train["iterations"] == 2 and train["env_steps"] == 2 * 8 * 4
    assert train["env_steps_per_s"] > 0
    text = (tmp_path / "gpu_check.md").read_text()
    assert "| jax | 8 |" in text and "Training, configs/train/joystick_gpu.yaml" in text


def test_train_summary_leaves_the_compiling_iteration_out_of_steps_per_s_and_slope():
    rows = [
        {"iteration": i, "env_steps": i * 1e6, "time/iteration_s": 60.0 if i == 1 else 0.5,
         "time/steps_per_s": 1e6 / (60.0 if i == 1 else 0.5), "episode/return": 2.0 * i,
         "env/tracking_error": 1.0 / i, "wall_s": 60.0 + 0.5 * (i - 1)}
        for i in range(1, 6)
    ]  # fmt: skip
    summary = gpu_check().train_summary(rows, 8192)
    assert summary["env_steps_per_s"] == 2e6
    assert summary["return_slope_per_million_steps"] == pytest.approx(2.0)
    assert summary["first_iteration_s"] == 60.0 and summary["iterations"] == 5
    assert (summary["return_first"], summary["return_last"]) == (2.0, 10.0)
