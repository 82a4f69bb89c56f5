"""Retargeting: turn a :class:`Motion` of the reference face into target mesh points on the portrait.

Pure functions. The portrait keeps its own face shape; only the motion (head pose change and
expression offsets, scaled by face width and turned into the portrait's orientation) is transferred.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facecraft.animate.expressions import (
    IRIS_LEFT,
    IRIS_RIGHT,
    JAW_DROP,
    blink,
    jaw_open,
    keep_irises_in_eyes,
    keep_irises_in_lids,
)
from facecraft.animate.geometry import (
    face_width,
    head_pivot,
    mouth_opening,
    rotation_matrix,
    rotation_vector,
)
from facecraft.animate.motion import Motion
from facecraft.face import regions


@dataclass(frozen=True)
class RetargetSettings:
    """How strongly and how far the motion is transferred."""

    expression_scale: float = 1.0
    pose_scale: float = 1.0
    max_rotation_deg: float = 30.0
    """Head rotations beyond this (relative to the portrait's own pose) are clamped, so the warp never tears."""
    max_shift: float = 0.35
    """Largest head shift, in face widths."""
    max_expression: float = 0.3
    """Largest per-point expression offset, in face widths."""


def reference_to_portrait(reference: np.ndarray, portrait: np.ndarray) -> np.ndarray:
    """(3, 3) rotation that turns the reference face's orientation into the portrait's."""
    from facecraft.animate.motion import head_transform

    return head_transform(reference, portrait)[1]


def mouth_rest(portrait: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """(478, 3) pixel offsets that give the portrait's mouth the lip gap of ``reference`` (a driving mesh;
    None: closed lips) at rest, so a driver's mouth opening maps to the portrait in absolute terms.

    Only the opening changes (the jaw basis), never the portrait's own lip shape. A portrait shown
    mid-word closes its lips; a closed portrait stays as it is when the reference is closed too.
    """
    gap_p = mouth_opening(portrait) / face_width(portrait)
    gap_r = 0.0 if reference is None else mouth_opening(reference) / face_width(reference)
    if abs(gap_r - gap_p) < 0.01:  # within the mesh's noise: leave the portrait's mouth alone
        return np.zeros_like(portrait, dtype=np.float64)
    return jaw_open(portrait, (gap_r - gap_p) / JAW_DROP)


def _clamp_rows(x: np.ndarray, limit: float) -> np.ndarray:
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return x * np.minimum(1.0, limit / np.maximum(n, 1e-12))


def expression_points(
    portrait: np.ndarray,
    motion: Motion,
    orient: np.ndarray,
    settings: RetargetSettings,
    rest: np.ndarray | None = None,
) -> np.ndarray:
    """The portrait's mesh (478, 3) with the motion's expression applied, before any head motion.
    ``rest``: offsets (pixels) of the portrait's face at rest (see :func:`mouth_rest`)."""
    fw = face_width(portrait)
    offsets = _clamp_rows(motion.expression * settings.expression_scale, settings.max_expression)
    offsets = conjugate_gaze(offsets)
    shaped = portrait + fw * offsets @ orient.T
    if rest is not None:
        shaped = shaped + rest
    shaped = keep_irises_in_eyes(portrait, shaped)
    return keep_irises_in_lids(portrait, _firm_up_blinks(portrait, shaped, motion.blink))


def conjugate_gaze(offsets: np.ndarray) -> np.ndarray:
    """Both irises move together (the eyes are yoked): each iris gets the mean of the two eyes' iris motion,
    so measurement noise cannot make a portrait's eyes point different ways."""
    out = offsets.copy()
    left, right = list(IRIS_LEFT), list(IRIS_RIGHT)
    # Relative to the eye corners (they hardly move when a lid closes, so a wink does not steer the gaze).
    own_l = offsets[left].mean(0) - offsets[list(regions.LEFT_EYE_CORNERS)].mean(0)
    own_r = offsets[right].mean(0) - offsets[list(regions.RIGHT_EYE_CORNERS)].mean(0)
    shared = (own_l + own_r) / 2
    out[left] += shared - own_l
    out[right] += shared - own_r
    return out


def _firm_up_blinks(portrait: np.ndarray, shaped: np.ndarray, closure: tuple[float, float]) -> np.ndarray:
    """Close each eye further when the blendshapes say it is shut but the mesh lids stopped short."""
    for side, wanted, (up, lo) in (
        ("left", closure[0], regions.LEFT_EYE_LIDS),
        ("right", closure[1], regions.RIGHT_EYE_LIDS),
    ):
        if wanted <= 0.0:
            continue
        before = float(np.linalg.norm(portrait[up, :2] - portrait[lo, :2]))
        now = float(np.linalg.norm(shaped[up, :2] - shaped[lo, :2]))
        achieved = 1.0 - now / max(before, 1e-6)
        if wanted > achieved:
            extra = (wanted - achieved) / max(1.0 - achieved, 1e-6)
            shaped = shaped + blink(shaped, float(np.clip(extra, 0.0, 1.0)), side)
    return shaped


def target_points(
    portrait: np.ndarray,
    motion: Motion,
    orient: np.ndarray,
    settings: RetargetSettings,
    rest: np.ndarray | None = None,
) -> np.ndarray:
    """Where the portrait's mesh points (478, 3), in portrait pixels, go in this frame.

    ``orient``: :func:`reference_to_portrait` (identity for a motion defined on the portrait itself).
    """
    fw = face_width(portrait)
    shaped = expression_points(portrait, motion, orient, settings, rest)
    rvec = orient @ rotation_vector(motion.rotation) * settings.pose_scale
    angle = float(np.linalg.norm(rvec))
    limit = np.radians(settings.max_rotation_deg)
    if angle > limit:
        rvec *= limit / angle
    rot = rotation_matrix(rvec)
    shift = _clamp_rows(orient @ motion.translation * settings.pose_scale, settings.max_shift) * fw
    scale = float(np.clip(motion.scale, 0.7, 1.4)) ** settings.pose_scale
    pivot = head_pivot(portrait)
    return pivot + scale * (shaped - pivot) @ rot.T + shift
