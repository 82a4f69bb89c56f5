"""Similarity alignment of a face onto a canonical template (Umeyama), at a chosen coverage.

The template is the widely used five-point face layout (eye centres, nose tip, mouth corners) in a
unit square; a coverage zooms out around the face so more of the head is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facecraft.errors import FacecraftError
from facecraft.face import regions

# Five-point template in a unit square: image-left eye, image-right eye, nose tip, mouth corners.
# (The standard 112x112 recognition layout, divided by 112.)
TEMPLATE_5 = np.array(
    [[0.3419, 0.4616], [0.6565, 0.4598], [0.5002, 0.6405], [0.3710, 0.8247], [0.6315, 0.8232]],
    dtype=np.float64,
)

#: coverage name -> (zoom, vertical shift of the template centre). zoom < 1 shows more around the face.
COVERAGES: dict[str, tuple[float, float]] = {
    "face": (1.0, 0.0),  # eyes to chin, cheek to cheek: what recognition models see
    "whole_face": (0.72, -0.06),  # forehead and jaw line included: the usual face-swap crop
    "head": (0.52, -0.04),  # hair and ears too
}


def template(coverage: str, size: int) -> np.ndarray:
    """(5, 2) template points in pixels for an aligned image of ``size`` pixels."""
    if coverage not in COVERAGES:
        raise FacecraftError(f"unknown coverage {coverage!r}; choose one of {', '.join(COVERAGES)}")
    zoom, shift = COVERAGES[coverage]
    centre = np.array([0.5, 0.5])
    pts = centre + (TEMPLATE_5 - centre) * zoom + np.array([0.0, shift * zoom])
    return pts * size


def five_points(landmarks: np.ndarray) -> np.ndarray:
    """The five template points (eye centres from the eye corners, nose tip, mouth corners) of a mesh.

    Eye centres are taken from the corners, not the iris, so gaze does not move the alignment.
    """
    lm = landmarks[:, :2].astype(np.float64)
    return np.stack(
        [
            lm[list(regions.LEFT_EYE_CORNERS)].mean(0),
            lm[list(regions.RIGHT_EYE_CORNERS)].mean(0),
            lm[regions.NOSE_TIP],
            lm[regions.MOUTH_LEFT],
            lm[regions.MOUTH_RIGHT],
        ]
    )


def umeyama(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity transform (rotation, uniform scale, translation) taking ``src`` to ``dst``.

    src, dst: (N, 2) points. Returns the 2x3 matrix M with dst ~= M[:, :2] @ src + M[:, 2]
    (Umeyama 1991, with the reflection correction).
    """
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    sign = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1
    rot = u @ np.diag(sign) @ vt
    var_s = (s**2).sum() / len(src)
    scale = float((sig * sign).sum() / var_s) if var_s > 0 else 1.0
    m = np.zeros((2, 3))
    m[:, :2] = scale * rot
    m[:, 2] = mu_d - m[:, :2] @ mu_s
    return m


@dataclass(frozen=True)
class Alignment:
    """Where a face sits in its frame: the frame->aligned affine at ``size`` pixels."""

    affine: np.ndarray  # (2, 3) float64
    size: int

    @property
    def inverse(self) -> np.ndarray:
        return cv2.invertAffineTransform(self.affine)

    def warp(self, frame: np.ndarray, interpolation: int = cv2.INTER_AREA) -> np.ndarray:
        """Cut the aligned face out of ``frame`` (H, W, C), replicating edges beyond the frame."""
        scale = float(np.sqrt(abs(np.linalg.det(self.affine[:, :2]))))
        interp = interpolation if scale < 1.0 else cv2.INTER_CUBIC
        return cv2.warpAffine(
            frame, self.affine, (self.size, self.size), flags=interp, borderMode=cv2.BORDER_REPLICATE
        )

    def to_aligned(self, points: np.ndarray) -> np.ndarray:
        """Map (N, >=2) frame points to aligned pixels."""
        return transform_points(self.affine, points)

    def to_frame(self, points: np.ndarray) -> np.ndarray:
        """Map (N, 2) aligned points back to frame pixels."""
        return transform_points(self.inverse, points)


def transform_points(affine: np.ndarray, points: np.ndarray) -> np.ndarray:
    pts = np.asarray(points, np.float64)[:, :2]
    return pts @ affine[:, :2].T + affine[:, 2]


def align(landmarks: np.ndarray, size: int, coverage: str = "whole_face") -> Alignment:
    """Alignment of the face with mesh ``landmarks`` (478, >=2, frame pixels)."""
    return Alignment(umeyama(five_points(landmarks), template(coverage, size)), size)
