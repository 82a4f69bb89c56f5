"""Pure builders of ffmpeg command lines (tested without running ffmpeg) and the bundled binary's path.

The ffmpeg binary is the static build shipped inside the imageio-ffmpeg wheel; no system ffmpeg is needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path


@cache
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary bundled with imageio-ffmpeg."""
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def encode_command(
    output: str | Path,
    width: int,
    height: int,
    fps: float,
    *,
    crf: int = 18,
    preset: str = "veryfast",
    audio_from: str | Path | None = None,
    audio_start: float = 0.0,
    audio_duration: float | None = None,
    metadata: Mapping[str, str] | None = None,
    container_format: str = "mp4",
    pix_fmt: str = "yuv420p",
) -> list[str]:
    """ffmpeg arguments that read raw BGR frames on stdin and write H.264 (yuv420p) to ``output``.

    ``audio_from``: a media file whose first audio stream is muxed in, cut to start at ``audio_start``
    seconds and last ``audio_duration`` seconds (the video's length), so sound stays in sync.
    ``metadata``: container tags (e.g. comment) written into the output.
    ``pix_fmt``: yuv420p (the most compatible; odd sizes are padded to even) or yuv444p (any size, kept exact).
    """
    cmd = [
        ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "bgr24",
        "-s",
        f"{width}x{height}",
        "-r",
        f"{fps:.6f}",
        "-i",
        "pipe:0",
    ]
    if audio_from is not None:
        if audio_start > 0:
            cmd += ["-ss", f"{audio_start:.6f}"]
        if audio_duration is not None:
            cmd += ["-t", f"{audio_duration:.6f}"]
        cmd += ["-i", str(audio_from), "-map", "0:v:0", "-map", "1:a:0?", "-c:a", "aac", "-b:a", "160k"]
    # H.264 in yuv420p needs even sizes: pad odd ones by one pixel (cropped back by players via SAR-less pad).
    pad = "pad=ceil(iw/2)*2:ceil(ih/2)*2" if (width % 2 or height % 2) and pix_fmt == "yuv420p" else None
    # Rounded conversion from BGR (swscale's default truncates: about 1 level darker per encode), and the
    # matrix it used (BT.601, limited range) written into the stream so that players and decoders agree.
    cmd += ["-sws_flags", "accurate_rnd+full_chroma_int", "-colorspace", "smpte170m", "-color_range", "tv"]
    cmd += ["-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", pix_fmt]
    if pad:
        cmd += ["-vf", pad]
    for key, value in (metadata or {}).items():
        cmd += ["-metadata", f"{key}={value}"]
    if container_format == "mp4":
        cmd += ["-movflags", "+faststart"]
    cmd += ["-f", container_format, str(output)]
    return cmd


def remux_command(
    source: str | Path, output: str | Path, metadata: Mapping[str, str], *, container_format: str = "mp4"
) -> list[str]:
    """ffmpeg arguments that copy every stream of ``source`` unchanged into ``output`` with extra container tags."""
    cmd = [
        ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-i",
        str(source),
        "-map",
        "0",
        "-c",
        "copy",
    ]
    for key, value in metadata.items():
        cmd += ["-metadata", f"{key}={value}"]
    if container_format == "mp4":
        cmd += ["-movflags", "+faststart"]
    cmd += ["-f", container_format, str(output)]
    return cmd
