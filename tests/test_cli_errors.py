"""Every command checks its outputs and inputs before any work: one-line errors, nothing lost."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from irondog import cli, outputs


def _error_line(capsys) -> str:
    """The command's stderr, which must be one line."""
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


@pytest.fixture()
def blocked(tmp_path: Path) -> Path:
    """A path whose parent is a file, so nothing can be written under it (even as root)."""
    blocker = tmp_path / "blocker"
    blocker.write_text("finished work\n")
    return blocker


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["export", "--scripted-trot", "--out", "{b}/policy.onnx"], "--out"),
        (["train", "--config", "configs/train/smoke.yaml", "train.log_dir={b}/run"],
         "train.log_dir"),
        (["average", "{t}/a", "{t}/b", "--out", "{b}/soup"], "--out"),
        (["motor", "trot", "--out", "{b}/duty.npz"], "--out"),
        (["motor", "optimize", "--scripted", "--out", "{b}/m.yaml"], "--out"),
        (["motor", "report", "--out", "{b}/report"], "--out"),
        (["eval", "--policy", "zero", "--json", "{b}/m.json"], "--json"),
        (["report", "--policy", "zero", "--out", "{b}/report"], "--out"),
    ],
)  # fmt: skip
def test_unwritable_output_fails_first_in_one_line(argv, flag, blocked, tmp_path, capsys) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    argv = [a.format(b=blocked, t=tmp_path) for a in argv]
    assert cli.main(argv) == 2
    err = _error_line(capsys)
    assert flag in err and str(blocked) in err and "choose another output path" in err
    assert blocked.read_text() == "finished work\n"  # nothing written before is lost


def test_voice_render_checks_its_video_path_and_inputs(blocked, tmp_path, capsys) -> None:
    argv = ["voice", "--audio", "x.wav", "--checkpoint", "examples/trot_cpu"]
    assert cli.main([*argv, "--render", str(blocked / "dog.mp4")]) == 2
    assert "--render" in _error_line(capsys)
    assert cli.main([*argv, "--render", str(tmp_path / "dog.avi")]) == 2
    assert "use one of the suffixes .mp4, .gif" in _error_line(capsys)
    assert cli.main([*argv, "--render", str(tmp_path / "dog.mp4")]) == 2
    assert "--audio x.wav does not exist" in _error_line(capsys)


def test_missing_inputs_are_named(tmp_path, capsys) -> None:
    missing = str(tmp_path / "missing")
    for argv, expected in (
        (["export", "--checkpoint", missing, "--out", str(tmp_path / "p.onnx")], "--checkpoint"),
        (["export", "--sb3", missing, "--out", str(tmp_path / "p.onnx")], "--sb3"),
        (["average", missing, missing, "--out", str(tmp_path / "soup")], "checkpoint"),
        (["motor", "optimize", "--duty", missing, "--out", str(tmp_path / "m.yaml")], "--duty"),
        (["motor", "trot", "--motor", missing, "--out", str(tmp_path / "d.npz")], "--motor"),
    ):
        assert cli.main(argv) == 2, argv
        err = _error_line(capsys)
        assert expected in err and "does not exist" in err, err
    assert not (tmp_path / "p.onnx").exists() and not (tmp_path / "soup").exists()


def test_wrong_output_suffix_is_refused(tmp_path, capsys) -> None:
    assert cli.main(["export", "--scripted-trot", "--out", str(tmp_path / "p.onx")]) == 2
    assert "use one of the suffixes .onnx" in _error_line(capsys)
    assert cli.main(["motor", "trot", "--out", str(tmp_path / "duty.csv")]) == 2
    assert "--out" in _error_line(capsys)


def test_output_folder_that_is_a_file(blocked) -> None:
    with pytest.raises(outputs.OutputError, match="cannot write to .* is a file, not a folder"):
        outputs.check_output_dir(blocked, "--out")
    with pytest.raises(outputs.OutputError, match="exists; choose another path"):
        outputs.check_output_file(blocked, overwrite=False)


def test_a_failed_write_goes_to_a_reported_fallback(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "gone" / "motor.yaml"

    def write(path: Path) -> None:
        path.write_text("design: 1\n")  # the folder "gone" does not exist: OSError

    written = outputs.write_or_fallback(target, write)
    assert written.parent == tmp_path and written.name.startswith("motor.unsaved-")
    assert written.suffix == ".yaml" and written.read_text() == "design: 1\n"
    err = capsys.readouterr().err
    assert str(target) in err and str(written) in err


def _policy_with_output_size(path: Path, template: Path, outputs_per_row: int) -> Path:
    """An ONNX graph obs (N, obs) -> action (N, outputs_per_row) carrying ``template``'s
    irondog metadata (which says action_size 12)."""
    from irondog.agents.export import read_metadata

    obs = read_metadata(template)["observation_size"]
    weight = numpy_helper.from_array(np.zeros((obs, outputs_per_row), np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["obs", "w"], ["action"])],
        "wrong_output",
        [helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["batch", obs])],
        [helper.make_tensor_value_info("action", TensorProto.FLOAT, ["batch", outputs_per_row])],
        [weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.metadata_props.extend(onnx.load(str(template)).metadata_props)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def scripted_policy(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("onnx") / "trot.onnx"
    assert cli.main(["export", "--scripted-trot", "--out", str(path)]) == 0
    return path


def test_onnx_output_shape_is_checked_against_the_metadata(scripted_policy, tmp_path, capsys):
    from irondog.agents.export import MetadataError
    from irondog.agents.onnx_runner import OnnxPolicy

    capsys.readouterr()
    bad = _policy_with_output_size(tmp_path / "bad.onnx", scripted_policy, 11)
    with pytest.raises(MetadataError, match=r"output 'action' has shape .*action_size"):
        OnnxPolicy(bad)
    assert OnnxPolicy(_policy_with_output_size(tmp_path / "ok.onnx", scripted_policy, 12))
    assert cli.main(["play-onnx", str(bad), "--duration", "1"]) == 2
    assert "re-export the policy" in _error_line(capsys)
    deploy = ["deploy", str(bad), "--can-interface", "virtual", "--channel", "x", "--simulate"]
    assert cli.main(deploy) == 2
    assert "action_size" in _error_line(capsys)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (97, "sudo modprobe can can_raw"),
        (19, "no such device; plug in the adapter"),
        (100, "sudo ip link set can0 up type can bitrate 1000000"),
        (1, "permission denied"),
        (13, "permission denied"),
    ],
)
def test_can_bus_errors_are_one_line_with_the_fix(code, expected, scripted_policy, monkeypatch,
                                                  capsys) -> None:  # fmt: skip
    import os

    import can

    def refuse(**kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(can, "Bus", refuse)
    argv = ["deploy", str(scripted_policy), "--channel", "can0", "--imu", "none"]
    capsys.readouterr()
    assert cli.main(argv) == 2
    err = _error_line(capsys)
    assert "CAN socketcan channel can0" in err and expected in err


def test_no_can_device_here_is_one_line(scripted_policy, capsys) -> None:
    """The real python-can on this machine: no SocketCAN or no can0, either way one line."""
    capsys.readouterr()
    argv = ["deploy", str(scripted_policy), "--channel", "irondog-none0", "--imu", "none"]
    assert cli.main(argv) == 2
    assert "CAN socketcan channel irondog-none0" in _error_line(capsys)
    argv = ["deploy", str(scripted_policy), "--can-interface", "nosuch", "--channel", "x",
            "--imu", "none"]  # fmt: skip
    assert cli.main(argv) == 2
    assert "check --can-interface" in _error_line(capsys)


def test_a_write_that_fails_midway_keeps_the_previous_file(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "motor.yaml"
    target.write_text("finished: true\n")
    calls = []

    def write(path: Path) -> None:
        calls.append(path)
        path.write_text("half")
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        path.write_text("new: true\n")

    written = outputs.write_or_fallback(target, write)
    assert target.read_text() == "finished: true\n"  # untouched by the failed write
    assert written != target and written.read_text() == "new: true\n"
    assert not list(tmp_path.glob(".motor.tmp-*"))  # no temporary left behind
    assert outputs.write_or_fallback(target, lambda p: p.write_text("v2\n")) == target
    assert target.read_text() == "v2\n"
