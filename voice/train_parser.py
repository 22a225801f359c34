"""Retrain the command parser shipped in voice/data/ (about 15-30 minutes on 2 CPU cores).

    python -m irondog.voice.train_parser [--steps 24000] [--examples 30000] [--seed 0]
    python -m irondog.voice.train_parser --make-transcripts 4000 --transcript-seed 3007

1. Phonetic confusions: for each word the phrasings use, the words of pocketsphinx's CMU
   dictionary whose pronunciation is one phone edit away (-> voice/data/confusions.json).
2. Corpus: generated phrasings (``irondog.voice.corpus``), about half corrupted like ASR output
   (substitutions from the confusions, deletions, insertions), plus out-of-domain sentences
   labelled ``<none>``, ``--sequences`` more of two- and three-action commands
   (``sequence_corpus``), ``--wide`` more in wider wording (``voice/wide.py``) and ``--loose``
   more said loosely (``voice/loose.py``); all skip the evaluation phrasings.
3. Real ASR errors: voice/data/asr_transcripts.jsonl holds Whisper's n-best transcripts of
   other phrasings spoken by espeak-ng, 60% of them in noise: 1,500 from seed 7 (the first
   prompt, 2 hypotheses each), then 5,000 from seed 1007 and 4,000 from seed 2007 (today's
   prompt, VAD trim, 3 hypotheses each). ``--make-transcripts N`` appends N more; evaluation
   phrasings are skipped (``evalset.reserved_texts``). They join the corpus twice over.
4. A small encoder-decoder transformer (``irondog.voice.lm.build_net``) trained with teacher
   forcing and AdamW (optax); weights -> voice/data/parser.msgpack, vocabulary, settings and
   the command vocabulary for rejection -> voice/data/parser.json. Inference runs the same
   network in numpy (``lm.NumpyNet``).
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import time
from pathlib import Path

import numpy as np

from irondog.voice import corpus
from irondog.voice.commands import to_text
from irondog.voice.lm import (
    DATA_DIR,
    OUT_TOKENS,
    ParserNetConfig,
    allowed_next,
    build_net,
    encode_input,
)
from irondog.voice.loose import loose_pairs, loose_vocabulary
from irondog.voice.wide import wide_pairs, wide_vocabulary

CONFUSIONS = DATA_DIR / "confusions.json"


def phonetic_confusions(words: list[str], dict_path: Path, per_word: int = 8) -> dict[str, list]:
    """Words one phone edit (substitution, insertion, deletion) from each of ``words``."""
    prons: dict[str, tuple[str, ...]] = {}
    for line in dict_path.open():
        parts = line.split()
        if not parts or "(" in parts[0] or not parts[0].isalpha():
            continue
        prons.setdefault(parts[0].lower(), tuple(parts[1:]))
    index: dict[tuple, set[str]] = collections.defaultdict(set)
    for word, phones in prons.items():
        index[("full", phones)].add(word)
        for i in range(len(phones)):
            index[("del", phones[:i] + phones[i + 1 :], i)].add(word)
            index[("any", phones[:i] + phones[i + 1 :])].add(word)
    rng = random.Random(0)
    out: dict[str, list] = {}
    for word in words:
        phones = prons.get(word)
        if not phones:
            continue
        near: set[str] = set(index[("any", phones)])  # one phone longer (insertion)
        for i in range(len(phones)):
            shorter = phones[:i] + phones[i + 1 :]
            near |= index[("del", shorter, i)]  # substitution at i
            near |= index[("full", shorter)]  # deletion
        near.discard(word)
        choices = sorted(near)
        rng.shuffle(choices)
        out[word] = sorted(choices[:per_word])
    return out


def target_tokens(text: str | None, max_out: int) -> np.ndarray:
    """(max_out + 1,) ids: <bos> tokens... <eos> <pad>...; text None means <none>."""
    ids = {t: i for i, t in enumerate(OUT_TOKENS)}
    tokens = ["<bos>", *(text.split() if text else ["<none>"]), "<eos>"]
    if len(tokens) > max_out + 1:
        raise ValueError(f"target too long for max_out={max_out}: {text!r}")
    arr = np.zeros(max_out + 1, np.int32)
    arr[: len(tokens)] = [ids[t] for t in tokens]
    return arr


def make_corpus(
    seed: int, count: int, confusions: dict[str, list], ood_fraction: float = 0.2
) -> list[tuple[str, str | None]]:
    """(input text, canonical target or None) training pairs."""
    rng = random.Random(seed)
    data: list[tuple[str, str | None]] = []
    for _ in range(count):
        if rng.random() < ood_fraction:
            text = corpus.sample_out_of_domain(rng)
            target = None
        else:
            command = corpus.sample_command(rng)
            text = corpus.phrase(command, rng, disfluency=0.4)
            target = to_text(command)
        if rng.random() < 0.5:
            text = corpus.corrupt(text, rng, confusions, rate=rng.choice([0.05, 0.1, 0.2]))
        data.append((text, target))
    return data


def sequence_corpus(
    seed: int, count: int, confusions: dict[str, list], skip: set[str]
) -> list[tuple[str, str]]:
    """``count`` more training pairs, all commands of two or three actions.

    The generated corpus draws one action 60% of the time, and the parser trained on it alone
    missed 9% of fresh three-action phrasings (against 0.3% of one-action ones), mostly by
    dropping an action joined without a connector ("speed up start bounding"). Texts in
    ``skip`` (the evaluation phrasings, ``evalset.reserved_texts``) are never used.
    """
    from irondog.voice.commands import Command

    rng = random.Random(seed)
    data: list[tuple[str, str]] = []
    while len(data) < count:
        actions = 2 if rng.random() < 0.4 else 3
        command = Command(tuple(corpus.sample_action(rng) for _ in range(actions)))
        text = corpus.phrase(command, rng, disfluency=0.4)
        if text in skip:  # nor a corrupted copy of one
            continue
        if rng.random() < 0.5:
            text = corpus.corrupt(text, rng, confusions, rate=rng.choice([0.05, 0.1, 0.2]))
        if text in skip:
            continue
        data.append((text, to_text(command)))
    return data


def wide_pairs_for(
    texts: set[str], seed: int, count: int, confusions: dict[str, list]
) -> list[tuple[str, str | None]]:
    """The wider-worded pairs (``voice/wide.py``) of a corpus whose other training texts are
    ``texts``; like ``sequence_pairs_for`` they skip the evaluation phrasings."""
    from irondog.voice import evalset

    return wide_pairs(seed, count, confusions, evalset.reserved_texts(texts))


def loose_pairs_for(
    texts: set[str], seed: int, count: int, confusions: dict[str, list]
) -> list[tuple[str, str | None]]:
    """The loosely said pairs (``voice/loose.py``) of a corpus whose other training texts are
    ``texts``; like ``wide_pairs_for`` they skip the evaluation phrasings."""
    from irondog.voice import evalset

    return loose_pairs(seed, count, confusions, evalset.reserved_texts(texts))


def sequence_pairs_for(
    texts: set[str], seed: int, count: int, confusions: dict[str, list]
) -> list[tuple[str, str]]:
    """The extra multi-action pairs of a corpus whose other training texts are ``texts``.

    They skip the evaluation phrasings drawn against ``texts``, so adding them leaves the
    evaluation set as it was; training and ``training_texts`` both call this, and so agree.
    """
    from irondog.voice import evalset

    return sequence_corpus(seed, count, confusions, evalset.reserved_texts(texts))


def command_vocabulary(
    transcripts: list[dict], min_count: int = 5, wide: bool = False, loose: bool = False
) -> list[str]:
    """Words a spoken command is made of: the phrasings' own vocabulary, plus the words Whisper
    writes for commands (its spellings and usual mishearings) at least ``min_count`` times and
    at least 4 times as often (per line) as in its transcripts of other speech.

    With ``wide`` (``loose``), the wider (looser) phrasings' words join too, those rare in the
    transcripts of other speech only. The parser rejects a transcript when too few of its
    words are in this set (``lm``'s ``min_coverage``): chatter that shares a few words with
    commands is mostly other words.
    """
    words = set(corpus.spoken_vocabulary())
    cmd: collections.Counter[str] = collections.Counter()
    other: collections.Counter[str] = collections.Counter()
    n_cmd = n_other = 0
    for line in transcripts:
        text = set(corpus.normalise(line["transcript"]).split())
        if line["target"] is None:
            other.update(text)
            n_other += 1
        else:
            cmd.update(text)
            n_cmd += 1
    if wide:
        # The wider phrasings' words too (voice/wide.py), but only those in under 0.5% of the
        # transcripts of other speech: with all of them ("of", "in", "will", "so", ...) the
        # coverage gate let "the pace of life here is slow" through as a command. The 0.5%
        # was chosen on the DEV sets (dev, devhand, dev_noncommands), not the held-out one.
        words |= {w for w in wide_vocabulary() if other[w] < 0.005 * max(n_other, 1)}
    if loose:  # the same rule for voice/loose.py's words
        words |= {w for w in loose_vocabulary() if other[w] < 0.005 * max(n_other, 1)}
    for word, n in cmd.items():
        if n >= min_count and n / max(n_cmd, 1) >= 4 * other[word] / max(n_other, 1):
            words.add(word)
    return sorted(words)


ASR_TRANSCRIPTS = DATA_DIR / "asr_transcripts.jsonl"


def training_texts(data_dir: Path = DATA_DIR) -> set[str]:
    """Every input text the shipped parser trained on: the generated corpus (from the seed and
    size recorded in parser.json) and the phrasings spoken for its Whisper transcripts."""
    meta = json.loads((data_dir / "parser.json").read_text())["trained"]
    confusions = json.loads((data_dir / "confusions.json").read_text())
    texts = {t for t, _ in make_corpus(meta["seed"], meta["examples"], confusions)}
    transcripts = data_dir / ASR_TRANSCRIPTS.name
    if transcripts.is_file():
        texts |= {json.loads(line)["source"] for line in transcripts.open()}
    extra: list[tuple[str, str | None]] = []
    if meta.get("sequences", 0):
        extra += sequence_pairs_for(texts, meta["sequence_seed"], meta["sequences"], confusions)
    if meta.get("wide", 0):
        extra += wide_pairs_for(texts, meta["wide_seed"], meta["wide"], confusions)
    if meta.get("loose", 0):
        extra += loose_pairs_for(texts, meta["loose_seed"], meta["loose"], confusions)
    return texts | {t for t, _ in extra}


def whisper_transcripts(
    count: int,
    seed: int,
    path: Path,
    exclude: set[str] | None = None,
    hypotheses: int = 3,
    cpu_threads: int = 1,
) -> None:
    """Speak ``count`` phrasings (espeak-ng), 60% of them in noise, transcribe them with
    Whisper as the pipeline does (VAD trim, vocabulary prompt, n-best), and append
    (source text, transcript, canonical target) lines: real ASR corruption to learn from.

    Phrasings of the evaluation set (``evalset.reserved_texts``) and ``exclude`` are skipped,
    so no evaluation text is ever trained on and the evaluation set stays as it was.
    """
    from irondog.voice import audio, evalset
    from irondog.voice.asr import WHISPER_PROMPT, WhisperRecognizer

    data_dir = path.parent if (path.parent / "parser.json").is_file() else DATA_DIR
    skip = evalset.reserved_texts(training_texts(data_dir)) | set(exclude or ())
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    beds = evalset.noise_beds(30.0, seed=seed)
    # Beam 3 and the command prompt: the shipped transcripts were made with them (the pipeline
    # now searches 5 wide and hands the parser the best 3; its prompt is asr.prompt).
    whisper = WhisperRecognizer(beam_size=3, cpu_threads=cpu_threads, prompt=WHISPER_PROMPT)
    done = 0
    with path.open("a") as out:
        while done < count:
            if rng.random() < 0.15:
                text, target = corpus.sample_out_of_domain(rng), None
            else:
                command = corpus.sample_command(rng)
                text, target = corpus.phrase(command, rng, disfluency=0.3), to_text(command)
            utt = evalset._voiced(text, None, rng)
            kind, snr = "clean", None
            noisy = rng.random() < 0.6
            if noisy:
                kind = rng.choice(sorted(beds))
                snr = rng.choice([20.0, 10.0, 5.0, 0.0])
            if text in skip:
                continue
            speech = evalset.speak_cached(utt, None)
            if noisy:
                clip = evalset.in_noise(speech, beds[kind], snr, nrng)
            else:
                clip = evalset.with_silence(speech)
            span = audio.speech_span(clip, 1)
            if span is not None:
                clip = clip[span[0] : span[1]]
            for hyp in whisper.recognize(clip).hypotheses[:hypotheses]:
                line = {"source": text, "transcript": hyp.text, "target": target,
                        "confidence": round(hyp.confidence, 4), "noise": kind, "snr": snr,
                        "prompt": WHISPER_PROMPT[:24], "asr": whisper.model_ref,
                        "window_s": whisper.min_window_s}  # fmt: skip
                out.write(json.dumps(line) + "\n")
            done += 1
            if done % 100 == 0:
                out.flush()
                print(f"transcribed {done}/{count}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Train and write the parser files; prints held-out accuracy."""
    import flax.serialization
    import jax
    import jax.numpy as jnp
    import optax

    from irondog.voice.asr import pocketsphinx_model_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=24000)
    ap.add_argument("--examples", type=int, default=30000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=DATA_DIR)
    ap.add_argument(
        "--make-transcripts",
        type=int,
        default=0,
        metavar="N",
        help="first speak and transcribe N more phrasings into asr_transcripts.jsonl (slow)",
    )
    ap.add_argument("--transcript-seed", type=int, default=1007, help="seed of those phrasings")
    ap.add_argument("--asr-repeat", type=int, default=2, help="copies of each Whisper transcript")
    ap.add_argument(
        "--sequences", type=int, default=10000, help="extra pairs of 2-3 action commands"
    )
    ap.add_argument("--sequence-seed", type=int, default=5, help="seed of those pairs")
    ap.add_argument(
        "--wide", type=int, default=15000, help="extra pairs in wider wording (voice/wide.py)"
    )
    ap.add_argument("--wide-seed", type=int, default=11, help="seed of those pairs")
    ap.add_argument(
        "--loose", type=int, default=15000, help="extra pairs said loosely (voice/loose.py)"
    )
    ap.add_argument("--loose-seed", type=int, default=13, help="seed of those pairs")
    args = ap.parse_args(argv)
    positive = ("steps", "examples", "batch")
    for name in (*positive, "sequences", "wide", "loose", "make_transcripts", "asr_repeat"):
        value, least = getattr(args, name), 1 if name in positive else 0
        if value < least:
            ap.error(f"--{name.replace('_', '-')} must be >= {least}, got {value}")
    if args.make_transcripts:
        whisper_transcripts(
            args.make_transcripts, args.transcript_seed, args.out / ASR_TRANSCRIPTS.name
        )
    t0 = time.time()
    dict_path = pocketsphinx_model_dir().parent / "cmudict-en-us.dict"
    confusions = phonetic_confusions(corpus.spoken_vocabulary(), dict_path)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "confusions.json").write_text(json.dumps(confusions, indent=0, sort_keys=True))
    data = make_corpus(args.seed, args.examples, confusions)
    transcripts = args.out / ASR_TRANSCRIPTS.name
    if not transcripts.is_file():
        transcripts = ASR_TRANSCRIPTS
    lines = []
    if transcripts.is_file():  # real Whisper errors, repeated so they weigh in
        lines = [json.loads(line) for line in transcripts.open()]
    seen = {t for t, _ in data} | {x["source"] for x in lines}  # as training_texts() has it
    if args.sequences:
        data += sequence_pairs_for(seen, args.sequence_seed, args.sequences, confusions)
    if args.wide:
        data += wide_pairs_for(seen, args.wide_seed, args.wide, confusions)
    if args.loose:
        data += loose_pairs_for(seen, args.loose_seed, args.loose, confusions)
    data += [(corpus.normalise(x["transcript"]), x["target"]) for x in lines] * args.asr_repeat
    random.Random(args.seed).shuffle(data)
    counts = collections.Counter(w for text, _ in data for w in text.split())
    vocab = {"<pad>": 0, "<unk>": 1}
    for word, n in sorted(counts.items()):
        if n >= 2:
            vocab[word] = len(vocab)
    cfg = ParserNetConfig()
    x = np.stack([encode_input(t, vocab, cfg.max_in) for t, _ in data])  # (N, max_in)
    y = np.stack([target_tokens(c, cfg.max_out) for _, c in data])  # (N, max_out + 1)
    # Word dropout to <unk> so unseen ASR words are handled.
    print(f"corpus {len(data)} pairs, vocab {len(vocab)}, {time.time() - t0:.1f} s")

    net = build_net(cfg, len(vocab), len(OUT_TOKENS))
    params = net.init(jax.random.PRNGKey(args.seed), x[:1], y[:1, :-1])
    warmup = min(100, args.steps // 4)
    schedule = optax.warmup_cosine_decay_schedule(0.0, 2e-3, warmup, max(args.steps, 2), 1e-4)
    opt = optax.adamw(schedule, weight_decay=1e-4)
    opt_state = opt.init(params)

    def loss_fn(p, xb, yb):  # noqa: ANN001, ANN202
        logits = net.apply(p, xb, yb[:, :-1])  # (b, max_out, V)
        target = yb[:, 1:]
        mask = (target > 0).astype(jnp.float32)
        nll = optax.softmax_cross_entropy_with_integer_labels(logits, target)
        return jnp.sum(nll * mask) / jnp.sum(mask)

    @jax.jit
    def step(p, s, xb, yb, key):  # noqa: ANN001, ANN202
        drop = jax.random.bernoulli(key, 0.05, xb.shape) & (xb > 0)
        xb = jnp.where(drop, 1, xb)  # word dropout to <unk>
        loss, grads = jax.value_and_grad(loss_fn)(p, xb, yb)
        updates, s = opt.update(grads, s, p)
        return optax.apply_updates(p, updates), s, loss

    rng = np.random.default_rng(args.seed)
    key = jax.random.PRNGKey(args.seed + 1)
    n_train = int(0.95 * len(data))
    for i in range(args.steps):
        idx = rng.integers(0, n_train, args.batch)
        key, sub = jax.random.split(key)
        params, opt_state, loss = step(params, opt_state, x[idx], y[idx], sub)
        if i % 250 == 0 or i == args.steps - 1:
            print(f"step {i} loss {float(loss):.4f} ({time.time() - t0:.0f} s)", flush=True)
    (args.out / "parser.msgpack").write_bytes(flax.serialization.to_bytes(params))
    meta = {
        "net": {k: getattr(cfg, k) for k in cfg.__dataclass_fields__},
        "in_vocab": vocab,
        "out_tokens": list(OUT_TOKENS),
        "command_vocab": command_vocabulary(lines, wide=args.wide > 0, loose=args.loose > 0),
        "trained": {"steps": args.steps, "examples": args.examples, "seed": args.seed,
                    "sequences": args.sequences, "sequence_seed": args.sequence_seed,
                    "wide": args.wide, "wide_seed": args.wide_seed,
                    "loose": args.loose, "loose_seed": args.loose_seed,
                    "final_loss": float(loss), "seconds": round(time.time() - t0, 1)},
    }  # fmt: skip
    (args.out / "parser.json").write_text(json.dumps(meta, indent=1, sort_keys=True))

    from irondog.voice.lm import TrainedParser

    parser = TrainedParser(args.out / "parser.msgpack")
    held = data[n_train : n_train + 400]
    right = sum(
        (parser.parse_one(t).text if parser.parse_one(t).accepted else None) == c for t, c in held
    )
    print(f"held-out exact match {right / len(held):.3f} on {len(held)} ({time.time() - t0:.0f} s)")
    _ = allowed_next  # the decoder's mask: imported so a reader finds it
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
