"""``mkl``: Monge-Kantorovich linear transfer (Pitié & Kokaram 2007).

The linear map that takes the source Gaussian to the target one while moving colours the least:
A = Cs^-1/2 (Cs^1/2 Ct Cs^1/2)^1/2 Cs^-1/2, x' = A (x - ms) + mt.
"""

from __future__ import annotations

import numpy as np

from facecraft.swap.color.base import GaussianTransfer, register, sqrtm_psd


@register("mkl")
class MongeKantorovichTransfer(GaussianTransfer):
    """The least-displacement map between the two colour Gaussians."""

    name = "mkl"

    def matrix(self, cs: np.ndarray, ct: np.ndarray) -> np.ndarray:
        cs_half, cs_inv_half = sqrtm_psd(cs), sqrtm_psd(cs, inverse=True)
        return cs_inv_half @ sqrtm_psd(cs_half @ ct @ cs_half) @ cs_inv_half
