"""File I/O shared by every stage: crash-safe writes (temp file, fsync, rename, fsync the folder),
refusing outputs that would destroy an input, one writer per output (a lock with stale-lock takeover),
sha256 of files, and turning OS write errors into one-line user errors."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import socket
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


# ---- outputs that would destroy an input ------------------------------------------------------------
def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name the same file or folder: equal once resolved, or the same inode (hard links,
    bind mounts, a path through another symlink)."""
    pa, pb = Path(a), Path(b)
    if pa.resolve() == pb.resolve():
        return True
    try:
        sa, sb = pa.stat(), pb.stat()
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def refuse_overwriting_inputs(output: str | Path, inputs: dict[str, str | Path | None]) -> None:
    """Raise FacecraftError when ``output`` is one of ``inputs`` ({what it is: path}; None entries are
    ignored), or is a folder that holds one of the input files, or a file inside an input folder that
    facecraft owns (a faceset or model folder is listed as such an input)."""
    out = Path(output)
    for what, raw in inputs.items():
        if raw is None:
            continue
        path = Path(raw)
        if same_file(out, path):
            raise FacecraftError(
                f"the output {out} is the {what}; writing it would destroy the input, choose another output"
            )
        if path.is_dir() and _inside(out, path) and _owned_folder(path):
            raise FacecraftError(
                f"the output {out} is inside the {what} {path}; writing it would damage the input, "
                "choose another output"
            )


def _inside(child: Path, folder: Path) -> bool:
    return child.resolve().is_relative_to(folder.resolve())


def _owned_folder(path: Path) -> bool:
    """A folder whose contents facecraft manages (a faceset or a model): nothing else may be written there."""
    return (path / "faceset.db").is_file() or (path / "model.json").is_file()


# ---- one writer per output --------------------------------------------------------------------------
LOCK_NAME = ".facecraft.lock"


class FolderLock:
    """An exclusive lock that lets one facecraft run at a time write a folder (faceset, model) or an output.

    The lock is an ``flock`` on ``lock_path``, which also records the holder (pid, host, command). The OS
    drops an flock when its process dies, so a lock file left by a killed run is recognised as stale: it
    is taken over and :attr:`taken_over` describes the earlier holder. A second live run gets a
    FacecraftError naming the first. Use it as a context manager; the file is removed on release.
    """

    def __init__(self, lock_path: str | Path, what: str, command: str = ""):
        self.path = Path(lock_path)
        self.what = what
        self.command = command
        self.taken_over: str | None = None
        """A description of the dead run whose lock was taken over (None when there was none)."""
        self._fd: int | None = None

    @classmethod
    def for_folder(cls, folder: str | Path, what: str, command: str = "") -> FolderLock:
        """The lock of a folder (``folder/.facecraft.lock``); the folder is created when missing."""
        folder = Path(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise disk_error(exc, str(folder)) from None
        return cls(folder / LOCK_NAME, what, command)

    @classmethod
    def for_file(cls, output: str | Path, what: str, command: str = "") -> FolderLock:
        """The lock of an output file (``.NAME.facecraft-lock`` next to it)."""
        output = Path(output)
        return cls(output.with_name(f".{output.name}.facecraft-lock"), what, command)

    def acquire(self) -> FolderLock:
        import fcntl
        import json

        while True:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
            except OSError as exc:
                raise disk_error(exc, f"the lock file {self.path}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _describe(_read_holder(fd))
                os.close(fd)
                raise FacecraftError(
                    f"another {self.command or 'facecraft'} run ({holder}) is writing {self.what}; wait for it "
                    "to finish or choose another output"
                ) from None
            except OSError as exc:  # a file system without flock: run unguarded rather than not at all
                os.close(fd)
                if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
                    return self
                raise disk_error(exc, f"the lock file {self.path}") from None
            # The holder may have released and removed the file between our open and flock: retry on
            # the new file, or two runs would each hold a lock on a different inode.
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        earlier = _read_holder(fd)
        if earlier:
            self.taken_over = _describe(earlier)
            logging.getLogger("facecraft").warning(
                "note: %s was left locked by a run that stopped without cleaning up (%s); taking it over",
                self.what,
                self.taken_over,
            )
        record = {"pid": os.getpid(), "host": socket.gethostname(), "command": self.command}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):  # while still holding it, so nobody locks a doomed file
            self.path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_holder(fd: int) -> dict[str, object]:
    import json

    try:
        data = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _describe(holder: dict[str, object]) -> str:
    if not holder:
        return "process unknown"
    where = f" on {holder['host']}" if holder.get("host") and holder["host"] != socket.gethostname() else ""
    what = f"facecraft {holder['command']}, " if holder.get("command") else ""
    return f"{what}pid {holder.get('pid')}{where}"
