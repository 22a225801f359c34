"""Choose the reject gates (``voice/config.py`` RejectConfig) on DEVELOPMENT speech only: what
every gate would do to the accepted commands of one streaming run, and the gates chosen.

    python benchmarks/voice_reject_dev.py --fetch [--commands 40] [--json out.json]

The DEV stream, shuffled, 1 s pauses, through ``VoicePipeline.stream`` with every gate off:
- real speech not meant for the robot: the pyannote.audio 4.0.7 test recordings
  (``realspeech.DEV_RECORDINGS``: meeting speech and a conversation, 7 min);
- synthetic speech not meant for the robot: ``voice/data/dev_noncommands.txt`` (the DEV set of
  ``make_voice_devset.py``) read by the espeak-ng development voices;
- commands: ``--commands`` lines of ``voice/data/dev_commands.tsv`` (DEV wording) read by the
  espeak-ng development voices.
Each accepted command is also heard again unprompted and with the vocabulary prompt (the
``reject.verify`` modes), so every gate is judged on the same run. Nothing here is the
evaluation set (``benchmarks/voice_real_speech.py``); festival and flite voices are not used.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import sys
import time
from typing import Any

import numpy as np

from irondog.voice import evalset, heldout, realspeech
from irondog.voice.audio import SAMPLE_RATE
from irondog.voice.commands import to_json
from irondog.voice.config import RejectConfig, VoiceConfig
from irondog.voice.lm import DATA_DIR
from irondog.voice.pipeline import VoicePipeline

DEV_SEED = 7  # the DEV set's own seed (make_voice_devset.py)


class AllSignals(VoicePipeline):
    """The default pipeline, gates off, recording both ``reject.verify`` readings."""

    def signals(self, speech, heard, timings=None) -> dict[str, Any]:  # noqa: ANN001
        from irondog.voice import audio
        from irondog.voice.asr import VOCABULARY_PROMPT

        out = super().signals(speech, heard, timings)
        view = audio.stretched(speech, heard.stretch)
        for mode, prompt in (("unprompted", ""), ("vocabulary", VOCABULARY_PROMPT)):
            t = time.perf_counter()
            again = self.recognizer.recognize_batch([view], prompt=prompt)[0]
            _, second = self.interpret(again)
            out[f"verify_ms_{mode}"] = 1000 * (time.perf_counter() - t)
            out[f"transcript_{mode}"] = again.best.text if again.best else ""
            out[f"verified_{mode}"] = bool(
                second is not None
                and second.command is not None
                and to_json(second.command) == to_json(heard.parse.command)
            )
        return out


def dev_items(n_commands: int) -> list[tuple[str, str, str, np.ndarray, Any]]:
    """(kind, source, what was said, audio, command or None) for every DEV item."""
    rng = random.Random(DEV_SEED)
    items = [("real", r.name, r.said, r.samples, None)
             for r in realspeech.load(recordings=realspeech.DEV_RECORDINGS)]  # fmt: skip
    lines = (DATA_DIR / "dev_noncommands.txt").read_text().splitlines()
    others = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    commands = rng.sample(heldout.read(DATA_DIR / "dev_commands.tsv"), n_commands)
    spoken = [(text, None) for text in others] + [(p.spoken, p.command) for p in commands]
    for utt in evalset.espeak_voiced(spoken, seed=DEV_SEED):
        kind = "synthetic" if utt.command is None else "command"
        items.append((kind, f"espeak-ng {utt.voice}", utt.text, evalset.speak_cached(utt, None),
                      utt.command))  # fmt: skip
    rng.shuffle(items)
    return items


def judge(items: list, judged: list, keep) -> dict[str, Any]:  # noqa: ANN001
    """False accepts per kind and commands found when an accepted result is kept only where
    ``keep(signals)`` holds."""
    fa = {"real": 0, "synthetic": 0}
    found, lost = 0, []
    for (kind, _, said, _, command), item in zip(items, judged, strict=True):
        kept = [r for r in item.inside if r.signals and keep(r.signals)]
        if command is None:
            fa[kind] += len(kept)
        else:
            hit = any(r.signals["command_json"] == to_json(command) for r in kept)
            found += hit
            if not hit and any(r.signals["command_json"] == to_json(command) for r in item.inside
                               if r.signals):  # fmt: skip
                lost.append(said)
    return {"fa_real": fa["real"], "fa_synthetic": fa["synthetic"], "found": found, "lost": lost}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fetch", action="store_true", help="download the DEV recordings if missing")
    ap.add_argument("--commands", type=int, default=40)
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args()
    if args.fetch:
        realspeech.fetch(recordings=realspeech.DEV_RECORDINGS)
    items = dev_items(args.commands)
    stream, spans = evalset.stream_with_pauses([samples for _, _, _, samples, _ in items])
    # Every gate off, so each is judged on the parses it would refuse (the defaults refuse).
    gates_off = RejectConfig(min_logprob=None, min_parse_confidence=None, grounded=False)
    pipeline = AllSignals(VoiceConfig(reject=gates_off))
    t0 = time.time()
    heard = list(pipeline.stream(np.array_split(stream, max(1, stream.size // 8000))))
    wall = time.time() - t0
    for _, result in heard:  # the parsed command, comparable with an item's
        if result.signals:
            result.signals["command_json"] = to_json(result.command)
    judged = evalset.judge_stream(heard, spans, [(said, cmd) for _, _, said, _, cmd in items])
    counts = {k: sum(1 for it in items if it[0] == k) for k in ("real", "synthetic", "command")}
    heard_in = {k: sum(len(j.inside) for it, j in zip(items, judged, strict=True) if it[0] == k)
                for k in ("real", "synthetic")}  # fmt: skip
    print(f"DEV stream {stream.size / SAMPLE_RATE:.0f} s heard in {wall:.0f} s, "
          f"load {os.getloadavg()[0]:.1f}; items {counts}; heard {heard_in}")  # fmt: skip

    accepted = [(it[0], r) for it, j in zip(items, judged, strict=True) for r in j.accepted]
    print("\naccepted on DEV, with the signals every gate reads:")
    for kind, r in accepted:
        s = r.signals
        print(f"  {kind:9s} {r.text!r:42s} nsp {s['no_speech_prob']:.2f} lp {s['logprob']:.2f} "
              f"cr {s['compression_ratio']:.2f} {s['speech_s']:.1f} s {s['words_per_s']:.1f} w/s "
              f"conf {s['parse_confidence']:.2f} unprompted {s['verified_unprompted']:d} "
              f"vocab {s['verified_vocabulary']:d} heard {r.transcript!r} / "
              f"{s['transcript_unprompted']!r}")  # fmt: skip

    # Each gate alone, at thresholds between the values the accepted results took.
    command_values = {k: [r.signals[k] for kind, r in accepted if kind == "command"]
                      for k in ("no_speech_prob", "logprob", "compression_ratio", "speech_s",
                                "words_per_s", "parse_confidence")}  # fmt: skip
    gates: dict[str, Any] = {"none": lambda s: True}
    for key, sign in (("no_speech_prob", 1), ("logprob", -1), ("compression_ratio", 1),
                      ("speech_s", 1), ("words_per_s", 1), ("parse_confidence", -1)):  # fmt: skip
        values = sorted({round(r.signals[key], 3) for _, r in accepted})
        for v in values:
            if sign > 0:
                gates[f"{key} <= {v}"] = lambda s, k=key, v=v: s[k] <= v
            else:
                gates[f"{key} >= {v}"] = lambda s, k=key, v=v: s[k] >= v
    gates["grounded"] = lambda s: not s["ungrounded"]  # reject.grounded (voice/grounding.py)
    for mode in ("unprompted", "vocabulary"):
        gates[f"verify {mode}"] = lambda s, m=mode: s[f"verified_{m}"]
    table = {name: judge(items, judged, keep) for name, keep in gates.items()}
    base = table["none"]
    print(f"\nno gate: false accepts real {base['fa_real']}, synthetic {base['fa_synthetic']}; "
          f"commands {base['found']} of {counts['command']}")  # fmt: skip
    print("gates that lose no DEV command and refuse at least one false accept:")
    n_fa = base["fa_real"] + base["fa_synthetic"]
    keep_all = [n for n, t in table.items() if t["found"] == base["found"] and n != "none"
                and t["fa_real"] + t["fa_synthetic"] < n_fa]  # fmt: skip
    for name in keep_all:
        t = table[name]
        print(f"  {name:32s} real {t['fa_real']}, synthetic {t['fa_synthetic']}")
    print("verify modes:")
    for mode in ("unprompted", "vocabulary"):
        t = table[f"verify {mode}"]
        print(f"  {mode}: real {t['fa_real']}, synthetic {t['fa_synthetic']}, commands "
              f"{t['found']} (lost {t['lost']})")  # fmt: skip
    # Pairs of the command-keeping gates (one threshold per signal).
    best = min(keep_all or ["none"],
               key=lambda n: (table[n]["fa_real"] + table[n]["fa_synthetic"], n))  # fmt: skip
    pairs = []
    for a, b in itertools.combinations(keep_all, 2):
        if a.split()[0] == b.split()[0]:
            continue
        t = judge(items, judged, lambda s, a=a, b=b: gates[a](s) and gates[b](s))
        if t["found"] == base["found"]:
            pairs.append((t["fa_real"] + t["fa_synthetic"], a, b, t))
    pairs.sort(key=lambda p: p[:3])
    print("best pairs that lose no DEV command:")
    for total, a, b, t in pairs[:10]:
        print(f"  {a} AND {b}: real {t['fa_real']}, synthetic {t['fa_synthetic']} ({total})")
    print(f"best single gate: {best}")
    verify_ms = [r.signals["verify_ms_unprompted"] for kind, r in accepted if kind == "command"]
    if verify_ms:
        print(f"second reading: median {np.median(verify_ms):.0f} ms per command (unprompted)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"items": counts, "heard": heard_in, "wall_s": wall,
                       "accepted": [{"kind": k, "text": r.text, "transcript": r.transcript,
                                     "signals": r.signals} for k, r in accepted],
                       "command_values": command_values,
                       "table": {n: table[n] for n in ["none", *keep_all]},
                       "pairs": [{"gates": [a, b], **t} for _, a, b, t in pairs[:20]]},
                      f, indent=1, default=str)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
