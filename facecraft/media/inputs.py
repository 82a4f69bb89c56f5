"""Turn the paths a user gives into a checked list of media files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from facecraft.errors import FacecraftError

VIDEO_EXTS = frozenset({".mp4", ".mov", ".mkv", ".avi", ".webm", ".gif", ".m4v", ".mpg", ".mpeg", ".wmv"})
IMAGE_EXTS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


@dataclass(frozen=True)
class MediaFile:
    path: Path
    kind: str  # "video" | "image"


def media_kind(path: Path) -> str | None:
    ext = path.suffix.lower()
    if ext in VIDEO_EXTS:
        return "video"
    if ext in IMAGE_EXTS:
        return "image"
    return None


def collect_media(paths: list[str | Path]) -> list[MediaFile]:
    """Expand files and folders (recursively, sorted) into media files.

    Raises FacecraftError for a missing path, a file that is not a known media type, or a folder
    with no media in it.
    """
    if not paths:
        raise FacecraftError("no input given; pass video files, photos or folders of them")
    found: list[MediaFile] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise FacecraftError(f"{path} does not exist")
        if path.is_dir():
            inside = [
                MediaFile(p, k) for p in sorted(path.rglob("*")) if p.is_file() and (k := media_kind(p))
            ]
            if not inside:
                raise FacecraftError(
                    f"the folder {path} has no videos or photos "
                    f"(looked for {', '.join(sorted(VIDEO_EXTS | IMAGE_EXTS))})"
                )
            found.extend(inside)
            continue
        kind = media_kind(path)
        if kind is None:
            raise FacecraftError(
                f"{path} is not a video or photo this tool reads (by its extension {path.suffix!r})"
            )
        found.append(MediaFile(path, kind))
    unique = {f.path.resolve(): f for f in found}
    return list(unique.values())
