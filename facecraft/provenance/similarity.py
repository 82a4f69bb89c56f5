"""How much a label changes a picture, as SSIM sees it: the watermark's perceptual guard and its benchmark.

SSIM of the luma with the Gaussian window of Wang et al. (2004): sigma 1.5, 11 taps, C1 = (0.01 L)^2,
C2 = (0.03 L)^2. Computed in bands of rows with the window's reach of overlap, so a large photo needs only a
few bands of memory and the result equals the whole-picture computation.
"""

from __future__ import annotations

import cv2
import numpy as np

_C1, _C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
_REACH = 5  # rows of the 11-tap window on each side
_BAND_ROWS = 512


def _luma(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image.astype(np.float32)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)


def _ssim_map(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    def blur(z: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(z, (11, 11), 1.5)

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    return ((2 * mx * my + _C1) * (2 * cxy + _C2)) / ((mx * mx + my * my + _C1) * (vx + vy + _C2))


def luma_ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of the luma of two BGR (or grey) uint8 pictures of the same size."""
    if a.shape[:2] != b.shape[:2]:
        raise ValueError(f"pictures differ in size: {a.shape[:2]} and {b.shape[:2]}")
    h = a.shape[0]
    if h <= _BAND_ROWS + 2 * _REACH:
        return float(np.mean(_ssim_map(_luma(a), _luma(b)), dtype=np.float64))
    total = 0.0
    for y0 in range(0, h, _BAND_ROWS):
        y1 = min(h, y0 + _BAND_ROWS)
        lo, hi = max(0, y0 - _REACH), min(h, y1 + _REACH)
        m = _ssim_map(_luma(a[lo:hi]), _luma(b[lo:hi]))
        total += float(m[y0 - lo : y1 - lo].sum(dtype=np.float64))
    return total / (h * a.shape[1])
