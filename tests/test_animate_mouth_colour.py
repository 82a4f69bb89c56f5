"""The driver's mouth interior, colour-matched to the portrait: never blue, yellower on a yellowed painting."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facecraft.animate.driving import FaceFollower
from facecraft.animate.mouth import colour_match
from facecraft.animate.portrait import load_portrait
from facecraft.face import regions
from facecraft.face.detect import FaceDetector
from facecraft.face.mesh import FaceMesher
from facecraft.media.video import iter_frames


def test_a_tanned_drivers_mouth_is_not_blue_on_a_pale_portrait(shared_data: Path) -> None:
    # Obama's skin is far more yellow than his mouth; shifted by the difference onto the colourised Einstein
    # photograph's grey-pink skin, his teeth and tongue came out blue-grey (b* under grey).
    detector = FaceDetector()
    with FaceMesher() as mesher:
        follow = FaceFollower(mesher, detector)
        for frame in iter_frames(shared_data / "videos" / "obama_speaking_8s.mp4"):
            mesh = follow(frame.image)
            if frame.index == 210:  # mid-word, lips apart, teeth showing
                break
        assert mesh is not None
        lm = mesh.landmarks.astype(np.float64)
        inside = np.zeros(frame.image.shape[:2], np.uint8)
        cv2.fillPoly(inside, [np.round(regions.polygon(lm, "lips_inner")).astype(np.int32)], 1)
        inside = cv2.erode(inside, np.ones((3, 3), np.uint8))
        assert inside.sum() > 100
        colours = {}
        for name in ("einstein_photo.jpg", "mona_lisa.jpg"):
            pic = load_portrait(shared_data / "portraits" / name, mesher, detector, size=384)
            matched = colour_match(frame.image, lm, pic.image, pic.landmarks).apply(frame.image)
            colours[name] = cv2.cvtColor(matched, cv2.COLOR_BGR2LAB)[inside > 0].astype(np.float64)
    pale = colours["einstein_photo.jpg"]
    blue = float((pale[:, 2] < 126).mean())
    assert blue < 0.02, f"{blue:.0%} of the mouth on Einstein is blue (b* {np.median(pale[:, 2]):.0f})"
    teeth = pale[:, 0] > np.percentile(pale[:, 0], 80)
    yellowed = colours["mona_lisa.jpg"]
    assert np.median(yellowed[teeth, 2]) > np.median(pale[teeth, 2]) + 8, (
        "a yellowed painting's teeth are yellower"
    )
