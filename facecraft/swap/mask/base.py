"""Face masks in aligned space: which pixels of the generated face replace the frame's.

A method turns the aligned landmarks (and the model's learned mask) into a float32 (S, S) mask in 0..1;
:mod:`facecraft.swap.mask.refine` then cuts out kept regions and erodes, dilates and feathers it.
"""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.face.regions import polygon
from facecraft.registry import Registry


class MaskMethod:
    """Base class. Subclasses implement :meth:`make`."""

    name = "base"
    needs_parser = False
    """True when :meth:`make` needs ``parsed_face`` (see facecraft.swap.parsing)."""

    def make(
        self,
        aligned_landmarks: np.ndarray,
        learned: np.ndarray | None,
        size: int,
        parsed_face: np.ndarray | None = None,
    ) -> np.ndarray:
        """(size, size) float32 mask in 0..1 from (478, >=2) aligned landmarks (pixels), the model's
        learned (size, size) mask in 0..1 (None when the model has none) and, for methods that need it,
        the parser's (size, size) face map in 0..1."""
        raise NotImplementedError


MASKS: Registry[type[MaskMethod]] = Registry("mask method")
register = MASKS.register


def list_masks() -> list[str]:
    """Names of the mask methods."""
    return MASKS.names()


def get_mask(name: str) -> MaskMethod:
    """A mask method by name; FacecraftError for an unknown one."""
    return MASKS.get(name)()


def region_mask(aligned_landmarks: np.ndarray, size: int, names: tuple[str, ...]) -> np.ndarray:
    """uint8 (size, size) mask, 255 inside the union of the named mesh regions (see face.regions)."""
    mask = np.zeros((size, size), np.uint8)
    polys = [np.round(polygon(aligned_landmarks, n) * 16).astype(np.int32) for n in names]
    cv2.fillPoly(mask, polys, 255, lineType=cv2.LINE_8, shift=4)
    return mask
