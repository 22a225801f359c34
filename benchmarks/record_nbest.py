"""Record Whisper's n-best lists of the held-out paraphrases, read by held-out voices, so the
parsers can be compared on what the recogniser really hears (``voice_paraphrases.py --nbest``).

    python benchmarks/record_nbest.py                       # writes voice/data/heldout_nbest.jsonl
    python benchmarks/record_nbest.py --every 5     # a spread fifth of them (66 lists)
    python benchmarks/record_nbest.py --limit 20 --out /tmp/nbest.jsonl   # a smoke run

Each paraphrase of ``voice/data/heldout_paraphrases.tsv`` that ``voice_paraphrases.py`` scores
(those whose wording is not among the training texts) is read by a festival voice
(``evalset.heldout_voiced``: voices no training or development set has), padded with 0.4 s of
silence, and optionally mixed with a held-out noise bed (``--noise babble --snr 10``). It
then goes through the default pipeline's ears: the audio checks and voice-activity trim of
``VoicePipeline.understand``, and each ``asr.stretch`` view recognised in one Whisper batch
(tiny.en with the packaged adapter, beam 5). What is kept, one JSON object a line, is each
view's n-best list above ``asr.min_confidence``, exactly what the parser would be given, and
the ASR time. Nothing trains on or is tuned with these lists.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from irondog.voice import audio, evalset, heldout
from irondog.voice.commands import to_json
from irondog.voice.config import VoiceConfig
from irondog.voice.lm import DATA_DIR
from irondog.voice.pipeline import VoicePipeline

NBEST = DATA_DIR / "heldout_nbest.jsonl"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=NBEST)
    ap.add_argument("--limit", type=int, default=0, help="first N paraphrases only (0: all)")
    ap.add_argument("--every", type=int, default=1, help="every Nth paraphrase (a spread sample)")
    ap.add_argument("--noise", choices=evalset.HELDOUT_NOISE_TYPES, default=None)
    ap.add_argument("--snr", type=float, default=10.0, help="dB, with --noise")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/irondog_voice_heldout"))
    args = ap.parse_args()
    from irondog.voice.train_parser import training_texts

    items, dropped = heldout.load(training_texts())
    voiced = evalset.heldout_voiced([(p.spoken, p.command) for p in items])
    items, voiced = items[:: args.every], voiced[:: args.every]  # each keeps its own voice
    if args.limit:
        items, voiced = items[: args.limit], voiced[: args.limit]
    beds = evalset.heldout_noise_beds(cache=args.cache) if args.noise else {}
    rng = np.random.default_rng(evalset.HELDOUT_SEED)
    cfg = VoiceConfig()
    pipe = VoicePipeline(cfg)
    condition = "clean" if args.noise is None else f"{args.noise}@{args.snr:g}dB"
    t_start = time.time()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w") as out:
        for n, (item, utt) in enumerate(zip(items, voiced, strict=True), 1):
            speech = evalset.speak_cached(utt, args.cache)
            clip = evalset.with_silence(speech)
            if args.noise is not None:
                clip = evalset.in_noise(speech, beds[args.noise], args.snr, rng)
            record = {"line": item.line, "spoken": item.spoken,
                      "command": to_json(item.command), "voice": utt.voice,
                      "condition": condition, "reason": "ok", "views": []}  # fmt: skip
            bad = audio.quality(clip, cfg.audio.vad_aggressiveness, cfg.audio.allow_clipped)
            span = None if bad else audio.speech_span(clip, cfg.audio.vad_aggressiveness)
            if bad is not None:
                record["reason"] = bad[0]
            elif span is None:
                record["reason"] = "no speech"
            else:
                t = time.perf_counter()
                views = pipe.recognize_views(clip[span[0] : span[1]])
                record["asr_ms"] = round(1000 * (time.perf_counter() - t), 1)
                record["seconds"] = round((span[1] - span[0]) / audio.SAMPLE_RATE, 2)
                for factor, recognition in views:
                    kept = [
                        [h.text, round(h.confidence, 4)]
                        for h in recognition.hypotheses
                        if h.confidence >= cfg.asr.min_confidence
                    ]
                    record["views"].append({"stretch": factor, "nbest": kept})
            out.write(json.dumps(record) + "\n")
            if n % 25 == 0:
                print(f"{n}/{len(items)} ({time.time() - t_start:.0f} s)", flush=True)
    print(f"wrote {len(items)} lists ({dropped} paraphrases dropped: wording in training texts) "
          f"to {args.out} in {time.time() - t_start:.0f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
