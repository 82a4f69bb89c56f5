"""Blinks kept: the target's closing eye shows its own lids, per eye, and nothing changes for open eyes."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facecraft.face.regions import region
from facecraft.swap.blinks import CLOSED, OPEN, blink_keep_mask, closedness, eye_opening, eyes_closed
from facecraft.swap.compose import Compositor, TargetFace
from facecraft.swap.config import SwapConfig
from tests.test_swap_compose import _landmarks


def _close(lm: np.ndarray, name: str, ratio: float) -> np.ndarray:
    """``lm`` with eye ``name``'s points squashed vertically to lid gap / width = ``ratio``."""
    out = lm.copy()
    idx = list(region(name))
    pts = out[idx]
    centre = pts.mean(0)
    height, width = np.ptp(pts[:, 1]), np.ptp(pts[:, 0])
    out[idx, 1] = centre[1] + (pts[:, 1] - centre[1]) * (ratio * width / height)
    return out


def _centre(lm: np.ndarray, name: str) -> tuple[int, int]:
    x, y = lm[list(region(name))].mean(0).round().astype(int)
    return int(x), int(y)


def test_open_eyes_keep_nothing_and_a_wink_keeps_one_eye() -> None:
    lm = _landmarks()
    assert eye_opening(lm, "left_eye") > OPEN and closedness(eye_opening(lm, "left_eye")) == 0
    assert not blink_keep_mask(lm, 256).any()
    wink = _close(lm, "left_eye", 0.05)
    assert closedness(eye_opening(wink, "left_eye")) == 1.0
    keep = blink_keep_mask(wink, 256)
    lx, ly = _centre(wink, "left_eye")
    rx, ry = _centre(wink, "right_eye")
    assert keep[ly, lx] > 0.9 and keep[ry, rx] == 0.0
    # the region covers where an open eye would be drawn, not just the thin closed-lid line
    assert keep[ly - 6, lx] > 0.5 and keep[ly + 6, lx] > 0.5
    half = blink_keep_mask(_close(lm, "left_eye", (OPEN + CLOSED) / 2), 256)
    assert 0.3 < half[ly, lx] < 0.7


def test_the_compositor_shows_the_targets_closed_lids() -> None:
    lm = _close(_landmarks(), "right_eye", 0.05)
    size = 256
    target = TargetFace(0, np.eye(2, 3), np.full((size, size, 3), 128, np.uint8), lm)
    kept = Compositor(SwapConfig(mask="landmarks")).face_mask(target, None)
    painted = Compositor(SwapConfig(mask="landmarks", keep_blinks=False)).face_mask(target, None)
    x, y = _centre(lm, "right_eye")
    lx, ly = _centre(lm, "left_eye")
    assert painted[y, x] > 0.99 and kept[y, x] < 0.05
    assert np.isclose(kept[ly, lx], painted[ly, lx])  # the open eye is the model's, as before
    # The frame's own reading of the eyes (unsmoothed mesh, blendshapes) decides, the landmarks place it:
    # smoothed landmarks lag a blink of a few frames and can still show an open eye.
    open_lm = _landmarks()
    read = TargetFace(0, np.eye(2, 3), target.aligned, open_lm, eyes_closed=(0.0, 1.0))
    kept = Compositor(SwapConfig(mask="landmarks")).face_mask(read, None)
    x, y = _centre(open_lm, "right_eye")
    lx, ly = _centre(open_lm, "left_eye")
    assert kept[y, x] < 0.05 and kept[ly, lx] > 0.99


def test_a_real_blink_is_measured_closed_and_open_eyes_open(shared_data: Path) -> None:
    from facecraft.face.detect import FaceDetector
    from facecraft.face.mesh import FaceMesher

    cap = cv2.VideoCapture(str(shared_data / "videos/woman_glasses_talking_5s_audio.mp4"))
    frames = [cap.read()[1] for _ in range(67)]
    cap.release()
    detector = FaceDetector()
    with FaceMesher() as mesher:
        found, shapes = [], []
        for i in (16, 66):  # mid-blink (MediaPipe's blink score 0.67) and eyes wide open
            mesh = mesher.mesh(frames[i], detector.detect(frames[i])[0].bbox)
            assert mesh is not None
            found.append(mesh.landmarks[:, :2])
            shapes.append(mesh.blendshapes)
    blink, open_ = (max(closedness(eye_opening(lm, n)) for n in ("left_eye", "right_eye")) for lm in found)
    assert blink > 0.8 and open_ == 0.0
    # Her glasses frame hides one closing eye from the landmarks; the blink score sees both closed.
    assert min(eyes_closed(found[0])) < 0.5 and min(eyes_closed(found[0], shapes[0])) > 0.8
    assert eyes_closed(found[1], shapes[1]) == (0.0, 0.0)
    # landmarks are in frame pixels here; the measure does not depend on the scale
    assert np.isclose(eye_opening(found[1] * 0.5, "left_eye"), eye_opening(found[1], "left_eye"))
