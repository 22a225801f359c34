"""Adapting Whisper tiny.en to spoken robot commands: low-rank adapters (LoRA) trained here.

Whisper tiny.en mishears commands read by synthetic voices (digits, units, rare verbs) and
loses them in noise. This module trains small low-rank corrections to its linear layers on
commands spoken by espeak-ng and Kokoro in the noise the robot hears, with the pipeline's
own prompt and voice-activity trim, and ships only the corrections
(``voice/data/whisper_lora.npz``, a few MB). At load time they are added to the packaged
CTranslate2 weights in memory; nothing is written to disk and nothing is downloaded.

Retrain (the shipped adapter: 73 minutes on 2 CPU cores, 43 of them speaking the clips)::

    python -m irondog.voice.tune_whisper [--clips 10000] [--epochs 1] [--seed 6007] [--neural 0.2]

The CTranslate2 model file is read and written by ``read_ct2`` / ``ct2_bytes`` (format
version 6: a header, then named tensors, then aliases); the model is Whisper as published
(pre-norm transformer, GELU, sinusoidal encoder positions, learned decoder positions, output
tied to the token embedding), written in torch only for training.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from irondog.voice.asr import MIN_WINDOW_S
from irondog.voice.ct2_adapter import (  # noqa: F401  (re-exported for training and its tests)
    ADAPTER,
    DATA_DIR,
    Ct2Model,
    adapted_files,
    ct2_bytes,
    load_adapter,
    lora_targets,
    merge_adapter,
    read_ct2,
)

WINDOW_FRAMES = int(100 * MIN_WINDOW_S)  # trained in the recogniser's shortest window
MAX_CLIP_S = MIN_WINDOW_S - 2.0  # speech that fits it with the recogniser's 2 s of padding


# --- the model, in torch, for training -------------------------------------------------------


def _torch_whisper(variables: dict[str, np.ndarray], rank: int, alpha: float) -> Any:
    """Whisper (frozen) with trainable LoRA factors on ``lora_targets``."""
    import torch
    from torch import nn
    from torch.nn import functional as F  # noqa: N812

    heads = int(variables["encoder/num_heads"])
    targets = lora_targets(variables)

    def layers(stack: str) -> list[str]:
        count = sum(1 for k in variables if k.startswith(f"{stack}/layer_") and
                    k.endswith("/ffn/linear_0/weight"))  # fmt: skip
        return [f"{stack}/layer_{i}" for i in range(count)]

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = {k: torch.from_numpy(v.astype(np.float32)) for k, v in variables.items()
                      if v.dtype == np.float16}  # fmt: skip
            self.scale = alpha / rank
            self.lora = nn.ParameterDict()
            g = torch.Generator().manual_seed(0)
            for k in targets:
                out_dim, in_dim = self.w[k].shape
                key = k.replace("/", "|")
                a = torch.randn(rank, in_dim, generator=g) / math.sqrt(in_dim)
                self.lora[key + "|A"] = nn.Parameter(a)
                self.lora[key + "|B"] = nn.Parameter(torch.zeros(out_dim, rank))

        def lin(self, x: Any, name: str) -> Any:
            y = F.linear(x, self.w[name + "/weight"], self.w[name + "/bias"])
            key = (name + "/weight").replace("/", "|")
            if key + "|A" in self.lora:
                a, b = self.lora[key + "|A"], self.lora[key + "|B"]
                y = y + self.scale * F.linear(F.linear(x, a), b)
            return y

        def ln(self, x: Any, name: str) -> Any:
            return F.layer_norm(x, x.shape[-1:], self.w[name + "/gamma"], self.w[name + "/beta"])

        def attend(self, q: Any, k: Any, v: Any, causal: bool) -> Any:
            b, lq, d = q.shape
            split = lambda t: t.view(b, t.shape[1], heads, d // heads).transpose(1, 2)  # noqa: E731
            o = F.scaled_dot_product_attention(split(q), split(k), split(v), is_causal=causal)
            return o.transpose(1, 2).reshape(b, lq, d)

        def self_attention(self, x: Any, p: str, causal: bool) -> Any:
            h = self.ln(x, f"{p}/self_attention/layer_norm")
            q, k, v = self.lin(h, f"{p}/self_attention/linear_0").chunk(3, dim=-1)
            return x + self.lin(self.attend(q, k, v, causal), f"{p}/self_attention/linear_1")

        def feed_forward(self, x: Any, p: str) -> Any:
            h = F.gelu(self.lin(self.ln(x, f"{p}/ffn/layer_norm"), f"{p}/ffn/linear_0"))
            return x + self.lin(h, f"{p}/ffn/linear_1")

        def encode(self, mel: Any) -> Any:
            w = self.w
            x = F.gelu(F.conv1d(mel, w["encoder/conv1/weight"], w["encoder/conv1/bias"], padding=1))
            x = F.gelu(F.conv1d(x, w["encoder/conv2/weight"], w["encoder/conv2/bias"], stride=2,
                                padding=1))  # fmt: skip
            x = x.transpose(1, 2)
            x = x + w["encoder/position_encodings/encodings"][: x.shape[1]]
            for p in layers("encoder"):
                x = self.feed_forward(self.self_attention(x, p, causal=False), p)
            return self.ln(x, "encoder/layer_norm")

        def decode(self, tokens: Any, enc: Any) -> Any:
            w = self.w
            emb = w["decoder/embeddings/weight"]
            x = emb[tokens] + w["decoder/position_encodings/encodings"][: tokens.shape[1]]
            for p in layers("decoder"):
                x = self.self_attention(x, p, causal=True)
                q = self.lin(self.ln(x, f"{p}/attention/layer_norm"), f"{p}/attention/linear_0")
                k, v = self.lin(enc, f"{p}/attention/linear_1").chunk(2, dim=-1)
                x = x + self.lin(self.attend(q, k, v, False), f"{p}/attention/linear_2")
                x = self.feed_forward(x, p)
            return self.ln(x, "decoder/layer_norm")  # logits: @ embeddings.T (tied)

    return Net()


def adapter_arrays(net: Any) -> dict[str, np.ndarray]:
    """The trained factors keyed as ``load_adapter`` reads them (float16)."""
    out = {}
    for key, p in net.lora.items():
        name, part = key.rsplit("|", 1)
        out[f"{name.replace('|', '/')}.{part}"] = p.detach().numpy().astype(np.float16)
    return out


# --- training data: commands spoken by espeak-ng in the robot's noise --------------------------


def training_clips(
    count: int, seed: int, skip: set[str], non_command: float = 0.15, neural: float = 0.0
) -> Iterator[tuple[np.ndarray, str]]:
    """(trimmed 16 kHz clip, the words spoken): ``non_command`` of the speech is everyday
    sentences that are no command (15% by default), ``neural`` of it read by Kokoro's training
    voices (``evalset.kokoro_voiced``) and the rest by espeak-ng, 60% in noise (white,
    babble, wind, motor at 20-0 dB, beds cut from this seed), each heard as the pipeline hears
    it (voice-activity trim) and stretched by 1.0, 1.1 or 1.2 like its views; and 5% noise
    alone that the voice-activity detector let through, to be heard as nothing."""
    from irondog.voice import audio, corpus, evalset

    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    beds = evalset.noise_beds(30.0, seed=seed)
    done = 0
    while done < count:
        if rng.random() < 0.05:
            bed = beds[rng.choice(sorted(beds))]
            size = int(rng.uniform(1.0, 4.0) * audio.SAMPLE_RATE)
            start = int(nrng.integers(0, bed.size - size))
            clip = rng.uniform(0.03, 0.3) * bed[start : start + size]
            span = audio.speech_span(clip, 1)
            if span is not None:
                done += 1
                yield clip[span[0] : span[1]], ""
            continue
        if rng.random() < non_command:
            text = corpus.sample_out_of_domain(rng)
        else:
            text = corpus.phrase(corpus.sample_command(rng), rng, disfluency=0.3)
        if neural and rng.random() < neural:  # no draw at 0: the espeak-ng-only draws as before
            utt = evalset.kokoro_voiced(text, None, rng)
        else:
            utt = evalset._voiced(text, None, rng)
        noisy = rng.random() < 0.6
        kind, snr = rng.choice(sorted(beds)), rng.choice([20.0, 10.0, 5.0, 0.0])
        factor = rng.choice([1.0, 1.1, 1.2])
        if text in skip:
            continue
        speech = evalset.speak_cached(utt, None)
        if noisy:
            clip = evalset.in_noise(speech, beds[kind], snr, nrng)
        else:
            clip = evalset.with_silence(speech)
        span = audio.speech_span(clip, 1)
        if span is None:
            continue
        clip = clip[span[0] : span[1]]
        if factor != 1.0:
            clip = audio.stretched(clip, factor)
        if clip.size > MAX_CLIP_S * audio.SAMPLE_RATE:
            continue
        done += 1
        yield clip, text


def recorded_clips(manifest: Path) -> list[tuple[np.ndarray, str]]:
    """Your own recordings: a tab-separated file of ``audio path<TAB>words spoken`` lines
    (paths relative to the file; ``#`` starts a comment), each trimmed as the pipeline trims."""
    from irondog.voice import audio

    if not manifest.is_file():
        raise FileNotFoundError(f"recordings list {manifest} does not exist")
    out = []
    for number, line in enumerate(manifest.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        path, sep, text = line.partition("\t")
        where = f"{manifest}, line {number}"
        if not sep or not text.strip():
            raise ValueError(f"{where}: expected 'audio path<TAB>words spoken', got {line!r}")
        clip = audio.load_audio(manifest.parent / path.strip())
        span = audio.speech_span(clip, 1)
        if span is None:
            raise ValueError(f"{where}: no speech found in {path.strip()}")
        clip = clip[span[0] : span[1]]
        if clip.size > MAX_CLIP_S * audio.SAMPLE_RATE:
            seconds = clip.size / audio.SAMPLE_RATE
            raise ValueError(f"{where}: {seconds:.1f} s of speech; at most {MAX_CLIP_S:g} s")
        out.append((clip, text.strip().lower()))
    if not out:
        raise ValueError(f"{manifest}: no recordings listed")
    return out


def _features(clips: list[np.ndarray], frames: int) -> np.ndarray:
    """Log-mel features exactly as the recogniser computes them, padded to ``frames``."""
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.feature_extractor import FeatureExtractor

    extract = FeatureExtractor()
    return np.stack([pad_or_trim(extract(c.astype(np.float32)), frames) for c in clips])


def main(argv: list[str] | None = None) -> int:
    import torch
    from faster_whisper.tokenizer import Tokenizer
    from tokenizers import Tokenizer as HfTokenizer

    from irondog.voice import evalset
    from irondog.voice.asr import WHISPER_PROMPT, prompt_tokens, whisper_model_dir
    from irondog.voice.train_parser import training_texts

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", type=int, default=10_000, help="spoken training commands")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=6007, help="seed of the phrasings and noise")
    ap.add_argument(
        "--non-command",
        type=float,
        default=0.15,
        help="share of the speech that is everyday sentences, not commands (0-1)",
    )
    ap.add_argument(
        "--neural",
        type=float,
        default=0.2,
        help="share of the speech read by Kokoro's neural voices instead of espeak-ng (0-1)",
    )
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--recordings",
        type=Path,
        default=None,
        help="also train on your own: a TSV of 'audio path<TAB>words spoken' lines",
    )
    ap.add_argument("--out", type=Path, default=ADAPTER)
    args = ap.parse_args(argv)
    if not 0.0 <= args.non_command < 1.0:
        ap.error(f"--non-command: {args.non_command} is not a share in [0, 1)")
    if not 0.0 <= args.neural <= 1.0:
        ap.error(f"--neural: {args.neural} is not a share in [0, 1]")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    model_dir = whisper_model_dir("tiny.en")
    with (model_dir / "model.bin").open("rb") as f:
        base = read_ct2(f)
    tok = Tokenizer(HfTokenizer.from_file(str(model_dir / "tokenizer.json")), False,
                    task="transcribe", language="en")  # fmt: skip
    prompt = prompt_tokens(tok, WHISPER_PROMPT)

    skip = evalset.reserved_texts(training_texts())  # no evaluation phrasing is trained on
    t0 = time.time()
    pairs = []
    for pair in training_clips(args.clips, args.seed, skip, args.non_command, args.neural):
        pairs.append(pair)
        if len(pairs) % 1000 == 0:
            print(f"{len(pairs)} clips spoken, {time.time() - t0:.0f} s", flush=True)
    if args.recordings is not None:
        pairs += recorded_clips(args.recordings)
    if not pairs:
        raise SystemExit("nothing to train on: --clips 0 and no --recordings")
    clips = [c for c, _ in pairs]
    texts = [t for _, t in pairs]
    del pairs
    feats = _features(clips, WINDOW_FRAMES).astype(np.float16)
    del clips
    print(f"{len(texts)} clips spoken and featurised in {time.time() - t0:.0f} s", flush=True)

    seqs = [prompt + (tok.encode(" " + t) if t else []) + [tok.eot] for t in texts]
    net = _torch_whisper(base.variables, args.rank, alpha=2.0 * args.rank)
    opt = torch.optim.AdamW(net.lora.parameters(), lr=args.lr, weight_decay=0.0)
    steps = args.epochs * math.ceil(len(seqs) / args.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, args.lr, total_steps=steps, pct_start=0.1)
    order_rng = np.random.default_rng(args.seed)
    step = 0
    for epoch in range(args.epochs):
        order = order_rng.permutation(len(seqs))
        for i in range(0, len(order), args.batch):
            idx = order[i : i + args.batch]
            longest = max(len(seqs[j]) for j in idx)
            tokens = torch.full((len(idx), longest), tok.eot, dtype=torch.long)
            labels = torch.full((len(idx), longest), -100, dtype=torch.long)
            for r, j in enumerate(idx):
                s = seqs[j]
                tokens[r, : len(s)] = torch.tensor(s)
                labels[r, len(prompt) - 1 : len(s) - 1] = torch.tensor(s[len(prompt) :])
            mel = torch.from_numpy(feats[idx].astype(np.float32))
            hidden = net.decode(tokens[:, :-1], net.encode(mel))
            keep = labels[:, :-1] >= 0  # project only the positions that are scored
            logits = hidden[keep] @ net.w["decoder/embeddings/weight"].T
            loss = torch.nn.functional.cross_entropy(logits, labels[:, :-1][keep])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if step % 20 == 0:
                print(f"epoch {epoch} step {step}/{steps} loss {loss.item():.4f} "
                      f"{time.time() - t0:.0f} s", flush=True)  # fmt: skip
    meta = {"scale": net.scale, "rank": args.rank, "base": "tiny.en", "clips": len(seqs),
            "epochs": args.epochs, "seed": args.seed, "lr": args.lr,
            "batch": args.batch, "non_command": args.non_command,
            "neural": args.neural}  # fmt: skip
    arrays = adapter_arrays(net)
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    tmp = args.out.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB) in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
