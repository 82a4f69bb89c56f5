"""Resumable video swaps: finished output segments plus the state needed to continue after them.

A swap writes its video in segments of a fixed number of frames into a work folder next to the output.
After each segment is safely on disk, ``state.json`` records it together with the tracker and colour
state at that frame, so a rerun starts from the next segment and produces the same frames. The final
output is the segments joined without re-encoding, with the source audio muxed in.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from facecraft.fileio import FolderLock, write_atomic
from facecraft.media.ffmpeg import ffmpeg_exe

STATE = "state.json"


def work_folder(output: Path) -> Path:
    """The hidden folder next to ``output`` that holds an unfinished swap."""
    return output.with_name(f".{output.name}.swap-work")


@contextmanager
def output_lock(output: Path, folder: bool = False) -> Iterator[FolderLock]:
    """Hold an exclusive lock on ``output`` (a file, or a ``folder`` of photos) for a swap, so two runs
    cannot write it at once. The lock file goes away when the swap ends, however it ends; one left by a
    killed run is taken over (see :class:`facecraft.fileio.FolderLock`)."""
    what = f"the output {output}"
    lock = (
        FolderLock.for_folder(output, what, "swap") if folder else FolderLock.for_file(output, what, "swap")
    )
    with lock:
        yield lock


@dataclass
class Checkpoint:
    """What a video swap has finished. ``segments``: frame counts of the finished segments, in order."""

    folder: Path
    fingerprint: dict[str, Any]
    segments: list[int] = field(default_factory=list)
    complete: bool = False
    tracker: dict[str, Any] | None = None
    color: dict[str, Any] | None = None
    counters: dict[str, Any] = field(default_factory=dict)
    content_id: int | None = None  # the provenance watermark id, the same across resumes
    exemplars: dict[str, Any] | None = None  # which exemplar each track uses, its mean shape (swap.exemplars)

    @classmethod
    def open(cls, folder: Path, fingerprint: dict[str, Any]) -> tuple[Checkpoint, bool, str | None]:
        """The checkpoint in ``folder`` when it was made with the same ``fingerprint``; otherwise a fresh one
        (the folder's old contents are removed). Returns it, whether earlier work is reused, and when earlier
        work was thrown away, why (what changed), for the user to read."""
        state = folder / STATE
        discarded: str | None = None
        if state.is_file():
            try:
                data = json.loads(state.read_text())
            except (OSError, ValueError):
                data = {}
            old = data.get("fingerprint") or {}
            new = json.loads(json.dumps(fingerprint))
            if old == new:
                cp = cls(
                    folder,
                    fingerprint,
                    list(data["segments"]),
                    bool(data["complete"]),
                    data["tracker"],
                    data["color"],
                    dict(data["counters"]),
                    data.get("content_id"),
                    data.get("exemplars"),
                )
                return cp, bool(cp.segments), None
            done = sum(data.get("segments") or [])
            if done:
                changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k)) or ["its state"]
                discarded = (
                    f"an unfinished earlier swap to this output ({done} frames) was made with a different "
                    f"{', '.join(changed)}; it was discarded and the swap started over"
                )
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        return cls(folder, fingerprint), False, discarded

    @property
    def frames_done(self) -> int:
        return sum(self.segments)

    def segment_path(self, index: int, preview: bool = False) -> Path:
        return self.folder / f"{'preview' if preview else 'segment'}_{index:05d}.mp4"

    def save(self) -> None:
        data = {
            "fingerprint": self.fingerprint,
            "segments": self.segments,
            "complete": self.complete,
            "tracker": self.tracker,
            "color": self.color,
            "counters": self.counters,
            "content_id": self.content_id,
            "exemplars": self.exemplars,
        }
        write_atomic(self.folder / STATE, json.dumps(data).encode())

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def concat_command(
    list_file: str | Path,
    output: str | Path,
    *,
    audio_from: str | Path | None = None,
    audio_start: float = 0.0,
    audio_duration: float | None = None,
    rotation: int = 0,
    metadata: Mapping[str, str] | None = None,
) -> list[str]:
    """ffmpeg arguments that join the H.264 segments listed in ``list_file`` (concat demuxer format) without
    re-encoding, mux the first audio stream of ``audio_from`` cut to [audio_start, audio_start +
    audio_duration] seconds, and restore a display ``rotation`` (degrees, counter-clockwise) of the source."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    if rotation:
        cmd += ["-display_rotation:v:0", str(rotation)]
    cmd += ["-f", "concat", "-safe", "0", "-i", str(list_file)]
    if audio_from is not None:
        if audio_start > 0:
            cmd += ["-ss", f"{audio_start:.6f}"]
        if audio_duration is not None:
            cmd += ["-t", f"{audio_duration:.6f}"]
        cmd += ["-i", str(audio_from)]
    cmd += ["-map", "0:v:0"]
    if audio_from is not None:
        cmd += ["-map", "1:a:0?", "-c:a", "aac", "-b:a", "160k"]
    cmd += ["-c:v", "copy"]
    for key, value in (metadata or {}).items():
        cmd += ["-metadata", f"{key}={value}"]
    cmd += ["-movflags", "+faststart", "-f", "mp4", str(output)]
    return cmd


def concat_list(paths: list[Path]) -> str:
    """The concat demuxer's list of files (absolute paths, quotes escaped)."""
    lines = []
    for p in paths:
        escaped = str(p.resolve()).replace("'", "'\\''")
        lines.append(f"file '{escaped}'")
    return "\n".join(lines) + "\n"
