"""Blending methods. Each lives in its own module and registers itself on import."""

from facecraft.swap.blend import alpha, laplacian, poisson  # noqa: F401  (registration)
from facecraft.swap.blend.base import Blender, get_blend, list_blends

__all__ = ["Blender", "get_blend", "list_blends"]
