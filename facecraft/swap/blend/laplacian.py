"""``laplacian``: multi-band blending (Burt & Adelson 1983).

Low frequencies (tone, shading) are mixed over a wide band, fine detail over a narrow one, which hides
the seam without ghosting the skin texture.
"""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.swap.blend.base import Blender, register

MIN_SIDE = 8  # stop adding levels when the smallest image side would drop below this


def _levels(h: int, w: int, most: int = 5) -> int:
    n = 0
    while n < most and min(h, w) >> (n + 1) >= MIN_SIDE:
        n += 1
    return n


def laplacian_pyramid(image: np.ndarray, levels: int) -> list[np.ndarray]:
    """Band-pass images, finest first, then the low-pass residual (float32)."""
    pyr, cur = [], image
    for _ in range(levels):
        down = cv2.pyrDown(cur)
        pyr.append(cur - cv2.pyrUp(down, dstsize=(cur.shape[1], cur.shape[0])))
        cur = down
    pyr.append(cur)
    return pyr


def gaussian_pyramid(mask: np.ndarray, levels: int) -> list[np.ndarray]:
    pyr = [mask]
    for _ in range(levels):
        pyr.append(cv2.pyrDown(pyr[-1]))
    return pyr


@register("laplacian")
class LaplacianBlender(Blender):
    name = "laplacian"

    def combine(self, background: np.ndarray, face: np.ndarray, mask: np.ndarray) -> np.ndarray:
        h, w = mask.shape
        n = _levels(h, w)
        lb = laplacian_pyramid(background.astype(np.float32), n)
        lf = laplacian_pyramid(face.astype(np.float32), n)
        gm = gaussian_pyramid(mask, n)
        out = lf[-1] * gm[-1][..., None] + lb[-1] * (1 - gm[-1][..., None])
        for band_f, band_b, m in zip(reversed(lf[:-1]), reversed(lb[:-1]), reversed(gm[:-1]), strict=True):
            out = cv2.pyrUp(out, dstsize=(band_f.shape[1], band_f.shape[0]))
            out += band_f * m[..., None] + band_b * (1 - m[..., None])
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)
