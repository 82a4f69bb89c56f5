"""One swap run's decisions, made once in :func:`facecraft.swap.run.swap` and passed down to the video
and photo paths; and what each path hands back to be added to the report.

The paths never touch the caller's report: they return a :class:`SwapOutcome`, which ``swap`` folds into its
:class:`~facecraft.swap.run.SwapReport`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from facecraft.swap.config import SwapConfig
from facecraft.swap.exemplars import ExemplarBank
from facecraft.swap.label import LabelSpec
from facecraft.swap.model import FaceModelLike
from facecraft.swap.targets import TargetFinder


@dataclass(frozen=True)
class SwapJob:
    """What to swap, into what, with which model and settings."""

    src: Path
    """The input: a video, a photo or a folder of photos."""
    dst: Path
    """The output: a video, a photo, or a folder (for a folder input)."""
    model: FaceModelLike
    to: str
    """The identity the model draws."""
    config: SwapConfig
    finder: TargetFinder
    """Finds the faces to replace (and, with a reference photo, which person they belong to)."""
    labels: LabelSpec
    """How the outputs are labelled as synthetic (provenance)."""
    preview: bool = False
    """Also write an original | swapped side-by-side next to each output."""
    progress: bool = True
    """Show a progress bar on stderr."""
    model_id: str = ""
    """What identifies the model in a resume checkpoint (video only)."""
    exemplars: ExemplarBank | None = None
    """The source person's faces kept with the model (swap.exemplars), or None."""


@dataclass(frozen=True)
class SwapOutcome:
    """What one path (video, photos) found and did; added to the report by ``swap``."""

    frames: int = 0
    frames_with_faces: int = 0
    faces_swapped: int = 0
    resumed_frames: int = 0
    tracks: dict[int, int] = field(default_factory=dict)
    labelled: bool = False
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
