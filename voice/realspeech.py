"""Real human recordings from registry packages, for measuring what the pipeline does with
people who are not talking to it.

The source distributions of pocketsphinx 5.1.1 and silero-vad 6.2.3 on PyPI ship test audio:
read sentences (LibriVox, public domain), card names and digit strings, a long talk and a
minute of mixed speech. ``fetch`` downloads the two archives once (checked against their
sha256), keeps only the recordings listed below and caches them; nothing here trains on them
or chooses a setting with them. The one command among them (CMU's "go forward ten meters",
also shipped in voice/data) is kept as a command. These are the EVALUATION recordings.

``DEV_RECORDINGS`` are the DEVELOPMENT recordings, from another package: the test audio in the
source distribution of pyannote.audio 4.0.7 (MIT): thirteen 30-s excerpts of meeting speech
(the speaker labels of its rttm files are AMI meeting-corpus ids) and a 30-s two-person
conversation. Rejection settings are chosen on these (and on synthetic speech), never on
``RECORDINGS``.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import urllib.request
from pathlib import Path
from typing import NamedTuple

import numpy as np

from irondog.voice import audio

LONGEST_S = 200.0  # s: the longest recording (aepyx) is 169 s
CACHE = Path.home() / ".cache" / "irondog" / "real_speech"
FILES = "https://files.pythonhosted.org/packages"
SOURCES = {
    "pocketsphinx-5.1.1": (
        f"{FILES}/61/e7/13e0e787ff467218de880310d79cba14424f13b87171ac44af0bde1e428c/"
        "pocketsphinx-5.1.1.tar.gz",
        "675778b309a22dfc9b7d37f7621976bba491d2a5f8c59696bd77fd6d07271355",
    ),
    "pyannote_audio-4.0.7": (
        f"{FILES}/6d/d7/03b1d00d431c7be1d98635fefb99c2da64d9b84b4b8a06d5302666a96c88/"
        "pyannote_audio-4.0.7.tar.gz",
        "3a903dfb5ca711d134cc2522561c9158b186836f5d62e8a57c46c6648e8a8229",
    ),
    "silero_vad-6.2.3": (
        f"{FILES}/32/17/df6bfc8f659fc5c1e082c18275be67c5a581bd2d07734a65b141fc983ccf/"
        "silero_vad-6.2.3.tar.gz",
        "d7a23b09202be4953915cb9173089bb307eed0418a9bd4794d9ec5af07fa1996",
    ),
}
# (archive, member, kind, what is said or what it is). Raw files are 16 kHz 16-bit mono.
# Left out: empty or broken test files (null, awful, bad, evil), the copies of one recording
# (aepyx at 8 kHz and in two more folders, chan3 in other formats).
RECORDINGS = (
    ("pocketsphinx-5.1.1", "test/data/goforward.raw", "command", "go forward ten meters"),
    ("pocketsphinx-5.1.1", "test/data/numbers.raw", "other", "numbers read aloud"),
    ("pocketsphinx-5.1.1", "test/data/something.raw", "other", "a short phrase"),
    ("pocketsphinx-5.1.1", "test/data/tidigits/dhd.2934z.raw", "other", "digits: 2 9 3 4 zero"),
    ("pocketsphinx-5.1.1", "test/data/vad/test-audio.raw", "other", "a VAD test clip"),
    ("pocketsphinx-5.1.1", "test/data/vad/leak-test.wav", "other", "a VAD test recording"),
    ("pocketsphinx-5.1.1", "test/data/forever/input_2_16k.wav", "other", "a spoken phrase"),
    ("pocketsphinx-5.1.1", "test/data/forever/input_4_16k.wav", "other", "a spoken phrase"),
    ("pocketsphinx-5.1.1", "test/data/cards/001.wav", "other", "ten of clubs"),
    ("pocketsphinx-5.1.1", "test/data/cards/002.wav", "other", "four queen of clubs"),
    ("pocketsphinx-5.1.1", "test/data/cards/003.wav", "other", "seven of clubs"),
    ("pocketsphinx-5.1.1", "test/data/cards/004.wav", "other", "five five"),
    (
        "pocketsphinx-5.1.1",
        "test/data/cards/005.wav",
        "other",
        "eight of spades four of clubs seven of hearts",
    ),  # fmt: skip
    *(
        (
            "pocketsphinx-5.1.1",
            f"test/data/librivox/sense_and_sensibility_01_austen_64kb-{k}.wav",
            "other",
            "Sense and Sensibility, read (LibriVox)",
        )  # fmt: skip
        for k in ("0870", "0880", "0890", "0920", "0930")
    ),
    ("pocketsphinx-5.1.1", "test/regression/chan3.wav", "other", "a read sentence"),
    ("silero_vad-6.2.3", "tests/data/test.wav", "other", "a minute of speech"),
    ("silero_vad-6.2.3", "examples/c++/aepyx.wav", "other", "a talk, 169 s"),
)

# The development recordings (16 kHz mono wav). Left out: empty.wav (silence) and the
# trn00 file, whose name is not ASCII.
DEV_RECORDINGS = (
    (
        "pyannote_audio-4.0.7",
        "src/pyannote/audio/sample/sample.wav",
        "other",
        "a two-person conversation, 30 s",
    ),
    *(
        ("pyannote_audio-4.0.7", f"tests/data/{name}.wav", "other", "meeting speech, 30 s")
        for name in ("dev00", "dev01", "tst00", "tst01", *(f"trn{k:02d}" for k in range(1, 10)))
    ),
)


class Recording(NamedTuple):
    """One real recording: its archive member, whether it is a command, and 16 kHz audio."""

    name: str
    kind: str  # "command" or "other"
    said: str
    samples: np.ndarray


def _download(url: str, sha256: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 - a fixed PyPI URL
        data = response.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise RuntimeError(f"{url}: sha256 {digest} is not the pinned {sha256}")
    return data


def fetch(cache: Path = CACHE, recordings: tuple = RECORDINGS) -> Path:
    """Download the archives (once) and cache ``recordings`` (RECORDINGS or DEV_RECORDINGS)
    under ``cache``."""
    wanted: dict[str, list[str]] = {}
    for archive, member, _, _ in recordings:
        wanted.setdefault(archive, []).append(member)
    for archive, members in wanted.items():
        missing = [m for m in members if not (cache / archive / m).is_file()]
        if not missing:
            continue
        url, sha256 = SOURCES[archive]
        with tarfile.open(fileobj=io.BytesIO(_download(url, sha256)), mode="r:gz") as tar:
            for member in missing:
                data = tar.extractfile(f"{archive}/{member}")
                if data is None:
                    raise RuntimeError(f"{url}: {member} is not a file in the archive")
                path = cache / archive / member
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(path.suffix + ".tmp")
                tmp.write_bytes(data.read())
                tmp.replace(path)  # atomic: a partial download is never taken as a recording
    return cache


def load(cache: Path = CACHE, recordings: tuple = RECORDINGS) -> list[Recording]:
    """Every recording of ``recordings`` as 16 kHz float32 mono (``fetch`` first)."""
    script = "voice_reject_dev.py" if recordings is DEV_RECORDINGS else "voice_real_speech.py"
    out = []
    for archive, member, kind, said in recordings:
        path = cache / archive / member
        if not path.is_file():
            raise FileNotFoundError(f"{path}: not fetched (python benchmarks/{script} --fetch)")
        samples = audio.load_audio(path, max_seconds=LONGEST_S)
        out.append(Recording(f"{archive}/{member}", kind, said, samples))
    return out
