"""Shaping a face mask: cut out kept regions (eyes, mouth), erode or dilate, feather; and the skin mask.

Sizes are given in aligned pixels; the swap converts the user's frame pixels with the face's scale.
"""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.face.regions import oval_width, polygon
from facecraft.swap.mask.base import region_mask

EYES = ("left_eye", "right_eye")
MOUTH = ("lips_outer",)
KEEP_MARGIN = 0.35  # a kept region grows by this share of its own width, so lashes and lip lines stay real


def _disk(radius: float) -> np.ndarray:
    r = max(1, round(radius))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))


def keep_regions(mask: np.ndarray, aligned_landmarks: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """``mask`` (S, S) float32 with the named regions (grown by KEEP_MARGIN) set to 0."""
    if not names:
        return mask
    size = mask.shape[0]
    cut = np.zeros((size, size), np.uint8)
    for name in names:
        region = region_mask(aligned_landmarks, size, (name,))
        width = float(np.ptp(polygon(aligned_landmarks, name)[:, 0]))
        cut = np.maximum(cut, cv2.dilate(region, _disk(width * KEEP_MARGIN)))
    return mask * (1.0 - cut.astype(np.float32) / 255.0)


def erode_dilate(mask: np.ndarray, px: float) -> np.ndarray:
    """Grow (``px`` > 0) or shrink (``px`` < 0) a (S, S) float32 mask by |px| aligned pixels."""
    if abs(px) < 0.5:
        return mask
    op = cv2.dilate if px > 0 else cv2.erode
    return op(mask, _disk(abs(px)))


def feather(mask: np.ndarray, px: float) -> np.ndarray:
    """Soften the edge over about ``px`` aligned pixels, inside the mask's outline: the mask is eroded by
    half the width first, so feathering never spreads the face beyond where the mask reached."""
    if px < 1:
        return mask
    shrunk = erode_dilate(mask, -px / 2)
    sigma = px / 4
    return np.clip(cv2.GaussianBlur(shrunk, (0, 0), sigma), 0.0, 1.0) * (mask > 0)


def skin_mask(aligned_landmarks: np.ndarray, size: int) -> np.ndarray:
    """uint8 (S, S) mask of cheek, forehead and nose skin: the face oval shrunk by 5 % of its width, without
    eyes, brows and lips. Colour statistics are taken here only, so hair, teeth and eyes do not skew them."""
    oval = region_mask(aligned_landmarks, size, ("face_oval",))
    width = oval_width(aligned_landmarks)
    oval = cv2.erode(oval, _disk(width * 0.05))
    holes = region_mask(
        aligned_landmarks, size, ("left_eye", "right_eye", "left_eyebrow", "right_eyebrow", "lips_outer")
    )
    holes = cv2.dilate(holes, _disk(width * 0.03))
    return cv2.bitwise_and(oval, cv2.bitwise_not(holes))
