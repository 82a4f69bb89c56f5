"""``lct``: linear colour transfer — match mean and full 3x3 covariance with x' = Ct^1/2 Cs^-1/2 (x - ms) + mt."""

from __future__ import annotations

import numpy as np

from facecraft.swap.color.base import ColorTransfer, mean_cov, register, split_mean_cov, sqrtm_psd


@register("lct")
class LinearTransfer(ColorTransfer):
    """Statistics: BGR mean (3) and covariance (9). The map is the symmetric (principal-axis) one."""

    name = "lct"

    def stats(self, pixels: np.ndarray) -> np.ndarray:
        return mean_cov(pixels)

    def apply(self, face: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
        ms, cs = split_mean_cov(source)
        mt, ct = split_mean_cov(target)
        a = sqrtm_psd(ct) @ sqrtm_psd(cs, inverse=True)
        return ((face.reshape(-1, 3) - ms) @ a.T + mt).reshape(face.shape).astype(np.float32)
