"""Streaming video decoding with PyAV: one frame at a time, with frame index and timestamp."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

from facecraft.errors import FacecraftError


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    width: int
    height: int
    fps: float
    frame_count: int  # from the container; may be an estimate
    duration: float  # seconds
    has_audio: bool


def _open(path: Path) -> av.container.InputContainer:
    if path.is_file() and path.stat().st_size == 0:
        raise FacecraftError(f"{path} is empty (0 bytes)")
    try:
        return av.open(str(path), mode="r")
    except (av.error.FFmpegError, OSError, UnicodeDecodeError):
        raise FacecraftError(f"{path} is not a readable video (corrupt, truncated, or not a video)") from None


def probe(path: str | Path) -> VideoInfo:
    """Size, frame rate, frame count and audio presence of a video. Raises FacecraftError when unreadable."""
    path = Path(path)
    with _open(path) as container:
        if not container.streams.video:
            raise FacecraftError(f"{path} has no video stream")
        stream = container.streams.video[0]
        fps = float(stream.average_rate or stream.guessed_rate or 25.0)
        duration = (
            float(stream.duration * stream.time_base)
            if stream.duration and stream.time_base
            else (float(container.duration) / 1e6 if container.duration else 0.0)
        )
        frames = int(stream.frames or round(duration * fps))
        return VideoInfo(
            path,
            stream.codec_context.width,
            stream.codec_context.height,
            fps,
            frames,
            duration,
            bool(container.streams.audio),
        )


@dataclass(frozen=True)
class Frame:
    index: int
    time: float  # seconds from the start
    image: np.ndarray  # BGR uint8 (H, W, 3)


class DecodeError(Exception):
    """Raised by :func:`iter_frames` when the stream is corrupt after ``frames_read`` good frames."""

    def __init__(self, frames_read: int, detail: str):
        super().__init__(detail)
        self.frames_read = frames_read


_BT601 = (0, 2, 5, 6)  # AVColorSpace: RGB/unset, unspecified, BT.470BG, SMPTE 170M
_FULL_RANGE = 2  # AVColorRange: JPEG


def to_bgr(frame: av.VideoFrame) -> np.ndarray:
    """A decoded frame as BGR uint8 (H, W, 3), rounded to the nearest level.

    PyAV's conversion (swscale without accurate rounding) makes every frame about one level darker; a
    video decoded and encoded again lost two, and each generation more. Limited-range BT.601 yuv420p (what
    facecraft writes, and most untagged video) is converted by OpenCV, which rounds; anything else (BT.709,
    full range, other layouts) goes through PyAV, which follows the frame's colour tags.
    """
    if (
        frame.format.name == "yuv420p"
        and frame.width % 2 == 0
        and frame.height % 2 == 0
        and frame.colorspace in _BT601
        and frame.color_range != _FULL_RANGE
    ):
        return cv2.cvtColor(frame.to_ndarray(format="yuv420p"), cv2.COLOR_YUV2BGR_I420)
    return frame.to_ndarray(format="bgr24")


def iter_frames(path: str | Path, start: int = 0) -> Iterator[Frame]:
    """Decode a video frame by frame from frame ``start`` (earlier frames are decoded and skipped).

    Raises DecodeError when the data turns corrupt mid-stream (the frames before are still yielded).
    """
    path = Path(path)
    with _open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        fps = float(stream.average_rate or stream.guessed_rate or 25.0)
        index = 0
        try:
            for frame in container.decode(stream):
                if index >= start:
                    t = float(frame.time) if frame.time is not None else index / fps
                    yield Frame(index, t, to_bgr(frame))
                index += 1
        except av.error.FFmpegError as exc:
            raise DecodeError(index, str(exc)) from None
