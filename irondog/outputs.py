"""Output paths checked before any work, and writes that never lose finished work.

    out = check_output_file(args.out, (".onnx",), "--out")   # before anything slow
    folder = check_output_dir(args.out, "--out")
    written = write_or_fallback(out, lambda p: p.write_text(text))   # after the work

Every command that writes calls one of the two checks first, so a read-only folder, a
folder where a file is wanted or a wrong suffix fails at once, in one line naming the path
and the argument. ``write_or_fallback`` covers what a check cannot foresee (the disk fills,
the folder is removed meanwhile): the result goes to a clearly named file in the working
folder or the temporary folder instead, and the message says where. This module imports
nothing heavy, so the checks run before the commands import JAX or MuJoCo.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


class OutputError(ValueError):
    """An output path that cannot be written; the message names the path and the fix."""


def _label(what: str) -> str:
    return f"{what} " if what else "output "


def check_output_dir(folder: str | Path, what: str = "") -> Path:
    """Create ``folder`` if needed and prove a file can be written in it; OutputError if not."""
    folder = Path(folder) if str(folder) else Path(".")
    if folder.exists() and not folder.is_dir():
        raise OutputError(
            f"{_label(what)}cannot write to {folder} (it is a file, not a folder); "
            "choose another output path"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".irondog-write-test-"):
            pass
    except OSError as err:
        raise OutputError(
            f"{_label(what)}cannot write to {folder} ({err.strerror or err}); "
            "choose another output path"
        ) from None
    return folder


def check_output_file(
    path: str | Path, suffixes: tuple[str, ...] = (), what: str = "", overwrite: bool = True
) -> Path:
    """Fail now (OutputError) if ``path`` has a wrong suffix, is a folder, or cannot be
    written; with ``overwrite=False`` also if it exists (finished work is kept)."""
    path = Path(path)
    if suffixes and path.suffix.lower() not in suffixes:
        raise OutputError(f"{_label(what)}{path}: use one of the suffixes {', '.join(suffixes)}")
    if path.is_dir():
        raise OutputError(f"{_label(what)}{path} is a folder; give a file name")
    if path.exists() and not overwrite:
        raise OutputError(
            f"{_label(what)}{path} exists; choose another path or remove it (nothing was "
            "overwritten)"
        )
    check_output_dir(path.parent, what)
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputError(f"{_label(what)}{path} exists and cannot be overwritten (permissions)")
    return path


def fallback_path(path: Path) -> Path:
    """Where ``write_or_fallback`` puts a result it could not write to ``path``."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = f"{path.stem}.unsaved-{stamp}{path.suffix}"
    for folder in (Path.cwd(), Path(tempfile.gettempdir())):
        if os.access(folder, os.W_OK):
            return folder / name
    return Path(tempfile.gettempdir()) / name


def write_or_fallback(path: str | Path, write: Callable[[Path], object]) -> Path:
    """``write`` the result to ``path`` atomically (a temporary file beside it, then a rename,
    so an existing file is replaced whole or not at all); if that fails with OSError, to
    ``fallback_path(path)`` instead, said on stderr. Returns the path actually written."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    try:
        try:
            write(tmp)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path
    except OSError as err:
        other = fallback_path(path)
        write(other)
        print(
            f"irondog: could not write {path} ({err.strerror or err}); the result is saved "
            f"as {other} instead",
            file=sys.stderr,
        )
        return other
