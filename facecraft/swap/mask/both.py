"""``both``: where the landmark mask and the learned mask agree (their minimum)."""

from __future__ import annotations

import numpy as np

from facecraft.swap.mask.base import MaskMethod, register
from facecraft.swap.mask.landmarks import LandmarkMask
from facecraft.swap.mask.learned import LearnedMask


@register("both")
class IntersectionMask(MaskMethod):
    name = "both"

    def make(
        self,
        aligned_landmarks: np.ndarray,
        learned: np.ndarray | None,
        size: int,
        parsed_face: np.ndarray | None = None,
    ) -> np.ndarray:
        return np.minimum(
            LandmarkMask().make(aligned_landmarks, learned, size),
            LearnedMask().make(aligned_landmarks, learned, size),
        )
