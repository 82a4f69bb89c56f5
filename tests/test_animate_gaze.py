"""Gaze: a glance aside slides the iris inside the eye (nothing folds), both eyes together, and a driving
reference glancing aside is not chosen (relative gaze would turn the portrait's eyes away at rest)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from facecraft.animate import AnimateConfig
from facecraft.animate.driving import FaceFollower
from facecraft.animate.expressions import (
    EYES,
    IRIS_LEFT,
    IRIS_REACH,
    IRIS_RIGHT,
    eye_line,
    iris_offsets,
    keep_irises_in_eyes,
)
from facecraft.animate.gaze import fold_share
from facecraft.animate.geometry import face_width
from facecraft.animate.layers import parse_head
from facecraft.animate.motion import Motion
from facecraft.animate.portrait import load_portrait
from facecraft.animate.reference import choose_reference
from facecraft.animate.run import Animation
from facecraft.face import regions
from facecraft.face.detect import FaceDetector
from facecraft.face.mesh import BLENDSHAPE_NAMES, FaceMesher
from facecraft.media.video import probe


@pytest.fixture(scope="module")
def mesher() -> Iterator[FaceMesher]:
    with FaceMesher() as m:
        yield m


def _glance(landmarks: np.ndarray, amount: float) -> Motion:
    """Both irises moved ``amount`` eye widths along their eyes (expression offsets in face widths)."""
    fw = face_width(landmarks)
    expression = np.zeros((478, 3))
    for iris, (a, b) in EYES:
        expression[list(iris), :2] = amount * (landmarks[b, :2] - landmarks[a, :2]) / fw
    return Motion(expression=expression)


def test_irises_stay_inside_the_eyes_and_move_together() -> None:
    rng = np.random.default_rng(0)
    rest = rng.normal(0, 1, (478, 3))
    for iris, (a, b) in EYES:  # two level eyes 40 px wide, irises in the middle
        rest[a], rest[b] = (0, 0, 0), (40, 0, 0)
        rest[list(iris)] = (20, 0, 0)
        if iris == IRIS_RIGHT:
            rest[[a, b, *iris], 0] += 80
    far = rest.copy()
    far[list(IRIS_LEFT) + list(IRIS_RIGHT), 0] += 0.45 * 40  # a glance the eye cannot make
    eased = iris_offsets(keep_irises_in_eyes(rest, far))
    assert max(abs(u) for u in eased) <= IRIS_REACH + 1e-9
    assert eased[0] == pytest.approx(eased[1]), "the two eyes must stay yoked"
    assert min(eased) > 0.2, "a far glance still looks far"
    near = rest.copy()
    near[list(IRIS_LEFT) + list(IRIS_RIGHT), 0] += 0.1 * 40
    assert np.array_equal(keep_irises_in_eyes(rest, near), near), "an ordinary glance is left alone"
    assert np.array_equal(keep_irises_in_eyes(rest, rest), rest)


def _drawniris_offsets(
    target: np.ndarray, irises: np.ndarray, map_x: np.ndarray, map_y: np.ndarray
) -> list[float]:
    """Where the drawn iris's centre of mass sits along each eye of ``target``, in eye widths."""
    drawn = cv2.remap(irises, map_x, map_y, cv2.INTER_LINEAR)
    ys, xs = np.mgrid[0 : drawn.shape[0], 0 : drawn.shape[1]]
    out = []
    for _, corners in EYES:
        middle, axis, width = eye_line(target, corners)
        near = np.zeros(drawn.shape, np.uint8)
        cv2.circle(near, (round(middle[0]), round(middle[1])), round(0.7 * width), 1, -1)
        mass = drawn * near
        centre = np.array([(xs * mass).sum(), (ys * mass).sum()]) / mass.sum()
        out.append(float((centre - middle) @ axis) / width)
    return out


@pytest.mark.parser
@pytest.mark.parametrize("name", ["einstein_photo.jpg", "lady_agnew_painting.jpg", "mona_lisa.jpg"])
def test_a_glance_aside_slides_the_iris_without_folding_the_eye(
    shared_data: Path, mesher: FaceMesher, name: str
) -> None:
    # Moved with the mesh, an iris a fifth of the eye's width aside squeezed the triangles between it and
    # the corner until they turned over: a white sliver and a dark wedge instead of an eye looking aside.
    pic = load_portrait(shared_data / "portraits" / name, mesher, FaceDetector(), size=384)
    head = parse_head(pic.image, pic.landmarks)
    assert head is not None
    irises = np.zeros(pic.image.shape[:2], np.uint8)
    for iris, _ in EYES:
        pts = pic.landmarks[list(iris), :2]
        radius = round(float(np.linalg.norm(pts[1:] - pts[0], axis=1).mean()))
        cv2.circle(irises, tuple(np.round(pts[0]).astype(int)), radius, 1, -1)
    opening = (head[3] > 0.5).astype(np.uint8)  # the eyeballs the parser sees, or the mesh's outline
    for side in ("left", "right"):
        cv2.fillPoly(opening, [np.round(regions.polygon(pic.landmarks, f"{side}_eye")).astype(np.int32)], 1)
    visible = (irises * opening).astype(np.float32)
    anim = Animation(pic, AnimateConfig(size=384), None)
    rest = iris_offsets(pic.landmarks)
    for amount in (-0.22, 0.22):
        target = anim.target(_glance(pic.landmarks, amount))
        map_x, map_y, _ = anim.renderer.maps(target)  # type: ignore[attr-defined]
        folded = fold_share(target, map_x, map_y)
        assert folded < 0.002, f"{name}, glance {amount}: {folded:.1%} of the eye region folds"
        moved = np.array(_drawniris_offsets(target, visible, map_x, map_y)) - rest
        assert np.all(moved * np.sign(amount) > 0.5 * abs(amount)), (
            f"{name}, glance {amount}: the drawn irises moved {moved} eye widths"
        )
        assert abs(moved[0] - moved[1]) < 0.06, f"{name}: the eyes look different ways ({moved})"


def test_the_reference_looks_ahead(shared_data: Path, mesher: FaceMesher) -> None:
    # man_green_screen_3s glances aside in frames 11-27 with a closed, relaxed mouth: the most neutral
    # mouth of its first seconds. Gaze is relative too, so such a reference turned the portrait's eyes
    # the other way whenever the driver looked at the camera.
    clip = shared_data / "videos" / "man_green_screen_3s.mp4"
    ref = choose_reference(clip, FaceFollower(mesher, FaceDetector()), probe(clip).fps)
    look = [
        ref.mesh.blendshapes[BLENDSHAPE_NAMES.index(f"eyeLook{d}{s}")]
        for d in ("In", "Out")
        for s in ("Left", "Right")
    ]
    assert max(look) < 0.35, f"reference frame {ref.index} looks aside (eyeLook in/out {np.round(look, 2)})"
