"""``rct``: Reinhard colour transfer (Reinhard et al. 2001) — match mean and spread per channel in CIE LAB."""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.swap.color.base import ColorTransfer, register


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
        out = (lab - source[:3]) * scale.astype(np.float32) + target[:3].astype(np.float32)
        out[..., 0] = np.clip(out[..., 0], 0, 100)
        return _bgr(out.astype(np.float32))
