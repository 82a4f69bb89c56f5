"""Closed lips kept: a closed target mouth keeps its own lips in the source's lip tone; an open one is the model's."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from facecraft.swap.lips import closed_weight, keep_closed_lips, lip_gap, lip_pixels, lip_tone
from facecraft.swap.mask.refine import skin_mask

CLIP = "videos/man_grey_backdrop_7s_audio.mp4"
CLOSED_FRAME, OPEN_FRAME = 0, 140  # lips together; a wide-open mouth (480x480 frames)


@pytest.fixture(scope="module")
def frames_and_landmarks(shared_data: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    from facecraft.face.detect import FaceDetector
    from facecraft.face.mesh import FaceMesher

    cap = cv2.VideoCapture(str(shared_data / CLIP))
    frames = [cap.read()[1] for _ in range(OPEN_FRAME + 1)]
    cap.release()
    detector = FaceDetector()
    out = []
    with FaceMesher() as mesher:
        for i in (CLOSED_FRAME, OPEN_FRAME):
            mesh = mesher.mesh(frames[i], detector.detect(frames[i])[0].bbox)
            assert mesh is not None
            out.append((frames[i], mesh.landmarks[:, :2].astype(np.float32)))
    return out


def _lab_mean(image: np.ndarray, where: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_BGR2LAB)
    return lab[where].mean(axis=0)


def _grin(frame: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """The frame with a row of white 'teeth' painted over its lips, as a decoder's habitual grin."""
    face = frame.copy()
    face[lip_pixels(lm, frame.shape[0])] = (235, 240, 240)
    return face


def test_a_closed_mouth_keeps_its_lips_in_the_sources_tone(frames_and_landmarks) -> None:
    frame, lm = frames_and_landmarks[0]
    size = frame.shape[0]
    assert closed_weight(lip_gap(lm)) == 1.0
    lips = lip_pixels(lm, size)
    skin = skin_mask(lm, size)
    face = _grin(frame, lm)
    # A source whose lips are much redder than its skin: the kept lips take that tone over the face's skin.
    red = np.array([-5.0, 30.0, 12.0], np.float32)
    out = keep_closed_lips(face, frame, lm, skin, red)
    inner = cv2.erode(lips.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    got = _lab_mean(out, inner) - _lab_mean(face, skin > 0)
    assert np.abs(got - red).max() < 4.0, got
    # The grin is gone and the target's own lip line (its texture) is back.
    assert _lab_mean(out, inner)[0] < _lab_mean(face, inner)[0] - 15
    lab_out = cv2.cvtColor(out, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
    lab_frame = cv2.cvtColor(frame, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
    corr = np.corrcoef(lab_out[inner], lab_frame[inner])[0, 1]
    assert corr > 0.8, corr
    # The target's own tone given back gives the target's own lips (the face here is the target's skin).
    own = lip_tone(frame[None], lm[None], [skin])
    assert own is not None
    same = keep_closed_lips(_grin(frame, lm), frame, lm, skin, own)
    assert np.abs(same[inner].astype(int) - frame[inner].astype(int)).mean() < 3.0
    # Far from the mouth nothing changes.
    assert np.array_equal(out[: size // 3], face[: size // 3])


def test_an_open_mouth_is_left_to_the_model(frames_and_landmarks) -> None:
    frame, lm = frames_and_landmarks[1]
    assert closed_weight(lip_gap(lm)) == 0.0
    face = _grin(frame, lm)
    out = keep_closed_lips(face, frame, lm, skin_mask(lm, frame.shape[0]), np.zeros(3, np.float32))
    assert np.array_equal(out, face)


def test_the_frames_own_gap_decides_over_smoothed_landmarks(frames_and_landmarks) -> None:
    """In a video the landmarks are smoothed and lag an opening mouth: the gap read from the frame's own mesh
    (TargetFace.lip_gap) decides whether its lips are kept."""
    closed, lm = frames_and_landmarks[0]
    skin = skin_mask(lm, closed.shape[0])
    face = _grin(closed, lm)
    tone = np.zeros(3, np.float32)
    assert np.array_equal(keep_closed_lips(face, closed, lm, skin, tone, gap=0.06), face)
    assert not np.array_equal(keep_closed_lips(face, closed, lm, skin, tone, gap=0.0), face)


def test_lip_tone_reads_redder_lips() -> None:
    from tests.test_swap_compose import _landmarks

    lm = _landmarks()
    size = 256
    image = np.full((size, size, 3), (120, 140, 190), np.uint8)
    lips = lip_pixels(lm, size)
    painted = image.copy()
    painted[lips] = (90, 60, 200)
    skin = skin_mask(lm, size)
    plain = lip_tone(image[None], lm[None], [skin])
    red = lip_tone(painted[None], lm[None], [skin])
    assert plain is not None and red is not None
    assert np.abs(plain).max() < 0.5 and red[1] > 15
    assert lip_tone(image[None], lm[None], [np.zeros_like(skin)]) is None


def test_the_compositor_takes_the_lip_tone_from_the_sources_exemplars() -> None:
    from facecraft.swap.compose import Compositor
    from facecraft.swap.config import SwapConfig
    from facecraft.swap.exemplars import ExemplarBank, ExemplarDetail, triangulate
    from tests.test_swap_compose import _landmarks

    lm = _landmarks()
    size = 256
    image = np.full((size, size, 3), (120, 140, 190), np.uint8)
    image[lip_pixels(lm, size)] = (90, 60, 200)  # the source's red lips
    bank = ExemplarBank(
        np.stack([image] * 3),
        np.full((3, size, size), 255, np.uint8),
        np.stack([lm] * 3),
        triangulate(lm, size),
    )
    lender = ExemplarDetail(bank, model_size=64)
    kept = Compositor(SwapConfig(mask="landmarks"), exemplars=lender).lip_tone
    assert kept is not None and kept[1] > 15  # redder than the skin
    assert Compositor(SwapConfig(mask="landmarks", keep_lips=False), exemplars=lender).lip_tone is None
    assert Compositor(SwapConfig(mask="landmarks")).lip_tone is None  # no exemplars, no kept lips
