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
