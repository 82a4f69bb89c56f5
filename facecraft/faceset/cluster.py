"""Grouping faces by identity: average-linkage clustering of SFace embeddings per track."""

from __future__ import annotations

import numpy as np

from facecraft.face.identity import SOURCE_MATCH
from facecraft.faceset.store import Faceset


def cluster_embeddings(
    embeddings: np.ndarray, weights: np.ndarray | None = None, threshold: float = SOURCE_MATCH
) -> np.ndarray:
    """Cluster (N, D) embeddings so that members are on average at cosine similarity >= ``threshold``.
    The callers cluster tracks' mean embeddings, so the default is the threshold calibrated for a mean
    (a faceset's identity) against a face; see :data:`facecraft.face.identity.SOURCE_MATCH`.

    Returns (N,) cluster ids, 0 for the cluster with the largest total weight, 1 for the next, ...
    """
    n = len(embeddings)
    if n == 0:
        return np.zeros(0, np.int64)
    weights = np.ones(n) if weights is None else np.asarray(weights, np.float64)
    if n == 1:
        return np.zeros(1, np.int64)
    from scipy.cluster.hierarchy import fcluster, linkage  # imported here: it costs 0.3 s at start-up

    e = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    z = linkage(e, method="average", metric="cosine")
    raw = fcluster(z, t=1.0 - threshold, criterion="distance")
    totals = {c: weights[raw == c].sum() for c in np.unique(raw)}
    order = sorted(totals, key=lambda c: (-totals[c], c))
    remap = {c: i for i, c in enumerate(order)}
    return np.array([remap[c] for c in raw], np.int64)


def assign_clusters(faceset: Faceset) -> int:
    """Cluster a faceset's tracks by identity and store each face's ``cluster_id``; returns the count."""
    ids = faceset.array("id")
    if len(ids) == 0:
        return 0
    tracks = faceset.array("track_id")
    emb = faceset.array("embedding")
    unique = np.unique(tracks)
    means = np.stack([emb[tracks == t].mean(0) for t in unique])
    counts = np.array([(tracks == t).sum() for t in unique])
    labels = cluster_embeddings(means, counts)
    by_track = dict(zip(unique.tolist(), labels.tolist(), strict=True))
    faceset.set_cluster_ids({int(i): int(by_track[int(t)]) for i, t in zip(ids, tracks, strict=True)})
    return int(labels.max()) + 1
