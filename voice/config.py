"""Typed configuration of the voice pipeline (defaults in code; configs/voice/*.yaml override)."""

from __future__ import annotations

import dataclasses
from typing import Literal

from irondog.config import check
from irondog.voice.asr import MIN_WINDOW_S
from irondog.voice.audio import STRETCH_RANGE
from irondog.voice.commands import JoystickLimits


@dataclasses.dataclass(frozen=True)
class AudioConfig:
    """Input checks, voice-activity trimming and noise suppression."""

    max_seconds: float = 60.0  # longer input is an error
    allow_clipped: bool = False
    vad: bool = True  # trim to the detected speech; reject clips with none
    vad_aggressiveness: int = 1  # webrtcvad 0 (keeps most) .. 3 (drops most)
    denoise: bool = False  # high-pass + noisereduce spectral gating
    highpass_hz: float = 100.0

    def __post_init__(self) -> None:
        check(0 < self.max_seconds <= 600, "max_seconds", "must be in (0, 600]")
        check(self.vad_aggressiveness in (0, 1, 2, 3), "vad_aggressiveness", "must be 0..3")
        check(0 <= self.highpass_hz < 8000, "highpass_hz", "must be in [0, 8000)")


@dataclasses.dataclass(frozen=True)
class AsrConfig:
    """Which recogniser, and where its model is (None: the one a registry package ships)."""

    engine: Literal["whisper", "pocketsphinx"] = "whisper"
    model: str | None = None  # whisper: None = tiny.en; "base"; or a model directory of your own
    allow_download: bool = False  # let faster-whisper fetch a hub id (never by default)
    beam_size: int = 5  # whisper beam width; the parser reads the best 3 hypotheses
    full_window: bool = False  # whisper: encode the full 30 s window (slower)
    min_window_s: float = MIN_WINDOW_S  # whisper: else encode at least this (speech + 2 s)
    # Reject transcripts below this ASR confidence (the noise-alone guard). 0.5 with the adapter:
    # on development clips it let 0 of 240 clips of noise alone through (0.3: 5, all loud babble,
    # at 0.30-0.36) and lost no command; 0.3 was chosen for Whisper as published.
    min_confidence: float = 0.5
    # Also recognise the speech stretched by these factors (1.1: 10% slower and lower, by
    # resampling) and keep the most confident accepted parse; (1.0,) hears it once. Whisper
    # tiny.en mishears fast espeak-ng voices less when they are slowed down.
    stretch: tuple[float, ...] = (1.0, 1.1, 1.2)
    # whisper: low-rank corrections added to the model's weights (tune_whisper). "packaged":
    # the one in voice/data, trained for the packaged tiny.en (other models and engines hear
    # without it); a path: your own; None: Whisper as published.
    adapter: str | None = "packaged"
    # whisper: the text the decoder reads before the transcript (asr.PROMPTS): "commands",
    # example commands as people say them (the adapter and the trained parser were made after
    # it); "vocabulary": the command words alone; "none". Chosen on DEV speech, "none" heard
    # as well (77.3 vs 76.7% clean, 66.7 vs 65.8% at 10 dB, 51.7 vs 52.5% at 0 dB) at about
    # 0.9 of the time, but on the held-out voices and beds, scored once, every noisy mean fell
    # 3-10 points (12 of 16 rows lower, none higher; RESULTS.md, 2026-12-04): "commands"
    # stays the default. pocketsphinx reads none.
    prompt: Literal["none", "commands", "vocabulary"] = "commands"

    def __post_init__(self) -> None:
        check(1 <= self.beam_size <= 10, "beam_size", "must be in 1..10")
        check(1 <= len(self.stretch) <= 4, "stretch", "needs 1 to 4 factors")
        lo, hi = STRETCH_RANGE
        in_range = all(lo <= f <= hi for f in self.stretch)
        check(in_range, "stretch", f"factors must be in [{lo:g}, {hi:g}]")
        check(1 <= self.min_window_s <= 30, "min_window_s", "must be in [1, 30] s")
        own = self.adapter not in (None, "packaged")
        check(not own or self.engine == "whisper", "adapter", "applies to the whisper engine only")
        check(0 <= self.min_confidence <= 1, "min_confidence", "must be in [0, 1]")


@dataclasses.dataclass(frozen=True)
class LmConfig:
    """Which transcript -> command parser; model overrides its weights or GGUF path."""

    parser: Literal["trained", "llm", "rules"] = "trained"
    model: str | None = None
    threshold: float = 0.7  # reject parses less confident than this
    # trained parser: reject a transcript when fewer of its words are command words
    min_coverage: float = 0.7
    # A transcript of more words is run-on speech, not a command, and is rejected whatever
    # the parser says: the longest command phrasing the parser was trained on has 28 words,
    # and the trained parser reads only its first 28 (ParserNetConfig.max_in).
    max_words: int = 30

    def __post_init__(self) -> None:
        check(0 <= self.threshold <= 1, "threshold", "must be in [0, 1]")
        check(self.max_words >= 1, "max_words", "must be >= 1")
        check(0 <= self.min_coverage <= 1, "min_coverage", "must be in [0, 1]")


@dataclasses.dataclass(frozen=True)
class StreamConfig:
    """End-pointing of a continuous stream by voice activity."""

    chunk_s: float = 0.5  # s read at a time
    end_silence_s: float = 0.6  # silence that ends an utterance
    max_utterance_s: float = 10.0

    def __post_init__(self) -> None:
        check(self.chunk_s > 0, "chunk_s", "must be > 0")
        check(self.end_silence_s > 0, "end_silence_s", "must be > 0")
        check(self.max_utterance_s > 1, "max_utterance_s", "must be > 1")


@dataclasses.dataclass(frozen=True)
class RejectConfig:
    """Gates on an accepted parse, for speech not meant for the robot: each rejects the
    command (reason "not for the robot", the gate in ``detail``); None turns a gate off.
    The values of ``signals`` in the JSON result are what the gates read."""

    # Whisper's no-speech probability of the view that was taken.
    max_no_speech_prob: float | None = None
    # Length-normalised log-probability of the hypothesis that parsed (nats per token), and
    # the parse's confidence. Chosen on DEV (benchmarks/voice_reject_dev.py; RESULTS.md):
    # -0.43 and 0.86 lie between the worst DEV command understood (-0.38, 0.88) and the
    # non-commands they refuse; together 9 -> 5 DEV false accepts, no DEV command lost.
    min_logprob: float | None = -0.43
    min_parse_confidence: float | None = 0.86
    # zlib compression ratio of that transcript (Whisper's repetition-loop signal).
    max_compression_ratio: float | None = None
    # Seconds of speech (after VAD trimming) and words per second of it.
    max_speech_s: float | None = None
    max_words_per_s: float | None = None
    # Hear the taken view a second time with another decoder prompt, and keep the command
    # only when that reading parses to the same command: "unprompted" (no prompt),
    # "vocabulary" (the command words alone, asr.VOCABULARY_PROMPT), or "none" (off). Off:
    # on DEV either mode lost a command and took about 1 s more per command (load 5).
    verify: Literal["none", "unprompted", "vocabulary"] = "none"
    # Keep a command only when each of its actions has a word that asks for it in the
    # transcript (voice/grounding.py: cue words counted over the training phrasings). On the
    # DEV stream (benchmarks/voice_reject_dev.py, 2026-12-04) it refused all 4 synthetic false
    # accepts the two thresholds above let through, and no DEV command understood; as text
    # it refused 1 of 529 DEV commands the parser read right ("onwards").
    grounded: bool = True

    def __post_init__(self) -> None:
        nsp = self.max_no_speech_prob
        check(nsp is None or 0 <= nsp <= 1, "max_no_speech_prob", "must be in [0, 1]")
        check(self.min_logprob is None or self.min_logprob <= 0, "min_logprob", "must be <= 0")
        conf = self.min_parse_confidence
        check(conf is None or 0 <= conf <= 1, "min_parse_confidence", "must be in [0, 1]")
        ratio = self.max_compression_ratio
        check(ratio is None or ratio > 0, "max_compression_ratio", "must be > 0")
        check(self.max_speech_s is None or self.max_speech_s > 0, "max_speech_s", "must be > 0")
        wps = self.max_words_per_s
        check(wps is None or wps > 0, "max_words_per_s", "must be > 0")


@dataclasses.dataclass(frozen=True)
class VoiceConfig:
    """The whole voice pipeline."""

    audio: AudioConfig = dataclasses.field(default_factory=AudioConfig)
    asr: AsrConfig = dataclasses.field(default_factory=AsrConfig)
    lm: LmConfig = dataclasses.field(default_factory=LmConfig)
    stream: StreamConfig = dataclasses.field(default_factory=StreamConfig)
    reject: RejectConfig = dataclasses.field(default_factory=RejectConfig)
    joystick: JoystickLimits = dataclasses.field(default_factory=JoystickLimits)

    def __post_init__(self) -> None:
        whisper = self.asr.engine == "whisper"
        check(self.reject.verify == "none" or whisper, "reject.verify", "needs asr.engine whisper")
        check(
            self.reject.verify != "unprompted" or self.asr.prompt != "none",
            "reject.verify",
            "unprompted reads the speech again exactly as asr.prompt none already did; "
            "choose vocabulary, or set asr.prompt",
        )
