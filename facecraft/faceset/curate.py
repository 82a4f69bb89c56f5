"""Curating a faceset: one identity, no blur, no near-duplicates, and even coverage of pose,
expression and lighting.

Selection works in a feature space where one unit is roughly "a visibly different face":
10 degrees of yaw or pitch, 20 of roll, 8 L-units of brightness, or a third of a blendshape's range.
Every occupied pose cell gets its best face first (so the pick never covers fewer poses than any
other pick of the same size), then farthest-point sampling fills the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facecraft.errors import FacecraftError
from facecraft.faceset.cluster import assign_clusters
from facecraft.faceset.info import PITCH_BINS, YAW_BINS, pose_coverage
from facecraft.faceset.store import Faceset
from facecraft.faceset.transfer import copy_faces
from facecraft.fileio import FolderLock, same_file

DUPLICATE_DISTANCE = 0.35


@dataclass(frozen=True)
class CurateConfig:
    keep: int = 0
    """How many faces to keep (0: all that survive the filters)."""
    identity: int | None = None
    """Cluster id to keep (default: the largest)."""
    min_sharpness: float | None = None
    """Drop faces below this sharpness (default: half the identity's median)."""
    duplicate_distance: float = DUPLICATE_DISTANCE
    """Faces closer than this in feature space count as duplicates."""

    def __post_init__(self) -> None:
        if self.keep < 0:
            raise FacecraftError("--keep must be 0 (all) or more")


def features(
    yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray, brightness: np.ndarray, blendshapes: np.ndarray
) -> np.ndarray:
    """(N, 4 + 52) selection features in "visibly different" units."""
    return np.column_stack([yaw / 10.0, pitch / 10.0, roll / 20.0, brightness / 8.0, blendshapes * 3.0])


def farthest_point_order(x: np.ndarray, seeds: list[int], n: int) -> list[int]:
    """Greedy farthest-point sampling: extend ``seeds`` to ``n`` indices of rows of ``x``."""
    chosen = list(dict.fromkeys(seeds))[:n]
    if not chosen:
        chosen = [int(np.argmin(((x - x.mean(0)) ** 2).sum(1)))]
    dist = np.min(((x[:, None, :] - x[None, chosen, :]) ** 2).sum(-1), axis=1)
    while len(chosen) < min(n, len(x)):
        i = int(np.argmax(dist))
        chosen.append(i)
        dist = np.minimum(dist, ((x - x[i]) ** 2).sum(1))
    return chosen


def drop_duplicates(x: np.ndarray, priority: np.ndarray, radius: float) -> np.ndarray:
    """Indices to keep: visiting faces by ``priority`` (high first), drop any within ``radius`` of a kept one."""
    from scipy.spatial import cKDTree  # imported here: scipy costs 0.3 s at start-up

    tree = cKDTree(x)
    removed = np.zeros(len(x), bool)
    keep = []
    for i in np.argsort(-priority, kind="stable"):
        if removed[i]:
            continue
        keep.append(i)
        removed[tree.query_ball_point(x[i], radius)] = True
    return np.array(sorted(keep), np.int64)


def select(
    yaw: np.ndarray,
    pitch: np.ndarray,
    roll: np.ndarray,
    brightness: np.ndarray,
    blendshapes: np.ndarray,
    sharpness: np.ndarray,
    keep: int,
    duplicate_distance: float,
) -> np.ndarray:
    """Indices of the faces to keep, chosen for even coverage (see module doc)."""
    x = features(yaw, pitch, roll, brightness, blendshapes)
    pool = drop_duplicates(x, sharpness, duplicate_distance)
    n = len(pool) if keep == 0 else min(keep, len(pool))
    cell = np.digitize(np.clip(yaw[pool], -89.9, 89.9), YAW_BINS) * 100 + np.digitize(
        np.clip(pitch[pool], -59.9, 59.9), PITCH_BINS
    )
    best_per_cell = [
        int(np.flatnonzero(cell == c)[np.argmax(sharpness[pool][cell == c])]) for c in np.unique(cell)
    ]
    # Rarest cells first, so a small keep still spans the extremes.
    counts = {c: int((cell == c).sum()) for c in np.unique(cell)}
    best_per_cell.sort(key=lambda i: counts[cell[i]])
    order = farthest_point_order(x[pool], best_per_cell[:n], n)
    return np.sort(pool[order])


def coverage(fs: Faceset, ids: np.ndarray | None = None) -> dict[str, Any]:
    """Coverage numbers of a faceset (or of the faces with ``ids``)."""
    all_ids = fs.array("id")
    m = np.ones(len(all_ids), bool) if ids is None else np.isin(all_ids, ids)
    yaw, pitch = fs.array("yaw")[m], fs.array("pitch")[m]
    bright, shapes = fs.array("brightness")[m], fs.array("blendshapes")[m]
    if not m.any():
        return {"faces": 0}
    return {
        "faces": int(m.sum()),
        "pose_cells": pose_coverage(yaw, pitch),
        "yaw_range": [round(float(yaw.min()), 1), round(float(yaw.max()), 1)],
        "pitch_range": [round(float(pitch.min()), 1), round(float(pitch.max()), 1)],
        "brightness_range": [round(float(bright.min()), 1), round(float(bright.max()), 1)],
        "expression_spread": round(float(shapes.std(0).sum()), 3),
    }


def curate(faceset: str | Path, config: CurateConfig, output: str | Path | None = None) -> dict[str, Any]:
    """Curate ``faceset`` in place, or into a new faceset ``output``. Returns before/after coverage and
    ``faces``, the number of faces the curated faceset holds."""
    if output is not None and same_file(output, faceset):
        raise FacecraftError(f"the output {output} is the faceset itself; leave out -o to curate in place")
    with (
        Faceset.open(faceset) as fs,
        FolderLock.for_folder(output or faceset, f"the faceset {output or faceset}", "curate"),
    ):
        if fs.count() == 0:
            raise FacecraftError(f"the faceset {fs.root} is empty")
        before = coverage(fs)
        ids = fs.array("id")
        clusters = fs.array("cluster_id")
        ident = 0 if config.identity is None else config.identity
        mine = clusters == ident
        if not mine.any():
            raise FacecraftError(f"the faceset has no identity #{ident}; see 'facecraft faceset info'")
        sharp = fs.array("sharpness").astype(float)
        min_sharp = (
            config.min_sharpness if config.min_sharpness is not None else 0.5 * float(np.median(sharp[mine]))
        )
        ok = mine & (sharp >= min_sharp)
        idx = np.flatnonzero(ok)
        if len(idx) == 0:
            raise FacecraftError(
                f"every face is below the sharpness threshold {min_sharp:.1f}; lower --min-sharpness"
            )
        chosen = idx[
            select(
                fs.array("yaw")[idx].astype(float),
                fs.array("pitch")[idx].astype(float),
                fs.array("roll")[idx].astype(float),
                fs.array("brightness")[idx].astype(float),
                fs.array("blendshapes")[idx],
                sharp[idx],
                config.keep,
                config.duplicate_distance,
            )
        ]
        keep_ids = ids[chosen]
        result = {
            "before": before,
            "after": coverage(fs, keep_ids),
            "dropped": {
                "other_identities": int((~mine).sum()),
                "blurry": int((mine & ~ok).sum()),
                "duplicates_or_unselected": int(ok.sum() - len(chosen)),
            },
            "min_sharpness": round(min_sharp, 2),
        }
        if output is None:
            fs.delete_faces(ids[~np.isin(ids, keep_ids)].tolist())
            result["faceset"], result["faces"] = str(fs.root), fs.count()
            return result
        chosen_faces = fs.faces(f"faces.id IN ({','.join(map(str, keep_ids.tolist()))})")
        with Faceset.create(output, fs.settings) as out:
            copy_faces(fs, out, chosen_faces)
            assign_clusters(out)
            result["faceset"], result["faces"] = str(output), out.count()
        return result
