"""The GPU path measured in one run, sized for a lent device's few minutes.

Stages, each in its own process with its own time budget, so that one failure (Warp missing,
out of memory, a compile that runs too long) still leaves the other figures:

  versions  python, jax, jaxlib, mujoco, mujoco-mjx, mujoco-warp, warp-lang; GPU name, driver
  mjx_jax   MJX impl=jax: bare ``mjx.step`` and the environment's step, physics and env
            steps/s with compile times, at 8,192 and 32,768 simulations; the task overhead
  mjx_warp  the same with impl=warp
  train     a short PPO run of configs/train/joystick_gpu.yaml: the learning curve, its slope
            and env steps/s with the update included

Peak device memory is read after every measurement. Results go to ``gpu_check.json`` and
``gpu_check.md`` (and the stages' log, ``gpu_check.log``) under ``--out``, else ``$OUT``, else
runs/gpu_check.

    bash benchmarks/gpu_check.sh                    # on a GPU: about 6 minutes
    bash benchmarks/gpu_check.sh --stages mjx_warp  # one stage again
    bash benchmarks/gpu_check.sh --smoke            # tiny sizes on the CPU (jax CPU)

The measurements are the project's own: ``irondog.envs.bench`` (as ``irondog bench-env``)
and ``irondog.agents.ppo.make_train`` (as ``irondog train``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PRESET = "configs/train/joystick_gpu.yaml"
STAGES = ("versions", "mjx_jax", "mjx_warp", "train")
PACKAGES = ("jax", "jaxlib", "mujoco", "mujoco-mjx", "mujoco-warp", "warp-lang", "flax", "optax")
MARK = "GPU_CHECK "  # prefix of the result lines a stage prints
TRAIN_COLUMNS = (
    "iteration", "env_steps", "time/iteration_s", "time/steps_per_s",
    "episode/return", "episode/length", "env/tracking_error", "reward/per_step",
)  # fmt: skip
TARGET_PHYSICS_STEPS = 1_000_000  # physics steps/s at 8,192 simulations (issue 24)


@dataclasses.dataclass(frozen=True)
class Plan:
    """Sizes and time budgets of one run."""

    sizes: tuple[int, ...]
    seconds: float  # per throughput figure
    budgets: dict[str, float]  # stage -> s, the stage's process is killed past it
    train_seconds: float  # training stops at the first iteration ending this long after the first
    train_overrides: tuple[str, ...]
    smoke: bool


GPU_PLAN = Plan(
    sizes=(8192, 32768),
    seconds=3.0,
    budgets={"versions": 30, "mjx_jax": 100, "mjx_warp": 90, "train": 130},  # 350 s in all
    train_seconds=60.0,  # after the first iteration (compilation); 130 s leaves it 70 s
    train_overrides=(),
    smoke=False,
)
SMOKE_PLAN = Plan(
    sizes=(4, 8),
    seconds=0.3,
    # A shared CPU compiles the MJX step in minutes; these only stop a stage that hangs.
    budgets={"versions": 120, "mjx_jax": 1200, "mjx_warp": 1200, "train": 1800},
    train_seconds=0.0,  # two iterations, whatever they take
    train_overrides=(
        "env.num_envs=8",
        "train.num_iterations=2",
        "train.unroll_length=4",
        "train.num_minibatches=2",
        "train.num_epochs=1",
        "train.actor_hidden=[16]",
        "train.critic_hidden=[16]",
    ),  # fmt: skip
    smoke=True,
)


# --- inside a stage's process ---------------------------------------------------------


def emit(kind: str, **record: Any) -> None:
    """One result line for the parent (flushed, so a killed stage keeps what it printed)."""
    print(MARK + json.dumps({"kind": kind, **record}, default=float), flush=True)


def peak_memory_bytes() -> int | None:
    """Peak bytes in use on the first device so far (None where the back end does not say)."""
    import jax

    stats = jax.local_devices()[0].memory_stats() or {}
    return stats.get("peak_bytes_in_use")


def stage_versions(plan: Plan) -> None:
    from importlib.metadata import PackageNotFoundError, version

    import jax

    packages = {}
    for name in PACKAGES:
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            packages[name] = None
    device = jax.local_devices()[0]
    gpu = {"name": None, "driver": None, "memory_total": None}
    try:
        query = "--query-gpu=name,driver_version,memory.total"
        out = subprocess.run(
            ["nvidia-smi", query, "--format=csv,noheader"],
            capture_output=True, text=True, timeout=20, check=True,
        ).stdout.strip().splitlines()[0]  # fmt: skip
        gpu = dict(zip(gpu, (s.strip() for s in out.split(",")), strict=True))
    except (OSError, subprocess.SubprocessError, IndexError, ValueError) as err:
        gpu["error"] = f"nvidia-smi: {err}"
    emit(
        "versions",
        python=platform.python_version(),
        packages=packages,
        jax_backend=jax.default_backend(),
        device_kind=device.device_kind,
        device_count=jax.device_count(),
        gpu=gpu,
        machine=f"{platform.machine()}, {os.cpu_count()} cores",
    )


def env_config(plan: Plan, overrides: list[str]) -> Any:
    """The joystick GPU preset's environment, with ``overrides`` (dotted, under env.)."""
    from irondog.agents.config import RunConfig
    from irondog.config import load
    from irondog.envs import registry

    run = load(RunConfig, str(REPO / PRESET), ["train.num_minibatches=1", *overrides])
    return registry.make_config(run.train.env_name, run.env)


def stage_physics(plan: Plan, impl: str) -> None:
    import jax

    from irondog.envs import bench
    from irondog.envs.mjx_env import check_impl

    try:
        check_impl(impl)
    except ImportError as err:
        if plan.smoke:
            emit("skipped", reason=str(err))
            return
        raise
    for n in plan.sizes:
        cfg = env_config(plan, [f"env.mjx_impl={impl}", f"env.num_envs={n}"])
        bare = bench.mjx_physics_steps_per_second(cfg, plan.seconds)
        emit("bare", impl=impl, num_envs=n, **bare, peak_memory_bytes=peak_memory_bytes())
        env = bench.env_steps_per_second(cfg, plan.seconds)
        emit(
            "env",
            impl=impl,
            num_envs=n,
            physics_steps_per_s=env["physics_steps_per_s"],
            env_steps_per_s=env["env_steps_per_s"],
            compile_s=env["compile_s"],
            task_overhead=bare["physics_steps_per_s"] / env["physics_steps_per_s"],
            peak_memory_bytes=peak_memory_bytes(),
        )
        jax.clear_caches()


class _OutOfTime(Exception):
    pass


def stage_train(plan: Plan) -> None:
    import jax

    from irondog.agents import ppo
    from irondog.agents.config import RunConfig
    from irondog.config import load
    from irondog.envs import registry

    run = load(RunConfig, str(REPO / PRESET), list(plan.train_overrides))
    env = registry.make(run.train.env_name, run.env)
    train = ppo.make_train(run.train, env)
    history: list[dict[str, float]] = []
    started = time.perf_counter()

    def callback(_learner: Any, metrics: dict[str, float]) -> None:
        row = {k: metrics[k] for k in TRAIN_COLUMNS if k in metrics}
        row["wall_s"] = time.perf_counter() - started
        history.append(row)
        emit("train_iteration", **row)
        trained = row["wall_s"] - history[0]["wall_s"]  # after the compiling first iteration
        if plan.train_seconds and trained > plan.train_seconds:
            raise _OutOfTime

    try:
        train(jax.random.PRNGKey(run.train.seed), callback=callback)
    except _OutOfTime:
        pass
    emit("train", **train_summary(history, run.env.num_envs), peak_memory_bytes=peak_memory_bytes())


def train_summary(history: list[dict[str, float]], num_envs: int) -> dict[str, Any]:
    """The curve in a few figures: steps/s after compilation, return and its slope."""
    import numpy as np

    steady = history[1:] or history
    steps = np.array([h["env_steps"] for h in steady])
    returns = np.array([h.get("episode/return", math.nan) for h in steady])
    finite = np.isfinite(returns)
    slope = None
    if finite.sum() >= 2 and np.ptp(steps[finite]) > 0:
        slope = float(np.polyfit(steps[finite] / 1e6, returns[finite], 1)[0])
    return {
        "preset": PRESET,
        "num_envs": num_envs,
        "iterations": len(history),
        "env_steps": history[-1]["env_steps"],
        "wall_s": history[-1]["wall_s"],
        "first_iteration_s": history[0]["time/iteration_s"],  # compilation included
        "env_steps_per_s": float(np.median([h["time/steps_per_s"] for h in steady])),
        "return_first": _first_finite(h.get("episode/return") for h in history),
        "return_last": _first_finite(h.get("episode/return") for h in reversed(history)),
        "return_slope_per_million_steps": slope,
        "tracking_error_first": history[0].get("env/tracking_error"),
        "tracking_error_last": history[-1].get("env/tracking_error"),
    }


def _first_finite(values: Any) -> float | None:
    for value in values:
        if value is not None and math.isfinite(value):
            return value
    return None


def run_stage(name: str, plan: Plan, cache_dir: str) -> None:
    """Body of a stage's process."""
    import jax

    if cache_dir:
        jax.config.update("jax_compilation_cache_dir", cache_dir)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)
    if plan.smoke:  # a CPU compiles the MJX step several times faster this way
        jax.config.update("jax_disable_most_optimizations", True)
    if name == "versions":
        stage_versions(plan)
    elif name == "train":
        stage_train(plan)
    else:
        stage_physics(plan, name.removeprefix("mjx_"))


# --- the parent: stages in turn, then the report ----------------------------------------


def run_stages(
    stages: list[str], plan: Plan, cache_dir: str, log: Any, done: Any
) -> dict[str, dict]:
    """Run each stage in its own process under its budget; collect records and errors.
    ``done(results)`` runs after each stage (the report is rewritten, so a run killed from
    outside keeps the stages that finished)."""
    results: dict[str, dict] = {}
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if plan.smoke:
        env["JAX_PLATFORMS"] = "cpu"
    for name in stages:
        budget = plan.budgets[name]
        cmd = [sys.executable, str(Path(__file__).resolve()), "--stage", name]
        cmd += ["--cache-dir", cache_dir] + (["--smoke"] if plan.smoke else [])
        print(f"[gpu_check] {name}: budget {budget:.0f} s", file=sys.stderr, flush=True)
        started = time.perf_counter()
        records: list[dict] = []
        error = None
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=REPO
        )
        try:
            out, _ = proc.communicate(timeout=budget)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
            error = f"stopped at its {budget:.0f} s budget"
        lines = out.splitlines()
        for line in lines:
            if line.startswith(MARK):
                records.append(json.loads(line[len(MARK) :]))
            else:
                log.write(f"[{name}] {line}\n")
        if error is None and proc.returncode != 0:
            tail = [line for line in lines if line.strip() and not line.startswith(MARK)]
            error = f"exit {proc.returncode}: {tail[-1] if tail else 'no output'}"
        rows = [r for r in records if r["kind"] == "train_iteration"]
        if rows and not any(r["kind"] == "train" for r in records):  # stopped mid-run
            num_envs = rows[0]["env_steps"] / rows[0]["iteration"] / _unroll_length(plan)
            records.append({"kind": "train", **train_summary(rows, round(num_envs))})
        seconds = time.perf_counter() - started
        results[name] = {"seconds": round(seconds, 1), "error": error, "records": records}
        state = "ok" if error is None else f"FAILED ({error})"
        print(f"[gpu_check] {name}: {state} in {seconds:.0f} s", file=sys.stderr, flush=True)
        log.flush()
        done(results)
    return results


def _unroll_length(plan: Plan) -> int:
    from irondog.agents.config import RunConfig
    from irondog.config import load

    return load(RunConfig, str(REPO / PRESET), list(plan.train_overrides)).train.unroll_length


def _fmt(value: Any, digits: int = 0) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float) and not math.isfinite(value):
        return "n/a"
    return f"{value:,.{digits}f}"


def _gib(value: Any) -> str:
    return "n/a" if value is None else f"{value / 2**30:.1f}"


def markdown(report: dict) -> str:
    """The report as a markdown table set (for benchmarks/RESULTS.md)."""
    stages = report["stages"]
    lines = [f"# gpu_check ({'smoke, CPU' if report['smoke'] else 'GPU'}), {report['date']}", ""]
    versions = next(iter(stages.get("versions", {}).get("records", [])), None)
    if versions:
        gpu = versions["gpu"]
        lines += [
            f"Machine: {gpu.get('name') or versions['device_kind']} (driver "
            f"{gpu.get('driver') or 'n/a'}, {gpu.get('memory_total') or 'n/a'}), "
            f"{versions['machine']}; jax back end {versions['jax_backend']}.",
            "",
            "| python | " + " | ".join(PACKAGES) + " |",
            "| --- " * (len(PACKAGES) + 1) + "|",
            f"| {versions['python']} | "
            + " | ".join(versions["packages"][p] or "missing" for p in PACKAGES)
            + " |",
            "",
        ]
    lines += [
        "| impl | simulations | bare mjx.step physics steps/s | compile s | env physics "
        "steps/s | env steps/s | compile s | task overhead (bare / env) | peak GiB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for stage in ("mjx_jax", "mjx_warp"):
        records = stages.get(stage, {}).get("records", [])
        bare = {r["num_envs"]: r for r in records if r["kind"] == "bare"}
        env = {r["num_envs"]: r for r in records if r["kind"] == "env"}
        for n in sorted(set(bare) | set(env)):
            b, e = bare.get(n, {}), env.get(n, {})
            lines.append(
                f"| {stage.removeprefix('mjx_')} | {n:,} | {_fmt(b.get('physics_steps_per_s'))} "
                f"| {_fmt(b.get('compile_s'), 1)} | {_fmt(e.get('physics_steps_per_s'))} "
                f"| {_fmt(e.get('env_steps_per_s'))} | {_fmt(e.get('compile_s'), 1)} "
                f"| {_fmt(e.get('task_overhead'), 2)} "
                f"| {_gib(e.get('peak_memory_bytes', b.get('peak_memory_bytes')))} |"
            )
        if any(r["kind"] == "skipped" for r in records):
            reason = next(r["reason"] for r in records if r["kind"] == "skipped")
            lines.append(f"| {stage.removeprefix('mjx_')} | skipped: {reason} |||||||")
    train_records = stages.get("train", {}).get("records", [])
    train = next((r for r in train_records if r["kind"] == "train"), None)
    if train:
        lines += [
            "",
            f"Training, {train['preset']} ({train['num_envs']:,} simulations): "
            f"{train['iterations']} iterations, {_fmt(train['env_steps'])} env steps in "
            f"{_fmt(train['wall_s'], 1)} s (first iteration, compilation included, "
            f"{_fmt(train['first_iteration_s'], 1)} s); {_fmt(train['env_steps_per_s'])} env "
            f"steps/s with the update; episode return {_fmt(train['return_first'], 2)} -> "
            f"{_fmt(train['return_last'], 2)} (slope "
            f"{_fmt(train['return_slope_per_million_steps'], 3)} per million steps); tracking "
            f"error {_fmt(train['tracking_error_first'], 3)} -> "
            f"{_fmt(train['tracking_error_last'], 3)} m/s; peak "
            f"{_gib(train['peak_memory_bytes'])} GiB.",
        ]
    lines += ["", f"Peak device memory over all stages: {_gib(report['peak_memory_bytes'])} GiB."]
    if not report["smoke"]:
        lines.append(f"Targets: {report['targets']}.")
    failed = {k: v["error"] for k, v in stages.items() if v["error"]}
    for name, error in failed.items():
        lines.append(f"- stage {name} failed: {error}")
    return "\n".join(lines) + "\n"


def targets(stages: dict) -> str:
    """The issue's targets that this run can judge, met or not."""
    records = [r for s in ("mjx_jax", "mjx_warp") for r in stages.get(s, {}).get("records", [])]
    env = [r for r in records if r["kind"] == "env"]
    best = max((r["physics_steps_per_s"] for r in env if r["num_envs"] == 8192), default=None)
    fits = any(r["num_envs"] == 32768 for r in env)
    speed = "not measured" if best is None else f"{best:,.0f}"
    met = best is not None and best >= TARGET_PHYSICS_STEPS
    return (
        f"env physics steps/s at 8,192 simulations {speed} (target 1 M: "
        f"{'met' if met else 'not met'}); 32,768 simulations "
        f"{'ran' if fits else 'did not run'}; the joystick coverage target is judged by the "
        "coverage benchmark on the trained policy, not here"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes on the CPU (jax CPU)")
    parser.add_argument("--out", help="result folder (default: $OUT, else runs/gpu_check)")
    parser.add_argument(
        "--stages", default=",".join(STAGES), help=f"comma-separated, of {','.join(STAGES)}"
    )
    parser.add_argument(
        "--cache-dir",
        default=os.environ.get("IRONDOG_JAX_CACHE", "/tmp/irondog-gpu-check-jax-cache"),
        help="persistent JAX compilation cache ('' turns it off)",
    )
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    plan = SMOKE_PLAN if args.smoke else GPU_PLAN
    if args.stage:
        run_stage(args.stage, plan, args.cache_dir)
        return 0
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = [s for s in stages if s not in STAGES]
    if unknown or not stages:
        parser.error(f"--stages: unknown {unknown or 'empty'}; known: {', '.join(STAGES)}")
    out = Path(args.out or os.environ.get("OUT") or REPO / "runs" / "gpu_check")
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    def write(results: dict[str, dict]) -> None:
        peaks = [
            r["peak_memory_bytes"]
            for stage in results.values()
            for r in stage["records"]
            if r.get("peak_memory_bytes") is not None
        ]
        report = {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "smoke": plan.smoke,
            "plan": dataclasses.asdict(plan),
            "load_average": os.getloadavg()[0],
            "wall_s": round(time.perf_counter() - started, 1),
            "peak_memory_bytes": max(peaks, default=None),
            "stages": results,
            "targets": targets(results),
        }
        (out / "gpu_check.json").write_text(json.dumps(report, indent=2, default=float) + "\n")
        (out / "gpu_check.md").write_text(markdown(report))

    with open(out / "gpu_check.log", "w") as log:
        results = run_stages(stages, plan, args.cache_dir, log, write)
    print((out / "gpu_check.md").read_text())
    print(f"[gpu_check] wrote {out}/gpu_check.json, gpu_check.md, gpu_check.log", file=sys.stderr)
    return 1 if any(v["error"] for v in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
