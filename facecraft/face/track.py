"""Following faces from frame to frame: box overlap first, identity embedding to confirm.

The tracker is a small state machine over plain data; :meth:`Tracker.to_json` and
:meth:`Tracker.from_json` let an interrupted extraction resume with the exact same tracks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from facecraft.face.identity import PAIR_MATCH
from facecraft.face.smooth import OneEuroState, one_euro

Box = tuple[float, float, float, float]


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax2, bx2) - max(a[0], b[0]))
    ih = max(0.0, min(ay2, by2) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


@dataclass
class Track:
    id: int
    bbox: Box
    last_frame: int
    embedding: np.ndarray | None = None  # running mean of SFace embeddings, L2-normalised
    embedded_frame: int = -(10**9)
    smooth: OneEuroState | None = None
    score: float = 0.0  # the last detector confidence

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "bbox": list(self.bbox),
            "last_frame": self.last_frame,
            "embedding": None if self.embedding is None else self.embedding.tolist(),
            "embedded_frame": self.embedded_frame,
            "smooth": None if self.smooth is None else self.smooth.to_json(),
            "score": self.score,
        }

    @classmethod
    def from_json(cls, d: dict) -> Track:
        return cls(
            int(d["id"]),
            tuple(d["bbox"]),
            int(d["last_frame"]),
            None if d["embedding"] is None else np.array(d["embedding"], np.float32),
            int(d["embedded_frame"]),
            None if d["smooth"] is None else OneEuroState.from_json(d["smooth"]),
            float(d["score"]),
        )

    def add_embedding(self, emb: np.ndarray, frame: int) -> None:
        mixed = emb if self.embedding is None else 0.7 * self.embedding + 0.3 * emb
        self.embedding = (mixed / max(float(np.linalg.norm(mixed)), 1e-8)).astype(np.float32)
        self.embedded_frame = frame

    def same_person(self, emb: np.ndarray) -> bool:
        # The track's embedding is its last few faces (0.7/0.3 running mix), so this compares a face with a
        # face from the same clip: the face-vs-face threshold (same person, same clip: 0.44 and up).
        return self.embedding is None or float(self.embedding @ emb) >= PAIR_MATCH


@dataclass
class Tracker:
    """Active tracks of one video. ``max_gap`` frames without a face end a track."""

    id_base: int = 0
    max_gap: int = 10
    next_id: int = 0
    tracks: list[Track] = field(default_factory=list)

    def active(self, frame: int) -> list[Track]:
        self.tracks = [t for t in self.tracks if frame - t.last_frame <= self.max_gap]
        return list(self.tracks)

    def match(self, box: Box, taken: set[int], min_iou: float = 0.3) -> Track | None:
        """The untaken track whose box overlaps ``box`` most (at least ``min_iou``)."""
        best, best_iou = None, min_iou
        for t in self.tracks:
            if t.id in taken:
                continue
            o = iou(t.bbox, box)
            if o >= best_iou:
                best, best_iou = t, o
        return best

    def new_track(self, box: Box, frame: int) -> Track:
        t = Track(self.id_base + self.next_id, box, frame)
        self.next_id += 1
        self.tracks.append(t)
        return t

    def drop(self, track: Track) -> None:
        self.tracks = [t for t in self.tracks if t.id != track.id]

    def smooth_landmarks(self, track: Track, landmarks: np.ndarray, t: float) -> np.ndarray:
        size = float(max(track.bbox[2], track.bbox[3]))
        value, track.smooth = one_euro(landmarks, t, size, track.smooth)
        return value.astype(np.float32)

    def to_json(self) -> dict[str, object]:
        return {
            "id_base": self.id_base,
            "max_gap": self.max_gap,
            "next_id": self.next_id,
            "tracks": [t.to_json() for t in self.tracks],
        }

    @classmethod
    def from_json(cls, d: dict) -> Tracker:
        return cls(
            int(d["id_base"]), int(d["max_gap"]), int(d["next_id"]), [Track.from_json(t) for t in d["tracks"]]
        )
