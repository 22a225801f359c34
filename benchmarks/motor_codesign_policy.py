"""Issue 6 with the trained trot policy: does the robot walk as well on lighter motors?

For the shipped schedule-following trot (examples/trot_gait_cpu, ``configs/train/
trot_gait_cpu.yaml``: the trot contact schedule in the reward, torque peaks kept under 7 N m;
0.5 m/s forward) this script
1. evaluates it on the stock robot (the CyberGear, as trained) and on 12 motors of each
   motor YAML: tracking error, fall rate, peak winding temperature of the episodes, and the
   hottest winding after a 30-minute mission of the recorded duty (cycle repeated from 25 C);
2. runs the co-design loop on the policy's own duty cycle, re-simulating the policy on each
   new motor (``irondog motor optimize --duty CHECKPOINT``), and reports each pass.

Walks as well: tracking error within 10% of the baseline and no more falls. The robot is the
nominal one (no domain randomisation; pushes off), so that torques stay within each motor's
limit. Each motor is run at the trained 4 ms and at 2 ms; the co-design passes at the step
their motors need (``irondog.motors.duty.motor_env_config``: at the trained 4 ms a light
motor's small reflected inertia makes the explicit PD law chatter).

Run: python benchmarks/motor_codesign_policy.py [--episodes 16] [--seconds 10]  (3-5 minutes)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from irondog.motors import design as md
from irondog.motors import duty as du
from irondog.motors import optimize as mo
from irondog.motors import policy_duty as pd

CHECKPOINT = Path("examples/trot_gait_cpu")  # a run folder: its latest checkpoint
MOTORS = ("configs/motor/cybergear.yaml", "configs/motor/trot_optimized.yaml")
FINE_DT = 0.002  # s, the second physics step every motor is run at


def row(label: str, mass_g: float, sim_dt: float, params, metrics: dict, duty: du.Duty) -> dict:
    """One table row: the eval metrics and the 30-minute thermal check of the duty."""
    mission = du.thermal_mission(duty, params, 1800.0, 25.0, step_s=0.2)
    return {
        "label": label,
        "mass_g": mass_g,
        "sim_dt_ms": 1e3 * sim_dt,
        "tracking": metrics["tracking_error"],
        "falls": metrics["fall_rate"],
        "temp_eval": metrics["winding_temp_peak"],
        "temp_30min": float(mission.peak_winding.max()),
        "cot": metrics["cost_of_transport_mech"],
        "torque_peak": metrics["torque_peak"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=str(CHECKPOINT))
    parser.add_argument("--episodes", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--iterations", type=int, default=3, help="co-design passes at most")
    parser.add_argument("--out", default="/tmp/motor_codesign_policy", help="motor YAMLs here")
    args = parser.parse_args()
    opts = {"episodes": args.episodes, "seconds": args.seconds}
    t0 = time.perf_counter()
    rows = []
    base = md.to_params(md.evaluate(md.CYBERGEAR))  # the design model's CyberGear, for thermal
    for sim_dt in (0.004, FINE_DT):
        duty, m = pd.policy_duty(args.checkpoint, None, sim_dt=sim_dt, **opts)
        rows.append(row("stock robot (CyberGear, as trained)", 317.0, sim_dt, base, m, duty))
    for path in MOTORS:
        _, params = mo.load_motor(path)
        for sim_dt in (0.004, FINE_DT):
            duty, m = pd.policy_duty(args.checkpoint, params, sim_dt=sim_dt, **opts)
            rows.append(row(path, 1e3 * params.mass, sim_dt, params, m, duty))
    t_eval = time.perf_counter() - t0

    # Co-design on the policy's own duty, re-simulated on each new motor.
    config = mo.load_config(Path("configs/motor/optimize.yaml"))
    duty0, _ = pd.policy_duty(args.checkpoint, None, **opts)
    req0 = mo.requirements_from_duty(duty0, config)
    base_check = mo.assess(md.evaluate(md.CYBERGEAR, config.constants()), req0, config)
    summ = du.summarize(duty0)
    worst = int(summ.rms_torque.argmax())
    t1 = time.perf_counter()
    steps = mo.codesign(
        duty0, config, pd.policy_simulator(args.checkpoint, log=None, **opts),
        max_iterations=args.iterations, log=lambda _: None,
    )  # fmt: skip
    t_codesign = time.perf_counter() - t1
    out = Path(args.out)
    for step in steps:
        res = step.result
        path = mo.save_motor(out / f"policy_pass{step.iteration}.yaml", "policy", res.design)
        params = md.to_params(res.perf)
        d, m = pd.policy_duty(args.checkpoint, params, **opts)
        rows.append(
            row(
                f"co-design pass {step.iteration} ({'feasible' if res.feasible else 'INFEASIBLE'})",
                1e3 * res.perf.mass, pd.auto_sim_dt(args.checkpoint, params), params, m, d,
            )
        )  # fmt: skip
        print(f"wrote {path}")
    ref = next(r for r in rows if r["sim_dt_ms"] == 1e3 * FINE_DT)["tracking"]
    ref4 = rows[0]["tracking"]

    print(f"\npolicy {args.checkpoint}: {args.episodes} episodes x {args.seconds:.0f} s at 0.5 m/s")
    print(
        "\n| motor | mass (g) | physics step (ms) | tracking error (m/s) | vs baseline | "
        "fall rate | peak winding, episodes (C) | hottest winding, 30 min (C) | "
        "mech. cost of transport | peak torque (N m) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        base_track = ref4 if r["sim_dt_ms"] == 4.0 else ref
        print(
            f"| {r['label']} | {r['mass_g']:.1f} | {r['sim_dt_ms']:.0f} | {r['tracking']:.4f} | "
            f"{100 * (r['tracking'] / base_track - 1):+.1f}% | {r['falls']:.0%} | "
            f"{r['temp_eval']:.1f} | {r['temp_30min']:.1f} | {r['cot']:.2f} | "
            f"{r['torque_peak']:.2f} |"
        )
    print(
        f"\npolicy duty on the CyberGear ({duty0.duration:.0f} s, 2 ms physics): peak torque "
        f"{summ.peak_torque.max():.2f} N m, worst RMS torque {summ.rms_torque[worst]:.2f} N m "
        f"({du.JOINT_NAMES[worst]}), samples at the torque limit {du.saturation(duty0).max():.2%} "
        f"(worst joint), knee RMS torques {', '.join(f'{x:.2f}' for x in summ.rms_torque[2::3])} "
        f"N m (FR FL RR RL), peak speed {summ.peak_speed.max():.2f} rad/s; "
        f"CyberGear model {'meets' if base_check.feasible else 'misses'} it"
        + ("" if base_check.feasible else ":\n" + base_check.explain())
    )
    print("\nco-design passes:")
    for step in steps:
        res = step.result
        re = step.recheck
        print(
            f"- pass {step.iteration}: {1e3 * res.perf.mass:.1f} g, "
            f"{'feasible' if res.feasible else 'infeasible'} on the duties so far "
            f"(binding: {', '.join(res.assessment.binding()) or '-'}); re-simulated: "
            + ("meets its duty" if re is not None and re.feasible else "misses its duty")
            + ("" if re is None or re.feasible else " (" + re.explain().replace("\n", "; ") + ")")
        )
    print(f"\nwall clock: evaluations {t_eval:.0f} s, co-design loop {t_codesign:.0f} s")


if __name__ == "__main__":
    main()
