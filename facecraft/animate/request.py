"""Check an animate request before any model loads or any frame is rendered.

Every mistake a user can make in the command line (a wrong output type, an image given as the driving
video, a missing audio file, no source of motion at all) is caught here, in milliseconds, so a long
render never ends in an error and no partial or unlabelled file is ever left behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from facecraft.errors import FacecraftError
from facecraft.media.inputs import IMAGE_EXTS, VIDEO_EXTS

#: Containers the output can be written and signed (content credentials) in.
VIDEO_OUT_EXTS = (".mp4", ".m4v", ".mov")
AUDIO_EXTS = (".wav", ".mp3", ".m4a", ".aac", ".flac", ".ogg", ".opus")


@dataclass(frozen=True)
class Source:
    """Where the motion comes from: ``kind`` is "video", "performance" or "audio"."""

    kind: str
    driving: Path | None = None
    performance: str | None = None
    audio: Path | None = None


def check_request(
    portrait: str | Path | None,
    driving: str | Path | None,
    performance: str | None,
    audio: str | Path | None,
    output: str | Path,
    *,
    consent: str | Path | None = None,
    seconds: float | None = None,
) -> Source:
    """Validate the inputs and the output of an animation; raise FacecraftError with one clear line.

    ``portrait`` None means an in-memory image (nothing to check on disk).
    """
    if driving is not None and performance is not None:
        raise FacecraftError("give either a driving video or --performance NAME, not both")
    if driving is None and performance is None and audio is None:
        raise FacecraftError(
            "nothing drives the portrait: give a driving video, --performance NAME or --audio SPEECH.wav"
        )
    if portrait is not None:
        _check_file(Path(portrait), "portrait")
        if Path(portrait).suffix.lower() not in IMAGE_EXTS:
            raise FacecraftError(
                f"the portrait {portrait} is not a photo (by its extension); use one of "
                f"{', '.join(sorted(IMAGE_EXTS))}"
            )
    if driving is not None:
        _check_driving(Path(driving))
    if audio is not None:
        _check_file(Path(audio), "audio source")
        if Path(audio).suffix.lower() not in (*AUDIO_EXTS, *VIDEO_EXTS):
            raise FacecraftError(
                f"{audio} is not an audio or video file (by its extension); use one of {', '.join(AUDIO_EXTS)}"
            )
    if consent is not None:
        _check_file(Path(consent), "consent record")
    if seconds is not None and not 0 < seconds <= 600:
        raise FacecraftError(f"--seconds must be between 0 and 600, got {seconds:g}")
    inputs = [Path(p) for p in (portrait, driving, audio, consent) if p is not None]
    check_output(Path(output), inputs)
    if driving is not None:
        return Source("video", driving=Path(driving), audio=Path(audio) if audio else None)
    if performance is not None:
        return Source("performance", performance=performance, audio=Path(audio) if audio else None)
    return Source("audio", audio=Path(audio) if audio else None)


def _check_file(path: Path, what: str) -> None:
    if not path.exists():
        raise FacecraftError(f"the {what} {path} does not exist")
    if not path.is_file():
        raise FacecraftError(f"the {what} {path} is not a file")


def _check_driving(path: Path) -> None:
    _check_file(path, "driving video")
    ext = path.suffix.lower()
    if ext in IMAGE_EXTS:
        raise FacecraftError(
            f"the driving input {path.name} is a photo, not a video; give a video of a face "
            "(or use --performance NAME or --audio SPEECH.wav)"
        )
    if ext in AUDIO_EXTS:
        raise FacecraftError(
            f"the driving input {path.name} is an audio file; to make the portrait speak it, use --audio {path}"
        )
    if ext not in VIDEO_EXTS:
        raise FacecraftError(
            f"the driving input {path.name} is not a video (by its extension); use one of "
            f"{', '.join(sorted(VIDEO_EXTS))}"
        )
    from facecraft.media.video import probe

    info = probe(path)  # fails on a broken file or one without a picture
    if info.frame_count == 1:  # (0: the container does not say; decoding will tell)
        raise FacecraftError(
            f"the driving video {path.name} has {info.frame_count} frame(s); give a video with motion in it"
        )


def check_output(output: Path, inputs: list[Path]) -> None:
    """The output must be a video container we can sign, must not overwrite an input, and its folder
    must be writable."""
    ext = output.suffix.lower()
    if ext not in VIDEO_OUT_EXTS:
        hint = " (animate writes a video, not an image)" if ext in IMAGE_EXTS else ""
        raise FacecraftError(
            f"the output {output.name} must end in {', '.join(VIDEO_OUT_EXTS)}{hint}; e.g. -o {output.stem}.mp4"
        )
    if output.is_dir():
        raise FacecraftError(f"the output {output} is a folder; give a file name such as {output}/out.mp4")
    for src in inputs:
        if src.exists() and output.exists() and output.resolve() == src.resolve():
            raise FacecraftError(f"the output {output} is one of the inputs; choose another output path")
    folder = output.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FacecraftError(f"cannot create the output folder {folder}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK):
        raise FacecraftError(f"no permission to write in {folder}; choose another output folder")


@contextmanager
def staged_output(output: Path) -> Iterator[Path]:
    """A path with the output's name in a hidden folder next to it; moved onto ``output`` only when the
    block finishes without error (rendered and labelled), removed otherwise."""
    stage = Path(tempfile.mkdtemp(prefix=f".{output.stem}.animate-", dir=output.parent))
    try:
        staged = stage / output.name
        yield staged
        os.replace(staged, output)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
