"""Validation hold-out: whole tracks or spaced segments, never the neighbours of training faces."""

from __future__ import annotations

import numpy as np
import pytest

from facecraft.train.holdout import GAP_FRAMES, holdout


def _check_partition(split, n: int) -> None:  # type: ignore[no-untyped-def]
    assert len(set(split.train) & set(split.val)) == 0
    assert set(split.train) | set(split.val) <= set(range(n))
    assert list(split.train) == sorted(split.train) and list(split.val) == sorted(split.val)


def test_photos_and_many_shots_hold_out_whole_tracks() -> None:
    tracks = np.repeat(np.arange(10), [30, 25, 3, 40, 2, 2, 35, 4, 30, 29])
    frames = np.concatenate([np.arange(c) for c in np.bincount(tracks)])
    split = holdout(tracks, frames, n_val=10)
    _check_partition(split, len(tracks))
    assert split.method == "whole tracks"
    held = set(tracks[split.val])
    assert not held & set(tracks[split.train])  # no track is on both sides
    assert 5 <= len(split.val) <= 20 and len(split.train) + len(split.val) == len(tracks)
    assert "whole tracks" in split.description


def test_one_long_track_holds_out_spaced_segments_with_gaps() -> None:
    n = 240  # one 8-second shot at 30 fps
    tracks, frames = np.zeros(n, int), np.arange(n)
    split = holdout(tracks, frames, n_val=24)
    _check_partition(split, n)
    assert split.method == "spaced segments" and len(split.val) == 24
    val_frames = frames[split.val]
    assert val_frames.min() > 0 and val_frames.max() < n - 1  # not just the end of the clip
    runs = np.split(val_frames, np.flatnonzero(np.diff(val_frames) > 1) + 1)
    assert len(runs) == 2
    nearest = np.abs(frames[split.train][:, None] - val_frames[None, :]).min(axis=1)
    gap = nearest.min() - 1
    assert gap >= min(GAP_FRAMES)  # training faces are not next to validation faces
    assert len(split.train) >= 0.8 * n - 24  # the gaps cost at most 20 % of the faces
    assert gap >= 12  # 0.4 s at 30 fps on an 8-second shot


def test_small_facesets_still_split() -> None:
    tracks, frames = np.zeros(16, int), np.arange(16) * 4
    split = holdout(tracks, frames, n_val=2)
    _check_partition(split, 16)
    assert len(split.val) == 2 and len(split.train) >= 12
    with pytest.raises(ValueError):
        holdout(tracks, frames, n_val=16)


def test_two_videos_of_one_person_hold_out_segments_not_a_whole_video() -> None:
    tracks = np.repeat([10001, 20001], [150, 120])
    frames = np.concatenate([np.arange(150), np.arange(120)])
    split = holdout(tracks, frames, n_val=27)
    _check_partition(split, 270)
    assert split.method == "spaced segments"  # either video alone is too big to hold out
    assert set(tracks[split.val]) == {10001, 20001}
