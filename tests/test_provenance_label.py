"""Labelling real media end to end: all three labels, robustness to edits, tampering, verify's exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import cv2
import pytest

from facecraft.cli.main import main
from facecraft.errors import FacecraftError
from facecraft.media.video import probe
from facecraft.provenance import label_image, label_video, verify
from facecraft.provenance.keys import CERT_FILE, KEY_FILE, config_dir
from facecraft.provenance.transforms import TRANSFORMS, labelled_copy, transform_command

VIDEO = "videos/woman_glasses_talking_5s_audio.mp4"
SWAP = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"


@pytest.fixture(autouse=True)
def _config_in_tmp(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACECRAFT_CONFIG_DIR", str(tmp_path_factory.getbasetemp() / "facecraft-config"))
    monkeypatch.delenv("FACECRAFT_SIGNER_CERT", raising=False)
    monkeypatch.delenv("FACECRAFT_SIGNER_KEY", raising=False)


@pytest.fixture(scope="module")
def labelled_clip(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A 3.4 s labelled copy of a shared video (85 frames at 25 fps), as a swap would write it."""
    os.environ.setdefault("FACECRAFT_CONFIG_DIR", str(tmp_path_factory.getbasetemp() / "facecraft-config"))
    out = tmp_path_factory.mktemp("prov") / "clip.mp4"
    cid = labelled_copy(shared_data / VIDEO, out, max_frames=85, content_id=0x5EC0DE)
    return out, cid


def test_labelled_video_carries_all_three_labels(labelled_clip: tuple[Path, int]) -> None:
    path, cid = labelled_clip
    report = verify(path)
    assert report.watermark.found and report.watermark.content_id_hex == f"{cid:06x}"
    assert report.watermark.bit_accuracy == 1.0 and report.watermark.bit_accuracy_basis == "manifest"
    assert report.manifest.present and report.manifest.valid and not report.manifest.tampered
    assert report.manifest.digital_source_type == SWAP
    assert report.manifest.facecraft["inputs"][0]["name"] == Path(VIDEO).name
    assert report.metadata.found and report.metadata.content_id_hex == f"{cid:06x}"


@pytest.mark.parametrize("name", TRANSFORMS)
def test_watermark_survives_edits(labelled_clip: tuple[Path, int], name: str, tmp_path: Path) -> None:
    path, cid = labelled_clip
    edited = tmp_path / f"{name}.mp4"
    subprocess.run(transform_command(name, path, edited, probe(path).duration), check=True)
    report = verify(edited)
    assert report.watermark.found, report.watermark
    truth = f"fc{cid:06x}"
    bits = [int(a, 16) ^ int(b, 16) for a, b in zip(report.watermark.payload_hex, truth, strict=True)]
    errors = sum(bin(x).count("1") for x in bits)
    assert 1 - errors / 32 >= 0.95, (name, report.watermark)


def test_editing_frames_breaks_the_manifest(labelled_clip: tuple[Path, int], tmp_path: Path) -> None:
    path, _ = labelled_clip
    data = bytearray(path.read_bytes())
    mdat = data.find(b"mdat")
    assert mdat > 0
    for i in range(mdat + 2000, mdat + 2400):  # overwrite coded picture data, keep the file structure
        data[i] ^= 0x5A
    tampered = tmp_path / "tampered.mp4"
    tampered.write_bytes(bytes(data))
    report = verify(tampered)
    assert report.manifest.present and report.manifest.tampered
    assert any("mismatch" in code or "hash" in code.lower() for code in report.manifest.failures)


def test_verify_exit_codes_and_json(
    labelled_clip: tuple[Path, int], shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = labelled_clip
    assert main(["verify", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["labelled"] and out["c2pa"]["valid"] and out["watermark"]["found"]
    assert main(["verify", str(shared_data / "images" / "no_face_dogs.jpg")]) == 1
    assert "no facecraft label" in capsys.readouterr().out
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    assert main(["verify", str(broken)]) == 2
    assert main(["verify", str(tmp_path / "missing.png")]) == 2


def test_images_are_labelled_in_place(shared_data: Path, tmp_path: Path) -> None:
    consent = tmp_path / "release.txt"
    consent.write_text("I agree to this use of my likeness.\n")
    for name in ("obama_4_small_320x240.jpg", "lady_agnew.png"):
        out = tmp_path / name
        if name.endswith(".png"):
            portrait = cv2.imread(str(shared_data / "portraits" / "lady_agnew_painting.jpg"))
            assert portrait is not None
            cv2.imwrite(str(out), portrait)
        else:
            shutil.copy(shared_data / "images" / name, out)
        label_image(out, "animate", [out], consent=consent, visible_label=True)
        report = verify(out)
        assert report.watermark.found and report.watermark.bit_accuracy >= 0.95
        assert report.manifest.valid and (report.manifest.digital_source_type or "").endswith(
            "/trainedAlgorithmicMedia"
        )
        assert report.manifest.facecraft["consent_sha256"] is not None
        assert report.manifest.facecraft["visible_label"] is True
        assert report.metadata.found
        assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_relabelling_a_finished_video_keeps_audio(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "videos" / "man_grey_backdrop_7s_audio.mp4"
    out = tmp_path / "short.mp4"
    subprocess.run(
        [*transform_command("cut2s", src, out, probe(src).duration)[:-2], "-c:a", "aac", str(out)], check=True
    )
    label_video(out, "swap", [src])
    report = verify(out)
    assert report.watermark.found and report.manifest.valid and report.metadata.found


def test_bad_requests_raise_one_clear_error(tmp_path: Path, shared_data: Path) -> None:
    out = tmp_path / "x.jpg"
    shutil.copy(shared_data / "images" / "obama_4_small_320x240.jpg", out)
    with pytest.raises(FacecraftError, match="consent"):
        label_image(out, "swap", [out], consent=tmp_path / "nope.pdf")
    with pytest.raises(FacecraftError, match="action"):
        label_image(out, "morph", [out])
    bmp = tmp_path / "x.bmp"
    bmp.write_bytes(b"")
    with pytest.raises(FacecraftError):
        label_image(bmp, "swap", [out])


def test_signing_identity_lives_in_the_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_data: Path
) -> None:
    monkeypatch.setenv("FACECRAFT_CONFIG_DIR", str(tmp_path / "cfg"))
    assert config_dir() == tmp_path / "cfg"
    out = tmp_path / "x.jpg"
    shutil.copy(shared_data / "images" / "obama_4_small_320x240.jpg", out)
    label_image(out, "swap", [out])
    assert (tmp_path / "cfg" / CERT_FILE).is_file() and (tmp_path / "cfg" / KEY_FILE).is_file()
    assert (tmp_path / "cfg" / KEY_FILE).stat().st_mode & 0o077 == 0
    # An organisation's own identity, given by path, is used instead of the local one.
    monkeypatch.setenv("FACECRAFT_SIGNER_CERT", str(tmp_path / "cfg" / CERT_FILE))
    monkeypatch.setenv("FACECRAFT_SIGNER_KEY", str(tmp_path / "missing.key"))
    with pytest.raises(FacecraftError, match="missing"):
        label_image(out, "swap", [out])


def test_a_relabelled_facecraft_output_carries_only_its_new_id(shared_data: Path, tmp_path: Path) -> None:
    """An output made from an earlier facecraft output (every pixel kept, the hardest case): the old watermark
    is taken out as the new one goes in, so verify reads the new id, and the manifest names the old one."""
    src = shared_data / "videos" / "man_green_screen_3s.mp4"
    first, second = tmp_path / "first.mp4", tmp_path / "second.mp4"
    labelled_copy(src, first, max_frames=30, content_id=0x111111)
    labelled_copy(first, second, max_frames=30, content_id=0xEEEEEE)
    report = verify(second)
    assert report.watermark.found and report.watermark.content_id_hex == "eeeeee"
    assert report.watermark.bit_accuracy_basis == "manifest" and report.watermark.bit_accuracy >= 0.95
    assert report.watermark.earlier_content_ids == ("111111",)
    assert report.labelled
