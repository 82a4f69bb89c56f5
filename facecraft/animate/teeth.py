"""A drawn mouth interior: a dark throat, a tongue, and two rows of teeth that follow the lips.

Used where no real interior exists (performances, speech, and self-reenactment evaluation). The teeth sit
under the lip line column by column (not a flat bar), are split into individual teeth that narrow towards
the corners, are shaded (shadow under the upper lip, darker towards the corners and the back) and take
their colour from the portrait: an ivory pulled towards the skin's hue and brightness, so a yellowed
varnish gives yellowed teeth.
"""

from __future__ import annotations

import cv2
import numpy as np

_IVORY_LAB = np.array([228.0, 130.0, 140.0])  # OpenCV Lab (L, a, b scaled to 0..255): a warm off-white
TEETH_OVER_SKIN, TEETH_MIN_L = 35.0, 160.0
"""Teeth lightness (OpenCV's 0..255 L): this much above the skin's, and at least this light."""


def teeth_colour(skin_bgr: np.ndarray) -> np.ndarray:
    """BGR (3,) float: ivory toned by the portrait's skin (hue and overall brightness)."""
    skin = cv2.cvtColor(np.clip(skin_bgr, 0, 255).astype(np.uint8).reshape(1, 1, 3), cv2.COLOR_BGR2LAB)
    skin_lab = skin.reshape(3).astype(np.float64)
    lab = _IVORY_LAB.copy()
    # Brighter than the skin, and bright even on a dark one: measured on the shared clips' open mouths (the
    # brightest 5 % inside the lips against the skin's mean L): 35-43 levels above a light skin, 73 above
    # Obama's (L 104 -> 177). Never paper-white.
    lab[0] = np.clip(skin_lab[0] + TEETH_OVER_SKIN, TEETH_MIN_L, lab[0])
    lab[1:] = 128.0 + 0.6 * (skin_lab[1:] - 128.0) + 0.4 * (lab[1:] - 128.0)
    bgr = cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8).reshape(1, 1, 3), cv2.COLOR_LAB2BGR)
    return bgr.reshape(3).astype(np.float64)


def _lip_lines(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column of ``mask`` (H, W) bool: first and last inside row, and whether the column is inside."""
    inside = np.asarray(mask.any(axis=0), bool)
    h = mask.shape[0]
    top = np.where(inside, mask.argmax(axis=0), 0).astype(np.float32)
    bottom = np.where(inside, h - 1 - mask[::-1].argmax(axis=0), 0).astype(np.float32)
    return top, bottom, inside


UPPER_TEETH_MAX = 0.075
"""Longest stretch of upper teeth shown, in face widths (an upper incisor is about a fourteenth of a face wide)."""
LOWER_TEETH_MAX = 0.06
"""Longest stretch of lower teeth shown, in face widths (a lower incisor's crown is a little shorter)."""


def drawn_interior(
    mask: np.ndarray,
    face_width_px: float,
    lip_bgr: np.ndarray,
    skin_bgr: np.ndarray,
    upper_teeth_px: float | None = None,
    lower_teeth_px: float | None = None,
) -> np.ndarray:
    """The interior (H, W, 3) uint8 BGR for the inner-lip opening ``mask`` (H, W) bool of one mouth.

    ``face_width_px`` sets the teeth's size; ``lip_bgr``, ``skin_bgr`` (3,): the portrait's lip and skin colours.
    ``upper_teeth_px``: how much of the upper teeth shows below the upper lip at the middle of the mouth
    (:func:`facecraft.animate.mouth.upper_teeth_shown`), where that is more than a third of the opening
    (up to 0.045 face widths), which is what shows without it.
    """
    h, w = mask.shape
    top, bottom, inside = _lip_lines(mask)
    if not inside.any():
        return np.zeros((h, w, 3), np.uint8)
    cols = np.nonzero(inside)[0]
    left, right = float(cols.min()), float(cols.max())
    centre, half = (left + right) / 2, max((right - left) / 2, 1.0)
    xs = np.arange(w, dtype=np.float32)
    across = np.clip(1.0 - np.abs(xs - centre) / half, 0.0, 1.0)  # 1 in the middle, 0 at the corners
    ys = np.arange(h, dtype=np.float32)[:, None]
    gap = np.maximum(bottom - top, 0.0)
    depth = np.clip(1.0 - np.abs(ys - (top + bottom) / 2) / np.maximum(gap / 2, 1.0), 0.0, 1.0)

    lip = lip_bgr.astype(np.float32)
    skin = skin_bgr.astype(np.float32)
    throat = lip * 0.12 + skin * 0.03 + 2.0
    lit = lip * 0.42
    out = lit + (throat - lit) * (depth * (0.6 + 0.4 * across))[..., None]
    # A tongue low in the mouth, lit from the front.
    tongue = np.clip((ys - (bottom - 0.35 * gap)) / np.maximum(0.35 * gap, 1.0), 0.0, 1.0) * across
    out += (lip * 0.62 - out) * (0.55 * tongue)[..., None]

    tooth = teeth_colour(skin_bgr).astype(np.float32)
    size = 0.045 * face_width_px
    upper_h = np.minimum(0.32 * gap, size)
    if upper_teeth_px is not None:  # a lifted upper lip uncovers more (never less) than a third of the gap
        shown = float(np.clip(upper_teeth_px, 0.3 * size, UPPER_TEETH_MAX * face_width_px))
        upper_h = np.maximum(upper_h, np.minimum(shown, 0.85 * gap))
    if lower_teeth_px is not None and lower_teeth_px > 0.0:
        # Both rows from the middle of the mouth, where the rules measure them, then split every column's
        # opening in the same proportions: the two rows meet along the arch as they do in the middle (a
        # bite line that follows the smile), not in a band of constant height that leaves dark crescents
        # towards the corners. They stop short of the corners, in the cheeks' shade.
        middle = round(centre)
        mid = float(max(gap[middle], 1.0))
        upper_share = float(upper_h[middle]) / mid
        lower_c = min(float(np.clip(lower_teeth_px, 0.0, LOWER_TEETH_MAX * face_width_px)), mid)
        short = np.sqrt(np.clip(across / 0.3, 0.0, 1.0))
        upper_h = upper_share * gap * short
        lower_h = (lower_c / mid) * gap * short
        lower_light = 0.8
    else:
        upper_h = upper_h * np.sqrt(across)
        lower_h = np.minimum(0.22 * np.maximum(gap - 0.1 * face_width_px, 0.0), 0.6 * size) * np.sqrt(across)
        lower_h = np.minimum(lower_h, np.maximum(gap - upper_h - 1.0, 0.0))
        lower_light = 0.6
    upper = _band(ys, top, top + upper_h)
    lower = _band(ys, bottom - lower_h, bottom)
    # Individual teeth: a tooth width that shrinks towards the corners (the arch turns away); the lower
    # incisors are narrower than the upper ones. The seams between them are faint lines, not a grid.
    centre_tooth = 0.085 * face_width_px
    seams_upper = _seams(across, centre, centre_tooth)
    seams_lower = _seams(across, centre, 0.6 * centre_tooth)
    shade_upper = (0.55 + 0.45 * across**0.7) * seams_upper
    under_lip = np.clip((ys - top) / np.maximum(0.35 * upper_h, 1.0), 0.0, 1.0)
    shade_upper = shade_upper * (0.75 + 0.25 * under_lip)
    # A smile's lower row is lit like the upper one; the sliver of an open vowel sits in the lip's shadow.
    shade_lower = lower_light * (0.55 + 0.45 * across**0.7) * seams_lower
    # The lower row first: where the two meet, the upper incisors are in front.
    out += lower[..., None] * (tooth * shade_lower[..., None] - out)
    out += upper[..., None] * (tooth * shade_upper[..., None] - out)
    out = cv2.GaussianBlur(np.clip(out, 0, 255), (0, 0), 0.6)
    return np.clip(out, 0, 255).astype(np.uint8)


def _seams(across: np.ndarray, centre: float, centre_tooth: float) -> np.ndarray:
    """(W,) shading factor with a faint dark line between teeth ``centre_tooth`` pixels wide at the middle
    (one line on the midline), narrowing towards the corners as ``across`` (1 middle, 0 corners) falls."""
    width = np.maximum(centre_tooth * (0.35 + 0.65 * across), 1.0)
    phase = np.cumsum(1.0 / width) - np.sum(1.0 / width[: int(centre) + 1])
    return 1.0 - 0.22 * np.exp(-(((phase + 0.5) % 1.0 - 0.5) ** 2) / 0.004)


def _band(ys: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """(H, W) 0..1: rows between ``start`` and ``end`` (per column), with one-pixel soft edges."""
    return np.clip(ys - start + 0.5, 0.0, 1.0) * np.clip(end - ys + 0.5, 0.0, 1.0) * (end > start + 0.5)
