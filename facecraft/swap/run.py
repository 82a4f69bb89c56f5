"""The ``swap`` verb: put the model's face into a video, a photo or a folder of photos.

Video output keeps the input's size, frame rate, frame count and audio (cut to match --start/--end).
An interrupted video swap resumes from its last finished segment when run again with the same arguments.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import av
from tqdm import tqdm

from facecraft.errors import FacecraftError
from facecraft.fileio import refuse_overwriting_inputs, write_atomic
from facecraft.media.inputs import media_kind
from facecraft.media.video import VideoInfo, probe
from facecraft.swap.checkpoint import (
    Checkpoint,
    concat_command,
    concat_list,
    output_lock,
    work_folder,
)
from facecraft.swap.config import SwapConfig
from facecraft.swap.exemplars import load_bank
from facecraft.swap.images import IMAGE_OUT_EXTS, swap_images
from facecraft.swap.job import SwapJob, SwapOutcome
from facecraft.swap.label import LabelSpec, OutputLabeller
from facecraft.swap.model import FaceModelLike, load_model, pick_identity, quality_warning
from facecraft.swap.preview import preview_path
from facecraft.swap.targets import TargetFinder
from facecraft.swap.video import VideoRange, run_segments, segment_paths

VIDEO_OUT_EXTS = (".mp4", ".m4v", ".mov")
AUDIO_EXTS = (".m4a", ".mp3", ".wav", ".aac", ".flac", ".ogg", ".opus")


@dataclass
class SwapReport:
    output: Path
    preview: Path | None = None
    frames: int = 0
    frames_with_faces: int = 0
    faces_swapped: int = 0
    resumed_frames: int = 0
    seconds: float = 0.0
    tracks: dict[int, int] = field(default_factory=dict)
    labelled: bool = False
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Things worth knowing that are not problems (e.g. a resumed run)."""

    @property
    def frames_per_second(self) -> float:
        done = self.frames - self.resumed_frames
        return done / self.seconds if self.seconds > 0 else 0.0

    def adding(self, outcome: SwapOutcome) -> SwapReport:
        """A copy of this report with ``outcome``'s counts, flags and messages added."""
        return replace(
            self,
            frames=self.frames + outcome.frames,
            frames_with_faces=self.frames_with_faces + outcome.frames_with_faces,
            faces_swapped=self.faces_swapped + outcome.faces_swapped,
            resumed_frames=self.resumed_frames + outcome.resumed_frames,
            tracks={**self.tracks, **outcome.tracks},
            labelled=self.labelled or outcome.labelled,
            warnings=[*self.warnings, *outcome.warnings],
            notes=[*self.notes, *outcome.notes],
        )


def swap(
    input: str | Path,
    model: str | Path | FaceModelLike,
    output: str | Path,
    config: SwapConfig | None = None,
    *,
    face: str | Path | None = None,
    preview: bool = False,
    consent: str | Path | None = None,
    label: bool = False,
    progress: bool = True,
    device: str = "auto",
    content_id: int | None = None,
) -> SwapReport:
    """Swap faces in ``input`` (video, photo or folder of photos) with the face the ``model`` (a trained model
    folder or a loaded model) makes for identity ``config.to``, writing ``output``.

    ``face``: a photo of the person to replace (others are left alone). ``preview``: also write an
    original | swapped side-by-side next to the output. ``consent``/``label``: passed to the provenance
    labeller; ``content_id``: the outputs' watermark id (None: random, as every user's output; benchmarks fix
    it so that a measurement repeats). Raises FacecraftError on bad input.
    """
    config = config or SwapConfig()
    src, dst = Path(input), Path(output)
    if not src.exists():
        raise FacecraftError(f"{src} does not exist")
    model_folder = model if isinstance(model, str | Path) else None
    inputs = {"input": src, "--face photo": face, "consent record": consent, "model folder": model_folder}
    refuse_overwriting_inputs(dst, inputs)
    if face is not None and config.track is not None:
        raise FacecraftError("give either --face or --track, not both")
    kind = "folder" if src.is_dir() else media_kind(src)
    if kind is None and src.suffix.lower() in AUDIO_EXTS:
        raise FacecraftError(f"{src} is an audio file; swap needs a video (or photos) with a face in it")
    if kind is None:
        raise FacecraftError(f"{src} is not a video, photo or folder this tool reads (by its extension)")
    _check_output(src, dst, kind)
    info = probe(src) if kind == "video" else None  # fails early on an audio-only or broken file
    loaded = load_model(model, device)
    to = pick_identity(loaded, config.to)
    labels = LabelSpec(_model_files(model), consent, label, content_id)
    start = time.perf_counter()
    report = SwapReport(dst, preview_path(dst) if preview and kind != "folder" else None)
    weak = quality_warning(loaded, to)
    if weak:
        report.warnings.append(weak)
        if progress:
            print(f"warning: {weak}", file=sys.stderr, flush=True)
    # Align like the training facesets (the model resizes to its own size); sharper edges when pasting back.
    finder = TargetFinder(int(getattr(loaded, "faceset_size", loaded.size)), loaded.coverage, config, face)
    bank = load_bank(model_folder, to) if model_folder is not None else None  # detail, and where it was seen
    job = SwapJob(src, dst, loaded, to, config, finder, labels, preview, progress, _model_id(loaded), bank)
    try:
        with output_lock(dst, folder=kind == "folder"):
            outcome = _swap_video(job, info) if info is not None else swap_images(job)
    finally:
        finder.close()
    report = report.adding(outcome)
    matched = finder.reference_report()
    if matched:
        report.notes.append(matched)
    report.seconds = time.perf_counter() - start
    if report.faces_swapped == 0:
        report.warnings.append(f"no face to swap was found in {src}; the output shows the input unchanged")
    return report


def _check_output(src: Path, dst: Path, kind: str) -> None:
    if kind == "video" and dst.suffix.lower() not in VIDEO_OUT_EXTS:
        raise FacecraftError(f"the output of a video must be {', '.join(VIDEO_OUT_EXTS)}; got {dst.name}")
    if kind == "image" and dst.suffix.lower() not in IMAGE_OUT_EXTS:
        raise FacecraftError(f"the output of a photo must be {', '.join(IMAGE_OUT_EXTS)}; got {dst.name}")
    if kind == "folder" and dst.resolve().is_relative_to(src.resolve()):
        raise FacecraftError(f"the output folder {dst} is inside the input folder; choose another one")
    folder = dst if kind == "folder" else dst.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FacecraftError(f"cannot create the output folder {folder}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK):
        raise FacecraftError(f"no permission to write in {folder}; choose another output folder")


def _model_id(model: FaceModelLike) -> str:
    """What identifies the model in a resume checkpoint: the sha256 of the weights it draws with, so that
    training still writing previews or metrics into the folder does not discard a swap's work (but a new
    checkpoint does); for other model objects, their type."""
    about = f"{','.join(model.identities)}:{model.size}:{model.coverage}"
    weights = getattr(model, "weights_sha256", "")
    if weights:
        return f"weights {weights}:{about}"
    return f"{type(model).__module__}.{type(model).__qualname__}:{about}"


def _model_files(model: str | Path | FaceModelLike) -> list[Path]:
    """The files that describe a model folder, named in the output's provenance."""
    if not isinstance(model, str | Path):
        return []
    info = Path(model) / "model.json"
    return [info] if info.is_file() else []


def _swap_video(job: SwapJob, info: VideoInfo) -> SwapOutcome:
    """Swap the video ``info`` describes into ``job.dst``, resuming an earlier run's finished segments."""
    dst, config = job.dst, job.config
    span = _frame_range(info, config)
    stat = info.path.stat()
    reference = job.finder.analyzer.reference
    fingerprint = {
        "config": config.fingerprint(),
        "input": [str(info.path.resolve()), stat.st_size, stat.st_mtime_ns],
        "model": job.model_id,
        "to": job.to,
        "reference": repr(reference is not None and reference.tolist()),
        "preview": job.preview,
    }
    warnings: list[str] = []
    checkpoint, resumed, discarded = Checkpoint.open(work_folder(dst), fingerprint)
    if discarded:
        warnings.append(discarded)
    labeller = job.labels.labeller(info.path, checkpoint.content_id)
    if checkpoint.content_id is None and labeller.content_id is not None:
        checkpoint.content_id = labeller.content_id
        checkpoint.save()
    resumed_frames = checkpoint.frames_done
    if not checkpoint.complete:
        total = (span.last if span.last is not None else info.frame_count) - span.first
        bar = tqdm(
            total=max(0, total),
            initial=checkpoint.frames_done,
            unit="frame",
            desc="swap",
            disable=not job.progress,
            dynamic_ncols=True,
        )
        try:
            counters = run_segments(job, info, span, checkpoint, labeller, bar)
        finally:
            bar.close()
        if counters.decode_warning:
            warnings.append(counters.decode_warning)
        elif short := _ended_early(info, span, checkpoint.frames_done):
            warnings.append(short)
    if checkpoint.frames_done == 0:
        raise FacecraftError(f"no frames could be decoded from {info.path} in the chosen range")
    c = checkpoint.counters
    frames = checkpoint.frames_done
    start_s = span.first / info.fps
    duration = frames / info.fps
    labelled = _join(checkpoint, dst, info, start_s, duration, False, labeller)
    if job.preview:
        _join(checkpoint, preview_path(dst), info, start_s, duration, True, labeller)
    checkpoint.remove()
    return SwapOutcome(
        frames=frames,
        frames_with_faces=int(c.get("frames_with_faces", 0)),
        faces_swapped=int(c.get("faces", 0)),
        resumed_frames=resumed_frames,
        tracks={int(k): int(v) for k, v in c.get("tracks", {}).items()},
        labelled=labelled,
        warnings=tuple(warnings),
        notes=(f"resumed after {resumed_frames} frames done by an earlier run",) if resumed else (),
    )


def _ended_early(info: VideoInfo, span: VideoRange, done: int) -> str | None:
    """A warning when the video's frames ran out well before the length its header gives (a file cut off
    in the middle decodes cleanly up to the cut)."""
    expected = (span.last if span.last is not None else info.frame_count) - span.first
    if expected <= 0 or done >= expected - max(2, expected // 100):
        return None
    return (
        f"{info.path} ended after {done} of the {expected} frames its header announces (truncated or damaged?); "
        f"the output is {done / info.fps:.1f} s long instead of {expected / info.fps:.1f} s"
    )


def _frame_range(info: VideoInfo, config: SwapConfig) -> VideoRange:
    first = round(config.start * info.fps)
    last = None if config.end is None else round(config.end * info.fps)
    if info.frame_count and first >= info.frame_count:
        raise FacecraftError(
            f"--start {config.start} s is past the end of {info.path} ({info.duration:.2f} s)"
        )
    if last is not None and info.frame_count:
        last = min(last, info.frame_count) if last < info.frame_count else None
    return VideoRange(first, last)


def _join(
    checkpoint: Checkpoint,
    dst: Path,
    info: VideoInfo,
    start: float,
    duration: float,
    preview: bool,
    labeller: OutputLabeller,
) -> bool:
    """Join the finished segments into ``dst`` with the source audio cut to the output, label it and move it
    into place. Returns whether it was labelled."""
    parts = segment_paths(checkpoint, preview)
    listing = checkpoint.folder / ("preview.txt" if preview else "segments.txt")
    write_atomic(listing, concat_list(parts).encode())
    # Finished under its final name inside the work folder, so the provenance manifest names the real file.
    tmp = checkpoint.folder / "final" / dst.name
    tmp.parent.mkdir(exist_ok=True)
    cmd = concat_command(
        listing,
        tmp,
        audio_from=info.path if info.has_audio else None,
        audio_start=start,
        audio_duration=duration,
        rotation=_rotation(info.path),
    )
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        tmp.unlink(missing_ok=True)
        detail = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise FacecraftError(f"ffmpeg could not write {dst}: {detail} (run again to retry)")
    try:
        labelled = labeller.finish(tmp, "video")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, dst)
    return labelled


def _rotation(path: Path) -> int:
    """Display rotation (degrees) stored in the source's first video frame, so the output shows the same way."""
    try:
        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                return round(float(getattr(frame, "rotation", 0) or 0))
    except (av.error.FFmpegError, OSError):
        return 0
    return 0
