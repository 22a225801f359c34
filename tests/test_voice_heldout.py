"""The held-out paraphrase file: well formed, large enough, apart from the training texts."""

import pytest

from irondog.config import ConfigError
from irondog.voice import heldout


def test_shipped_paraphrases_hold_270_unseen_wordings() -> None:
    from irondog.voice.train_parser import training_texts

    # 399 commands; the parser's corpus happens to generate 121 of their wordings verbatim
    # (71 before voice/wide.py joined it, 113 before voice/loose.py), and those are dropped
    # from every score.
    kept, dropped = heldout.load(training_texts())
    assert len(kept) >= 270, (len(kept), dropped)
    assert len({p.spoken for p in kept}) == len(kept)  # no wording twice


def test_a_bad_line_names_the_file_and_line(tmp_path) -> None:
    path = tmp_path / "p.tsv"
    path.write_text("# comment\nmove forward\tgo on\nmove sideways\tslide\n")
    with pytest.raises(ConfigError, match=r"p\.tsv:3: canonical command"):
        heldout.read(path)
    path.write_text("move forward go on\n")
    with pytest.raises(ConfigError, match=r"p\.tsv:1: expected CANONICAL<TAB>SPOKEN"):
        heldout.read(path)


def _paraphrase_bench():  # noqa: ANN202
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "voice_paraphrases.py"
    spec = importlib.util.spec_from_file_location("voice_paraphrases_bench", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_nbest_scoring_takes_the_most_confident_accepted_view(tmp_path) -> None:
    import json

    from irondog.voice.commands import parse_canonical, to_json
    from irondog.voice.lm import make_parser

    bench = _paraphrase_bench()
    sit = to_json(parse_canonical("sit"))
    records = [
        # the first view mishears, the second is understood: right
        {"spoken": "sit down", "command": sit, "reason": "ok",
         "views": [{"nbest": [["what a day", 0.9]]}, {"nbest": [["sit down", 0.8]]}]},
        # nothing above the ASR floor in any view: rejected, wrong
        {"spoken": "sit down", "command": sit, "reason": "ok", "views": [{"nbest": []}]},
        # audio never heard (VAD found no speech): rejected, wrong
        {"spoken": "sit down", "command": sit, "reason": "no speech", "views": []},
        # understood, but as another command: wrong, not rejected
        {"spoken": "sit down", "command": sit, "reason": "ok",
         "views": [{"nbest": [["stand up", 0.9]]}]},
    ]  # fmt: skip
    result = bench.score_nbest(make_parser("rules"), records, max_words=30)
    assert result["accuracy"] == 0.25 and result["rejected"] == 2
    assert [m["got"] for m in result["misses"]] == ["not understood", "no speech", "stand"]
    path = tmp_path / "n.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n{not json\n")
    with pytest.raises(SystemExit, match=r"n\.jsonl:5: not an n-best record"):
        bench.read_nbest(path)


def test_best_view_is_the_most_confident_accepted_parse() -> None:
    from irondog.voice.commands import parse_canonical
    from irondog.voice.lm import Parse
    from irondog.voice.pipeline import best_view

    sit, none = parse_canonical("sit"), None
    parses = [Parse(none, 0.99, "none", "a"), Parse(sit, 0.7, "sit", "b"), None,
              Parse(sit, 0.8, "sit", "c"), Parse(sit, 0.8, "sit", "d")]  # fmt: skip
    assert best_view(parses) == 3  # the first of the most confident accepted
    assert best_view([None, Parse(none, 0.9, "none", "a")]) == 0  # none accepted: the first


def test_heldout_benchmark_names_a_bad_setting_before_it_starts() -> None:
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).parents[1] / "benchmarks" / "voice_heldout.py"
    run = subprocess.run([sys.executable, str(script), "asr.bogus=1"], capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert run.returncode == 2 and "unknown key 'asr.bogus'" in run.stderr
    assert "beds ready" not in run.stdout
