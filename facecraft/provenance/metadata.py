"""Plain metadata tags that say "AI-generated", for tools that know nothing of C2PA.

Videos get container tags (MP4 ``comment`` and ``description``) through ffmpeg; PNGs get text chunks and
JPEGs a comment segment, and both an XMP packet with the IPTC digital source type. :func:`read_tags` reads
them back. Anyone can write any text into metadata, so verify reports it but never decides by it.
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


def xmp_packet(source_type: str) -> str:
    """An XMP packet declaring the IPTC digital source type (``Iptc4xmpExt:DigitalSourceType``)."""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
        f'Iptc4xmpExt:DigitalSourceType="{source_type}"/>'
        '</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    )


@dataclass(frozen=True)
class MetadataTags:
    found: bool  # some metadata text mentions AI generation (facecraft's tag or anything else)
    text: str  # that text ("" when none)
    content_id_hex: str | None  # the content id, when it is facecraft's tag


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
