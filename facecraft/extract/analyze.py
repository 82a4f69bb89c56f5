"""Per-frame face analysis: detect (on schedule), follow, mesh, embed, smooth, align and measure.

Given the same frame and tracker state, :meth:`FrameAnalyzer.analyze` always returns the same faces,
which is what makes a resumed extraction identical to an uninterrupted one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facecraft.extract.config import ExtractConfig
from facecraft.face import quality
from facecraft.face.align import align, five_points
from facecraft.face.detect import FaceDetector
from facecraft.face.identity import SAME_PERSON, IdentityEncoder
from facecraft.face.mesh import FaceMesher, Mesh
from facecraft.face.track import Box, Track, Tracker, iou
from facecraft.faceset.schema import FaceRecord


@dataclass
class AnalyzedFace:
    record: FaceRecord
    aligned: np.ndarray  # BGR uint8 (size, size, 3)


@dataclass
class _Candidate:
    track: Track | None
    box: Box
    score: float


class FrameAnalyzer:
    """Holds the three models; create once per run and :meth:`close` it."""

    def __init__(self, config: ExtractConfig, reference: np.ndarray | None = None):
        self.config = config
        self.reference = reference
        self.detector = FaceDetector(min_face=config.min_face)
        self.mesher = FaceMesher()
        self.encoder = IdentityEncoder()

    def close(self) -> None:
        self.mesher.close()

    def analyze(
        self, image: np.ndarray, source: str, index: int, time: float, tracker: Tracker, video: bool
    ) -> list[AnalyzedFace]:
        """Faces in one frame. ``tracker`` carries faces between frames of a video and is updated."""
        cfg = self.config
        step = index // cfg.every
        tracks = tracker.active(index) if video else []
        detect_due = not video or not tracks or step % cfg.detect_every == 0
        candidates = self._candidates(image, tracker, tracks, detect_due)

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

        faces = []
        for face_index, (cand, mesh) in enumerate(meshed):
            track = self._update_track(image, index, tracker, cand, mesh, video)
            if (
                self.reference is not None
                and track.embedding is not None
                and (float(track.embedding @ self.reference) < SAME_PERSON)
            ):
                continue
            landmarks = (
                tracker.smooth_landmarks(track, mesh.landmarks, time)
                if video and cfg.smooth
                else mesh.landmarks
            )
            faces.append(self._measure(image, source, index, time, face_index, track, mesh, landmarks, cand))
        return faces

    def _candidates(
        self, image: np.ndarray, tracker: Tracker, tracks: list[Track], detect_due: bool
    ) -> list[_Candidate]:
        out: list[_Candidate] = []
        taken: set[int] = set()
        if detect_due:
            for det in self.detector.detect(image):
                track = tracker.match(det.bbox, taken)
                if track is not None:
                    taken.add(track.id)
                elif det.score < self.config.min_score:
                    continue  # weak detections may follow a known face but never start a new one
                out.append(_Candidate(track, det.bbox, det.score))
        # Faces the detector missed this frame (turned, blurred) are still followed by their mesh.
        out.extend(_Candidate(t, t.bbox, 0.0) for t in tracks if t.id not in taken)
        return out

    def _update_track(
        self, image: np.ndarray, index: int, tracker: Tracker, cand: _Candidate, mesh: Mesh, video: bool
    ) -> Track:
        box = mesh.bbox()
        track = cand.track if cand.track is not None else tracker.new_track(box, index)
        embed_due = (
            track.embedding is None
            or index - track.embedded_frame >= self.config.embed_every * self.config.every
        )
        if embed_due or not video:
            emb = self.encoder.embed(image, five_points(mesh.landmarks))
            if not track.same_person(emb):  # the box now holds someone else: start a new track
                tracker.drop(track)
                track = tracker.new_track(box, index)
            track.add_embedding(emb, index) if video else setattr(track, "embedding", emb)
        track.bbox = box
        track.last_frame = index
        if cand.score > 0:
            track.score = cand.score
        return track

    def _measure(
        self,
        image: np.ndarray,
        source: str,
        index: int,
        time: float,
        face_index: int,
        track: Track,
        mesh: Mesh,
        landmarks: np.ndarray,
        cand: _Candidate,
    ) -> AnalyzedFace:
        cfg = self.config
        alignment = align(landmarks, cfg.size, cfg.coverage)
        aligned = alignment.warp(image)
        aligned_lm = alignment.to_aligned(landmarks).astype(np.float32)
        mask = quality.face_mask(aligned_lm, cfg.size)
        assert track.embedding is not None
        record = FaceRecord(
            source_path=source,
            frame_index=index,
            timestamp=time,
            face_index=face_index,
            bbox=mesh.bbox(),
            det_score=track.score,
            landmarks=landmarks.astype(np.float32),
            aligned_landmarks=aligned_lm,
            affine=alignment.affine,
            yaw=mesh.pose[0],
            pitch=mesh.pose[1],
            roll=mesh.pose[2],
            blendshapes=mesh.blendshapes,
            sharpness=quality.sharpness(aligned),
            brightness=quality.brightness(aligned, mask),
            embedding=track.embedding.copy(),
            track_id=track.id,
        )
        return AnalyzedFace(record, aligned)
