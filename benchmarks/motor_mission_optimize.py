"""Least-mass motor for the 30-minute mission at the CyberGear's peak spec.

Reads the CyberGear's mission duty (``benchmarks/motor_mission.py --save-duty NPZ``), builds
``irondog.motors.optimize.requirements_from_mission`` (12 N m and 296 rpm as the peak spec; the
duty, cut to ``--samples`` rows, as the thermal requirement), optimises with
``configs/motor/mission.yaml`` and writes the design; then check it in simulation with
``python benchmarks/motor_mission.py OUT.yaml``.

Run: python benchmarks/motor_mission_optimize.py runs/mission_cybergear.npz
configs/motor/mission_optimized.yaml [--samples 3000] (about 30 s on 2 cores)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from irondog.motors import design as md
from irondog.motors import duty as du
from irondog.motors import optimize as mo

CONFIG = Path(__file__).resolve().parent.parent / "configs" / "motor" / "mission.yaml"


def _peak(a: mo.Assessment) -> float:
    """The hottest winding over the ordered mission (C), constrained or not."""
    if "mission_peak_winding" in a.constraints:
        return a.constraints["mission_peak_winding"][0]
    return float("nan")


def _hottest(a: mo.Assessment) -> str:
    return f"{_peak(a):.1f} C"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("duty", help="mission duty .npz recorded on the CyberGear")
    parser.add_argument("out", help="motor YAML to write")
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--config", default=str(CONFIG))
    args = parser.parse_args()
    duty = du.load_duty(args.duty)
    reduced = du.reduce_duty(duty, args.samples)
    ratio = np.sqrt(np.mean(reduced.joint_torque**2, 0) / np.mean(duty.joint_torque**2, 0))
    print(
        f"duty {duty.joint_torque.shape[0]} rows -> {reduced.joint_torque.shape[0]}; RMS "
        f"torque ratio per joint {ratio.min():.3f}..{ratio.max():.3f}"
    )
    config = mo.load_config(args.config)
    req = mo.requirements_from_mission(duty, config, samples=args.samples)
    full = mo.requirements_from_mission(duty, config, samples=duty.joint_torque.shape[0])
    base = mo.assess(md.evaluate(md.CYBERGEAR, config.constants()), full, config)
    print(
        f"CyberGear model {1e3 * base.perf.mass:.1f} g: winding "
        f"{base.mission_winding_temp:.1f} C after 30 min on the full duty, "
        f"{_hottest(base)} hottest in the mission, "
        f"{'meets' if base.feasible else 'misses: ' + base.explain()}"
    )
    res = mo.optimize(req, config)
    print(res.report())
    check = mo.assess(res.perf, full, config)
    print(
        f"on the full duty: winding {check.mission_winding_temp:.1f} C, {_hottest(check)} "
        "hottest, "
        f"{'feasible' if check.feasible else 'INFEASIBLE: ' + check.explain()}"
    )
    perf = res.perf
    extra = {
        "feasible": bool(res.feasible),
        "binding_constraints": res.assessment.binding(),
        "mission_winding_temp_C": round(check.mission_winding_temp, 2),
        "mission_peak_winding_C": round(_peak(check), 2),
        "duty": f"30-minute mission on the CyberGear ({args.duty}), {args.samples} samples",
        "g_per_Nm_peak": round(1e3 * perf.mass / perf.peak_torque, 2),
        "g_per_Nm_continuous": round(1e3 * perf.mass / perf.rated_torque, 2),
    }
    out = mo.save_motor(args.out, Path(args.out).stem, res.design, extra)
    print(
        f"wrote {out}: {1e3 * perf.mass:.1f} g, peak {perf.peak_torque:.2f} N m, continuous "
        f"{perf.rated_torque:.2f} N m ({1e3 * perf.mass / perf.peak_torque:.1f} g/N m peak, "
        f"{1e3 * perf.mass / perf.rated_torque:.1f} g/N m continuous); CyberGear model "
        f"{1e3 * base.perf.mass / base.perf.peak_torque:.1f} and "
        f"{1e3 * base.perf.mass / base.perf.rated_torque:.1f}"
    )


if __name__ == "__main__":
    main()
