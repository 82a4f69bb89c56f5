"""Extracting one video with three threads, so both cores of a small machine stay busy.

- decode thread: decodes frames and, on frames whose index puts them on the detection schedule,
  runs the detector and the identity encoder (its own instances);
- caller's thread: meshes and tracks faces (the only step that needs the previous frame's result);
- write thread: aligns and measures faces, writes PNGs, commits rows with the tracker state.

OpenCV, MediaPipe and the PNG encoder release the GIL. The detection schedule depends only on the
frame index, so the result is the same however the threads interleave, and the same after a resume.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Any

from tqdm import tqdm

from facecraft.extract.analyze import AnalyzedFace, Detected, FaceFinder, FollowedFace, FrameAnalyzer, measure
from facecraft.extract.config import ExtractConfig
from facecraft.face.track import Tracker
from facecraft.faceset.schema import image_name
from facecraft.faceset.store import Faceset
from facecraft.media.video import DecodeError, Frame, iter_frames


@dataclass
class _Decoded:
    frame: Frame
    detected: list[Detected] | None


@dataclass
class _Followed:
    frame: Frame
    faces: list[FollowedFace]
    state: dict[str, Any] | None  # tracker state after this frame, at commit points


@dataclass
class VideoResult:
    faces: int = 0
    frames: int = 0
    decode_error: DecodeError | None = None


def write_faces(faceset: Faceset, source_id: int, faces: list[AnalyzedFace]) -> None:
    """Write the aligned images of ``faces`` and set their file names on the records."""
    for f in faces:
        r = f.record
        r.image = image_name(source_id, r.frame_index, r.face_index)
        faceset.write_image(r.image, f.aligned)


class VideoExtraction:
    """Extract the frames of one video from ``start`` on, continuing ``tracker``."""

    def __init__(
        self,
        faceset: Faceset,
        source_id: int,
        path: str,
        analyzer: FrameAnalyzer,
        config: ExtractConfig,
        tracker: Tracker,
    ):
        self.faceset, self.source_id, self.path = faceset, source_id, path
        self.analyzer, self.config, self.tracker = analyzer, config, tracker
        self._decoded: queue.Queue[_Decoded | None] = queue.Queue(maxsize=8)
        self._followed: queue.Queue[_Followed | None] = queue.Queue(maxsize=16)
        self._stop = threading.Event()
        self._errors: list[BaseException] = []
        self.result = VideoResult()

    def run(self, start: int, bar: tqdm) -> VideoResult:
        reader = threading.Thread(target=self._decode, args=(start,), name="facecraft-decode", daemon=True)
        writer = threading.Thread(target=self._write, name="facecraft-write", daemon=True)
        reader.start()
        writer.start()
        since_commit = 0
        item: _Decoded | None = None
        try:
            while (item := self._decoded.get()) is not None and not self._errors:
                f = item.frame
                faces = self.analyzer.follow(f.image, f.index, f.time, self.tracker, True, item.detected)
                since_commit += 1
                commit = since_commit >= self.config.commit_every
                self._followed.put(_Followed(f, faces, self._state() if commit else None))
                since_commit = 0 if commit else since_commit
                self.result.faces += len(faces)
                self.result.frames += 1
                bar.update(1)
        finally:
            # Whatever happened (end, error, Ctrl-C), commit what was analysed with the state after it.
            self._stop.set()
            while item is not None:  # let the decoder finish its last put and stop
                item = self._decoded.get()
            self._followed.put(_Followed(Frame(-1, 0.0, None), [], self._state()))  # type: ignore[arg-type]
            self._followed.put(None)
            writer.join()
            reader.join(timeout=5)
        if self._errors:
            raise self._errors[0]
        return self.result

    def _state(self) -> dict[str, Any]:
        return {"tracker": self.tracker.to_json()}

    def _decode(self, start: int) -> None:
        finder = FaceFinder(self.config)
        try:
            for frame in iter_frames(self.path, start):
                if self._stop.is_set():
                    break
                if frame.index % self.config.every:
                    continue
                due = self.analyzer.detection_due(frame.index)
                embed = self.analyzer.embedding_due(frame.index)
                self._decoded.put(_Decoded(frame, finder.detect(frame.image, embed) if due else None))
        except DecodeError as exc:
            self.result.decode_error = exc
        except BaseException as exc:
            self._errors.append(exc)
        finally:
            self._decoded.put(None)

    def _write(self) -> None:
        indices: list[int] = []
        measured: list[AnalyzedFace] = []
        while (item := self._followed.get()) is not None:
            if self._errors:
                continue  # keep draining so the other threads never block
            try:
                f = item.frame
                if f.image is not None:
                    indices.append(f.index)
                    measured.extend(
                        measure(f.image, self.path, f.index, f.time, face, self.config) for face in item.faces
                    )
                if item.state is not None and indices:
                    write_faces(self.faceset, self.source_id, measured)
                    self.faceset.commit_frames(
                        self.source_id, indices, [m.record for m in measured], item.state
                    )
                    indices, measured = [], []
            except BaseException as exc:
                self._errors.append(exc)
