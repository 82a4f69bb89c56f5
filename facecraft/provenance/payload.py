"""The watermark payload: a 24-bit content id protected by 16 check bits (CRC-16).

Format 2 (facecraft 0.2 onwards): 40 bits, the content id then ``crc16(content id)``. A decoded payload
whose check bits do not match is never reported as an id: a wrong id would pass with probability 2^-16.

Format 1 (earlier outputs): 32 bits, an 8-bit facecraft tag (0xFC) then the content id, with no check bits;
:func:`legacy_content_id` reads it, and verify reports such an id as unconfirmed.
"""

from __future__ import annotations

import secrets

import numpy as np

CONTENT_ID_BITS = 24
CHECK_BITS = 16
PAYLOAD_BITS = CONTENT_ID_BITS + CHECK_BITS
LEGACY_TAG = 0xFC
LEGACY_PAYLOAD_BITS = 32
_CRC_POLY = 0x1021  # CRC-16/CCITT
_CRC_INIT = 0xFACE  # facecraft's own start value: another CCITT user's payload does not check out here


MEASURE_CONTENT_ID = 0x0E7A11
"""The watermark id of files delivered for measurement (self-reenactment, the swap benchmark): another id
moves most delivered pixels by a few levels, which alone moved recognition and the mouth's amplitude, so
measurements fix it. A user's outputs get :func:`new_content_id`."""


def new_content_id() -> int:
    """A random 24-bit id that ties the watermark of one output to its manifest and metadata."""
    return secrets.randbits(CONTENT_ID_BITS)


def crc16(content_id: int) -> int:
    """CRC-16/CCITT (start value 0xFACE) of the id's three bytes, most significant first."""
    crc = _CRC_INIT
    for byte in content_id.to_bytes(3, "big"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ _CRC_POLY) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def make_payload(content_id: int) -> int:
    """The 40-bit payload carrying ``content_id``: the id, then its check bits."""
    if not 0 <= content_id < 1 << CONTENT_ID_BITS:
        raise ValueError(f"content id must fit in {CONTENT_ID_BITS} bits, got {content_id}")
    return (content_id << CHECK_BITS) | crc16(content_id)


def checked_content_id(payload: int) -> int | None:
    """The content id of a 40-bit payload whose check bits match, else None."""
    cid = payload >> CHECK_BITS
    return cid if (payload & 0xFFFF) == crc16(cid) and cid < 1 << CONTENT_ID_BITS else None


def content_id_of(payload: int) -> int:
    """The content id field of a 40-bit payload (unchecked; see :func:`checked_content_id`)."""
    return payload >> CHECK_BITS


def legacy_payload(content_id: int) -> int:
    """A format-1 payload (tag 0xFC and the id), as outputs before check bits carried."""
    if not 0 <= content_id < 1 << CONTENT_ID_BITS:
        raise ValueError(f"content id must fit in {CONTENT_ID_BITS} bits, got {content_id}")
    return (LEGACY_TAG << CONTENT_ID_BITS) | content_id


def legacy_content_id(payload: int) -> int | None:
    """The id of a format-1 payload when its 8 tag bits are exactly facecraft's, else None."""
    return payload & ((1 << CONTENT_ID_BITS) - 1) if payload >> CONTENT_ID_BITS == LEGACY_TAG else None


def to_bits(payload: int, n: int) -> np.ndarray:
    """(n,) uint8 0/1, most significant bit first."""
    if not 0 <= payload < 1 << n:
        raise ValueError(f"payload must fit in {n} bits")
    return np.array([(payload >> (n - 1 - i)) & 1 for i in range(n)], np.uint8)


def from_bits(bits: np.ndarray) -> int:
    n = len(bits)
    return int(sum(int(b) << (n - 1 - i) for i, b in enumerate(bits)))


def format_content_id(content_id: int) -> str:
    """Six hex digits, as written into metadata and the manifest."""
    return f"{content_id:06x}"
