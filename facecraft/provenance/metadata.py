"""Plain metadata tags that say "AI-generated", for tools that know nothing of C2PA.

Videos get container tags (MP4 ``comment`` and ``description``) through ffmpeg; PNGs get text chunks and
JPEGs a comment segment. :func:`read_tags` reads them back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import av
from PIL import Image

from facecraft.version import __version__

AI_MARK = "AI-generated"
_ID_RE = re.compile(r"facecraft-content-id=([0-9a-f]{6})")


def tag_text(action: str, content_id_hex: str) -> str:
    """The one-line label written into every output's metadata."""
    return (
        f"{AI_MARK} with facecraft {__version__} ({action}); synthetic media, see its C2PA content credentials. "
        f"facecraft-content-id={content_id_hex}"
    )


def video_tags(action: str, content_id_hex: str) -> dict[str, str]:
    """ffmpeg ``-metadata`` tags for an MP4."""
    text = tag_text(action, content_id_hex)
    return {"comment": text, "description": text}


def png_text_chunks(action: str, content_id_hex: str) -> dict[str, str]:
    text = tag_text(action, content_id_hex)
    return {
        "Comment": text,
        "Description": text,
        "AI-Generated": "true",
        "Software": f"facecraft {__version__}",
    }


@dataclass(frozen=True)
class MetadataTags:
    found: bool  # an AI-generated label is in the metadata
    text: str  # the label found ("" when none)
    content_id_hex: str | None  # the content id it names, if any


def _parse(values: list[str]) -> MetadataTags:
    for value in values:
        if AI_MARK.lower() in value.lower():
            m = _ID_RE.search(value)
            return MetadataTags(True, value, m.group(1) if m else None)
    return MetadataTags(False, "", None)


def read_tags(path: Path, kind: str) -> MetadataTags:
    """The metadata label of a video (``kind="video"``) or image; raises OSError/av errors when unreadable."""
    if kind == "video":
        with av.open(str(path)) as container:
            values = [str(v) for v in container.metadata.values()]
            for stream in container.streams:
                values += [str(v) for v in stream.metadata.values()]
        return _parse(values)
    with Image.open(path) as img:
        values = [
            v.decode(errors="replace") if isinstance(v, bytes) else str(v)
            for v in img.info.values()
            if isinstance(v, str | bytes)
        ]
    return _parse(values)
