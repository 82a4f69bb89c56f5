"""Texture for a cheek a head turn uncovers, from the other side of the face.

A portrait in three-quarter view shows one cheek foreshortened: a few pixels across. Turning the head
towards that side stretches those pixels over a wide area, and the warp draws streaks (a smear). Faces are
close to symmetric, so the texture the stretched cheek lacks is taken from the mirrored cheek, seen more
frontally in the portrait: each stretched triangle of the mesh also samples its mirror triangle
(:data:`facecraft.face.symmetry.MIRROR`). Only the fine texture is taken from there (the frame's own
local mean is kept, so light and shadow stay where the portrait has them); the weight grows with how much
more a triangle is stretched than its mirror, so a frontal face or a small turn is left exactly as it was.

Along the far cheek's outline a few pixels no triangle covers (the outline's teeth, see :func:`_teeth_weight`)
take the face's smooth colour instead, as strongly as the triangles beside them are stretched.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facecraft.animate.shading import skin_triangles
from facecraft.animate.warp import FaceCover
from facecraft.face import regions
from facecraft.face.symmetry import MIRROR
from facecraft.imaging import masked_average

STRETCH_FROM, STRETCH_FULL = 1.5, 2.2
"""A triangle shown this many times its area in the portrait starts to take, and fully takes, the mirror's
texture (when its mirror is less stretched; see :func:`triangle_weights`)."""
DETAIL_SIGMA = 0.05
"""The texture taken is the mirror minus its local mean (Gaussian, this many face widths)."""
EDGE_MARGIN = 0.02
"""No texture taken within this many face widths of the face outline (the weight fades in beyond it)."""
DETAIL_LIMIT = 24.0
"""The most the taken texture changes a pixel (levels): a strong edge in the mirror never prints."""
TEETH_REACH = 0.05
"""Face widths from a stretched triangle within which an uncovered tooth of the outline takes its weight."""
TEETH_GROW = 0.02
"""Face widths by which the teeth are grown into the triangles beside them."""
TEETH_SIGMA = 0.03
"""Sigma (face widths) of the face's smooth colour the teeth are filled with."""


@dataclass(frozen=True)
class MirrorMaps:
    """Prepared once per portrait: for each warp triangle, the affine map from the portrait's triangle to
    its mirror's (``coef`` (T + 1, 6), the last row for field pixels no triangle covers), and each
    triangle's area in the portrait and its mirror's (portrait pixels squared)."""

    coef: np.ndarray
    area: np.ndarray
    mirror_area: np.ndarray
    skin: np.ndarray
    """(T,) bool: bare skin (no corner on an eye, brow or lip): eyes and lips are never mirrored."""

    @classmethod
    def prepare(cls, landmarks: np.ndarray, triangles: np.ndarray) -> MirrorMaps:
        pts = np.asarray(landmarks, np.float64)[:, :2]
        mirrored = pts[np.asarray(MIRROR)]
        src, dst = pts[triangles], mirrored[triangles]  # (T, 3, 2)
        m = np.concatenate([src, np.ones((len(triangles), 3, 1))], axis=2)
        area = np.abs(np.linalg.det(m)) / 2
        md = np.concatenate([dst, np.ones((len(triangles), 3, 1))], axis=2)
        mirror_area = np.abs(np.linalg.det(md)) / 2
        ok = area > 1e-3
        coef = np.zeros((len(triangles) + 1, 6), np.float32)
        coef[:-1][ok] = np.linalg.solve(m[ok], dst[ok]).reshape(-1, 6)  # [x y 1] @ aff = mirror (x, y)
        return cls(coef, area, mirror_area, skin_triangles(triangles))


def triangle_weights(maps: MirrorMaps, target: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """(T + 1,) how much of each triangle's texture comes from its mirror for target points (478, >=2).

    A skin triangle takes the mirror's texture when it is shown much larger than it is in the portrait
    (:data:`STRETCH_FROM`..:data:`STRETCH_FULL` times its area) and its mirror triangle, shown in its
    place, would be stretched less (fully from 1.4 times less): a turn stretches one side, an expression
    both alike."""
    d = np.asarray(target, np.float64)[:, :2][triangles]
    shown = np.abs(np.linalg.det(np.concatenate([d, np.ones((len(triangles), 3, 1))], axis=2))) / 2
    stretch = shown / np.maximum(maps.area, 1e-3)
    mirror_stretch = shown / np.maximum(maps.mirror_area, 1e-3)
    w = np.clip((stretch - STRETCH_FROM) / (STRETCH_FULL - STRETCH_FROM), 0.0, 1.0)
    w *= np.clip((stretch / np.maximum(mirror_stretch, 1e-6) - 1.1) / 0.3, 0.0, 1.0)
    w *= maps.skin
    return np.append(w, 0.0).astype(np.float32)


def fill_stretched(
    frame: np.ndarray,
    source: np.ndarray,
    cover: FaceCover,
    maps: MirrorMaps,
    target: np.ndarray,
    field_to_output: float,
    face_width_px: float,
) -> np.ndarray:
    """``frame`` (the warped portrait, BGR uint8) with the fine texture of its stretched triangles taken
    from their mirrors in ``source`` (the portrait, BGR uint8). Returns ``frame`` itself when nothing is
    stretched."""
    weights = triangle_weights(maps, target, cover.triangles)
    if not (weights > 0).any():
        return frame
    raw = weights[cover.ids]
    if not (raw > 0).any():
        return frame
    # Fade out towards the face outline: there the mirror triangle's edge lies on the other side's hair or
    # background, whose contrast is not skin texture. Soften across triangle edges (1 % of a face width).
    px_per_fw = face_width_px / field_to_output
    inside = (cover.ids < len(cover.triangles)).astype(np.uint8)
    margin = max(1, round(EDGE_MARGIN * px_per_fw))
    inner = cv2.erode(inside, np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)).astype(np.float32)
    field_w = cv2.GaussianBlur(raw * inner, (0, 0), max(1.0, 0.01 * px_per_fw)) * inside
    teeth_w = _teeth_weight(cover, raw, target, field_to_output, px_per_fw)
    ys, xs = cover.roi
    h, w = frame.shape[:2]
    either = np.maximum(field_w, teeth_w)
    rows = np.nonzero(either.max(1) > 1e-3)[0]
    cols = np.nonzero(either.max(0) > 1e-3)[0]
    if len(rows) == 0:
        return frame
    fy0, fy1 = rows[0], rows[-1] + 1
    fx0, fx1 = cols[0], cols[-1] + 1
    y0 = max(0, int(np.floor((ys.start + fy0) * field_to_output)))
    y1 = min(h, int(np.ceil((ys.start + fy1) * field_to_output)))
    x0 = max(0, int(np.floor((xs.start + fx0) * field_to_output)))
    x1 = min(w, int(np.ceil((xs.start + fx1) * field_to_output)))
    if y1 <= y0 or x1 <= x0:
        return frame
    size = (x1 - x0, y1 - y0)
    sub = (slice(fy0, fy1), slice(fx0, fx1))
    weight = cv2.resize(field_w[sub], size, interpolation=cv2.INTER_LINEAR)
    # Where each field pixel's mirror samples the portrait (only over the weighted box), upsampled like the
    # warp's field: the positions are smooth inside a triangle.
    c = maps.coef[cover.ids[sub]]
    px, py = cover.source_x[sub], cover.source_y[sub]
    mirror_x = (px * c[..., 0] + py * c[..., 2] + c[..., 4]).astype(np.float32)
    mirror_y = (px * c[..., 1] + py * c[..., 3] + c[..., 5]).astype(np.float32)
    map_x = cv2.resize(mirror_x, size, interpolation=cv2.INTER_LINEAR)
    map_y = cv2.resize(mirror_y, size, interpolation=cv2.INTER_LINEAR)
    mirror = cv2.remap(source, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    sigma = max(1.0, DETAIL_SIGMA * face_width_px)
    region = frame[y0:y1, x0:x1].astype(np.float32)
    # The mirror's detail minus the frame's (each image minus its blur): blurring is linear, so one blur
    # of the difference does it.
    diff = mirror.astype(np.float32) - region
    change = np.clip(diff - cv2.GaussianBlur(diff, (0, 0), sigma), -DETAIL_LIMIT, DETAIL_LIMIT)
    mixed = region + weight[..., None] * change
    if teeth_w.any():
        # The teeth take the face's smooth colour around them (covered pixels only): no texture, no blobs.
        tw = cv2.resize(teeth_w[sub], size, interpolation=cv2.INTER_LINEAR)
        face = cv2.resize(inside[sub].astype(np.float32), size, interpolation=cv2.INTER_NEAREST)
        face *= tw < 0.05
        fill_sigma = max(1.0, TEETH_SIGMA * face_width_px)
        smooth = np.dstack([masked_average(mixed[..., k], face, fill_sigma)[0] for k in range(3)])
        mixed += tw[..., None] * (smooth - mixed)
    out = frame.copy()
    out[y0:y1, x0:x1] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
    return out


def _teeth_weight(
    cover: FaceCover, raw: np.ndarray, target: np.ndarray, field_to_output: float, px_per_fw: float
) -> np.ndarray:
    """(field h, w) float32: how much of the face's smooth colour the teeth of the cover take. On the far
    side of a three-quarter face some cheek points lie just outside the face outline and their triangles
    are left out of the mesh, so the cover's outline has teeth: 1-2 portrait pixels the smooth outer field
    fills, which a turn stretches into a column of blobs down the cheek. Pixels inside the target's outline
    that no triangle covers take the weight of the stretched triangles next to them (none at rest)."""
    ys, xs = cover.roi
    outline = np.asarray(target, np.float64)[list(regions.region("face_oval")), :2]
    pts = np.round(((outline + 0.5) / field_to_output - 0.5 - (xs.start, ys.start)) * 16).astype(np.int32)
    oval = np.zeros(cover.ids.shape, np.uint8)
    cv2.fillPoly(oval, [pts], 1, shift=4)
    open_teeth = ((oval > 0) & (cover.ids >= len(cover.triangles))).astype(np.uint8)
    if not open_teeth.any():
        return np.zeros(cover.ids.shape, np.float32)
    # with the edge of the triangles beside them, which samples the same few pixels (dark tails)
    grow = max(1, round(TEETH_GROW * px_per_fw))
    teeth = cv2.dilate(open_teeth, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)).astype(np.float32) * oval
    reach = max(1, round(TEETH_REACH * px_per_fw))
    near = cv2.dilate(raw.astype(np.float32), np.ones((2 * reach + 1, 2 * reach + 1), np.uint8))
    return cv2.GaussianBlur(near * teeth, (0, 0), 1.0) * (oval > 0)
