"""``none``: keep the generated face's own colours."""

from __future__ import annotations

import numpy as np

from facecraft.swap.color.base import ColorTransfer, register


@register("none")
class NoTransfer(ColorTransfer):
    name = "none"

    def stats(self, pixels: np.ndarray) -> np.ndarray:
        return np.zeros(0)

    def apply(self, face: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
        return face
