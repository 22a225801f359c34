"""Real human speech not meant for the robot, heard through the streaming path, with held-out
commands among it: false accepts, commands found, and Whisper-prompt words in what was heard.

    python benchmarks/voice_real_speech.py --fetch --json out.json

The stream: the 21 recordings of ``voice/realspeech.py`` (read sentences, card names, digit
strings, a talk and a minute of speech from the pocketsphinx and silero-vad source packages on
PyPI; 5 min 16 s; one of them the command "go forward ten meters") and ``--commands``
held-out paraphrases (voice/data/heldout_paraphrases.tsv) read by the held-out festival
voices, in a shuffled order, 1 s of silence between items. Nothing was tuned on any of it.
A false accept is an accepted command whose utterance starts inside a non-command recording.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

import numpy as np

from irondog.voice import evalset, heldout, realspeech
from irondog.voice.audio import SAMPLE_RATE
from irondog.voice.commands import parse_canonical
from irondog.voice.pipeline import VoicePipeline

GO_FORWARD = parse_canonical("move forward 10 m")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fetch", action="store_true", help="download the recordings if missing")
    ap.add_argument("--commands", type=int, default=20, help="held-out commands in the stream")
    ap.add_argument("--cache", default=str(realspeech.CACHE))
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args()
    if args.fetch:
        realspeech.fetch(realspeech.Path(args.cache))
    recordings = realspeech.load(realspeech.Path(args.cache))
    rng = random.Random(evalset.HELDOUT_SEED)
    paraphrases = rng.sample(heldout.read(), args.commands)
    voiced = evalset.heldout_voiced([(p.spoken, p.command) for p in paraphrases])
    order = [("other" if r.kind == "other" else "command", r.name, r.said, r.samples,
              None if r.kind == "other" else GO_FORWARD) for r in recordings]  # fmt: skip
    order += [("command", f"festival {u.voice}", u.text, evalset.speak_cached(u, None), u.command)
              for u in voiced]  # fmt: skip
    rng.shuffle(order)
    stream, times = evalset.stream_with_pauses([samples for _, _, _, samples, _ in order])
    t0 = time.time()
    pipeline = VoicePipeline()
    heard = list(pipeline.stream(np.array_split(stream, max(1, stream.size // 8000))))
    wall = time.time() - t0
    judged = evalset.judge_stream(heard, times, [(said, cmd) for _, _, said, _, cmd in order])
    false_accepts, leaked, per_recording = [], [], {}
    found, heard_other = 0, 0
    for (kind, name, _, _, _), item in zip(order, judged, strict=True):
        if kind == "other":
            heard_other += len(item.inside)
            per_recording[name] = len(item.accepted)
            false_accepts += [(name, r.transcript, r.text) for r in item.accepted]
            leaked += [(name, transcript, extra) for transcript, extra in item.leaked]
        found += item.found
    n_other = sum(1 for item in order if item[0] == "other")
    n_cmd = len(order) - n_other
    with_fa = sum(1 for v in per_recording.values() if v)
    print(f"stream {stream.size / SAMPLE_RATE:.0f} s, heard in {wall:.0f} s; "
          f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"non-command recordings: {n_other}, utterances heard in them: {heard_other}")
    print(f"false accepts: {len(false_accepts)} of {heard_other} utterances "
          f"({100 * len(false_accepts) / max(1, heard_other):.1f}%); "
          f"recordings with one or more: {with_fa} of {n_other}")  # fmt: skip
    print(f"commands understood exactly: {found} of {n_cmd}")
    print(f"non-command utterances with prompt-only words: {len(leaked)}")
    for name, transcript, got in false_accepts:
        print(f"  accepted {name}: heard {transcript!r} -> {got!r}")
    for name, transcript, extra in leaked:
        print(f"  {name}: heard {transcript!r} (prompt words {extra})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"false_accepts": false_accepts, "utterances_other": heard_other,
                       "recordings_other": n_other, "recordings_with_false_accept": with_fa,
                       "found": found, "commands": n_cmd, "leaked": leaked,
                       "stream_s": stream.size / SAMPLE_RATE, "wall_s": wall},
                      f, indent=1)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
