"""The ``extract`` verb: media in, faceset out. Resumable, streamed, with a progress bar.

Three threads share the work on a video: one decodes frames, the caller's thread analyses them,
and one writes aligned PNGs and commits rows to the faceset. OpenCV, MediaPipe and the PNG encoder
release the GIL, so this keeps both cores of a small machine busy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from facecraft.errors import FacecraftError
from facecraft.extract.analyze import FaceFinder, FrameAnalyzer
from facecraft.extract.config import ExtractConfig
from facecraft.extract.pipeline import VideoExtraction, write_faces
from facecraft.face.track import Tracker
from facecraft.faceset.cluster import assign_clusters
from facecraft.faceset.schema import FACES_DIR, TRACK_ID_STRIDE
from facecraft.faceset.store import Faceset
from facecraft.fileio import FolderLock, refuse_overwriting_inputs, same_file
from facecraft.media.image import read_image
from facecraft.media.inputs import MediaFile, collect_media
from facecraft.media.video import VideoInfo, probe


@dataclass
class ExtractReport:
    faceset: Path
    faces_added: int = 0
    faces_total: int = 0
    frames_processed: int = 0
    seconds: float = 0.0
    sources: int = 0
    clusters: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def frames_per_second(self) -> float:
        return self.frames_processed / self.seconds if self.seconds > 0 else 0.0

    def output_summary(self) -> str:
        people = f"{self.clusters} identit{'y' if self.clusters == 1 else 'ies'}"
        return f"the faceset {self.faceset} holds {self.faces_total} faces of {people}"


def extract(
    inputs: list[str | Path],
    output: str | Path,
    config: ExtractConfig | None = None,
    identity: str | Path | None = None,
    progress: bool = True,
) -> ExtractReport:
    """Extract aligned faces from videos, photos or folders of them into the faceset ``output``.

    Running it again with the same inputs and output skips what is already done. ``identity``: a photo
    of one person; only faces of that person are kept. Raises FacecraftError on bad input.
    """
    config = config or ExtractConfig()
    output = Path(output)
    refuse_overwriting_inputs(output, {"--identity photo": identity})
    media = _outside(collect_media(inputs), output)
    if any(same_file(output, m.path) for m in media):
        raise FacecraftError(f"the output {output} is one of the inputs; choose a new folder")
    infos = {m.path: probe(m.path) for m in media if m.kind == "video"}

    analyzer_ref = _reference_embedding(identity, config) if identity else None
    report = ExtractReport(output)
    start = time.perf_counter()
    lock = FolderLock.for_folder(output, f"the faceset {output}", "extract")
    with lock, Faceset.create(output, config.faceset_settings()) as faceset:
        if analyzer_ref is not None:
            faceset.set_meta("identity_reference", str(identity))
        todo = [m for m in media if not faceset.source_complete(str(m.path))]
        total = sum(_frames_left(faceset, m, infos.get(m.path), config) for m in todo)
        analyzer = FrameAnalyzer(config, analyzer_ref)
        bar = tqdm(total=total, unit="frame", disable=not progress, dynamic_ncols=True, desc="extract")
        try:
            for m in todo:
                added, frames = _extract_one(faceset, analyzer, m, infos.get(m.path), config, bar, report)
                report.faces_added += added
                report.frames_processed += frames
                report.sources += 1
        finally:
            bar.close()
            analyzer.close()
            report.seconds = time.perf_counter() - start
        _remove_orphans(faceset)
        report.clusters = assign_clusters(faceset)
        report.faces_total = faceset.count()
    if report.faces_total == 0:
        names = ", ".join(str(m.path.name) for m in media[:3]) + (" ..." if len(media) > 3 else "")
        who = " of the --identity person" if identity else ""
        raise FacecraftError(f"no faces{who} found in {names}")
    return report


def _outside(media: list[MediaFile], output: Path) -> list[MediaFile]:
    """The media files that are not inside the output faceset (a faceset inside an input folder must not
    ingest its own aligned faces on the next run)."""
    out = output.resolve()
    kept = [m for m in media if not m.path.resolve().is_relative_to(out)]
    if not kept:
        raise FacecraftError(f"the only media in the inputs are inside the output faceset {output}")
    return kept


def _reference_embedding(path: str | Path, config: ExtractConfig) -> np.ndarray:
    """The identity embedding of the largest confidently detected face in a reference photo (the same
    embedding a new face gets during extraction: SFace on the detector's five points)."""
    faces = [d for d in FaceFinder(config).detect(read_image(path)) if d.score >= config.min_score]
    if not faces or faces[0].embedding is None:
        raise FacecraftError(f"no face found in the --identity photo {path}")
    return faces[0].embedding


def _frames_left(faceset: Faceset, m: MediaFile, info: VideoInfo | None, config: ExtractConfig) -> int:
    if info is None:
        return 1
    row = [s for s in faceset.sources() if s["path"] == str(m.path)]
    done = len(faceset.frames_done(row[0]["id"])) if row else 0
    return max(0, -(-info.frame_count // config.every) - done)


def _extract_one(
    faceset: Faceset,
    analyzer: FrameAnalyzer,
    m: MediaFile,
    info: VideoInfo | None,
    config: ExtractConfig,
    bar: tqdm,
    report: ExtractReport,
) -> tuple[int, int]:
    if info is None:
        return _extract_image(faceset, analyzer, m, bar, report)
    return _extract_video(faceset, analyzer, info, config, bar, report)


def _extract_image(
    faceset: Faceset, analyzer: FrameAnalyzer, m: MediaFile, bar: tqdm, report: ExtractReport
) -> tuple[int, int]:
    try:
        image = read_image(m.path)
    except FacecraftError as exc:
        report.warnings.append(f"skipped {m.path}: {exc}")
        bar.update(1)
        return 0, 0
    h, w = image.shape[:2]
    sid = faceset.source_id(str(m.path), "image", w, h, 0.0, 1)
    tracker = Tracker(id_base=sid * TRACK_ID_STRIDE)
    faces = analyzer.analyze(image, str(m.path), 0, 0.0, tracker, video=False)
    write_faces(faceset, sid, faces)
    faceset.commit_frames(sid, [0], [f.record for f in faces])
    faceset.mark_source_complete(sid)
    if not faces:
        report.warnings.append(f"no face found in {m.path}")
    bar.update(1)
    return len(faces), 1


def _extract_video(
    faceset: Faceset,
    analyzer: FrameAnalyzer,
    info: VideoInfo,
    config: ExtractConfig,
    bar: tqdm,
    report: ExtractReport,
) -> tuple[int, int]:
    path = str(info.path)
    sid = faceset.source_id(path, "video", info.width, info.height, info.fps, info.frame_count)
    done = faceset.frames_done(sid)
    state = faceset.resume_state(sid)
    tracker = Tracker.from_json(state["tracker"]) if state else Tracker(id_base=sid * TRACK_ID_STRIDE)
    start = max(done) + 1 if done else 0
    result = VideoExtraction(faceset, sid, path, analyzer, config, tracker).run(start, bar)
    if result.decode_error is not None:
        report.warnings.append(
            f"{path}: the video data is corrupt after frame {result.decode_error.frames_read}; "
            "kept the faces before it"
        )
    if result.frames == 0 and not done:
        report.warnings.append(f"{path}: no frames could be decoded (empty or corrupt video)")
    faceset.mark_source_complete(sid)
    return result.faces, result.frames


def _remove_orphans(faceset: Faceset) -> None:
    """Delete images left by a run that was killed between writing an image and committing its row."""
    known = {r[0] for r in faceset.conn.execute("SELECT image FROM faces")}
    for p in (faceset.root / FACES_DIR).glob("*.png"):
        if p.name not in known:
            p.unlink(missing_ok=True)
