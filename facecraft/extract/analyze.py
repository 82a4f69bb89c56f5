"""Per-frame face analysis in three steps that can run on different threads:

1. :meth:`FrameAnalyzer.detect` — detector + identity embeddings (on a schedule fixed by frame index);
2. :meth:`FrameAnalyzer.follow` — mesh each known or new face, update the tracks, smooth landmarks;
3. :func:`measure` — align, cut out and measure each face (pure, no model).

Given the same frame and tracker state, ``follow`` always returns the same faces, which is what makes
a resumed extraction identical to an uninterrupted one.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from facecraft.extract.config import ExtractConfig
from facecraft.face import quality
from facecraft.face.align import align
from facecraft.face.detect import FaceDetector
from facecraft.face.identity import PAIR_MATCH, IdentityEncoder
from facecraft.face.mesh import FaceMesher, Mesh
from facecraft.face.track import Box, Track, Tracker, iou
from facecraft.faceset.schema import FaceRecord


@dataclass(frozen=True)
class Detected:
    """A detector hit: box, confidence, five points (frame pixels) and, when computed, its identity
    embedding (L2-normalised, 128-d)."""

    bbox: Box
    score: float
    points: np.ndarray
    embedding: np.ndarray | None


@dataclass(frozen=True)
class FollowedFace:
    """A face found in a frame: its track, mesh and (smoothed) landmarks in frame pixels."""

    face_index: int
    track_id: int
    det_score: float
    mesh: Mesh
    landmarks: np.ndarray  # (478, 3) float32, smoothed along the track for video
    embedding: np.ndarray  # (128,) the track's identity embedding


@dataclass
class AnalyzedFace:
    record: FaceRecord
    aligned: np.ndarray  # BGR uint8 (size, size, 3)


@dataclass
class _Candidate:
    track: Track | None
    box: Box
    detected: Detected | None


class FaceFinder:
    """Detector plus identity encoder. Not thread-safe: give each thread its own."""

    def __init__(self, config: ExtractConfig):
        self.detector = FaceDetector(min_face=config.min_face)
        self.encoder = IdentityEncoder()

    def detect(self, image: np.ndarray, embed: bool = True) -> list[Detected]:
        """Detector hits in a BGR frame (largest first), with identity embeddings when ``embed``."""
        return [
            Detected(d.bbox, d.score, d.points, self.encoder.embed(image, d.points) if embed else None)
            for d in self.detector.detect(image)
        ]


class FrameAnalyzer:
    """Holds the models; create once per run and :meth:`close` it."""

    def __init__(self, config: ExtractConfig, reference: np.ndarray | None = None):
        self.config = config
        self.reference = reference
        #: Cosine to ``reference`` a face must reach to be kept (extract --identity: a track's recent faces
        #: against the reference photo's one face, so the calibrated face-vs-face threshold; swap --face
        #: raises it, see swap.targets.REFERENCE_MATCH).
        self.reference_threshold = PAIR_MATCH
        #: Only the face of a frame most like ``reference`` can be kept (a bystander never is, however close).
        self.reference_best_only = False
        #: track id -> cosines to ``reference`` seen (kept or not), for reports.
        self.reference_scores: dict[int, list[float]] = {}
        # The landmarker takes the longest to start (importing MediaPipe alone takes 0.5 s): it loads on a
        # thread of its own while the detector, the encoder and the decoding of the first frames get going.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="facecraft-mesher-load")
        self._mesher: Future[FaceMesher] = self._pool.submit(FaceMesher)
        self._pool.shutdown(wait=False)
        self.finder = FaceFinder(config)

    @property
    def mesher(self) -> FaceMesher:
        return self._mesher.result()

    def close(self) -> None:
        self.mesher.close()

    def detection_due(self, index: int) -> bool:
        """Whether frame ``index`` of a video gets a detector pass regardless of tracking state."""
        return (index // self.config.every) % self.config.detect_every == 0

    def embedding_due(self, index: int) -> bool:
        """Whether the detector pass of frame ``index`` also refreshes identity embeddings (every other
        pass; a face that appears on a pass without embeddings gets one when its track starts)."""
        return (index // self.config.every // self.config.detect_every) % 2 == 0

    def analyze(
        self, image: np.ndarray, source: str, index: int, time: float, tracker: Tracker, video: bool
    ) -> list[AnalyzedFace]:
        """Faces in one frame, measured. ``tracker`` carries faces between frames of a video and is updated."""
        followed = self.follow(image, index, time, tracker, video)
        return [measure(image, source, index, time, f, self.config) for f in followed]

    def follow(
        self,
        image: np.ndarray,
        index: int,
        time: float,
        tracker: Tracker,
        video: bool,
        detected: list[Detected] | None = None,
    ) -> list[FollowedFace]:
        """Mesh the faces of one frame and update ``tracker``.

        ``detected``: the detector's hits for this frame if it already ran (e.g. on another thread);
        when None the detector runs here if the frame is due or no face is being followed.
        """
        cfg = self.config
        tracks = tracker.active(index) if video else []
        if detected is None and (not video or not tracks or self.detection_due(index)):
            detected = self.finder.detect(image)
        candidates = self._candidates(tracker, tracks, detected or [])

        meshed: list[tuple[_Candidate, Mesh]] = []
        for cand in candidates:
            mesh = self.mesher.mesh(image, cand.box)
            if mesh is None:
                continue
            box = mesh.bbox()
            if min(box[2], box[3]) < cfg.min_face or any(iou(box, m.bbox()) > 0.5 for _, m in meshed):
                continue
            meshed.append((cand, mesh))
        meshed.sort(key=lambda cm: -cm[1].bbox()[2] * cm[1].bbox()[3])
        if cfg.max_faces:
            meshed = meshed[: cfg.max_faces]

        faces: list[FollowedFace] = []
        tracks = [self._update_track(image, index, tracker, cand, mesh, video) for cand, mesh in meshed]
        scores = [
            float(t.embedding @ self.reference)
            if t.embedding is not None and self.reference is not None
            else 0.0
            for t in tracks
        ]
        for track, score in zip(tracks, scores, strict=True):
            if self.reference is not None and track.embedding is not None:
                self.reference_scores.setdefault(track.id, []).append(score)
        for (_cand, mesh), track, score in zip(meshed, tracks, scores, strict=True):
            if track.embedding is None or (
                self.reference is not None
                and (score < self.reference_threshold or (self.reference_best_only and score < max(scores)))
            ):
                continue
            landmarks = (
                tracker.smooth_landmarks(track, mesh.landmarks, time)
                if video and cfg.smooth
                else mesh.landmarks
            )
            faces.append(
                FollowedFace(
                    len(faces),
                    track.id,
                    track.score,
                    mesh,
                    landmarks.astype(np.float32),
                    track.embedding.copy(),
                )
            )
        return faces

    def _candidates(
        self, tracker: Tracker, tracks: list[Track], detected: list[Detected]
    ) -> list[_Candidate]:
        out: list[_Candidate] = []
        taken: set[int] = set()
        for det in detected:
            track = tracker.match(det.bbox, taken)
            if track is not None:
                taken.add(track.id)
            elif det.score < self.config.min_score:
                continue  # weak detections may follow a known face but never start a new one
            out.append(_Candidate(track, det.bbox, det))
        # Faces the detector missed this frame (turned, blurred) are still followed by their mesh.
        out.extend(_Candidate(t, t.bbox, None) for t in tracks if t.id not in taken)
        return out

    def _update_track(
        self, image: np.ndarray, index: int, tracker: Tracker, cand: _Candidate, mesh: Mesh, video: bool
    ) -> Track:
        box = mesh.bbox()
        track = cand.track if cand.track is not None else tracker.new_track(box, index)
        det = cand.detected
        if det is not None:
            emb = det.embedding
            if emb is None and track.embedding is None:  # a new face on a pass without embeddings
                emb = self.finder.encoder.embed(image, det.points)
            if emb is not None:
                if not track.same_person(emb):  # the box now holds someone else: start a new track
                    tracker.drop(track)
                    track = tracker.new_track(box, index)
                if video:
                    track.add_embedding(emb, index)
                else:
                    track.embedding = emb
            track.score = det.score
        track.bbox = box
        track.last_frame = index
        return track


def measure(
    image: np.ndarray, source: str, index: int, time: float, face: FollowedFace, config: ExtractConfig
) -> AnalyzedFace:
    """Align and cut out a followed face and measure its quality (no model involved)."""
    alignment = align(face.landmarks, config.size, config.coverage)
    aligned = alignment.warp(image)
    aligned_lm = alignment.to_aligned(face.landmarks).astype(np.float32)
    mask = quality.face_mask(aligned_lm, config.size)
    record = FaceRecord(
        source_path=source,
        frame_index=index,
        timestamp=time,
        face_index=face.face_index,
        bbox=face.mesh.bbox(),
        det_score=face.det_score,
        landmarks=face.landmarks,
        aligned_landmarks=aligned_lm,
        affine=alignment.affine,
        yaw=face.mesh.pose[0],
        pitch=face.mesh.pose[1],
        roll=face.mesh.pose[2],
        blendshapes=face.mesh.blendshapes,
        sharpness=quality.sharpness(aligned),
        brightness=quality.brightness(aligned, mask),
        embedding=face.embedding,
        track_id=face.track_id,
    )
    return AnalyzedFace(record, aligned)
