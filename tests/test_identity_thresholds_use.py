"""Every same-person decision compares with the threshold calibrated for what it compares (face vs face, or a
mean embedding vs a face or a mean), not OpenCV's fp32 pairwise 0.363."""

from __future__ import annotations

import numpy as np

from facecraft.face.identity import PAIR_MATCH, SOURCE_MATCH
from facecraft.face.track import Track
from facecraft.faceset.cluster import cluster_embeddings


def _pair(cos: float) -> tuple[np.ndarray, np.ndarray]:
    """Two unit 128-d vectors at cosine ``cos``."""
    a = np.zeros(128, np.float32)
    b = np.zeros(128, np.float32)
    a[0] = 1.0
    b[0], b[1] = cos, np.sqrt(1 - cos**2)
    return a, b


def test_a_track_keeps_a_face_down_to_the_face_vs_face_threshold() -> None:
    assert PAIR_MATCH < 0.363 < SOURCE_MATCH
    for cos, same in ((PAIR_MATCH + 0.001, True), (PAIR_MATCH - 0.01, False)):
        a, b = _pair(cos)
        assert Track(0, (0, 0, 1, 1), 0, embedding=a).same_person(b) is same, cos


def test_tracks_means_are_clustered_at_the_mean_threshold() -> None:
    for cos, groups in ((SOURCE_MATCH + 0.01, 1), (SOURCE_MATCH - 0.01, 2), (0.37, 2)):
        a, b = _pair(cos)
        assert cluster_embeddings(np.stack([a, b])).max() + 1 == groups, cos
