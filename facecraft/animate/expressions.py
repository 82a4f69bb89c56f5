"""Procedural expression bases: what a blendshape does to a 478-point mesh, written as geometry.

Each basis is a pure function ``(landmarks, amount) -> delta`` ((478, 3) pixels) computed from the given
mesh's own layout (its lids, lips, brows and face width), so it fits any face and any head pose in the
image. They drive the built-in performances and firm up blinks that the driving mesh under-closes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np

from facecraft.animate.geometry import face_width
from facecraft.face import regions

N_POINTS = 478
IRIS_LEFT = tuple(range(468, 473))  # image-left eye (MediaPipe's right iris)
IRIS_RIGHT = tuple(range(473, 478))
INNER_CORNERS = (78, 308)  # inner-lip corners (image left, image right)
JAW_DROP = 0.22  # face widths the lower lip's middle drops at jawOpen 1


def _split_loop(loop: tuple[int, ...], a: int, b: int, via: int) -> tuple[list[int], list[int]]:
    """Split a closed polygon at corners ``a`` and ``b`` into the half that passes ``via`` and the other."""
    i, j = loop.index(a), loop.index(b)
    if i > j:
        i, j = j, i
    first = list(loop[i : j + 1])
    second = list(loop[j:]) + list(loop[: i + 1])
    return (first, second) if via in first else (second, first)


@cache
def lid_points(side: str) -> tuple[list[int], list[int], tuple[int, int]]:
    """(upper lid, lower lid, corners) point indices of the image-``side`` eye."""
    corners = regions.LEFT_EYE_CORNERS if side == "left" else regions.RIGHT_EYE_CORNERS
    upper_mid = regions.LEFT_EYE_LIDS[0] if side == "left" else regions.RIGHT_EYE_LIDS[0]
    upper, lower = _split_loop(regions.region(f"{side}_eye"), corners[0], corners[1], upper_mid)
    return upper, lower, corners


@cache
def lip_halves() -> tuple[list[int], list[int]]:
    """(upper lip, lower lip) point indices, outer and inner contours together, corners excluded."""
    outer_u, outer_l = _split_loop(regions.region("lips_outer"), regions.MOUTH_LEFT, regions.MOUTH_RIGHT, 0)
    inner_u, inner_l = _split_loop(
        regions.region("lips_inner"), INNER_CORNERS[0], INNER_CORNERS[1], regions.UPPER_LIP_INNER
    )
    upper = [
        i for i in outer_u + inner_u if i not in (regions.MOUTH_LEFT, regions.MOUTH_RIGHT, *INNER_CORNERS)
    ]
    lower = [
        i for i in outer_l + inner_l if i not in (regions.MOUTH_LEFT, regions.MOUTH_RIGHT, *INNER_CORNERS)
    ]
    return upper, lower


def face_axes(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit image vectors (u across the face from image-left to image-right eye, v down the face)."""
    lm = landmarks[:, :2].astype(np.float64)
    u = lm[list(regions.RIGHT_EYE_CORNERS)].mean(0) - lm[list(regions.LEFT_EYE_CORNERS)].mean(0)
    u /= max(float(np.linalg.norm(u)), 1e-9)
    return u, np.array([-u[1], u[0]])


def _planar(landmarks: np.ndarray, du: np.ndarray, dv: np.ndarray) -> np.ndarray:
    """Delta (478, 3) from displacements along the face axes."""
    u, v = face_axes(landmarks)
    delta = np.zeros((len(landmarks), 3))
    delta[:, :2] = du[:, None] * u + dv[:, None] * v
    return delta


def _local(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Point coordinates along the face axes and the face width."""
    u, v = face_axes(landmarks)
    lm = landmarks[:, :2].astype(np.float64)
    return lm @ u, lm @ v, face_width(landmarks)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def jaw_open(landmarks: np.ndarray, amount: float) -> np.ndarray:
    """Lower the jaw: the lower lip and chin drop by up to 0.22 face widths, the cheeks follow softly."""
    pu, pv, fw = _local(landmarks)
    upper, lower = lip_halves()
    corner_v = pv[[regions.MOUTH_LEFT, regions.MOUTH_RIGHT]].mean()
    centre_u = pu[[regions.MOUTH_LEFT, regions.MOUTH_RIGHT]].mean()
    below = _smoothstep((pv - corner_v) / (0.12 * fw) + 0.25)
    lateral = 1 - _smoothstep((np.abs(pu - centre_u) - 0.22 * fw) / (0.25 * fw))
    w = below * lateral
    w[upper] = 0.0
    # The lower lip drops most in the middle and little at the corners, so the opening is an oval.
    half = max(abs(pu[regions.MOUTH_RIGHT] - pu[regions.MOUTH_LEFT]) / 2, 1e-6)
    across = np.clip(np.abs(pu[lower] - centre_u) / half, 0.0, 1.0)
    w[lower] = 0.25 + 0.75 * (1 - across**2)
    w[[regions.MOUTH_LEFT, regions.MOUTH_RIGHT, *INNER_CORNERS]] = 0.15
    drop = JAW_DROP * fw * amount * w
    return _planar(landmarks, np.zeros_like(pu), drop)


def _around(pu: np.ndarray, pv: np.ndarray, cu: float, cv: float, sigma: float) -> np.ndarray:
    return np.exp(-((pu - cu) ** 2 + (pv - cv) ** 2) / (2 * sigma**2))


def smile(landmarks: np.ndarray, amount: float) -> np.ndarray:
    """Pull the mouth corners out and up (0.06 and 0.045 face widths at 1), lifting the cheeks."""
    pu, pv, fw = _local(landmarks)
    du, dv = np.zeros_like(pu), np.zeros_like(pv)
    centre_u = pu[[regions.MOUTH_LEFT, regions.MOUTH_RIGHT]].mean()
    for corner in (regions.MOUTH_LEFT, regions.MOUTH_RIGHT):
        g = _around(pu, pv, pu[corner], pv[corner], 0.09 * fw)
        du += np.sign(pu[corner] - centre_u) * 0.06 * fw * g
        dv -= 0.045 * fw * g
    return _planar(landmarks, du * amount, dv * amount)


def pucker(landmarks: np.ndarray, amount: float) -> np.ndarray:
    """Narrow the mouth: corners move in by 0.05 face widths at 1 (an "oo" shape)."""
    pu, pv, fw = _local(landmarks)
    du = np.zeros_like(pu)
    centre_u = pu[[regions.MOUTH_LEFT, regions.MOUTH_RIGHT]].mean()
    for corner in (regions.MOUTH_LEFT, regions.MOUTH_RIGHT):
        du -= np.sign(pu[corner] - centre_u) * 0.05 * fw * _around(pu, pv, pu[corner], pv[corner], 0.07 * fw)
    return _planar(landmarks, du * amount, np.zeros_like(pv))


def blink(landmarks: np.ndarray, amount: float, side: str) -> np.ndarray:
    """Close the image-``side`` eye by ``amount`` (1: upper lid on the lower lid); the skin above follows."""
    pu, pv, fw = _local(landmarks)
    upper, lower, corners = lid_points(side)
    ou, ov = pu[upper], pv[upper]
    lu, lv = pu[lower], pv[lower]
    o1, l1 = np.argsort(ou), np.argsort(lu)
    top = np.interp(pu, ou[o1], ov[o1])
    bottom = np.interp(pu, lu[l1], lv[l1])
    gap = np.maximum(bottom - top, 0.0)
    t = np.where(gap > 1e-6, (bottom - pv) / np.maximum(gap, 1e-6), 0.0)
    above = np.exp(-(((t - 1) * gap / (0.06 * fw + 1e-6)) ** 2))
    weight = np.where(t <= 1, np.clip(t, 0.0, 1.0), above)
    cu = np.sort(pu[list(corners)])
    inside = _smoothstep((pu - cu[0]) / (0.03 * fw)) * _smoothstep((cu[1] - pu) / (0.03 * fw))
    near = np.abs(pv - bottom) < 0.2 * fw
    dv = 0.97 * min(max(amount, 0.0), 1.0) * gap * weight * inside * near
    dv[lower] = 0.0
    return _planar(landmarks, np.zeros_like(pu), dv)


def _lid_lines(pu: np.ndarray, pv: np.ndarray, side: str, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Upper and lower lid heights (along v) of the image-``side`` eye at positions ``at`` (along u)."""
    upper, lower, _ = lid_points(side)
    o, lo = np.argsort(pu[upper]), np.argsort(pu[lower])
    return (
        np.interp(at, pu[upper][o], pv[upper][o]),
        np.interp(at, pu[lower][lo], pv[lower][lo]),
    )


def keep_irises_in_lids(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """``after`` with each iris moved so it sits between the lids as it did in ``before``.

    The landmarker keeps the iris where it is while the lids close over it; drawn that way the iris would
    fold over the closed lid. Both meshes (478, 3) share the same head pose.
    """
    out = after.copy()
    bu, bv, _ = _local(before)
    au, av, _ = _local(after)
    _, v = face_axes(after)
    for iris, side in ((IRIS_LEFT, "left"), (IRIS_RIGHT, "right")):
        idx = list(iris)
        top_b, bot_b = _lid_lines(bu, bv, side, bu[idx])
        top_a, bot_a = _lid_lines(au, av, side, au[idx])
        frac = np.clip((bot_b - bv[idx]) / np.maximum(bot_b - top_b, 1e-6), -0.5, 1.5)
        gap_b = bot_b - top_b
        ratio = np.where(gap_b > 1e-3, np.clip((bot_a - top_a) / np.maximum(gap_b, 1e-3), 0.0, 1.0), 1.0)
        # Lids as open as before: keep the tracked iris (gaze); closing: follow the lids proportionally.
        target_v = bot_a - frac * (bot_a - top_a)
        new_v = av[idx] + (1 - ratio) * (target_v - av[idx])
        out[idx, :2] += (new_v - av[idx])[:, None] * v
    return out


IRIS_REACH = 0.26
"""Furthest an iris centre goes from the middle of its eye, in eye widths (corner to corner): an iris is
about 0.4 eye widths across, so beyond this it would run into the corner. A driver's furthest glances
measure 0.19-0.26."""
_IRIS_KNEE = 0.18  # gaze up to here is passed on unchanged; beyond, eased towards IRIS_REACH


EYES = ((IRIS_LEFT, regions.LEFT_EYE_CORNERS), (IRIS_RIGHT, regions.RIGHT_EYE_CORNERS))
"""(iris points, (corner, corner)) of the image-left and the image-right eye."""


def eye_line(landmarks: np.ndarray, corners: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, float]:
    """(middle (2,), unit axis (2,) from the first corner to the second, width in pixels) of one eye."""
    a, b = landmarks[corners[0], :2], landmarks[corners[1], :2]
    width = max(float(np.linalg.norm(b - a)), 1e-6)
    return (a + b) / 2, (b - a) / width, width


def iris_offsets(landmarks: np.ndarray) -> list[float]:
    """Each iris centre's offset from its eye's middle along the corner-to-corner line, in eye widths
    (image-left eye, image-right eye): the gaze, 0 looking ahead."""
    out = []
    for iris, corners in EYES:
        middle, axis, width = eye_line(landmarks, corners)
        out.append(float((landmarks[list(iris), :2].mean(0) - middle) @ axis) / width)
    return out


def keep_irises_in_eyes(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """``after`` with the irises eased back along their eyes' corner-to-corner line where a gaze carries
    them past :data:`IRIS_REACH` (or past where ``before``, the portrait at rest, already had them).

    Both irises get the same correction (the eyes stay yoked). An iris pushed into the corner otherwise
    turns its triangles over and the eye is drawn as a white sliver without an iris.
    """
    shifts, axes = [], []
    for (_, corners), u, u0 in zip(EYES, iris_offsets(after), iris_offsets(before), strict=True):
        _, axis, width = eye_line(after, corners)
        knee = max(_IRIS_KNEE, abs(u0) if u0 * u > 0 else 0.0)
        reach = max(IRIS_REACH, knee + 1e-3)
        if abs(u) > knee:
            span = reach - knee
            eased = knee + span * np.tanh((abs(u) - knee) / span)
            shifts.append((np.sign(u) * eased - u) * width)
        else:
            shifts.append(0.0)
        axes.append(axis)
    if shifts[0] * shifts[1] >= 0:  # the same way (or one untouched): both by the larger correction
        biggest = max(shifts, key=abs)
        shifts = [biggest, biggest]
    out = after.copy()
    for (iris, _), shift, axis in zip(EYES, shifts, axes, strict=True):
        out[list(iris), :2] += shift * axis
    return out


def brow_raise(landmarks: np.ndarray, amount: float) -> np.ndarray:
    """Raise both brows by 0.04 face widths at 1; the forehead and upper lids follow softly."""
    pu, pv, fw = _local(landmarks)
    brows = list(regions.region("left_eyebrow")) + list(regions.region("right_eyebrow"))
    brow_v = pv[brows].mean()
    eye_v = pv[[regions.LEFT_EYE_LIDS[0], regions.RIGHT_EYE_LIDS[0]]].mean()
    w = _smoothstep((eye_v - pv) / max(eye_v - brow_v, 1e-6))
    w *= 1 - _smoothstep((brow_v - pv) / (0.35 * fw))
    return _planar(landmarks, np.zeros_like(pu), -0.04 * fw * amount * w)


def gaze(landmarks: np.ndarray, x: float, y: float) -> np.ndarray:
    """Move both irises: ``x`` (-1..1, image left..right) by a quarter eye width, ``y`` (-1..1, up..down)."""
    u, v = face_axes(landmarks)
    delta = np.zeros((len(landmarks), 3))
    for iris, (a, b) in ((IRIS_LEFT, regions.LEFT_EYE_CORNERS), (IRIS_RIGHT, regions.RIGHT_EYE_CORNERS)):
        width = float(np.linalg.norm(landmarks[a, :2] - landmarks[b, :2]))
        delta[list(iris), :2] = (0.22 * width * x) * u + (0.12 * width * y) * v
    return delta


#: Channel name -> basis, for the channels that act on one amount.
BASES: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "jawOpen": jaw_open,
    "smile": smile,
    "pucker": pucker,
    "browUp": brow_raise,
    "blinkLeft": lambda lm, a: blink(lm, a, "left"),
    "blinkRight": lambda lm, a: blink(lm, a, "right"),
}
