"""Understand spoken commands offline: audio -> speech recognition -> command -> joystick plan.

Examples:
  irondog voice --audio cmd.wav                 # prints the parsed command
  irondog voice --audio a.wav b.flac --json     # one JSON object per file, one per line
  irondog voice --stream long.wav --json        # end-points a wav stream ('-' for raw stdin)
  irondog voice --audio cmd.wav asr.engine=pocketsphinx lm.parser=rules
  irondog voice --audio cmd.wav --checkpoint examples/joystick_cpu --render dog.mp4
"""

from __future__ import annotations

import argparse
import json
import sys


def _is_override(word: str) -> bool:
    """A dotted KEY=VALUE override (an existing file of that name stays a file)."""
    from pathlib import Path

    key = word.split("=", 1)[0]
    return (
        "=" in word and key.replace(".", "").replace("_", "").isalnum() and not Path(word).exists()
    )


def register(parser: argparse.ArgumentParser) -> None:
    """Add the voice command's arguments."""
    from irondog.progress import add_quiet_argument

    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--audio", nargs="+", metavar="FILE", help="wav, flac or raw (16 kHz s16le)")
    src.add_argument("--stream", metavar="FILE", help="a wav/flac stream, or '-' for raw stdin")
    parser.add_argument("--json", action="store_true", help="one JSON object per input")
    parser.add_argument("--config", metavar="YAML", help="e.g. configs/voice/default.yaml")
    parser.add_argument("--checkpoint", metavar="PATH", help="trained policy to carry it out")
    parser.add_argument(
        "--render", metavar="MP4", help="video (.mp4 or .gif) of the simulated dog carrying it out"
    )
    parser.add_argument(
        "overrides", nargs="*", metavar="KEY=VALUE", help="dotted overrides, e.g. lm.parser=llm"
    )
    add_quiet_argument(parser)


def _print(result_dict: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result_dict, sort_keys=True), flush=True)
        return
    where = result_dict.get("file") or result_dict.get("at")
    if result_dict["accepted"]:
        line = f"{where}: {result_dict['text']}  (confidence {result_dict['confidence']:.2f})"
    else:
        why = result_dict["reason"]
        if result_dict.get("detail"):
            why += f": {result_dict['detail']}"
        line = f"{where}: {result_dict['message']} ({why})"
    slowed = result_dict.get("stretch", 1.0)
    view = f", stretched {slowed:g}x" if result_dict["accepted"] and slowed != 1.0 else ""
    print(line + f'  [heard{view}: "{result_dict["transcript"]}"]', flush=True)


def run(args: argparse.Namespace) -> int:
    """Run the voice pipeline on files or a stream."""
    from irondog.cli import UserError
    from irondog.config import load
    from irondog.progress import from_args
    from irondog.voice.audio import AudioError
    from irondog.voice.config import VoiceConfig
    from irondog.voice.pipeline import VoicePipeline, file_chunks

    if args.checkpoint or args.render:
        if not (args.checkpoint and args.render):
            raise UserError("--checkpoint and --render go together: a policy and a video path")
        if args.stream or len(args.audio) != 1:
            raise UserError("--render takes exactly one --audio file")
        from pathlib import Path

        from irondog.outputs import check_output_file

        check_output_file(args.render, (".mp4", ".gif"), "--render")  # before the long work
        if not Path(args.checkpoint).exists():
            raise UserError(f"--checkpoint {args.checkpoint} does not exist")
        if not Path(args.audio[0]).is_file():
            raise UserError(f"--audio {args.audio[0]} does not exist")
    # `--audio` takes every following word, so `--audio cmd.wav lm.parser=rules` lands the
    # override among the files: a KEY=VALUE word there is an override, as the usage says.
    if args.audio:
        overrides = [a for a in args.audio if _is_override(a)]
        args.audio = [a for a in args.audio if not _is_override(a)]
        args.overrides = [*args.overrides, *overrides]
        if not args.audio:
            raise UserError("--audio: no audio file given")
    config = load(VoiceConfig, args.config, args.overrides)
    if args.render:
        from_args(args).say("loading the speech recogniser and the parser")
    try:
        pipeline = VoicePipeline(config)
    except (ValueError, ImportError) as err:  # a file that cannot be used, a missing extra
        raise UserError(str(err)) from None
    if args.render:
        return _carry_out(pipeline, args)
    failures = 0
    if args.stream:
        for start_s, result in pipeline.stream(file_chunks(args.stream, config.stream.chunk_s)):
            _print({"at": f"{start_s:.2f}s", **result.to_dict()}, args.json)
        return 0
    for path in args.audio:
        try:
            result = pipeline.understand_file(path)
        except (AudioError, FileNotFoundError) as err:
            failures += 1
            if args.json:
                print(json.dumps({"file": path, "error": str(err)}, sort_keys=True), flush=True)
            print(f"irondog voice: error: {err}", file=sys.stderr)
            continue
        _print(result.to_dict(path), args.json)
    return 2 if failures else 0


def _carry_out(pipeline, args: argparse.Namespace) -> int:
    """Understand one file, then render the policy following the command's joystick plan."""
    from irondog.agents.checkpoint import CheckpointError
    from irondog.agents.policy import load_policy
    from irondog.cli import UserError
    from irondog.progress import from_args
    from irondog.voice.audio import AudioError
    from irondog.voice.locomotion import render_plan

    progress = from_args(args)
    progress.say(f"understanding {args.audio[0]}")
    try:
        result = pipeline.understand_file(args.audio[0])
    except AudioError as err:
        raise UserError(str(err)) from None
    _print(result.to_dict(args.audio[0]), args.json)
    if not result.accepted:
        return 1
    try:
        act, env_config = load_policy(args.checkpoint)
    except CheckpointError as err:
        raise UserError(str(err)) from None
    progress.say(f"carrying it out with {args.checkpoint}")
    video = render_plan(result, act, env_config, args.render, pipeline.state.gait, progress)
    print(f"wrote {video.path}: {video.frames} frames", file=sys.stderr)
    return 0
