"""Hair inside the face oval is painted out of the training faces (facecraft.train.hair)."""

from __future__ import annotations

import numpy as np

from facecraft.face.parse import LABEL_INDEX
from facecraft.face.regions import NOSE_TIP, region
from facecraft.train.data import region_masks
from facecraft.train.hair import hair_in_face, paint_hair


def _face(size: int = 256) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A skin-coloured oval face under dark hair whose fringe hangs into the oval, on a blue backdrop."""
    lm = np.zeros((478, 2))
    oval = np.array(region("face_oval"))
    angles = np.linspace(0, 2 * np.pi, len(oval), endpoint=False)
    lm[oval] = np.stack([128 + 80 * np.cos(angles), 136 + 100 * np.sin(angles)], 1)
    lm[NOSE_TIP] = (128, 160)
    labels = np.full((size, size), LABEL_INDEX["background"], np.uint8)
    image = np.zeros((size, size, 3), np.uint8)
    image[:] = (200, 60, 20)  # blue backdrop
    yy, xx = np.mgrid[:size, :size]
    inside = ((xx - 128) / 80) ** 2 + ((yy - 136) / 100) ** 2 <= 1
    labels[inside] = LABEL_INDEX["skin"]
    image[inside] = (120, 150, 200)  # skin (BGR)
    # the top of the head and a strand down the middle
    hair = (yy < 40) | ((yy < 80) & (np.abs(xx - 110) < 12))
    labels[hair] = LABEL_INDEX["hair"]
    image[hair] = (20, 30, 40)
    labels[120:130, 80:110] = LABEL_INDEX["l_brow"]
    image[120:130, 80:110] = (40, 50, 70)
    return image, labels, lm


def test_hair_inside_the_face_oval_is_painted_with_the_skin_around_it() -> None:
    image, labels, lm = _face()
    painted, relabelled = paint_hair(image, labels, lm)
    strand = (slice(50, 75), slice(104, 116))  # the strand, well inside the oval
    assert labels[strand].min() == LABEL_INDEX["hair"]
    assert np.abs(painted[strand].astype(int) - (120, 150, 200)).max() <= 12  # skin, not hair, not backdrop
    assert (relabelled[strand] == LABEL_INDEX["skin"]).all()  # and the loss applies there now
    _, _, loss_applies = region_masks(lm, 256, relabelled)
    assert loss_applies[strand].min() == 255
    # Hair outside the oval, the backdrop and the brows stay as they were.
    region_painted = hair_in_face(labels, lm)
    assert np.array_equal(painted[~region_painted], image[~region_painted])
    assert not region_painted[:20].any() and not region_painted[120:130, 80:110].any()
    assert (relabelled[:20] == LABEL_INDEX["hair"]).all()


def test_a_face_without_hair_over_it_is_left_alone() -> None:
    image, labels, lm = _face()
    labels[labels == LABEL_INDEX["hair"]] = LABEL_INDEX["background"]
    painted, relabelled = paint_hair(image, labels, lm)
    assert painted is image and relabelled is labels


def test_a_glasses_arm_over_the_painted_hair_is_painted_as_skin_too() -> None:
    image, labels, lm = _face()
    labels[45:75, 60:100] = LABEL_INDEX["hair"]  # a lock over the temple ...
    image[45:75, 60:100] = (20, 30, 40)
    frames = np.zeros(labels.shape, np.uint8)
    frames[58:61, 60:100] = 255  # ... with the arm of the glasses across it (painted from the hair, so dark)
    labels[58:61, 60:100] = LABEL_INDEX["eyeglasses"]
    painted, _ = paint_hair(image, labels, lm, frames)
    assert np.abs(painted[58:61, 70:90].astype(int) - (120, 150, 200)).max() <= 12
    without, _ = paint_hair(image, labels, lm)  # not told about the frames: the arm stays a dark line
    assert int(without[59, 80, 2]) < 60
