"""Temporal stability: One-Euro smoothing along tracks lowers the jitter of where the face is pasted."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import numpy as np

from facecraft.face.track import Tracker
from facecraft.media.video import iter_frames
from facecraft.swap import SwapConfig
from facecraft.swap.targets import TargetFinder


def _jitter(affines: list[np.ndarray], size: int) -> float:
    """Mean second difference of the pasted square's corners over time, in frame pixels (acceleration)."""
    corners = np.array([[0, 0], [size, 0], [0, size], [size, size]], np.float64)
    tracks = []
    for a in affines:
        inv = np.linalg.inv(np.vstack([a, [0, 0, 1]]))[:2]
        tracks.append(corners @ inv[:, :2].T + inv[:, 2])
    pts = np.stack(tracks)  # (T, 4, 2)
    return float(np.linalg.norm(pts[2:] - 2 * pts[1:-1] + pts[:-2], axis=-1).mean())


def test_smoothing_lowers_jitter_on_a_real_clip(shared_data: Path) -> None:
    frames = list(islice(iter_frames(shared_data / "videos/obama_speaking_8s.mp4"), 60))
    jitter = {}
    for smooth in (False, True):
        finder = TargetFinder(128, "whole_face", SwapConfig(smooth=smooth))
        tracker = Tracker()
        try:
            affines = [finder.find(f.image, f.index, f.time, tracker, video=True)[0].affine for f in frames]
        finally:
            finder.close()
        jitter[smooth] = _jitter(affines, 128)
    assert jitter[True] < 0.8 * jitter[False], jitter
