"""The watermark's SSIM guard: a frame the mark would change too much (as SSIM sees it) gets a weaker mark,
still readable; repeated frames stay identical; the banded SSIM equals the whole-picture one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facecraft.media.video import iter_frames
from facecraft.provenance.detect import detect
from facecraft.provenance.label import GUARD_EVERY, MIN_SSIM, FrameLabeller
from facecraft.provenance.similarity import _luma, _ssim_map, luma_ssim

VIDEO = "videos/obama_speaking_8s.mp4"  # 512x388: the finest cells of the shared videos, the lowest SSIM
CID = 0x9D41C3  # with this id the full-strength mark scores SSIM 0.9900 on its first frames


def _frames(shared_data: Path, n: int) -> list[np.ndarray]:
    return [f.image for f in iter_frames(shared_data / VIDEO) if f.index < n]


def test_banded_ssim_equals_the_whole_picture(shared_data: Path) -> None:
    frame = _frames(shared_data, 1)[0]
    tall = np.concatenate([frame, frame[::-1], frame, frame[:100]])  # 1264 rows: three bands
    other = np.clip(tall.astype(np.int16) + np.random.default_rng(0).integers(-3, 4, tall.shape), 0, 255)
    other = other.astype(np.uint8)
    whole = float(np.mean(_ssim_map(_luma(tall), _luma(other)), dtype=np.float64))
    assert abs(luma_ssim(tall, other) - whole) < 1e-6
    assert luma_ssim(tall, tall) == 1.0


def test_the_guard_keeps_ssim_and_the_id(shared_data: Path) -> None:
    frames = _frames(shared_data, GUARD_EVERY)
    plain = FrameLabeller(content_id=CID, key=None, ssim_guard=False)
    guarded = FrameLabeller(content_id=CID, key=None)
    before = [luma_ssim(f, plain.apply(f)) for f in frames]
    marked = [guarded.apply(f) for f in frames]
    after = [luma_ssim(f, m) for f, m in zip(frames, marked, strict=True)]
    assert min(before) < MIN_SSIM, "this clip and id should need the guard"
    assert min(after) >= MIN_SSIM - 3e-4 and np.mean(after) >= MIN_SSIM - 1e-4, after
    found = detect(marked)
    assert found.content_id == CID, found


def test_a_repeated_frame_keeps_its_strength(shared_data: Path) -> None:
    """The guard looks again every GUARD_EVERY frames, but not at a frame that repeats the one before: a held
    frame must come out identical to the frame it repeats."""
    calm = _frames(shared_data, GUARD_EVERY - 1)
    scene = calm[0][:, ::-1].copy()  # another picture: its check would set another strength
    flat = np.full_like(scene, 128)  # a frame the first check finds no cost on (full strength)
    labeller = FrameLabeller(content_id=CID, key=None)
    stream = [flat, *calm[1:], scene, scene]  # the last one is the check frame, and a repeat
    out = [labeller.apply(f) for f in stream]
    assert len(stream) == GUARD_EVERY + 1
    assert np.array_equal(out[-1], out[-2])
    fresh = FrameLabeller(content_id=CID, key=None)
    fresh_out = fresh.apply(scene)  # the same picture checked on its own: weaker
    assert not np.array_equal(fresh_out, out[-1])
