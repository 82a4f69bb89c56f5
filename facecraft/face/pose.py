"""Head pose angles from the landmarker's facial transformation matrix."""

from __future__ import annotations

import numpy as np


def euler_from_matrix(matrix: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from a 4x4 (or 3x3) head rotation.

    Conventions as seen in the image: yaw > 0 when the face turns towards the image's right,
    pitch > 0 when the face tilts up, roll > 0 when the head tilts clockwise in the image.
    """
    r = np.asarray(matrix, np.float64)[:3, :3]
    # MediaPipe's canonical face looks down +z with y up; decompose R = Ry(yaw) Rx(pitch) Rz(roll).
    pitch = np.degrees(np.arcsin(np.clip(-r[1, 2], -1.0, 1.0)))
    yaw = np.degrees(np.arctan2(r[0, 2], r[2, 2]))
    roll = np.degrees(np.arctan2(r[1, 0], r[1, 1]))
    return float(yaw), float(-pitch), float(-roll)
