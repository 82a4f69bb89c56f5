"""``swap`` on real videos with a stand-in model: size, rate, frame count, audio, A/V sync, resume, bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import av
import numpy as np
import pytest
from swap_standin import TintModel

from facecraft.errors import FacecraftError
from facecraft.media.video import iter_frames, probe
from facecraft.media.writer import VideoWriter
from facecraft.provenance import FrameLabeller, verify
from facecraft.swap import SwapConfig, swap
from facecraft.swap import run as swap_run
from facecraft.swap.checkpoint import STATE, output_lock, work_folder

WOMAN = "videos/woman_glasses_talking_5s_audio.mp4"  # 524x524, 25 fps, 122 frames, AAC audio
OBAMA = "videos/obama_speaking_8s.mp4"  # 512x388, 30 fps, no audio


def _frames(path: Path) -> np.ndarray:
    return np.stack([f.image for f in iter_frames(path)])


def _audio(path: Path) -> tuple[np.ndarray, int]:
    """Mono float audio samples and the sample rate."""
    with av.open(str(path)) as c:
        stream = c.streams.audio[0]
        chunks = [f.to_ndarray().astype(np.float64) for f in c.decode(stream)]
        rate = stream.rate
    pcm = np.concatenate([ch if ch.ndim == 2 and ch.shape[0] <= 8 else ch.reshape(1, -1) for ch in chunks], 1)
    return pcm.mean(0), rate


def test_video_keeps_size_rate_frames_and_audio(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / WOMAN
    out = tmp_path / "out.mp4"
    model = TintModel()
    report = swap(src, model, out, SwapConfig(color="none"), preview=True, progress=False)
    a, b, p = probe(src), probe(out), probe(tmp_path / "out_preview.mp4")
    assert (b.width, b.height, b.fps, b.frame_count) == (a.width, a.height, a.fps, a.frame_count)
    assert b.has_audio and abs(b.duration - a.duration) < 0.05
    assert (p.width, p.height, p.frame_count) == (2 * a.width, a.height, a.frame_count)
    assert report.frames == a.frame_count and report.faces_swapped >= a.frame_count - 2
    assert model.faces_seen == report.faces_swapped and report.tracks
    original, swapped = _frames(src), _frames(out)
    changed = np.abs(original.astype(int) - swapped.astype(int)).max(-1) > 40
    share = changed.mean(axis=(1, 2))
    assert share.min() > 0.02 and share.max() < 0.5  # the face changed in every frame, the rest did not
    assert not work_folder(out).exists()
    if report.labelled:
        assert verify(out).labelled and verify(tmp_path / "out_preview.mp4").labelled


def test_start_end_cuts_video_and_audio_in_sync(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / WOMAN
    out = tmp_path / "cut.mp4"
    report = swap(src, TintModel(), out, SwapConfig(start=1.0, end=2.6), progress=False)
    info = probe(out)
    assert report.frames == info.frame_count == 40
    # Video: output frame k is input frame 25 + k (the background outside the face says so).
    original, cut = _frames(src), _frames(out)
    errors = {
        off: np.abs(cut[:10].astype(int) - original[off : off + 10].astype(int)).mean()
        for off in (23, 24, 25, 26, 27)
    }
    assert min(errors, key=errors.__getitem__) == 25
    # Audio: as long as the video, and the same samples as the source from 1.0 s (lag under one frame).
    pcm_src, rate = _audio(src)
    pcm_out, rate_out = _audio(out)
    assert rate_out == rate and abs(len(pcm_out) / rate - 1.6) < 0.06
    ref = pcm_src[int(1.0 * rate) - rate // 5 : int(1.0 * rate) + len(pcm_out) + rate // 5]
    window = pcm_out[rate // 10 : rate // 10 + rate // 2]
    scores = [float(np.dot(window, ref[i : i + len(window)])) for i in range(0, len(ref) - len(window), 16)]
    lag = (np.argmax(scores) * 16 - rate // 5 - rate // 10) / rate
    assert abs(lag) < 1 / 25


CID = 0x5A5A5A
"""Outputs watermarked with one fixed content id (a new output normally gets a random one, so two runs
would differ in the watermark alone)."""


def test_resume_equals_uninterrupted(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / WOMAN
    config = SwapConfig(end=2.0, segment=10, batch=4)
    whole = tmp_path / "whole.mp4"
    swap(src, TintModel(), whole, config, progress=False, content_id=CID)

    resumed = tmp_path / "resumed.mp4"
    with pytest.raises(RuntimeError, match="on purpose"):
        swap(src, TintModel(fail_after=8), resumed, config, progress=False, content_id=CID)
    state = json.loads((work_folder(resumed) / STATE).read_text())
    assert 10 <= sum(state["segments"]) < 50 and not resumed.exists()
    model = TintModel()
    report = swap(src, model, resumed, config, progress=False)  # the interrupted run's id, kept
    assert report.resumed_frames == sum(state["segments"]) and model.faces_seen < 50
    assert np.array_equal(_frames(whole), _frames(resumed))
    assert probe(resumed).frame_count == 50
    assert verify(resumed).watermark.content_id_hex == f"{CID:06x}"  # the id asked for, kept by the resume


def test_frames_without_faces_pass_through_and_no_audio_is_fine(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / OBAMA
    out = tmp_path / "o.mp4"
    # Track 5 does not exist: nothing is swapped, every frame passes through.
    report = swap(src, TintModel(), out, SwapConfig(end=0.5, track=5), progress=False, content_id=CID)
    assert report.faces_swapped == 0 and any("no face" in w for w in report.warnings)
    info = probe(out)
    assert info.frame_count == 15 and not info.has_audio
    plain = tmp_path / "plain.mp4"
    watermark = FrameLabeller(content_id=CID)  # the same content id as the swap's
    with VideoWriter(plain, info.width, info.height, info.fps) as w:
        for frame in _frames(src)[:15]:
            w.write(watermark.apply(frame))
    assert np.array_equal(_frames(out), _frames(plain))  # exactly the input, watermarked and re-encoded


def test_odd_size_and_rotation_are_kept(tmp_path: Path) -> None:
    import subprocess

    from facecraft.media.ffmpeg import ffmpeg_exe

    src = tmp_path / "odd.mp4"
    subprocess.run(
        [
            ffmpeg_exe(),
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=161x121:rate=10:duration=1",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv444p",
            str(src),
        ],
        check=True,
    )
    rotated = tmp_path / "rot.mp4"
    subprocess.run(
        [
            ffmpeg_exe(),
            "-loglevel",
            "error",
            "-display_rotation",
            "90",
            "-i",
            str(src),
            "-c",
            "copy",
            str(rotated),
        ],
        check=True,
    )
    out = tmp_path / "out.mp4"
    swap(rotated, TintModel(), out, progress=False)
    info = probe(out)
    assert (info.width, info.height, info.frame_count) == (161, 121, 10)
    with av.open(str(out)) as c, av.open(str(rotated)) as r:
        assert next(c.decode(video=0)).rotation == next(r.decode(video=0)).rotation != 0


def test_bad_input_gives_one_clear_error(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / WOMAN
    with pytest.raises(FacecraftError, match="no identity 'C'"):
        swap(src, TintModel(), tmp_path / "a.mp4", SwapConfig(to="C"), progress=False)
    with pytest.raises(FacecraftError, match="is the input"):
        swap(src, TintModel(), src, progress=False)
    with pytest.raises(FacecraftError, match="must be"):
        swap(src, TintModel(), tmp_path / "a.png", progress=False)
    with pytest.raises(FacecraftError, match="does not exist"):
        swap(tmp_path / "missing.mp4", TintModel(), tmp_path / "a.mp4", progress=False)
    with pytest.raises(FacecraftError, match="past the end"):
        swap(src, TintModel(), tmp_path / "a.mp4", SwapConfig(start=60), progress=False)
    with pytest.raises(FacecraftError, match="--end"):
        SwapConfig(start=2, end=1)
    with output_lock(tmp_path / "busy.mp4"), pytest.raises(FacecraftError, match="another swap"):
        swap(src, TintModel(), tmp_path / "busy.mp4", progress=False)


def test_audio_only_file_and_read_only_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    from facecraft.media.ffmpeg import ffmpeg_exe

    audio = tmp_path / "tone.m4v"
    subprocess.run(
        [
            ffmpeg_exe(),
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=1",
            "-c:a",
            "aac",
            str(audio),
        ],
        check=True,
    )
    with pytest.raises(FacecraftError, match="no video stream"):
        swap(audio, TintModel(), tmp_path / "x.mp4", progress=False)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root writes anywhere: make the folder look read-only
            monkeypatch.setattr(swap_run.os, "access", lambda path, mode: Path(path) != locked)
        with pytest.raises(FacecraftError, match="no permission"):
            swap(audio, TintModel(), locked / "x.mp4", progress=False)
    finally:
        locked.chmod(0o700)


def test_repeated_input_frames_give_identical_output_frames(shared_data: Path, tmp_path: Path) -> None:
    src = tmp_path / "held.mp4"
    frames = _frames(shared_data / OBAMA)[:8]
    h, w = frames[0].shape[:2]
    with VideoWriter(src, w, h, 30.0, crf=0, pix_fmt="yuv444p") as writer:
        for frame in frames:
            writer.write(frame)
            writer.write(frame)  # every frame held twice, as a frame-rate conversion does
    out = tmp_path / "out.mp4"
    swap(src, TintModel(), out, SwapConfig(crf=0, mask="landmarks"), progress=False)
    swapped = _frames(out)
    assert len(swapped) == 16
    assert not np.array_equal(swapped[0], _frames(src)[0])  # it did swap
    for i in range(0, 16, 2):
        assert np.array_equal(swapped[i], swapped[i + 1]), i
