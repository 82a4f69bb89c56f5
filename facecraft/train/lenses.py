"""The tint and glare of glasses' lenses taken out of a person's training faces.

With the frames painted out (:mod:`facecraft.train.glasses`) the lenses stay, and the decoder learns the skin
and eyes behind them as the lenses show them: tinted (Grace Hopper's rose lenses in the demo) or with a
screen's blue reflection (a webcam talker). It then draws that tint around the eyes of every face it is
swapped onto, as pink or blue-purple "shades". So inside the glasses, the smooth part of the colour (Lab a and
b, a Gaussian of :data:`SMOOTH` of the crop over the lens's skin, eyes left out of the estimate) is moved to the
colour of the bare skin just below the glasses; the lightness is lowered where the lens is brighter than that skin
(glare), never raised (the eye sockets are darker than the cheeks without glasses too). The fine detail
(lids, lashes, irises, wrinkles) is kept: only the smooth field moves. Before that, a screen's blue or purple
reflection in the lenses is painted over from around it (:func:`reflections`). Faces without glasses are
returned unchanged.
"""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.face.parse import class_mask
from facecraft.imaging import disk
from facecraft.train.glasses import eyes_grown, glasses_labels, paint_glasses

SMOOTH = 0.04
"""Gaussian (share of the crop) of the lens's colour field: a tint and a reflection's glow, not the eyes."""
RING = 0.06
"""How far (share of the crop) around the glasses the bare skin is read for the colour to move to: below the
lenses (the cheeks, under-eye skin like what the lenses cover), where there is enough of it. The brighter,
less red forehead above would grey the eye sockets (Grace Hopper: a* 147 above her glasses, 156 below, 159
behind her lenses)."""
EYE_GROW = 0.01
"""The mesh's eye outlines, grown by this share of the crop, are left out of the estimate (not the change)."""
FRAME_CLEARANCE = 0.01
"""Pixels this close (share of the crop) to the painted frames are left out of the estimate."""
MIN_PIXELS = 20
"""Fewer lens or ring pixels than this: the face is left alone."""
REFLECTION_BLUE = 124
"""Lab b (0-255, neutral 128) below which a light pixel of the lenses is a reflection: a screen's glow on a
webcam talker's lenses measured b 86-119 (and a* 150-169), his skin 143-148, eyes' whites 125 and more."""
REFLECTION_LIGHT = 110
"""Lab L (0-255) from which a blue pixel is light enough to be a reflection rather than a blue iris."""
SPARSE = 0.05
"""Where the lens's own skin covers less than this share of the Gaussian's weight (between the lids), the
lens's median colour is the estimate."""


def lens_shift(
    image: np.ndarray, labels: np.ndarray, frames: np.ndarray, aligned_landmarks: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """(Lab shift (S, S, 3) float32, weight (S, S) float32 in 0..1) that takes the lenses' tint and glare out
    of a face (BGR ``image`` with its frames painted; ``labels``, perhaps borrowed, :func:`glasses_labels`;
    ``frames`` 0/255 as painted); None when the face shows no glasses or too little skin around them."""
    size = labels.shape[0]
    glasses = class_mask(labels, ("eyeglasses",))
    if glasses.sum() < MIN_PIXELS:
        return None
    framed = frames > 0
    eyes = eyes_grown(aligned_landmarks, size, EYE_GROW) > 0
    near_frames = cv2.dilate(framed.astype(np.uint8), disk(max(1, round(size * FRAME_CLEARANCE)))) > 0
    lens = glasses & ~near_frames & ~eyes
    region = glasses | framed
    around = cv2.dilate(region.astype(np.uint8), disk(max(1, round(size * RING)))) > 0
    ring = around & ~region & class_mask(labels, ("skin",))
    if lens.sum() < MIN_PIXELS or ring.sum() < MIN_PIXELS:
        return None
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB).astype(np.float32)
    sigma = size * SMOOTH
    weight = cv2.GaussianBlur(lens.astype(np.float32), (0, 0), sigma)
    field = cv2.GaussianBlur(lab * lens[..., None], (0, 0), sigma) / np.maximum(weight, 1e-6)[..., None]
    field = np.where((weight < SPARSE)[..., None], np.median(lab[lens], axis=0), field)
    below = np.arange(size)[:, None] > np.nonzero(glasses)[0].mean()
    cheek = ring & below if (ring & below).sum() >= MIN_PIXELS else ring
    shift = np.median(lab[cheek], axis=0) - field
    shift[..., 0] = np.minimum(shift[..., 0], 0.0)  # glare lowered; the darker eye sockets kept
    inner = cv2.erode(region.astype(np.float32), disk(max(1, round(size * FRAME_CLEARANCE))))
    fade = cv2.GaussianBlur(inner, (0, 0), max(1.0, size * FRAME_CLEARANCE))
    return shift.astype(np.float32), np.clip(fade, 0.0, 1.0) * region  # nothing outside the glasses moves


def reflections(image: np.ndarray, labels: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """(S, S) uint8 0/255: a screen's or window's reflection in the lenses: pixels of the glasses (and their
    painted frames) on the blue side of neutral (Lab b below :data:`REFLECTION_BLUE`) that are not dark (L at
    least :data:`REFLECTION_LIGHT`: a blue iris is darker), grown by a pixel."""
    region = class_mask(labels, ("eyeglasses",)) | (frames > 0)
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)
    found = region & (lab[..., 2] < REFLECTION_BLUE) & (lab[..., 0] >= REFLECTION_LIGHT)
    return cv2.dilate(found.astype(np.uint8), disk(1)) * 255


def untint_lenses(
    image: np.ndarray, labels: np.ndarray, frames: np.ndarray, aligned_landmarks: np.ndarray
) -> np.ndarray:
    """``image`` (BGR, frames painted) with its lenses' reflections painted from around them
    (:func:`reflections`) and their tint and glare taken out (:func:`lens_shift`); the same array when there
    is nothing to take out."""
    if class_mask(labels, ("eyeglasses",)).sum() < MIN_PIXELS:
        return image
    glints = reflections(image, labels, frames)
    if glints.any():
        image = cv2.inpaint(
            image, glints, max(2, round(labels.shape[0] * FRAME_CLEARANCE)), cv2.INPAINT_TELEA
        )
    found = lens_shift(image, labels, frames, aligned_landmarks)
    if found is None:
        return image
    shift, weight = found
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB).astype(np.float32) + weight[..., None] * shift
    moved = cv2.cvtColor(np.clip(np.round(lab), 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)
    out = image.copy()
    changed = weight > 0
    out[changed] = moved[changed]  # the rest is not sent through Lab and back (rounding)
    return out


def glasses_out(
    image: np.ndarray,
    labels: list[np.ndarray],
    index: int,
    aligned_landmarks: np.ndarray,
    donors: list[tuple[int, np.ndarray]] | None,
    untint: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Face ``index`` of a person as training and the exemplars take it: the glasses' frames painted out
    (:func:`facecraft.train.glasses.paint_glasses`) and, for a wearer with ``untint``, the lenses' tint and
    reflections taken out (:func:`untint_lenses`); and what was painted as frames (0/255)."""
    img, frames = paint_glasses(image, labels, index, aligned_landmarks, donors)
    if untint and donors is not None:
        img = untint_lenses(img, glasses_labels(labels, index, donors), frames, aligned_landmarks)
    return img, frames
