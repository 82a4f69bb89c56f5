"""Writing videos frame by frame through the bundled ffmpeg, atomically (temp file, then rename)."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from facecraft.errors import FacecraftError
from facecraft.media.ffmpeg import encode_command


class VideoWriter:
    """Stream BGR uint8 frames into an H.264 MP4, optionally with audio from another file.

    The file appears at ``path`` only when :meth:`close` succeeds; an interrupted write leaves no
    half-written output behind. Use as a context manager.
    """

    def __init__(
        self,
        path: str | Path,
        width: int,
        height: int,
        fps: float,
        *,
        crf: int = 18,
        audio_from: str | Path | None = None,
        audio_start: float = 0.0,
        audio_duration: float | None = None,
        metadata: Mapping[str, str] | None = None,
        pix_fmt: str = "yuv420p",
    ):
        self.path = Path(path)
        self.size = (width, height)
        self.frames = 0
        self._tmp = self.path.with_name(f".{self.path.stem}.partial{self.path.suffix}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FacecraftError(f"cannot create the folder {self.path.parent}: {exc.strerror}") from None
        if not os.access(self.path.parent, os.W_OK):
            raise FacecraftError(
                f"no permission to write in {self.path.parent}; choose another output folder"
            )
        cmd = encode_command(
            self._tmp,
            width,
            height,
            fps,
            crf=crf,
            audio_from=audio_from,
            audio_start=audio_start,
            audio_duration=audio_duration,
            metadata=metadata,
            pix_fmt=pix_fmt,
        )
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)

    def write(self, frame: np.ndarray) -> None:
        """Append one BGR uint8 frame of the writer's size."""
        h, w = frame.shape[:2]
        if (w, h) != self.size or frame.dtype != np.uint8:
            raise ValueError(
                f"frame is {w}x{h} {frame.dtype}, writer expects {self.size[0]}x{self.size[1]} uint8"
            )
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame).tobytes())
        except BrokenPipeError:
            raise FacecraftError(f"ffmpeg stopped while writing {self.path}: {self._stderr()}") from None
        self.frames += 1

    def _stderr(self) -> str:
        assert self._proc.stderr is not None
        self._proc.wait()
        text = self._proc.stderr.read().decode(errors="replace").strip()
        return text.splitlines()[-1] if text else f"exit code {self._proc.returncode}"

    def close(self) -> Path:
        """Finish the file and move it into place. Returns its path."""
        assert self._proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self._proc.stdin.close()
        if self._proc.wait() != 0:
            detail = self._stderr()
            self._tmp.unlink(missing_ok=True)
            if "No space left" in detail:
                raise FacecraftError(f"the disk is full while writing {self.path}")
            raise FacecraftError(f"ffmpeg could not write {self.path}: {detail}")
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Stop writing and remove the partial file."""
        self._proc.kill()
        self._proc.wait()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
