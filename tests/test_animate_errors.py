"""Every mistake in an animate request is refused before anything is rendered, and leaves no file behind."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from facecraft.animate import AnimateConfig, animate
from facecraft.errors import FacecraftError

RUN = importlib.import_module("facecraft.animate.run")  # the module (facecraft.animate is also a verb)


@pytest.fixture
def nothing_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if animate gets as far as loading the portrait (i.e. starts the real work)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("animate started rendering before the request was checked")

    monkeypatch.setattr(RUN, "load_portrait", refuse)


def _inputs(shared_data: Path) -> tuple[Path, Path, Path]:
    return (
        shared_data / "portraits" / "mona_lisa.jpg",
        shared_data / "videos" / "woman_glasses_talking_5s_audio.mp4",
        shared_data / "images" / "obama_1_portrait.jpg",
    )


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("avi", r"must end in \.mp4"),
        ("png", r"writes a video, not an image"),
        ("gif", r"must end in \.mp4"),
        ("photo_driver", r"is a photo, not a video"),
        ("audio_driver", r"is an audio file; .*--audio"),
        ("neither", r"nothing drives the portrait"),
        ("both", r"not both"),
        ("missing_audio", r"audio source .* does not exist"),
        ("silent_audio", r"is silent .* give a file with speech"),
        ("missing_driver", r"driving video .* does not exist"),
        ("output_is_input", r"is one of the inputs"),
        ("bad_seconds", r"--seconds must be"),
    ],
)
def test_bad_requests_fail_before_rendering(
    shared_data: Path, tmp_path: Path, nothing_renders: None, kind: str, message: str
) -> None:
    portrait, video, photo = _inputs(shared_data)
    out = tmp_path / "out.mp4"
    kwargs: dict[str, object] = {"driving": video, "output": out, "progress": False}
    if kind in ("avi", "png", "gif"):
        kwargs["output"] = out = tmp_path / f"out.{kind}"
    elif kind == "photo_driver":
        kwargs["driving"] = photo
    elif kind == "audio_driver":
        wav = tmp_path / "speech.wav"
        wav.write_bytes(b"RIFF")
        kwargs["driving"] = wav
    elif kind == "neither":
        kwargs["driving"] = None
    elif kind == "both":
        kwargs["performance"] = "talk"
    elif kind == "missing_audio":
        kwargs.update(driving=None, audio=tmp_path / "nope.wav")
    elif kind == "silent_audio":  # a clip whose sound track is digital silence
        kwargs.update(driving=None, audio=shared_data / "videos" / "man_grey_backdrop_7s_audio.mp4")
    elif kind == "missing_driver":
        kwargs["driving"] = tmp_path / "nope.mp4"
    elif kind == "output_is_input":
        copy = tmp_path / "clip.mp4"
        copy.write_bytes(video.read_bytes())
        kwargs.update(driving=copy, output=copy)
        out = copy
    elif kind == "bad_seconds":
        kwargs.update(driving=None, performance="talk", seconds=-1.0)
    existed = out.exists()
    with pytest.raises(FacecraftError, match=message):
        animate(portrait, **kwargs)  # type: ignore[arg-type]
    assert out.exists() == existed, "a refused request must not create or remove the output"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no partial files left behind"


def test_cli_reports_a_bad_output_in_one_line(
    shared_data: Path, tmp_path: Path, nothing_renders: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from facecraft.cli.main import main

    portrait, video, _ = _inputs(shared_data)
    code = main(["-q", "animate", str(portrait), str(video), "-o", str(tmp_path / "out.avi")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "out.avi" in err and "Traceback" not in err
    assert main(["-q", "animate", str(portrait), "-o", str(tmp_path / "out.mp4")]) == 2
    assert "nothing drives the portrait" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_a_failure_while_rendering_leaves_no_output(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    portrait, _, _ = _inputs(shared_data)
    out = tmp_path / "out.mp4"

    def broken_label(*args: object, **kwargs: object) -> None:
        raise FacecraftError("signing failed")

    monkeypatch.setattr(RUN, "label_video", broken_label)
    with pytest.raises(FacecraftError, match="signing failed"):
        animate(
            portrait,
            performance="nod",
            seconds=0.2,
            output=out,
            config=AnimateConfig(size=128),
            progress=False,
        )
    assert list(tmp_path.iterdir()) == [], "an unlabelled or partial video must never be left behind"


def test_a_one_frame_video_is_refused_as_a_driver(
    shared_data: Path, tmp_path: Path, nothing_renders: None
) -> None:
    import numpy as np

    from facecraft.media.writer import VideoWriter

    portrait, _, _ = _inputs(shared_data)
    still = tmp_path / "still.mp4"
    with VideoWriter(still, 64, 64, 25.0) as writer:
        writer.write(np.zeros((64, 64, 3), np.uint8))
    with pytest.raises(FacecraftError, match="has 1 frame"):
        animate(portrait, still, output=tmp_path / "out.mp4", progress=False)
    assert not (tmp_path / "out.mp4").exists()


def test_an_interrupted_animate_says_nothing_was_written(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # animate keeps no partial work: telling the user "what was done is saved" (as for swap) would be false.
    from facecraft.cli.main import main

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(RUN, "load_portrait", interrupted)
    out = tmp_path / "out.mp4"
    code = main(
        ["animate", str(shared_data / "portraits" / "mona_lisa.jpg"), "--performance", "nod", "-o", str(out)]
    )
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 130
    assert err == (
        "facecraft animate: interrupted; no output was written (it appears only once complete); "
        "run the same command again"
    )
    assert not out.exists()
