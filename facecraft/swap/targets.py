"""Which faces of a frame get swapped: analysed exactly as ``extract`` does, then chosen by the user's rule
(the person in a reference photo, one track id, every face, or by default the largest face)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facecraft.errors import FacecraftError
from facecraft.extract.analyze import FrameAnalyzer
from facecraft.extract.config import ExtractConfig
from facecraft.extract.run import TRACK_ID_STRIDE
from facecraft.face.track import Tracker
from facecraft.media.image import read_image
from facecraft.swap.compose import TargetFace
from facecraft.swap.config import SwapConfig


class FaceFinder:
    """Holds the analysis models; :meth:`close` it when done."""

    def __init__(self, size: int, coverage: str, config: SwapConfig, reference: str | Path | None = None):
        self.config = config
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
        self.tracks_seen: dict[int, int] = {}  # track id -> frames it was seen in (any face, chosen or not)

    def close(self) -> None:
        self.analyzer.close()

    def _reference_embedding(self, path: str | Path) -> np.ndarray:
        faces = self.analyzer.analyze(read_image(path), str(path), 0, 0.0, Tracker(), video=False)
        if not faces:
            raise FacecraftError(f"no face found in the --face photo {path}")
        return faces[0].record.embedding

    def find(
        self, image: np.ndarray, index: int, time: float, tracker: Tracker, video: bool
    ) -> list[TargetFace]:
        """The faces to replace in ``image`` (BGR uint8). ``tracker`` carries tracks between video frames."""
        faces = self.analyzer.analyze(image, "", index, time, tracker, video)
        out = []
        for f in faces:
            track_id = f.record.track_id % TRACK_ID_STRIDE
            self.tracks_seen[track_id] = self.tracks_seen.get(track_id, 0) + 1
            if self.config.track is not None and track_id != self.config.track % TRACK_ID_STRIDE:
                continue
            out.append(TargetFace(track_id, f.record.affine, f.aligned, f.record.aligned_landmarks))
        return out
