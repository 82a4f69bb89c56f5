"""``animate --say TEXT``: speech from the machine's text-to-speech engine, refused clearly where there is none."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pytest

from facecraft.animate.lipsync import lip_sync
from facecraft.animate.say import MAX_CHARS, check_text, find_engine, tts_command
from facecraft.cli.main import main
from facecraft.errors import FacecraftError
from facecraft.media.video import probe

RUN = importlib.import_module("facecraft.animate.run")
HAS_ENGINE = any(shutil.which(n) for n in ("espeak-ng", "espeak"))


def test_text_is_checked_and_passed_as_one_argument(tmp_path: Path) -> None:
    assert check_text("  Hello,\n  world ") == "Hello, world"
    for bad in ("", "   ", "x" * (MAX_CHARS + 1)):
        with pytest.raises(FacecraftError):
            check_text(bad)
    cmd = tts_command("/usr/bin/espeak-ng", "-v rm -rf; hi", tmp_path / "a.wav", "fr")
    assert cmd[-2:] == ["--", "-v rm -rf; hi"] and cmd[cmd.index("-v") : cmd.index("-v") + 2] == ["-v", "fr"]


def test_no_engine_is_one_clear_line_before_any_rendering(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("animate started rendering before --say was checked")

    monkeypatch.setattr(RUN, "load_portrait", refuse)
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng, no espeak
    with pytest.raises(FacecraftError, match="espeak-ng"):
        find_engine()
    portrait, out = shared_data / "portraits" / "mona_lisa.jpg", tmp_path / "out.mp4"
    assert main(["-q", "animate", str(portrait), "--say", "Hello", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "apt-get install espeak-ng" in err and "--audio" in err
    speech = shared_data / "videos" / "woman_glasses_talking_5s_audio.mp4"
    assert main(["-q", "animate", str(portrait), "--say", "Hi", "--audio", str(speech), "-o", str(out)]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["-q", "animate", str(portrait), str(speech), "--voice", "fr", "-o", str(out)]) == 2
    assert "--voice is for --say" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.skipif(not HAS_ENGINE, reason="no text-to-speech engine (apt-get install espeak-ng)")
def test_a_portrait_says_a_sentence(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "says.mp4"
    text = "Hello. I was painted in Florence, five hundred years ago. People still ask me why I smile."
    portrait = shared_data / "portraits" / "mona_lisa.jpg"
    assert main(["-q", "animate", str(portrait), "--say", text, "--size", "256", "-o", str(out)]) == 0
    got = probe(out)
    assert got.has_audio and 4.0 < got.frame_count / got.fps < 12.0
    scores = lip_sync(out)  # the mouth measured on the output's frames against its own sound track
    assert scores["faces_lost"] == 0
    assert scores["correlation"] >= 0.6, scores
    assert scores["closed_in_silence"] >= 0.6, scores
