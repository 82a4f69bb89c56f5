"""An optional visible label burnt into the pixels, for platforms that require one."""

from __future__ import annotations

import cv2
import numpy as np

DEFAULT_TEXT = "AI-generated"


def draw_visible_label(frame: np.ndarray, text: str = DEFAULT_TEXT) -> np.ndarray:
    """Return a copy of a BGR uint8 frame with ``text`` on a dark box in the bottom-left corner.

    The text height is about 4% of the frame height (at least 10 px).
    """
    out = frame.copy()
    h, w = out.shape[:2]
    font = cv2.FONT_HERSHEY_SIMPLEX
    scale = max(10.0, 0.04 * h) / 22.0  # FONT_HERSHEY_SIMPLEX is ~22 px tall at scale 1
    thickness = max(1, round(scale * 1.5))
    (tw, th), base = cv2.getTextSize(text, font, scale, thickness)
    pad = max(3, th // 3)
    x0, y1 = pad, h - pad
    x1, y0 = min(w, x0 + tw + 2 * pad), max(0, y1 - th - base - 2 * pad)
    box = out[y0:y1, x0:x1]
    out[y0:y1, x0:x1] = (box.astype(np.uint16) * 2 // 5).astype(np.uint8)  # darken to 40%
    cv2.putText(out, text, (x0 + pad, y1 - pad - base), font, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return out
