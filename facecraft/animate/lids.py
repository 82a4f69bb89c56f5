"""Closed eyes drawn as lids, not as a squeezed eyeball.

The mesh's lid points sit inside the eye, on the iris, a little below the lid's real edge; closing them
warps the top of the iris and the white above it down with the lid, and what the closed mesh cannot squeeze
away stays as a white fleck and a dark smear on the closed eye (seen on every blink of the Einstein photo).
As an eye closes, the portrait's eye opening (the face parser's eye classes), moved with the frame, is
filled with the skin around it and a lash line is drawn along the closed lid.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facecraft.animate.expressions import face_axes, lid_points
from facecraft.animate.geometry import eye_openings, face_width
from facecraft.imaging import masked_average

CLOSING = (0.45, 0.15)
"""Lid gap, as a share of the portrait's own, where the fill starts and where it is complete."""
LASH_WIDTH = 0.012
"""Width of the lash line on a closed lid, in face widths."""
SEAM_WIDTH = 0.035
"""Width of the band along a closed lid's seam that is filled with skin before the lashes are drawn."""
LASH_STRENGTH = 0.75
"""How far the lash line goes to the lashes' colour (1: fully)."""


@dataclass(frozen=True)
class EyeOpenings:
    """``mask``: (H, W) float32 0..1, where the portrait shows the eyeballs; ``lash``: BGR colour of its
    darkest eye pixels (lashes, iris); ``openings``: the portrait's lid gaps (image-left, image-right)."""

    mask: np.ndarray
    lash: np.ndarray
    openings: tuple[float, float]

    @classmethod
    def prepare(cls, image: np.ndarray, landmarks: np.ndarray, eyes: np.ndarray) -> EyeOpenings | None:
        """From the portrait (BGR uint8), its mesh and the parser's (H, W) eye probability; None when the
        parser saw no eyes or the portrait's eyes are already closed."""
        openings = eye_openings(landmarks)
        seen = eyes > 0.5
        if seen.sum() < 8 or min(openings) < 0.12:
            return None
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)[seen]
        dark = image[seen][grey <= np.percentile(grey, 15)]
        return cls(eyes.astype(np.float32), np.median(dark, axis=0).astype(np.float32), openings)


def close_lids(
    frame: np.ndarray, eyes: EyeOpenings, map_x: np.ndarray, map_y: np.ndarray, target: np.ndarray
) -> np.ndarray:
    """``frame`` (BGR uint8) with each eye that the ``target`` mesh (478, >=2) closes drawn as a closed lid.
    ``map_x``/``map_y``: the frame's backward map into the portrait."""
    now = eye_openings(target)
    axes = np.stack(face_axes(np.asarray(target, np.float64)))
    fw = face_width(np.asarray(target, np.float64))
    out = frame
    for i, side in enumerate(("left", "right")):
        ratio = now[i] / max(eyes.openings[i], 1e-6)
        closed = float(np.clip((CLOSING[0] - ratio) / (CLOSING[0] - CLOSING[1]), 0.0, 1.0))
        if closed <= 0:
            continue
        closed = closed * closed * (3 - 2 * closed)
        upper, _, corners = lid_points(side)
        points = np.asarray(target, np.float64)[[corners[0], *upper, corners[1]], :2]
        x0, y0 = np.floor(points.min(0) - 0.12 * fw).astype(int)
        x1, y1 = np.ceil(points.max(0) + 0.12 * fw).astype(int)
        h, w = frame.shape[:2]
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 - x0 < 3 or y1 - y0 < 3:
            continue
        if out is frame:
            out = frame.copy()
        crop = out[y0:y1, x0:x1].astype(np.float32)
        seen = cv2.remap(eyes.mask, map_x[y0:y1, x0:x1], map_y[y0:y1, x0:x1], cv2.INTER_LINEAR)
        distance, taper = _along_lid(points - (x0, y0), axes, crop.shape[:2])
        # The lid's own squeezed margin zigzags along the seam: covered too, then the lashes drawn smooth.
        hole = np.maximum(seen, _soft_line(distance, taper, SEAM_WIDTH * fw))
        fill = _fill(crop, hole, max(1.0, 0.03 * fw))
        weight = (hole * closed)[..., None]
        lid = crop * (1 - weight) + fill * weight
        lash = _soft_line(distance, taper, max(1.0, LASH_WIDTH * fw))
        lash = (lash * closed * LASH_STRENGTH)[..., None]
        lid = lid * (1 - lash) + eyes.lash * lash
        out[y0:y1, x0:x1] = np.clip(np.rint(lid), 0, 255).astype(np.uint8)
    return out


def _fill(crop: np.ndarray, hole: np.ndarray, sigma: float) -> np.ndarray:
    """The crop's colours around ``hole`` (0..1) spread smoothly into it (normalised convolution); where
    nothing known is near, a wider blur of the crop."""
    keep = np.clip(1.0 - 2.0 * hole, 0.0, 1.0)
    channels = [masked_average(np.ascontiguousarray(crop[..., c]), keep, sigma) for c in range(3)]
    average = np.dstack([avg for avg, _ in channels])
    density = channels[0][1][..., None]
    return np.where(density > 1e-3, average, cv2.GaussianBlur(crop, (0, 0), 3 * sigma))


def _along_lid(points: np.ndarray, axes: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's distance (H, W) to a parabola through the closed upper lid's ``points`` in the face's
    ``axes`` (2, 2) (a squeezed lid's mesh points zigzag; a distance, not a rasterised thin line, has no
    staircase), and a 0..1 taper that thins lines out towards the lid's corners."""
    u, v = points @ axes[0], points @ axes[1]
    a, b, c = np.polyfit(u, v, 2) if np.ptp(u) > 1e-3 else (0.0, 0.0, float(v.mean()))
    along = np.linspace(u.min(), u.max(), 24)
    curve = (along[:, None] * axes[0] + (a * along**2 + b * along + c)[:, None] * axes[1]).astype(np.float32)
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    p = np.stack([xs.ravel(), ys.ravel()], 1)[:, None, :]  # (P, 1, 2)
    start, step = curve[:-1], curve[1:] - curve[:-1]  # (S, 2) segments
    t = np.clip(((p - start) * step).sum(-1) / np.maximum((step * step).sum(-1), 1e-6), 0.0, 1.0)
    distance = np.sqrt(((p - (start + t[..., None] * step)) ** 2).sum(-1)).min(1).reshape(shape)
    pos = xs * axes[0, 0] + ys * axes[0, 1]
    span = max(float(u.max() - u.min()), 1.0)
    taper = np.clip(np.minimum(pos - u.min(), u.max() - pos) / (0.25 * span), 0.0, 1.0)
    return distance, taper


def _soft_line(distance: np.ndarray, taper: np.ndarray, width: float) -> np.ndarray:
    """(H, W) float32 0..1: a soft line ``width`` pixels wide where ``distance`` is 0, scaled by ``taper``."""
    return (np.exp(-((distance / max(width / 2, 0.5)) ** 2)) * taper).astype(np.float32)
