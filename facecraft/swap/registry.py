"""Kept for old imports: the registry type now lives in :mod:`facecraft.registry`."""

from facecraft.registry import Registry

__all__ = ["Registry"]
