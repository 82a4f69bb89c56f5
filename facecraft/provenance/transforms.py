"""The edits a watermark must survive, as pure ffmpeg command builders, and a labelled-copy helper.

Used by the robustness tests and ``benchmarks/provenance.py``; also handy to check a setting by hand.
"""

from __future__ import annotations

from pathlib import Path

from facecraft.media.ffmpeg import ffmpeg_exe
from facecraft.media.video import iter_frames, probe
from facecraft.media.writer import VideoWriter
from facecraft.provenance.label import FrameLabeller, label_video

TRANSFORMS = ("crf28", "half", "crop10", "cut2s")


def transform_command(name: str, source: str | Path, dest: str | Path, duration: float) -> list[str]:
    """ffmpeg arguments for one edit of ``source`` (H.264 out).

    crf28: re-encode at CRF 28; half: downscale to half width and height; crop10: keep 90% of the width
    and height (off-centre: 3% from the left/top); cut2s: the 2 seconds in the middle (``duration`` s long).
    """
    args: list[str]
    if name == "crf28":
        args = ["-c:v", "libx264", "-crf", "28"]
    elif name == "half":
        args = ["-vf", "scale=trunc(iw/4)*2:trunc(ih/4)*2", "-c:v", "libx264", "-crf", "23"]
    elif name == "crop10":
        args = [
            "-vf",
            "crop=trunc(iw*0.45)*2:trunc(ih*0.45)*2:trunc(iw*0.03):trunc(ih*0.03)",
            "-c:v",
            "libx264",
            "-crf",
            "23",
        ]
    elif name == "cut2s":
        start = max(0.0, (duration - 2.0) / 2)
        return [
            ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-ss",
            f"{start:.3f}",
            "-i",
            str(source),
            "-t",
            "2",
            "-c:v",
            "libx264",
            "-crf",
            "23",
            "-an",
            str(dest),
        ]
    else:
        raise ValueError(f"unknown transform {name!r}; one of {TRANSFORMS}")
    return [
        ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-i",
        str(source),
        *args,
        "-an",
        str(dest),
    ]


def labelled_copy(
    source: Path,
    dest: Path,
    max_frames: int | None = None,
    action: str = "swap",
    content_id: int | None = None,
) -> int:
    """Write the first ``max_frames`` frames of ``source`` to ``dest`` as a stage would (frames labelled while
    encoding, then tags and manifest) and return the content id (random unless given). Stands in for a swap
    output in tests."""
    info = probe(source)
    labeller = FrameLabeller() if content_id is None else FrameLabeller(content_id=content_id)
    with VideoWriter(dest, info.width, info.height, info.fps) as writer:
        for frame in iter_frames(source):
            if max_frames is not None and frame.index >= max_frames:
                break
            writer.write(labeller.apply(frame.image))
    label_video(
        dest, action, [source], content_id=labeller.content_id, replaced=labeller.replaced_content_ids
    )
    return labeller.content_id
