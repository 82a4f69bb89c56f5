"""Keep a few dozen of each identity's sharp faces with the model, for the swap to lend detail from
(:mod:`facecraft.swap.exemplars`). Glasses frames are painted out and the lenses' tint and reflections taken
out as in training, and only the parser's face classes may lend (never hair or frames); without the parser,
the mesh's face oval."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facecraft.face.parse import FACE_CLASSES, OCCLUDER_CLASSES, class_mask
from facecraft.face.quality import face_mask
from facecraft.faceset.store import Faceset
from facecraft.swap.exemplars import choose_exemplars, save_bank
from facecraft.train.glasses import glasses_donors
from facecraft.train.lenses import glasses_out
from facecraft.train.parsing import parsed_labels


def keep_exemplars(
    model_dir: str | Path,
    identity: str,
    faceset: str | Path,
    use_parser: bool,
    only: set[int] | None = None,
    untint: bool = True,
) -> Path | None:
    """Choose and save ``identity``'s exemplars from its faceset (``only``: among these face ids; ``untint``:
    as :attr:`TrainConfig.untint_lenses`); returns the file (None: no faces)."""
    with Faceset.open(faceset) as fs:
        faces = [f for f in fs.faces() if only is None or f.id in only]
        if not faces:
            return None
        size = fs.size
        landmarks = np.stack([f.aligned_landmarks for f in faces]).astype(np.float32)
        picked = choose_exemplars(landmarks, np.array([f.sharpness for f in faces]), size)
        labels = parsed_labels(fs, faces, progress=False) if use_parser else []
        donors = glasses_donors(labels, [f.aligned_landmarks for f in faces]) if use_parser else None
        images, masks = [], []
        for i in picked:
            face = faces[i]
            img = fs.load_image(face)
            if not use_parser:
                masks.append(face_mask(face.aligned_landmarks, size))
            else:
                img, frames = glasses_out(img, labels, int(i), face.aligned_landmarks, donors, untint)
                # the eyes behind a glasses' lenses lend too; the frames never
                lend = class_mask(labels[i], (*FACE_CLASSES, "eyeglasses")).astype(np.uint8) * 255
                masks.append(np.where(frames > 0, 0, lend).astype(np.uint8))
            images.append(img)
        seen = seen_map(labels) if use_parser else None
    return save_bank(model_dir, identity, np.stack(images), np.stack(masks), landmarks[picked], seen)


def seen_map(labels: list[np.ndarray]) -> np.ndarray:
    """(S, S) uint8: in how many of a person's faces (255 = all) each aligned pixel was not under hair, a hat
    or other cover (glasses excepted: their frames are painted out and learned). Training leaves covers out
    of the loss, so the decoder never learns what it draws there: a fringe over one brow in every face became
    a smudge on every face it was swapped onto. The swap keeps the target's own pixels where the source was
    not seen (swap.compose.seen_weight)."""
    cover = [c for c in OCCLUDER_CLASSES if c != "eyeglasses"]
    hidden = np.zeros(labels[0].shape[:2], np.float64)
    for lab in labels:
        hidden += class_mask(lab, cover)
    return np.round(255 * (1.0 - hidden / len(labels))).astype(np.uint8)
