"""The forehead above the mesh's face oval: how far up the new face may reach towards the target's hairline.

The 478-point mesh's face oval stops about where an average hairline is. On a high forehead, or hair swept
back or lifted, the target's own skin stayed between the new face and the hair: a paler band with a seam
across the forehead, seen at 1:1. With the parser the new face now goes on up to the target's hairline, but
only where the source person's own forehead was bare skin in nearly all of their faces, so the model learned
to draw it there: the source's fringe or hairline never comes along (docs/swap.md, "The forehead up to the
hairline").
"""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.face.regions import polygon
from facecraft.swap.exemplars import ExemplarBank

REACH = 0.35
"""How far above the oval's upper contour (share of the oval's height) the band goes at most; the target's
hair and the source's own hairline stop it sooner."""
SOURCE_SKIN = (0.9, 0.98)
"""Share of the source's faces in which a pixel was uncovered face skin: below the first the band stays the
target's, from the second the new face is pasted in full. The mask inside the oval uses the looser
swap.compose.SEEN_NONE / SEEN_FULL: there the model sees skin in most faces anyway, above it a fringe worn
in half of them would be drawn."""


def source_forehead(bank: ExemplarBank | None) -> np.ndarray | None:
    """(S, S) float32 0..1 in the bank's aligned pixels: how surely the source's face was bare skin there
    (the share of their exemplars whose face classes cover it, capped by the share of training faces that
    had no hair over it), ramped over :data:`SOURCE_SKIN`. None for a bank without the parser's maps (a
    model trained without the parser, or before it recorded them): the mask then stops at the oval."""
    if bank is None or bank.seen is None:
        return None
    skin = (bank.masks > 127).mean(axis=0)
    share = np.minimum(skin, bank.seen.astype(np.float64) / 255.0)
    lo, hi = SOURCE_SKIN
    return np.clip((share - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def forehead_band(aligned_landmarks: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(band, oval, brow_row): uint8 0/1 (size, size) masks of the band above the oval (the hull of the
    oval and its contour above the brows raised by :data:`REACH` of its height, less the oval) and of the
    oval, and the row of the brows' lower edge."""
    oval_pts = polygon(aligned_landmarks, "face_oval")
    brow = float(min(polygon(aligned_landmarks, n)[:, 1].max() for n in ("left_eyebrow", "right_eyebrow")))
    raised = oval_pts[oval_pts[:, 1] < brow].copy()
    raised[:, 1] -= REACH * float(np.ptp(oval_pts[:, 1]))
    hull = cv2.convexHull(np.concatenate([oval_pts, raised]).astype(np.float32))[:, 0]
    outer = np.zeros((size, size), np.uint8)
    oval = np.zeros((size, size), np.uint8)
    cv2.fillPoly(outer, [np.round(hull * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
    cv2.fillPoly(oval, [np.round(oval_pts * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
    return outer * (1 - oval), oval, int(np.clip(np.ceil(brow), 0, size))


def forehead_mask(aligned_landmarks: np.ndarray, source: np.ndarray, parsed_face: np.ndarray) -> np.ndarray:
    """(S, S) float32 0..1: the part of the band above the oval that the new face takes: the target's face
    there (``parsed_face``, the parser's map) where the source's forehead was skin (``source``, from
    :func:`source_forehead` at this size), reached from the oval without a gap: going up each column from
    the brows it never grows again once it has fallen (a patch of skin above a strand of the target's hair,
    or of the source's above their fringe, stays the target's)."""
    size = parsed_face.shape[0]
    band, oval, brow_row = forehead_band(aligned_landmarks, size)
    allowed = np.where(oval > 0, 1.0, band * source * np.clip(parsed_face, 0.0, 1.0))[:brow_row]
    reached = np.minimum.accumulate(allowed[::-1], axis=0)[::-1]  # upwards from the brows
    out = np.zeros((size, size), np.float32)
    out[:brow_row] = reached * band[:brow_row]
    return out
