"""``rct``: Reinhard colour transfer (Reinhard et al. 2001) — match mean and spread per channel in CIE LAB.

Lightness (L) is matched as Reinhard did. Colour is matched as chroma per lightness (a / L, b / L), which
a change of skin tone or of light leaves nearly alike over a material's shadows and highlights: the new
face's skin takes the target's mean chroma, and its shadows the same hue at their own, lower lightness.
Matched in a and b directly (as before), the shift that takes a brown face to a pale pink one was added to
every pixel alike, and dark brows and eye sockets turned blue-grey; a share of it kept the source's own
chroma in the shadows, and a black-and-white photo's faint pink turned the demo's eye rims red. The
spread of chroma is scaled by at most :data:`CHROMA_SCALE`: a very even skin on one side made a huge
factor that threw dark features far off.
"""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.swap.color.base import ColorTransfer, register

CHROMA_SCALE = (0.5, 2.0)
"""Least and most the spread of chroma may be scaled by."""
DARK = 5.0
"""Lightness (0..100) under which a pixel's chroma per lightness is taken at this lightness (near-black
pixels would otherwise give huge, noisy ratios)."""


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
        lab = _lab(face)
        scale = target[3:] / np.maximum(source[3:], 1e-3)
        light = lab[..., :1]
        new_light = np.clip(
            (light - np.float32(source[0])) * np.float32(scale[0]) + np.float32(target[0]), 0, 100
        )
        per_source = (source[1:3] / max(float(source[0]), DARK)).astype(np.float32)
        per_target = (target[1:3] / max(float(target[0]), DARK)).astype(np.float32)
        chroma = lab[..., 1:] / np.maximum(light, DARK)
        spread = np.clip(scale[1:], *CHROMA_SCALE).astype(np.float32)
        new_chroma = ((chroma - per_source) * spread + per_target) * np.maximum(new_light, DARK)
        return _bgr(np.concatenate([new_light, new_chroma], axis=-1))
