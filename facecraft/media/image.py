"""Reading photos as BGR uint8 arrays."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facecraft.errors import FacecraftError


def has_alpha(path: str | Path) -> bool:
    """Whether a photo has an alpha channel that is not fully opaque (it is dropped when read as BGR)."""
    if Path(path).suffix.lower() not in (".png", ".webp", ".tif", ".tiff"):
        return False  # formats without transparency: no second decode
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None or image.ndim != 3 or image.shape[2] != 4:
        return False
    opaque = 65535 if image.dtype == np.uint16 else 255
    return bool((image[..., 3] < opaque).any())


def read_image(path: str | Path) -> np.ndarray:
    """Read a photo as BGR uint8 (H, W, 3), applying EXIF orientation; greyscale and RGBA are converted."""
    path = Path(path)
    data = np.fromfile(str(path), dtype=np.uint8) if path.is_file() else None
    if data is None:
        raise FacecraftError(f"{path} does not exist")
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise FacecraftError(f"{path} is not a readable image (corrupt or an unsupported format)")
    return image
