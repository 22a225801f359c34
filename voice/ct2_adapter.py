"""Whisper adapters at run time: the CTranslate2 model file read and written
(``read_ct2`` / ``ct2_bytes``, format version 5 or 6: a header, then named tensors, then
aliases) and low-rank corrections (LoRA) merged into its weights in memory.

The recogniser (``asr``) uses this module alone; training the corrections
(``tune_whisper``, torch) builds on it and is never imported at run time.
"""

from __future__ import annotations

import dataclasses
import io
import json
import struct
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

DATA_DIR = Path(__file__).parent / "data"
ADAPTER = DATA_DIR / "whisper_lora.npz"

# CTranslate2 data-type codes (ctranslate2/specs/model_spec.py).
_DTYPES = {0: np.dtype(np.float32), 1: np.dtype(np.int8), 2: np.dtype(np.int16),
           3: np.dtype(np.int32), 4: np.dtype(np.float16)}  # fmt: skip
_CODES = {v: k for k, v in _DTYPES.items()}


@dataclasses.dataclass
class Ct2Model:
    """A CTranslate2 model.bin: its header, named tensors (in file order) and aliases."""

    version: int
    spec: str
    revision: int
    variables: dict[str, np.ndarray]
    aliases: dict[str, str]


def _read_string(f: BinaryIO) -> str:
    (n,) = struct.unpack("<H", f.read(2))
    return f.read(n)[:-1].decode()


def _write_string(out: io.BytesIO, s: str) -> None:
    raw = s.encode() + b"\0"
    out.write(struct.pack("<H", len(raw)) + raw)


def read_ct2(f: BinaryIO) -> Ct2Model:
    """Parse a CTranslate2 model.bin stream (format version 5 or 6)."""
    (version,) = struct.unpack("<I", f.read(4))
    if version not in (5, 6):
        raise ValueError(f"model.bin format version {version} is not supported (5 or 6)")
    spec = _read_string(f)
    (revision,) = struct.unpack("<I", f.read(4))
    (count,) = struct.unpack("<I", f.read(4))
    variables = {}
    for _ in range(count):
        name = _read_string(f)
        (rank,) = struct.unpack("<B", f.read(1))
        shape = struct.unpack(f"<{rank}I", f.read(4 * rank))
        (code,) = struct.unpack("<B", f.read(1))
        (nbytes,) = struct.unpack("<I", f.read(4))
        if code not in _DTYPES:
            raise ValueError(f"model.bin variable {name}: data type {code} is not supported")
        variables[name] = np.frombuffer(f.read(nbytes), _DTYPES[code]).reshape(shape)
    (n_alias,) = struct.unpack("<I", f.read(4))
    aliases = {}
    for _ in range(n_alias):
        alias = _read_string(f)
        aliases[alias] = _read_string(f)
    return Ct2Model(version, spec, revision, variables, aliases)


def ct2_bytes(model: Ct2Model) -> bytes:
    """Serialise a model back into model.bin bytes (the inverse of ``read_ct2``)."""
    out = io.BytesIO()
    out.write(struct.pack("<I", model.version))
    _write_string(out, model.spec)
    out.write(struct.pack("<II", model.revision, len(model.variables)))
    for name, value in model.variables.items():
        _write_string(out, name)
        out.write(struct.pack("<B", value.ndim) + struct.pack(f"<{value.ndim}I", *value.shape))
        raw = np.ascontiguousarray(value).tobytes()
        out.write(struct.pack("<BI", _CODES[value.dtype], len(raw)) + raw)
    out.write(struct.pack("<I", len(model.aliases)))
    for alias, name in model.aliases.items():
        _write_string(out, alias)
        _write_string(out, name)
    return out.getvalue()


def lora_targets(variables: dict[str, np.ndarray]) -> list[str]:
    """The weights that get an adapter: every 2-D linear weight of the encoder and decoder
    layers (attention and feed-forward), not the embeddings or convolutions."""
    return [k for k, v in variables.items() if "/layer_" in k and k.endswith("/weight")
            and v.ndim == 2]  # fmt: skip


def load_adapter(path: Path = ADAPTER) -> dict[str, Any]:
    """An adapter file: per target weight, A (r, in) and B (out, r) plus its scale."""
    try:
        with np.load(path) as z:
            data = {k: z[k] for k in z.files}
    except (OSError, ValueError) as err:
        raise ValueError(f"{path}: not a Whisper adapter file ({err})") from err
    if "meta" not in data:
        raise ValueError(f"{path}: not a Whisper adapter file (no 'meta' entry)")
    meta = json.loads(bytes(data.pop("meta")).decode())
    for key in ("scale", "base", "rank"):
        if key not in meta:
            raise ValueError(f"{path}: adapter meta has no {key!r}")
    return {"meta": meta, "tensors": data}


def merge_adapter(model: Ct2Model, adapter: dict[str, Any], source: str = "adapter") -> Ct2Model:
    """The model with W + scale * B @ A for every adapted weight (float16 kept)."""
    scale = float(adapter["meta"]["scale"])
    tensors = adapter["tensors"]
    variables = dict(model.variables)
    names = sorted({k.rsplit(".", 1)[0] for k in tensors})
    for name in names:
        if name not in variables:
            raise ValueError(f"{source}: adapter names {name!r}, which the model does not have")
        if f"{name}.A" not in tensors or f"{name}.B" not in tensors:
            raise ValueError(f"{source}: adapter for {name} needs both {name}.A and {name}.B")
        a, b = tensors[f"{name}.A"], tensors[f"{name}.B"]
        w = variables[name]
        if b.shape[0] != w.shape[0] or a.shape[1] != w.shape[1] or a.shape[0] != b.shape[1]:
            raise ValueError(f"{source}: adapter for {name} has shapes {a.shape}, {b.shape}; "
                             f"the weight is {w.shape}")  # fmt: skip
        delta = scale * (b.astype(np.float32) @ a.astype(np.float32))
        variables[name] = (w.astype(np.float32) + delta).astype(w.dtype)
    return dataclasses.replace(model, variables=variables)


def adapted_files(model_dir: Path, adapter_path: Path = ADAPTER) -> dict[str, Any]:
    """The packaged model with the adapter merged, as CTranslate2's in-memory ``files``."""
    adapter = load_adapter(adapter_path)
    with (model_dir / "model.bin").open("rb") as f:
        base = read_ct2(f)
    merged = merge_adapter(base, adapter, str(adapter_path))
    files: dict[str, Any] = {"model.bin": io.BytesIO(ct2_bytes(merged))}
    for f in model_dir.iterdir():
        if f.is_file() and f.name != "model.bin":
            files[f.name] = f.read_bytes()
    return files
