"""``swap`` on photos: only the chosen person changes, nothing outside the (dilated) mask moves."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from swap_standin import TintModel

from facecraft.errors import FacecraftError
from facecraft.face.align import Alignment
from facecraft.face.regions import polygon
from facecraft.face.track import Tracker
from facecraft.media.image import read_image
from facecraft.swap import SwapConfig, swap
from facecraft.swap.images import swap_image
from facecraft.swap.targets import TargetFinder

TWO = "images/obama_biden_two_faces.jpg"
OBAMA_REF = "images/obama_1_portrait.jpg"


def _oval(target, px: float, shape: tuple[int, ...]) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Frame mask of a target's face oval grown by ``px`` pixels."""
    frame_lm = Alignment(target.affine, target.aligned.shape[0]).to_frame(target.aligned_landmarks)
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(polygon(frame_lm, "face_oval")).astype(np.int32)], 255)
    r = int(np.ceil(px))
    return cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))) > 0


@pytest.mark.parametrize("blend", ["alpha", "laplacian", "poisson"])
def test_only_the_reference_person_changes_and_only_inside_the_mask(shared_data: Path, blend: str) -> None:
    image = read_image(shared_data / TWO)
    config = SwapConfig(dilate=6, blend=blend, color="none")
    everyone = TargetFinder(128, "whole_face", SwapConfig(all_faces=True))
    chosen = TargetFinder(128, "whole_face", config, shared_data / OBAMA_REF)
    try:
        faces = everyone.find(image, 0, 0.0, Tracker(), video=False)
        swapped, n = swap_image(image, TintModel(), "A", config, chosen)
    finally:
        everyone.close()
        chosen.close()
    assert len(faces) == 2 and n == 1
    changed = np.abs(swapped.astype(int) - image.astype(int)).max(-1) > 0
    # The mask lives in aligned pixels: allow two of them (rounding, interpolation) at its edge, in frame pixels.
    ovals = [_oval(f, 6 + 1 + 2.0 / np.sqrt(abs(np.linalg.det(f.affine[:, :2]))), image.shape) for f in faces]
    swapped_face = int(np.argmax([(changed & o).sum() for o in ovals]))
    other = ovals[1 - swapped_face]
    assert not (changed & ~ovals[swapped_face]).any()  # nothing outside the dilated face oval moved
    assert not (changed & other).any()  # the other person is untouched
    assert (changed & ovals[swapped_face]).mean() > 0.5 * ovals[swapped_face].mean()
    # The swapped one is Obama: left of Biden in this photo.
    centres = [np.argwhere(o).mean(0)[1] for o in ovals]
    assert centres[swapped_face] < centres[1 - swapped_face]


def test_keep_eyes_leaves_the_eyes_alone(shared_data: Path) -> None:
    image = read_image(shared_data / OBAMA_REF)
    finder = TargetFinder(128, "whole_face", SwapConfig(keep_eyes=True, color="none"))
    try:
        swapped, n = swap_image(image, TintModel(), "A", SwapConfig(keep_eyes=True, color="none"), finder)
        target = finder.find(image, 0, 0.0, Tracker(), video=False)[0]
    finally:
        finder.close()
    frame_lm = Alignment(target.affine, 128).to_frame(target.aligned_landmarks)
    eye = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(
        eye, [np.round(polygon(frame_lm, n_)).astype(np.int32) for n_ in ("left_eye", "right_eye")], 255
    )
    diff = np.abs(swapped.astype(int) - image.astype(int)).max(-1)
    assert n == 1 and diff[eye > 0].max() == 0 and diff.max() > 40


def test_photo_and_folder_outputs(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "one.png"
    report = swap(shared_data / OBAMA_REF, TintModel(), out, preview=True, progress=False)
    assert report.faces_swapped == 1 and out.is_file() and (tmp_path / "one_preview.png").is_file()
    a, b = read_image(shared_data / OBAMA_REF), read_image(out)
    assert a.shape == b.shape and read_image(tmp_path / "one_preview.png").shape[1] == 2 * a.shape[1]
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("obama_4_small_320x240.jpg", "no_face_dogs.jpg"):
        (folder / name).write_bytes((shared_data / "images" / name).read_bytes())
    report = swap(folder, TintModel(), tmp_path / "out", progress=False)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "no_face_dogs.jpg",
        "obama_4_small_320x240.jpg",
    ]
    assert report.frames == 2 and report.faces_swapped == 1
    again = swap(folder, TintModel(), tmp_path / "out", progress=False)
    assert again.resumed_frames == 2  # finished photos are skipped on a rerun
    with pytest.raises(FacecraftError, match="inside the input"):
        swap(folder, TintModel(), folder / "sub", progress=False)
