"""Hair painted out of the face in a person's training faces, so that their decoder draws a bare face.

Hair left out of the loss is not enough: a decoder that never had to draw anything there still draws what
it saw, and a fringe or the strands over a temple came back at swap time as a dark streak across the
target's forehead, which the swap's mask (the mesh's face oval) lets through. So wherever the parser sees
hair (or a hat) inside the face oval, or a little beyond it (:data:`OVAL_MARGIN`), the training face gets the
smooth colour of the person's forehead skin instead (never the hair's or the background's), and the loss
applies there like on the rest of the face. Hair further out stays and stays out of the loss; a target's own
fringe is kept at swap time by the parse mask.

On for ``lite128`` (its preset; ``TrainConfig.paint_hair``), where its swaps were recognised as the source as
often or more (two seeds) and one source's fringe streak and temple smear left the target with one seed of
two; off for ``lite``, where it cost recognition and greyed the demo's eyes (docs/swap.md, "The hair over the
face painted out").
"""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.face.parse import LABELS, class_mask
from facecraft.face.quality import face_mask
from facecraft.face.regions import NOSE_TIP
from facecraft.imaging import disk

SKIN = LABELS.index("skin")
HAIR_GROW = 0.008
"""How far (share of the crop) the parser's hair is grown inside the oval: a strand's soft edge is called
skin."""
SKIN_CLEARANCE = 0.03
"""Skin this close (share of the crop) to hair is not painted from."""
DARK_SKIN = 25.0
"""Skin darker than the face's median by this much (Lab L, 0-255) is not painted from: strands, shadows."""
HAIR_GAP = 0.012
"""Gaps between locks of hair up to about twice this (share of the crop) are painted too."""
FEATHER = 0.01
"""Gaussian (share of the crop) over which the fill fades into the skin beside it."""
FRAMES_REACH = 0.02
"""How far (share of the crop) from the painted hair painted glasses frames are painted again, as skin."""
OVAL_MARGIN = 0.05
"""How far (share of the crop) outside the face oval hair is painted too. Another person's oval, aligned the
same way, lies a few pixels elsewhere, and a decoder at 64 px blurs a hair edge over 2-3 of its pixels: with
the painted skin ending right at the source's oval, the swap still showed a dark band inside the target's."""


def hair_in_face(
    labels: np.ndarray, aligned_landmarks: np.ndarray, frames: np.ndarray | None = None
) -> np.ndarray:
    """(S, S) bool: the hair and hats a face's label map shows inside its mesh's face oval grown by
    :data:`OVAL_MARGIN`, grown by :data:`HAIR_GROW` over the skin around it, and the painted glasses
    ``frames`` (from :func:`facecraft.train.glasses.paint_glasses`) within :data:`FRAMES_REACH` of it: a
    temple arm over the hair was painted from the hair and would print a dark line on the painted skin."""
    size = labels.shape[0]
    hair = class_mask(labels, ("hair", "hat")).astype(np.uint8)
    oval = face_mask(aligned_landmarks, size)
    oval = cv2.dilate(oval, disk(max(1, round(size * OVAL_MARGIN)))) > 0
    inside = (hair > 0) & oval
    if not inside.any():
        return inside
    r = max(1, round(size * HAIR_GROW))
    grown = cv2.dilate(inside.astype(np.uint8), disk(r)) > 0
    # Grown only over what the parser calls skin: never over brows, eyes or glasses. Closed, so that a strand
    # the parser calls skin between two locks is taken too.
    skin = labels == SKIN
    region = inside | (grown & oval & skin)
    closed = cv2.morphologyEx(region.astype(np.uint8), cv2.MORPH_CLOSE, disk(max(1, round(size * HAIR_GAP))))
    region |= (closed > 0) & oval & skin
    if frames is not None and frames.any():
        near = cv2.dilate(region.astype(np.uint8), disk(max(1, round(size * FRAMES_REACH)))) > 0
        region |= near & oval & (frames > 0)
    return region


def paint_hair(
    image: np.ndarray,
    labels: np.ndarray,
    aligned_landmarks: np.ndarray,
    frames: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``image`` (BGR, S x S) with the hair in and around the face oval (:func:`hair_in_face`) painted from the
    skin around it (:func:`fill_from`), and the label map with those pixels made skin (so the loss applies
    there). ``frames``: the glasses frames already painted out of it. Unchanged when the face shows no skin to
    paint from."""
    region = hair_in_face(labels, aligned_landmarks, frames)
    if not region.any():
        return image, labels
    size = labels.shape[0]
    # Skin right beside hair is often a strand's edge or its shadow (the parser calls thin strands skin):
    # the fill takes the skin further in, and none that is much darker than the face's skin.
    hair = class_mask(labels, ("hair", "hat")).astype(np.uint8)
    beside = cv2.dilate(np.maximum(hair, region.astype(np.uint8)), disk(max(1, round(size * SKIN_CLEARANCE))))
    light = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
    skin = (labels == SKIN) & (beside == 0)
    if skin.sum() < 20:
        return image, labels
    skin &= light >= np.median(light[skin]) - DARK_SKIN
    # The colour is taken from the skin above the nose tip: the forehead and temples the hair lies on.
    skin[int(np.ceil(aligned_landmarks[NOSE_TIP, 1])) :] = False
    if skin.sum() < 20:
        return image, labels
    # Feathered into the skin beside it (never into brows, eyes or glasses): no step at the fill's edge, and
    # a wedge of strand-shadowed skin between two locks is covered too.
    soft = cv2.GaussianBlur(region.astype(np.float32), (0, 0), max(1.0, size * FEATHER))
    alpha = np.where(region, 1.0, np.where(labels == SKIN, np.clip(2 * soft, 0, 1), 0.0))[..., None]
    out = (alpha * fill_from(image, skin) + (1 - alpha) * image + 0.5).astype(np.uint8)
    relabelled = labels.copy()
    relabelled[region] = SKIN
    return out, relabelled


def fill_from(image: np.ndarray, known: np.ndarray) -> np.ndarray:
    """(S, S, 3) uint8: the smooth colour of the ``known`` pixels, a plane per channel fitted to them by least
    squares (the light's gradient over the forehead), kept within their 5th-95th percentiles. Only ``known``
    pixels count: hair and backdrop beside the skin never bleed in. An inpainting from the skin's border took
    the colour of whatever skin lay nearest (a temple's shadow) and printed darker, mauve patches."""
    size = image.shape[0]
    ys, xs = np.nonzero(known)
    design = np.stack([np.ones_like(xs), xs, ys], 1).astype(np.float64) / [1.0, size, size]
    values = image[ys, xs].astype(np.float64)
    coef, *_ = np.linalg.lstsq(design, values, rcond=None)
    gy, gx = np.mgrid[:size, :size].astype(np.float64) / size
    plane = coef[0] + gx[..., None] * coef[1] + gy[..., None] * coef[2]
    lo, hi = np.percentile(values, 5, axis=0), np.percentile(values, 95, axis=0)
    return np.clip(plane, lo, hi).round().astype(np.uint8)
