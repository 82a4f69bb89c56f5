"""No false positives on unprocessed media; one real edit (fast); the full robustness table (slow)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from facecraft.media.inputs import media_kind
from facecraft.media.video import iter_frames, probe
from facecraft.provenance import detect as detect_module
from facecraft.provenance import verify
from facecraft.provenance.detect import detect, undither
from facecraft.provenance.transforms import (
    GEOMETRIC,
    TRANSFORMS,
    edited_suffix,
    labelled_copy,
    transform_command,
)


def _unprocessed(shared_data: Path) -> list[Path]:
    return sorted(p for p in shared_data.rglob("*") if p.is_file() and media_kind(p))


def test_no_label_is_found_in_unprocessed_media(shared_data: Path) -> None:
    files = _unprocessed(shared_data)
    assert len(files) >= 10
    for path in files:
        report = verify(path)
        assert report.verdict == "no evidence of AI generation", (path.name, report.watermark)
        assert not report.manifest.present and not report.metadata.found


def test_half_size_never_gives_a_wrong_id(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Half size on 1.5 s of two real clips: the 512x512 one keeps its id; the 512x388 one (3 px cells after
    halving, past what the mark at 42 dB carries) may lose it, but never reads as another id."""
    monkeypatch.setenv("FACECRAFT_CONFIG_DIR", str(tmp_path / "cfg"))
    for name, must_read in (("man_glasses_orange_7s_audio.mp4", True), ("obama_speaking_8s.mp4", False)):
        out, edited = tmp_path / name, tmp_path / f"half.{name}"
        cid = labelled_copy(shared_data / "videos" / name, out, max_frames=40, content_id=0x2B7E15)
        subprocess.run(transform_command("half", out, edited, probe(out).duration), check=True)
        wm = verify(edited).watermark
        assert wm.content_id_hex in ((f"{cid:06x}",) if must_read else (f"{cid:06x}", None)), (name, wm)


def test_gif_exports_keep_the_id_and_unmarked_gifs_stay_clean(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ffmpeg's two usual GIF exports at 480 px of 3 s labelled clips (the default GIF of the green-screen
    clip scored 5.4, no mark, before verify smoothed GIF frames); the same exports of the unlabelled clips
    stay clean."""
    monkeypatch.setenv("FACECRAFT_CONFIG_DIR", str(tmp_path / "cfg"))
    for name, export in (
        ("man_green_screen_3s.mp4", "gif480"),
        ("woman_glasses_talking_5s_audio.mp4", "gif480pal"),
    ):
        src, out = shared_data / "videos" / name, tmp_path / name
        cid = labelled_copy(src, out, max_frames=75, content_id=0x61F000)
        for video, expected in ((out, f"{cid:06x}"), (src, None)):
            gif = tmp_path / f"{export}.{video.parent.name}.{name}.gif"
            subprocess.run(transform_command(export, video, gif, probe(video).duration), check=True)
            report = verify(gif)
            assert report.watermark.content_id_hex == expected, (gif.name, report.watermark)
            assert report.verdict == ("AI-generated" if expected else "no evidence of AI generation")


def test_a_default_gif_the_first_look_misses_is_read_by_the_second(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ffmpeg's default GIF (fixed 3-3-2 palette) of the woman's clip: the usual smoothing reads no id, the
    wider second look reads the right one."""
    monkeypatch.setenv("FACECRAFT_CONFIG_DIR", str(tmp_path / "cfg"))
    src, out = shared_data / "videos" / "woman_glasses_talking_5s_audio.mp4", tmp_path / "woman.mp4"
    cid = labelled_copy(src, out, max_frames=75, content_id=0x2B7E15)
    gif = tmp_path / "woman.gif"
    subprocess.run(transform_command("gif480", out, gif, probe(out).duration), check=True)
    frames = [f.image for f in iter_frames(gif)]
    first = detect([undither(f) for f in frames[:: max(1, len(frames) // 16)]])
    assert first.content_id is None, "the first look alone should miss this export"
    assert verify(gif).watermark.content_id_hex == f"{cid:06x}"


def test_a_crop_is_read_from_the_tiles_its_edges_cut_too(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """woman_glasses (524 px) cropped by 10 % keeps 3 x 3 of its 4 x 4 whole tiles; with id 2b7e15 the whole
    tiles alone read a sync (z ~10) but not the id; summing the cut tiles too reads it."""
    monkeypatch.setenv("FACECRAFT_CONFIG_DIR", str(tmp_path / "cfg"))
    src, out = shared_data / "videos" / "woman_glasses_talking_5s_audio.mp4", tmp_path / "woman.mp4"
    cid = labelled_copy(src, out, content_id=0x2B7E15)
    edited = tmp_path / "crop10.mp4"
    subprocess.run(transform_command("crop10", out, edited, probe(out).duration), check=True)
    frames = [f.image for f in iter_frames(edited)]
    frames = frames[:: max(1, len(frames) // 16)]
    monkeypatch.setattr(detect_module, "PARTIAL_TILES", False)
    assert detect(frames).content_id is None, "whole tiles alone should miss this crop"
    monkeypatch.setattr(detect_module, "PARTIAL_TILES", True)
    assert detect(frames).content_id == cid
    assert verify(edited).watermark.content_id_hex == f"{cid:06x}"


@pytest.mark.slow
def test_robustness_table_on_every_shared_video(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every lossy edit keeps the id on every shared video (but half size of the smallest); each geometric
    edit on all but at most one; a wrong id is never reported."""
    monkeypatch.setenv("FACECRAFT_CONFIG_DIR", str(tmp_path / "cfg"))
    misses: dict[str, list[str]] = {}
    wrong = []
    for src in sorted((shared_data / "videos").glob("*.mp4")):
        out = tmp_path / src.name
        cid = labelled_copy(src, out, content_id=0x2B7E15)
        for name in (*TRANSFORMS, *GEOMETRIC):
            edited = tmp_path / f"{src.stem}.{name}{edited_suffix(name)}"
            subprocess.run(transform_command(name, out, edited, probe(out).duration), check=True)
            wm = verify(edited).watermark
            if wm.content_id_hex != f"{cid:06x}":
                misses.setdefault(name, []).append(src.name)
            if wm.found and wm.content_id_hex != f"{cid:06x}":
                wrong.append((src.name, name, wm.content_id_hex))
    assert not wrong, wrong
    # Half size of the 512x388 clip leaves 3 px cells, at the edge of what the mark carries at 42 dB. (A 10 %
    # crop of woman_glasses was lost with this id until the final reading summed the cut tiles too.)
    known = {"half": ["obama_speaking_8s.mp4"]}
    assert all(misses.get(name, []) in ([], known.get(name)) for name in TRANSFORMS), misses
    assert all(len(videos) <= 1 for videos in misses.values()), misses
