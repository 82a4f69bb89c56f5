"""The 32-bit watermark payload: an 8-bit facecraft tag and a 24-bit content id."""

from __future__ import annotations

import secrets

TAG = 0xFC
CONTENT_ID_BITS = 24


def new_content_id() -> int:
    """A random 24-bit id that ties the watermark of one output to its manifest and metadata."""
    return secrets.randbits(CONTENT_ID_BITS)


def make_payload(content_id: int) -> int:
    if not 0 <= content_id < 1 << CONTENT_ID_BITS:
        raise ValueError(f"content id must fit in {CONTENT_ID_BITS} bits, got {content_id}")
    return (TAG << CONTENT_ID_BITS) | content_id


def content_id_of(payload: int) -> int:
    return payload & ((1 << CONTENT_ID_BITS) - 1)


def tag_of(payload: int) -> int:
    return payload >> CONTENT_ID_BITS


def format_content_id(content_id: int) -> str:
    """Six hex digits, as written into metadata and the manifest."""
    return f"{content_id:06x}"
