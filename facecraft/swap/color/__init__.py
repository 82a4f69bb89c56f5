"""Colour-transfer methods. Each lives in its own module and registers itself on import."""

from facecraft.swap.color import hist, lct, mkl, none, rct  # noqa: F401  (registration)
from facecraft.swap.color.base import ColorTransfer, get_color, list_colors

__all__ = ["ColorTransfer", "get_color", "list_colors"]
