"""Where the faces are, for the face-aware watermark: facecraft's YuNet detector on a downscaled frame.

The watermark is lowered inside an ellipse around each face (:data:`watermark.FACE_SHARE`) so that it
changes the face's identity features less. Video frames are looked at every :data:`DETECT_EVERY` frames
of each frame size and the boxes are kept in between; a still is looked at once. Detection is deterministic:
the same frames in the same order give the same boxes (rounded to whole pixels).

A frame identical to the one before it keeps that frame's boxes (it is never looked at again), so a held
frame (a frame-rate conversion repeats frames) is labelled exactly as the frame it repeats.

A resumed swap starts a new labeller at a segment boundary; its frames are labelled exactly as in an
uninterrupted run when the segment length is a multiple of :data:`DETECT_EVERY` (the default 50 frames is),
unless the segment's first frame repeats the one before it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from facecraft.provenance.watermark import FaceBox

if TYPE_CHECKING:
    from facecraft.face.detect import FaceDetector

DETECT_EVERY = 5
"""Video frames of one size are looked at for faces every this many frames (boxes kept in between)."""
VIDEO_SIDE = 320
"""Video frames are downscaled to this long side for detection (a face too small there keeps the full mark)."""
STILL_SIDE = 640
"""Stills are looked at once, at this long side."""


class FaceLocator:
    """Face boxes for each frame of a stream, per frame size (a stage may interleave two streams).

    ``every``: detect on the first frame of each size and every ``every``-th after it; ``side``: the long
    side the frame is shrunk to for detection.
    """

    def __init__(self, every: int = DETECT_EVERY, side: int = VIDEO_SIDE):
        if every < 1 or side < 64:
            raise ValueError(f"face detection every {every} frames at {side} px is not possible")
        self.every, self.side = every, side
        self._detector: FaceDetector | None = None
        self._state: dict[tuple[int, int], tuple[int, tuple[FaceBox, ...]]] = {}
        self._last: dict[tuple[int, int], np.ndarray] = {}  # the previous frame of each size
        self.detections = 0
        """How many frames were looked at (for tests and cost accounting)."""

    def boxes(self, frame: np.ndarray) -> tuple[FaceBox, ...]:
        """(x, y, w, h) boxes in frame pixels of the faces in (or last seen before) ``frame``."""
        h, w = frame.shape[:2]
        count, found = self._state.get((w, h), (0, ()))
        previous = self._last.get((w, h))
        held = previous is not None and np.array_equal(previous, frame)
        if count % self.every == 0 and not held:
            found = self._detect(frame)
        self._state[(w, h)] = (count + 1, found)
        self._last[(w, h)] = frame.copy()
        return found

    def _detect(self, frame: np.ndarray) -> tuple[FaceBox, ...]:
        if self._detector is None:
            from facecraft.face.detect import FaceDetector  # lazy: verify never needs it

            self._detector = FaceDetector(max_side=self.side)
        self.detections += 1
        return tuple(
            (float(round(x)), float(round(y)), float(round(bw)), float(round(bh)))
            for x, y, bw, bh in (d.bbox for d in self._detector.detect(frame))
        )
