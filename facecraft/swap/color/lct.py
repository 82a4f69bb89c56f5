"""``lct``: linear colour transfer — match mean and full 3x3 covariance with x' = Ct^1/2 Cs^-1/2 (x - ms) + mt."""

from __future__ import annotations

import numpy as np

from facecraft.swap.color.base import GaussianTransfer, register, sqrtm_psd


@register("lct")
class LinearTransfer(GaussianTransfer):
    """The symmetric (principal-axis) map between the two covariances."""

    name = "lct"

    def matrix(self, cs: np.ndarray, ct: np.ndarray) -> np.ndarray:
        return sqrtm_psd(ct) @ sqrtm_psd(cs, inverse=True)
