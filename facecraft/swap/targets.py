"""Which faces of a frame get swapped: followed exactly as ``extract`` does (detect on a schedule, mesh,
track, smooth), aligned like the model's training faces, then chosen by the user's rule (the person in a
reference photo, one track id, every face, or by default the largest face)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facecraft.errors import FacecraftError
from facecraft.extract.analyze import Detected, FaceFinder, FrameAnalyzer
from facecraft.extract.config import ExtractConfig
from facecraft.face.align import align
from facecraft.face.track import Tracker
from facecraft.faceset.schema import TRACK_ID_STRIDE
from facecraft.media.image import read_image
from facecraft.swap.blinks import eyes_closed
from facecraft.swap.compose import TargetFace
from facecraft.swap.config import SwapConfig
from facecraft.swap.lips import lip_gap

REFERENCE_MATCH = 0.45
"""Cosine (SFace) a face must reach against the --face photo to be swapped. On the shared media, photos and
frames of the same person scored 0.60 and up and different people at most 0.29 (325 pairs); unrelated
people have been seen at 0.37, just over OpenCV's 0.363 and the calibrated face-vs-face PAIR_MATCH
(0.36), so the swap asks for more."""


class TargetFinder:
    """Holds the analysis models; :meth:`close` it when done."""

    def __init__(self, size: int, coverage: str, config: SwapConfig, reference: str | Path | None = None):
        self.config = config
        self.size, self.coverage = size, coverage
        chooses_one = reference is None and config.track is None and not config.all_faces
        self.extract_config = ExtractConfig(
            size=size,
            coverage=coverage,
            detect_every=config.detect_every,
            smooth=config.smooth,
            max_faces=1 if chooses_one else 0,
        )
        self.analyzer = FrameAnalyzer(self.extract_config)
        if reference is not None:
            self.analyzer.reference = self._reference_embedding(reference)
            self.analyzer.reference_threshold = REFERENCE_MATCH
            self.analyzer.reference_best_only = True

    def close(self) -> None:
        self.analyzer.close()

    def reference_report(self) -> str | None:
        """One line on how the faces compared with the --face photo (None without one)."""
        scores = self.analyzer.reference_scores
        if self.analyzer.reference is None:
            return None
        if not scores:
            return "--face: no face was seen to compare with the photo"
        best = {t % TRACK_ID_STRIDE: float(np.median(v)) for t, v in scores.items()}
        kept = {t: s for t, s in best.items() if s >= REFERENCE_MATCH}
        left = {t: s for t, s in best.items() if s < REFERENCE_MATCH}
        parts = []
        if kept:
            parts.append(
                "matched " + ", ".join(f"track {t} (cosine {s:.2f})" for t, s in sorted(kept.items()))
            )
        else:
            parts.append("no face matched")
        if left:
            parts.append(f"{len(left)} other face track(s) left alone (best cosine {max(left.values()):.2f})")
        return f"--face: {'; '.join(parts)}; a match needs {REFERENCE_MATCH:.2f} (median over frames)"

    def _reference_embedding(self, path: str | Path) -> np.ndarray:
        faces = self.analyzer.analyze(read_image(path), str(path), 0, 0.0, Tracker(), video=False)
        if not faces:
            raise FacecraftError(f"no face found in the --face photo {path}")
        return faces[0].record.embedding

    def new_detector(self) -> FaceFinder:
        """A detector (with identity embeddings) for another thread: see :meth:`detect_if_due`."""
        return FaceFinder(self.extract_config)

    def detect_if_due(self, detector: FaceFinder, image: np.ndarray, index: int) -> list[Detected] | None:
        """The detector's hits when video frame ``index`` is due for detection (a schedule fixed by the frame
        index, so a resumed run detects on the same frames), else None. Safe to run ahead on another thread."""
        return detector.detect(image) if self.analyzer.detection_due(index) else None

    def find(
        self,
        image: np.ndarray,
        index: int,
        time: float,
        tracker: Tracker,
        video: bool,
        detected: list[Detected] | None = None,
    ) -> list[TargetFace]:
        """The faces to replace in ``image`` (BGR uint8). ``tracker`` carries tracks between video frames;
        ``detected``: this frame's detector hits when they were computed already (see detect_if_due)."""
        out = []
        for f in self.analyzer.follow(image, index, time, tracker, video, detected):
            track_id = f.track_id % TRACK_ID_STRIDE
            if self.config.track is not None and track_id != self.config.track % TRACK_ID_STRIDE:
                continue
            alignment = align(f.landmarks, self.size, self.coverage)
            aligned = alignment.warp(image)
            # Eyes and lips read from this frame's own mesh, not the smoothed landmarks: smoothing lags a
            # blink, and an opening mouth (its own closed lips were kept over the first frames of a word).
            raw = alignment.to_aligned(f.mesh.landmarks)
            eyes = eyes_closed(raw, f.mesh.blendshapes)
            aligned_lm = alignment.to_aligned(f.landmarks)
            out.append(TargetFace(track_id, alignment.affine, aligned, aligned_lm, eyes, lip_gap(raw)))
        return out
