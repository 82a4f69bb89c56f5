"""The watermark on its own: payload and check bits, detection through edits, none without it, cost."""

from __future__ import annotations

import tracemalloc

import cv2
import numpy as np
import pytest

from facecraft.errors import FacecraftError
from facecraft.provenance import coding, watermark
from facecraft.provenance.detect import (
    ID_THRESHOLD,
    LEGACY_THRESHOLD,
    SYNC_THRESHOLD,
    Detection,
    detect,
)
from facecraft.provenance.payload import (
    PAYLOAD_BITS,
    checked_content_id,
    content_id_of,
    crc16,
    from_bits,
    legacy_payload,
    make_payload,
    to_bits,
)
from facecraft.provenance.probe import MarkProbe


def _texture(h: int, w: int, seed: int) -> np.ndarray:
    """A natural-looking test picture: smoothed noise at several scales plus a gradient and a flat band."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w), np.float32)
    for sigma, weight in ((0.6, 30), (1.0, 10), (4.0, 25), (16.0, 40)):
        img += (
            weight * cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), sigma) * sigma
        )
    img += np.linspace(60, 180, w, dtype=np.float32)[None, :]
    img[: h // 5] = 200.0  # a flat sky: the mask leaves it nearly untouched
    bgr = np.stack([img * 0.9, img, img * 1.1], axis=2)
    return np.clip(bgr, 0, 255).astype(np.uint8)


def test_payload_check_bits_catch_every_single_and_double_bit_error() -> None:
    p = make_payload(0x123456)
    assert content_id_of(p) == 0x123456 and checked_content_id(p) == 0x123456
    assert from_bits(to_bits(p, PAYLOAD_BITS)) == p
    for i in range(PAYLOAD_BITS):
        assert checked_content_id(p ^ (1 << i)) is None
        for j in range(i):
            assert checked_content_id(p ^ (1 << i) ^ (1 << j)) is None
    with pytest.raises(ValueError):
        make_payload(1 << 24)
    # Random 40-bit words pass the check about once in 65536.
    rng = np.random.default_rng(0)
    words = rng.integers(0, 1 << 40, 20000, dtype=np.int64)
    assert sum(checked_content_id(int(x)) is not None for x in words) <= 3
    assert crc16(0) != 0  # facecraft's start value: an all-zero picture region is no valid payload


def test_code_corrects_errors_in_soft_values() -> None:
    rng = np.random.default_rng(5)
    bits = rng.integers(0, 2, PAYLOAD_BITS).astype(np.uint8)
    code = coding.encode(bits)
    assert len(code) == watermark.PUBLIC.coded_bits == coding.coded_length(PAYLOAD_BITS)
    assert np.array_equal(coding.decode(code * 2.0 - 1, len(bits)), bits)
    soft = (code * 2.0 - 1) * rng.uniform(0.2, 1.0, len(code))
    soft[::9] *= -1  # 16 of 138 code bits read wrong (12%), as after half-size downscaling
    assert np.array_equal(coding.decode(soft, len(bits)), bits)


@pytest.mark.parametrize("size", [(388, 512), (720, 1280), (240, 320)])
def test_embedded_payload_is_found_exactly_and_is_invisible(size: tuple[int, int]) -> None:
    frame = _texture(*size, seed=1)
    marked = watermark.embed(frame, make_payload(0xA5C30F), watermark.IMAGE_CONFIG)
    assert cv2.PSNR(frame, marked) >= 42
    change = np.abs(marked.astype(int) - frame)
    flat, busy = change[: size[0] // 5 - 12].mean(), change[size[0] // 3 :].mean()
    assert flat < 0.7 * busy, (flat, busy)  # the flat sky gets half the strength of the texture
    det = detect([marked])
    assert det.found and det.score >= ID_THRESHOLD and det.content_id == 0xA5C30F


EDITS = {
    "hflip": lambda f: f[:, ::-1],
    "vflip": lambda f: f[::-1],
    "turned 90": lambda f: np.rot90(f),
    "rotated 4 deg": lambda f: cv2.warpAffine(
        f, cv2.getRotationMatrix2D((f.shape[1] / 2, f.shape[0] / 2), 4, 1.0), (f.shape[1], f.shape[0])
    ),
    "squashed 15%": lambda f: cv2.resize(
        f, (round(f.shape[1] * 0.85), f.shape[0]), interpolation=cv2.INTER_AREA
    ),
    "half + jpeg 75": lambda f: cv2.imdecode(
        cv2.imencode(
            ".jpg",
            cv2.resize(f, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA),
            [cv2.IMWRITE_JPEG_QUALITY, 75],
        )[1],
        cv2.IMREAD_COLOR,
    ),
    "crop 10%": lambda f: f[17:449, 29:605],
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_survives_geometric_and_lossy_edits(edit: str) -> None:
    frame = _texture(480, 640, seed=4)
    marked = watermark.embed(frame, make_payload(0x13579B), watermark.IMAGE_CONFIG)
    det = detect([np.ascontiguousarray(EDITS[edit](marked))])
    assert det.found and det.content_id == 0x13579B, (edit, det)


def test_unmarked_pictures_are_not_detected() -> None:
    for seed in range(4):
        det = detect([_texture(388, 512, seed=10 + seed)])
        assert not det.found and not det.mark and det.score < SYNC_THRESHOLD, det.score


def test_older_format_is_read_but_its_id_is_unconfirmed() -> None:
    frame = _texture(384, 512, seed=7)
    old = watermark.LEGACY_CONFIGS[1]
    marked = watermark.embed(frame, legacy_payload(0x5EC0DE), old, scheme=watermark.LEGACY)
    det = detect([marked])
    assert not det.found and det.legacy_id == 0x5EC0DE and det.mark


def test_what_counts_as_a_mark() -> None:
    """A confirmed id always; a format-1 id whose tag matched from LEGACY_THRESHOLD (its 8 tag bits are a
    check); a sync score alone only from SYNC_THRESHOLD."""

    def det(score: float, content_id: int | None = None, legacy_id: int | None = None) -> Detection:
        return Detection(score, "s", 0, content_id, legacy_id, 64.0, "as embedded", 1, np.zeros(3))

    assert ID_THRESHOLD < LEGACY_THRESHOLD < SYNC_THRESHOLD
    assert det(ID_THRESHOLD, content_id=0xABCDEF).mark
    assert det(LEGACY_THRESHOLD, legacy_id=0x5EC0DE).mark
    assert not det(LEGACY_THRESHOLD - 0.01, legacy_id=0x5EC0DE).mark
    assert not det(SYNC_THRESHOLD - 0.01).mark
    assert det(SYNC_THRESHOLD).mark


def test_keyed_mark_needs_its_key() -> None:
    frame = _texture(480, 640, seed=8)
    key = b"organisation secret key 0123456789"
    scheme = watermark.keyed_scheme(key)
    marked = watermark.embed(frame, make_payload(0x424242), watermark.IMAGE_CONFIG, scheme=scheme)
    assert detect([marked], scheme=scheme).content_id == 0x424242
    assert not detect([marked]).mark  # the public detector does not see it
    assert not detect([marked], scheme=watermark.keyed_scheme(b"another organisation's key 98765")).mark
    with pytest.raises(FacecraftError):
        watermark.keyed_scheme(b"short")


def test_config_validation() -> None:
    with pytest.raises(FacecraftError):
        watermark.WatermarkConfig(amplitude=50)
    with pytest.raises(ValueError):
        watermark.embed(np.zeros((10, 10), np.uint8), 0)


def test_a_second_watermark_replaces_the_first() -> None:
    """Informed removal: the probe finds the old mark where facecraft puts it, and the new one replaces it."""
    frame = _texture(384, 512, seed=6)
    old, new = make_payload(0x0A0B0C), make_payload(0xC0B0A0)
    first = watermark.embed(frame, old)
    probe = MarkProbe(512, 384, [watermark.WatermarkConfig(), watermark.IMAGE_CONFIG])
    found = probe.update(first)
    assert found is not None and found.payload == old and 0.5 <= found.gain <= 2.5
    second = watermark.embed(first, new, replaces=found)
    assert cv2.PSNR(frame, second) > 38
    assert detect([second]).content_id == 0xC0B0A0
    unmarked = MarkProbe(512, 384, [watermark.WatermarkConfig(), watermark.IMAGE_CONFIG])
    assert all(unmarked.update(_texture(384, 512, seed=20 + i)) is None for i in range(3))


def test_labelling_memory_and_cost_stay_small_for_many_large_photos() -> None:
    """Each photo gets its own id; nothing the size of a photo may stay cached after it (was ~80 MiB per
    12 MP photo, kept for the life of the process)."""
    from facecraft.provenance.label import FrameLabeller

    frame = _texture(1500, 2000, seed=9)  # 3 MP: big enough to see a per-photo leak, quick to mark
    tracemalloc.start()
    try:
        FrameLabeller(config=watermark.IMAGE_CONFIG).apply(frame)
        base, _ = tracemalloc.get_traced_memory()
        for _ in range(6):
            FrameLabeller(config=watermark.IMAGE_CONFIG).apply(frame)
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held - base < 8 * 2**20, (held - base) / 2**20  # no photo-sized leftovers
    assert peak - base < 160 * 2**20, (peak - base) / 2**20
