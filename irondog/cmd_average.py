"""Average the networks of several checkpoints of one policy into a new checkpoint (a "soup").

    irondog average runs/stage8 runs/stage9/checkpoint_00000100.msgpack --out runs/soup
    irondog average A.msgpack B.msgpack C.msgpack --weights 1 1 2 --out runs/soup

The inputs (files, or run folders for their newest checkpoint) must share their networks
and observation sizes (typically a run and the checkpoint it was warm-started from). Actor,
critic, action noise and observation normalisers are averaged; optimiser state and counters
come from the last input, so the result can be evaluated, rendered, exported or
warm-started from like any checkpoint. The output is written atomically into ``--out``
under the last input's file name (``checkpoint_<iteration>.msgpack``), and an existing file
there is never overwritten.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(parser: argparse.ArgumentParser) -> None:
    """Add the average sub-command's arguments."""
    parser.add_argument(
        "checkpoints", nargs="+", help="two or more checkpoint files or run folders"
    )
    parser.add_argument("--out", required=True, help="folder for the averaged checkpoint")
    parser.add_argument(
        "--weights",
        type=float,
        nargs="+",
        help="one positive weight per checkpoint (default equal)",
    )


def run(args: argparse.Namespace) -> int:
    """Average the checkpoints and write the result; 0 on success."""
    from irondog.errors import UserError
    from irondog.outputs import check_output_dir

    for path in args.checkpoints:
        if not Path(path).exists():
            raise UserError(f"checkpoint {path} does not exist")
    check_output_dir(args.out, "--out")  # before loading anything

    from irondog.agents import checkpoint

    try:
        loaded = [checkpoint.load(path) for path in args.checkpoints]
        state = checkpoint.average(loaded, args.weights)
    except checkpoint.CheckpointError as err:
        raise UserError(str(err)) from None
    last = loaded[-1]
    named = checkpoint.PATTERN.match(last.path.name)
    iteration = int(named.group(1)) if named else int(state["iteration"])
    target = Path(args.out) / checkpoint.filename(iteration)
    if target.exists():
        raise UserError(f"{target} exists; choose another --out (nothing was overwritten)")
    path = checkpoint.save(args.out, state, last.config, last.sizes, iteration)
    sources = ", ".join(str(c.path) for c in loaded)
    print(f"wrote {path} (the mean of {len(loaded)} checkpoints: {sources})")
    return 0
