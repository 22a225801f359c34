"""Voice commands on voices, wording and noise that no training or tuning set has (issue 22).

    python benchmarks/voice_heldout.py --per-set 30 --noisy 15 --json out.json   # reported
    python benchmarks/voice_heldout.py --per-set 4 --noisy 2                     # a smoke run
    python benchmarks/voice_heldout.py asr.adapter=/tmp/mine.npz                 # another setting

What is held out, and from what:
- voices: festival (kal_diphone, ked_diphone, cmu_us_slt_arctic_hts); the parser's corpus,
  the Whisper adapter and every development set are voiced by espeak-ng only;
- wording, two sets: "template" (the corpus generator's wording, a seed it never trained on)
  and "paraphrase" (voice/data/heldout_paraphrases.tsv, written by hand, minus any line whose
  wording is among the training texts);
- noise: babble of festival voices reading sentences no set has, wind and street from a
  held-out seed, motor noise of another gait period (``evalset.heldout_noise_beds``); street
  is a kind that no training or tuning set uses.
The same texts read by the development espeak-ng voices (clean) and given as text are scored
side by side, so the cost of the new voices is separate from the cost of the wording.

Accuracy is the exact match of the canonical command JSON through the default pipeline
(``VoicePipeline.understand``: quality checks, VAD, Whisper, parser); a rejection is wrong.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from irondog.config import ConfigError, load
from irondog.voice import audio, evalset, heldout
from irondog.voice.commands import to_json
from irondog.voice.config import VoiceConfig
from irondog.voice.pipeline import VoicePipeline, refused_by_grounding_alone

SNRS = (10.0, 0.0)


def _same(command, expected) -> bool:  # noqa: ANN001
    return command is not None and expected is not None and to_json(command) == to_json(expected)


def wording_sets(per_set: int) -> dict[str, list[tuple[str, object]]]:
    """The two wording sets, ``per_set`` items each (the paraphrases drawn at random with the
    held-out seed, so the sample spans the whole file)."""
    from irondog.voice.train_parser import training_texts

    texts = training_texts()
    template = [(u.text, u.command) for u in evalset.held_out_phrasings(per_set, texts)]
    kept, _ = heldout.load(texts)
    rng = random.Random(evalset.HELDOUT_SEED)
    para = [(p.spoken, p.command) for p in rng.sample(kept, min(per_set, len(kept)))]
    return {"template": template, "paraphrase": para}


def main() -> int:  # noqa: C901
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-set", type=int, default=30, help="items per wording set, clean")
    ap.add_argument("--noisy", type=int, default=15, help="items per set, noise kind and SNR")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/irondog_voice_heldout"))
    ap.add_argument("--json", type=Path, default=None, help="write every figure here")
    ap.add_argument("overrides", nargs="*", help="voice config overrides, e.g. asr.adapter=PATH")
    args = ap.parse_args()
    if args.per_set < 1 or not 0 <= args.noisy <= args.per_set:
        ap.error("--per-set must be >= 1 and --noisy in 0..--per-set")
    try:
        config = load(VoiceConfig, None, args.overrides)
    except ConfigError as e:
        ap.error(str(e))
    t_start = time.time()
    print(f"# held-out voice benchmark ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})")
    sets = wording_sets(args.per_set)
    beds = evalset.heldout_noise_beds(cache=args.cache)
    print(f"beds ready ({time.time() - t_start:.0f} s)", flush=True)
    pipe = VoicePipeline(config)
    rng = np.random.default_rng(evalset.HELDOUT_SEED)

    acc: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    reasons: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    misses: list[dict] = []
    lost_to_grounding: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    latency_3s: list[float] = []
    latency_all: list[float] = []

    def score(name: str, cond: str, clip: np.ndarray, text: str, command) -> None:  # noqa: ANN001
        t0 = time.perf_counter()
        result = pipe.understand(clip, f"{name}/{cond}")
        ms = 1000 * (time.perf_counter() - t0)
        latency_all.append(ms)
        if cond == "festival clean" and 2.5 <= clip.size / audio.SAMPLE_RATE <= 3.5:
            latency_3s.append(ms)
        ok = _same(result.command, command)
        acc[name][cond].append(ok)
        # right, but refused by reject.grounded alone (voice/grounding.py): the gate's cost
        if refused_by_grounding_alone(result) and _same(result.refused, command):
            lost_to_grounding[name][cond] += 1
        reasons[cond][result.reason] += 1
        if not ok:  # every condition's, so two runs can be told apart clip by clip
            misses.append({"set": name, "cond": cond, "said": text, "heard": result.transcript,
                           "got": result.text, "reason": result.reason})  # fmt: skip

    for name, items in sets.items():
        for text, command in items:  # the parser alone, given the exact words
            acc[name]["text"].append(_same(pipe.parser.parse([(text, 1.0)]).command, command))
        for utt in evalset.espeak_voiced(items):
            clip = evalset.with_silence(evalset.speak_cached(utt, args.cache))
            score(name, "espeak-ng clean", clip, utt.text, utt.command)
        voiced = evalset.heldout_voiced(items)
        for utt in voiced:
            clip = evalset.with_silence(evalset.speak_cached(utt, args.cache))
            score(name, "festival clean", clip, utt.text, utt.command)
        print(f"{name} clean done ({time.time() - t_start:.0f} s)", flush=True)
        for kind in evalset.HELDOUT_NOISE_TYPES:
            for snr in SNRS:
                for utt in voiced[: args.noisy]:
                    speech = evalset.speak_cached(utt, args.cache)
                    mixed = evalset.in_noise(speech, beds[kind], snr, rng)
                    score(name, f"{kind}@{snr:g}dB", mixed, utt.text, utt.command)
            print(f"{name} {kind} done ({time.time() - t_start:.0f} s)", flush=True)

    def pct(values: list[bool]) -> float:
        return 100.0 * sum(values) / max(1, len(values))

    table = {name: {cond: {"accuracy": pct(v), "n": len(v)} for cond, v in conds.items()}
             for name, conds in acc.items()}  # fmt: skip
    for name, conds in acc.items():
        for snr in SNRS:
            kinds = [pct(conds[f"{k}@{snr:g}dB"]) for k in evalset.HELDOUT_NOISE_TYPES]
            table[name][f"mean over kinds @{snr:g}dB"] = {"accuracy": statistics.mean(kinds)}
    print("\n| set | condition | exact meaning | n |\n| --- | --- | --- | --- |")
    for name, conds in table.items():
        for cond, row in conds.items():
            print(f"| {name} | {cond} | {row['accuracy']:.1f}% | {row.get('n', '-')} |")
    lat = {
        "median_ms_3s": statistics.median(latency_3s) if latency_3s else None,
        "p95_ms_3s": float(np.percentile(latency_3s, 95)) if latency_3s else None,
        "n_3s": len(latency_3s),
        "median_ms_all": statistics.median(latency_all),
    }
    lost = {name: dict(conds) for name, conds in lost_to_grounding.items()}
    print(f"\nright commands refused by reject.grounded alone: {lost or 'none'}")
    print(f"\nlatency (festival clean clips of 2.5-3.5 s): {lat}")
    print(f"wall {time.time() - t_start:.0f} s")
    if args.json is not None:
        out = {"overrides": args.overrides, "table": table, "reasons": reasons, "latency": lat,
               "misses": misses, "lost_to_grounding": lost,
               "per_set": args.per_set, "noisy": args.noisy,
               "wall_s": time.time() - t_start}  # fmt: skip
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
