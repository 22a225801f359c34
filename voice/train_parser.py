"""Retrain the command parser shipped in voice/data/ (a few minutes on 2 CPU cores).

    python -m irondog.voice.train_parser [--steps 1500] [--examples 30000] [--seed 0]
    python -m irondog.voice.train_parser --make-transcripts 1500   # also redo step 3 (~15 min)

1. Phonetic confusions: for each word the phrasings use, the words of pocketsphinx's CMU
   dictionary whose pronunciation is one phone edit away (-> voice/data/confusions.json).
2. Corpus: generated phrasings (``irondog.voice.corpus``), about half corrupted like ASR output
   (substitutions from the confusions, deletions, insertions), plus out-of-domain sentences
   labelled ``<none>``.
3. Real ASR errors: voice/data/asr_transcripts.jsonl holds Whisper's n-best transcripts of
   1,500 other phrasings spoken by espeak-ng, 60% of them in noise (``--make-transcripts``
   regenerates it); they join the corpus three times over.
4. A small encoder-decoder transformer (``irondog.voice.lm.build_net``) trained with teacher
   forcing and AdamW (optax); weights -> voice/data/parser.msgpack, vocabulary and settings ->
   voice/data/parser.json.
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


ASR_TRANSCRIPTS = DATA_DIR / "asr_transcripts.jsonl"


def whisper_transcripts(count: int, seed: int, path: Path) -> None:
    """Speak ``count`` phrasings (espeak-ng), some in noise, transcribe them with Whisper, and
    write (source text, transcript, canonical target) lines: real ASR corruption to learn from.
    """
    from irondog.voice import audio, evalset
    from irondog.voice.asr import WhisperRecognizer

    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    beds = evalset.noise_beds(30.0, seed=seed)
    whisper = WhisperRecognizer()
    with path.open("w") as out:
        for i in range(count):
            if rng.random() < 0.1:
                text, target = corpus.sample_out_of_domain(rng), None
            else:
                command = corpus.sample_command(rng)
                text, target = corpus.phrase(command, rng, disfluency=0.3), to_text(command)
            utt = evalset._voiced(text, None, rng)
            speech = evalset.speak_cached(utt, None)
            clip = evalset.with_silence(speech)
            if rng.random() < 0.6:
                kind = rng.choice(sorted(beds))
                snr = rng.choice([20.0, 10.0, 5.0, 0.0])
                clip = audio.mix_at_snr(
                    clip, beds[kind], snr, nrng, speech_power=audio.power(speech)
                )
            for hyp in whisper.recognize(clip).hypotheses[:2]:
                line = {"source": text, "transcript": hyp.text, "target": target}
                out.write(json.dumps(line) + "\n")
            if i % 100 == 0:
                print(f"transcribed {i}/{count}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Train and write the parser files; prints held-out accuracy."""
    import flax.serialization
    import jax
    import jax.numpy as jnp
    import optax

    from irondog.voice.asr import pocketsphinx_model_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--examples", type=int, default=30000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=DATA_DIR)
    ap.add_argument(
        "--make-transcripts",
        type=int,
        default=0,
        metavar="N",
        help="first speak and transcribe N phrasings into asr_transcripts.jsonl (slow)",
    )
    args = ap.parse_args(argv)
    if args.make_transcripts:
        whisper_transcripts(args.make_transcripts, args.seed + 7, args.out / ASR_TRANSCRIPTS.name)
    t0 = time.time()
    dict_path = pocketsphinx_model_dir().parent / "cmudict-en-us.dict"
    confusions = phonetic_confusions(corpus.spoken_vocabulary(), dict_path)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "confusions.json").write_text(json.dumps(confusions, indent=0, sort_keys=True))
    data = make_corpus(args.seed, args.examples, confusions)
    transcripts = args.out / ASR_TRANSCRIPTS.name
    if not transcripts.is_file():
        transcripts = ASR_TRANSCRIPTS
    if transcripts.is_file():  # real Whisper errors, repeated so they weigh in
        lines = [json.loads(line) for line in transcripts.open()]
        data += [(corpus.normalise(x["transcript"]), x["target"]) for x in lines] * 3
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
        "trained": {"steps": args.steps, "examples": args.examples, "seed": args.seed,
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
