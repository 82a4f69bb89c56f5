"""``swap`` when things go wrong: a failed run leaves no lock, a resume is a note (not a warning), work is
never discarded without a word, the resume is keyed on the model's weights, a truncated video and a
transparent photo are reported, and one unreadable photo does not stop a folder."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from swap_standin import TintModel
from train_fixtures import facesets  # noqa: F401

from facecraft.cli.main import main
from facecraft.errors import FacecraftError
from facecraft.media.ffmpeg import ffmpeg_exe
from facecraft.swap import SwapConfig, swap
from facecraft.swap.checkpoint import STATE, work_folder

WOMAN = "videos/woman_glasses_talking_5s_audio.mp4"
CONFIG = SwapConfig(end=0.8, segment=5, batch=2)  # 20 frames


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and "lock" in p.name)


def test_a_failed_swap_leaves_no_lock_and_a_resume_is_a_note(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError, match="on purpose"):
        swap(shared_data / WOMAN, TintModel(fail_after=6), out, CONFIG, progress=False)
    assert _hidden(tmp_path) == []
    report = swap(shared_data / WOMAN, TintModel(), out, CONFIG, progress=False)
    assert any("resumed after" in n for n in report.notes)
    assert not any("resumed" in w for w in report.warnings)
    assert _hidden(tmp_path) == []


def test_discarded_earlier_work_is_reported(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError, match="on purpose"):
        swap(shared_data / WOMAN, TintModel(fail_after=6), out, CONFIG, progress=False)
    done = sum(json.loads((work_folder(out) / STATE).read_text())["segments"])
    report = swap(
        shared_data / WOMAN,
        TintModel(),
        out,
        SwapConfig(end=0.8, segment=5, batch=2, color="lct"),
        progress=False,
    )
    assert any(f"({done} frames)" in w and "config" in w and "discarded" in w for w in report.warnings)


def test_a_truncated_video_is_reported(shared_data: Path, tmp_path: Path) -> None:
    whole = tmp_path / "whole.mp4"
    cmd = [ffmpeg_exe(), "-loglevel", "error", "-i", str(shared_data / WOMAN), "-t", "2", "-c", "copy"]
    subprocess.run([*cmd, "-movflags", "+faststart", str(whole)], check=True)
    cut = tmp_path / "cut.mp4"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) * 6 // 10])  # cut off in the middle: decodes cleanly up to the cut
    report = swap(cut, TintModel(), tmp_path / "out.mp4", SwapConfig(segment=10, batch=4), progress=False)
    assert report.frames < 50
    assert any("ended after" in w and "truncated" in w for w in report.warnings), report.warnings


def test_a_folder_goes_on_past_an_unreadable_photo_and_reports_transparency(
    shared_data: Path, tmp_path: Path, capsys
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(shared_data / "images" / "obama_4_small_320x240.jpg", photos / "a.jpg")
    (photos / "b.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    bgr = cv2.imread(str(shared_data / "images" / "obama_4_small_320x240.jpg"))
    alpha = np.full(bgr.shape[:2], 255, np.uint8)
    alpha[:20] = 0
    cv2.imwrite(str(photos / "c.png"), np.dstack([bgr, alpha]))
    report = swap(photos, TintModel(size=64), tmp_path / "out", progress=False)
    assert (tmp_path / "out" / "a.jpg").is_file() and (tmp_path / "out" / "c.png").is_file()
    assert any("b.jpg" in w and "could not be read" in w for w in report.warnings)
    assert any("c.png has transparency" in w for w in report.warnings)
    assert _hidden(tmp_path / "out") == []


def test_a_photo_swap_prints_no_tracks_line(shared_data: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    from facecraft.swap import run as swap_run

    monkeypatch.setattr(swap_run, "load_model", lambda model, device: TintModel(size=64))
    (tmp_path / "model").mkdir()
    photo = shared_data / "images" / "obama_4_small_320x240.jpg"
    assert main(["-q", "swap", str(photo), "-m", str(tmp_path / "model"), "-o", str(tmp_path / "o.png")]) == 0
    out = capsys.readouterr().out
    assert "tracks swapped" not in out and "of 1 photo" in out


@pytest.mark.slow  # three swaps and two short trainings: about half a minute on a busy 2-core machine
def test_the_resume_is_keyed_on_the_weights_not_on_other_files(facesets, shared_data, tmp_path, monkeypatch):  # noqa: F811
    from facecraft.train import train
    from facecraft.train.inference import FaceModel
    from facecraft.train.testing import tiny_config, tiny_model

    model_dir = tiny_model(tmp_path, facesets["A"], facesets["B"], steps=1)
    out = tmp_path / "out.mp4"
    real_convert = FaceModel.convert
    calls = {"n": 0}

    def crash_on_sixth(self, faces, to):
        calls["n"] += 1
        if calls["n"] == 6:
            raise RuntimeError("stopped on purpose")
        return real_convert(self, faces, to)

    monkeypatch.setattr(FaceModel, "convert", crash_on_sixth)
    with pytest.raises(RuntimeError, match="on purpose"):
        swap(shared_data / WOMAN, model_dir, out, CONFIG, progress=False, device="cpu")
    (model_dir / "preview.png").write_bytes(b"training is still writing its preview")  # not the weights
    report = swap(shared_data / WOMAN, model_dir, out, CONFIG, progress=False, device="cpu")
    # (the tiny model's quality warning is expected; no work may have been discarded)
    assert report.resumed_frames > 0 and not [w for w in report.warnings if "discarded" in w]
    calls["n"] = 0
    out.unlink()
    with pytest.raises(RuntimeError, match="on purpose"):
        swap(shared_data / WOMAN, model_dir, out, CONFIG, progress=False, device="cpu")
    train(facesets, model_dir, tiny_config(steps=2), progress=False)  # a new checkpoint: other weights
    report = swap(shared_data / WOMAN, model_dir, out, CONFIG, progress=False, device="cpu")
    assert report.resumed_frames == 0 and any("model" in w and "discarded" in w for w in report.warnings)
    with pytest.raises(FacecraftError, match="inside the model folder"):
        swap(shared_data / WOMAN, model_dir, model_dir / "x.mp4", CONFIG, progress=False)


@pytest.mark.slow  # a swap stopped by SIGTERM, then resumed
def test_sigterm_during_a_swap_saves_and_the_rerun_resumes(shared_data: Path, tmp_path: Path) -> None:
    import signal
    import sys
    import time

    out = tmp_path / "out.mp4"
    (tmp_path / "model").mkdir()
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); from swap_standin import TintModel; "
        "import facecraft.swap.run as r; r.load_model = lambda m, d: TintModel(); "
        "from facecraft.cli.main import main; sys.exit(main(sys.argv[2:]))"
    )
    args = [str(shared_data / WOMAN), "-m", str(tmp_path / "model"), "-o", str(out), "--end", "3"]
    tests = str(Path(__file__).parent)
    proc = subprocess.Popen(
        [sys.executable, "-c", script, tests, "-q", "swap", *args], stderr=subprocess.PIPE, text=True
    )
    state = work_folder(out) / STATE
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.3)
        if state.is_file() and json.loads(state.read_text())["segments"]:
            break
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143 and "stopped by SIGTERM" in err and "Traceback" not in err, err
    assert not out.exists() and _hidden(tmp_path) == []
    report = swap(shared_data / WOMAN, TintModel(), out, SwapConfig(end=3), progress=False)
    assert report.resumed_frames > 0 and report.frames == 75
