"""The ``evaluate`` verb: how well a swap worked, per frame and for the whole video (or photo).

Identity (does the swapped face look like the source person and not like the original one), expression
and pose kept, temporal flicker of the face relative to the original, and seam visibility. The metrics
are defined in facecraft/evaluate/metrics.py and explained in docs/metrics.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from facecraft.errors import FacecraftError
from facecraft.evaluate import metrics
from facecraft.evaluate.pairs import FacePair, PairFinder
from facecraft.evaluate.thresholds import PAIR_MATCH, SOURCE_MATCH
from facecraft.faceset.store import Faceset
from facecraft.media.image import read_image
from facecraft.media.inputs import media_kind
from facecraft.media.video import iter_frames, probe

CHANGED = 2.0  # mean grey-level difference inside the face oval above which a face counts as replaced


@dataclass
class FrameScore:
    """The metrics of one frame's main face (the one the swap changed most). None: not measurable."""

    frame: int
    faces: int
    changed: bool = False
    identity_to_source: float | None = None
    identity_to_original: float | None = None
    original_to_source: float | None = None
    landmark_error: float | None = None
    pose_error_deg: float | None = None
    expression_error: float | None = None
    seam: float | None = None
    change_original: float | None = None
    change_swapped: float | None = None
    flicker_excess: float | None = None
    sharpness_original: float | None = None
    sharpness_swapped: float | None = None
    sharpness_replaced_original: float | None = None
    sharpness_replaced_swapped: float | None = None
    expression_original: dict[str, float] | None = None
    expression_swapped: dict[str, float] | None = None
    eye_shade: list[float] | None = None


@dataclass
class EvaluateReport:
    original: str
    swapped: str
    source: str
    frames: list[FrameScore] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Averages over frames where a face was measured (see docs/metrics.md)."""
        f = self.frames

        def mean(name: str) -> float | None:
            values = [getattr(s, name) for s in f if getattr(s, name) is not None]
            return float(np.mean(values)) if values else None

        def share(name: str, threshold: float) -> float | None:
            values = [getattr(s, name) for s in f if getattr(s, name) is not None]
            return float(np.mean([v >= threshold for v in values])) if values else None

        ratios = [
            s.sharpness_swapped / s.sharpness_original
            for s in f
            if s.changed and s.sharpness_swapped is not None and s.sharpness_original
        ]
        replaced = [
            s.sharpness_replaced_swapped / s.sharpness_replaced_original
            for s in f
            if s.changed and s.sharpness_replaced_swapped is not None and s.sharpness_replaced_original
        ]
        kept = [s for s in f if s.expression_original is not None and s.expression_swapped is not None]
        shades = [s.eye_shade for s in f if s.eye_shade is not None]
        change_o = sum(s.change_original or 0.0 for s in f)
        change_s = sum(s.change_swapped or 0.0 for s in f)
        return {
            "frames": len(f),
            "frames_with_face": sum(s.identity_to_source is not None for s in f),
            "frames_changed": sum(s.changed for s in f),
            "identity_to_source": mean("identity_to_source"),
            "identity_to_original": mean("identity_to_original"),
            "original_to_source": mean("original_to_source"),
            "source_match_rate": share("identity_to_source", SOURCE_MATCH),
            "original_match_rate": share("identity_to_original", PAIR_MATCH),
            "landmark_error": mean("landmark_error"),
            "pose_error_deg": mean("pose_error_deg"),
            "expression_error": mean("expression_error"),
            "seam": mean("seam"),
            "flicker_excess": mean("flicker_excess"),
            "flicker_ratio": change_s / change_o if change_o > 0 else None,
            "sharpness_ratio": float(np.median(ratios)) if ratios else None,
            "sharpness_ratio_replaced": float(np.median(replaced)) if replaced else None,
            "eye_shade": [float(v) for v in np.mean(shades, axis=0)] if shades else None,
            "expression": metrics.expression_agreement(
                [s.expression_original for s in kept if s.expression_original is not None],
                [s.expression_swapped for s in kept if s.expression_swapped is not None],
            ),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "original": self.original,
            "swapped": self.swapped,
            "source": self.source,
            "source_match_threshold": SOURCE_MATCH,
            "pair_match_threshold": PAIR_MATCH,
            "summary": _clean(self.summary()),
            "frames": [_clean(asdict(s)) for s in self.frames],
            "warnings": self.warnings,
        }


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: _round(v) for k, v in d.items()}


def _round(v: Any) -> Any:
    if isinstance(v, dict):
        return _clean(v)
    if isinstance(v, list):
        return [_round(x) for x in v]
    return round(v, 5) if isinstance(v, float) and math.isfinite(v) else v


def source_embedding(faceset: str | Path) -> np.ndarray:
    """The mean SFace embedding (L2-normalised) of every face in a faceset: the source identity."""
    with Faceset.open(faceset) as fs:
        emb = fs.array("embedding")
    if len(emb) == 0:
        raise FacecraftError(f"the faceset {faceset} has no faces")
    mean = emb.astype(np.float64).mean(0)
    return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)


def evaluate(
    original: str | Path,
    swapped: str | Path,
    source: str | Path,
    *,
    every: int = 1,
    max_frames: int | None = None,
    progress: bool = True,
) -> EvaluateReport:
    """Compare a swapped video or photo with its original, against the source identity of the faceset
    ``source``. ``every``: measure every N-th frame; ``max_frames``: stop after that many frames."""
    if every < 1:
        raise FacecraftError("--every must be at least 1")
    original, swapped = Path(original), Path(swapped)
    source_emb = source_embedding(source)
    report = EvaluateReport(str(original), str(swapped), str(source))
    frames = _frame_pairs(original, swapped, report)
    finder = PairFinder()
    prev: tuple[np.ndarray, np.ndarray] | None = None
    try:
        for index, (o, s) in enumerate(tqdm(frames, unit="frame", desc="evaluate", disable=not progress)):
            if max_frames is not None and index >= max_frames:
                break
            if index % every == 0:
                report.frames.append(_score(index, o, s, prev if every == 1 else None, finder, source_emb))
            prev = (o, s)
    finally:
        finder.close()
    if not report.frames:
        raise FacecraftError(f"no frames could be compared between {original} and {swapped}")
    if all(s.identity_to_source is None for s in report.frames):
        report.warnings.append("no face was found in both videos; there is nothing to measure")
    return report


def _frame_pairs(
    original: Path, swapped: Path, report: EvaluateReport
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    kinds = {media_kind(original), media_kind(swapped)}
    for p in (original, swapped):
        if not p.is_file():
            raise FacecraftError(f"{p} does not exist")
    if kinds == {"image"}:
        o, s = read_image(original), read_image(swapped)
        _check_sizes(o.shape, s.shape)
        return iter([(o, s)])
    if kinds != {"video"}:
        raise FacecraftError("compare a video with a video or a photo with a photo")
    a, b = probe(original), probe(swapped)
    _check_sizes((a.height, a.width), (b.height, b.width))
    if a.frame_count != b.frame_count:
        report.warnings.append(
            f"the videos have {a.frame_count} and {b.frame_count} frames; compared frame by frame from the start"
        )
    return ((fo.image, fs.image) for fo, fs in zip(iter_frames(original), iter_frames(swapped), strict=False))


def _check_sizes(a: tuple[int, ...], b: tuple[int, ...]) -> None:
    if a[:2] != b[:2]:
        raise FacecraftError(f"the original is {a[1]}x{a[0]} and the swapped {b[1]}x{b[0]}; they must match")


def _score(
    index: int,
    original: np.ndarray,
    swapped: np.ndarray,
    prev: tuple[np.ndarray, np.ndarray] | None,
    finder: PairFinder,
    source: np.ndarray,
) -> FrameScore:
    pairs = finder.find(original, swapped)
    score = FrameScore(index, len(pairs))
    if not pairs:
        return score
    # The face region is the union of both faces' ovals, so the numbers do not depend on which is which.
    masks = [
        metrics.oval_mask(p.original.landmarks, original.shape)
        | metrics.oval_mask(p.swapped.landmarks, original.shape)
        for p in pairs
    ]
    diffs = [_mean_diff(original, swapped, m) for m in masks]
    main = int(np.argmax(diffs)) if max(diffs) > CHANGED else 0
    pair, mask = pairs[main], masks[main]
    score.changed = diffs[main] > CHANGED
    _identity(score, pair, source)
    score.landmark_error = metrics.landmark_error(pair.original.landmarks, pair.swapped.landmarks)
    score.pose_error_deg = metrics.pose_error(pair.original.pose, pair.swapped.pose)
    score.expression_error = metrics.expression_error(pair.original.blendshapes, pair.swapped.blendshapes)
    score.seam = metrics.seam_visibility(original, swapped, pair.box)
    inner = metrics.inner_face_box(pair.original.landmarks, original.shape)
    if inner is not None:
        score.sharpness_original = metrics.sharpness(original, inner)
        score.sharpness_swapped = metrics.sharpness(swapped, inner)
        both = metrics.replaced_sharpness(original, swapped, inner)
        if both is not None:
            score.sharpness_replaced_original, score.sharpness_replaced_swapped = both
    if score.changed:
        shade = metrics.eye_shade(original, swapped, pair.original.landmarks)
        score.eye_shade = None if shade is None else [float(v) for v in shade]
    score.expression_original = metrics.expression_channels(pair.original.blendshapes)
    score.expression_swapped = metrics.expression_channels(pair.swapped.blendshapes)
    if prev is not None:
        score.change_original = metrics.temporal_change(prev[0], original, mask)
        score.change_swapped = metrics.temporal_change(prev[1], swapped, mask)
        score.flicker_excess = metrics.flicker_excess(prev[0], original, prev[1], swapped, mask)
    return score


def _identity(score: FrameScore, pair: FacePair, source: np.ndarray) -> None:
    score.identity_to_source = float(pair.swapped_embedding @ source)
    score.identity_to_original = float(pair.swapped_embedding @ pair.original_embedding)
    score.original_to_source = float(pair.original_embedding @ source)


def _mean_diff(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    if not mask.any():
        return 0.0
    return float(np.abs(metrics.gray(a) - metrics.gray(b))[mask].mean())
