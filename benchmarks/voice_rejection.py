"""Speech not meant for the robot, heard through the streaming path, with commands among it:
false accepts, commands found, and Whisper-prompt words in the transcripts of non-commands.

    python benchmarks/voice_rejection.py [--commands 20] [--json out.json]

The stream is non-command sentences (``evalset.CHATTER``, read sentences, digit strings), each
said by an espeak-ng voice, with held-out paraphrases (``voice/heldout.py``) between them,
separated by 1 s pauses. Synthetic speech only: no real long recordings ship in the packages
installed here.
"""

from __future__ import annotations

import argparse
import json
import os
import random

import numpy as np

from irondog.voice import evalset, heldout, tts
from irondog.voice.audio import SAMPLE_RATE
from irondog.voice.pipeline import VoicePipeline

READ = (
    "the committee will meet again on the first tuesday of next month",
    "four seven two nine one eight three",
    "nine one one zero five",
    "in nineteen eighty four the population was just over two million",
    "turn the oven down after forty minutes and leave it to rest",
    "the train to the airport leaves from platform two",
    "after the break we will be back with the weather for the weekend",
    "scientists say the river has been rising for three days",
    "one two three four five six seven eight nine ten",
    "and now the news at six o clock",
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commands", type=int, default=20)
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args()
    rng = random.Random(22)
    items = heldout.read()
    commands = rng.sample(items, args.commands)
    others = list(evalset.CHATTER) + list(READ)
    order = [("other", t, None) for t in others] + [("command", c.spoken, c.command)
                                                     for c in commands]  # fmt: skip
    rng.shuffle(order)
    clips = [tts.speak(text, rng.choice(tts.VOICES), rng.randint(140, 190), 50)
             for _, text, _ in order]  # fmt: skip
    stream, times = evalset.stream_with_pauses(clips)
    pipeline = VoicePipeline()
    chunks = np.array_split(stream, max(1, stream.size // 8000))
    heard = list(pipeline.stream(chunks))
    expected = [(text, command) for _, text, command in order]
    n_other = len(others)
    print(f"stream {stream.size / SAMPLE_RATE:.0f} s; load {os.getloadavg()[0]:.1f}")
    out = {}
    # One run, three readings: the reject gates act after recognition and parsing.
    readings = (
        ("gates_off", evalset.without_gates(heard)),
        ("gates_on_not_grounded", evalset.without_grounding(heard)),
        ("gates_on", heard),
    )
    for label, results in readings:
        judged = evalset.judge_stream(results, times, expected)
        false_accepts, found, leaked = [], 0, []
        for (kind, text, _), item in zip(order, judged, strict=True):
            if kind == "other":
                false_accepts += [(text, r.text) for r in item.accepted]
                leaked += [(text, transcript, extra) for transcript, extra in item.leaked]
            found += item.found
        print(f"== reject gates {'off' if label == 'gates_off' else 'on'} ({label})")
        print(f"false accepts: {len(false_accepts)} of {n_other} non-command utterances")
        print(f"commands understood exactly: {found} of {len(commands)}")
        print(f"non-command transcripts with prompt words not said: {len(leaked)} of {n_other}")
        for text, got in false_accepts:
            print(f"  accepted {text!r} as {got!r}")
        for text, transcript, extra in leaked:
            print(f"  {text!r} heard as {transcript!r} (prompt words {extra})")
        out[label] = {"false_accepts": false_accepts, "found": found, "commands": len(commands),
                      "others": n_other, "leaked": leaked}  # fmt: skip
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
