"""Mask methods. Each lives in its own module and registers itself on import."""

from facecraft.swap.mask import both, landmarks, learned, parse, parse_learned  # noqa: F401  (registration)
from facecraft.swap.mask.base import MaskMethod, get_mask, list_masks

__all__ = ["MaskMethod", "get_mask", "list_masks"]
