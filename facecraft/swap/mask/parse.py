"""``parse``: the face oval, minus whatever the face parser says is not face on the target (hair, hats,
hands, microphones and, by default, the frames of glasses stay the target's; see swap/parsing.py)."""

from __future__ import annotations

import numpy as np

from facecraft.swap.mask.base import MaskMethod, register
from facecraft.swap.mask.landmarks import LandmarkMask


@register("parse")
class ParsedMask(MaskMethod):
    name = "parse"
    needs_parser = True

    def make(
        self,
        aligned_landmarks: np.ndarray,
        learned: np.ndarray | None,
        size: int,
        parsed_face: np.ndarray | None = None,
    ) -> np.ndarray:
        oval = LandmarkMask().make(aligned_landmarks, learned, size)
        if parsed_face is None:
            raise ValueError("the parse mask needs the parser's face map")
        return np.minimum(oval, np.clip(parsed_face, 0.0, 1.0)).astype(np.float32)
