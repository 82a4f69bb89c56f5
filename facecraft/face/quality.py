"""Image quality of an aligned face: sharpness and brightness."""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.face.regions import polygon

QUALITY_SIZE = 128


def sharpness(aligned_face: np.ndarray) -> float:
    """Variance of the Laplacian of the central face at 128 px (higher = sharper; < ~30 is blurry)."""
    gray = cv2.cvtColor(aligned_face, cv2.COLOR_BGR2GRAY)
    gray = cv2.resize(gray, (QUALITY_SIZE, QUALITY_SIZE), interpolation=cv2.INTER_AREA)
    q = QUALITY_SIZE // 4
    return float(cv2.Laplacian(gray[q:-q, q:-q], cv2.CV_64F).var())


def face_mask(aligned_landmarks: np.ndarray, size: int) -> np.ndarray:
    """uint8 mask (size, size) of the face oval, 255 inside."""
    mask = np.zeros((size, size), np.uint8)
    cv2.fillPoly(mask, [np.round(polygon(aligned_landmarks, "face_oval")).astype(np.int32)], 255)
    return mask


def brightness(aligned_face: np.ndarray, mask: np.ndarray) -> float:
    """Mean CIE L (0..100) of the face pixels under ``mask``."""
    lab = cv2.cvtColor(aligned_face, cv2.COLOR_BGR2LAB)
    values = lab[..., 0][mask > 0]
    if values.size == 0:
        values = lab[..., 0].ravel()
    return float(values.mean()) * 100.0 / 255.0
