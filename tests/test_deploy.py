"""The 50 Hz CAN deployment loop against the simulated CyberDog 2 on python-can's virtual bus."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import can
import numpy as np
import pytest

from irondog.agents import export
from irondog.agents.deploy import DeployConfig, DeployLoop, SimulatedCanRobot
from irondog.agents.onnx_runner import OnnxPolicy
from irondog.motors import can_protocol as cp

_channels = itertools.count()


def _channel() -> str:
    return f"irondog-test-{os.getpid()}-{next(_channels)}"


@pytest.fixture(scope="module")
def stand_policy(tmp_path_factory):
    """A policy whose action is 0 (hold the default pose) with a live hidden network."""
    rng = np.random.default_rng(0)
    sizes = [48, 32, 32, 12]
    layers = [
        (rng.normal(0, 0.1, (a, b)).astype(np.float32), np.zeros(b, np.float32))
        for a, b in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    layers[-1] = (np.zeros_like(layers[-1][0]), layers[-1][1])
    model = export.build_actor_model(
        layers, "elu", np.zeros(48), np.ones(48), 5.0, export.policy_metadata()
    )
    path = export.save(model, tmp_path_factory.mktemp("deploy") / "stand.onnx")
    return OnnxPolicy(path)


def _run(policy, duration, on_tick=None, imu=None, sim_kwargs=None, **cfg):
    channel = _channel()
    with SimulatedCanRobot(channel, **(sim_kwargs or {})) as sim:
        bus = can.Bus(interface="virtual", channel=channel)
        try:
            loop = DeployLoop(
                policy, bus, imu or sim.imu, DeployConfig(stand_time=0.3, reply_wait=0.01, **cfg)
            )
            report = loop.run(
                duration, on_tick=(lambda k: on_tick(k, sim, loop)) if on_tick else None
            )
        finally:
            bus.shutdown()
    return report, sim, loop


def test_stands_on_the_simulated_robot(stand_policy) -> None:
    heights = []
    report, sim, loop = _run(
        stand_policy, 1.5, on_tick=lambda k, s, l: heights.append(s.trunk_height())
    )
    assert report["watchdog"] is None and not report["interrupted"]
    assert report["ticks"] == 75 and report["policy_steps"] == 75 - 15
    # A loaded test machine may delay a few of the simulated robot's replies past the window.
    assert report["feedback"] >= 12 * 75 and report["missed_replies"] <= 0.05 * 12 * 75
    assert report["bad_frames"] == 0 and report["unexpected_frames"] == 0
    assert sim.physics_steps > 300  # paced to the wall clock: about 375 in 1.5 s
    assert min(heights) > 0.2  # it stood on its legs throughout
    np.testing.assert_allclose(loop.q, loop.default_pose, atol=0.1)
    assert not sim.enabled.any()  # stop frames at the end


def test_watchdog_trips_to_damping_on_feedback_timeout(stand_policy) -> None:
    def go_silent(k, sim, loop):
        if k == 30:
            sim.silent = True

    report, sim, loop = _run(stand_policy, 1.0, on_tick=go_silent)
    assert report["watchdog"].startswith("feedback timeout")
    assert report["missed_replies"] > 0
    held = [cp.decode_control(m) for m in loop.held]
    assert all(c.kp == 0.0 and c.kd > 0.0 and abs(c.torque) < 1e-3 for c in held)
    assert (sim.kp == 0.0).all() and (sim.kd > 0).all()  # the motors got the damping frames


def test_watchdog_trips_when_a_motor_leaves_run_mode(stand_policy) -> None:
    def brown_out(k, sim, loop):
        if k == 25:
            sim.enabled[4] = False  # motor id 5 resets: it answers in reset mode

    report, _, _ = _run(stand_policy, 0.8, on_tick=brown_out)
    assert report["watchdog"] == "motor ids [5] left run mode"


def test_watchdog_trips_on_nan(stand_policy) -> None:
    calls = itertools.count()

    def broken_imu():
        n = next(calls)
        nan = np.nan if n > 10 else 0.0
        return {
            "local_linvel": np.zeros(3),
            "gyro": np.full(3, nan),
            "gravity": np.array([0, 0, -1.0]),
        }

    report, _, loop = _run(stand_policy, 1.0, imu=broken_imu)
    assert report["watchdog"] == "NaN or infinity in the observation"
    assert all(cp.decode_control(m).kp == 0.0 for m in loop.held)


def test_malformed_and_foreign_frames_are_counted_not_fatal(stand_policy) -> None:
    junk = [
        can.Message(arbitration_id=0x123, is_extended_id=False, data=bytes(8)),  # 11-bit
        can.Message(arbitration_id=(2 << 24) | (3 << 22) | (5 << 8) | 0xFD,
                    is_extended_id=True, data=bytes(8)),  # undefined mode
        can.Message(arbitration_id=(2 << 24) | (2 << 22) | (5 << 8) | 0xFD,
                    is_extended_id=True, data=bytes(3)),  # short
        cp.encode_feedback(77, 0xFD, 0.0, 0.0, 0.0, 30.0),  # a motor that is not ours
        cp.encode_get_id_reply(3, 42),  # not feedback
    ]  # fmt: skip
    channel = _channel()
    with SimulatedCanRobot(channel) as sim:
        bus = can.Bus(interface="virtual", channel=channel)
        spam = can.Bus(interface="virtual", channel=channel)

        def inject_on(k):
            if 20 <= k < 25:
                for msg in junk:
                    spam.send(msg)

        loop = DeployLoop(stand_policy, bus, sim.imu, DeployConfig(stand_time=0.3))
        report = loop.run(1.0, on_tick=inject_on)
        bus.shutdown()
        spam.shutdown()
    assert report["watchdog"] is None
    assert report["bad_frames"] == 5 * 3  # standard id, undefined mode, short frame
    assert report["unexpected_frames"] >= 5 * 2  # foreign motor, get-id reply
    assert sim.bad_frames == 5  # the motors saw the 11-bit frames too (type 2 they ignore)


def test_ctrl_c_stops_the_motors(stand_policy) -> None:
    def interrupt(k, sim, loop):
        if k == 20:
            raise KeyboardInterrupt

    report, sim, _ = _run(stand_policy, 5.0, on_tick=interrupt)
    assert report["interrupted"] and report["ticks"] == 21
    assert not sim.enabled.any()


def test_no_motors_is_a_clear_error(stand_policy) -> None:
    bus = can.Bus(interface="virtual", channel=_channel())
    try:
        loop = DeployLoop(stand_policy, bus, lambda: {}, DeployConfig(enable_timeout=0.05))
        with pytest.raises(RuntimeError, match=r"no feedback from motor ids \[1, 2, 3"):
            loop.run(0.1)
    finally:
        bus.shutdown()


def test_safety_clamps(stand_policy) -> None:
    bus = can.Bus(interface="virtual", channel=_channel())
    try:
        loop = DeployLoop(stand_policy, bus, lambda: {})
        loop.q = loop.default_pose.copy()
        far = loop.default_pose + 10.0  # beyond every joint limit
        safe = loop.safe_targets(far)
        assert (safe <= loop.limits[:, 1] + 1e-12).all()
        assert (np.abs(loop.kp * (safe - loop.q)) <= loop.torque_limit + 1e-9).all()
    finally:
        bus.shutdown()
    with pytest.raises(ValueError, match="damping_kd"):
        DeployConfig(damping_kd=0.0)
    with pytest.raises(ValueError, match="repeat"):
        DeployConfig(motor_ids=(1, 1, 2))


def test_cli_deploy_simulated(stand_policy, capsys) -> None:
    from irondog.cli import main

    args = ["deploy", str(stand_policy.path), "--can-interface", "virtual", "--channel",
            _channel(), "--simulate", "--duration", "0.6", "--stand-time", "0.2",
            "--json"]  # fmt: skip
    assert main(args) == 0
    assert '"watchdog": null' in capsys.readouterr().out
    bad = ["deploy", str(stand_policy.path), "--can-interface", "virtual", "--channel", "x",
           "--imu", "sim"]  # fmt: skip
    assert main(bad) == 2
    assert "--imu sim needs --simulate" in capsys.readouterr().err


def test_scripted_trot_walks_over_can(tmp_path) -> None:
    """End to end: a walking gait through the CAN frames, the loop and the simulated motors.

    The policy is the hand-written open-loop trot (export.scripted_trot), not a trained one.
    """
    from irondog.agents.onnx_runner import gait_command

    policy = OnnxPolicy(export.scripted_trot(tmp_path / "trot.onnx"))
    gait = tuple(gait_command(policy.metadata, "trot"))
    heights, where = [], {}

    def track(k, sim, loop):
        if k == 0:
            where["start"] = sim.trunk_position()
        heights.append(sim.trunk_height())
        where["end"] = sim.trunk_position()

    report, _, loop = _run(policy, 4.3, on_tick=track, gait=gait)
    assert report["watchdog"] is None
    # The gait clock advanced 2 Hz x 0.02 s per policy step, as in training.
    assert loop.phase == pytest.approx((report["policy_steps"] * 2.0 * 0.02) % 1.0)
    assert min(heights) > 0.15  # upright throughout
    walked = where["end"] - where["start"]
    assert walked[0] > 0.4  # about 0.2 m/s forward for 4 s
    assert abs(walked[1]) < 0.5 * walked[0]


TRAINED = Path(__file__).resolve().parent.parent / "examples/trot_cpu/checkpoint_00000351.msgpack"


@pytest.fixture(scope="module")
def trained_policy(tmp_path_factory) -> OnnxPolicy:
    """The shipped trained trot exported to ONNX (or IRONDOG_WALKING_POLICY=policy.onnx)."""
    path = os.environ.get("IRONDOG_WALKING_POLICY")
    if not path:
        pytest.importorskip("jax")
        path = tmp_path_factory.mktemp("trained") / "trot.onnx"
        export.export_checkpoint(TRAINED, path)
    return OnnxPolicy(path)


def test_trained_policy_walks_over_can(trained_policy) -> None:
    """End to end with the trained trot (examples/trot_cpu): 4 s at 0.5 m/s over CAN frames."""
    channel = _channel()
    with SimulatedCanRobot(channel) as sim:
        bus = can.Bus(interface="virtual", channel=channel)
        try:
            start = sim.trunk_position()
            config = DeployConfig(command=(0.5, 0.0, 0.0), stand_time=1.0)
            heights = []
            report = DeployLoop(trained_policy, bus, sim.imu, config).run(
                5.0, on_tick=lambda k: heights.append(sim.trunk_height())
            )
            end = sim.trunk_position()
        finally:
            bus.shutdown()
    assert report["watchdog"] is None
    # The loop and the simulated motors share two cores with whatever else runs: a tick whose
    # replies come late counts all 12 as missed. Allow 5% of the 12 x 250 replies, as the
    # stand test does; the walking checks below are what this test is about.
    assert report["missed_replies"] <= 0.05 * 12 * 250, report
    assert report["policy_steps"] >= 190  # 4 s of walking after the 1 s stand
    assert min(heights) > 0.12  # never fell (EnvConfig.fall_height)
    walked = end[:2] - start[:2]
    assert walked[0] > 1.2  # 4 s at 0.5 m/s is 2 m; 0.3 m/s at least
    assert abs(walked[1]) < 0.25 * walked[0]


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_cli_signal_stops_the_motors(stand_policy, signum) -> None:
    cmd = [sys.executable, "-m", "irondog.cli", "deploy", str(stand_policy.path),
           "--can-interface", "virtual", "--channel", "sig", "--simulate", "--json"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(6.0)  # start-up, enable, stand
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=20)
    report = json.loads(out)
    assert report["interrupted"] and report["ticks"] > 10, err
