"""The watermark on its own: payload round trip, detection, no detection without it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facecraft.errors import FacecraftError
from facecraft.provenance import coding, watermark
from facecraft.provenance.payload import content_id_of, make_payload, tag_of


def _texture(h: int, w: int, seed: int) -> np.ndarray:
    """A natural-looking test picture: smoothed noise at several scales plus a gradient."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w), np.float32)
    for sigma, weight in ((1.0, 10), (4.0, 25), (16.0, 40)):
        img += (
            weight * cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), sigma) * sigma
        )
    img += np.linspace(60, 180, w, dtype=np.float32)[None, :]
    bgr = np.stack([img * 0.9, img, img * 1.1], axis=2)
    return np.clip(bgr, 0, 255).astype(np.uint8)


def test_payload_layout_round_trips() -> None:
    p = make_payload(0x123456)
    assert tag_of(p) == 0xFC and content_id_of(p) == 0x123456
    assert watermark.bits_to_payload(watermark.payload_to_bits(p)) == p
    with pytest.raises(ValueError):
        make_payload(1 << 24)


def test_code_corrects_errors_in_soft_values() -> None:
    rng = np.random.default_rng(5)
    bits = rng.integers(0, 2, watermark.PAYLOAD_BITS).astype(np.uint8)
    code = coding.encode(bits)
    assert len(code) == watermark.CODED_BITS == coding.coded_length(watermark.PAYLOAD_BITS)
    assert np.array_equal(coding.decode(code * 2.0 - 1, len(bits)), bits)
    soft = (code * 2.0 - 1) * rng.uniform(0.2, 1.0, len(code))
    soft[::9] *= -1  # 13 of 114 code bits read wrong (11%), as after half-size downscaling
    assert np.array_equal(coding.decode(soft, len(bits)), bits)


@pytest.mark.parametrize("size", [(388, 512), (720, 1280), (240, 320)])
def test_embedded_payload_is_found_exactly(size: tuple[int, int]) -> None:
    frame = _texture(*size, seed=1)
    payload = make_payload(0xA5C30F)
    marked = watermark.embed(frame, payload)
    assert cv2.PSNR(frame, marked) > 35
    det = watermark.detect([marked])
    assert det.found and det.score >= watermark.DETECTION_THRESHOLD
    assert det.payload == payload


def test_unmarked_pictures_are_not_detected() -> None:
    for seed in range(4):
        det = watermark.detect([_texture(388, 512, seed=10 + seed)])
        assert not det.found, det.score


def test_survives_half_size_and_jpeg() -> None:
    frame = _texture(512, 512, seed=3)
    payload = make_payload(0x00FFEE)
    marked = watermark.embed(frame, payload)
    half = cv2.resize(marked, (256, 256), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", half, [cv2.IMWRITE_JPEG_QUALITY, 75])
    assert ok
    decoded = cv2.imdecode(data, cv2.IMREAD_COLOR)
    assert decoded is not None
    det = watermark.detect([decoded])
    assert det.found
    assert np.mean(det.bits == watermark.payload_to_bits(payload)) >= 0.95


def test_survives_crop_by_phase_search() -> None:
    frame = _texture(480, 640, seed=4)
    payload = make_payload(0x13579B)
    cropped = watermark.embed(frame, payload)[17:449, 29:605]  # 10% off, at an arbitrary offset
    det = watermark.detect([cropped])
    assert det.found and det.payload == payload


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
    probe = watermark.MarkProbe(512, 384, [watermark.WatermarkConfig(), watermark.IMAGE_CONFIG])
    found = probe.update(first)
    assert found is not None and found.payload == old and 3.0 <= found.gain <= 4.0
    second = watermark.embed(first, new, replaces=found)
    assert cv2.PSNR(frame, second) > 35
    det = watermark.detect([second])
    assert det.found and det.payload == new
    unmarked = watermark.MarkProbe(512, 384, [watermark.WatermarkConfig(), watermark.IMAGE_CONFIG])
    assert all(unmarked.update(_texture(384, 512, seed=20 + i)) is None for i in range(3))
