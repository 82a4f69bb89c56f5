"""Closed lips kept: while the target's mouth is closed, its own lips stay, in the source person's lip tone.

A decoder trained for minutes on a short clip draws its person's habitual mouth: a source who grins
through his clip puts a row of teeth on every closed, neutral mouth he is swapped onto (smile
correlation 0.58 on a pair never looked at, docs/swap.md). The target's own lip line is the expression
to keep, so as the target's lip gap closes its lips (and a narrow margin around them) are taken from the
target frame. Kept as they are, a target's red lipstick flashed on whenever her mouth closed and off
whenever it opened (the model's lips are the source's); so the kept lips are moved, in Lab, to the
source's lip tone: the output skin's mean plus the source's lips-minus-skin difference measured on its
exemplars (its real faces). The margin around them moves from the target's skin to the output's.
"""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.face.regions import oval_width
from facecraft.swap.mask.base import region_mask

GAP_PAIRS = ((82, 87), (13, 14), (312, 317))
"""Upper / lower inner-lip points of the mesh facing each other across the middle of the mouth."""
CLOSED, OPEN = 0.02, 0.05
"""Lip gap (mean over GAP_PAIRS, as a share of the face width) at or below which the mouth counts as closed
(its lips all the target's), and from which on as open (nothing kept)."""
MARGIN = (0.18, 0.05)
"""The kept region is the outer lip outline grown sideways and up/down by these shares of the face width
(a source's grin drawn wider than the target's pursed lips showed its dark corners beside 0.1 sideways)..."""
SOFT = 0.025
"""...and softened by a Gaussian of this share of it."""


def _face_width(aligned_landmarks: np.ndarray) -> float:
    return max(1.0, oval_width(aligned_landmarks))


def lip_gap(aligned_landmarks: np.ndarray) -> float:
    """How far the lips are apart in the middle, as a share of the face width."""
    lm = np.asarray(aligned_landmarks, np.float64)
    gap = float(np.mean([np.linalg.norm(lm[a] - lm[b]) for a, b in GAP_PAIRS]))
    return gap / _face_width(lm)


def closed_weight(gap: float) -> float:
    """1 for a closed mouth, 0 for an open one, linear in between."""
    return float(np.clip((OPEN - gap) / (OPEN - CLOSED), 0.0, 1.0))


def lip_pixels(aligned_landmarks: np.ndarray, size: int) -> np.ndarray:
    """(S, S) bool: the lips themselves (outer outline without the inner one, i.e. without an open mouth)."""
    outer = region_mask(aligned_landmarks, size, ("lips_outer",))
    inner = region_mask(aligned_landmarks, size, ("lips_inner",))
    return (outer > 0) & (inner == 0)


def keep_region(aligned_landmarks: np.ndarray, size: int) -> np.ndarray:
    """(S, S) float32 0..1: the lips grown by :data:`MARGIN` of the face width, softened."""
    width = _face_width(aligned_landmarks)
    lips = region_mask(aligned_landmarks, size, ("lips_outer",))
    rx, ry = (max(1, round(width * m)) for m in MARGIN)
    grown = cv2.dilate(lips, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * rx + 1, 2 * ry + 1)))
    return cv2.GaussianBlur(grown.astype(np.float32) / 255.0, (0, 0), max(1.0, width * SOFT))


def _lab(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_BGR2LAB)


def _mean(lab: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(3,) float32: the mean of ``lab`` (S, S, 3) over ``mask`` (S, S uint8, non-zero where counted)."""
    return np.array(cv2.mean(lab, mask=mask)[:3], np.float32)


def _usable(lips: np.ndarray, skin: np.ndarray) -> bool:
    """Enough lip and skin pixels (uint8 masks) for their means to mean something."""
    return cv2.countNonZero(lips) >= 20 and cv2.countNonZero(skin) >= 100


def lip_tone(images: np.ndarray, landmarks: np.ndarray, skin_masks: list[np.ndarray]) -> np.ndarray | None:
    """The source's lips minus its skin, mean Lab (L 0..100), median over its faces ``images`` (N, S, S, 3)
    BGR uint8 with ``landmarks`` (N, 478, 2) and a skin mask (S, S) each; None where no face shows both."""
    diffs = []
    size = images.shape[1]
    for image, lm, skin in zip(images, landmarks, skin_masks, strict=True):
        lips, skin = lip_pixels(lm, size).astype(np.uint8), (skin > 0).astype(np.uint8)
        if _usable(lips, skin):
            lab = _lab(image)
            diffs.append(_mean(lab, lips) - _mean(lab, skin))
    if not diffs:
        return None
    return np.median(np.array(diffs), axis=0).astype(np.float32)


def keep_closed_lips(
    face: np.ndarray,
    target: np.ndarray,
    aligned_landmarks: np.ndarray,
    skin: np.ndarray,
    tone: np.ndarray,
    gap: float | None = None,
) -> np.ndarray:
    """``face`` (S, S, 3) BGR uint8, the generated face, with the ``target``'s own lips (same size and
    alignment) where its mouth is closed, moved to the lip tone ``tone`` (see :func:`lip_tone`) over the
    face's skin; ``skin`` (S, S) uint8 where both faces' skin is measured. Unchanged for an open mouth.
    ``gap``: the lip gap measured on this frame's own mesh (a video's landmarks are smoothed, and the
    smoothing lags an opening mouth); None: from ``aligned_landmarks``."""
    weight = closed_weight(lip_gap(aligned_landmarks) if gap is None else gap)
    if weight <= 0.0:
        return face
    size = face.shape[0]
    lips = lip_pixels(aligned_landmarks, size).astype(np.uint8)
    skin = (skin > 0).astype(np.uint8)
    if not _usable(lips, skin):
        return face
    face_lab, target_lab = _lab(face), _lab(target)
    face_skin = _mean(face_lab, skin)
    skin_shift = face_skin - _mean(target_lab, skin)
    lip_shift = face_skin + tone - _mean(target_lab, lips)
    alpha = keep_region(aligned_landmarks, size) * weight
    # Only the kept region's box is recoloured and blended (a closed mouth took 8.5 ms per face, 2.3 now).
    x, y, w, h = cv2.boundingRect((alpha > 1 / 512).astype(np.uint8))
    if w == 0 or h == 0:
        return face
    box = (slice(y, y + h), slice(x, x + w))
    width = _face_width(aligned_landmarks)
    lipness = cv2.GaussianBlur(lips.astype(np.float32), (0, 0), max(1.0, width * SOFT / 2))[box][..., None]
    moved = target_lab[box] + skin_shift + lipness * (lip_shift - skin_shift)
    moved[..., 0] = np.clip(moved[..., 0], 0.0, 100.0)
    kept = np.clip(cv2.cvtColor(moved.astype(np.float32), cv2.COLOR_LAB2BGR) * 255.0, 0.0, 255.0)
    a = alpha[box][..., None]
    out = face.copy()
    out[box] = np.clip(face[box].astype(np.float32) * (1.0 - a) + kept * a + 0.5, 0, 255).astype(np.uint8)
    return out
