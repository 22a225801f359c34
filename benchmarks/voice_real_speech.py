"""Real human speech not meant for the robot, heard through the streaming path, with held-out
commands among it: false accepts, commands found, and Whisper-prompt words in what was heard.

    python benchmarks/voice_real_speech.py --fetch --json out.json

The stream: the 21 recordings of ``voice/realspeech.py`` (read sentences, card names, digit
strings, a talk and a minute of speech from the pocketsphinx and silero-vad source packages on
PyPI; 5 min 16 s; one of them the command "go forward ten meters") and ``--commands``
held-out paraphrases (voice/data/heldout_paraphrases.tsv) read by the held-out festival
voices, in a shuffled order, 1 s of silence between items. Nothing was tuned on any of it.
A false accept is an accepted command whose utterance starts inside a non-command recording.
The run is reported twice: with the reject gates (``reject.*``) and with the commands they
refused let through (``evalset.without_gates``), so before and after share one recognition.
"""

from __future__ import annotations

import argparse
import dataclasses
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
    expected = [(said, cmd) for _, _, said, _, cmd in order]
    n_other = sum(1 for item in order if item[0] == "other")
    n_cmd = len(order) - n_other
    print(f"stream {stream.size / SAMPLE_RATE:.0f} s, heard in {wall:.0f} s; "
          f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
    # One run, three readings: the reject gates act after recognition and parsing, so the same
    # results with the refused commands let through are the pipeline without them.
    out = {"stream_s": stream.size / SAMPLE_RATE, "wall_s": wall, "load": os.getloadavg()[0],
           "reject": dataclasses.asdict(pipeline.config.reject)}  # fmt: skip
    readings = (
        ("gates_off", evalset.without_gates(heard)),
        ("gates_on_not_grounded", evalset.without_grounding(heard)),
        ("gates_on", heard),
    )
    for label, results in readings:
        out[label] = score(order, evalset.judge_stream(results, times, expected), n_other, n_cmd)
        print(f"== reject gates {'off' if label == 'gates_off' else 'on'} ({label})")
        report(out[label], n_other, n_cmd)
    # Latency per parsed command (ms): the whole of understand(), and less its second reading.
    parsed = [r.timings_ms for _, r in heard if r.signals]
    totals = np.array([t["total"] for t in parsed])
    verify = np.array([t.get("verify", 0.0) for t in parsed])
    if parsed:
        with_ms, without_ms = float(np.median(totals)), float(np.median(totals - verify))
        out["latency_ms"] = {"median": with_ms, "median_less_verify": without_ms,
                             "verify": float(np.median(verify)), "n": len(parsed)}  # fmt: skip
        print(f"ms per parsed command, median of {len(parsed)}: {with_ms:.0f} "
              f"({without_ms:.0f} less the second reading)")  # fmt: skip
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    return 0


def score(order: list, judged: list, n_other: int, n_cmd: int) -> dict:
    """False accepts, commands found and prompt leakage of one reading of the stream."""
    false_accepts, leaked, per_recording = [], [], {}
    found, heard_other = 0, 0
    for (kind, name, _, _, _), item in zip(order, judged, strict=True):
        if kind == "other":
            heard_other += len(item.inside)
            per_recording[name] = len(item.accepted)
            false_accepts += [(name, r.transcript, r.text) for r in item.accepted]
            leaked += [(name, transcript, extra) for transcript, extra in item.leaked]
        found += item.found
    with_fa = sum(1 for v in per_recording.values() if v)
    return {"false_accepts": false_accepts, "utterances_other": heard_other,
            "recordings_other": n_other, "recordings_with_false_accept": with_fa,
            "found": found, "commands": n_cmd, "leaked": leaked}  # fmt: skip


def report(s: dict, n_other: int, n_cmd: int) -> None:
    """Print one reading's figures."""
    heard_other = s["utterances_other"]
    print(f"non-command recordings: {n_other}, utterances heard in them: {heard_other}")
    print(f"false accepts: {len(s['false_accepts'])} of {heard_other} utterances "
          f"({100 * len(s['false_accepts']) / max(1, heard_other):.1f}%); "
          f"recordings with one: {s['recordings_with_false_accept']} of {n_other}")  # fmt: skip
    print(f"commands understood exactly: {s['found']} of {n_cmd}")
    print(f"non-command utterances with prompt-only words: {len(s['leaked'])}")
    for name, transcript, got in s["false_accepts"]:
        print(f"  accepted {name}: heard {transcript!r} -> {got!r}")
    for name, transcript, extra in s["leaked"]:
        print(f"  {name}: heard {transcript!r} (prompt words {extra})")


if __name__ == "__main__":
    sys.exit(main())
