"""Mouth interior: when the target mouth opens wider than the portrait's, paint what is inside it.

With a driving frame, the inside of the driving mouth (teeth, tongue) is mapped into the target lip
opening and colour-matched to the portrait; without one (a performance, speech), a throat, a tongue and
two rows of teeth coloured from the portrait's skin are drawn (facecraft.animate.teeth). Pure functions on
images and points.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facecraft.animate import teeth
from facecraft.animate.expressions import face_axes
from facecraft.animate.geometry import face_width, mouth_opening, mouth_width
from facecraft.animate.motion import head_transform
from facecraft.face import regions

NEUTRAL = 128.0  # a* and b* of grey in OpenCV's 8-bit Lab
CHROMA_GAIN = (0.15, 2.5)
"""Limits of the factor on a* and b* (their distance from grey) between the driver's skin and the portrait's."""


@dataclass(frozen=True)
class ColourMatch:
    """Lab transfer from the driving face's skin to the portrait's: lightness by mean and std; a* and b*
    by ``chroma_gain`` (2,), the factor on their distance from grey that takes the driver's skin to the
    portrait's, or by mean and std where the driver's skin is near grey in that channel (gain NaN)."""

    src_mean: np.ndarray
    src_std: np.ndarray
    dst_mean: np.ndarray
    dst_std: np.ndarray
    chroma_gain: np.ndarray

    def apply(self, bgr: np.ndarray) -> np.ndarray:
        lab = cv2.cvtColor(bgr, cv2.COLOR_BGR2LAB).astype(np.float32)
        shifted = (lab - self.src_mean) * (self.dst_std / self.src_std) + self.dst_mean
        for c in (1, 2):
            gain = float(self.chroma_gain[c - 1])
            if np.isfinite(gain):
                shifted[..., c] = NEUTRAL + (lab[..., c] - NEUTRAL) * gain
        return cv2.cvtColor(np.clip(shifted, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)


def skin_stats(image: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lab mean and std (3,) of the face inside its outline, without eyes and mouth."""
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(regions.polygon(landmarks, "face_oval")).astype(np.int32)], 255)
    for name in ("left_eye", "right_eye", "lips_outer", "left_eyebrow", "right_eyebrow"):
        cv2.fillPoly(mask, [np.round(regions.polygon(landmarks, name)).astype(np.int32)], 0)
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB).reshape(-1, 3)[mask.ravel() > 0].astype(np.float32)
    if len(lab) < 10:
        lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB).reshape(-1, 3).astype(np.float32)
    return lab.mean(0), np.maximum(lab.std(0), 1.0)


def colour_match(
    src_image: np.ndarray, src_lm: np.ndarray, dst_image: np.ndarray, dst_lm: np.ndarray
) -> ColourMatch:
    sm, ss = skin_stats(src_image, src_lm)
    dm, ds = skin_stats(dst_image, dst_lm)
    # Keep the interior's contrast (teeth against a dark mouth): only shift and mildly rescale.
    ratio = np.clip(ds / ss, 0.6, 1.6)
    # Colour scales about grey rather than shifts: a tanned driver's mouth is less yellow than its skin,
    # and shifted onto a pale portrait's grey-pink skin that difference came out blue (teeth and tongue of
    # a blue-grey tint in a colourised photograph). Scaled, a pale portrait gets a paler mouth, a yellowed
    # painting a yellower one.
    gain = np.full(2, np.nan)  # NaN: the driver's skin is within 4 of grey there, so shift as before
    for i, (src, dst) in enumerate(zip(sm[1:] - NEUTRAL, dm[1:] - NEUTRAL, strict=True)):
        if abs(src) >= 4.0:
            gain[i] = np.clip(dst / src, *CHROMA_GAIN)
    return ColourMatch(sm, ss, dm, ss * ratio, gain)


UPPER_TEETH_AT_REST = 0.015
"""Face widths of upper teeth below the line where the lips meet at rest (the incisors' edge)."""


def upper_teeth_shown(portrait_lm: np.ndarray, target_lm: np.ndarray) -> float:
    """Pixels of upper teeth visible below the upper lip at the middle of the ``target_lm`` mouth.

    The upper incisors hang from the skull with their edge a little below where the portrait's lips meet
    at rest: carried with the head, that edge stays put while a smile lifts the upper lip off the teeth and
    a dropped jaw moves only the lower lip. What shows is the stretch from the upper lip down to the edge.
    """
    scale, rot, shift = head_transform(portrait_lm, target_lm)
    rest = (portrait_lm[regions.UPPER_LIP_INNER] + portrait_lm[regions.LOWER_LIP_INNER]) / 2
    edge = (scale * rot @ np.asarray(rest, np.float64) + shift)[:2]
    _, down = face_axes(target_lm)
    rise = float((edge - target_lm[regions.UPPER_LIP_INNER, :2]) @ down)
    return rise + UPPER_TEETH_AT_REST * face_width(target_lm)


STRETCH_NONE, STRETCH_FULL = 1.05, 1.3
"""Mouth width over its rest width at which a lowered lip uncovers none / all of the lower teeth."""
WIDE_MOUTH, TALL_MOUTH = 0.25, 0.6
"""Lip gap over mouth width at which the lower teeth show fully (a broad smile) and not at all (a yawn)."""
JAW_TO_INCISORS = 0.9
"""How far the lower incisors' edge moves for a unit of chin motion (they sit a little nearer the jaw's hinge)."""


def lower_teeth_shown(portrait_lm: np.ndarray, target_lm: np.ndarray) -> float:
    """Pixels of lower teeth visible above the lower lip at the middle of the ``target_lm`` mouth.

    The lower incisors ride on the jaw: at rest their edge sits where the portrait's lips meet (behind the
    upper teeth, covered by the lower lip); the jaw carries it down by the chin's own drop (measured against
    the head), while a lower lip pulled down further than the jaw and stretched wide (a broad smile)
    uncovers it. What shows is the stretch from that edge down to the lower lip; 0 when the lip covers them."""
    scale, rot, shift = head_transform(portrait_lm, target_lm)
    carry = scale * rot

    def carried(p: np.ndarray) -> np.ndarray:
        return (carry @ np.asarray(p, np.float64) + shift)[:2]

    rest = (portrait_lm[regions.UPPER_LIP_INNER] + portrait_lm[regions.LOWER_LIP_INNER]) / 2
    _, down = face_axes(target_lm)
    jaw = float((target_lm[regions.CHIN, :2] - carried(portrait_lm[regions.CHIN])) @ down)
    edge = carried(rest) + JAW_TO_INCISORS * max(jaw, 0.0) * down
    uncovered = max(float((target_lm[regions.LOWER_LIP_INNER, :2] - edge) @ down), 0.0)
    # Only a lip stretched wide (a smile, "ee") is pulled off the lower teeth; in speech and in a mouth
    # opened tall ("ah", a yawn) the lower lip stays over them and the tongue shows instead. On the shared
    # clips a smile widens the mouth 1.3-1.5 times, speech by at most 1.06 (and the mesh's chin lags the
    # lip, so the jaw alone would bare a full lower row in every open vowel).
    width = mouth_width(target_lm)
    rest_width = scale * mouth_width(portrait_lm)
    stretch = width / max(rest_width, 1e-6)
    stretched = float(np.clip((stretch - STRETCH_NONE) / (STRETCH_FULL - STRETCH_NONE), 0.0, 1.0))
    tall = mouth_opening(target_lm) / max(width, 1e-6)
    wide = float(np.clip((TALL_MOUTH - tall) / (TALL_MOUTH - WIDE_MOUTH), 0.0, 1.0))
    return uncovered * stretched * wide


def interior_strength(portrait_lm: np.ndarray, target_lm: np.ndarray) -> float:
    """0..1: how much wider the target mouth is open than the portrait's (0 when not wider)."""
    extra = mouth_opening(target_lm) - mouth_opening(portrait_lm)
    return float(np.clip(extra / (0.03 * face_width(portrait_lm)), 0.0, 1.0))


def _roi(poly: np.ndarray, shape: tuple[int, ...], pad: int) -> tuple[int, int, int, int] | None:
    x0, y0 = np.floor(poly.min(0)).astype(int) - pad
    x1, y1 = np.ceil(poly.max(0)).astype(int) + pad
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, shape[1]), min(y1, shape[0])
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return int(x0), int(y0), int(x1), int(y1)


def paint_interior(
    frame: np.ndarray,
    portrait_lm: np.ndarray,
    target_lm: np.ndarray,
    lip_colour: np.ndarray,
    skin_colour: np.ndarray,
    driving: tuple[np.ndarray, np.ndarray, ColourMatch] | None = None,
) -> np.ndarray:
    """Paint the mouth interior into ``frame`` (BGR uint8, modified copy returned) inside the target inner lips.

    lip_colour, skin_colour: (3,) BGR of the portrait's lips and skin. driving: (driving frame, its mesh,
    colour match) to take the real interior from.
    """
    strength = interior_strength(portrait_lm, target_lm)
    if strength <= 0.0:
        return frame
    poly = regions.polygon(target_lm, "lips_inner")
    box = _roi(poly, frame.shape, 3)
    if box is None:
        return frame
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    local = poly - (x0, y0)
    if driving is not None:
        inside = _driving_interior(driving, local, (x0, y0), (w, h))
    else:
        inside = _drawn_interior(portrait_lm, target_lm, local, (w, h), lip_colour, skin_colour)
    mask = np.zeros((h, w), np.float32)
    cv2.fillPoly(mask, [np.round(local * 4).astype(np.int32)], 1.0, lineType=cv2.LINE_AA, shift=2)
    mask = cv2.GaussianBlur(mask, (3, 3), 0) * strength
    out = frame.copy()
    patch = out[y0:y1, x0:x1].astype(np.float32)
    out[y0:y1, x0:x1] = np.clip(patch + mask[..., None] * (inside.astype(np.float32) - patch), 0, 255).astype(
        np.uint8
    )
    return out


def _driving_interior(
    driving: tuple[np.ndarray, np.ndarray, ColourMatch],
    local: np.ndarray,
    origin: tuple[int, int],
    size: tuple[int, int],
) -> np.ndarray:
    """The driving mouth's inside, mapped (least-squares affine of the inner lips) into the target box."""
    image, lm, match = driving
    src = regions.polygon(lm, "lips_inner").astype(np.float64)
    dst = local.astype(np.float64)
    a = np.c_[src, np.ones(len(src))]
    coef, *_ = np.linalg.lstsq(a, dst, rcond=None)  # (3, 2): dst = [x y 1] @ coef
    affine = coef.T
    patch = cv2.warpAffine(image, affine, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return match.apply(patch)


def _drawn_interior(
    portrait_lm: np.ndarray,
    target_lm: np.ndarray,
    local: np.ndarray,
    size: tuple[int, int],
    lip_colour: np.ndarray,
    skin_colour: np.ndarray,
) -> np.ndarray:
    """A drawn interior (throat, tongue, two rows of teeth) inside the local inner-lip polygon."""
    w, h = size
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [np.round(local * 4).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=2)
    return teeth.drawn_interior(
        mask > 0,
        face_width(target_lm),
        lip_colour,
        skin_colour,
        upper_teeth_shown(portrait_lm, target_lm),
        lower_teeth_shown(portrait_lm, target_lm),
    )
