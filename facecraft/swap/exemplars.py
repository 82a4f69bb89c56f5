"""Source detail from exemplars: the source person's own sharp faces lend their fine structure to the model's face.

A small CPU model draws a 64 px face; upscaled onto a 250 px face it is a smear. The source person's
faceset holds the real thing at the faceset size. At training time a few dozen of those faces (spread over
pose and expression, sharpest first) are kept with the model (:func:`choose_exemplars`, saved by
:func:`save_bank`). At swap time, each target face's landmarks are moved into the source person's
proportions (:meth:`ExemplarDetail.source_layout`), the exemplar nearest that layout is warped onto it (a
piecewise-affine warp over the mesh's triangles) and its band above the model's resolution replaces the
model's: the model gives colour, shading and the coarse shape, the exemplar gives eyelids, brows, lips and
skin grain of the source person, where the target's expression puts them. Detail the warp stretches or
squeezes too far is not lent, nor detail whose features lie elsewhere than the model's own
(:func:`agreement`). Only the exemplar's face classes lend detail (never its hair or glasses frames), and
a track keeps its exemplar until another fits clearly better, so the texture does not hop from frame to
frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from facecraft.errors import FacecraftError

EXEMPLAR_DIR = "exemplars"
MAX_EXEMPLARS = 32
"""Faces kept per identity: the spread of a talking clip's poses and mouth shapes, about 3 MB each at 256 px."""

SHARPEST_SHARE = 0.7
"""Exemplars are chosen among this share of the faces with the most fine detail (blurred frames lend none)."""

SWITCH_RATIO = 0.8
"""A track changes exemplar only when another one's landmark distance is below this share of its own's."""

MAP_SMOOTH = 1 / 128
"""The warp's maps are smoothed by a Gaussian of this share of the aligned side (2 px at 256)."""

STRETCH_FULL, STRETCH_NONE = 1.4, 2.0
"""Where the warp stretches (or squeezes) an exemplar's area by up to STRETCH_FULL times its detail is lent
in full, from STRETCH_NONE times on not at all."""

BAND = 1.0
"""The band lent starts at a Gaussian of this many model pixels (in aligned pixels: BAND x aligned size /
model size): about what the model itself cannot draw."""

AGREE_NONE, AGREE_FULL = 0.2, 0.6
"""Detail is lent only where the exemplar's coarser features lie where the model drew its own (see
:func:`agreement`): not at all below AGREE_NONE, in full from AGREE_FULL. On clips it was not tuned on, the
source's glasses frames (clear, thin, missed by the parser) and eyes that sat a few pixels from the model's
were lent as a second pair: the face was recognised in 38 % of frames with detail, 98 % with this gate."""
AGREE_BAND = 3.0
"""The features compared lie between a Gaussian of sigma and AGREE_BAND x sigma (the model's finest drawn)."""
AGREE_WINDOW = 6.0
"""Agreement is measured over a Gaussian window of this many sigma (about an eye's width at 256 px)."""


@dataclass(frozen=True)
class ExemplarBank:
    """``images`` (N, S, S, 3) BGR uint8 aligned faces, ``masks`` (N, S, S) uint8 0/255 where each may lend
    detail (face classes), ``landmarks`` (N, 478, 2) float32 aligned pixels, ``triangles`` (T, 3) int32
    indices into the landmarks plus the square's border points (:func:`border_points`); ``seen`` (S, S)
    uint8: in how many of the person's training faces (255 = all) each aligned pixel was not under hair, a hat
    or other cover, so learned (train.exemplars.seen_map; None: not recorded, a model trained before it was)."""

    images: np.ndarray
    masks: np.ndarray
    landmarks: np.ndarray
    triangles: np.ndarray
    seen: np.ndarray | None = None

    @property
    def size(self) -> int:
        return int(self.images.shape[1])


SHAPE_WEIGHTS = {
    "lips_inner": 4.0,
    "lips_outer": 3.0,
    "left_eye": 3.0,
    "right_eye": 3.0,
    "left_iris": 2.0,
    "right_iris": 2.0,
}
"""Extra weight of the mouth and eyes in the choice of an exemplar: over all 478 points the pose alone would
decide, and an exemplar with a closed mouth stretched over an open one draws lips smeared across it."""


def _shape_vectors(landmarks: np.ndarray, size: int, weighted: bool = True) -> np.ndarray:
    """(N, D) landmark positions as fractions of the aligned side, mouth and eyes weighted (SHAPE_WEIGHTS;
    ``weighted`` False: plain points, for layouts that are not the 478-point mesh): pose and expression in
    one vector."""
    from facecraft.face.regions import region

    pts = np.asarray(landmarks, np.float32) / float(size)
    parts = [pts.reshape(len(pts), -1)]
    if not weighted:
        return parts[0]
    for name, w in SHAPE_WEIGHTS.items():
        parts.append(w * pts[:, list(region(name))].reshape(len(pts), -1))
    return np.concatenate(parts, axis=1)


def choose_exemplars(
    landmarks: np.ndarray, sharpness: np.ndarray, size: int, n: int = MAX_EXEMPLARS, weighted: bool = True
) -> list[int]:
    """Indices of up to ``n`` faces spread over pose and expression: the sharpest face first, then each time
    the face farthest (in landmark shape) from those chosen, among the sharpest SHARPEST_SHARE."""
    count = len(landmarks)
    if count == 0:
        return []
    order = np.argsort(-np.asarray(sharpness, np.float64))
    pool = order[: max(1, int(np.ceil(count * SHARPEST_SHARE)))]
    vectors = _shape_vectors(landmarks[pool], size, weighted)
    chosen = [0]
    dist = np.linalg.norm(vectors - vectors[0], axis=1)
    while len(chosen) < min(n, len(pool)):
        nxt = int(np.argmax(dist))
        if dist[nxt] <= 0:
            break
        chosen.append(nxt)
        dist = np.minimum(dist, np.linalg.norm(vectors - vectors[nxt], axis=1))
    return [int(pool[i]) for i in chosen]


def border_points(size: int) -> np.ndarray:
    """(12, 2) points on the aligned square's border: they tie the warp to the identity there."""
    s = float(size - 1)
    t = (0.0, s / 3, 2 * s / 3, s)
    pts = (
        [(x, 0.0) for x in t]
        + [(x, s) for x in t]
        + [(0.0, s / 3), (0.0, 2 * s / 3), (s, s / 3), (s, 2 * s / 3)]
    )
    return np.array(pts, np.float32)


def triangulate(points: np.ndarray, size: int) -> np.ndarray:
    """(T, 3) int32 Delaunay triangles of ``points`` (P, 2) plus :func:`border_points` (indices P...)."""
    from scipy.spatial import Delaunay

    allpts = np.concatenate([np.asarray(points, np.float64), border_points(size)])
    return np.asarray(Delaunay(allpts).simplices, np.int32)


def warp_maps(
    src: np.ndarray, dst: np.ndarray, triangles: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward maps (S, S) float32 for cv2.remap: each pixel of the ``dst`` landmark layout samples the
    image whose landmarks are ``src`` (both (P, 2), aligned pixels), affinely within each triangle; and
    (S, S) float32 how much the warp stretches the area there (dst over src; 1 where no triangle covers).
    Pixels no triangle covers keep their own position (both layouts are aligned to the same template)."""
    border = border_points(size)
    s = np.concatenate([np.asarray(src, np.float64), border])[triangles]  # (T, 3, 2)
    d = np.concatenate([np.asarray(dst, np.float64), border])[triangles]
    ones = np.ones((len(triangles), 3, 1))
    dh = np.concatenate([d, ones], axis=2)  # (T, 3, 3)
    det = np.linalg.det(dh)
    ok = np.abs(det) > 1e-6
    affines = np.zeros((len(triangles), 3, 2))
    affines[ok] = np.linalg.solve(dh[ok], s[ok])  # dst (x, y, 1) @ A = src (x, y)
    index = np.full((size, size), -1, np.int32)
    for t in np.nonzero(ok)[0]:
        cv2.fillConvexPoly(index, np.round(d[t]).astype(np.int32), int(t))
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    inside = index >= 0
    a = affines[np.maximum(index, 0)]  # (S, S, 3, 2)
    map_x = np.where(inside, xs * a[..., 0, 0] + ys * a[..., 1, 0] + a[..., 2, 0], xs)
    map_y = np.where(inside, xs * a[..., 0, 1] + ys * a[..., 1, 1] + a[..., 2, 1], ys)
    src_per_dst = np.abs(np.linalg.det(affines[:, :2, :2]))  # area of src per unit area of dst
    stretch = np.where(
        inside & ok[np.maximum(index, 0)], 1.0 / np.maximum(src_per_dst[np.maximum(index, 0)], 1e-6), 1.0
    )
    return map_x.astype(np.float32), map_y.astype(np.float32), stretch.astype(np.float32)


def agreement(generated: np.ndarray, exemplar: np.ndarray, sigma: float) -> np.ndarray:
    """(S, S) float32 in -1..1: the local correlation of the two faces' features between a Gaussian of
    ``sigma`` and AGREE_BAND x ``sigma`` pixels (grey levels, over a window of AGREE_WINDOW x ``sigma``).
    Near 1 where the exemplar's eyes, brows and lips lie on the model's own; near 0 or below where either
    draws a feature the other has elsewhere or not at all. Measured at half size: every scale here is 4 px
    or more at 256."""
    size = generated.shape[0]
    half = max(1, size // 2)
    k = size / half

    def band(img: np.ndarray) -> np.ndarray:
        grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img
        g = cv2.resize(grey, (half, half), interpolation=cv2.INTER_AREA).astype(np.float32)
        s = sigma / k
        return cv2.GaussianBlur(g, (0, 0), s) - cv2.GaussianBlur(g, (0, 0), AGREE_BAND * s)

    bg, be = band(generated), band(exemplar)
    window = AGREE_WINDOW * sigma / k
    cross = cv2.GaussianBlur(bg * be, (0, 0), window)
    energy = cv2.GaussianBlur(bg * bg, (0, 0), window) * cv2.GaussianBlur(be * be, (0, 0), window)
    corr = cross / (np.sqrt(np.maximum(energy, 0.0)) + 1.0)
    return cv2.resize(corr, (size, size), interpolation=cv2.INTER_LINEAR)


def lend_detail(generated: np.ndarray, exemplar: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    """``generated`` (S, S, 3) uint8 with its band finer than a Gaussian of ``sigma`` pixels replaced by the
    ``exemplar``'s (already warped onto the same landmarks) where ``weight`` (S, S, 0..1) is set."""
    g = generated.astype(np.float32)
    e = exemplar.astype(np.float32)
    band_e = e - cv2.GaussianBlur(e, (0, 0), sigma)
    band_g = g - cv2.GaussianBlur(g, (0, 0), sigma)
    out = g + (band_e - band_g) * weight[..., None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


class ExemplarDetail:
    """Per track: which exemplar lends detail; :meth:`apply` adds it to one generated face."""

    def __init__(self, bank: ExemplarBank, model_size: int, amount: float = 1.0, weighted: bool = True):
        self.bank = bank
        self.amount = amount
        self.weighted = weighted
        self.sigma = BAND * bank.size / float(model_size)
        self.vectors = _shape_vectors(bank.landmarks, bank.size, weighted)
        self.current: dict[int, int] = {}
        self.bank_mean = bank.landmarks.mean(axis=0).astype(np.float64)
        self.track_sum: dict[int, np.ndarray] = {}
        self.track_n: dict[int, int] = {}

    def source_layout(self, track_id: int, aligned_landmarks: np.ndarray, size: int) -> np.ndarray:
        """The target's landmarks (S px) moved into the source person's proportions: the target's
        expression and pose as offsets from its own mean shape along the track, on the source's mean shape
        (the exemplars'). Warped onto the target's own layout, the source's detail carried the target's eye
        spacing and mouth width into the face."""
        k = self.bank.size / size
        lm = aligned_landmarks.astype(np.float64) * k
        self.track_sum[track_id] = self.track_sum.get(track_id, 0.0) + lm
        self.track_n[track_id] = self.track_n.get(track_id, 0) + 1
        mean = self.track_sum[track_id] / self.track_n[track_id]
        return ((lm - mean + self.bank_mean) / k).astype(np.float32)

    def to_json(self) -> dict[str, Any]:
        """The per-track state (current exemplar, landmark sum and count), for a resumed swap to continue."""
        out: dict[str, Any] = {}
        for t in set(self.current) | set(self.track_sum):
            total = self.track_sum.get(t)
            out[str(t)] = {
                "current": self.current.get(t),
                "sum": None if total is None else total.tolist(),
                "n": self.track_n.get(t, 0),
            }
        return out

    def load_json(self, state: dict[str, Any]) -> None:
        for key, s in state.items():
            t = int(key)
            if s.get("current") is not None:
                self.current[t] = int(s["current"])
            if s.get("sum") is not None:
                self.track_sum[t] = np.array(s["sum"], np.float64)
                self.track_n[t] = int(s["n"])

    def choose(self, track_id: int, aligned_landmarks: np.ndarray, size: int) -> int:
        """The exemplar for this face: the nearest in landmark shape, unless the track's current one is
        within 1 / SWITCH_RATIO of it."""
        v = _shape_vectors(aligned_landmarks[None] * (self.bank.size / size), self.bank.size, self.weighted)[
            0
        ]
        dist = np.linalg.norm(self.vectors - v, axis=1)
        best = int(np.argmin(dist))
        cur = self.current.get(track_id)
        if cur is not None and dist[best] >= SWITCH_RATIO * dist[cur]:
            best = cur
        self.current[track_id] = best
        return best

    def apply(self, track_id: int, generated: np.ndarray, aligned_landmarks: np.ndarray) -> np.ndarray:
        """``generated`` (S, S, 3) uint8 (any S) with the chosen exemplar's fine detail where its face is."""
        size = generated.shape[0]
        aligned_landmarks = self.source_layout(track_id, aligned_landmarks, size)
        i = self.choose(track_id, aligned_landmarks, size)
        scale = size / self.bank.size
        src = self.bank.landmarks[i] * scale
        image, mask = self.bank.images[i], self.bank.masks[i]
        if size != self.bank.size:
            image = cv2.resize(
                image, (size, size), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
            )
            mask = cv2.resize(mask, (size, size), interpolation=cv2.INTER_LINEAR)
        map_x, map_y, stretch = warp_maps(src, aligned_landmarks, self.bank.triangles, size)
        # Piecewise affine bends at every triangle edge: a lip line crossing many small triangles zigzags.
        # Smoothing the maps over a few pixels keeps the landmarks' positions and takes out the kinks.
        smooth = max(1.0, size * MAP_SMOOTH)
        map_x = cv2.GaussianBlur(map_x, (0, 0), smooth)
        map_y = cv2.GaussianBlur(map_y, (0, 0), smooth)
        # Bicubic: a warp samples between pixels, and bilinear sampling there halves the finest grain the
        # exemplar is here to lend (her face in his video: sharpness 0.49 bilinear, 0.67 bicubic).
        warped = cv2.remap(image, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
        weight = cv2.remap(mask, map_x, map_y, cv2.INTER_LINEAR).astype(np.float32) / 255.0
        # Detail stretched over twice its area (a mouth opened wider than any exemplar's) is streaks, and
        # squeezed into half of it (full lips onto thin ones) a jagged line, not detail: it fades out
        # between STRETCH_FULL and STRETCH_NONE either way.
        change = np.abs(np.log(np.maximum(stretch, 1e-6)))
        fade = np.clip((np.log(STRETCH_NONE) - change) / np.log(STRETCH_NONE / STRETCH_FULL), 0.0, 1.0)
        weight = cv2.GaussianBlur(weight * fade, (0, 0), max(1.0, size / 128)) * self.amount
        # Where the exemplar's features are not where the model drew them (glasses frames the parser missed,
        # an eye a few pixels off), its detail would be a second, sharp copy beside the model's blurred one.
        agree = agreement(generated, warped, self.sigma * scale)
        weight = weight * np.clip((agree - AGREE_NONE) / (AGREE_FULL - AGREE_NONE), 0.0, 1.0)
        return lend_detail(generated, warped, np.clip(weight, 0.0, 1.0), self.sigma * scale)


def for_job(
    bank: ExemplarBank | None, model_size: int, amount: float, state: dict[str, Any] | None = None
) -> ExemplarDetail | None:
    """The detail lender of one swap run (None without exemplars or with ``amount`` 0); ``state``: from
    :meth:`ExemplarDetail.to_json` of the run being resumed."""
    if bank is None or amount <= 0:
        return None
    lender = ExemplarDetail(bank, model_size, amount)
    if state:
        lender.load_json(state)
    return lender


def bank_path(model_dir: str | Path, identity: str) -> Path:
    return Path(model_dir) / EXEMPLAR_DIR / f"{identity}.npz"


def save_bank(
    model_dir: str | Path,
    identity: str,
    images: np.ndarray,
    masks: np.ndarray,
    landmarks: np.ndarray,
    seen: np.ndarray | None = None,
) -> Path:
    """Write one identity's exemplars (see :class:`ExemplarBank`) next to the model; returns the file."""
    import io

    from facecraft.fileio import write_atomic

    path = bank_path(model_dir, identity)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    arrays: dict[str, np.ndarray] = {
        "images": images.astype(np.uint8),
        "masks": masks.astype(np.uint8),
        "landmarks": landmarks.astype(np.float32),
    }
    if seen is not None:
        arrays["seen"] = seen.astype(np.uint8)
    np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]
    write_atomic(path, buf.getvalue())
    return path


def load_bank(model_dir: str | Path, identity: str) -> ExemplarBank | None:
    """The identity's exemplars, or None for a model trained before they were kept."""
    path = bank_path(model_dir, identity)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            images, masks, landmarks = z["images"], z["masks"], z["landmarks"]
            seen = z["seen"] if "seen" in z.files else None
    except (OSError, ValueError, KeyError) as exc:
        raise FacecraftError(
            f"the exemplars {path} are unreadable ({exc}); delete the file to swap without them"
        ) from None
    if (
        images.ndim != 4
        or len(images) == 0
        or masks.shape != images.shape[:3]
        or landmarks.shape[0] != len(images)
        or (seen is not None and seen.shape != images.shape[1:3])
    ):
        raise FacecraftError(f"the exemplars {path} are damaged; delete the file to swap without them")
    mean = landmarks.mean(axis=0)
    return ExemplarBank(images, masks, landmarks, triangulate(mean, images.shape[1]), seen)
