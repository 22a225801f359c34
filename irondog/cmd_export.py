"""Export a trained policy to one ONNX file with self-describing metadata.

    irondog export --checkpoint examples/joystick_cpu --out policy.onnx   # the shipped policy
    irondog export --checkpoint runs/joystick_cpu --out policy.onnx     # the latest in a folder
    irondog export --checkpoint runs/joystick_cpu/checkpoint_00000100.msgpack --out policy.onnx
    irondog export --random --config configs/train/joystick_cpu.yaml --out untrained.onnx
    irondog export --scripted-trot --out trot.onnx   # walks with --gait trot, untrained
    irondog export --sb3 sb3_model.zip --vecnormalize vecnormalize.pkl --out policy.onnx

The graph takes ``obs`` (batch, 48) float32 and gives ``action`` (batch, 12) at ONNX opset 17,
with the observation normaliser folded in; the metadata describes its use.
"""

from __future__ import annotations

import argparse
import json


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``irondog export``."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="checkpoint file, or a run folder (latest taken)")
    source.add_argument(
        "--random", action="store_true", help="an untrained actor (to try the pipeline)"
    )
    source.add_argument(
        "--scripted-trot",
        action="store_true",
        help="a hand-written open-loop trot (gaits task; no training) to try play-onnx/deploy",
    )
    source.add_argument("--sb3", help="a stable-baselines3 PPO/A2C .zip trained on the irondog env")
    parser.add_argument("--vecnormalize", default=None, help="SB3 VecNormalize file (with --sb3)")
    parser.add_argument("--config", default=None, help="run config YAML (--random, --sb3)")
    parser.add_argument("--seed", type=int, default=0, help="initialisation seed (with --random)")
    parser.add_argument("--out", required=True, help="output .onnx path")


def run(args: argparse.Namespace) -> int:
    """Write the ONNX file and print its metadata summary."""
    from pathlib import Path

    from irondog.errors import UserError
    from irondog.outputs import check_output_file

    if args.config and args.checkpoint:
        raise UserError("--config does not go with --checkpoint: it carries its own config")
    if args.vecnormalize and not args.sb3:
        raise UserError("--vecnormalize only goes with --sb3")
    inputs = {"--checkpoint": args.checkpoint, "--sb3": args.sb3,
              "--vecnormalize": args.vecnormalize, "--config": args.config}  # fmt: skip
    for flag, value in inputs.items():
        if value is not None and not Path(value).exists():
            raise UserError(f"{flag} {value} does not exist")
    check_output_file(args.out, (".onnx",), "--out")  # before the imports and the work

    from irondog.agents import export
    from irondog.agents.checkpoint import CheckpointError

    try:
        if args.random:
            from irondog.agents.config import RunConfig
            from irondog.config import load

            path = export.export_random(load(RunConfig, args.config), args.out, args.seed)
        elif args.scripted_trot:
            path = export.scripted_trot(args.out)
        elif args.sb3:
            from irondog.agents.config import RunConfig
            from irondog.config import load

            run_config = load(RunConfig, args.config)
            path = export.export_sb3_file(args.sb3, args.out, args.vecnormalize, run_config)
        else:
            path = export.export_checkpoint(args.checkpoint, args.out)
    except (CheckpointError, ValueError) as err:
        raise UserError(str(err)) from None
    meta = export.read_metadata(path)
    keys = ("robot", "observation_size", "action_size", "control_dt", "kp", "kd", "action_scale")
    summary = {k: meta[k] for k in (*keys, "training_config_hash")}
    print(f"wrote {path} (opset {meta['opset']}, input 'obs', output 'action')")
    print(json.dumps(summary))
    return 0
