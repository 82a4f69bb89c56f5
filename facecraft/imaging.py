"""Small pure image operations shared by the stages."""

from __future__ import annotations

import cv2
import numpy as np


def disk(r: int) -> np.ndarray:
    """A filled circle of radius ``r`` pixels ((2r+1) square, uint8): the structuring element to grow or
    shrink a mask by ``r`` pixels in every direction."""
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))


def masked_average(values: np.ndarray, mask: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """The ``mask``-weighted Gaussian average of ``values`` (both (h, w) float32) over ``sigma`` pixels
    (normalised convolution), and the mask's density under the Gaussian (0..1 for a 0..1 mask). From sigma 4
    on computed at a quarter of the size (the result is smooth; a full-size blur that wide costs
    milliseconds)."""
    h, w = values.shape
    f = 4 if min(h, w) >= 16 and sigma >= 4 else 1
    small = (max(1, w // f), max(1, h // f))
    num = cv2.resize(values * mask, small, interpolation=cv2.INTER_AREA)
    den = cv2.resize(mask, small, interpolation=cv2.INTER_AREA)
    s = sigma * small[0] / w
    num, den = cv2.GaussianBlur(num, (0, 0), s), cv2.GaussianBlur(den, (0, 0), s)
    avg = num / np.maximum(den, 1e-3)
    size = (w, h)
    return cv2.resize(avg, size, interpolation=cv2.INTER_LINEAR), cv2.resize(
        den, size, interpolation=cv2.INTER_LINEAR
    )
