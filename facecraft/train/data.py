"""Facesets in memory: aligned faces, landmark masks, a held-out validation slice, and the data order.

Everything is loaded once. ``images`` are RGB uint8 (N, 3, S, S) at the model size; ``masks`` are uint8
(N, 3, S, S): channel 0 the face (the mask target), channel 1 eyes + mouth (extra loss weight), channel 2
where the loss applies (0 on hair, hats, jewellery, clothes and other things over or around the face). With
the face parser (the default) the face is what it calls face, and glasses frames are painted out of the
faces (the decoder learns its person without them); without it (FACECRAFT_NO_PARSER=1) the mesh's face
oval, and the loss applies everywhere.
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
    GLASSES_FRAME_BAND,
    OCCLUDER_CLASSES,
    class_mask,
    parser_disabled,
)
from facecraft.face.quality import face_mask
from facecraft.face.regions import polygon
from facecraft.faceset.store import Faceset
from facecraft.train.holdout import holdout
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
        )


def region_masks(
    aligned_landmarks: np.ndarray, faceset_size: int, labels: np.ndarray | None = None
) -> np.ndarray:
    """(3, S, S) uint8 at the faceset size: the face (the parser's face classes and the glasses' lenses from
    ``labels``, else the mesh's face oval), eyes + mouth dilated by ~S/40 pixels, and where the loss applies
    (255 but on the parser's hair, hats, jewellery and clothes; glasses frames are painted out of the
    training faces instead, see :func:`without_glasses_frames`)."""
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


def glasses_frames(
    labels: np.ndarray, image: np.ndarray | None = None, aligned_landmarks: np.ndarray | None = None
) -> np.ndarray:
    """(S, S) uint8 0/255: the frames of the glasses in a label map: the glasses class's outer band, grown
    outwards by as much (the parser's class stops inside the rim's outer edge); all zeros without glasses.
    With the face ``image`` (BGR) and its ``aligned_landmarks``, thick rims are added (:func:`_thick_rims`)."""
    glasses = class_mask(labels, ("eyeglasses",)).astype(np.uint8)
    if not glasses.any():
        return glasses
    r = max(1, round(labels.shape[0] * GLASSES_FRAME_BAND))
    disk = _disk(r)
    frames = cv2.dilate(glasses, disk) - cv2.erode(glasses, disk)
    # The bridge over the nose is rarely in the class: close the gap between the lenses along their upper
    # third, where the bridge runs.
    ys = np.nonzero(glasses.any(1))[0]
    top = slice(max(0, int(ys[0]) - r), int(ys[0]) + max(1, (int(ys[-1]) - int(ys[0])) // 3))
    gap = np.ones((1, max(3, round(labels.shape[0] * 0.15))), np.uint8)
    bridge = np.zeros_like(glasses)
    bridge[top] = (cv2.morphologyEx(glasses, cv2.MORPH_CLOSE, gap) - glasses)[top]
    frames = np.maximum(frames, cv2.dilate(bridge, disk))
    if image is not None and aligned_landmarks is not None:
        frames = np.maximum(frames, _thick_rims(image, labels, glasses, frames, aligned_landmarks))
    return frames * 255


THICK_RIM_REACH = 0.045
"""How far inside the glasses class (share of the crop) a rim may reach: a browline or horn-rimmed frame
is up to ~4 % of the crop thick, twice the band."""
THICK_RIM_COLOUR = 30.0
"""Lab distance from the median of what the lenses show above which a pixel is frame, not lens."""


def _disk(r: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))


def _thick_rims(
    image: np.ndarray,
    labels: np.ndarray,
    glasses: np.ndarray,
    band: np.ndarray,
    aligned_landmarks: np.ndarray,
) -> np.ndarray:
    """(S, S) uint8 0/1: rims thicker than the band (a browline's dark bar, horn rims): pixels of the glasses
    class near its edge whose colour is far from what the lenses show, joined to the band, never the eyes
    (the mesh's eyes, grown by 3 % of the crop)."""
    size = labels.shape[0]
    outlines = np.zeros((size, size), np.uint8)
    for name in ("left_eye", "right_eye"):
        cv2.fillPoly(outlines, [np.round(polygon(aligned_landmarks, name)).astype(np.int32)], 1)
    eyes = cv2.dilate(outlines, _disk(max(1, round(size * 0.03))))
    lens = (glasses > 0) & (band == 0) & (eyes == 0)
    if lens.sum() < 20:
        return np.zeros_like(glasses)
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB).astype(np.float32)
    far = np.linalg.norm(lab - np.median(lab[lens], axis=0), axis=2) > THICK_RIM_COLOUR
    near_edge = cv2.distanceTransform(glasses, cv2.DIST_L2, 3) <= max(2.0, size * THICK_RIM_REACH)
    rim = ((glasses > 0) & (eyes == 0) & near_edge & far).astype(np.uint8)
    rim = cv2.morphologyEx(rim, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    _, parts = cv2.connectedComponents(np.maximum(rim, band))
    joined = np.isin(parts, np.unique(parts[band > 0]))
    return cv2.dilate((joined & (rim > 0)).astype(np.uint8), _disk(1))


def without_glasses_frames(
    image: np.ndarray, labels: np.ndarray, aligned_landmarks: np.ndarray | None = None
) -> np.ndarray:
    """``image`` (S, S, 3) with its glasses' frames painted over from the skin around them.

    A decoder trained on a person who wears glasses otherwise learns to draw the frames (or, with them
    merely left out of the loss, a ghost of them) and puts them on every face it is swapped onto. With the
    frames painted out of every training face it learns the person without them; the lenses and the eyes
    behind them stay and are learned. A target's own glasses are kept at swap time by the parse mask.
    ``aligned_landmarks``: also paint out rims thicker than the band (:func:`glasses_frames`)."""
    return paint_frames(image, glasses_frames(labels, image, aligned_landmarks))


def paint_frames(image: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """``image`` with the pixels of ``frames`` (from :func:`glasses_frames`) filled from around them."""
    if not frames.any():
        return image
    r = max(2, round(frames.shape[0] * GLASSES_FRAME_BAND))
    return cv2.inpaint(image, frames, r, cv2.INPAINT_TELEA)


def load_identity(
    name: str,
    path: str | Path,
    size: int,
    val_fraction: float = 0.1,
    max_val: int = 32,
    parse: bool | None = None,
    progress: bool = True,
) -> IdentityData:
    """Read a whole faceset into memory, resized to ``size`` pixels; whole tracks or spaced
    segments of faces are held out for validation (:mod:`facecraft.train.holdout`).
    ``parse``: use the face parser's masks (None: unless FACECRAFT_NO_PARSER turns it off); ``progress``: a
    bar while faces not parsed before are parsed."""
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
        labels: list[np.ndarray | None] = (
            list(parsed_labels(fs, faces, progress)) if use_parser else [None] * len(faces)
        )
        interp = cv2.INTER_AREA if fsize > size else cv2.INTER_CUBIC
        for i, face in enumerate(faces):
            img = fs.load_image(face)
            if img.shape[0] != fsize:
                raise FacecraftError(
                    f"face image {face.image} in {path} is not {fsize} px; the faceset is damaged"
                )
            lab = labels[i]
            if lab is not None:
                img = without_glasses_frames(img, lab, face.aligned_landmarks)
            images[i] = img if fsize == size else cv2.resize(img, (size, size), interpolation=interp)
            m = region_masks(face.aligned_landmarks, fsize, labels[i])
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
