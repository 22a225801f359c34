"""Voice command accuracy against SNR and noise type, false accepts, latency, footprint, RAM.

    python benchmarks/voice_accuracy.py --quick            # a few minutes
    python benchmarks/voice_accuracy.py                    # the reported run
    python benchmarks/voice_accuracy.py --clean 300 --noisy 60 --ps 30 --llm 40

Systems, side by side on the same clips:
- full:          VAD trim + Whisper tiny.en (command-style prompt, n-best; the speech as it is
                 and stretched, `asr.stretch`, in one batch) + trained parser, the most
                 confident accepted parse of the views
- full(no adapter) (`--reference plain`, the default) or full(base) (`--reference base`): the
                 same without the Whisper adapter (`asr.adapter=null`), on tiny.en or on Whisper
                 base (`asr.model=base`); same parser
- whisper+rules: Whisper tiny.en (no adapter) on the speech as it is, keyword rules (baseline)
- ps+grammar:    pocketsphinx with the command JSGF grammar + trained parser (baseline)
Accuracy is the exact match of the canonical command JSON; a rejection counts as wrong.
Text-only, the three parsers (trained, SmolLM2 GGUF, rules) are compared on the same
transcripts: clean phrasings and Whisper's transcripts of noisy clips.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from irondog.config import load
from irondog.voice import audio, evalset
from irondog.voice.asr import PocketSphinxRecognizer, model_footprint_mb
from irondog.voice.commands import to_json
from irondog.voice.config import VoiceConfig
from irondog.voice.lm import DATA_DIR, RuleParser, TrainedParser
from irondog.voice.pipeline import VoicePipeline

SNRS = (20.0, 10.0, 5.0, 0.0)
NOISES = ("white", "babble", "wind", "motor")
# The second full pipeline, side by side with the default: its column name and overrides.
REFERENCES = {
    # Whisper as published, with the ASR-confidence floor chosen for it (the previous default).
    "plain": ("full(no adapter)", ["asr.adapter=null", "asr.min_confidence=0.3"]),
    "base": ("full(base)", ["asr.model=base", "asr.min_confidence=0.3"]),  # no adapter for base
}


def _correct(parse, command) -> bool:  # noqa: ANN001
    return (
        parse.command is not None
        and command is not None
        and (to_json(parse.command) == to_json(command))
    )


def _training_texts() -> set[str]:
    from irondog.voice.train_parser import training_texts

    return training_texts()


def _as_lists(table: dict) -> dict:
    return {c: {s: [bool(x) for x in v] for s, v in d.items()} for c, d in table.items()}


def rss_of_default_pipeline(clip: Path) -> float:
    """Peak RSS (MB) of a fresh process that loads the default pipeline and runs one clip."""
    # VmHWM (not ru_maxrss, which Linux carries over from the parent across exec).
    code = (
        "import sys;from irondog.voice.pipeline import VoicePipeline;"
        "p=VoicePipeline();p.understand_file(sys.argv[1]);"
        "hwm=[x for x in open('/proc/self/status') if x.startswith('VmHWM')][0];"
        "print(int(hwm.split()[1])/1024)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(clip)], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:  # noqa: C901
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small subset (a few minutes)")
    ap.add_argument("--clean", type=int, default=300, help="held-out phrasings, clean")
    ap.add_argument("--noisy", type=int, default=60, help="phrasings per noise type and SNR")
    ap.add_argument("--ps", type=int, default=30, help="phrasings per condition for pocketsphinx")
    ap.add_argument("--llm", type=int, default=40, help="transcripts per set for the GGUF parser")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/irondog_voice_eval"))
    ap.add_argument("--json-out", type=Path, default=None)
    ap.add_argument(
        "--reference",
        choices=sorted(REFERENCES),
        default="plain",
        help="the second full pipeline: tiny.en without the adapter, or base",
    )
    args = ap.parse_args()
    if args.quick:
        args.clean, args.noisy, args.ps, args.llm = 40, 8, 4, 6
    t_start = time.time()
    print(f"# voice benchmark  (pid {os.getpid()}, {time.strftime('%Y-%m-%d %H:%M')})")
    items = evalset.held_out_phrasings(args.clean, _training_texts())
    chat = evalset.chatter()
    beds = evalset.noise_beds()
    rng = np.random.default_rng(evalset.EVAL_SEED)
    ps = PocketSphinxRecognizer()
    pipe = VoicePipeline(VoiceConfig())
    ref, overrides = REFERENCES[args.reference]
    pipe_ref = VoicePipeline(load(VoiceConfig, overrides=overrides))
    plain = pipe_ref if args.reference == "plain" else VoicePipeline(
        load(VoiceConfig, overrides=REFERENCES["plain"][1]))  # fmt: skip
    whisper = plain.recognizer  # the baselines' Whisper: tiny.en as published, no adapter
    trained = pipe.parser  # the default parser with the default rejection settings
    assert isinstance(trained, TrainedParser)
    rules = RuleParser()
    print(f"eval set: {len(items)} held-out phrasings, {len(chat)} chatter sentences")

    # condition -> system -> [correct]
    acc: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    transcripts: dict[str, list[tuple[str, object]]] = defaultdict(list)
    latency_ms: list[float] = []
    latency_3s_ms: list[float] = []
    asr_ms: list[float] = []
    ps_ms: list[float] = []

    def run_clip(clip: np.ndarray, command, cond: str, with_ps: bool) -> None:  # noqa: ANN001
        t0 = time.perf_counter()
        span = audio.speech_span(clip, 1)
        trimmed = clip if span is None else clip[span[0] : span[1]]
        # The pipeline's views (asr.stretch), confidence floor and parser.
        heard, _, full, _ = pipe.hear(trimmed)
        total = 1000 * (time.perf_counter() - t0)
        if cond == "clean":
            latency_ms.append(total)
            asr_ms.append(1000 * heard.seconds)
            if 2.5 <= clip.size / audio.SAMPLE_RATE <= 3.5:
                latency_3s_ms.append(total)
        acc[cond]["full"].append(full is not None and _correct(full, command))
        rec = whisper.recognize(trimmed)  # the baselines hear the speech once, as it is
        best = rec.best.text if rec.best else ""
        acc[cond]["whisper+rules"].append(_correct(rules.parse(best), command))
        transcripts[cond].append((best, command))
        ref_full = pipe_ref.hear(trimmed).parse
        acc[cond][ref].append(ref_full is not None and _correct(ref_full, command))
        if with_ps:
            t1 = time.perf_counter()
            prec = ps.recognize(clip)
            ps_ms.append(1000 * (time.perf_counter() - t1))
            pn = [(h.text, h.confidence) for h in prec.hypotheses]
            acc[cond]["ps+grammar"].append(bool(pn) and _correct(trained.parse(pn), command))

    # Clean speech.
    for i, utt in enumerate(items):
        clip = evalset.with_silence(evalset.speak_cached(utt, args.cache))
        run_clip(clip, utt.command, "clean", i < args.ps * 4)
    print(f"clean done ({time.time() - t_start:.0f} s)", flush=True)
    # Noise types x SNRs.
    for noise_kind in NOISES:
        for snr in SNRS:
            cond = f"{noise_kind}@{snr:g}dB"
            for i, utt in enumerate(items[: args.noisy]):
                speech = evalset.speak_cached(utt, args.cache)
                mixed = evalset.in_noise(speech, beds[noise_kind], snr, rng)
                run_clip(mixed, utt.command, cond, i < args.ps)
        print(f"{noise_kind} done ({time.time() - t_start:.0f} s)", flush=True)

    # False accepts: chatter (clean and in babble at 10 dB) and noise alone.
    fa: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for utt in chat:
        speech = evalset.speak_cached(utt, args.cache)
        for cond, clip in (
            ("chatter clean", evalset.with_silence(speech)),
            (
                "chatter+babble 10dB",
                evalset.in_noise(speech, beds["babble"], 10.0, rng),
            ),
        ):
            result = pipe.understand(clip)
            fa[cond]["full"].append(result.accepted)
            fa[cond][ref].append(pipe_ref.understand(clip).accepted)
            rec = whisper.recognize(clip)
            best = rec.best.text if rec.best else ""
            fa[cond]["whisper+rules"].append(rules.parse(best).accepted)
            pn = [(h.text, h.confidence) for h in ps.recognize(clip).hypotheses]
            fa[cond]["ps+grammar"].append(bool(pn) and trained.parse(pn).accepted)
    for kind in NOISES:
        for _ in range(5):
            start = int(rng.integers(0, beds[kind].size - 3 * audio.SAMPLE_RATE))
            clip = 0.1 * beds[kind][start : start + 3 * audio.SAMPLE_RATE]
            cond = "noise only"
            fa[cond]["full"].append(pipe.understand(clip).accepted)
            fa[cond][ref].append(pipe_ref.understand(clip).accepted)
            rec = whisper.recognize(clip)
            fa[cond]["whisper+rules"].append(
                rules.parse(rec.best.text if rec.best else "").accepted
            )
            pn = [(h.text, h.confidence) for h in ps.recognize(clip).hypotheses]
            fa[cond]["ps+grammar"].append(bool(pn) and trained.parse(pn).accepted)
    print(f"false accepts done ({time.time() - t_start:.0f} s)", flush=True)

    # The CMU recording from pocketsphinx's sdist, when available.
    goforward = None
    for candidate in (DATA_DIR / "goforward.raw", Path(os.environ.get("GOFORWARD_RAW", "-"))):
        if candidate.is_file():
            clip = audio.load_audio(candidate)
            res = pipe.understand(clip)
            pn = [(h.text, h.confidence) for h in ps.recognize(clip).hypotheses]
            pres = trained.parse(pn)
            goforward = {
                "full": [res.transcript, res.text],
                "ps+grammar": [pn[0][0] if pn else "", pres.text],
            }
            break

    # Parsers side by side on the same text.
    text_sets = {
        "clean text": [(u.text, u.command) for u in items],
        "whisper @5dB+0dB": [
            pair
            for cond, pairs in transcripts.items()
            if cond.endswith(("@5dB", "@0dB"))
            for pair in pairs
        ],
    }
    parser_acc: dict[str, dict[str, tuple[float, int, float]]] = {}
    llm = None
    try:
        from irondog.voice.lm import LlamaParser

        llm = LlamaParser()
    except (ImportError, FileNotFoundError) as err:
        print(f"llm parser unavailable: {err}")
    for name, pairs in text_sets.items():
        parser_acc[name] = {}
        for pname, parser, limit in (
            ("trained", trained, len(pairs)),
            ("rules", rules, len(pairs)),
            ("llm", llm, args.llm),
        ):
            if parser is None:
                continue
            subset = pairs[:limit]
            t0 = time.perf_counter()
            right = sum(_correct(parser.parse(t), c) for t, c in subset)
            ms = 1000 * (time.perf_counter() - t0) / max(len(subset), 1)
            parser_acc[name][pname] = (right / max(len(subset), 1), len(subset), ms)
    # llm and trained on the identical subset too.
    for name, pairs in text_sets.items():
        subset = pairs[: args.llm]
        right = sum(_correct(trained.parse(t), c) for t, c in subset)
        parser_acc[name]["trained (llm subset)"] = (right / max(len(subset), 1), len(subset), 0)

    adapter = pipe.recognizer.adapter  # the default pipeline's adapter file, if any
    footprint = (
        model_footprint_mb("whisper")
        + sum(f.stat().st_size for f in DATA_DIR.glob("parser.*")) / 1e6
        + (Path(adapter).stat().st_size / 1e6 if adapter is not None else 0.0)
    )
    clip_path = args.cache / "rss_clip.wav"
    audio.save_wav(clip_path, evalset.with_silence(evalset.speak_cached(items[0], args.cache)))
    rss = rss_of_default_pipeline(clip_path)

    # Report.
    systems = ("full", ref, "whisper+rules", "ps+grammar")

    def pct(values: list[bool]) -> str:
        return f"{100 * np.mean(values):.1f}% (n={len(values)})" if values else "-"

    print("\n## Command accuracy (exact schema match)\n")
    print("| condition | " + " | ".join(systems) + " |")
    print("| --- | " + " | ".join("---" for _ in systems) + " |")
    for cond in acc:
        print(f"| {cond} | " + " | ".join(pct(acc[cond][s]) for s in systems) + " |")
    print("\n## Averaged over noise types\n")
    print("| SNR | " + " | ".join(systems) + " |")
    print("| --- | " + " | ".join("---" for _ in systems) + " |")
    print("| clean | " + " | ".join(pct(acc["clean"][s]) for s in systems) + " |")
    for snr in SNRS:
        row = []
        for s in systems:
            means = [np.mean(acc[f"{n}@{snr:g}dB"][s]) for n in NOISES if acc[f"{n}@{snr:g}dB"][s]]
            row.append(f"{100 * np.mean(means):.1f}%" if means else "-")
        print(f"| {snr:g} dB | " + " | ".join(row) + " |")
    print("\n## False accepts (lower is better)\n")
    print("| input | " + " | ".join(systems) + " |")
    print("| --- | " + " | ".join("---" for _ in systems) + " |")
    for cond in fa:
        print(f"| {cond} | " + " | ".join(pct(fa[cond][s]) for s in systems) + " |")
    print("\n## Parsers on the same transcripts\n")
    print("| transcripts | parser | accuracy | n | ms per parse |")
    print("| --- | --- | --- | --- | --- |")
    for name, rows in parser_acc.items():
        for pname, (a, n, ms) in rows.items():
            print(f"| {name} | {pname} | {100 * a:.1f}% | {n} | {ms:.1f} |")
    print("\n## Latency, footprint, memory\n")
    med = statistics.median(latency_3s_ms) if latency_3s_ms else float("nan")
    print(f"- full pipeline per clean clip: median {statistics.median(latency_ms):.0f} ms, "
          f"p90 {np.percentile(latency_ms, 90):.0f} ms (n={len(latency_ms)})")  # fmt: skip
    print(f"- per 2.5-3.5 s command: median {med:.0f} ms (n={len(latency_3s_ms)})")
    print(f"- Whisper alone (every view, one batch): median {statistics.median(asr_ms):.0f} ms")
    if ps_ms:
        print(f"- pocketsphinx (grammar + phone loop): median {statistics.median(ps_ms):.0f} ms")
    print(f"- model footprint (default Whisper + parser): {footprint:.1f} MB")
    print(f"- peak RSS of a fresh default pipeline after one clip: {rss:.0f} MB")
    print(f"- this benchmark process peak RSS: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")  # fmt: skip
    if goforward:
        print(f"- goforward.raw (CMU recording): {goforward}")
    else:
        print("- goforward.raw: not available (see README.md)")
    print(f"\ntotal {time.time() - t_start:.0f} s")
    if args.json_out:
        args.json_out.write_text(
            json.dumps(
                {
                    "accuracy": _as_lists(acc),
                    "false_accepts": _as_lists(fa),
                    "parsers": parser_acc,
                    "latency_ms": latency_ms,
                    "footprint_mb": footprint,
                    "rss_mb": rss,
                    "goforward": goforward,
                }
            )
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
