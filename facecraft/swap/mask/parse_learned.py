"""``parse-learned``: the parse mask where the model's learned mask agrees (their minimum): the new face
stops where the source's decoder draws no face (a narrower jaw, the neck's shadow beside it), and the target's
own pixels stay there."""

from __future__ import annotations

import numpy as np

from facecraft.swap.mask.base import MaskMethod, register
from facecraft.swap.mask.learned import LearnedMask
from facecraft.swap.mask.parse import ParsedMask


@register("parse-learned")
class ParsedLearnedMask(MaskMethod):
    name = "parse-learned"
    needs_parser = True

    def make(
        self,
        aligned_landmarks: np.ndarray,
        learned: np.ndarray | None,
        size: int,
        parsed_face: np.ndarray | None = None,
    ) -> np.ndarray:
        return np.minimum(
            ParsedMask().make(aligned_landmarks, learned, size, parsed_face),
            LearnedMask().make(aligned_landmarks, learned, size),
        )
