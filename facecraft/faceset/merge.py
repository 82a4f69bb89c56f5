"""Merging facesets of the same person."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facecraft.errors import FacecraftError
from facecraft.face.identity import SOURCE_MATCH, cosine
from facecraft.faceset.cluster import assign_clusters
from facecraft.faceset.store import Faceset
from facecraft.faceset.transfer import copy_faces
from facecraft.fileio import FolderLock


def main_identity(fs: Faceset) -> np.ndarray:
    """Mean embedding of the faceset's largest identity cluster."""
    emb, clusters = fs.array("embedding"), fs.array("cluster_id")
    if len(emb) == 0:
        raise FacecraftError(f"the faceset {fs.root} is empty")
    main = emb[clusters == 0] if (clusters == 0).any() else emb
    return main.mean(0)


def merge(inputs: list[str | Path], output: str | Path, force: bool = False) -> int:
    """Merge facesets into ``output`` (created, or extended). Refuses different people unless ``force``.

    Returns the number of faces in the merged faceset.
    """
    if len(inputs) < 2:
        raise FacecraftError("merge needs at least two facesets")
    sets = [Faceset.open(p) for p in inputs]
    try:
        ref = main_identity(sets[0])
        for fs in sets[1:]:
            sim = float(cosine(ref, main_identity(fs))[0, 0])
            if sim < SOURCE_MATCH and not force:  # a faceset's identity against another's
                raise FacecraftError(
                    f"{fs.root} looks like a different person from {sets[0].root} (identity similarity {sim:.2f} "
                    f"< {SOURCE_MATCH}); pass --force to merge anyway"
                )
        lock = FolderLock.for_folder(output, f"the faceset {output}", "merge")
        with lock, Faceset.create(output, sets[0].settings) as out:
            for fs in sets:
                if Path(fs.root).resolve() == Path(out.root).resolve():
                    continue
                copy_faces(fs, out, fs.faces())
            assign_clusters(out)
            return out.count()
    finally:
        for fs in sets:
            fs.close()
