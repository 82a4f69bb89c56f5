"""Atomic, crash-safe file writes (temp file, fsync, rename, fsync the folder)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from facecraft.errors import FacecraftError
from facecraft.faceset.store import disk_error


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old or the new file, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise disk_error(exc, str(path)) from None


def write_file_synced(path: Path, data: bytes) -> None:
    """Write and fsync a new file (used inside a temporary folder that is renamed as a whole)."""
    try:
        with path.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        raise disk_error(exc, str(path)) from None


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def require_dir(path: Path, what: str) -> None:
    if path.exists() and not path.is_dir():
        raise FacecraftError(f"{what} {path} is a file, not a folder; choose another path")
