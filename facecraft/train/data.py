"""Facesets in memory: aligned faces, landmark masks, a held-out validation slice, and the data order.

Everything is loaded once. ``images`` are RGB uint8 (N, 3, S, S) at the model size; ``masks`` are uint8
(N, 3, S, S): channel 0 the face (the mask target), channel 1 eyes + mouth (extra loss weight), channel 2
where the loss applies (0 on hair, hats, jewellery, clothes and other things over or around the face). With
the face parser (the default) the face is what it calls face, and glasses frames are painted out of the
faces (the decoder learns its person without them: :mod:`facecraft.train.glasses`; on request the hair over
the face too, :mod:`facecraft.train.hair`); without it (FACECRAFT_NO_PARSER=1) the mesh's face oval, and the
loss applies everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import torch

from facecraft.errors import FacecraftError
from facecraft.face.parse import (
    FACE_CLASSES,
    OCCLUDER_CLASSES,
    class_mask,
    parser_disabled,
)
from facecraft.face.quality import face_mask
from facecraft.face.regions import polygon
from facecraft.faceset.store import Faceset
from facecraft.train.glasses import glasses_donors, glasses_seen
from facecraft.train.hair import paint_hair as paint_hair_over
from facecraft.train.holdout import holdout
from facecraft.train.lenses import glasses_out
from facecraft.train.parsing import parsed_labels

MIN_FACES = 16
"""Fewest faces an identity may have: a few for validation, the rest to learn from."""


@dataclass
class IdentityData:
    name: str
    images: torch.Tensor
    """(N, 3, S, S) uint8 RGB."""
    masks: torch.Tensor
    """(N, 3, S, S) uint8: face, eyes + mouth, loss applies (0..255)."""
    train_idx: torch.Tensor
    """Indices of the training faces (int64)."""
    val_idx: torch.Tensor
    """Indices of the held-out validation faces (whole tracks or spaced segments: train/holdout.py)."""
    coverage: str
    faceset_size: int
    source: str
    holdout: str = ""
    """How the validation faces were chosen, for the training log."""
    glasses: int = 0
    """In how many of the faces the parser saw the person's glasses whole (0: not a glasses wearer)."""

    def to(self, device: torch.device) -> IdentityData:
        pin = device.type == "cuda"
        images, masks = (t.pin_memory() if pin else t for t in (self.images, self.masks))
        return IdentityData(
            self.name,
            images.to(device, non_blocking=True),
            masks.to(device, non_blocking=True),
            self.train_idx,
            self.val_idx,
            self.coverage,
            self.faceset_size,
            self.source,
            self.holdout,
            self.glasses,
        )


def region_masks(
    aligned_landmarks: np.ndarray, faceset_size: int, labels: np.ndarray | None = None
) -> np.ndarray:
    """(3, S, S) uint8 at the faceset size: the face (the parser's face classes and the glasses' lenses from
    ``labels``, else the mesh's face oval), eyes + mouth dilated by ~S/40 pixels, and where the loss applies
    (255 but on the parser's hair, hats, jewellery and clothes; glasses frames are painted out of the
    training faces instead, see :mod:`facecraft.train.glasses`)."""
    oval = face_mask(aligned_landmarks, faceset_size)
    features = np.zeros_like(oval)
    for name in ("left_eye", "right_eye", "lips_outer"):
        cv2.fillPoly(features, [np.round(polygon(aligned_landmarks, name)).astype(np.int32)], 255)
    radius = max(1, faceset_size // 40)
    features = cv2.dilate(features, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2))
    if labels is None:
        return np.stack([oval, features, np.full_like(oval, 255)])
    face = class_mask(labels, (*FACE_CLASSES, "eyeglasses")).astype(np.uint8) * 255
    covered = class_mask(labels, [c for c in OCCLUDER_CLASSES if c != "eyeglasses"]).astype(np.uint8) * 255
    return np.stack([face, features, 255 - covered])


def load_identity(
    name: str,
    path: str | Path,
    size: int,
    val_fraction: float = 0.1,
    max_val: int = 32,
    parse: bool | None = None,
    progress: bool = True,
    paint_hair: bool = False,
    untint: bool = True,
) -> IdentityData:
    """Read a whole faceset into memory, resized to ``size`` pixels; whole tracks or spaced
    segments of faces are held out for validation (:mod:`facecraft.train.holdout`).
    ``parse``: use the face parser's masks (None: unless FACECRAFT_NO_PARSER turns it off); ``progress``: a
    bar while faces not parsed before are parsed; ``paint_hair``: paint the hair over the face out of the faces
    (:mod:`facecraft.train.hair`, with the parser only); ``untint``: take the tint and glare of a glasses
    wearer's lenses out of their faces (:mod:`facecraft.train.lenses`, with the parser only)."""
    with Faceset.open(path) as fs:
        faces = fs.faces()
        if len(faces) < MIN_FACES:
            raise FacecraftError(
                f"faceset {name} ({path}) has {len(faces)} faces; training needs at least {MIN_FACES} per "
                "identity (a few hundred is better): extract more frames or more videos"
            )
        fsize, coverage = fs.size, fs.coverage
        images = np.empty((len(faces), size, size, 3), np.uint8)
        masks = np.empty((len(faces), 3, size, size), np.uint8)
        use_parser = not parser_disabled() if parse is None else parse
        labels = parsed_labels(fs, faces, progress) if use_parser else []
        donors = glasses_donors(labels, [f.aligned_landmarks for f in faces]) if use_parser else None
        interp = cv2.INTER_AREA if fsize > size else cv2.INTER_CUBIC
        for i, face in enumerate(faces):
            img = fs.load_image(face)
            if img.shape[0] != fsize:
                raise FacecraftError(
                    f"face image {face.image} in {path} is not {fsize} px; the faceset is damaged"
                )
            lab = labels[i] if use_parser else None
            if lab is not None:
                img, frames = glasses_out(img, labels, i, face.aligned_landmarks, donors, untint)
                if paint_hair:
                    img, lab = paint_hair_over(img, lab, face.aligned_landmarks, frames)
            images[i] = img if fsize == size else cv2.resize(img, (size, size), interpolation=interp)
            m = region_masks(face.aligned_landmarks, fsize, lab)
            masks[i] = m if fsize == size else np.stack([cv2.resize(c, (size, size)) for c in m])
    n_val = int(np.clip(round(len(faces) * val_fraction), 1, max_val))
    split = holdout(np.array([f.track_id for f in faces]), np.array([f.frame_index for f in faces]), n_val)
    return IdentityData(
        name,
        torch.from_numpy(images[..., ::-1].transpose(0, 3, 1, 2).copy()),
        torch.from_numpy(masks),
        torch.from_numpy(split.train),
        torch.from_numpy(split.val),
        coverage,
        fsize,
        str(path),
        split.description,
        glasses_seen(donors),
    )


def glasses_notice(name: str, seen: int, faces: int) -> str:
    """What training tells a user about a glasses wearer's faceset (``seen``: faces with the glasses whole)."""
    return (
        f"train: {name} wears glasses (seen whole in {seen} of {faces} faces): their frames are painted out of "
        f"the training faces, but a decoder that never saw {name} without them can still draw a ghost of them "
        f"(rim lines, doubled brows) on the faces it is swapped onto; footage of {name} without glasses "
        "avoids it (docs/swap.md, Limits)"
    )


def check_compatible(data: list[IdentityData]) -> tuple[int, str]:
    """All facesets must share aligned size and coverage; returns (faceset_size, coverage)."""
    first = data[0]
    for d in data[1:]:
        if d.faceset_size != first.faceset_size:
            raise FacecraftError(
                f"facesets have different sizes ({first.name}: {first.faceset_size} px, {d.name}: "
                f"{d.faceset_size} px); extract them with the same --size"
            )
        if d.coverage != first.coverage:
            raise FacecraftError(
                f"facesets have different coverage ({first.name}: {first.coverage}, {d.name}: {d.coverage}); "
                "extract them with the same --coverage"
            )
    return first.faceset_size, first.coverage


@lru_cache(maxsize=64)
def _epoch_order(n: int, seed: int, stream: int, epoch: int) -> np.ndarray:
    return np.random.default_rng([seed, stream, epoch]).permutation(n)


def batch_positions(n: int, batch: int, step: int, seed: int, stream: int) -> np.ndarray:
    """Positions (into the training indices) of the ``batch`` samples used at ``step``.

    Each epoch is a fresh permutation derived from (seed, stream, epoch), so the data order is a pure
    function of the step: resuming needs only the step number.
    """
    pos = np.arange(step * batch, (step + 1) * batch)
    epochs, within = pos // n, pos % n
    return np.array([_epoch_order(n, seed, stream, int(e))[w] for e, w in zip(epochs, within, strict=True)])
