"""Blending: composite a warped face into the frame under a soft mask.

Every method works on a region of the frame; pixels where the mask is 0 are always returned unchanged
(the base class enforces it), so a blend never touches anything outside the face.
"""

from __future__ import annotations

import numpy as np

from facecraft.registry import Registry


class Blender:
    """Base class. Subclasses implement :meth:`combine`."""

    name = "base"

    def combine(self, background: np.ndarray, face: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 background and face, (H, W) float32 mask in 0..1 -> (H, W, 3) uint8."""
        raise NotImplementedError

    def blend(self, background: np.ndarray, face: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Composite ``face`` over ``background`` (both BGR uint8 (H, W, 3)) where ``mask`` (H, W, 0..1) > 0."""
        if background.shape != face.shape or background.shape[:2] != mask.shape:
            raise ValueError(f"blend shapes differ: {background.shape}, {face.shape}, {mask.shape}")
        inside = mask > 0
        if not inside.any():
            return background
        out = self.combine(background, face, mask.astype(np.float32))
        return np.where(inside[..., None], out, background)


BLENDERS: Registry[type[Blender]] = Registry("blend method")
register = BLENDERS.register


def list_blends() -> list[str]:
    """Names of the blending methods."""
    return BLENDERS.names()


def get_blend(name: str) -> Blender:
    """A blending method by name; FacecraftError for an unknown one."""
    return BLENDERS.get(name)()


def alpha_blend(background: np.ndarray, face: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """mask * face + (1 - mask) * background, rounded to uint8."""
    m = mask[..., None]
    out = face.astype(np.float32) * m + background.astype(np.float32) * (1.0 - m)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
