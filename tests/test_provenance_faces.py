"""The face-aware watermark: lower on faces (the rest raised to the same RMS), still read, deterministic."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facecraft.media.image import read_image
from facecraft.media.video import iter_frames
from facecraft.provenance import watermark
from facecraft.provenance.detect import detect
from facecraft.provenance.faces import DETECT_EVERY, STILL_SIDE, FaceLocator
from facecraft.provenance.label import GUARD_EVERY, FrameLabeller
from facecraft.provenance.payload import make_payload

PHOTO = "images/obama_3_pressroom.jpg"  # 1480x832, one face ~360 px wide
VIDEO = "videos/man_glasses_orange_7s_audio.mp4"


def _energy(plain: np.ndarray, marked: np.ndarray, box: tuple[float, ...]) -> tuple[float, float, float]:
    """Mean squared luma change inside ``box``, outside it, and over the whole frame."""
    d = (marked.astype(np.float32) - plain.astype(np.float32)).mean(axis=2) ** 2
    x, y, w, h = (int(v) for v in box)
    inside = np.zeros(d.shape, bool)
    inside[y : y + h, x : x + w] = True
    return float(d[inside].mean()), float(d[~inside].mean()), float(d.mean())


def test_face_aware_mark_is_lower_on_the_face_and_keeps_its_id(shared_data: Path) -> None:
    from facecraft.face.detect import FaceDetector
    from facecraft.face.identity import IdentityEncoder, cosine

    photo = read_image(shared_data / PHOTO)
    face = FaceDetector().detect(photo)[0]
    marked = {}
    for aware in (False, True):
        labeller = FrameLabeller(
            content_id=0x3C0FFE,
            config=watermark.IMAGE_CONFIG,
            key=None,
            face_aware=aware,
            face_side=STILL_SIDE,
            ssim_guard=False,  # the same strength with and without, to compare where it goes
        )
        marked[aware] = labeller.apply(photo)
        assert detect([marked[aware]]).content_id == 0x3C0FFE
    plain_in, plain_out, plain_all = _energy(photo, marked[False], face.bbox)
    aware_in, aware_out, aware_all = _energy(photo, marked[True], face.bbox)
    # Without the feature the face gets about as much as the rest (it is textured); with it far less.
    assert aware_in / aware_out < 0.4 * (plain_in / plain_out), (plain_in, plain_out, aware_in, aware_out)
    assert abs(aware_all / plain_all - 1) < 0.05  # the same RMS change over the frame
    assert cv2.PSNR(photo, marked[True]) >= 42
    # Deterministic: another labeller with the same id gives the same pixels.
    again = FrameLabeller(
        content_id=0x3C0FFE,
        config=watermark.IMAGE_CONFIG,
        key=None,
        face_aware=True,
        face_side=STILL_SIDE,
        ssim_guard=False,
    ).apply(photo)
    assert np.array_equal(again, marked[True])
    # And the face's identity features move less.
    encoder = IdentityEncoder()
    ref = encoder.embed(photo, face.points)
    change = {a: 1 - float(cosine(ref, encoder.embed(m, face.points))[0, 0]) for a, m in marked.items()}
    assert change[True] < 0.5 * change[False], change


def test_face_weight_and_unmasked_frames() -> None:
    box = (100.0, 60.0, 80.0, 100.0)
    weight = watermark.face_weight((box,), (60, 80), 4)  # 240x320 in 4 px blocks
    assert abs(float(weight[110 // 4, 140 // 4]) - watermark.FACE_SHARE) < 1e-6  # the box's centre
    assert float(weight[2, 2]) == 1.0 and float(weight.min()) >= watermark.FACE_SHARE - 1e-6
    frame = np.full((240, 320, 3), 120, np.uint8)
    frame[:, :, 1] = np.linspace(60, 180, 320, dtype=np.float32)[None, :].astype(np.uint8)
    config = watermark.WatermarkConfig(masking=False)
    plain = watermark.embed(frame, make_payload(0x0F0F0F), config)
    aware = watermark.embed(frame, make_payload(0x0F0F0F), config, faces=(box,))
    p_in, p_out, p_all = _energy(frame, plain, box)
    a_in, a_out, a_all = _energy(frame, aware, box)
    assert a_in < 0.3 * p_in and a_out > p_out and abs(a_all / p_all - 1) < 0.1


def test_faces_are_looked_for_every_few_frames_per_size(shared_data: Path) -> None:
    """A stage may interleave two streams (a swap's output and its side-by-side preview): each size keeps
    its own schedule; between detections the last boxes are kept."""
    frames = [f.image for f in iter_frames(shared_data / VIDEO) if f.index < DETECT_EVERY + 2]
    locator = FaceLocator()
    main_boxes = []
    for frame in frames:
        main_boxes.append(locator.boxes(frame))
        locator.boxes(np.concatenate([frame, frame], axis=1))  # the preview
    assert locator.detections == 4  # frames 0 and DETECT_EVERY of each size
    assert all(len(b) == 1 for b in main_boxes)
    assert all(b == main_boxes[0] for b in main_boxes[:DETECT_EVERY])
    x, _, w, _ = main_boxes[0][0]
    assert 150 <= w <= 300 and x >= 0 and x + w <= 512  # MANIFEST: the face is about 224 px wide


def test_a_labeller_started_at_a_multiple_of_the_schedule_labels_the_same(shared_data: Path) -> None:
    """A resumed swap starts a new labeller at a segment boundary (50 frames by default): from a multiple of
    DETECT_EVERY and GUARD_EVERY its frames are bit-identical to an uninterrupted run's."""
    assert GUARD_EVERY % DETECT_EVERY == 0 and 50 % GUARD_EVERY == 0
    frames = [f.image for f in iter_frames(shared_data / VIDEO) if f.index < 2 * GUARD_EVERY + 1]
    whole = FrameLabeller(content_id=0x5A5A5A, key=None, face_aware=True)
    resumed = FrameLabeller(content_id=0x5A5A5A, key=None, face_aware=True)
    out_whole = [whole.apply(f) for f in frames]
    out_resumed = [resumed.apply(f) for f in frames[GUARD_EVERY:]]
    assert all(np.array_equal(a, b) for a, b in zip(out_whole[GUARD_EVERY:], out_resumed, strict=True))
    plain = FrameLabeller(content_id=0x5A5A5A, key=None, face_aware=False).apply(frames[0])
    assert not np.array_equal(plain, out_whole[0])  # the feature changed the frame
