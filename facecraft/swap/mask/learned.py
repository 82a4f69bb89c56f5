"""``learned``: the mask the model predicts with each face (falls back to the landmark mask without one)."""

from __future__ import annotations

import numpy as np

from facecraft.swap.mask.base import MaskMethod, register
from facecraft.swap.mask.landmarks import LandmarkMask


@register("learned")
class LearnedMask(MaskMethod):
    name = "learned"

    def make(
        self,
        aligned_landmarks: np.ndarray,
        learned: np.ndarray | None,
        size: int,
        parsed_face: np.ndarray | None = None,
    ) -> np.ndarray:
        if learned is None:
            return LandmarkMask().make(aligned_landmarks, None, size)
        return np.clip(learned, 0.0, 1.0).astype(np.float32)
