"""Gaze drawn inside the eye: the iris slides between the lids instead of dragging the mesh with it.

The mesh warp is piecewise affine over triangles that join the iris points to the lids and eye corners.
Moving an iris by a fifth of the eye's width (a glance aside) squeezes the triangles between it and the
corner until they turn over: the iris drawn as a white sliver with a dark wedge, the lid pulled along. So
the warp carries each iris only as its eye's outline moves (no gaze), and the gaze is a displacement of
the backward map inside the eye opening: the iris and a band around it move as one piece, the white on
either side is squeezed or stretched towards the corners, which do not move. Along the eye the map stays
monotone for any iris centre between the corners, so nothing folds. Pure functions.
"""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.animate.expressions import EYES
from facecraft.face import regions

IRIS_HALF = 0.15
"""Half the width, in eye widths, of the band around the iris centre that moves as one piece (an iris is
about 0.4 eye widths across; its edges give a little, which a real eyeball's curvature does too)."""
_EYES = tuple((side, iris, corners) for side, (iris, corners) in zip(("left", "right"), EYES, strict=True))
_OUTLINES = {side: np.array(regions.region(f"{side}_eye")) for side, _, _ in _EYES}
_MIN_SHIFT = 0.05  # pixels: a smaller gaze leaves the map alone


def _affine(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """(3, 2) least-squares affine taking points ``src`` (N, 2) onto ``dst`` (N, 2)."""
    a = np.c_[src, np.ones(len(src))]
    return np.linalg.lstsq(a, dst, rcond=None)[0]


def carried_irises(portrait: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``target`` (478, 3) with each iris where its eye's outline alone carries it from ``portrait``: the
    affine fitted from the portrait's eye outline to the target's, applied to the portrait's iris."""
    out = np.array(target, np.float64, copy=True)
    for side, iris, _ in _EYES:
        outline = _OUTLINES[side]
        m = _affine(portrait[outline, :2], target[outline, :2])
        idx = list(iris)
        out[idx, :2] = np.c_[portrait[idx, :2], np.ones(len(idx))] @ m
    return out


def _gaussian(sigma: float) -> np.ndarray:
    """A 1-D Gaussian kernel (a single tap when ``sigma`` is under half a pixel)."""
    if sigma < 0.5:
        return np.ones((1, 1), np.float32)
    return cv2.getGaussianKernel(2 * int(np.ceil(2.5 * sigma)) + 1, sigma).astype(np.float32)


def _outline_opening(outline: np.ndarray, origin: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    """(H, W) float32 0..1 over a box at ``origin``: the eye opening the mesh outline (N, 2) gives, grown a
    little (the mesh's lid points sit inside the real lid edge), soft-edged."""
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(outline - origin).astype(np.int32)], 255)
    grown = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    return cv2.GaussianBlur(grown.astype(np.float32) / 255.0, (0, 0), 1.0)


def shift_irises(
    map_x: np.ndarray,
    map_y: np.ndarray,
    target: np.ndarray,
    carried: np.ndarray,
    eyes: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The backward maps (H, W) float32 (output pixel -> portrait pixel, warped with ``carried``) with each
    iris moved from where ``carried`` has it to where ``target`` has it, inside the eye opening: the mesh's
    eye outline, joined by ``eyes`` ((H, W) 0..1 in the portrait, the parser's eyeballs) carried by the maps.

    A pixel at position u along its eye (0 and 1 at the corners) samples the map at u minus the shift times
    a weight: 1 within :data:`IRIS_HALF` of the iris centre, falling linearly to 0 at each corner.
    """
    h, w = map_x.shape
    out_x, out_y = map_x, map_y
    for side, iris, (ca, cb) in _EYES:
        idx = list(iris)
        shift = target[idx, :2].mean(0) - carried[idx, :2].mean(0)
        if float(np.abs(shift).max()) < _MIN_SHIFT:
            continue
        a, b = target[ca, :2], target[cb, :2]
        length = float(np.linalg.norm(b - a))
        if length < 2.0:
            continue
        axis = (b - a) / length
        # The shift fades with the opening at the lids and corners. The map folds where the weight falls
        # by more than 1 / shift per pixel along the shift, so the opening is blurred along each axis by
        # that axis's shift (a Gaussian edge's steepest slope is 0.4 / sigma); the box reaches past the
        # blur's tail, so the shift does not stop at its edge.
        sigma = np.abs(shift)
        margin = 2 + int(np.ceil(2.5 * sigma.max()))
        outline = target[_OUTLINES[side], :2]
        x0, y0 = np.floor(outline.min(0)).astype(int) - margin
        x1, y1 = np.ceil(outline.max(0)).astype(int) + margin + 1
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        u = ((xs - a[0]) * axis[0] + (ys - a[1]) * axis[1]) / length
        centre = float((target[idx, :2].mean(0) - a) @ axis) / length
        lo, hi = centre - IRIS_HALF, centre + IRIS_HALF
        weight = np.ones_like(u)
        if lo > 1e-3:
            weight = np.where(u < lo, u / lo, weight)
        if hi < 1 - 1e-3:
            weight = np.where(u > hi, (1 - u) / (1 - hi), weight)
        # The mesh's outline lies a little inside the lids; the parser's eyeballs reach them (where it
        # sees the eye at all: on a dark painted eye it can miss one).
        opening = _outline_opening(carried[_OUTLINES[side], :2], (x0, y0), u.shape)
        if eyes is not None:
            seen = cv2.remap(eyes, map_x[y0:y1, x0:x1], map_y[y0:y1, x0:x1], cv2.INTER_LINEAR)
            opening = np.maximum(opening, np.clip((seen - 0.15) / 0.35, 0.0, 1.0))
        opening = cv2.sepFilter2D(opening, -1, _gaussian(sigma[0]), _gaussian(sigma[1]))
        weight = np.clip(weight, 0.0, 1.0) * opening
        sx = xs - (weight * shift[0]).astype(np.float32)
        sy = ys - (weight * shift[1]).astype(np.float32)
        if out_x is map_x:
            out_x, out_y = map_x.copy(), map_y.copy()
        out_x[y0:y1, x0:x1] = cv2.remap(map_x, sx, sy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        out_y[y0:y1, x0:x1] = cv2.remap(map_y, sx, sy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out_x, out_y


FOLD_DET = 0.05
"""A backward map whose Jacobian determinant is under this turns the picture over or squashes it flat."""


def fold_share(target: np.ndarray, map_x: np.ndarray, map_y: np.ndarray) -> float:
    """Share of the pixels in the boxes around both eyes of ``target`` (478, >=2) where the backward maps
    (H, W) turn over or squash flat (a folded eye: a white sliver and a dark wedge). For tests and
    benchmarks; closing lids squash the eye as they should, so measure it on open eyes."""
    bad = total = 0
    for side, _, _ in _EYES:
        outline = target[_OUTLINES[side], :2]
        grow = 0.3 * float(np.ptp(outline[:, 0]))
        x0, y0 = np.maximum(np.floor(outline.min(0) - grow).astype(int), 0)
        x1, y1 = np.ceil(outline.max(0) + grow).astype(int)
        mx, my = map_x[y0:y1, x0:x1], map_y[y0:y1, x0:x1]
        det = np.gradient(mx, axis=1) * np.gradient(my, axis=0) - np.gradient(mx, axis=0) * np.gradient(
            my, axis=1
        )
        bad += int((det < FOLD_DET).sum())
        total += det.size
    return bad / max(total, 1)
