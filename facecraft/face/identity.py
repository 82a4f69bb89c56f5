"""Identity embeddings with SFace (OpenCV FaceRecognizerSF): 128-d, compared by cosine similarity."""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.assets import asset_path
from facecraft.face.align import Alignment, umeyama

#: Cosine similarity above which two SFace embeddings are the same person (OpenCV's published value).
SAME_PERSON = 0.363

#: Where SFace expects the five points (eyes, nose tip, mouth corners) in its 112x112 input.
SFACE_TEMPLATE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]]
)


def sface_alignment(five: np.ndarray) -> Alignment:
    """Alignment onto the 112x112 layout SFace was trained on, from five face points (frame pixels)."""
    return Alignment(umeyama(five, SFACE_TEMPLATE), 112)


class IdentityEncoder:
    """SFace embeddings of faces."""

    def __init__(self) -> None:
        self._net = cv2.FaceRecognizerSF.create(str(asset_path("sface")), "")

    def embed(self, frame: np.ndarray, five: np.ndarray) -> np.ndarray:
        """L2-normalised (128,) float32 embedding of the face with five points ``five`` in ``frame``."""
        crop = sface_alignment(five).warp(frame, cv2.INTER_LINEAR)
        feat = self._net.feature(crop).reshape(-1).astype(np.float32)
        return feat / max(float(np.linalg.norm(feat)), 1e-8)


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity between rows of ``a`` (N, D) and ``b`` (M, D) -> (N, M)."""
    a = np.atleast_2d(a).astype(np.float64)
    b = np.atleast_2d(b).astype(np.float64)
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return a @ b.T
