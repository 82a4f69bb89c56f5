"""Face detection with YuNet (OpenCV FaceDetectorYN)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facecraft.assets import asset_path


@dataclass(frozen=True)
class Detection:
    """A detected face: ``bbox`` (x, y, w, h) in frame pixels, confidence 0..1 and five points
    (image-left eye, image-right eye, nose, mouth left, mouth right) in frame pixels."""

    bbox: tuple[float, float, float, float]
    score: float
    points: np.ndarray  # (5, 2)


class FaceDetector:
    """YuNet face detector. Frames larger than ``max_side`` are downscaled for detection only."""

    def __init__(
        self,
        score_threshold: float = 0.6,
        nms_threshold: float = 0.3,
        max_side: int = 1280,
        min_face: int = 24,
    ):
        self.max_side = max_side
        self.min_face = min_face
        self._net = cv2.FaceDetectorYN.create(
            str(asset_path("yunet")), "", (320, 320), score_threshold, nms_threshold, 5000
        )

    def detect(self, frame: np.ndarray) -> list[Detection]:
        """Faces in a BGR frame, largest first."""
        h, w = frame.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        small = (
            frame
            if scale == 1.0
            else cv2.resize(frame, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        )
        self._net.setInputSize((small.shape[1], small.shape[0]))
        _, faces = self._net.detect(small)
        if faces is None:
            return []
        out = []
        for f in faces:
            f = f.astype(np.float64) / np.r_[[scale] * 14, 1.0]
            x, y, bw, bh = f[:4]
            if min(bw, bh) < self.min_face:
                continue
            out.append(Detection((x, y, bw, bh), float(f[14]), f[4:14].reshape(5, 2)))
        return sorted(out, key=lambda d: -d.bbox[2] * d.bbox[3])
