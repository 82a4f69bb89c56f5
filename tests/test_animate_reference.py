"""The driving reference: a closed-mouth frame, even when the clip starts mid-word; or the one asked for."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from facecraft.animate.driving import FaceFollower
from facecraft.animate.geometry import face_width, mouth_opening
from facecraft.animate.reference import choose_reference
from facecraft.errors import FacecraftError
from facecraft.face.detect import FaceDetector
from facecraft.face.mesh import FaceMesher
from facecraft.media.video import iter_frames, probe


@pytest.fixture(scope="module")
def follow() -> Iterator[FaceFollower]:
    mesher = FaceMesher()
    yield FaceFollower(mesher, FaceDetector())
    mesher.close()


def _gap(landmarks: np.ndarray) -> float:
    lm = landmarks.astype(np.float64)
    return mouth_opening(lm) / face_width(lm)


def test_reference_is_a_closed_mouth_on_a_clip_that_starts_mid_word(
    shared_data: Path, follow: FaceFollower
) -> None:
    clip = shared_data / "videos" / "obama_speaking_8s.mp4"  # frame 0: lips apart (mid-word)
    first = next(iter_frames(clip))
    first_mesh = follow(first.image)
    assert first_mesh is not None and _gap(first_mesh.landmarks) > 0.05
    ref = choose_reference(clip, follow, probe(clip).fps)
    assert ref.index > 0
    assert _gap(ref.mesh.landmarks) < 0.02, "the reference must show closed lips"


def test_reference_frame_can_be_chosen_and_is_checked(shared_data: Path, follow: FaceFollower) -> None:
    clip = shared_data / "videos" / "woman_glasses_talking_5s_audio.mp4"
    assert choose_reference(clip, follow, 25.0, fixed=30).index == 30
    with pytest.raises(FacecraftError, match="past the end"):
        choose_reference(clip, follow, 25.0, fixed=10_000)


def test_a_portrait_shown_mid_word_closes_its_lips_with_the_driver(shared_data: Path) -> None:
    """Absolute mouth: the portrait is frame 0 of a clip that starts mid-word; when the driver's lips are
    closed (the reference frame), the portrait's are too."""
    from dataclasses import replace

    from facecraft.animate import AnimateConfig
    from facecraft.animate.driving import VideoDriver
    from facecraft.animate.portrait import load_portrait
    from facecraft.animate.run import Animation

    clip = shared_data / "videos" / "obama_speaking_8s.mp4"
    first = next(iter_frames(clip)).image
    detector = FaceDetector()
    with FaceMesher() as mesher:
        pic = load_portrait(first, mesher, detector, crop="full", size=max(first.shape[:2]))
        config = AnimateConfig(crop="full", size=max(first.shape[:2]), layers=False)
        driver = VideoDriver(clip, config, mesher, detector, pic.landmarks)
        ref = driver.reference
        at_ref = None
        for i, motion in enumerate(driver.motions()):
            if i == ref.index:
                at_ref = motion
                break
    assert at_ref is not None
    reference = (ref.image, ref.mesh.landmarks.astype(np.float64))
    fw = face_width(pic.landmarks)
    closed = Animation(pic, config, reference).target(at_ref)
    relative = Animation(pic, replace(config, absolute_mouth=False), reference).target(at_ref)
    assert mouth_opening(pic.landmarks) / fw > 0.05
    assert mouth_opening(closed) / fw < 0.02
    assert mouth_opening(relative) / fw > 0.05  # relative motion alone would keep the portrait's open mouth
