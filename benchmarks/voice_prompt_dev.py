"""Choose Whisper's prompt (``asr.prompt``) and adapter (``asr.adapter``) on DEVELOPMENT speech
only: command accuracy, speech not meant for the robot and time, for each prompt and adapter,
through the default pipeline otherwise.

    python benchmarks/voice_prompt_dev.py [--clean 150] [--noisy 30] [--stream-commands 80]
        [--prompts none,commands] [--adapters packaged,/tmp/mine.npz] [--kokoro-dev]
        [--json out.json]

- accuracy: ``--clean`` lines of ``voice/data/dev_commands.tsv`` (DEV wording) read by the
  espeak-ng development voices, clean and, ``--noisy`` of them, in the development noise
  generators' beds (``evalset.noise_beds``: babble, wind, motor, white) at 10 and 0 dB; exact
  command JSON through ``VoicePipeline.understand``; with ``--kokoro-dev`` the clean commands
  are also read by Kokoro's development voice style (``tts.KOKORO_DEV_VOICES``: no adapter
  trains on it), condition "kokoro-dev";
- time: the clean clips heard once per prompt, the prompts taking turns clip by clip, so both
  see the same load;
- speech not meant for the robot: the DEV stream of ``voice_reject_dev.py`` (pyannote test
  recordings, DEV non-command sentences, ``--stream-commands`` DEV commands) through
  ``VoicePipeline.stream`` with the default gates: false accepts, commands found, and
  non-command utterances with words of the command prompt (``asr.prompt_words_not_said``).
Festival and flite voices, the held-out paraphrases and the held-out beds are not used.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

from irondog.voice import evalset, heldout, tts
from irondog.voice.asr import PROMPTS, prompt_words_not_said
from irondog.voice.commands import to_json
from irondog.voice.config import AsrConfig, VoiceConfig
from irondog.voice.lm import DATA_DIR
from irondog.voice.pipeline import VoicePipeline

SEED = 11  # the DEV phrasings and beds drawn here (the DEV set's own seed is voice_reject_dev's)
KINDS = ("babble", "wind", "motor", "white")
SNRS = (10.0, 0.0)


def clips(
    n_clean: int, n_noisy: int, cache: Path, kokoro: bool = False
) -> list[tuple[str, np.ndarray, object]]:
    """(condition, clip, command) for the accuracy and time figures; with ``kokoro`` the clean
    commands are also read by Kokoro's development voice (``tts.KOKORO_DEV_VOICES``, never
    trained on), condition "kokoro-dev"."""
    items = random.Random(SEED).sample(heldout.read(DATA_DIR / "dev_commands.tsv"), n_clean)
    voiced = evalset.espeak_voiced([(p.spoken, p.command) for p in items], seed=SEED)
    out = [("clean", evalset.with_silence(evalset.speak_cached(u, cache)), u.command)
           for u in voiced]  # fmt: skip
    if kokoro:
        rng = random.Random(SEED)
        for u in voiced:
            dev = evalset.kokoro_voiced(u.text, u.command, rng, tts.KOKORO_DEV_VOICES)
            out.append(("kokoro-dev", evalset.with_silence(evalset.speak_cached(dev, cache)),
                        u.command))  # fmt: skip
    beds, rng = evalset.noise_beds(), np.random.default_rng(SEED)
    for kind in KINDS:
        for snr in SNRS:
            for u in voiced[:n_noisy]:
                speech = evalset.speak_cached(u, cache)
                out.append((f"{kind}@{snr:g}dB", evalset.in_noise(speech, beds[kind], snr, rng),
                            u.command))  # fmt: skip
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clean", type=int, default=150)
    ap.add_argument("--noisy", type=int, default=30)
    ap.add_argument("--stream-commands", type=int, default=80)
    ap.add_argument("--prompts", default="commands,none", help="comma-separated asr.prompt values")
    ap.add_argument("--adapters", default="packaged", help="comma-separated asr.adapter values")
    ap.add_argument(
        "--kokoro-dev",
        action="store_true",
        help="also read the clean commands with Kokoro's development voice (never trained on)",
    )
    ap.add_argument("--cache", type=Path, default=Path("/tmp/irondog_prompt_dev"))
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args()
    prompts, adapters = args.prompts.split(","), args.adapters.split(",")
    unknown = sorted(set(prompts) - set(PROMPTS))
    if unknown:
        ap.error(f"--prompts: unknown {unknown}; choose from {sorted(PROMPTS)}")
    missing = [a for a in adapters if a not in ("packaged", "null") and not Path(a).is_file()]
    if missing:
        ap.error(f"--adapters: no such file {missing}")
    pipes = {}
    for prompt in prompts:
        for adapter in adapters:
            name = prompt if len(adapters) == 1 else f"{prompt}+{Path(adapter).stem}"
            asr = AsrConfig(prompt=prompt, adapter=None if adapter == "null" else adapter)
            pipes[name] = VoicePipeline(VoiceConfig(asr=asr))
    names = list(pipes)

    data = clips(args.clean, args.noisy, args.cache, args.kokoro_dev)
    out: dict[str, dict] = {name: {} for name in names}
    for name in names:
        pipe = pipes[name]
        acc: dict[str, list[bool]] = {}
        for cond, clip, command in data:
            r = pipe.understand(clip)
            acc.setdefault(cond, []).append(
                r.command is not None and to_json(r.command) == to_json(command)
            )
        row = {cond: 100.0 * sum(v) / len(v) for cond, v in acc.items()}
        for snr in SNRS:
            row[f"mean@{snr:g}dB"] = float(np.mean([row[f"{k}@{snr:g}dB"] for k in KINDS]))
        out[name]["accuracy"] = row
        print(name, "accuracy", json.dumps({k: round(v, 1) for k, v in row.items()}), flush=True)

    ms: dict[str, list[float]] = {name: [] for name in names}
    clean = [clip for cond, clip, _ in data if cond == "clean"]
    for name in names:
        pipes[name].understand(clean[0])  # warm
    for i, clip in enumerate(clean):
        for name in names[i % len(names) :] + names[: i % len(names)]:  # turns, clip by clip
            ms[name].append(pipes[name].understand(clip).timings_ms["total"])
    for name in names:
        out[name]["ms_median"] = float(np.median(ms[name]))
    ratio = {n: out[n]["ms_median"] / out[names[0]]["ms_median"] for n in names}
    times = ", ".join(f"{n} {out[n]['ms_median']:.0f} ms ({ratio[n]:.2f})" for n in names)
    print(f"time (load {os.getloadavg()[0]:.1f}): {times}", flush=True)

    sys.path.insert(0, str(Path(__file__).parent))
    from voice_reject_dev import dev_items

    items = dev_items(args.stream_commands)
    stream, spans = evalset.stream_with_pauses([samples for _, _, _, samples, _ in items])
    for name in names:
        t0 = time.time()
        heard = list(pipes[name].stream(np.array_split(stream, max(1, stream.size // 8000))))
        judged = evalset.judge_stream(heard, spans, [(s, c) for _, _, s, _, c in items])
        row = {"found": 0, "commands": 0, "heard": 0, "false_accepts": 0, "with_prompt_words": 0}
        for (kind, _, said, _, _), j in zip(items, judged, strict=True):
            if kind == "command":
                row["commands"] += 1
                row["found"] += j.found
                continue
            row["heard"] += len(j.inside)
            row["false_accepts"] += len(j.accepted)
            row["with_prompt_words"] += sum(
                1 for r in j.inside if prompt_words_not_said(r.transcript, said)
            )
        row["wall_s"] = time.time() - t0
        out[name]["stream"] = row
        print(name, "stream", json.dumps({k: round(v) for k, v in row.items()}), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
