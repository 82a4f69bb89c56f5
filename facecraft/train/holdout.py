"""Which faces of a faceset are held out for validation, so that validation is not a copy of training.

Neighbouring video frames are near-duplicates: validating on the last second of the clip a model trained
on the second before it measures memory, not generalisation, and makes ``--until-ssim`` stop early.
So the held-out faces are either

- **whole tracks** (a face followed through one shot, or one photo) that training never sees, when the
  faceset has several tracks and some of them together are about the size wanted; or
- **spaced segments**: a few runs of consecutive faces spread over the faceset, with a gap of frames on
  both sides of each run that training skips too, when there are only one or two long tracks.

Pure functions of the faces' track ids and frame indices: the split is the same on every run and resume.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GAP_FRAMES = (30, 20, 12, 8, 4, 2)
"""Gaps tried around held-out segments, in video frames (30 = 1 s at 30 fps), widest first."""
MAX_GAP_SHARE = 0.2
"""The gaps may cost training at most this share of the faces."""
SEGMENTS = 2
"""Held-out runs of consecutive faces when splitting long tracks."""


@dataclass(frozen=True)
class Holdout:
    train: np.ndarray
    """Indices of the training faces (int64, ascending)."""
    val: np.ndarray
    """Indices of the validation faces (int64, ascending)."""
    method: str
    """"whole tracks" or "spaced segments"."""
    description: str
    """One line for the training log, e.g. "whole tracks: 3 of 12 tracks (24 faces)"."""


def holdout(tracks: np.ndarray, frames: np.ndarray, n_val: int) -> Holdout:
    """Split faces with track ids ``tracks`` (N,) and frame indices ``frames`` (N,) into training and about
    ``n_val`` validation faces (1 <= n_val < N)."""
    tracks, frames = np.asarray(tracks), np.asarray(frames)
    n = len(tracks)
    if not 1 <= n_val < n:
        raise ValueError(f"n_val must be between 1 and {n - 1}, got {n_val}")
    return _whole_tracks(tracks, n_val) or _spaced_segments(tracks, frames, n_val)


def _whole_tracks(tracks: np.ndarray, n_val: int) -> Holdout | None:
    """Whole tracks adding up to between n_val / 2 and 2 n_val faces, smallest first; None when the
    faceset has too few tracks for that (or training would lose more than half of the faces)."""
    ids, first, sizes = np.unique(tracks, return_index=True, return_counts=True)
    if len(ids) < 2:
        return None
    chosen: list[int] = []
    total = 0
    for k in sorted(range(len(ids)), key=lambda k: (sizes[k], first[k])):
        if total >= n_val:
            break
        if total + sizes[k] <= 2 * n_val and len(chosen) < len(ids) - 1:
            chosen.append(k)
            total += int(sizes[k])
    if total < max(1, n_val // 2) or total > len(tracks) // 2:
        return None
    held = np.isin(tracks, ids[chosen])
    return Holdout(
        np.flatnonzero(~held),
        np.flatnonzero(held),
        "whole tracks",
        f"whole tracks: {len(chosen)} of {len(ids)} tracks ({total} faces) that training never sees",
    )


def _spaced_segments(tracks: np.ndarray, frames: np.ndarray, n_val: int) -> Holdout:
    """``SEGMENTS`` runs of consecutive faces spread evenly over the faceset (in track and frame order);
    training also skips the faces of the same track within the widest gap that costs at most
    ``MAX_GAP_SHARE`` of the faces."""
    n = len(tracks)
    order = np.lexsort((frames, tracks))
    k = min(SEGMENTS, n_val)
    lengths = [n_val // k + (i < n_val % k) for i in range(k)]
    val_pos: list[int] = []
    for i, length in enumerate(lengths):
        start = int(np.clip(round((i + 0.5) * n / k - length / 2), 0, n - length))
        val_pos += range(start, start + length)
    val = np.zeros(n, bool)
    val[order[sorted(set(val_pos))]] = True
    budget = MAX_GAP_SHARE * n
    for gap in (*GAP_FRAMES, 0):
        near = _near(tracks, frames, val, gap) & ~val
        if near.sum() <= budget and n - val.sum() - near.sum() >= 1:
            break
    train = ~val & ~near
    return Holdout(
        np.flatnonzero(train),
        np.flatnonzero(val),
        "spaced segments",
        f"spaced segments: {k} runs ({int(val.sum())} faces) spread over the faceset; training skips the "
        f"{int(near.sum())} faces within {gap} frames of them",
    )


def _near(tracks: np.ndarray, frames: np.ndarray, val: np.ndarray, gap: int) -> np.ndarray:
    """Faces in the same track as a validation face and at most ``gap`` frames from one."""
    out = np.zeros(len(tracks), bool)
    if gap <= 0:
        return out
    for track in np.unique(tracks[val]):
        same = tracks == track
        held = frames[same & val]
        dist = np.abs(frames[same][:, None] - held[None, :]).min(axis=1)
        out[np.flatnonzero(same)[dist <= gap]] = True
    return out
