"""Head turns with the head layer: no fold (no hair inside the face), and the background stays still."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from facecraft.animate import AnimateConfig, warp
from facecraft.animate.geometry import euler_rotation, face_width
from facecraft.animate.motion import Motion
from facecraft.animate.portrait import Portrait, load_portrait
from facecraft.animate.run import Animation
from facecraft.face import regions
from facecraft.face.detect import FaceDetector
from facecraft.face.mesh import FaceMesher
from facecraft.face.parse import LABEL_INDEX, FaceParser

POSES = [(-20, 0), (20, 0), (0, 15), (0, -15)]  # yaw, pitch in degrees


@pytest.fixture(scope="module")
def models() -> Iterator[tuple[FaceMesher, FaceDetector, FaceParser]]:
    mesher = FaceMesher()
    yield mesher, FaceDetector(), FaceParser.load()
    mesher.close()


def _animation(
    shared_data: Path,
    name: str,
    models: tuple[FaceMesher, FaceDetector, FaceParser],
    crop: str = AnimateConfig.crop,
) -> tuple[Portrait, Animation]:
    """A shared portrait at 384 px, framed by ``crop``, and its animation."""
    mesher, detector, _ = models
    pic = load_portrait(shared_data / "portraits" / name, mesher, detector, size=384, crop=crop)
    return pic, Animation(pic, AnimateConfig(size=384, crop=crop), None)


def _check_turns(shared_data: Path, name: str, models: tuple[FaceMesher, FaceDetector, FaceParser]) -> None:
    parser = models[2]
    pic, anim = _animation(shared_data, name, models)
    renderer = anim.renderer
    assert getattr(renderer, "head", None) is not None, "the head layer needs the face parser"
    labels = parser.parse([pic.image])[0]
    backdrop = labels == LABEL_INDEX["background"]
    far = cv2.erode(backdrop.astype(np.uint8), np.ones((41, 41), np.uint8)) > 0  # scenery well away
    source_face = _oval(pic.landmarks, labels.shape)
    for yaw, pitch in POSES:
        motion = Motion(rotation=euler_rotation(yaw, pitch, 0))
        target = anim.target(motion)
        map_x, map_y = warp.backward_map(renderer.layout, pic.landmarks, target)  # type: ignore[attr-defined]
        moved = cv2.remap(labels, map_x, map_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
        # A fold pulls hair from outside the face into it (a lock lying over the temple is face texture).
        from_outside = cv2.remap(source_face, map_x, map_y, cv2.INTER_NEAREST) == 0
        k = max(1, round(0.08 * face_width(target)))
        inner = cv2.erode(_oval(target, labels.shape), np.ones((2 * k + 1, 2 * k + 1), np.uint8)) > 0
        hair = moved == LABEL_INDEX["hair"]
        folded_in = int((hair & inner & from_outside).sum())
        assert folded_in == 0, (
            f"{name} at yaw {yaw} pitch {pitch}: {folded_in} hair pixels folded into the face"
        )
        # Around the face the hair is stretched or squeezed but never turned over (a double contour).
        near = cv2.dilate(_oval(target, labels.shape), np.ones((2 * k + 1, 2 * k + 1), np.uint8)) == 0
        det = np.gradient(map_x, axis=1) * np.gradient(map_y, axis=0) - np.gradient(
            map_x, axis=0
        ) * np.gradient(map_y, axis=1)
        turned = int(((det < 0) & hair & near).sum())
        assert turned <= 5, f"{name} at yaw {yaw} pitch {pitch}: the hair folds over in {turned} pixels"
        frame = anim.render(motion)
        still = np.abs(frame.astype(np.int16) - pic.image.astype(np.int16))[far]
        assert still.max() <= 2, f"{name} at yaw {yaw} pitch {pitch}: the background moved ({still.max()})"


def _oval(landmarks: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(regions.polygon(landmarks, "face_oval")).astype(np.int32)], 1)
    return mask


@pytest.mark.parser
def test_a_20_degree_turn_does_not_fold_or_move_the_background(
    shared_data: Path, models: tuple[FaceMesher, FaceDetector, FaceParser]
) -> None:
    _check_turns(shared_data, "lady_agnew_painting.jpg", models)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mona_lisa.jpg", "einstein_photo.jpg"])
def test_turns_on_the_other_shared_portraits(
    shared_data: Path, models: tuple[FaceMesher, FaceDetector, FaceParser], name: str
) -> None:
    _check_turns(shared_data, name, models)


def _streakiness(band: np.ndarray) -> float:
    """Mean horizontal over mean vertical grey-level step: streaks running down from an edge vary across
    and not along (a ratio well above the still image's)."""
    grey = cv2.cvtColor(band, cv2.COLOR_BGR2GRAY).astype(np.float32)
    across = float(np.abs(np.diff(grey, axis=1)).mean())
    along = float(np.abs(np.diff(grey, axis=0)).mean())
    return across / max(along, 1e-6)


@pytest.mark.parser
def test_a_head_moved_away_from_the_top_edge_draws_no_streaks_from_it(
    shared_data: Path, models: tuple[FaceMesher, FaceDetector, FaceParser]
) -> None:
    # Framed by the face, the three heads reach the image's top edge (hair, or the scenery around it). The
    # layer used to repeat its edge row past the edge: moved down, the head pulled streaks down from it.
    for name in ("mona_lisa.jpg", "einstein_photo.jpg", "lady_agnew_painting.jpg"):
        pic, anim = _animation(shared_data, name, models, crop="face")
        head = getattr(anim.renderer, "head", None)
        assert head is not None and head.box[1] == 0, f"{name}: the head layer should reach the top edge"
        x0, _, x1, _ = head.box
        moved = anim.render(Motion(translation=np.array([0.0, 0.12, 0.0])))
        now, still = _streakiness(moved[:24, x0:x1]), _streakiness(pic.image[:24, x0:x1])
        assert now < 1.3 * still, (
            f"{name}: streaks above the moved head ({now:.2f} against {still:.2f} still)"
        )


@pytest.mark.parser
def test_a_triangle_turned_edge_on_samples_nothing_far_from_it(
    shared_data: Path, models: tuple[FaceMesher, FaceDetector, FaceParser]
) -> None:
    # Turned nearly edge-on, a far-cheek triangle has a huge affine map: a pixel just off its sliver sampled
    # the portrait far away (Mona Lisa's look-around drew a patch of forehead, outlined, in her hair). Next
    # to each other, two output pixels sample the portrait at most a squeezed cheek's width apart.
    for name in ("mona_lisa.jpg", "lady_agnew_painting.jpg"):
        pic, anim = _animation(shared_data, name, models)
        for yaw in range(-30, 31, 5):
            for pitch in (-15, 0, 15):
                target = anim.target(Motion(rotation=euler_rotation(yaw, pitch, 0)))
                map_x, map_y = warp.backward_map(anim.renderer.layout, pic.landmarks, target)  # type: ignore[attr-defined]
                near = cv2.dilate(_oval(target, map_x.shape), np.ones((9, 9), np.uint8))[:-1, :-1] > 0
                across = np.hypot(np.diff(map_x, axis=1)[:-1], np.diff(map_y, axis=1)[:-1])
                down = np.hypot(np.diff(map_x, axis=0)[:, :-1], np.diff(map_y, axis=0)[:, :-1])
                jump = float(np.maximum(across, down)[near].max()) / face_width(target)
                assert jump < 0.15, (
                    f"{name} at yaw {yaw} pitch {pitch}: neighbours sample {jump:.2f} face widths apart"
                )


@pytest.mark.parser
def test_the_plate_behind_the_head_keeps_the_backdrops_grain(
    shared_data: Path, models: tuple[FaceMesher, FaceDetector, FaceParser]
) -> None:
    # The fill behind the head was smooth: wherever the head moved off it, a pale, grainless halo showed
    # on Einstein's grainy backdrop. Its finest detail now matches the backdrop's beside it.
    pic, anim = _animation(shared_data, "einstein_photo.jpg", models)
    head = getattr(anim.renderer, "head", None)
    assert head is not None
    x0, y0, _, y1 = head.box
    plate = head.plate.mean(axis=2)
    fine = np.abs(plate - cv2.GaussianBlur(plate, (0, 0), 1.0))
    grey = pic.image.astype(np.float32).mean(axis=2)
    backdrop_fine = np.abs(grey - cv2.GaussianBlur(grey, (0, 0), 1.0))
    hidden = head.alpha > 0.99  # wholly behind the head: only the fill shows there
    beside = np.zeros_like(hidden)
    beside[y0:y1, max(0, x0 - 30) : x0] = True  # the backdrop left of the head
    ratio = float(np.median(fine[hidden])) / float(np.median(backdrop_fine[beside]))
    assert ratio > 0.5, f"the fill behind the head has {ratio:.2f} of the backdrop grain"
