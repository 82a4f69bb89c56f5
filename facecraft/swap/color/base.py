"""Colour transfer: make a generated face take the tone of the face it replaces.

A method reduces the skin pixels of an image to a statistics vector (:meth:`ColorTransfer.stats`) and maps
a face from source to target statistics (:meth:`ColorTransfer.apply`). Keeping statistics as plain vectors
lets the swap average them over time along a track, so the tone does not flicker from frame to frame.
The base class owns the pixel selection, the float conversion and the clipping.
"""

from __future__ import annotations

import numpy as np

from facecraft.errors import FacecraftError
from facecraft.registry import Registry

MIN_PIXELS = 16  # fewer skin pixels than this: statistics are meaningless, leave the colours alone


class ColorTransfer:
    """Base class. Subclasses implement :meth:`stats` and :meth:`apply` on float32 BGR in 0..255."""

    name = "base"

    def stats(self, pixels: np.ndarray) -> np.ndarray:
        """1-D float64 statistics of (N, 3) float32 BGR pixels in 0..255."""
        raise NotImplementedError

    def apply(self, face: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Map (H, W, 3) float32 BGR ``face`` (0..255) with ``source`` statistics to ``target`` statistics."""
        raise NotImplementedError

    # ---- what callers use ----------------------------------------------------------------------
    def measure(self, image: np.ndarray, mask: np.ndarray, stride: int = 1) -> np.ndarray | None:
        """Statistics of the BGR uint8 ``image`` (H, W, 3) over ``mask`` (H, W; > 0 selects), or None
        when the mask holds too few pixels. ``stride``: use every stride-th row and column (faster)."""
        if image.shape[:2] != mask.shape[:2] or image.ndim != 3:
            raise ValueError(f"image {image.shape} and mask {mask.shape} do not match")
        pixels = image[::stride, ::stride][mask[::stride, ::stride] > 0].astype(np.float32)
        if len(pixels) < MIN_PIXELS:
            return None
        return np.asarray(self.stats(pixels), np.float64)

    def transfer(self, face: np.ndarray, source: np.ndarray | None, target: np.ndarray | None) -> np.ndarray:
        """BGR uint8 ``face`` recoloured from ``source`` to ``target`` statistics (unchanged if either is None)."""
        if source is None or target is None:
            return face
        out = self.apply(face.astype(np.float32), source, target)
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)

    def match(
        self, face: np.ndarray, face_mask: np.ndarray, target: np.ndarray, target_mask: np.ndarray
    ) -> np.ndarray:
        """One-shot transfer: recolour ``face`` so its pixels under ``face_mask`` take the statistics of
        ``target`` under ``target_mask``. All images BGR uint8, masks (H, W)."""
        return self.transfer(face, self.measure(face, face_mask), self.measure(target, target_mask))


COLORS: Registry[type[ColorTransfer]] = Registry("colour method")
register = COLORS.register


def list_colors() -> list[str]:
    """Names of the colour-transfer methods."""
    return COLORS.names()


def get_color(name: str) -> ColorTransfer:
    """A colour-transfer method by name; FacecraftError for an unknown one."""
    return COLORS.get(name)()


def sqrtm_psd(c: np.ndarray, inverse: bool = False) -> np.ndarray:
    """Square root (or inverse square root) of a symmetric positive semi-definite 3x3 matrix."""
    w, v = np.linalg.eigh((c + c.T) / 2)
    w = np.maximum(w, 1e-6)
    return (v * (w ** (-0.5 if inverse else 0.5))) @ v.T


def mean_cov(pixels: np.ndarray) -> np.ndarray:
    """[mean (3), covariance (9)] of (N, 3) pixels, with a small ridge so flat patches stay invertible."""
    p = pixels.astype(np.float64)
    cov = np.cov(p, rowvar=False) + np.eye(3) * 1e-2
    return np.concatenate([p.mean(0), cov.ravel()])


def split_mean_cov(stats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if stats.shape != (12,):
        raise FacecraftError("colour statistics have the wrong shape (mixed methods in one run?)")
    return stats[:3], stats[3:].reshape(3, 3)


class GaussianTransfer(ColorTransfer):
    """Colour transfers that move the masked BGR Gaussian (mean 3 + covariance 9) of the face onto the
    target's with a linear map: x' = A (x - ms) + mt. Subclasses give only ``matrix``."""

    def matrix(self, cs: np.ndarray, ct: np.ndarray) -> np.ndarray:
        """The 3x3 map A from source covariance ``cs`` to target covariance ``ct``."""
        raise NotImplementedError

    def stats(self, pixels: np.ndarray) -> np.ndarray:
        return mean_cov(pixels)

    def apply(self, face: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
        ms, cs = split_mean_cov(source)
        mt, ct = split_mean_cov(target)
        a = self.matrix(cs, ct)
        return ((face.reshape(-1, 3) - ms) @ a.T + mt).reshape(face.shape).astype(np.float32)
