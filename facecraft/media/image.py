"""Reading photos as BGR uint8 arrays."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facecraft.errors import FacecraftError


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
