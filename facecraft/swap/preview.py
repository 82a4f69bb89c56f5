"""Side-by-side review images: original | swapped."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def side_by_side(original: np.ndarray, swapped: np.ndarray) -> np.ndarray:
    """(H, 2W, 3) BGR uint8: ``original`` on the left, ``swapped`` on the right (both (H, W, 3))."""
    if original.shape != swapped.shape:
        raise ValueError(f"preview halves differ: {original.shape} vs {swapped.shape}")
    return np.ascontiguousarray(np.concatenate([original, swapped], axis=1))


def preview_path(output: Path) -> Path:
    """Where the preview of ``output`` goes: next to it, named ``<stem>_preview<suffix>``."""
    return output.with_name(f"{output.stem}_preview{output.suffix}")
