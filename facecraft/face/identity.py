"""Identity embeddings with SFace (OpenCV FaceRecognizerSF): 128-d, compared by cosine similarity."""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.assets import asset_path
from facecraft.face.align import Alignment, umeyama

# Same-person thresholds for cosines of the int8 SFace model shipped offline, calibrated for what is compared
# (OpenCV's published 0.363 is for two single faces with the fp32 model). Measured on the shared media with
# benchmarks/identity_threshold.py (9 people: photos, five talking-head clips, two paintings, one old photo;
# docs/metrics.md has the distributions). Rule: the cosine a normal fit of the different-person pairs
# exceeds with probability 1e-4, or the highest different-person cosine measured if that is higher, plus
# 0.05 for what nine people cannot show.

SOURCE_MATCH = 0.40
"""A face vs a faceset's identity (the normalised mean of its embeddings). Measured: different people mean
0.065, sd 0.076, max 0.278 (555 pairs; normal-fit 1e-4 point 0.346); the same person from another source
min 0.837 (30 pairs), from the same clip min 0.593 (94). Also used for a mean against a mean (two facesets,
two tracks): averaging both sides only pulls different people towards their mean, so it errs on the side
of keeping people apart; mean-vs-mean pairs were not measured separately."""

PAIR_MATCH = 0.36
"""A face vs one other face. Measured: different people mean 0.055, sd 0.068, max 0.303 (3,712 pairs;
normal-fit 1e-4 point 0.306); the same person from another source min 0.659 (111), from the same clip
min 0.441 (833)."""

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
