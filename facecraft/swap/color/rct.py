"""``rct``: Reinhard colour transfer (Reinhard et al. 2001) — match mean and spread per channel in CIE LAB.

Two guards keep a face's shadows the colour of shadows. The shift of the chroma means (a, b) is applied in
proportion to a pixel's lightness relative to the skin's (in full from the skin's lightness up), as a gain
on the light would act: added to every pixel alike, the shift that takes a brown face to a pale pink one
turned its dark brows and eye sockets blue-grey. And the chroma spread's scale is held within
:data:`CHROMA_SCALE`: a very even skin on one side made a huge factor that threw dark features far off.
"""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.swap.color.base import ColorTransfer, register

CHROMA_SCALE = (0.5, 2.0)
"""Least and most the spread of a and b may be scaled by."""


def _lab(bgr: np.ndarray) -> np.ndarray:
    """float32 BGR 0..255 (any leading shape, last axis 3) -> float32 LAB (L 0..100, a/b about -127..127)."""
    flat = np.ascontiguousarray(bgr.reshape(-1, 1, 3), np.float32) / 255.0
    return cv2.cvtColor(np.clip(flat, 0, 1), cv2.COLOR_BGR2LAB).reshape(bgr.shape)


def _bgr(lab: np.ndarray) -> np.ndarray:
    flat = np.ascontiguousarray(lab.reshape(-1, 1, 3), np.float32)
    return cv2.cvtColor(flat, cv2.COLOR_LAB2BGR).reshape(lab.shape) * 255.0


@register("rct")
class ReinhardTransfer(ColorTransfer):
    """Statistics: LAB mean (3) and standard deviation (3)."""

    name = "rct"

    def stats(self, pixels: np.ndarray) -> np.ndarray:
        lab = _lab(pixels).astype(np.float64)
        return np.concatenate([lab.mean(0), lab.std(0)])

    def apply(self, face: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
        scale = target[3:] / np.maximum(source[3:], 1e-3)
        scale[1:] = np.clip(scale[1:], *CHROMA_SCALE)
        out = (_lab(face) - source[:3].astype(np.float32)) * scale.astype(np.float32)
        out[..., 0] = np.clip(out[..., 0] + np.float32(target[0]), 0, 100)
        light = np.clip(out[..., 0:1] / max(float(target[0]), 1.0), 0.0, 1.0)
        src, dst = source[1:3].astype(np.float32), target[1:3].astype(np.float32)
        out[..., 1:] += src + (dst - src) * light
        return _bgr(out)
