"""478-point face mesh, 52 blendshapes and head pose with MediaPipe FaceLandmarker, run on a crop.

Running the landmarker on a square crop around a known face (from the detector or from the face's
position in the previous frame) lets it see small faces at a good resolution and lets several faces
in one frame be measured one by one.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import cv2
import numpy as np

from facecraft.assets import asset_path
from facecraft.errors import FacecraftError
from facecraft.face.pose import euler_from_matrix
from facecraft.face.regions import import_mediapipe_vision

CROP_SIZE = 256
CROP_MARGIN = 1.6  # crop side / face box side


@dataclass(frozen=True)
class Mesh:
    """Landmarks (478, 3) in frame pixels (z in the same scale, larger = farther), blendshape
    scores (52,) in 0..1, the 4x4 head transform and (yaw, pitch, roll) in degrees."""

    landmarks: np.ndarray
    blendshapes: np.ndarray
    matrix: np.ndarray
    pose: tuple[float, float, float]

    def bbox(self) -> tuple[float, float, float, float]:
        lo, hi = self.landmarks[:, :2].min(0), self.landmarks[:, :2].max(0)
        return float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1])


#: The 52 blendshape scores in the order the landmarker gives them and facesets store them
#: (ARKit names). Checked against the model's own output on every result.
BLENDSHAPE_NAMES: tuple[str, ...] = (
    "_neutral",
    "browDownLeft",
    "browDownRight",
    "browInnerUp",
    "browOuterUpLeft",
    "browOuterUpRight",
    "cheekPuff",
    "cheekSquintLeft",
    "cheekSquintRight",
    "eyeBlinkLeft",
    "eyeBlinkRight",
    "eyeLookDownLeft",
    "eyeLookDownRight",
    "eyeLookInLeft",
    "eyeLookInRight",
    "eyeLookOutLeft",
    "eyeLookOutRight",
    "eyeLookUpLeft",
    "eyeLookUpRight",
    "eyeSquintLeft",
    "eyeSquintRight",
    "eyeWideLeft",
    "eyeWideRight",
    "jawForward",
    "jawLeft",
    "jawOpen",
    "jawRight",
    "mouthClose",
    "mouthDimpleLeft",
    "mouthDimpleRight",
    "mouthFrownLeft",
    "mouthFrownRight",
    "mouthFunnel",
    "mouthLeft",
    "mouthLowerDownLeft",
    "mouthLowerDownRight",
    "mouthPressLeft",
    "mouthPressRight",
    "mouthPucker",
    "mouthRight",
    "mouthRollLower",
    "mouthRollUpper",
    "mouthShrugLower",
    "mouthShrugUpper",
    "mouthSmileLeft",
    "mouthSmileRight",
    "mouthStretchLeft",
    "mouthStretchRight",
    "mouthUpperUpLeft",
    "mouthUpperUpRight",
    "noseSneerLeft",
    "noseSneerRight",
)


def blendshape_names() -> list[str]:
    """The 52 blendshape names in the order stored in facesets."""
    return list(BLENDSHAPE_NAMES)


def crop_affine(
    bbox: tuple[float, float, float, float], margin: float = CROP_MARGIN, size: int = CROP_SIZE
) -> np.ndarray:
    """2x3 affine mapping a square of ``margin`` x the box around its centre onto ``size`` pixels."""
    x, y, w, h = bbox
    side = max(w, h) * margin
    s = size / side
    cx, cy = x + w / 2, y + h / 2
    return np.array([[s, 0.0, size / 2 - s * cx], [0.0, s, size / 2 - s * cy]])


class FaceMesher:
    """MediaPipe FaceLandmarker in image mode. Call :meth:`close` (or use ``with``) when done."""

    def __init__(self) -> None:
        os.environ.setdefault("GLOG_minloglevel", "2")
        vision = import_mediapipe_vision()
        from mediapipe.tasks.python import BaseOptions

        opts = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(asset_path("face_landmarker"))),
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
            num_faces=1,
            min_face_detection_confidence=0.4,
            min_face_presence_confidence=0.4,
            running_mode=vision.RunningMode.IMAGE,
        )
        with _native_stderr_silenced():
            self._landmarker = vision.FaceLandmarker.create_from_options(opts)
            # The graph logs its first-run warnings on the first image; run one now while silenced.
            self._warm_up()

    def _warm_up(self) -> None:
        import mediapipe as mp

        blank = np.zeros((CROP_SIZE, CROP_SIZE, 3), np.uint8)
        self._landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=blank))

    def close(self) -> None:
        self._landmarker.close()

    def __enter__(self) -> FaceMesher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def mesh(self, frame: np.ndarray, bbox: tuple[float, float, float, float]) -> Mesh | None:
        """Mesh of the face inside ``bbox`` (x, y, w, h) of the BGR ``frame``, or None if none is seen."""
        import mediapipe as mp

        a = crop_affine(bbox)
        crop = cv2.warpAffine(
            frame, a, (CROP_SIZE, CROP_SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
        )
        rgb = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)
        result = self._landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))
        if not result.face_landmarks:
            return None
        pts = np.array([(p.x, p.y, p.z) for p in result.face_landmarks[0]], np.float64) * CROP_SIZE
        scale = a[0, 0]
        frame_pts = np.empty_like(pts)
        frame_pts[:, 0] = (pts[:, 0] - a[0, 2]) / scale
        frame_pts[:, 1] = (pts[:, 1] - a[1, 2]) / scale
        frame_pts[:, 2] = pts[:, 2] / scale
        cats = result.face_blendshapes[0]
        if tuple(c.category_name for c in cats) != BLENDSHAPE_NAMES:
            raise FacecraftError(
                "the face landmarker's blendshapes are not the 52 expected; reinstall the pinned models"
            )
        shapes = np.array([c.score for c in cats], np.float32)
        matrix = np.asarray(result.facial_transformation_matrixes[0], np.float64)
        return Mesh(frame_pts.astype(np.float32), shapes, matrix, euler_from_matrix(matrix))


@contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Silence C++ log lines (TFLite/absl) printed to fd 2 while the landmarker graph starts."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
