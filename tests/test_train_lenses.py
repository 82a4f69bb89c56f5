"""The tint and glare of glasses' lenses are taken out of the training faces (facecraft.train.lenses)."""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.face.parse import LABEL_INDEX
from facecraft.face.regions import region
from facecraft.train.lenses import untint_lenses

SKIN = (120, 150, 200)  # BGR


def _face(tint: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A skin-coloured face wearing glasses whose lenses add ``tint`` (BGR) to the skin and eyes behind
    them; eyes with a dark iris on white; the frames already painted (a band around each lens)."""
    size = 256
    image = np.zeros((size, size, 3), np.uint8)
    image[:] = (200, 60, 20)
    labels = np.full((size, size), LABEL_INDEX["background"], np.uint8)
    yy, xx = np.mgrid[:size, :size]
    face = ((xx - 128) / 90) ** 2 + ((yy - 136) / 110) ** 2 <= 1
    image[face], labels[face] = SKIN, LABEL_INDEX["skin"]
    lm = np.zeros((478, 2))
    frames = np.zeros((size, size), np.uint8)
    for cx, name in ((88, "left_eye"), (168, "right_eye")):
        lens = ((xx - cx) / 32) ** 2 + ((yy - 110) / 22) ** 2 <= 1
        eye = ((xx - cx) / 16) ** 2 + ((yy - 110) / 6) ** 2 <= 1
        iris = ((xx - cx) ** 2 + (yy - 110) ** 2 <= 25) & eye
        image[eye], image[iris] = (235, 235, 235), (40, 50, 60)
        labels[lens] = LABEL_INDEX["eyeglasses"]
        tinted = image[lens].astype(int) + tint
        image[lens] = np.clip(tinted, 0, 255).astype(np.uint8)
        band = ((xx - cx) / 35) ** 2 + ((yy - 110) / 25) ** 2 <= 1
        frames[band & ~lens] = 255
        outline = np.array(region(name))
        angles = np.linspace(0, 2 * np.pi, len(outline), endpoint=False)
        lm[outline] = np.stack([cx + 16 * np.cos(angles), 110 + 6 * np.sin(angles)], 1)
    return image, labels, frames, lm


def _lab(pixels: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(pixels.reshape(-1, 1, 3), cv2.COLOR_BGR2LAB).reshape(-1, 3).astype(float)


def test_a_rose_tint_is_taken_out_and_the_eyes_are_kept() -> None:
    image, labels, frames, lm = _face((-10, -25, 25))  # rose: less blue and green, more red
    out = untint_lenses(image, labels, frames, lm)
    cheek_under_lens = out[120:126, 70:76]  # skin behind the left lens, beside the eye
    before = np.abs(_lab(image[120:126, 70:76]) - _lab(np.array(SKIN, np.uint8))).max(0)
    after = np.abs(_lab(cheek_under_lens) - _lab(np.array(SKIN, np.uint8))).max(0)
    assert before[1:].max() > 10 and after[1:].max() <= 3  # a and b: the tint is gone
    # The eyes keep their detail: the iris stays far darker than the white around it.
    assert int(out[110, 88].mean()) + 120 < int(out[110, 98].mean())
    # Nothing outside the glasses and their frames changes.
    outside = (labels != LABEL_INDEX["eyeglasses"]) & (frames == 0)
    assert np.array_equal(out[outside], image[outside])


def test_glare_is_lowered_but_darker_lenses_are_not_lightened() -> None:
    image, labels, frames, lm = _face((30, 30, 30))  # a bright, colourless reflection
    out = untint_lenses(image, labels, frames, lm)
    light = _lab(out[120:126, 70:76])[:, 0].mean()
    assert abs(light - _lab(np.array(SKIN, np.uint8))[0, 0]) <= 3
    dark, labels, frames, lm = _face((-30, -30, -30))  # sunglasses-dark: the eye sockets may be darker
    out = untint_lenses(dark, labels, frames, lm)
    assert np.abs(out[120:126, 70:76].astype(int) - dark[120:126, 70:76]).max() <= 2


def test_a_face_without_glasses_is_left_alone() -> None:
    image, labels, frames, lm = _face((0, 0, 0))
    labels[labels == LABEL_INDEX["eyeglasses"]] = LABEL_INDEX["skin"]
    assert untint_lenses(image, labels, np.zeros_like(frames), lm) is image


def test_a_screens_reflection_is_painted_out_but_a_blue_iris_is_kept() -> None:
    image, labels, frames, lm = _face((0, 0, 0))
    image[118:124, 70:80] = (240, 120, 170)  # a purple-blue glow on the skin behind the left lens
    image[108:113, 166:171] = (150, 90, 60)  # the right eye's iris, blue (dark)
    out = untint_lenses(image, labels, frames, lm)
    glow = _lab(out[118:124, 70:80])
    assert np.abs(glow - _lab(np.array(SKIN, np.uint8))).max() <= 12  # painted from the skin around
    assert np.abs(out[109:112, 167:170].astype(int) - (150, 90, 60)).max() <= 4
