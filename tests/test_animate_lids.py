"""Closed eyes are drawn as lids: the iris and the white of the eye do not stay on a closed eye."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from facecraft.animate import AnimateConfig
from facecraft.animate.geometry import face_width
from facecraft.animate.layers import parse_head
from facecraft.animate.motion import Motion
from facecraft.animate.portrait import load_portrait
from facecraft.animate.run import Animation
from facecraft.face import regions
from facecraft.face.detect import FaceDetector
from facecraft.face.mesh import FaceMesher


@pytest.fixture(scope="module")
def mesher() -> Iterator[FaceMesher]:
    with FaceMesher() as m:
        yield m


def _dark_pixels(grey: np.ndarray, landmarks: np.ndarray, fw: float, side: str, below: float) -> int:
    eye = landmarks[list(regions.region(f"{side}_eye")), :2]
    margin = np.array([0.02, 0.03]) * fw
    x0, y0 = (eye.min(0) - margin).astype(int)
    x1, y1 = (eye.max(0) + margin).astype(int)
    return int((grey[y0:y1, x0:x1] < below).sum())


@pytest.mark.parser
@pytest.mark.parametrize("name", ["einstein_photo.jpg", "lady_agnew_painting.jpg"])
def test_a_blink_closes_the_eye_over_its_iris(shared_data: Path, mesher: FaceMesher, name: str) -> None:
    # The mesh's lids sit on the iris, below the lids' real edges: closing them used to drag the iris and
    # the white of the eye down as a smear (a dark blob and a white fleck on every blink). A closed eye
    # keeps only a lash line of the eye's dark pixels.
    pic = load_portrait(shared_data / "portraits" / name, mesher, FaceDetector(), size=384)
    head = parse_head(pic.image, pic.landmarks)
    assert head is not None
    still = cv2.cvtColor(pic.image, cv2.COLOR_BGR2GRAY)
    dark = float(np.percentile(still[head[3] > 0.5], 15)) + 20  # the iris, the lashes
    anim = Animation(pic, AnimateConfig(size=384), None)
    closed = Motion(blink=(1.0, 1.0))
    target = anim.target(closed)
    grey = cv2.cvtColor(anim.render(closed), cv2.COLOR_BGR2GRAY)
    fw_still, fw_now = face_width(pic.landmarks), face_width(target)
    shares = [
        _dark_pixels(grey, target, fw_now, side, dark)
        / max(1, _dark_pixels(still, pic.landmarks, fw_still, side, dark))
        for side in ("left", "right")
    ]
    assert np.mean(shares) < 0.25, f"{name}: closed eyes keep {shares} of the open eyes' dark pixels"
