"""Media helpers: input collection, ffmpeg command building, the atomic video writer."""

from __future__ import annotations

import numpy as np
import pytest

from facecraft.errors import FacecraftError
from facecraft.media.ffmpeg import encode_command
from facecraft.media.inputs import collect_media
from facecraft.media.video import iter_frames, probe
from facecraft.media.writer import VideoWriter


def test_collect_media_expands_folders_and_rejects_bad_paths(tmp_path):
    (tmp_path / "a.mp4").write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.JPG").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    found = collect_media([tmp_path])
    assert [(f.path.name, f.kind) for f in found] == [("a.mp4", "video"), ("b.JPG", "image")]
    with pytest.raises(FacecraftError, match="does not exist"):
        collect_media([tmp_path / "missing.mp4"])
    with pytest.raises(FacecraftError, match="not a video or photo"):
        collect_media([tmp_path / "notes.txt"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(FacecraftError, match="has no videos or photos"):
        collect_media([tmp_path / "empty"])


def test_encode_command_cuts_audio_and_pads_odd_sizes():
    cmd = encode_command(
        "out.mp4",
        641,
        480,
        25.0,
        audio_from="in.mp4",
        audio_start=1.5,
        audio_duration=2.0,
        metadata={"comment": "AI-generated"},
    )
    i = cmd.index("-ss")
    assert cmd[i + 1] == "1.500000" and cmd[cmd.index("-t") + 1] == "2.000000"
    assert cmd[cmd.index("-i", i) + 1] == "in.mp4"
    assert "pad=ceil(iw/2)*2:ceil(ih/2)*2" in cmd
    assert "comment=AI-generated" in cmd
    assert cmd[-1] == "out.mp4"
    plain = encode_command("o.mp4", 640, 480, 30.0)
    assert "-map" not in plain and "-vf" not in plain


def test_video_writer_roundtrip_and_atomic_abort(tmp_path):
    frames = [np.full((48, 64, 3), i * 20, np.uint8) for i in range(10)]
    out = tmp_path / "o.mp4"
    with VideoWriter(out, 64, 48, 10.0) as w:
        for f in frames:
            w.write(f)
    info = probe(out)
    assert (info.width, info.height, info.frame_count) == (64, 48, 10)
    got = [f.image for f in iter_frames(out)]
    assert len(got) == 10 and abs(float(got[5].mean()) - 100) < 6
    bad = tmp_path / "bad.mp4"
    with pytest.raises(RuntimeError), VideoWriter(bad, 64, 48, 10.0) as w:
        w.write(frames[0])
        raise RuntimeError("interrupted")
    assert not bad.exists() and not list(tmp_path.glob(".bad*"))


def test_encode_decode_keeps_colours_level(tmp_path):
    """A frame written and read back keeps its colours: no level lost per generation (swscale's default
    truncation in both directions made a real photo ~2 levels darker per encode and decode), and three
    generations do not drift darker."""
    import cv2

    from facecraft.demo import embedded_portraits
    from facecraft.media.image import read_image

    photo = read_image(embedded_portraits()[0])
    image = cv2.resize(
        photo, (photo.shape[1] // 4 * 2, photo.shape[0] // 4 * 2), interpolation=cv2.INTER_AREA
    )
    h, w = image.shape[:2]
    current = image
    for generation in range(3):
        out = tmp_path / f"g{generation}.mp4"
        with VideoWriter(out, w, h, 25.0) as writer:
            for _ in range(2):
                writer.write(current)
        current = next(iter_frames(out)).image
        drift = (current.astype(np.float64) - image).mean(axis=(0, 1))
        assert np.abs(drift).max() < 0.5 * (generation + 1), (generation, drift)
