"""What the face parser says about a face being replaced.

For each target the frame is re-aligned at the parser's working size and parsed (in batches), and the
answer is brought back to the aligned size as soft maps:

- ``face``: where the target shows face surface (skin, brows, eyes, nose, lips, mouth). Hair, hats,
  hands, microphones and (by default) the frames of glasses over the target stay the target's; the eyes
  behind the lenses are swapped. By default the inside of the target's open mouth (teeth, tongue) stays
  the target's too: the lips are the new face's, but a small model draws an open mouth as a dark smear.
  The model's own face is not parsed. Tried twice on a 500-step lite model: asked where its face is,
  the parser found little (the mask vanished and the swap with it); asked only for its hair and
  glasses, it took the soft dark eyes and brows for them and left the target's own eyes, nose and
  mouth showing. So hair and glasses the model draws from its own person
  are not removed (docs/swap.md).
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

INNER_MOUTH_MARGIN = 0.2
"""The target's inner mouth is kept where the parser's mouth probability exceeds its lips' by this much:
the parser's whole mouth class brought a red lipstick's inner edge with it."""

KEPT_FRAME_BAND = 0.011
"""With ``keep_glasses`` the target's glasses frames are the outer band of the parser's glasses class this
share of the parse crop wide (4 px at 384). Training paints out a wider band (face.parse.GLASSES_FRAME_BAND,
0.015: better too much than a ghost of the frames). Kept at that width, the ring carried the target's own
skin and lids beside thin clear frames onto the new face: SFace recognised Obama's face behind a webcam
user's clear glasses in 64.5 % of frames, 75.4 % at 0.011, 81.4 % at 0.008 and 97.3 % with the frames
painted over. At 0.008 half of the dark line of her metal frames (the tuned clip) was blended into the new
face (494 of 1,071 pixels changed by more than 12 levels); at 0.011, 51. Of the band, only frames that show
stay (:func:`frames_visibility`): clear frames are painted over (66 -> 88.5 % on a shorter training)."""

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


def _confident(p: np.ndarray) -> np.ndarray:
    """Probabilities to a mask with a soft edge: 1 from 0.75 up, 0 below 0.25. The parser's face
    probability sits near 0.7-0.8 over much of a face (it spreads some over neck and skin-like classes);
    used as an alpha directly, it let about a quarter of the original face show through the swap."""
    return np.clip((p - 0.25) / 0.5, 0.0, 1.0).astype(np.float32)


class FaceRegions:
    """Parses the faces being replaced, in batches (the parser is loaded once, at ``PARSE_SIZE``)."""

    def __init__(self, parser: FaceParser, keep_glasses: bool = True, keep_teeth: bool = True):
        self.parser = parser
        self.keep_glasses = keep_glasses
        self.keep_teeth = keep_teeth

    def parse(self, frame: np.ndarray, affines: list[np.ndarray], size: int) -> list[ParsedFace]:
        """``affines``: frame -> aligned (2, 3) per target at the aligned size ``size``."""
        if not affines:
            return []
        up = PARSE_SIZE / size
        crops = [
            cv2.warpAffine(frame, a * up, (PARSE_SIZE, PARSE_SIZE), flags=cv2.INTER_LINEAR) for a in affines
        ]
        out = []
        for crop, target in zip(crops, self.parser.probabilities(crops), strict=True):
            face = _confident(soft_class_mask(target, FACE_CLASSES) + self._glasses_replaced(target, crop))
            if self.keep_teeth:
                face = np.clip(face - inner_mouth(target, PARSE_SIZE), 0.0, 1.0)
            skin = soft_class_mask(target, ("skin", "nose")) * _features_cut(target, PARSE_SIZE)
            small = (size, size)
            out.append(
                ParsedFace(
                    cv2.resize(np.clip(face, 0.0, 1.0), small, interpolation=cv2.INTER_AREA),
                    cv2.resize(skin, small, interpolation=cv2.INTER_AREA),
                )
            )
        return out

    def _glasses_replaced(self, probs: np.ndarray, crop: np.ndarray) -> np.ndarray:
        """The part of the target's glasses the new face may paint: all of them without ``keep_glasses``;
        with it, the lenses, and the frames too where they hardly show (:func:`frames_visibility`). The
        parser's glasses class covers frames *and* lenses; kept whole, the target's own eyes would stay
        behind them. The frames are the class's outer band (KEPT_FRAME_BAND of the crop wide, about a thin
        frame's thickness). Clear plastic frames are the target's own skin and lids seen through them:
        kept, they put those around the new face's eyes (and SFace recognised the new face less)."""
        glasses = soft_class_mask(probs, ("eyeglasses",))
        if not self.keep_glasses:
            return glasses
        r = max(1, round(PARSE_SIZE * KEPT_FRAME_BAND))
        solid = (glasses > 0.5).astype(np.uint8)
        lenses = cv2.erode(solid, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
        band = (solid > 0) & (lenses == 0)
        keep = frames_visibility(crop, probs, solid, lenses)
        replaced = np.where(band, 1.0 - keep, lenses.astype(np.float32))
        return cv2.GaussianBlur(replaced.astype(np.float32), (0, 0), 1.0) * glasses


VISIBLE_FRAME = 18.0
"""Lab distance from both the skin around the glasses and what the lenses show, above which a pixel of
the frames' band is frame a viewer sees rather than clear plastic."""
CLEAR_FRAMES = (0.35, 0.6)
"""Share of the band's pixels that show as frame: below the first value the frames count as clear and are
painted over with the lenses, from the second they stay the target's, in between partly. Shared clips:
thin dark metal frames 0.72-0.93 of their band in every frame; clear plastic frames 0-0.33 in 90 % of the
frames the parser sees them in (it misses them in half)."""


def frames_visibility(crop: np.ndarray, probs: np.ndarray, solid: np.ndarray, lenses: np.ndarray) -> float:
    """0..1: how much the glasses' frames (the band of ``solid``, the glasses class, outside ``lenses``)
    show in ``crop`` (BGR), from the share of their pixels far in colour from both the skin around the
    glasses and the inside of the lenses (1 where there is too little of either to compare with)."""
    band = (solid > 0) & (lenses == 0)
    if band.sum() < 20:  # no glasses (most faces): nothing to weigh
        return 1.0
    reach = max(2, round(crop.shape[0] * 0.04))
    around = cv2.dilate(solid, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1,) * 2))
    ys, xs = np.nonzero(around)
    box = (slice(int(ys.min()), int(ys.max()) + 1), slice(int(xs.min()), int(xs.max()) + 1))
    lab = cv2.cvtColor(np.ascontiguousarray(crop[box]), cv2.COLOR_BGR2LAB).astype(np.float32)
    band, around, solid, lenses = band[box], around[box], solid[box], lenses[box]
    skin = (around > 0) & (solid == 0) & (soft_class_mask(probs[box], ("skin",)) > 0.5)
    inside = lenses > 0
    if skin.sum() < 20 or inside.sum() < 20:
        return 1.0
    far = np.ones(solid.shape, bool)
    for ref in (skin, inside):
        far &= np.linalg.norm(lab - np.median(lab[ref], axis=0), axis=2) > VISIBLE_FRAME
    lo, hi = CLEAR_FRAMES
    return float(np.clip((far[band].mean() - lo) / (hi - lo), 0.0, 1.0))


def inner_mouth(probs: np.ndarray, size: int) -> np.ndarray:
    """(size, size) float32 0..1: the inside of an open mouth (the parser's mouth class, which lies between
    the lips: teeth, tongue, the dark of the throat) where the parser is surer of it than of the lips
    (INNER_MOUTH_MARGIN), softened. Kept from the target, it gives the swap real teeth where the model drew a
    dark smear, and every mouth shape of the target (a laugh, a wide vowel) opens as the target's did."""
    lips = soft_class_mask(probs, ("u_lip", "l_lip"))
    mouth = soft_class_mask(probs, ("mouth",)) - lips - INNER_MOUTH_MARGIN
    mouth = np.clip(mouth / 0.3, 0.0, 1.0).astype(np.float32)
    return cv2.GaussianBlur(mouth, (0, 0), size / 256)
