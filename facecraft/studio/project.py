"""A studio project: one folder holding media, facesets, models, outputs, consent records and the job table.

Every path the studio reads or serves goes through :meth:`Project.resolve`, which refuses anything that
leaves the project folder (``../``, absolute paths, symlinks pointing outside).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from facecraft.errors import FacecraftError

FOLDERS = ("media", "facesets", "models", "outputs", "consent", "verify", "jobs")
"""The project's sub-folders. ``verify`` holds files dropped on the Verify page; ``jobs`` the job logs."""

DB_NAME = "studio.sqlite"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class PathEscape(FacecraftError):
    """A requested path leaves the project folder (or does not exist inside it)."""


def safe_name(name: str, default: str = "file") -> str:
    """A file or folder name made of letters, digits, '.', '_' and '-', without a leading dot (at most 80)."""
    base = Path(name.replace("\\", "/")).name
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = _UNSAFE.sub("_", stem).strip("._-")[:72] or default
    ext = _UNSAFE.sub("", ext).lower()[:8]
    return f"{stem}.{ext}" if ext else stem


@dataclass(frozen=True)
class Project:
    root: Path
    """The project folder, resolved (absolute, symlinks followed)."""

    @classmethod
    def open(cls, path: str | Path) -> Project:
        """Open (creating when missing) the project folder ``path``."""
        root = Path(path).expanduser()
        if root.exists() and not root.is_dir():
            raise FacecraftError(f"{root} is a file; give a folder for the studio project")
        try:
            root.mkdir(parents=True, exist_ok=True)
            for name in FOLDERS:
                (root / name).mkdir(exist_ok=True)
        except OSError as exc:
            raise FacecraftError(f"cannot create the project folder {root}: {exc.strerror or exc}") from None
        return cls(root.resolve())

    @property
    def db_path(self) -> Path:
        return self.root / DB_NAME

    def folder(self, name: str) -> Path:
        if name not in FOLDERS:
            raise FacecraftError(f"unknown project folder {name!r}")
        return self.root / name

    def resolve(self, relative: str | Path, must_exist: bool = True) -> Path:
        """The absolute path of ``relative`` (a path inside the project), symlinks followed.

        Raises PathEscape when the result is outside the project folder or (``must_exist``) missing."""
        text = str(relative)
        if not text or "\x00" in text:
            raise PathEscape("empty or invalid path")
        path = (self.root / text).resolve()
        if path != self.root and not path.is_relative_to(self.root):
            raise PathEscape(f"{text} is outside the project folder")
        if must_exist and not path.exists():
            raise PathEscape(f"{text} does not exist in the project")
        return path

    def relative(self, path: Path) -> str:
        """``path`` (inside the project) as a project-relative POSIX path."""
        return path.resolve().relative_to(self.root).as_posix()

    def item(self, folder: str, name: str) -> Path:
        """An existing entry ``name`` directly inside the project folder ``folder``."""
        path = self.resolve(f"{folder}/{name}")
        if path.parent != self.folder(folder).resolve():
            raise PathEscape(f"{name} is not an entry of {folder}/")
        return path

    def new_path(self, folder: str, name: str) -> Path:
        """A path in ``folder`` for ``name`` (made safe) that does not exist yet: never overwrite."""
        base = safe_name(name)
        stem, dot, ext = base.rpartition(".")
        if not dot:
            stem, ext = base, ""
        target = self.folder(folder) / base
        n = 1
        while target.exists() or target.is_symlink():
            n += 1
            target = self.folder(folder) / (f"{stem}-{n}.{ext}" if ext else f"{stem}-{n}")
        return target

    def listing(self, folder: str) -> list[Path]:
        """Entries of ``folder`` that are not hidden, newest first; symlinks leaving the project are skipped."""
        out = []
        for p in self.folder(folder).iterdir():
            if p.name.startswith("."):
                continue
            try:
                self.resolve(p.relative_to(self.root))
            except PathEscape:
                continue
            out.append(p)
        return sorted(out, key=lambda p: p.stat().st_mtime, reverse=True)


def stamp() -> str:
    """A sortable time stamp for output names (UTC, seconds)."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime())
