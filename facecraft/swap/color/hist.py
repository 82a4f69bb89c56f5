"""``hist``: masked histogram matching per BGR channel (each channel's distribution becomes the target's)."""

from __future__ import annotations

import numpy as np

from facecraft.swap.color.base import ColorTransfer, register

LEVELS = np.arange(256, dtype=np.float64)


@register("hist")
class HistogramTransfer(ColorTransfer):
    """Statistics: the cumulative distribution of each channel over 256 levels (3 x 256).

    Averaging CDFs over time gives the CDF of the pooled pixels, so smoothing stays meaningful.
    """

    name = "hist"

    def stats(self, pixels: np.ndarray) -> np.ndarray:
        values = np.clip(np.rint(pixels), 0, 255).astype(np.int64)
        cdfs = []
        for c in range(3):
            counts = np.bincount(values[:, c], minlength=256).astype(np.float64)
            cdfs.append(np.cumsum(counts) / counts.sum())
        return np.concatenate(cdfs)

    def apply(self, face: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
        out = np.empty_like(face)
        for c in range(3):
            cdf_s, cdf_t = source[c * 256 : (c + 1) * 256], target[c * 256 : (c + 1) * 256]
            # Level v of the source goes to the target level with the same cumulative share.
            lut = np.interp(cdf_s, _strictly_increasing(cdf_t), LEVELS)
            out[..., c] = np.interp(face[..., c], LEVELS, lut)
        return out


def _strictly_increasing(cdf: np.ndarray) -> np.ndarray:
    """np.interp needs increasing x; flat runs of a CDF (empty levels) get a negligible slope."""
    return cdf + LEVELS * 1e-9
