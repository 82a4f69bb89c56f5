"""``alpha``: the feathered mask used directly as opacity."""

from __future__ import annotations

import numpy as np

from facecraft.swap.blend.base import Blender, alpha_blend, register


@register("alpha")
class AlphaBlender(Blender):
    name = "alpha"

    def combine(self, background: np.ndarray, face: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return alpha_blend(background, face, mask)
