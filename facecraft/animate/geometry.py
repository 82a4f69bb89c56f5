"""Pure geometry on 478-point face meshes: rigid fits, face size, head pivot, rotations.

All meshes are (478, 3) arrays in pixels (x right, y down, z away from the camera, same scale as x).
"""

from __future__ import annotations

import numpy as np

from facecraft.face import regions

#: Mesh points that move with the skull but hardly with expressions (forehead, nose bridge, eye corners,
#: temples, upper cheek bones). Used to separate head motion from expression.
STABLE_POINTS = (
    10,
    151,
    9,
    8,
    168,
    6,
    197,
    195,
    5,
    4,
    33,
    133,
    362,
    263,
    127,
    356,
    234,
    454,
    109,
    338,
    67,
    297,
    103,
    332,
    116,
    345,
    143,
    372,
    226,
    446,
)
#: Cheek points at the widest part of the face oval (image left, image right).
CHEEKS = (234, 454)


def face_width(landmarks: np.ndarray) -> float:
    """Cheek-to-cheek width of a mesh in pixels (3D distance, so it does not shrink with yaw)."""
    a, b = landmarks[CHEEKS[0]], landmarks[CHEEKS[1]]
    return max(float(np.linalg.norm(a - b)), 1e-6)


def similarity_3d(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares similarity (scale s, rotation R (3, 3), translation t (3,)) with dst ~= s R src + t.

    src, dst: (N, 3). Umeyama 1991 in three dimensions, with the reflection correction.
    """
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    u, sig, vt = np.linalg.svd(d.T @ s / len(src))
    sign = np.ones(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1
    rot = u @ np.diag(sign) @ vt
    var_s = (s**2).sum() / len(src)
    scale = float((sig * sign).sum() / var_s) if var_s > 0 else 1.0
    return scale, rot, mu_d - scale * rot @ mu_s


def head_pivot(landmarks: np.ndarray) -> np.ndarray:
    """(3,) centre the head turns about: the middle of the face, pushed back half a face width."""
    centre = landmarks[list(STABLE_POINTS)].mean(0).astype(np.float64)
    centre[2] += 0.5 * face_width(landmarks)
    return centre


def rotation_vector(rot: np.ndarray) -> np.ndarray:
    """Axis * angle (radians) of a rotation matrix."""
    angle = float(np.arccos(np.clip((np.trace(rot) - 1) / 2, -1.0, 1.0)))
    if angle < 1e-9:
        return np.zeros(3)
    axis = np.array([rot[2, 1] - rot[1, 2], rot[0, 2] - rot[2, 0], rot[1, 0] - rot[0, 1]])
    n = np.linalg.norm(axis)
    if n < 1e-9:  # 180 degrees: take the axis from the symmetric part
        _, v = np.linalg.eigh((rot + np.eye(3)) / 2)
        return v[:, -1] * angle
    return axis / n * angle


def rotation_matrix(rvec: np.ndarray) -> np.ndarray:
    """Rotation matrix of an axis * angle vector (Rodrigues)."""
    angle = float(np.linalg.norm(rvec))
    if angle < 1e-12:
        return np.eye(3)
    k = np.asarray(rvec, np.float64) / angle
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(angle) * kx + (1 - np.cos(angle)) * kx @ kx


def euler_rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Rotation in image axes from degrees: yaw turns about the vertical axis (positive: towards the image's
    right), pitch about the horizontal axis (positive: chin up), roll about the view axis (positive: clockwise)."""
    y, p, r = np.radians([yaw, pitch, roll])
    ry = np.array([[np.cos(y), 0, -np.sin(y)], [0, 1, 0], [np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), np.sin(p)], [0, -np.sin(p), np.cos(p)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rz @ rx @ ry


def mouth_opening(landmarks: np.ndarray) -> float:
    """Inner-lip gap (upper to lower inner lip, pixels)."""
    return float(
        np.linalg.norm(landmarks[regions.UPPER_LIP_INNER, :2] - landmarks[regions.LOWER_LIP_INNER, :2])
    )


def mouth_width(landmarks: np.ndarray) -> float:
    """Corner-to-corner width of the mouth (pixels)."""
    return float(np.linalg.norm(landmarks[regions.MOUTH_RIGHT, :2] - landmarks[regions.MOUTH_LEFT, :2]))


def eye_openings(landmarks: np.ndarray) -> tuple[float, float]:
    """Lid gap of the image-left and the image-right eye divided by its width (about 0.3 open, below 0.1
    closed)."""
    out = []
    for (up, lo), (a, b) in (
        (regions.LEFT_EYE_LIDS, regions.LEFT_EYE_CORNERS),
        (regions.RIGHT_EYE_LIDS, regions.RIGHT_EYE_CORNERS),
    ):
        gap = np.linalg.norm(landmarks[up, :2] - landmarks[lo, :2])
        width = max(float(np.linalg.norm(landmarks[a, :2] - landmarks[b, :2])), 1e-6)
        out.append(float(gap / width))
    return out[0], out[1]


def eye_opening(landmarks: np.ndarray) -> float:
    """Mean lid gap of both eyes divided by the eye widths (about 0.3 open, below 0.1 closed)."""
    return float(np.mean(eye_openings(landmarks)))
