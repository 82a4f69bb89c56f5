"""The driving signal, independent of where it comes from (a video, a scripted performance).

A :class:`Motion` says how the reference face (the driving video's first frame, or the portrait itself
for a performance) moves in one frame: a head rotation, translation and scale, plus an expression
offset per mesh point. Lengths are in face widths of the reference, directions in its image axes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from facecraft.animate.geometry import STABLE_POINTS, face_width, head_pivot, similarity_3d


@dataclass(frozen=True)
class Motion:
    """One frame of driving motion, relative to the reference face.

    rotation: (3, 3) head rotation in the reference's image axes. translation: (3,) head shift in face widths.
    scale: head zoom (1 = as the reference). expression: (478, 3) per-point offsets in face widths, in the
    reference's head frame (head motion removed). blink: (left, right) eye closure 0..1 the mesh may
    under-state (from blendshapes; 0 = leave the mesh alone). image/landmarks: the driving frame (BGR) and
    its mesh in that frame's pixels, when there is one (the mouth interior is taken from it).
    """

    rotation: np.ndarray = field(default_factory=lambda: np.eye(3))
    translation: np.ndarray = field(default_factory=lambda: np.zeros(3))
    scale: float = 1.0
    expression: np.ndarray = field(default_factory=lambda: np.zeros((478, 3)))
    blink: tuple[float, float] = (0.0, 0.0)
    image: np.ndarray | None = None
    landmarks: np.ndarray | None = None

    def without_frame(self) -> Motion:
        return replace(self, image=None, landmarks=None)


def head_transform(reference: np.ndarray, current: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Similarity (s, R, t) taking the reference mesh's stable points onto the current mesh's."""
    idx = list(STABLE_POINTS)
    return similarity_3d(reference[idx], current[idx])


def motion_from_mesh(
    reference: np.ndarray, current: np.ndarray, absolute_base: np.ndarray | None = None
) -> Motion:
    """Motion that takes the ``reference`` mesh (478, 3) to the ``current`` one, both in frame pixels.

    The expression is what remains after undoing the head motion, relative to the reference
    (or to ``absolute_base``, a mesh in the reference's frame, for absolute transfer).
    """
    fw = face_width(reference)
    s, rot, t = head_transform(reference, current)
    pivot = head_pivot(reference)
    # x -> s R x + t, rewritten about the pivot: x -> pivot + s R (x - pivot) + shift
    shift = s * rot @ pivot + t - pivot
    neutral = ((current - t) @ rot) / s  # R^T (x - t) / s, row-wise
    base = reference if absolute_base is None else absolute_base
    return Motion(rot, shift / fw, s, (neutral - base) / fw)


def blend_motion(a: Motion, b: Motion, weight: float) -> Motion:
    """(1 - weight) a + weight b; rotations are blended then re-orthonormalised."""
    w = float(np.clip(weight, 0.0, 1.0))
    u, _, vt = np.linalg.svd((1 - w) * a.rotation + w * b.rotation)
    rot = u @ vt
    return Motion(
        rot,
        (1 - w) * a.translation + w * b.translation,
        (1 - w) * a.scale + w * b.scale,
        (1 - w) * a.expression + w * b.expression,
        (
            (1 - w) * a.blink[0] + w * b.blink[0],
            (1 - w) * a.blink[1] + w * b.blink[1],
        ),
        b.image,
        b.landmarks,
    )
