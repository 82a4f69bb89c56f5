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
"""The edits the fast tests and the slow robustness test check on every shared video."""
GEOMETRIC = ("hflip_strip", "vflip", "rot+5", "rot-5", "rot+2", "squash15", "stretch15")
"""Edits that move pixels: mirror (the hflip one also strips all metadata), rotate, squash or stretch."""
EXPORTS = ("gif480", "gif480pal")
"""Format exports the benchmark tries: ffmpeg's default GIF (its fixed 3-3-2 palette) and the common
palettegen/paletteuse GIF recipe (10 fps, 256 colours, dithered); both at 480 px wide."""
GIF_PALETTE_FILTER = "fps=10,scale=480:-1:flags=lanczos,split[s0][s1];[s0]palettegen[p];[s1][p]paletteuse"
THUMBNAILS = (64, 96, 128, 160, 192, 256)
"""Thumbnail widths (px) the benchmark tries, to find the smallest the design allows."""

_FILTERS = {
    "crf28": None,
    "half": "scale=trunc(iw/4)*2:trunc(ih/4)*2",
    "crop10": "crop=trunc(iw*0.45)*2:trunc(ih*0.45)*2:trunc(iw*0.03):trunc(ih*0.03)",
    "hflip_strip": "hflip",
    "vflip": "vflip",
    "rot+5": "rotate=5*PI/180",
    "rot-5": "rotate=-5*PI/180",
    "rot+2": "rotate=2*PI/180",
    "squash15": "scale=trunc(iw*0.85/2)*2:ih",
    "stretch15": "scale=iw:trunc(ih*1.15/2)*2",
}


def edited_suffix(name: str) -> str:
    """The file extension an edit writes (.gif for the GIF export, else .mp4)."""
    return ".gif" if name.startswith("gif") else ".mp4"


def transform_command(name: str, source: str | Path, dest: str | Path, duration: float) -> list[str]:
    """ffmpeg arguments for one edit of ``source`` (H.264 out, except the GIF export).

    crf28: re-encode at CRF 28; half: downscale to half width and height; crop10: keep 90% of the width
    and height (off-centre: 3% from the left/top); cut2s: the 2 seconds in the middle (``duration`` s long);
    hflip_strip: mirror and drop all metadata (``-map_metadata -1``); vflip: upside down; rot+-N: rotate
    by N degrees (black corners, same size); squash15 / stretch15: width x0.85 / height x1.15;
    gif480: ffmpeg's default GIF export at 480 px wide; gif480pal: the palettegen recipe (see EXPORTS); thumbN: N px wide (e.g. thumb96).
    """
    head = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    h264 = ["-c:v", "libx264", "-crf", "23"]
    if name == "cut2s":
        start = max(0.0, (duration - 2.0) / 2)
        return [*head, "-ss", f"{start:.3f}", "-i", str(source), "-t", "2", *h264, "-an", str(dest)]
    if name in ("gif480", "gif480pal"):
        vf = "scale=480:-1" if name == "gif480" else GIF_PALETTE_FILTER
        return [*head, "-i", str(source), "-vf", vf, "-an", str(dest)]
    if name.startswith("thumb") and name[5:].isdigit():
        vf = f"scale={int(name[5:])}:-2"
        return [*head, "-i", str(source), "-vf", vf, *h264, "-an", str(dest)]
    if name not in _FILTERS:
        raise ValueError(f"unknown transform {name!r}; one of {TRANSFORMS + GEOMETRIC} or thumbN")
    chain = _FILTERS[name]
    args = ["-c:v", "libx264", "-crf", "28"] if chain is None else ["-vf", chain, *h264]
    strip = ["-map_metadata", "-1"] if name == "hflip_strip" else []
    return [*head, "-i", str(source), *args, *strip, "-an", str(dest)]


def labelled_copy(
    source: Path,
    dest: Path,
    max_frames: int | None = None,
    action: str = "swap",
    content_id: int | None = None,
    face_aware: bool | None = None,
) -> int:
    """Write the first ``max_frames`` frames of ``source`` to ``dest`` as a stage would (frames labelled while
    encoding, then tags and manifest) and return the content id (random unless given). Stands in for a swap
    output in tests. ``face_aware``: lower the mark on faces (None: the labeller's default)."""
    info = probe(source)
    labeller = FrameLabeller() if content_id is None else FrameLabeller(content_id=content_id)
    if face_aware is not None:
        labeller.face_aware = face_aware
    with VideoWriter(dest, info.width, info.height, info.fps) as writer:
        for frame in iter_frames(source):
            if max_frames is not None and frame.index >= max_frames:
                break
            writer.write(labeller.apply(frame.image))
    label_video(
        dest, action, [source], content_id=labeller.content_id, replaced=labeller.replaced_content_ids
    )
    return labeller.content_id
