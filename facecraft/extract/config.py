"""Typed settings of the extract stage."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from facecraft.errors import FacecraftError
from facecraft.face.align import COVERAGES


@dataclass(frozen=True)
class ExtractConfig:
    size: int = 256
    """Side of the aligned face images, in pixels."""
    coverage: str = "whole_face"
    """How much around the face the aligned image shows: face, whole_face or head."""
    every: int = 1
    """Process every N-th video frame."""
    max_faces: int = 0
    """Keep at most K faces per frame, largest first (0: all)."""
    detect_every: int = 5
    """Run the detector (and refresh identity embeddings) every N processed frames; between, faces are
    followed by their mesh."""
    min_score: float = 0.8
    """Detector confidence (0..1) needed to start following a new face; known faces are kept from 0.6."""
    min_face: int = 24
    """Ignore faces smaller than this (pixels, box side)."""
    smooth: bool = True
    """Smooth landmarks along each video track (One-Euro filter) before aligning."""
    commit_every: int = 25
    """Commit to the faceset database every N frames (a crash loses at most this many)."""

    def __post_init__(self) -> None:
        if not 32 <= self.size <= 2048:
            raise FacecraftError(f"--size must be between 32 and 2048 pixels, got {self.size}")
        if self.coverage not in COVERAGES:
            raise FacecraftError(f"unknown coverage {self.coverage!r}; choose one of {', '.join(COVERAGES)}")
        for name in ("every", "detect_every", "commit_every"):
            if getattr(self, name) < 1:
                raise FacecraftError(f"{name} must be at least 1")
        if not 0.0 < self.min_score <= 1.0:
            raise FacecraftError(f"--min-score must be in (0, 1], got {self.min_score}")
        if self.max_faces < 0:
            raise FacecraftError("--max-faces must be 0 (all) or more")

    def faceset_settings(self) -> dict[str, Any]:
        """The settings that define a faceset's contents; a resumed run must match them."""
        d = asdict(self)
        return {k: d[k] for k in ("size", "coverage", "every", "max_faces", "smooth")}
