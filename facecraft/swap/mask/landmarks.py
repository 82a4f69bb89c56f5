"""``landmarks``: the face oval of the 478-point mesh (forehead to chin, cheek to cheek)."""

from __future__ import annotations

import numpy as np

from facecraft.swap.mask.base import MaskMethod, region_mask, register


@register("landmarks")
class LandmarkMask(MaskMethod):
    name = "landmarks"

    def make(
        self,
        aligned_landmarks: np.ndarray,
        learned: np.ndarray | None,
        size: int,
        parsed_face: np.ndarray | None = None,
    ) -> np.ndarray:
        return region_mask(aligned_landmarks, size, ("face_oval",)).astype(np.float32) / 255.0
