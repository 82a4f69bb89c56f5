"""Who each decoder learns: the mean identity embedding of each identity's faceset, recorded in
``model.json`` when a model starts, so that a resume with the facesets exchanged (``--a`` and ``--b``
swapped, or another person's faceset) is refused instead of retraining each decoder on the wrong face."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from facecraft.errors import FacecraftError
from facecraft.face.identity import SOURCE_MATCH
from facecraft.faceset.merge import main_identity
from facecraft.faceset.store import Faceset
from facecraft.train.checkpoint import ModelInfo


def identity_embeddings(facesets: Mapping[str, str | Path]) -> dict[str, list[float]]:
    """{identity: unit-length mean SFace embedding of its faceset's main person} (128 floats each)."""
    out = {}
    for name, path in facesets.items():
        with Faceset.open(path) as fs:
            mean = main_identity(fs).astype(np.float64)
        out[name] = [round(float(x), 6) for x in mean / max(float(np.linalg.norm(mean)), 1e-12)]
    return out


def check_same_people(old: ModelInfo, new: ModelInfo) -> None:
    """Refuse a resume where an identity's faceset shows another person than the one its decoder learned:
    it looks more like another identity of the model, or not like its own (cosine below SOURCE_MATCH: both sides are facesets' identities)."""
    before, now = old.identity_embeddings, new.identity_embeddings
    names = [n for n in new.identities if n in before and n in now]
    if not names:
        return  # a model from before identities were recorded
    sims = {n: {m: float(np.dot(now[n], before[m])) for m in names} for n in names}
    for n in names:
        best = max(names, key=lambda m: sims[n][m])
        if best != n and sims[n][best] > sims[n][n]:
            raise FacecraftError(
                f"the faceset given for {n} shows the person this model learned as {best} (identity "
                f"similarity {sims[n][best]:.2f}, vs {sims[n][n]:.2f} to {n}); are the facesets exchanged? "
                f"Give each identity the faceset it was trained with, or use a new output folder"
            )
        if sims[n][n] < SOURCE_MATCH:
            raise FacecraftError(
                f"the faceset given for {n} shows another person than the one this model learned as {n} "
                f"(identity similarity {sims[n][n]:.2f} < {SOURCE_MATCH}); use a new output folder"
            )
