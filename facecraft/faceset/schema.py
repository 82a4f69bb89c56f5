"""The faceset's SQLite schema and the record type for one face.

A faceset is a folder with aligned face PNGs under ``faces/`` and ``faceset.db``. Arrays are stored
as little-endian float32/float64 blobs whose shapes are fixed by this module, so any stage can read
them back without pickle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SCHEMA_VERSION = 1
DB_NAME = "faceset.db"
FACES_DIR = "faces"

N_MESH = 478  # MediaPipe FaceLandmarker points
N_BLENDSHAPES = 52
EMBEDDING_DIM = 128  # SFace

#: Track ids are ``source_id * TRACK_ID_STRIDE + n``: stable across resumes and unique in a faceset.
TRACK_ID_STRIDE = 1_000_000


def image_name(source_id: int, frame_index: int, face_index: int) -> str:
    """File name (under faces/) of a face: one per source, frame and face, so a rerun rewrites, not adds."""
    return f"{source_id:04d}_{frame_index:06d}_{face_index:02d}.png"


SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sources (
    id          INTEGER PRIMARY KEY,
    path        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('video', 'image')),
    width       INTEGER,
    height      INTEGER,
    fps         REAL,
    frame_count INTEGER,
    complete    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS frames_done (
    source_id   INTEGER NOT NULL REFERENCES sources(id),
    frame_index INTEGER NOT NULL,
    PRIMARY KEY (source_id, frame_index)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS resume_state (
    source_id INTEGER PRIMARY KEY REFERENCES sources(id),
    state     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS faces (
    id                INTEGER PRIMARY KEY,
    image             TEXT NOT NULL UNIQUE,
    source_id         INTEGER NOT NULL REFERENCES sources(id),
    frame_index       INTEGER NOT NULL,
    timestamp         REAL NOT NULL,
    face_index        INTEGER NOT NULL,
    bbox_x REAL NOT NULL, bbox_y REAL NOT NULL, bbox_w REAL NOT NULL, bbox_h REAL NOT NULL,
    det_score         REAL NOT NULL,
    landmarks         BLOB NOT NULL,
    aligned_landmarks BLOB NOT NULL,
    affine            BLOB NOT NULL,
    yaw REAL NOT NULL, pitch REAL NOT NULL, roll REAL NOT NULL,
    blendshapes       BLOB NOT NULL,
    sharpness         REAL NOT NULL,
    brightness        REAL NOT NULL,
    embedding         BLOB NOT NULL,
    track_id          INTEGER NOT NULL,
    cluster_id        INTEGER NOT NULL DEFAULT -1
);
CREATE INDEX IF NOT EXISTS faces_by_frame ON faces(source_id, frame_index);
"""


@dataclass
class FaceRecord:
    """One aligned face and everything later stages need about it.

    Coordinates are pixels. ``landmarks`` are the 478 mesh points in the source frame (x, y, z; z in
    the same pixel scale as x, positive away from the camera), ``aligned_landmarks`` the same points
    (x, y) in the aligned image, and ``affine`` the 2x3 frame->aligned similarity transform, so that
    ``cv2.warpAffine(frame, affine, (size, size))`` reproduces the aligned face and its inverse pastes
    a face back. Angles are degrees (yaw > 0: the face turns to the image's right; pitch > 0: up).
    ``sharpness`` is the variance of the Laplacian of the aligned face at 128 px; ``brightness``
    the mean L (0..100) over the face oval.
    """

    source_path: str
    frame_index: int
    timestamp: float
    face_index: int
    bbox: tuple[float, float, float, float]
    det_score: float
    landmarks: np.ndarray  # (478, 3) float32
    aligned_landmarks: np.ndarray  # (478, 2) float32
    affine: np.ndarray  # (2, 3) float64
    yaw: float
    pitch: float
    roll: float
    blendshapes: np.ndarray  # (52,) float32
    sharpness: float
    brightness: float
    embedding: np.ndarray  # (128,) float32, L2-normalised
    track_id: int = 0
    cluster_id: int = -1
    image: str = ""  # file name under faces/, set when stored
    id: int = field(default=-1)


def to_blob(array: np.ndarray, dtype: str) -> bytes:
    return np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()


def from_blob(blob: bytes, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape).astype(dtype)


BLOB_LAYOUT: dict[str, tuple[str, tuple[int, ...]]] = {
    "landmarks": ("float32", (N_MESH, 3)),
    "aligned_landmarks": ("float32", (N_MESH, 2)),
    "affine": ("float64", (2, 3)),
    "blendshapes": ("float32", (N_BLENDSHAPES,)),
    "embedding": ("float32", (EMBEDDING_DIM,)),
}
