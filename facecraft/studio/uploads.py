"""Uploads: the file type is read from the content (not trusted from the name), the size is capped, and the
file lands under the project folder with a safe, new name (nothing is overwritten)."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

from facecraft.errors import FacecraftError
from facecraft.media.inputs import IMAGE_EXTS, VIDEO_EXTS
from facecraft.studio.project import Project, safe_name
from facecraft.studio.specs import AUDIO_EXTS

MiB = 1 << 20
LIMITS = {"media": 2048 * MiB, "verify": 2048 * MiB, "consent": 20 * MiB}
"""Largest upload per project folder, bytes."""
ACCEPTS = {
    "media": {"video", "image", "audio"},
    "verify": {"video", "image"},
    "consent": {"pdf", "text", "image"},
}
EXTENSIONS = {
    "video": VIDEO_EXTS,
    "image": IMAGE_EXTS,
    "audio": AUDIO_EXTS | {".mp4"},
    "pdf": frozenset({".pdf"}),
    "text": frozenset({".txt", ".md", ".json"}),
}


class UploadError(FacecraftError):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def sniff(head: bytes) -> str | None:
    """The kind of file these first bytes (at least 16) start: video, image, audio, pdf, text, or None."""
    riff = head[:4] == b"RIFF"
    if head.startswith(b"\xff\xd8\xff") or head.startswith(b"\x89PNG\r\n\x1a\n") or head[:2] == b"BM":
        return "image"
    if (riff and head[8:12] == b"WEBP") or head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "video"  # facecraft reads GIFs as (short) videos
    if head[4:8] == b"ftyp":
        return "audio" if head[8:12] in (b"M4A ", b"M4B ") else "video"
    if (
        head.startswith(b"\x1a\x45\xdf\xa3")
        or (riff and head[8:11] == b"AVI")
        or head[:4] == b"\x00\x00\x01\xba"
    ):
        return "video"
    if (riff and head[8:12] == b"WAVE") or head[:3] == b"ID3" or head[:4] in (b"OggS", b"fLaC"):
        return "audio"
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "audio"  # MPEG audio frame sync
    if head.startswith(b"%PDF-"):
        return "pdf"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # a multi-byte character cut at the end is fine
                return None
        return "text"
    return None


def check_kind(folder: str, name: str, head: bytes) -> str:
    """The sniffed kind of an upload to ``folder`` named ``name``; raises UploadError when it is not accepted
    there or its extension says something else than its content."""
    kind = sniff(head)
    if kind is None or kind not in ACCEPTS[folder]:
        accepted = ", ".join(sorted(ACCEPTS[folder]))
        raise UploadError(f"{name}: the content is not a {accepted} file", 415)
    ext = Path(name).suffix.lower()
    if ext not in EXTENSIONS[kind]:
        raise UploadError(
            f"{name}: the content is a {kind} file but the name ends in {ext or 'nothing'}", 415
        )
    return kind


async def receive(
    project: Project, folder: str, name: str, chunks: AsyncIterator[bytes], limit: int | None = None
) -> Path:
    """Write the upload ``chunks`` to a new file in the project folder ``folder``; returns its path."""
    if folder not in ACCEPTS:
        raise UploadError(f"uploads go to {', '.join(ACCEPTS)}, not {folder!r}")
    limit = LIMITS[folder] if limit is None else limit
    clean = safe_name(name)
    part = project.folder(folder) / f".upload-{secrets.token_hex(8)}.part"
    size, head, checked = 0, b"", False
    try:
        with part.open("wb") as f:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise UploadError(f"{clean} is larger than the {limit // MiB} MiB upload limit", 413)
                if not checked:
                    head += chunk[:64]
                    if len(head) >= 64:
                        check_kind(folder, clean, head)
                        checked = True
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        if size == 0:
            raise UploadError(f"{clean} is empty")
        if not checked:
            check_kind(folder, clean, head)
        target = project.new_path(folder, clean)
        os.link(part, target)  # fails rather than overwrite if the name was taken meanwhile
        return target
    finally:
        part.unlink(missing_ok=True)


async def file_chunks(path: Path, size: int = 1 << 20) -> AsyncIterator[bytes]:
    """A server-side file read as upload chunks (for 'add a path on this machine')."""
    with path.open("rb") as f:
        while chunk := f.read(size):
            yield chunk
