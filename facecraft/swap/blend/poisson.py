"""``poisson``: seamless cloning (Pérez et al. 2003, OpenCV ``seamlessClone``).

The face keeps its gradients while its boundary takes the frame's colours, so tone differences vanish
at the seam; the feathered mask then softens the last pixels of the edge.
"""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.swap.blend.base import Blender, alpha_blend, register

BORDER = 2  # seamlessClone needs the mask to stay clear of the image border


@register("poisson")
class PoissonBlender(Blender):
    name = "poisson"

    def combine(self, background: np.ndarray, face: np.ndarray, mask: np.ndarray) -> np.ndarray:
        h, w = mask.shape
        hard = ((mask > 0.5) * 255).astype(np.uint8)
        hard[:BORDER], hard[-BORDER:], hard[:, :BORDER], hard[:, -BORDER:] = 0, 0, 0, 0
        ys, xs = np.nonzero(hard)
        if len(xs) < 9 or h < 2 * BORDER + 3 or w < 2 * BORDER + 3:
            return alpha_blend(background, face, mask)
        x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
        # seamlessClone places the mask's bounding-box centre at ``center``; keep it where it is.
        center = (int(x0) + (int(x1 - x0) + 1) // 2, int(y0) + (int(y1 - y0) + 1) // 2)
        cloned = cv2.seamlessClone(face, background, hard, center, cv2.NORMAL_CLONE)
        return alpha_blend(background, cloned, mask)
