"""Checking and repairing a faceset: rows whose aligned image is missing or unreadable, images with no row,
and temporary files left by a killed run.

A face whose image is lost cannot be recovered from the database alone (re-extracting its source would
add it again); ``repair`` drops such rows so that training and previews can go on with the rest.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import cv2

from facecraft.faceset.schema import FACES_DIR
from facecraft.faceset.store import Faceset


@dataclass
class FacesetCheck:
    faces: int
    """Face rows in the database (before a repair)."""
    missing: list[str] = field(default_factory=list)
    """Image names of rows whose file does not exist."""
    unreadable: list[str] = field(default_factory=list)
    """Image names of rows whose file cannot be decoded or has the wrong size."""
    orphans: list[str] = field(default_factory=list)
    """PNG files in faces/ with no row (and temporary files of interrupted writes)."""

    @property
    def healthy(self) -> bool:
        return not (self.missing or self.unreadable or self.orphans)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "healthy": self.healthy}

    def summary(self) -> str:
        if self.healthy:
            return f"{self.faces} faces, every image present and readable"
        parts = [
            f"{len(self.missing)} missing image(s)" if self.missing else "",
            f"{len(self.unreadable)} unreadable image(s)" if self.unreadable else "",
            f"{len(self.orphans)} file(s) with no face row" if self.orphans else "",
        ]
        examples = (self.missing + self.unreadable + self.orphans)[:3]
        return f"{self.faces} faces; {', '.join(p for p in parts if p)} (e.g. {', '.join(examples)})"


def check_faceset(fs: Faceset) -> FacesetCheck:
    """Look at every face image of ``fs`` (decodes each one; about a millisecond per 256 px face)."""
    rows = fs.conn.execute("SELECT image FROM faces ORDER BY id").fetchall()
    result = FacesetCheck(len(rows))
    folder = fs.root / FACES_DIR
    size = fs.size
    for (name,) in rows:
        path = folder / name
        if not path.is_file():
            result.missing.append(name)
            continue
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None or image.shape[:2] != (size, size):
            result.unreadable.append(name)
    known = {r[0] for r in rows}
    if folder.is_dir():
        result.orphans = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name not in known)
    return result


def repair_faceset(fs: Faceset) -> FacesetCheck:
    """Drop the rows of missing or unreadable images and delete files with no row. Returns what was found."""
    found = check_faceset(fs)
    bad = set(found.missing + found.unreadable)
    if bad:
        ids = [fid for fid, name in fs.conn.execute("SELECT id, image FROM faces") if name in bad]
        fs.delete_faces(ids)
    for name in found.orphans:
        (fs.root / FACES_DIR / name).unlink(missing_ok=True)
    return found
