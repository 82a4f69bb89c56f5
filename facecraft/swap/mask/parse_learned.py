"""``parse-learned``: the parse mask, and below the nose only where the model's learned mask agrees (their
minimum): the new face stops where the source's decoder draws no face (a narrower jaw, the neck's shadow
beside it) and the target's own jaw stays there. Above the nose the parse mask is kept whole: cut there too,
the learned mask narrowed the eyes and temples and cost recognition (docs/swap.md)."""

from __future__ import annotations

import numpy as np

from facecraft.face.regions import NOSE_TIP
from facecraft.swap.mask.base import MaskMethod, register
from facecraft.swap.mask.learned import LearnedMask
from facecraft.swap.mask.parse import ParsedMask

RAMP = 0.08
"""From the nose tip down, over this share of the crop, the learned mask comes in fully."""


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
        parsed = ParsedMask().make(aligned_landmarks, learned, size, parsed_face)
        both = np.minimum(parsed, LearnedMask().make(aligned_landmarks, learned, size))
        rows = (np.arange(size, dtype=np.float32) - float(aligned_landmarks[NOSE_TIP, 1])) / (RAMP * size)
        lower = np.clip(rows, 0.0, 1.0)[:, None]
        return (parsed * (1.0 - lower) + both * lower).astype(np.float32)
