"""Stand-in face models for the swap tests (test-only; the real model is facecraft.train.inference.FaceModel).

They follow the FaceModel contract: ``identities``, ``size``, ``coverage`` and
``convert(faces (N,S,S,3) uint8, to) -> (faces (N,S,S,3) uint8, masks (N,S,S) float32)``.
"""

from __future__ import annotations

import numpy as np


class TintModel:
    """Returns each face with its colours strongly shifted and a full mask: every swapped pixel is visibly new.

    ``fail_after``: raise on that many-th call (simulates a crash mid-run for the resume test).
    """

    def __init__(self, size: int = 128, coverage: str = "whole_face", fail_after: int | None = None):
        self.identities = ["A", "B"]
        self.size = size
        self.coverage = coverage
        self.fail_after = fail_after
        self.calls = 0
        self.faces_seen = 0

    def convert(self, faces: np.ndarray, to: str) -> tuple[np.ndarray, np.ndarray]:
        self.calls += 1
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise RuntimeError("stand-in model crashed on purpose")
        self.faces_seen += len(faces)
        shift = np.array([60, -40, 30] if to == "A" else [-30, 50, -60], np.int16)
        out = np.clip(faces.astype(np.int16)[..., ::-1] + shift, 0, 255).astype(np.uint8)
        masks = np.ones(faces.shape[:3], np.float32)
        return np.ascontiguousarray(out), masks


class PasteModel:
    """Returns the same aligned face of another person for every input: a crude but real identity change.

    ``face``: (S, S, 3) BGR uint8, aligned at ``size`` with ``coverage`` (e.g. a faceset image).
    """

    def __init__(self, face: np.ndarray, coverage: str = "whole_face"):
        self.identities = ["A"]
        self.size = face.shape[0]
        self.coverage = coverage
        self.face = face

    def convert(self, faces: np.ndarray, to: str) -> tuple[np.ndarray, np.ndarray]:
        out = np.repeat(self.face[None], len(faces), axis=0)
        return out, np.ones(faces.shape[:3], np.float32)
