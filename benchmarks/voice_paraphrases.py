"""Parsers side by side on the held-out paraphrases (voice/data/heldout_paraphrases.tsv),
given as text: exact-meaning accuracy (the canonical command JSON), rejections, and time per
parse. Nothing here was trained or tuned on these paraphrases.

    python benchmarks/voice_paraphrases.py [--set heldout|dev] [--json out.json] [--llm]

``--set dev`` scores the DEV set instead (benchmarks/make_voice_devset.py: commands, and
non-commands that every parser must reject); use it to choose rules, and the held-out set
(the default) once, for the reported figure. ``--llm`` adds SmolLM2 with the GBNF grammar
(the optional [llm] extra).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from irondog.voice import heldout
from irondog.voice.commands import to_json
from irondog.voice.config import VoiceConfig
from irondog.voice.lm import DATA_DIR, _best_of, make_parser

DEV_COMMANDS = DATA_DIR / "dev_commands.tsv"
DEV_NONCOMMANDS = DATA_DIR / "dev_noncommands.txt"


class WithoutPhrases:
    """The trained parser reading every transcript whole (no ``voice/phrases.py`` rules)."""

    def __init__(self, parser) -> None:  # noqa: ANN001
        self.parser = parser

    def parse(self, text: str):  # noqa: ANN201
        return _best_of([(self.parser.decode(text), 1.0)], self.parser.threshold)


def score(parser, items) -> dict:  # noqa: ANN001
    """Exact-meaning accuracy, rejections, median ms per parse, and the misses."""
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
    return {
        "accuracy": right / len(items),
        "rejected": rejected,
        "median_ms": statistics.median(times),
        "misses": misses,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", metavar="PATH")
    ap.add_argument("--llm", action="store_true")
    ap.add_argument("--set", choices=("heldout", "dev"), default="heldout")
    args = ap.parse_args()
    from irondog.voice.train_parser import training_texts

    path = heldout.PARAPHRASES if args.set == "heldout" else DEV_COMMANDS
    items, dropped = heldout.load(training_texts(), path)
    others: list[str] = []
    if args.set == "dev":
        lines = DEV_NONCOMMANDS.read_text().splitlines()
        others = [t for t in lines if t.strip() and not t.startswith("#")]
    lm = VoiceConfig().lm  # the shipped settings, not chosen here
    parsers = {
        "trained": make_parser("trained", threshold=lm.threshold, min_coverage=lm.min_coverage),
        "rules": make_parser("rules"),
    }
    parsers["trained (no phrases)"] = WithoutPhrases(parsers["trained"])
    if args.llm:
        parsers["llm"] = make_parser("llm", threshold=lm.threshold)
    results = {name: score(p, items) for name, p in parsers.items()}
    for name, p in parsers.items():
        accepted = [(t, p.parse(t).text) for t in others]
        results[name]["false_accepts"] = [(t, got) for t, got in accepted if got != "none"]
    load = os.getloadavg()
    print(f"{args.set} commands: {len(items)} ({dropped} dropped: wording in training texts); "
          f"non-commands: {len(others)}; load {load[0]:.1f}")  # fmt: skip
    print("| parser | exact meaning | rejected | false accepts | median ms/parse |")
    print("| --- | --- | --- | --- | --- |")
    for name, r in results.items():
        fa = f"{len(r['false_accepts'])} of {len(others)}" if others else "-"
        print(f"| {name} | {100 * r['accuracy']:.1f}% | {r['rejected']} | {fa} | "
              f"{r['median_ms']:.1f} |")  # fmt: skip
    for name, r in results.items():
        print(f"\n{name} misses ({len(r['misses'])}):")
        for m in r["misses"]:
            print(f"  {m['spoken']!r} -> {m['got']!r}")
        for t, got in r["false_accepts"]:
            print(f"  FALSE ACCEPT {t!r} -> {got!r}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"set": args.set, "items": len(items), "dropped": dropped, "load": load[0],
                       "results": results}, f, indent=1)  # fmt: skip


if __name__ == "__main__":
    main()
