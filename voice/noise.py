"""Noise generators for outdoor evaluation: white, babble, wind, street and the robot's motors.

Each generator returns (n,) float32 at 16 kHz with unit RMS; ``audio.mix_at_snr`` sets the level.

The motor noise follows the CyberGear figures in FACTS.md: the joint speed of a trot gait
(period 0.5 s) times the 7.75:1 gear ratio is the rotor speed; the 14 pole pairs give the
electrical frequency, whose torque-ripple harmonics (1x, 6x, 12x for a three-phase FOC drive)
are the audible "PWM whine"; the planetary stage gives a gear-mesh tone at the rotor rate times
the sun gear's tooth count. The tooth count and the tone levels are not published: they are
assumptions, named as such below, that only set where the tones fall.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from irondog.voice.audio import SAMPLE_RATE

NOISE_TYPES = ("white", "babble", "wind", "motor")  # the kinds training and tuning use
# street is held out: no training or tuning set uses it (see evalset.HELDOUT_NOISE_TYPES).


def _unit_rms(x: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
    return (x / max(rms, 1e-12)).astype(np.float32)


def white(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian white noise."""
    return _unit_rms(rng.standard_normal(int(seconds * SAMPLE_RATE)))


def _smooth_random(n: int, rate_hz: float, rng: np.random.Generator) -> np.ndarray:
    """(n,) slowly varying random signal with about ``rate_hz`` changes per second."""
    knots = max(2, int(n / SAMPLE_RATE * rate_hz) + 2)
    values = rng.standard_normal(knots)
    return np.interp(np.linspace(0, knots - 1, n), np.arange(knots), values)


def wind(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Wind on a microphone: low-pass rumble (below about 300 Hz) in slow gusts."""
    from scipy.signal import butter, sosfilt

    n = int(seconds * SAMPLE_RATE)
    base = rng.standard_normal(n)
    sos = butter(4, 300.0, "low", fs=SAMPLE_RATE, output="sos")
    rumble = sosfilt(sos, base)
    gust = np.exp(1.2 * _smooth_random(n, 0.8, rng))  # gusts, about one a second
    sos_hi = butter(2, [300.0, 2000.0], "band", fs=SAMPLE_RATE, output="sos")
    hiss = 0.15 * sosfilt(sos_hi, rng.standard_normal(n))
    return _unit_rms((rumble / (np.std(rumble) + 1e-12) + hiss / 0.15 * 0.1) * gust)


@dataclasses.dataclass(frozen=True)
class MotorNoiseParams:
    """Motor noise model; figures from FACTS.md unless marked assumed."""

    gear_ratio: float = 7.75  # CyberGear
    pole_pairs: int = 14  # CyberGear, 28 poles
    gait_period_s: float = 0.5  # stock controller's gait period
    joint_amplitude_rad: tuple[float, float, float] = (0.15, 0.6, 0.9)  # abad, hip, knee swing
    ripple_harmonics: tuple[int, ...] = (1, 6, 12)  # three-phase FOC torque ripple
    sun_teeth: int = 12  # assumed: Xiaomi does not publish the tooth count
    n_motors: int = 12
    impact_level: float = 0.3  # assumed: footstep thumps relative to the tones


def motor(
    seconds: float, rng: np.random.Generator, params: MotorNoiseParams | None = None
) -> np.ndarray:
    """The robot's 12 joint motors during a trot: electrical whine, gear mesh, footfalls."""
    from scipy.signal import butter, sosfilt

    p = params if params is not None else MotorNoiseParams()
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE  # s
    f_gait = 1.0 / p.gait_period_s  # Hz
    out = np.zeros(n)
    for j in range(p.n_motors):
        amp = p.joint_amplitude_rad[j % 3]
        leg_phase = (0.0, math.pi, math.pi, 0.0)[j // 3]  # trot: diagonal pairs in phase
        phi = leg_phase + 0.3 * (j % 3) + rng.uniform(-0.1, 0.1)
        joint_speed = amp * 2 * math.pi * f_gait * np.cos(2 * math.pi * f_gait * t + phi)  # rad/s
        rotor_speed = p.gear_ratio * np.abs(joint_speed)  # rad/s
        rotor_rev = rotor_speed / (2 * math.pi)  # rev/s
        torque_load = 0.3 + np.abs(np.sin(2 * math.pi * f_gait * t + phi))  # rough load shape
        # Phase of each tone: integrate its instantaneous frequency.
        elec_phase = 2 * math.pi * np.cumsum(p.pole_pairs * rotor_rev) / SAMPLE_RATE
        for h in p.ripple_harmonics:
            out += torque_load * np.sin(h * elec_phase) / h
        mesh_phase = 2 * math.pi * np.cumsum(p.sun_teeth * rotor_rev) / SAMPLE_RATE
        out += 0.7 * (rotor_speed / (rotor_speed.max() + 1e-9)) * np.sin(mesh_phase)
    # Footfalls: a thump at each touchdown (two per period in a trot), low-passed clicks.
    clicks = np.zeros(n)
    step = int(SAMPLE_RATE * p.gait_period_s / 2)
    for k in range(0, n, step):
        clicks[k + int(rng.integers(0, max(1, step // 10))) : k + 40] = rng.standard_normal(1)
    sos = butter(2, 400.0, "low", fs=SAMPLE_RATE, output="sos")
    thumps = sosfilt(sos, clicks)
    out = _unit_rms(out) + p.impact_level * _unit_rms(thumps + 1e-9 * rng.standard_normal(n))
    return _unit_rms(out + 0.05 * rng.standard_normal(n))


BABBLE_SENTENCES = (
    "so then she told me the whole story about the wedding",
    "i was thinking we could try that new place on the corner",
    "the train was delayed by almost an hour this morning",
    "honestly the best part of the holiday was the food",
    "did you hear what happened at the school on thursday",
    "my brother is moving to a new flat next month",
    "we should really book the tickets before they sell out",
    "the garden looks lovely now that the roses are out",
    "i have no idea what he meant by that comment",
    "let me know when you are free for a chat",
    "the children played in the sand for most of the afternoon",
    "she bought a bicycle with a little basket on the front",
)


def _espeak_talker(text: str, rng: np.random.Generator) -> np.ndarray:
    from irondog.voice.tts import VOICES, speak

    voice = VOICES[int(rng.integers(len(VOICES)))]
    return speak(text, voice, int(rng.integers(140, 200)), int(rng.integers(25, 75)))


def babble(
    seconds: float,
    rng: np.random.Generator,
    talkers: int = 6,
    sentences: tuple[str, ...] = BABBLE_SENTENCES,
    talker=None,  # noqa: ANN001 - (text, rng) -> (n,) float32 16 kHz; espeak-ng voices if None
) -> np.ndarray:
    """Overlapped speech of several voices (a crowd in a park)."""
    speak_one = talker if talker is not None else _espeak_talker
    if not sentences:
        raise ValueError("babble needs at least one sentence")
    n = int(seconds * SAMPLE_RATE)
    out = np.zeros(n)
    for _ in range(talkers):
        filled = int(rng.integers(0, SAMPLE_RATE // 2))
        while filled < n:
            clip = speak_one(sentences[int(rng.integers(len(sentences)))], rng)
            clip = clip[: n - filled] / (np.sqrt(np.mean(clip**2)) + 1e-9)
            out[filled : filled + clip.size] += clip
            filled += clip.size + int(rng.integers(0, SAMPLE_RATE // 4))
    return _unit_rms(out)


def street(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A street: steady distant traffic, cars passing by (engine hum and tyre roar under a
    pass-by swell), footsteps, and now and then a horn."""
    from scipy.signal import butter, sosfilt

    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE  # s
    sos_far = butter(3, 250.0, "low", fs=SAMPLE_RATE, output="sos")
    out = 0.6 * _unit_rms(sosfilt(sos_far, rng.standard_normal(n)))  # distant traffic rumble
    sos_tyre = butter(2, [400.0, 2500.0], "band", fs=SAMPLE_RATE, output="sos")
    passes = max(1, int(seconds / 4.0))  # about one car every 4 s
    for _ in range(passes):
        t0, width = rng.uniform(0, seconds), rng.uniform(1.0, 2.5)  # s: centre, half-width
        swell = np.exp(-0.5 * ((t - t0) / width) ** 2)
        f_engine = rng.uniform(30.0, 90.0) * (1.0 + 0.05 * np.tanh((t - t0) / width))  # Hz
        phase = 2 * math.pi * np.cumsum(f_engine) / SAMPLE_RATE
        engine = sum(np.sin(h * phase) / h for h in (1, 2, 3, 4))
        tyre = _unit_rms(sosfilt(sos_tyre, rng.standard_normal(n)))
        out += rng.uniform(0.8, 2.0) * swell * (0.5 * engine + tyre)
    for _ in range(int(seconds / 15.0) + int(rng.integers(0, 2))):  # horns
        start, length = (
            int(rng.uniform(0, max(seconds - 0.6, 0.1)) * SAMPLE_RATE),
            int(rng.uniform(0.25, 0.6) * SAMPLE_RATE),
        )
        seg = slice(start, min(n, start + length))
        f1 = rng.uniform(380.0, 480.0)
        tone = np.sin(2 * math.pi * f1 * t[seg]) + 0.8 * np.sin(2 * math.pi * 1.26 * f1 * t[seg])
        out[seg] += 1.5 * np.sign(tone) * np.abs(tone) ** 0.5  # a horn's buzzy square-ish tone
    clicks = np.zeros(n)  # footsteps on pavement, about two a second
    for k in range(0, n, int(SAMPLE_RATE * rng.uniform(0.45, 0.6))):
        clicks[k : k + 30] = rng.standard_normal(min(30, n - k))
    sos_step = butter(2, [150.0, 3000.0], "band", fs=SAMPLE_RATE, output="sos")
    out += 0.3 * _unit_rms(sosfilt(sos_step, clicks) + 1e-9 * rng.standard_normal(n))
    return _unit_rms(out)


MAKERS = {"white": white, "babble": babble, "wind": wind, "motor": motor, "street": street}


def make_noise(kind: str, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Noise of a named type (a key of MAKERS), unit RMS, 16 kHz."""
    if kind not in MAKERS:
        raise ValueError(f"noise type must be one of {tuple(MAKERS)}, got {kind!r}")
    if not seconds > 0:
        raise ValueError(f"noise length must be > 0 s, got {seconds}")
    return MAKERS[kind](seconds, rng)
