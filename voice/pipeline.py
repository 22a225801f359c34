"""Audio -> command: validate, trim to speech (VAD), optionally denoise, recognise, parse, and
map onto joystick segments. ``VoicePipeline.stream`` end-points a continuous stream."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from irondog.voice import audio as audio_io
from irondog.voice import grounding
from irondog.voice.audio import SAMPLE_RATE
from irondog.voice.commands import Command, JoystickState, plan, segments_to_dicts, to_dict
from irondog.voice.config import RejectConfig, VoiceConfig

if TYPE_CHECKING:  # the engines import heavy packages; load them only when a pipeline starts
    from irondog.voice.asr import Recognition
    from irondog.voice.lm import Parse

NOT_UNDERSTOOD = "I didn't catch that."


@dataclasses.dataclass(frozen=True)
class Result:
    """What the pipeline understood from one utterance."""

    command: Command | None
    text: str  # canonical command text, or "none"
    transcript: str
    confidence: float
    nbest: tuple[tuple[str, float], ...]
    reason: str  # "ok", "no speech", "not understood", "too long", "run-on speech",
    # "not for the robot" (a reject gate), or bad input, never guessed at: "clipped",
    # "too quiet", "mostly silence"
    timings_ms: dict[str, float]
    segments: tuple[Any, ...] = ()
    stretch: float = 1.0  # the view (asr.stretch factor) whose reading was taken
    detail: str = ""  # what is wrong with bad input (its level, its share of clipped samples)
    # or which reject gate refused the command
    signals: dict[str, Any] = dataclasses.field(default_factory=dict)  # what the gates read
    refused: Command | None = None  # the command a reject gate refused (not in the JSON)

    @property
    def accepted(self) -> bool:
        """Whether a command was understood."""
        return self.command is not None

    def to_dict(self, source: str | None = None) -> dict[str, Any]:
        """One JSON object: the command in the schema's documented form (or null), and context."""
        out: dict[str, Any] = {}
        if source is not None:
            out["file"] = source
        out.update(
            accepted=self.accepted,
            command=to_dict(self.command) if self.command is not None else None,
            text=self.text,
            message=None if self.accepted else NOT_UNDERSTOOD,
            reason=self.reason,
            detail=self.detail or None,
            transcript=self.transcript,
            confidence=round(self.confidence, 4),
            nbest=[{"text": t, "confidence": round(c, 4)} for t, c in self.nbest],
            joystick=segments_to_dicts(self.segments),
            stretch=self.stretch,
            signals={k: _rounded(v) for k, v in self.signals.items()},
            timings_ms={k: round(v, 1) for k, v in self.timings_ms.items()},
        )
        return out


def _rounded(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value


class Heard(NamedTuple):
    """The view a pipeline took: its recognition, n-best list (above the ASR-confidence
    floor), parse (None when nothing was confident enough to parse) and stretch factor."""

    recognition: Recognition
    nbest: tuple[tuple[str, float], ...]
    parse: Parse | None
    stretch: float


class VoicePipeline:
    """Holds the loaded recogniser and parser; call ``understand`` per utterance."""

    def __init__(self, config: VoiceConfig | None = None) -> None:
        from irondog.voice.asr import PROMPTS, make_recognizer, whisper_adapter
        from irondog.voice.lm import make_parser

        self.config = config if config is not None else VoiceConfig()
        cfg = self.config
        kwargs: dict[str, Any] = {}
        if cfg.asr.engine == "whisper":
            kwargs = {
                "beam_size": cfg.asr.beam_size,
                "full_window": cfg.asr.full_window,
                "min_window_s": cfg.asr.min_window_s,
                "adapter": whisper_adapter(cfg.asr.adapter, cfg.asr.model),
                "prompt": PROMPTS[cfg.asr.prompt],
            }
        self.recognizer = make_recognizer(
            cfg.asr.engine, cfg.asr.model, allow_download=cfg.asr.allow_download, **kwargs
        )
        lm_kwargs: dict[str, Any] = {"threshold": cfg.lm.threshold}
        if cfg.lm.parser == "trained":
            lm_kwargs["min_coverage"] = cfg.lm.min_coverage
        self.parser = make_parser(cfg.lm.parser, cfg.lm.model, **lm_kwargs)
        # counted once here (about 1 s), not on the first command: signals() reads them even
        # with reject.grounded off, for the benchmarks that judge every gate on one run
        grounding.cue_words()
        self.state = JoystickState()

    def understand(
        self, samples: np.ndarray, source: str = "<audio>", run_on: bool = False
    ) -> Result:
        """One utterance of validated (n,) float32 16 kHz audio -> Result. ``run_on``: the
        stream cut it at ``stream.max_utterance_s`` without a pause, so it is rejected."""
        cfg = self.config
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        samples = audio_io.validate(samples, source, cfg.audio.max_seconds, True)
        bad = audio_io.quality(samples, cfg.audio.vad_aggressiveness, cfg.audio.allow_clipped)
        if bad is not None:  # reported, not heard: a guess from such audio is not a command
            timings["total"] = 1000 * (time.perf_counter() - t0)
            return Result(None, "none", "", 0.0, (), bad[0], timings, detail=bad[1])
        if cfg.audio.vad:
            span = audio_io.speech_span(samples, cfg.audio.vad_aggressiveness)
            timings["vad"] = 1000 * (time.perf_counter() - t0)
            if span is None:
                return Result(None, "none", "", 0.0, (), "no speech", timings)
            samples = samples[span[0] : span[1]]
        if cfg.audio.denoise:
            from irondog.voice.denoise import enhance

            t = time.perf_counter()
            samples = enhance(samples, cfg.audio.highpass_hz or None)
            timings["denoise"] = 1000 * (time.perf_counter() - t)
        recognition, nbest, parse, stretch = self.hear(samples, timings)
        if parse is None:
            timings["total"] = 1000 * (time.perf_counter() - t0)
            transcript = recognition.best.text if recognition.best else ""
            return Result(None, "none", transcript, 0.0, (), "not understood", timings)
        timings["total"] = 1000 * (time.perf_counter() - t0)
        if parse.command is None:
            return Result(
                None, "none", nbest[0][0], parse.confidence, nbest, "not understood", timings
            )
        # Run-on speech is not a command, however confidently a piece of it parses.
        if run_on or too_long(parse, cfg.lm.max_words):
            reason = "run-on speech" if run_on else "too long"
            return Result(None, "none", parse.transcript, parse.confidence, nbest, reason, timings)
        signals = self.signals(samples, Heard(recognition, nbest, parse, stretch), timings)
        refused = gate(signals, cfg.reject)
        timings["total"] = 1000 * (time.perf_counter() - t0)
        if refused:
            return Result(
                None,
                "none",
                parse.transcript,
                parse.confidence,
                nbest,
                "not for the robot",
                timings,
                stretch=stretch,
                detail=refused,
                signals=signals,
                refused=parse.command,
            )
        segments, self.state = plan(parse.command, self.state, cfg.joystick)
        return Result(
            parse.command,
            parse.text,
            parse.transcript,
            parse.confidence,
            nbest,
            "ok",
            timings,
            tuple(segments),
            stretch,
            signals=signals,
        )

    def signals(
        self, speech: np.ndarray, heard: Heard, timings: dict[str, float] | None = None
    ) -> dict[str, Any]:
        """What the reject gates read of an accepted parse of ``speech`` (trimmed audio):
        Whisper's no-speech probability and the parsed hypothesis's mean log-probability,
        its compression ratio, seconds of speech, words per second, the parse's confidence,
        the actions nothing in the transcript asks for (``grounding``), and
        (``reject.verify``) the second reading and whether it parses the same."""
        from irondog.voice.asr import VOCABULARY_PROMPT, compression_ratio
        from irondog.voice.commands import to_json

        parse = heard.parse
        assert parse is not None and parse.command is not None
        hyps = heard.recognition.hypotheses
        parsed = next((h for h in hyps if h.text == parse.transcript), hyps[0] if hyps else None)
        seconds = speech.size / SAMPLE_RATE
        out: dict[str, Any] = {
            "command": parse.text,
            "no_speech_prob": heard.recognition.no_speech_prob,
            "logprob": parsed.score if parsed is not None else 0.0,
            "compression_ratio": compression_ratio(parse.transcript),
            "speech_s": seconds,
            "words_per_s": len(parse.transcript.split()) / max(seconds, 1e-3),
            "parse_confidence": parse.confidence,
            # the actions nothing in the transcript asks for (voice/grounding.py)
            "ungrounded": grounding.ungrounded(parse.command, parse.transcript),
        }
        mode = self.config.reject.verify
        if mode != "none":
            t = time.perf_counter()
            prompt = "" if mode == "unprompted" else VOCABULARY_PROMPT
            view = audio_io.stretched(speech, heard.stretch)
            again = self.recognizer.recognize_batch([view], prompt=prompt)[0]  # type: ignore[attr-defined]
            _, second = self.interpret(again)
            out["verify_transcript"] = again.best.text if again.best else ""
            out["verified"] = bool(
                second is not None
                and second.command is not None
                and to_json(second.command) == to_json(parse.command)
            )
            if timings is not None:
                timings["verify"] = 1000 * (time.perf_counter() - t)
        return out

    def hear(self, speech: np.ndarray, timings: dict[str, float] | None = None) -> Heard:
        """Recognise trimmed speech as it is and stretched by each of ``asr.stretch`` (one
        Whisper batch), parse each, and keep the most confident accepted parse; with none
        accepted, the first view's. Adds "asr" and "lm" times (ms) to ``timings``."""
        t = time.perf_counter()
        views = self.recognize_views(speech)
        t_lm = time.perf_counter()
        heard = [Heard(r, *self.interpret(r), f) for f, r in views]
        best = heard[best_view([h.parse for h in heard])]
        if timings is not None:
            timings["asr"] = 1000 * (t_lm - t)
            timings["lm"] = 1000 * (time.perf_counter() - t_lm)
        return best

    def recognize_views(self, speech: np.ndarray) -> list[tuple[float, Recognition]]:
        """(stretch factor, Recognition) of each ``asr.stretch`` view of trimmed speech, in
        one Whisper batch."""
        from irondog.voice.asr import WINDOW_S, recognize_all

        # A view longer than Whisper's window would lose its end and could parse, confidently,
        # as a shorter command: long speech is heard only as far as it fits.
        fits = [f for f in self.config.asr.stretch if f * speech.size <= WINDOW_S * SAMPLE_RATE]
        factors = fits or [1.0]
        views = [audio_io.stretched(speech, f) for f in factors]
        return list(zip(factors, recognize_all(self.recognizer, views), strict=True))

    def interpret(
        self, recognition: Recognition
    ) -> tuple[tuple[tuple[str, float], ...], Parse | None]:
        """The hypotheses of a recognition above the ASR-confidence floor, and the parser's
        reading of them (None when no hypothesis is confident enough to parse)."""
        nbest = tuple(
            (h.text, h.confidence)
            for h in recognition.hypotheses
            if h.confidence >= self.config.asr.min_confidence
        )
        return nbest, (self.parser.parse(list(nbest)) if nbest else None)

    def understand_file(self, path: str | Path) -> Result:
        """Load, validate and understand one audio file."""
        cfg = self.config.audio
        # Clipped audio is reported in the result (reason "clipped"), not raised.
        samples = audio_io.load_audio(path, cfg.max_seconds, allow_clipped=True)
        return self.understand(samples, str(path))

    def stream(self, chunks: Iterable[np.ndarray]) -> Iterator[tuple[float, Result]]:
        """End-point a stream of (k,) 16 kHz chunks by VAD; yield (start time s, Result)."""
        cfg = self.config.stream
        frame = int(audio_io.VAD_FRAME_S * audio_io.SAMPLE_RATE)
        pending = np.zeros(0, np.float32)
        utterance: list[np.ndarray] = []
        silence = 0.0
        consumed = 0  # samples
        start_s = 0.0
        lead = np.zeros(0, np.float32)  # a little audio before speech starts
        for chunk in chunks:
            pending = np.concatenate([pending, np.asarray(chunk, np.float32)])
            n = len(pending) // frame
            if n == 0:
                continue
            frames = pending[: n * frame].reshape(n, frame)
            pending = pending[n * frame :]
            flags = audio_io.speech_frames(frames.reshape(-1), self.config.audio.vad_aggressiveness)
            for f, is_speech in zip(frames, flags, strict=True):
                consumed += frame
                if utterance:
                    utterance.append(f)
                    silence = 0.0 if is_speech else silence + audio_io.VAD_FRAME_S
                    length = len(utterance) * audio_io.VAD_FRAME_S
                    if silence >= cfg.end_silence_s or length >= cfg.max_utterance_s:
                        run_on = silence < cfg.end_silence_s  # cut by length, not a pause
                        speech = np.concatenate(utterance)
                        yield start_s, self.understand_utterance(speech, run_on)
                        utterance, silence = [], 0.0
                elif is_speech:
                    start_s = consumed / audio_io.SAMPLE_RATE - len(lead) / audio_io.SAMPLE_RATE
                    utterance = [lead, f]
                else:
                    lead = np.concatenate([lead, f])[-int(0.3 * audio_io.SAMPLE_RATE) :]
        if utterance and len(utterance) * audio_io.VAD_FRAME_S > 0.3:
            yield start_s, self.understand_utterance(np.concatenate(utterance))

    def understand_utterance(self, speech: np.ndarray, run_on: bool = False) -> Result:
        """One end-pointed stream utterance: audio too faint to be speech (peak below -60
        dBFS, where ``understand`` raises for a file) is reported as "too quiet", so a
        stream goes on past it."""
        peak = float(np.max(np.abs(speech))) if speech.size else 0.0
        if peak < audio_io.SILENCE_PEAK:
            detail = f"peak {peak:.2e}, below -60 dBFS"
            return Result(None, "none", "", 0.0, (), "too quiet", {"total": 0.0}, detail=detail)
        return self.understand(speech, "<stream>", run_on)


UNGROUNDED = "nothing said asks for"  # how ``gate`` words a reject.grounded refusal


def gate(signals: dict[str, Any], cfg: RejectConfig) -> str:
    """Which reject gates ``signals`` fail ("" when none): e.g. "no_speech_prob 0.71 > 0.6"."""
    limits = (
        ("no_speech_prob", cfg.max_no_speech_prob, 1),
        ("logprob", cfg.min_logprob, -1),
        ("parse_confidence", cfg.min_parse_confidence, -1),
        ("compression_ratio", cfg.max_compression_ratio, 1),
        ("speech_s", cfg.max_speech_s, 1),
        ("words_per_s", cfg.max_words_per_s, 1),
    )
    failed = []
    for name, limit, sign in limits:
        if limit is not None and sign * signals[name] > sign * limit:
            failed.append(f"{name} {signals[name]:.3g} {'>' if sign > 0 else '<'} {limit:g}")
    if cfg.grounded and signals.get("ungrounded"):
        failed.append(f"{UNGROUNDED} {', '.join(signals['ungrounded'])}")
    if cfg.verify != "none" and not signals.get("verified", False):
        heard = signals.get("verify_transcript", "")
        failed.append(f"verify ({cfg.verify}) heard {heard!r}, another command or none")
    return "; ".join(failed)


def refused_by_grounding_alone(result: Result) -> bool:
    """Whether reject.grounded, and no other gate, refused ``result``'s command."""
    detail = result.detail or ""
    return result.refused is not None and detail.startswith(UNGROUNDED) and ";" not in detail


def too_long(parse: Parse, max_words: int) -> bool:
    """Whether the transcript that parsed runs past ``lm.max_words`` (run-on speech)."""
    return len(parse.transcript.split()) > max_words


def best_view(parses: list[Parse | None]) -> int:
    """Index of the view whose parse is taken: the most confident accepted one, else the first."""
    accepted = [i for i, p in enumerate(parses) if p is not None and p.accepted]
    return max(accepted, key=lambda i: parses[i].confidence) if accepted else 0


def file_chunks(path: str | Path, chunk_s: float = 0.5) -> Iterator[np.ndarray]:
    """Read a wav/flac file (or '-' for raw s16le 16 kHz mono on stdin) in chunks."""
    import sys

    size = int(chunk_s * audio_io.SAMPLE_RATE)
    if str(path) == "-":
        while True:
            data = sys.stdin.buffer.read(2 * size)
            if not data:
                return
            yield np.frombuffer(data[: len(data) // 2 * 2], "<i2").astype(np.float32) / 32768.0
    import soundfile

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"audio stream file {path} does not exist")
    info = soundfile.info(str(path))
    block = int(chunk_s * info.samplerate)
    for data in soundfile.blocks(str(path), blocksize=block, dtype="float32", always_2d=True):
        yield audio_io.to_mono_16k(data, info.samplerate, str(path))
