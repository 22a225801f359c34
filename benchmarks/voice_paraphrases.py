"""Parsers side by side on the held-out paraphrases (voice/data/heldout_paraphrases.tsv),
given as text: exact-meaning accuracy (the canonical command JSON), rejections, and time per
parse (median and 95th percentile). Nothing here was trained or tuned on these paraphrases.

    python benchmarks/voice_paraphrases.py [--set heldout|dev|devhand|devhand2|devhand3]
        [--json out.json]
        [--llm [smollm2 gemma3-270m=spec,always ...]] [--nbest voice/data/heldout_nbest.jsonl]

``--set dev`` scores the DEV set instead (benchmarks/make_voice_devset.py: commands, and
non-commands that every parser must reject); use it to choose rules, and the held-out set
(the default) once, for the reported figure. ``--set devhand`` is a second DEV set, 149
commands written by hand (voice/data/dev_handwritten.tsv), with the same non-commands: for
choosing changes to the parser's training corpus; ``--set devhand2`` a third, 154 commands
written by hand on 2026-12-07 after devhand had shaped ``voice/wide.py``; ``--set devhand3`` a
fourth, 104 written by hand on 2026-12-08 after the wording rules of the day before. ``--llm`` adds
GGUF models under the GBNF grammar through llama.cpp (``lm.GGUF_MODELS``; bare ``--llm`` is
SmolLM2, the [llm] extra; gemma3-270m is the [llm-gemma] extra). ``--nbest`` also scores
each parser on recorded Whisper n-best lists of the held-out paraphrases
(benchmarks/record_nbest.py): every view's list parsed, the most confident accepted view
taken, as ``VoicePipeline.hear`` does; its time is the parser's share of one command (all
views).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

from irondog.voice import heldout
from irondog.voice.commands import to_json
from irondog.voice.config import VoiceConfig
from irondog.voice.lm import DATA_DIR, _best_of, make_parser
from irondog.voice.pipeline import best_view, too_long

DEV_COMMANDS = DATA_DIR / "dev_commands.tsv"
DEV_NONCOMMANDS = DATA_DIR / "dev_noncommands.txt"
DEV_HANDWRITTEN = DATA_DIR / "dev_handwritten.tsv"
DEV_HANDWRITTEN2 = DATA_DIR / "dev_handwritten2.tsv"
DEV_HANDWRITTEN3 = DATA_DIR / "dev_handwritten3.tsv"
SETS = {"heldout": heldout.PARAPHRASES, "dev": DEV_COMMANDS, "devhand": DEV_HANDWRITTEN,
        "devhand2": DEV_HANDWRITTEN2, "devhand3": DEV_HANDWRITTEN3}


class WithoutPhrases:
    """The trained parser reading every transcript whole (no ``voice/phrases.py`` rules)."""

    def __init__(self, parser) -> None:  # noqa: ANN001
        self.parser = parser

    def parse(self, text: str):  # noqa: ANN201
        return _best_of([(self.parser.decode(text), 1.0)], self.parser.threshold)


def _timing(times: list[float]) -> dict:
    return {"median_ms": statistics.median(times), "p95_ms": float(np.percentile(times, 95))}


def score(parser, items) -> dict:  # noqa: ANN001
    """Exact-meaning accuracy, rejections, ms per parse (median, p95), and the misses."""
    right, rejected, times, misses = 0, 0, [], []
    for item in items:
        t = time.perf_counter()
        parse = parser.parse(item.spoken)
        times.append(1000 * (time.perf_counter() - t))
        if parse.command is None:
            rejected += 1
        if parse.command is not None and to_json(parse.command) == to_json(item.command):
            right += 1
        else:
            misses.append({"spoken": item.spoken, "got": parse.text, "line": item.line})
    return {"accuracy": right / len(items), "rejected": rejected, **_timing(times),
            "misses": misses}  # fmt: skip


def read_nbest(path: Path) -> list[dict]:
    """Recorded n-best lists (benchmarks/record_nbest.py), one JSON object a line."""
    records = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        try:
            record = json.loads(line)
            record["views"], record["command"]  # noqa: B018
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise SystemExit(f"{path}:{number}: not an n-best record ({err})") from None
        records.append(record)
    return records


def score_nbest(parser, records: list[dict], max_words: int) -> dict:  # noqa: ANN001
    """Exact meaning from recorded n-best lists: each view's list parsed (a view with an empty
    list is not parsed, as in the pipeline), the most confident accepted view taken."""
    right, rejected, times, misses = 0, 0, [], []
    for record in records:
        t = time.perf_counter()
        parses = [parser.parse([tuple(h) for h in v["nbest"]]) if v["nbest"] else None
                  for v in record["views"]]  # fmt: skip
        times.append(1000 * (time.perf_counter() - t))
        parse = parses[best_view(parses)] if parses else None
        if parse is not None and too_long(parse, max_words):  # as the pipeline
            parse = None
        command = parse.command if parse is not None else None
        if command is None:
            rejected += 1
        if command is not None and to_json(command) == record["command"]:
            right += 1
        else:
            heard = record["views"][0]["nbest"][:1] if record["views"] else []
            unheard = "not understood" if record["reason"] == "ok" else record["reason"]
            misses.append({"spoken": record["spoken"], "heard": heard,
                           "got": parse.text if parse else unheard})  # fmt: skip
    return {"accuracy": right / len(records), "rejected": rejected, **_timing(times),
            "misses": misses}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", metavar="PATH")
    ap.add_argument("--llm", nargs="*", metavar="MODEL", default=None,
                    help="GGUF models to add (names in lm.GGUF_MODELS or .gguf paths; "
                    "none given: smollm2)")  # fmt: skip
    ap.add_argument(
        "--llm-prompt",
        choices=("plain", "spec"),
        default=None,
        help="the GGUF models' prompt (default: each model's own, lm.GGUF_MODELS)",
    )
    ap.add_argument(
        "--llm-grammar",
        choices=("fallback", "always"),
        default=None,
        help="when the GBNF grammar applies (default: each model's own)",
    )
    ap.add_argument(
        "--every",
        type=int,
        default=1,
        metavar="N",
        help="every Nth command and non-command only (quick DEV comparisons)",
    )
    ap.add_argument("--set", choices=tuple(SETS), default="heldout")
    ap.add_argument("--nbest", type=Path, default=None, metavar="JSONL",
                    help="also score recorded n-best lists (record_nbest.py)")  # fmt: skip
    ap.add_argument("--compare", type=Path, default=None, metavar="DIR",
                    help="also score the trained parser in DIR (parser.msgpack, parser.json, "
                    "confusions.json) beside the shipped one; commands either trained on are "
                    "dropped")  # fmt: skip
    args = ap.parse_args()
    from irondog.voice.train_parser import training_texts

    trained_on = training_texts()
    if args.compare is not None:
        for name in ("parser.msgpack", "parser.json", "confusions.json"):
            if not (args.compare / name).is_file():
                ap.error(f"--compare {args.compare}: no {name} there")
        trained_on |= training_texts(args.compare)
    items, dropped = heldout.load(trained_on, SETS[args.set])
    others: list[str] = []
    if args.set != "heldout":
        lines = DEV_NONCOMMANDS.read_text().splitlines()
        others = [t for t in lines if t.strip() and not t.startswith("#")]
    if args.every < 1:
        ap.error("--every must be >= 1")
    items, others = items[:: args.every], others[:: args.every]
    lm = VoiceConfig().lm  # the shipped settings, not chosen here
    parsers = {
        "trained": make_parser("trained", threshold=lm.threshold, min_coverage=lm.min_coverage),
        "rules": make_parser("rules"),
    }
    parsers["trained (no phrases)"] = WithoutPhrases(parsers["trained"])
    if args.compare is not None:
        parsers[f"trained {args.compare}"] = make_parser(
            "trained",
            args.compare / "parser.msgpack",
            threshold=lm.threshold,
            min_coverage=lm.min_coverage,
        )
    models = [] if args.llm is None else (args.llm or ["smollm2"])
    for model in models:  # threshold 0 as in configs/voice/llm.yaml: "none" is its rejection
        name, _, how = model.partition("=")  # "smollm2=spec,always": this model's own settings
        prompt, _, grammar = how.partition(",")
        parsers[f"llm {model}"] = make_parser(
            "llm",
            name,
            threshold=0.0,
            prompt=prompt or args.llm_prompt,
            grammar=grammar or args.llm_grammar,
        )
    results = {name: score(p, items) for name, p in parsers.items()}
    for name, p in parsers.items():
        accepted = [(t, p.parse(t).text) for t in others]
        results[name]["false_accepts"] = [(t, got) for t, got in accepted if got != "none"]
    load = os.getloadavg()
    print(f"{args.set} commands: {len(items)} ({dropped} dropped: wording in training texts); "
          f"non-commands: {len(others)}; load {load[0]:.1f}")  # fmt: skip
    print("| parser | exact meaning | rejected | false accepts | ms/parse median | p95 |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, r in results.items():
        fa = f"{len(r['false_accepts'])} of {len(others)}" if others else "-"
        print(f"| {name} | {100 * r['accuracy']:.1f}% | {r['rejected']} | {fa} | "
              f"{r['median_ms']:.1f} | {r['p95_ms']:.1f} |")  # fmt: skip
    nbest_results = {}
    if args.nbest is not None:
        records = read_nbest(args.nbest)
        nbest_dropped = sum(r["spoken"] in trained_on for r in records)
        records = [r for r in records if r["spoken"] not in trained_on]
        conditions = sorted({r.get("condition", "?") for r in records})
        nbest_results = {name: score_nbest(p, records, lm.max_words) for name, p in parsers.items()
                         if name != "trained (no phrases)"}  # fmt: skip
        print(f"\nrecorded n-best lists: {len(records)} ({nbest_dropped} dropped: spoken "
              f"wording in training texts; {args.nbest}; {', '.join(conditions)}); "
              f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
        print("| parser | exact meaning | rejected | ms/command median | p95 |")
        print("| --- | --- | --- | --- | --- |")
        for name, r in nbest_results.items():
            print(f"| {name} | {100 * r['accuracy']:.1f}% | {r['rejected']} | "
                  f"{r['median_ms']:.1f} | {r['p95_ms']:.1f} |")  # fmt: skip
    for name, r in results.items():
        print(f"\n{name} misses ({len(r['misses'])}):")
        for m in r["misses"]:
            print(f"  {m['spoken']!r} -> {m['got']!r}")
        for t, got in r["false_accepts"]:
            print(f"  FALSE ACCEPT {t!r} -> {got!r}")
    for name, r in nbest_results.items():
        print(f"\n{name} n-best misses ({len(r['misses'])}):")
        for m in r["misses"]:
            print(f"  {m['spoken']!r} heard {m['heard']!r} -> {m['got']!r}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"set": args.set, "items": len(items), "dropped": dropped, "load": load[0],
                       "results": results, "nbest": nbest_results}, f, indent=1)  # fmt: skip


if __name__ == "__main__":
    main()
