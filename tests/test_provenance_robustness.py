"""No false positives on unprocessed media; one real edit (fast); the full robustness table (slow)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from facecraft.media.inputs import media_kind
from facecraft.media.video import probe
from facecraft.provenance import verify
from facecraft.provenance.transforms import TRANSFORMS, labelled_copy, transform_command
from facecraft.provenance.watermark import payload_to_bits


def _unprocessed(shared_data: Path) -> list[Path]:
    return sorted(p for p in shared_data.rglob("*") if p.is_file() and media_kind(p))


def test_no_label_is_found_in_unprocessed_media(shared_data: Path) -> None:
    files = _unprocessed(shared_data)
    assert len(files) >= 10
    for path in files:
        report = verify(path)
        assert not report.labelled, (path.name, report.watermark)
        assert not report.manifest.present and not report.metadata.found


def test_survives_half_size_on_a_short_real_clip(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hardest edit on the hardest video (512x388: 3 px cells after halving), on 1.5 s of it."""
    monkeypatch.setenv("FACECRAFT_CONFIG_DIR", str(tmp_path / "cfg"))
    out, edited = tmp_path / "clip.mp4", tmp_path / "clip.half.mp4"
    cid = labelled_copy(
        shared_data / "videos" / "obama_speaking_8s.mp4", out, max_frames=45, content_id=0x2B7E15
    )
    subprocess.run(transform_command("half", out, edited, probe(out).duration), check=True)
    wm = verify(edited).watermark
    truth = payload_to_bits((0xFC << 24) | cid)
    assert wm.found and wm.score >= 8, wm
    assert float((payload_to_bits(int(wm.payload_hex, 16)) == truth).mean()) >= 0.95, wm


@pytest.mark.slow
def test_robustness_table_on_every_shared_video(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACECRAFT_CONFIG_DIR", str(tmp_path / "cfg"))
    failures = []
    for src in sorted((shared_data / "videos").glob("*.mp4")):
        out = tmp_path / src.name
        cid = labelled_copy(src, out, content_id=0x2B7E15)
        truth = payload_to_bits((0xFC << 24) | cid)
        for name in TRANSFORMS:
            edited = tmp_path / f"{src.stem}.{name}.mp4"
            subprocess.run(transform_command(name, out, edited, probe(out).duration), check=True)
            wm = verify(edited).watermark
            decoded = payload_to_bits(int(wm.payload_hex, 16))
            accuracy = float((decoded == truth).mean())
            if not wm.found or accuracy < 0.95:
                failures.append((src.name, name, wm.score, accuracy))
    assert not failures, failures
