"""What the face parser says about a face being replaced and the face replacing it.

For each target the frame is re-aligned at the parser's working size and parsed (in batches), and the
answer is brought back to the aligned size as soft maps:

- ``face``: where the target shows face surface (skin, brows, eyes, nose, lips, mouth). Hair, hats,
  hands, microphones and (by default) glasses over the target stay the target's. What the *model*
  draws is not parsed: a soft 64 px face from a young model is not a face to the parser (tried: the
  mask then vanished and the swap with it). Models trained with parser masks learn a mask without
  their person's hair and glasses instead, and the parse mask uses it (see mask/parse.py).
- ``skin``: the target's skin and nose away from eyes, brows and lips, where the target's own fine
  texture can be restored under the generated face (see paste.restore_detail).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facecraft.face.parse import (
    BROW_CLASSES,
    EYE_CLASSES,
    FACE_CLASSES,
    MOUTH_CLASSES,
    FaceParser,
    soft_class_mask,
)

PARSE_SIZE = 384
"""Side of the crops the parser reads: 384 px keeps eyes, nose and lips of a whole-face crop (256 loses
them) at about half the cost of the 512 px it was trained at."""


@dataclass(frozen=True)
class ParsedFace:
    """Soft (S, S) float32 maps in 0..1 at the model's aligned size."""

    face: np.ndarray
    skin: np.ndarray


def _features_cut(probs: np.ndarray, size: int) -> np.ndarray:
    """1 away from eyes, brows and lips; 0 on them and a margin of ~4 % of the crop around them."""
    features = soft_class_mask(probs, EYE_CLASSES + BROW_CLASSES + MOUTH_CLASSES)
    r = max(1, round(size * 0.04))
    grown = cv2.dilate(features, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    return 1.0 - cv2.GaussianBlur(grown, (0, 0), r / 2)


class FaceRegions:
    """Parses the faces being replaced, in batches (the parser is loaded once)."""

    def __init__(self, parser: FaceParser, keep_glasses: bool = True):
        self.parser = parser
        self.keep_glasses = keep_glasses

    def parse(self, frame: np.ndarray, affines: list[np.ndarray], size: int) -> list[ParsedFace]:
        """``affines``: frame -> aligned (2, 3) per target at the aligned size ``size``."""
        if not affines:
            return []
        up = PARSE_SIZE / size
        crops = [
            cv2.warpAffine(frame, a * up, (PARSE_SIZE, PARSE_SIZE), flags=cv2.INTER_LINEAR) for a in affines
        ]
        self.parser.size = PARSE_SIZE
        classes = FACE_CLASSES + (() if self.keep_glasses else ("eyeglasses",))
        out = []
        for target in self.parser.probabilities(crops):
            face = soft_class_mask(target, classes)
            skin = soft_class_mask(target, ("skin", "nose")) * _features_cut(target, PARSE_SIZE)
            small = (size, size)
            out.append(
                ParsedFace(
                    cv2.resize(face, small, interpolation=cv2.INTER_AREA),
                    cv2.resize(skin, small, interpolation=cv2.INTER_AREA),
                )
            )
        return out
