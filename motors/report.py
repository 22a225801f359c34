"""``irondog motor report``: baseline vs optimised motor, as plots and a markdown report.

Pareto fronts (mass vs duty peak torque, mass vs duty-cycle efficiency), torque-speed
envelopes over the duty's operating points, efficiency maps, thermal traces over the mission,
the mass breakdown, and every constraint (physical limits included) met or violated.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from irondog.motors import design as md
from irondog.motors import duty as du
from irondog.motors import optimize as mo
from irondog.motors import policy_duty as pd
from irondog.progress import QUIET, Progress


def write_report(
    out: Path,
    config,  # OptimizeConfig
    motor_path: str | None = None,
    duty_path: str | None = None,
    pareto_points: int = 6,
    progress: Progress = QUIET,
) -> Path:
    """Pareto fronts, envelopes over duty points, thermal traces, mass table; returns report.md."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    base_perf = md.evaluate(md.CYBERGEAR, config.constants())
    base_params = md.to_params(base_perf)
    progress.say(f"recording the duty of {duty_path or 'the scripted trot'}")
    if duty_path and pd.is_checkpoint(duty_path):
        base_duty, _ = pd.policy_duty(duty_path, None)
        label = f"policy {duty_path}"
        simulate = pd.policy_simulator(duty_path)
    elif duty_path:
        base_duty = du.load_duty(duty_path)
        label = f"rollouts {duty_path}"
        simulate = None  # recorded rollouts cannot be re-simulated
    else:
        base_duty = du.scripted_trot(base_params, du.apply_motor(base_params)).duty
        label = "scripted trot"
        simulate = du.simulate_scripted_trot
    req = mo.requirements_from_duty(base_duty, config, label=label)
    if motor_path:
        design, params = mo.load_motor(motor_path)
    else:
        progress.say("optimising a motor for it (no --motor given)")
        design = mo.optimize(req, config).design
        params = md.to_params(md.evaluate(design, config.constants()))
    perf = md.evaluate(design, config.constants())
    progress.say("simulating the robot with the new motor")
    new_duty = base_duty if simulate is None else simulate(params)
    base_check = mo.assess(base_perf, req, config)
    new_check = mo.assess(perf, mo.requirements_from_duty(new_duty, config), config)

    # Pareto fronts (epsilon-constraint): mass vs peak torque, mass vs duty efficiency.
    progress.say(f"Pareto fronts, {pareto_points} points each")
    torques = np.linspace(0.5, 1.6, pareto_points) * req.peak_torque
    front_t = mo.pareto_front(req, "peak_torque", torques, config, evals_per_point=1200)
    e0 = new_check.duty_efficiency if np.isfinite(new_check.duty_efficiency) else 0.2
    effs = np.linspace(e0, min(0.95, 1.6 * e0), pareto_points)
    front_e = mo.pareto_front(req, "efficiency", effs, config, evals_per_point=1200)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, front, xlabel, scale in (
        (axes[0], front_t, "duty peak torque, duty scaled (N m, before margin)", 1.0),
        (axes[1], front_e, "duty-cycle efficiency floor (%)", 100.0),
    ):
        lv = np.array([f[0] for f in front])
        mass = np.array([1e3 * f[1] for f in front])
        ok = np.array([f[2] for f in front])
        ax.plot(scale * lv[ok], mass[ok], "o-", label="feasible optimum")
        if (~ok).any():
            ax.plot(scale * lv[~ok], mass[~ok], "x", color="red", label="infeasible")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("motor mass (g)")
        ax.grid(alpha=0.3)
    axes[0].axhline(1e3 * base_perf.mass, color="gray", ls="--", label="CyberGear model")
    axes[0].legend()
    fig.suptitle(f"Pareto fronts for the {label}")
    fig.tight_layout()
    fig.savefig(out / "pareto.png", dpi=110)
    plt.close(fig)

    progress.say("envelope, efficiency, thermal and mass plots")
    # Envelopes over the duty operating points.
    fig, ax = plt.subplots(figsize=(6, 4.5))
    speeds = np.linspace(0, max(base_perf.no_load_speed, perf.no_load_speed), 200)
    for p, name, color, duty in (
        (base_perf, "CyberGear", "tab:blue", base_duty),
        (perf, "optimised", "tab:orange", new_duty),
    ):
        ax.plot(speeds, md.torque_speed_envelope(p, speeds), color=color, label=f"{name} envelope")
        ax.plot(
            speeds,
            md.torque_speed_envelope(p, speeds, config.winding_temp_limit),
            color=color,
            ls=":",
            label=f"{name}, hot winding",
        )
        step = max(1, duty.joint_torque.shape[0] // 400)
        ax.scatter(
            np.abs(duty.joint_vel[::step]).ravel(),
            np.abs(duty.joint_torque[::step]).ravel(),
            s=3,
            color=color,
            alpha=0.3,
        )
    ax.set_xlabel("joint speed (rad/s)")
    ax.set_ylabel("joint torque (N m)")
    ax.set_title("torque-speed envelopes and duty operating points")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "envelope.png", dpi=110)
    plt.close(fig)

    # Efficiency maps of both motors (motoring quadrant, cold winding).
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, p, name in ((axes[0], base_perf, "CyberGear"), (axes[1], perf, "optimised")):
        w_grid = np.linspace(0.5, p.no_load_speed, 80)
        t_grid = np.linspace(0.2, p.peak_torque, 60)
        eff = md.efficiency_map(p, w_grid, t_grid)
        cs = ax.contourf(w_grid, t_grid, 100 * eff.T, levels=np.arange(0, 101, 10), cmap="viridis")
        ax.set_title(f"{name} efficiency (%)")
        ax.set_xlabel("joint speed (rad/s)")
    axes[0].set_ylabel("joint torque (N m)")
    fig.colorbar(cs, ax=axes)
    fig.savefig(out / "efficiency.png", dpi=110)
    plt.close(fig)

    # Thermal traces over the mission (the environment's thermal model, cycle repeated).
    fig, ax = plt.subplots(figsize=(6, 4))
    traces = {}
    for prm, name, color, duty in (
        (base_params, "CyberGear", "tab:blue", base_duty),
        (params, "optimised", "tab:orange", new_duty),
    ):
        tr = du.thermal_mission(duty, prm, config.mission_s, config.ambient_temp, step_s=0.2)
        traces[name] = tr
        j = int(np.argmax(tr.peak_winding))
        ax.plot(
            tr.time / 60,
            tr.winding[:, j],
            color=color,
            label=f"{name} winding ({du.JOINT_NAMES[j]})",
        )
        ax.plot(tr.time / 60, tr.housing[:, j], color=color, ls="--", label=f"{name} housing")
    from irondog.agents.plots import temperature_limits

    temperature_limits(ax, config.winding_temp_limit)
    ax.axhline(
        config.winding_temp_limit - config.temp_margin,
        color="red",
        lw=1,
        ls=":",
        label=f"winding limit less {config.temp_margin:g} K margin (design target)",
    )
    ax.set_xlabel("mission time (min)")
    ax.set_ylabel("temperature (C)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "thermal.png", dpi=110)
    plt.close(fig)

    # Mass breakdown.
    parts = list(base_perf.mass_breakdown)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    x = np.arange(len(parts))
    ax.bar(x - 0.2, [1e3 * base_perf.mass_breakdown[k] for k in parts], 0.4, label="CyberGear")
    ax.bar(x + 0.2, [1e3 * perf.mass_breakdown[k] for k in parts], 0.4, label="optimised")
    ax.set_xticks(x, parts, rotation=30)
    ax.set_ylabel("g")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "mass_breakdown.png", dpi=110)
    plt.close(fig)

    lines = [
        "# Motor design report",
        "",
        f"Duty: {label}. Margins: torque x{config.torque_margin}, speed x{config.speed_margin}, "
        f"winding <= {config.winding_temp_limit - config.temp_margin:.0f} C after "
        f"{config.mission_s / 60:.0f} min at {config.ambient_temp:.0f} C ambient; envelope "
        f"{1e3 * config.max_outer_diameter:.1f} x {1e3 * config.max_length:.1f} mm.",
        "",
        "| figure | CyberGear (model) | optimised |",
        "| --- | --- | --- |",
    ]
    sb, so = md.summary(base_perf), md.summary(perf)
    for key in sb:
        lines.append(f"| {key} | {sb[key]:.4g} | {so[key]:.4g} |")
    lines += [
        "",
        "## Mass breakdown (g)",
        "",
        "| part | CyberGear (model) | optimised |",
        "| --- | --- | --- |",
    ]
    for k in parts:
        lines.append(
            f"| {k} | {1e3 * base_perf.mass_breakdown[k]:.1f} | "
            f"{1e3 * perf.mass_breakdown[k]:.1f} |"
        )
    lines.append(f"| total | {1e3 * base_perf.mass:.1f} | {1e3 * perf.mass:.1f} |")
    lines += ["", "## Constraints (achieved / required)", ""]
    for name, check in (
        ("CyberGear on its duty", base_check),
        ("optimised on its re-simulated duty", new_check),
    ):
        lines.append(
            f"- {name}: {'feasible' if check.feasible else 'INFEASIBLE'}; "
            + "; ".join(f"{k} {v[0]:.4g} / {v[1]:.4g}" for k, v in check.constraints.items())
        )
    lines += ["", "## Thermal (environment model, cycle repeated)", ""]
    for name, tr in traces.items():
        lines.append(
            f"- {name}: hottest winding {tr.peak_winding.max():.1f} C "
            f"({du.JOINT_NAMES[int(np.argmax(tr.peak_winding))]})"
        )
    lines += [
        "",
        "## Pareto fronts",
        "",
        "| peak torque (N m) | mass (g) | feasible |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {a:.2f} | {1e3 * b:.1f} | {c} |" for a, b, c in front_t]
    lines += ["", "| efficiency floor | mass (g) | feasible |", "| --- | --- | --- |"]
    lines += [f"| {a:.3f} | {1e3 * b:.1f} | {c} |" for a, b, c in front_e]
    lines += [
        "",
        "![pareto](pareto.png) ![envelope](envelope.png)",
        "![thermal](thermal.png) ![mass](mass_breakdown.png) ![efficiency](efficiency.png)",
        "",
    ]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path
