"""The motor optimiser: constraints, infeasibility reports, motor YAMLs, co-design loop, CLI."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from irondog.cli import main
from irondog.config import ConfigError
from irondog.motors import design as md
from irondog.motors import duty as du
from irondog.motors import optimize as mo
from irondog.motors import scaling as sc
from irondog.motors.cybergear import RPM, CyberGearParams

FAST = dataclasses.replace(mo.OptimizeConfig(), max_evals=900, restarts=0, popsize=12)


def trot_like_duty(peak: float = 7.0, rms_scale: float = 1.0, steps: int = 500) -> du.Duty:
    """A synthetic duty: stance-like torque pulses and swing-like speeds on every joint."""
    t = np.arange(steps) * 0.01
    phase = 2 * np.pi * t / 0.5
    tau = peak * np.maximum(np.sin(phase), 0.0) ** 2 * rms_scale
    vel = 6.0 * np.cos(phase)
    return du.Duty(np.tile(tau[:, None], 12), np.tile(vel[:, None], 12), 0.01)


def test_cybergear_meets_a_light_duty_and_constraints_are_reported():
    duty = trot_like_duty()
    req = mo.requirements_from_duty(duty, FAST)
    assert req.peak_torque == pytest.approx(7.0, rel=1e-2)
    assert req.peak_speed == pytest.approx(6.0, rel=1e-2)
    a = mo.assess(md.evaluate(md.CYBERGEAR), req, FAST)
    assert a.feasible, a.explain()
    assert set(a.constraints) >= {
        "peak_torque",
        "no_load_speed",
        "duty_envelope",
        "winding_temp",
        "outer_diameter",
        "length",
    }
    have, need, _ = a.constraints["peak_torque"]
    assert need == pytest.approx(req.peak_torque * FAST.torque_margin, rel=1e-9)
    assert 25.0 < a.mission_winding_temp < 110.0
    assert 0.0 < a.duty_efficiency < 1.0


def test_thermal_constraint_bites_on_a_hot_duty():
    hot = mo.requirements_from_duty(trot_like_duty(peak=10.0, rms_scale=1.0), FAST)
    cool = mo.requirements_from_duty(trot_like_duty(peak=10.0, rms_scale=0.5), FAST)
    perf = md.evaluate(md.CYBERGEAR)
    assert (
        mo.assess(perf, hot, FAST).mission_winding_temp
        > mo.assess(perf, cool, FAST).mission_winding_temp
    )


def test_optimiser_finds_a_lighter_feasible_design_quickly():
    req = mo.requirements_from_duty(trot_like_duty(), FAST)
    res = mo.optimize(req, FAST)
    assert res.feasible, res.report()
    assert res.perf.mass < 0.9 * md.evaluate(md.CYBERGEAR).mass
    assert res.evaluations <= FAST.max_evals + FAST.popsize
    assert "feasible" in res.report()
    assert res.assessment.binding()  # a least-mass design sits on some constraint


def test_infeasible_problem_names_the_binding_constraints():
    req = mo.requirements_from_spec(60.0, 40.0, 4.0, label="impossible")
    res = mo.optimize(req, FAST, max_evals=300)
    assert not res.feasible
    text = res.report()
    assert "INFEASIBLE" in text
    assert "peak_torque: needs 72 N m" in text  # 60 N m times the 1.2 margin


def test_first_draft_follows_its_rules_and_meets_the_spec():
    rules = sc.DraftRules()
    draft = sc.first_draft(4.0, 296 * RPM, rules)
    perf = md.evaluate(draft)
    assert draft.stack_length == pytest.approx(rules.aspect * draft.airgap_diameter)
    assert perf.no_load_speed == pytest.approx(rules.speed_headroom * 296 * RPM, rel=1e-3)
    assert perf.peak_torque >= 12.0
    assert perf.rated_torque >= 4.0
    # sized for the spec it is asked for, not twice it (the CyberGear's current density)
    assert perf.rated_torque < 1.1 * 4.0
    assert md.loadings(perf)["continuous_current_density"] == pytest.approx(17.4e6, rel=0.05)
    assert rules.housing_thickness == md.CYBERGEAR.housing_thickness
    with pytest.raises(ConfigError, match="continuous_torque"):
        sc.first_draft(-1.0, 30.0)


def test_motor_yaml_round_trip_and_strict_loading(tmp_path):
    design = md.CYBERGEAR.replace(gear_ratio=9.0)
    path = mo.save_motor(tmp_path / "m.yaml", "test", design)
    loaded, params = mo.load_motor(path)
    assert loaded == design
    assert isinstance(params, CyberGearParams)
    assert params.gear_ratio == 9.0
    model, params2 = mo.motor_model(path)
    assert params2 == params
    np.testing.assert_allclose(model.dof_armature[6:], params.armature)
    bad = tmp_path / "bad.yaml"
    bad.write_text(path.read_text().replace("slot_fill: 0.55", "slot_fill: 1.5"))
    with pytest.raises(ConfigError, match="slot_fill.*bad.yaml"):
        mo.load_motor(bad)
    bad.write_text("design:\n  stack_lenght: 0.01\n")
    with pytest.raises(ConfigError, match="stack_lenght"):
        mo.load_motor(bad)


def test_config_errors_name_the_field():
    with pytest.raises(ConfigError, match="torque_margin"):
        mo.OptimizeConfig(torque_margin=0.5)
    with pytest.raises(ConfigError, match="gear_ratio"):
        mo.OptimizeConfig(gear_ratio=(11.0, 4.0))
    with pytest.raises(ConfigError, match="slot_fill"):
        mo.OptimizeConfig(slot_fill=(0.3, 1.2))


def test_codesign_loop_stops_when_stable():
    duty = trot_like_duty()
    calls = []

    def simulate(params: CyberGearParams) -> du.Duty:
        calls.append(params.mass)
        return duty  # this robot's duty does not depend on the motor

    steps = mo.codesign(duty, FAST, simulate, max_iterations=4, log=lambda _: None)
    assert 2 <= len(steps) <= 4
    assert steps[-1].recheck is not None and steps[-1].recheck.feasible
    assert len(calls) == len(steps)
    assert abs(steps[-1].result.perf.mass - steps[-2].result.perf.mass) < 0.002


def test_cli_optimize_and_errors(tmp_path, capsys):
    npz = du.save_duty(tmp_path / "duty.npz", trot_like_duty())
    out = tmp_path / "motor.yaml"
    rc = main(
        [
            "motor",
            "optimize",
            "--duty",
            str(npz),
            "--out",
            str(out),
            "--set",
            "max_evals=400",
            "restarts=0",
        ]
    )
    assert rc == 0, capsys.readouterr()
    assert mo.load_motor(out)[1].mass < 0.317
    assert main(["motor", "optimize", "--duty", str(tmp_path / "nope.npz"), "--out", str(out)]) == 2
    assert "nope.npz" in capsys.readouterr().err
    assert (
        main(
            [
                "motor",
                "optimize",
                "--duty",
                str(npz),
                "--out",
                str(out),
                "--set",
                "torque_margin=0.1",
            ]
        )
        == 2
    )
    assert "torque_margin" in capsys.readouterr().err
    assert main(["motor", "datasheet"]) == 0
    assert "mass_g" in capsys.readouterr().out


@pytest.mark.slow
def test_codesign_on_the_scripted_trot_gives_a_lighter_motor_that_meets_its_duty():
    config = dataclasses.replace(mo.OptimizeConfig(), max_evals=3000, restarts=1)

    def simulate(params: CyberGearParams) -> du.Duty:
        return du.scripted_trot(params, du.apply_motor(params)).duty

    steps = mo.codesign(du.scripted_trot().duty, config, simulate, log=lambda _: None)
    final = steps[-1]
    assert final.recheck is not None and final.recheck.feasible, final.recheck.explain()
    assert final.result.perf.mass <= 0.9 * 0.317


@pytest.mark.slow
def test_cli_report_writes_plots_and_tables(tmp_path):
    rc = main(
        [
            "motor",
            "report",
            "--out",
            str(tmp_path),
            "--motor",
            "configs/motor/trot_optimized.yaml",
            "--pareto-points",
            "2",
            "--set",
            "max_evals=200",
            "restarts=0",
        ]
    )
    assert rc == 0
    for name in (
        "pareto.png",
        "envelope.png",
        "thermal.png",
        "mass_breakdown.png",
        "efficiency.png",
    ):
        assert (tmp_path / name).stat().st_size > 1000
    text = (tmp_path / "report.md").read_text()
    assert "| total |" in text and "Pareto" in text


def _euler_winding(perf, losses, seconds, dt=0.01):
    """Reference for the ordered-mission winding: explicit Euler on the two-node model, the
    loss growing with the winding as P0 (1 + alpha (Tw - T0)); (J,) hottest winding C."""
    from irondog.motors.cybergear import COPPER_ALPHA

    c = perf.constants
    tw = np.full(losses.shape[1], c.ambient_temp)
    th = tw.copy()
    hottest = tw.copy()
    for p0, s in zip(losses, seconds, strict=True):
        for _ in range(round(s / dt)):
            p = p0 * (1 + COPPER_ALPHA * (tw - c.reference_temp))
            flow_wh = (tw - th) / perf.winding_to_housing
            flow_ha = (th - c.ambient_temp) / perf.housing_to_ambient
            tw = tw + dt * (p - flow_wh) / perf.winding_capacity
            th = th + dt * (flow_wh - flow_ha) / perf.housing_capacity
            hottest = np.maximum(hottest, tw)
    return hottest


def test_winding_peak_over_segments_matches_the_stepped_thermal_model():
    perf = md.evaluate(md.CYBERGEAR)
    # One segment: the closed form equals winding_temp_after (the modal solution).
    for p in (5.0, 20.0, 60.0):  # 60 W is past runaway: finite, growing
        hottest, k = md.winding_peak_over_segments(perf, [[p]], [300.0])
        assert k == 0 and hottest == pytest.approx(float(md.winding_temp_after(perf, p, 300.0)))
    # Hot minute then a cool ten: the hottest is the end of the hot minute, not the end.
    hottest, k = md.winding_peak_over_segments(perf, [[60.0], [2.0]], [60.0, 600.0])
    assert k == 0
    assert hottest == pytest.approx(float(md.winding_temp_after(perf, 60.0, 60.0)))
    # Random ordered missions, 4 joints: against Euler steps of 10 ms.
    rng = np.random.default_rng(5)
    losses = rng.uniform(0.0, 40.0, (6, 4))
    seconds = rng.uniform(5.0, 200.0, 6)
    ref = _euler_winding(perf, losses, seconds)
    hottest, _ = md.winding_peak_over_segments(perf, losses, seconds)
    assert hottest == pytest.approx(float(ref.max()), abs=0.05)
    with pytest.raises(ValueError, match="segment_seconds"):
        md.winding_peak_over_segments(perf, losses, seconds[:3])


def test_mission_peak_winding_constraint_hand_computed():
    # Two segments, every joint at a constant torque in each: 6 N m for 60 s, 1 N m for 600 s.
    perf = md.evaluate(md.CYBERGEAR)
    tau = np.concatenate([np.full((30, 12), 6.0), np.full((300, 12), 1.0)])
    duty = du.Duty(tau, np.zeros((330, 12)), 2.0)  # 2 s a row: 60 s and 600 s
    cfg = dataclasses.replace(FAST, peak_winding_limit=60.0)
    req = mo.requirements_from_mission(duty, cfg, samples=10**6, segment_minutes=(1.0, 10.0))
    assert req.segment_seconds.tolist() == [60.0, 600.0]
    assert req.segment_index.tolist() == [0] * 30 + [1] * 300
    # By hand: the loss at 6 N m (no speed, so no drag) is 1.5 R i^2 with i from the torque;
    # the hottest winding is the hot minute's end (the next 1 N m segment is cooler).
    i_hot = float(md.current_from_torque(perf, 6.0))
    p_hot = 1.5 * perf.phase_resistance * i_hot**2
    expect = float(md.winding_temp_after(perf, p_hot, 60.0))
    have, need, viol = mo.assess(perf, req, cfg).constraints["mission_peak_winding"]
    assert have == pytest.approx(expect, rel=1e-9) and need == 60.0
    assert viol == pytest.approx((expect - 25.0) / (60.0 - 25.0) - 1, rel=1e-9)
    # The order matters: the same loss over 30 min (the mean) is a different, cooler figure.
    assert mo.assess(perf, req, cfg).mission_winding_temp < expect
    # Not constrained at 0, nor without segments.
    assert "mission_peak_winding" not in mo.assess(perf, req, FAST).constraints
    plain = mo.requirements_from_duty(duty, cfg)
    assert "mission_peak_winding" not in mo.assess(perf, plain, cfg).constraints
    with pytest.raises(ValueError, match="segment_minutes"):
        mo.requirements_from_mission(duty, cfg, segment_minutes=(1.0, 5.0))
    with pytest.raises(ConfigError, match="peak_winding_limit"):
        dataclasses.replace(FAST, peak_winding_limit=20.0)
