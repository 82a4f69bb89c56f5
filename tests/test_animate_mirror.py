"""The face mesh's mirror table, and a head turn that stretches a foreshortened cheek without streaks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from facecraft.animate import AnimateConfig, mirror, warp
from facecraft.animate.geometry import euler_rotation, face_width
from facecraft.animate.motion import Motion
from facecraft.animate.portrait import Portrait, load_portrait
from facecraft.animate.run import Animation
from facecraft.face.detect import FaceDetector
from facecraft.face.mesh import FaceMesher
from facecraft.face.symmetry import MIRROR

MIDLINE = (0, 1, 4, 6, 8, 9, 10, 13, 14, 17, 151, 152, 164, 168, 175, 195, 199, 200)


@pytest.fixture(scope="module")
def models() -> Iterator[tuple[FaceMesher, FaceDetector]]:
    mesher = FaceMesher()
    yield mesher, FaceDetector()
    mesher.close()


def test_mirror_table_is_an_involution_that_keeps_the_midline() -> None:
    pairs = np.asarray(MIRROR)
    assert sorted(pairs.tolist()) == list(range(478))
    assert (pairs[pairs] == np.arange(478)).all()
    assert all(MIRROR[i] == i for i in MIDLINE)
    assert (MIRROR[33], MIRROR[133], MIRROR[61], MIRROR[234], MIRROR[468]) == (263, 362, 291, 454, 473)


def test_mirror_table_pairs_reflected_points_on_a_real_face(
    shared_data: Path, models: tuple[FaceMesher, FaceDetector]
) -> None:
    mesher, detector = models
    image = cv2.imread(str(shared_data / "images" / "biden_2_portrait.jpg"))
    mesh = mesher.mesh(image, detector.detect(image)[0].bbox)
    assert mesh is not None
    pts = mesh.landmarks.astype(np.float64)
    centre = pts[list(MIDLINE)].mean(0)
    normal = np.linalg.svd(pts[list(MIDLINE)] - centre)[2][2]  # the midline's plane
    reflected = pts - 2 * ((pts - centre) @ normal)[:, None] * normal[None, :]
    error = np.linalg.norm(reflected - pts[np.asarray(MIRROR)], axis=1) / face_width(pts)
    # A real face is not exactly symmetric: its partner is near, far nearer than the next point over.
    assert np.median(error) < 0.02 and np.percentile(error, 95) < 0.05, (np.median(error), error.max())


def _streaks(anim: Animation, pic: Portrait, motion: Motion) -> tuple[float, int]:
    """Horizontal over vertical gradient energy of the output where a turn stretches the face most (a
    smear along the turn has little horizontal detail left), and how many pixels that region has."""
    target = anim.target(motion)
    renderer = anim.renderer
    layout = renderer.layout  # type: ignore[attr-defined]
    _, _, cover = warp.backward_map_and_cover(layout, pic.landmarks, target)
    maps = mirror.MirrorMaps.prepare(pic.landmarks, layout.triangles)
    weight = mirror.triangle_weights(maps, target, cover.triangles)[cover.ids]
    full = _at_output(weight, layout, cover, pic.image.shape)
    region = cv2.erode((full > 0.9).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    grey = cv2.cvtColor(anim.render(motion), cv2.COLOR_BGR2GRAY).astype(np.float32)
    gx, gy = cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)
    return float((gx[region] ** 2).mean() / max((gy[region] ** 2).mean(), 1e-6)), int(region.sum())


def _at_output(
    values: np.ndarray, layout: warp.WarpLayout, cover: warp.FaceCover, shape: tuple[int, ...]
) -> np.ndarray:
    """A map over the cover's field pixels (``values``, its roi's shape) placed in an output-size image
    (zeros elsewhere), each field pixel repeated over the output pixels it spans."""
    scale = layout.size[0] / layout.field_size[0]
    full = np.zeros(shape[:2], values.dtype)
    up = cv2.resize(values, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    y0, x0 = round(cover.roi[0].start * scale), round(cover.roi[1].start * scale)
    h, w = min(up.shape[0], full.shape[0] - y0), min(up.shape[1], full.shape[1] - x0)
    full[y0 : y0 + h, x0 : x0 + w] = up[:h, :w]
    return full


@pytest.mark.parser
@pytest.mark.parametrize("name", ["mona_lisa.jpg", "einstein_photo.jpg"])
def test_a_turn_to_the_hidden_cheek_is_not_smeared(
    shared_data: Path, models: tuple[FaceMesher, FaceDetector], name: str
) -> None:
    mesher, detector = models
    pic = load_portrait(shared_data / "portraits" / name, mesher, detector, size=384)
    turn = Motion(rotation=euler_rotation(20, 0, 0))
    plain = Animation(pic, AnimateConfig(size=384, mirror_fill=False), None)
    filled = Animation(pic, AnimateConfig(size=384), None)
    before, pixels = _streaks(plain, pic, turn)
    after, _ = _streaks(filled, pic, turn)
    assert pixels > 200, f"{name}: the turn should stretch the foreshortened cheek ({pixels} px)"
    # The stretched cheek is streaked without the mirror's texture, and is not with it.
    assert before < 0.8, f"{name}: expected a smear without mirror fill, gx2/gy2 {before:.2f}"
    assert after > 1.0, f"{name}: the stretched cheek is still smeared, gx2/gy2 {after:.2f}"


def test_mirror_fill_leaves_a_face_turned_the_other_way_alone(
    shared_data: Path, models: tuple[FaceMesher, FaceDetector]
) -> None:
    mesher, detector = models
    pic = load_portrait(shared_data / "portraits" / "mona_lisa.jpg", mesher, detector, size=256)
    plain = Animation(pic, AnimateConfig(size=256, layers=False, mirror_fill=False), None)
    filled = Animation(pic, AnimateConfig(size=256, layers=False), None)
    assert np.array_equal(plain.render(Motion()), filled.render(Motion()))
    # Towards the visible cheek nothing large is stretched: a few pixels by the nose at most, barely.
    turn = Motion(rotation=euler_rotation(-15, 5, 0))
    change = np.abs(plain.render(turn).astype(np.int16) - filled.render(turn).astype(np.int16)).max(2)
    face_px = face_width(pic.landmarks) ** 2
    assert (change > 0).sum() < 0.05 * face_px and change.max() <= 8, ((change > 0).sum(), change.max())


def _teeth_contrast(anim: Animation, pic: Portrait, motion: Motion) -> tuple[int, float]:
    """How far (Lab, 90th percentile) the output's pixels inside the face outline that no mesh triangle
    covers (the outline's teeth) stand out from the covered face around them, and how many there are."""
    from facecraft.face import regions

    target = anim.target(motion)
    layout = anim.renderer.layout  # type: ignore[attr-defined]
    _, _, cover = warp.backward_map_and_cover(layout, pic.landmarks, target)
    inside = (cover.ids < len(cover.triangles)).astype(np.uint8)
    covered = _at_output(inside, layout, cover, pic.image.shape)
    oval = np.zeros_like(covered)
    cv2.fillPoly(oval, [np.round(regions.polygon(target, "face_oval")).astype(np.int32)], 1)
    teeth = (oval > 0) & (covered == 0)
    lab = cv2.cvtColor(anim.render(motion), cv2.COLOR_BGR2LAB).astype(np.float32)
    face = ((covered > 0) & ~teeth).astype(np.float32)
    box = np.ones((15, 15), np.float32)
    around = (
        cv2.filter2D(lab * face[..., None], -1, box)
        / np.maximum(cv2.filter2D(face, -1, box), 1e-3)[..., None]
    )
    deviation = np.linalg.norm(lab - around, axis=2)[teeth]
    return int(teeth.sum()), float(np.percentile(deviation, 90)) if len(deviation) else 0.0


@pytest.mark.parser
@pytest.mark.parametrize("name", ["mona_lisa.jpg", "einstein_photo.jpg"])
def test_a_turn_prints_no_column_of_blobs_down_the_far_cheek(
    shared_data: Path, models: tuple[FaceMesher, FaceDetector], name: str
) -> None:
    """On the far side of a three-quarter face some cheek points lie just outside the face outline, so the
    mesh's cover of the face has teeth there, 1-2 portrait pixels wide, that a 20-degree turn stretched into
    a column of blobs down the cheek. They take the smooth colour of the face around them now."""
    mesher, detector = models
    pic = load_portrait(shared_data / "portraits" / name, mesher, detector, size=384, crop="face")
    turn = Motion(rotation=euler_rotation(20, 0, 0))
    plain = Animation(pic, AnimateConfig(size=384, crop="face", mirror_fill=False), None)
    filled = Animation(pic, AnimateConfig(size=384, crop="face"), None)
    teeth, before = _teeth_contrast(plain, pic, turn)
    _, after = _teeth_contrast(filled, pic, turn)
    assert teeth > 100, f"{name}: the turn should open teeth along the far cheek ({teeth} px)"
    assert after < 0.85 * before, f"{name}: the teeth still stand out ({before:.1f} -> {after:.1f})"
    assert _teeth_contrast(filled, pic, Motion())[0] == 0  # at rest there is nothing to fill
