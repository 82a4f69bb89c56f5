"""``mkl``: Monge-Kantorovich linear transfer (Pitié & Kokaram 2007).

The linear map that takes the source Gaussian to the target one while moving colours the least:
A = Cs^-1/2 (Cs^1/2 Ct Cs^1/2)^1/2 Cs^-1/2, x' = A (x - ms) + mt.
"""

from __future__ import annotations

import numpy as np

from facecraft.swap.color.base import ColorTransfer, mean_cov, register, split_mean_cov, sqrtm_psd


@register("mkl")
class MongeKantorovichTransfer(ColorTransfer):
    """Statistics: BGR mean (3) and covariance (9)."""

    name = "mkl"

    def stats(self, pixels: np.ndarray) -> np.ndarray:
        return mean_cov(pixels)

    def apply(self, face: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
        ms, cs = split_mean_cov(source)
        mt, ct = split_mean_cov(target)
        cs_half, cs_inv_half = sqrtm_psd(cs), sqrtm_psd(cs, inverse=True)
        a = cs_inv_half @ sqrtm_psd(cs_half @ ct @ cs_half) @ cs_inv_half
        return ((face.reshape(-1, 3) - ms) @ a.T + mt).reshape(face.shape).astype(np.float32)
