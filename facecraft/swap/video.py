"""Swapping faces in a video: decode, analyse, convert and encode run concurrently, in resumable segments.

Four stages share the work, joined by small queues: a thread decodes frames; the caller's thread finds
the faces (detection, mesh, tracking, smoothing, alignment); a thread runs the model on batches of faces
and composites them; a thread encodes the output segments. OpenCV, MediaPipe, torch and ffmpeg release
the GIL, so the stages overlap on a small CPU as well as on a GPU machine.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from facecraft.extract.analyze import Detected
from facecraft.face.track import Tracker
from facecraft.media.video import DecodeError, Frame, VideoInfo, iter_frames
from facecraft.media.writer import VideoWriter
from facecraft.swap.checkpoint import Checkpoint
from facecraft.swap.compose import Compositor, TargetFace
from facecraft.swap.exemplars import for_job
from facecraft.swap.forehead import source_forehead
from facecraft.swap.job import SwapJob
from facecraft.swap.label import OutputLabeller
from facecraft.swap.model import convert_checked, model_device
from facecraft.swap.parsing import ParsedFace
from facecraft.swap.preview import side_by_side


@dataclass
class _Decoded:
    """A decoded frame and, when it was due, the detector's hits on it."""

    frame: Frame
    detected: list[Detected] | None


@dataclass
class _Batch:
    """Frames with their faces to replace; ``segment_end`` closes segment ``segment_end`` after them."""

    frames: list[tuple[Frame, list[TargetFace]]]
    segment_end: int | None = None
    tracker: dict[str, Any] | None = None
    counters: dict[str, Any] | None = None
    final: bool = False
    parses: dict[int, list[ParsedFace] | None] = field(default_factory=dict)
    """Frame index -> the face parser's maps of its faces (the parse stage fills it)."""
    repeated: set[int] = field(default_factory=set)
    """Indices of frames identical to the frame before them (the parse stage finds them)."""


@dataclass
class _Done:
    """Marker for the encoder: segment ``index`` is complete (``final``: it is the last one)."""

    index: int
    tracker: dict[str, Any] | None
    counters: dict[str, Any] | None
    color: dict[str, Any]
    exemplars: dict[str, Any] | None
    final: bool


@dataclass
class VideoRange:
    """The frames [first, last) of the input that make the output; ``last`` None: to the end."""

    first: int
    last: int | None


@dataclass
class _Counters:
    faces: int = 0
    frames_with_faces: int = 0
    decode_warning: str | None = None
    tracks: dict[int, int] = field(default_factory=dict)


class _Pipeline:
    def __init__(
        self,
        job: SwapJob,
        info: VideoInfo,
        span: VideoRange,
        checkpoint: Checkpoint,
        labeller: OutputLabeller,
        bar: tqdm,
    ):
        self.job, self.info, self.span, self.labeller = job, info, span, labeller
        self.model, self.to, self.config, self.finder = job.model, job.to, job.config, job.finder
        self.checkpoint, self.preview, self.bar = checkpoint, job.preview, bar
        self._last_output: np.ndarray | None = None
        """The convert thread's last output frame (a repeated input frame gets it again)."""
        self.compositor = Compositor(
            job.config,
            checkpoint.color,
            device=model_device(job.model),
            exemplars=for_job(job.exemplars, job.model.size, job.config.source_detail, checkpoint.exemplars),
            seen=job.exemplars.seen if job.exemplars is not None else None,
            forehead=source_forehead(job.exemplars),
        )
        # halt: stop taking new frames (an error, or the end); stop: abandon everything now (encoder failed, Ctrl-C).
        self.halt = threading.Event()
        self.stop = threading.Event()
        self.convert_failed = threading.Event()  # nothing takes the parse stage's batches any more
        self.errors: list[BaseException] = []
        self.counters = _Counters(**{k: v for k, v in checkpoint.counters.items() if k != "tracks"})
        self.counters.tracks = {int(k): v for k, v in checkpoint.counters.get("tracks", {}).items()}

    # ---- the stages ------------------------------------------------------------------------------
    def _decode(self, out: queue.Queue[_Decoded | None]) -> None:
        start = self.span.first + self.checkpoint.frames_done
        detector = self.finder.new_detector()  # detection runs here, ahead of the tracking thread
        try:
            for frame in iter_frames(self.info.path, start):
                if self.span.last is not None and frame.index >= self.span.last:
                    break
                detected = self.finder.detect_if_due(detector, frame.image, frame.index)
                if not self._put(out, _Decoded(frame, detected), self.halt):
                    return
        except DecodeError as exc:
            self.counters.decode_warning = (
                f"{self.info.path}: the video data is corrupt after frame {exc.frames_read}; "
                "the output ends there"
            )
        finally:
            self._put(out, None, self.halt)

    def _parse(self, inbox: queue.Queue[_Batch | None], out: queue.Queue[_Batch | None]) -> None:
        """The face parser, a stage ahead of compositing (on a CPU it is the largest single cost): each batch
        leaves with the frames that repeat the one before (the convert stage gives them the same output) and
        the parses of the others with faces, in frame order, so the parse schedule is the same as inline."""
        last: np.ndarray | None = None
        while (batch := self._get(inbox)) is not None:
            for frame, faces in batch.frames:
                if last is not None and np.array_equal(frame.image, last):
                    batch.repeated.add(frame.index)
                elif faces:
                    batch.parses[frame.index] = self.compositor.parse(frame.image, faces, frame.index)
                last = frame.image
            if not self._put(out, batch, also=self.convert_failed):
                return
        self._put(out, None, also=self.convert_failed)

    def _convert(self, inbox: queue.Queue[_Batch | None], out: queue.Queue[Any]) -> None:
        while (batch := self._get(inbox)) is not None:
            targets = [t for _, faces in batch.frames for t in faces]
            generated = masks = np.zeros((0,))
            if targets:
                generated, masks = convert_checked(
                    self.model, np.stack([t.aligned for t in targets]), self.to
                )
            at = 0
            for frame, faces in batch.frames:
                n = len(faces)
                if frame.index in batch.repeated and self._last_output is not None:
                    # A repeated input frame (a held frame, a frame-rate conversion) gets exactly the same
                    # output: no shimmer from the landmarks' smoother or the colour average catching up.
                    image = self._last_output
                elif n:
                    image = self.compositor.composite(
                        frame.image,
                        faces,
                        generated[at : at + n],
                        masks[at : at + n],
                        frame.index,
                        batch.parses.get(frame.index),
                    )
                else:
                    image = frame.image
                self._last_output = image
                at += n
                if not self._put(out, (frame, image)):
                    return
            if batch.segment_end is not None:
                color = self.compositor.colors.to_json()
                lender = self.compositor.exemplars
                exemplars = lender.to_json() if lender is not None else None
                marker = _Done(
                    batch.segment_end, batch.tracker, batch.counters, color, exemplars, batch.final
                )
                if not self._put(out, marker):
                    return
        self._put(out, None)

    def _encode(self, inbox: queue.Queue[Any]) -> None:
        writers: list[VideoWriter] = []
        cp = self.checkpoint
        try:
            while (item := self._get(inbox)) is not None:
                if isinstance(item, _Done):
                    for w in writers:
                        w.close()
                    count = writers[0].frames if writers else 0
                    writers = []
                    if count:
                        cp.segments.append(count)
                    cp.complete = item.final
                    cp.tracker, cp.color, cp.counters = item.tracker, item.color, item.counters or {}
                    cp.exemplars = item.exemplars
                    cp.save()
                    continue
                frame, image = item
                if not writers:
                    writers = self._open_writers(len(cp.segments))
                writers[0].write(self.labeller.frame(image))
                if self.preview:
                    writers[1].write(self.labeller.frame(side_by_side(frame.image, image)))
                self.bar.update(1)
        finally:
            for w in writers:
                w.abort()  # an unfinished segment is dropped; the checkpoint still points before it

    # ---- helpers ---------------------------------------------------------------------------------
    def _convert_failed(self, encoded: queue.Queue[Any]) -> None:
        """The convert stage died: the encoder finishes what is complete, the parse stage stops waiting."""
        self.convert_failed.set()
        self._put(encoded, None)

    def _open_writers(self, index: int) -> list[VideoWriter]:
        w, h, fps = self.info.width, self.info.height, self.info.fps
        cp, crf = self.checkpoint, self.config.crf
        writers = [VideoWriter(cp.segment_path(index), w, h, fps, crf=crf, pix_fmt=_pix_fmt(w, h))]
        if self.preview:
            writers.append(
                VideoWriter(cp.segment_path(index, True), 2 * w, h, fps, crf=crf, pix_fmt=_pix_fmt(w, h))
            )
        return writers

    def _counter_state(self) -> dict[str, Any]:
        c = self.counters
        return {"faces": c.faces, "frames_with_faces": c.frames_with_faces, "tracks": dict(c.tracks)}

    def _put(
        self,
        q: queue.Queue[Any],
        item: Any,
        until: threading.Event | None = None,
        also: threading.Event | None = None,
    ) -> bool:
        """Put ``item`` unless ``until`` (default: stop) or ``also`` is set first."""
        until = until or self.stop
        while not until.is_set() and not (also is not None and also.is_set()):
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _get(self, q: queue.Queue[Any], until: threading.Event | None = None) -> Any:
        """The next item, or None once ``until`` (default: stop) is set."""
        until = until or self.stop
        while not until.is_set():
            try:
                return q.get(timeout=0.1)
            except queue.Empty:
                continue
        return None

    def _thread(
        self, name: str, target: Callable[..., None], *args: Any, on_error: Callable[[], object] | None = None
    ) -> threading.Thread:
        def run() -> None:
            try:
                target(*args)
            except BaseException as exc:
                self.errors.append(exc)
                self.halt.set()
                if on_error is not None:
                    on_error()

        t = threading.Thread(target=run, name=f"facecraft-{name}", daemon=True)
        t.start()
        return t

    # ---- the caller's stage: finding faces ---------------------------------------------------------
    def run(self) -> None:
        frames: queue.Queue[_Decoded | None] = queue.Queue(maxsize=8)
        batches: queue.Queue[_Batch | None] = queue.Queue(maxsize=2)
        parsed: queue.Queue[_Batch | None] = queue.Queue(maxsize=2)
        encoded: queue.Queue[Any] = queue.Queue(maxsize=16)
        tracker = (
            Tracker.from_json(self.checkpoint.tracker) if self.checkpoint.tracker is not None else Tracker()
        )
        threads = [
            self._thread("decode", self._decode, frames),
            self._thread("parse", self._parse, batches, parsed, on_error=lambda: self._put(parsed, None)),
            self._thread(
                "convert", self._convert, parsed, encoded, on_error=lambda: self._convert_failed(encoded)
            ),
            self._thread("encode", self._encode, encoded, on_error=self.stop.set),
        ]
        try:
            self._find_faces(self._frames(frames), tracker, batches)
        except KeyboardInterrupt:
            self.stop.set()
            raise
        except BaseException as exc:
            self.errors.append(exc)
        finally:
            # Let the encoder finish every segment that is complete; an unfinished one is dropped.
            self.halt.set()
            while threads[1].is_alive() and not self.stop.is_set():
                try:
                    batches.put(None, timeout=0.1)
                    break
                except queue.Full:
                    continue
            for t in threads:
                while t.is_alive():
                    t.join(timeout=0.2)
        if self.errors:
            raise self.errors[0]

    def _frames(self, q: queue.Queue[_Decoded | None]) -> Iterator[_Decoded]:
        while (item := self._get(q, self.halt)) is not None:
            yield item

    def _find_faces(
        self, frames: Iterator[_Decoded], tracker: Tracker, out: queue.Queue[_Batch | None]
    ) -> None:
        cfg, seg_len = self.config, self.config.segment
        pending: list[tuple[Frame, list[TargetFace]]] = []
        n_faces, segment = 0, len(self.checkpoint.segments)
        for decoded in frames:
            frame = decoded.frame
            faces = self.finder.find(frame.image, frame.index, frame.time, tracker, True, decoded.detected)
            pending.append((frame, faces))
            n_faces += len(faces)
            self._count(faces)
            local = frame.index - self.span.first
            if (local + 1) % seg_len == 0:
                last = self._is_last(frame.index)
                self._put(
                    out, _Batch(pending, segment, tracker.to_json(), self._counter_state(), last), self.halt
                )
                pending, n_faces, segment = [], 0, segment + 1
            elif n_faces >= cfg.batch:
                self._put(out, _Batch(pending), self.halt)
                pending, n_faces = [], 0
        if not self.halt.is_set():
            # The input ended (or reached --end) inside a segment, or exactly at a segment boundary.
            self._put(out, _Batch(pending, segment, tracker.to_json(), self._counter_state(), final=True))

    def _is_last(self, index: int) -> bool:
        return self.span.last is not None and index + 1 >= self.span.last

    def _count(self, faces: list[TargetFace]) -> None:
        c = self.counters
        c.faces += len(faces)
        c.frames_with_faces += bool(faces)
        for f in faces:
            c.tracks[f.track_id] = c.tracks.get(f.track_id, 0) + 1


def _pix_fmt(width: int, height: int) -> str:
    """4:2:0 needs even sides; odd-sized videos keep their exact size in 4:4:4 instead of being padded."""
    return "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"


def run_segments(
    job: SwapJob,
    info: VideoInfo,
    span: VideoRange,
    checkpoint: Checkpoint,
    labeller: OutputLabeller,
    bar: tqdm,
) -> _Counters:
    """Encode every missing segment of ``job``'s output into ``checkpoint``'s folder, each frame passed
    through ``labeller``. Returns the counters."""
    pipeline = _Pipeline(job, info, span, checkpoint, labeller, bar)
    pipeline.run()
    return pipeline.counters


def segment_paths(checkpoint: Checkpoint, preview: bool = False) -> list[Path]:
    return [checkpoint.segment_path(i, preview) for i in range(len(checkpoint.segments))]
