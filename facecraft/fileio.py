"""File I/O shared by every stage: crash-safe writes (temp file, fsync, rename, fsync the folder),
sha256 of files, and turning OS write errors into one-line user errors."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

from facecraft.errors import FacecraftError


def disk_error(exc: OSError, what: str) -> FacecraftError:
    """Turn an OSError from writing into a one-line user error."""
    if exc.errno == errno.ENOSPC:
        return FacecraftError(
            f"the disk is full while writing {what}; free some space and run again to resume"
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return FacecraftError(f"no permission to write {what}; choose a folder you can write to")
    return FacecraftError(f"cannot write {what}: {exc.strerror or exc}")


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
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


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def require_dir(path: Path, what: str) -> None:
    if path.exists() and not path.is_dir():
        raise FacecraftError(f"{what} {path} is a file, not a folder; choose another path")
