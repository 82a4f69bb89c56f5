"""Blinks kept: where the target's eye is closing, its own eyelids stay in the output.

A model trained for minutes on a CPU rarely draws a closed eye: each faceset holds only a handful of
blink frames (1 and 3 in two shared 5-7 s clips), so the decoder paints its person's open eyes over the
target's blink, and the swap never blinks (0 of 6 closed-eye frames kept at 500 steps). The compositor
therefore measures each eye's opening from the target's own landmarks (lid gap over eye width, per eye,
so a wink stays a wink) and, as the eye closes, lets the target's eyelid region show through. Closed
lids carry little of a person's identity; the brows, the eye shape when open and the rest of the face
stay the model's.
"""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.face.regions import polygon

OPEN = 0.23
"""Lid gap / eye width at or above which an eye counts as open (nothing kept). Measured on the aligned
landmarks of two shared clips: open eyes 0.23-0.35 (5th percentile 0.23-0.30), blink frames 0.10-0.23."""
CLOSED = 0.16
"""At or below this the eye counts as closed: its whole lid region is the target's."""
REGION_WIDTH = 1.5
"""The kept region is an ellipse this many eye widths wide..."""
REGION_HEIGHT = 0.8
"""...and this many eye widths tall: where an open eye drawn by the model would be."""
EYES = ("left_eye", "right_eye")
BLINK_OPEN = 0.4
"""The landmarker's eyeBlink score at or below which it adds nothing. It reads the lids from the image and
sees a blink the landmarks miss (a glasses frame over the eye): in one shared clip the landmarks closed one
eye of a two-eye blink. Open eyes of two shared clips score 0.10-0.20 (99th percentile), at most 0.47;
that clip's blink frames 0.49-0.71 on both eyes."""
BLINK_CLOSED = 0.6
"""At or above this eyeBlink score the eye counts as closed."""
BLENDSHAPE_OF = {"left_eye": "eyeBlinkRight", "right_eye": "eyeBlinkLeft"}
"""The blendshape of each eye: they are named from the person's side (the eye at the image's left is the
person's right), as the landmarks' correlation with them on the shared clips confirms."""


def eye_opening(aligned_landmarks: np.ndarray, name: str) -> float:
    """Lid gap / eye width of one eye (``left_eye`` or ``right_eye``, as seen in the image)."""
    pts = polygon(aligned_landmarks, name)
    width = float(np.ptp(pts[:, 0]))
    return float(np.ptp(pts[:, 1])) / width if width > 1e-6 else 1.0


def closedness(opening: float) -> float:
    """0 for an open eye, 1 for a closed one, linear in between."""
    return float(np.clip((OPEN - opening) / (OPEN - CLOSED), 0.0, 1.0))


def eyes_closed(landmarks: np.ndarray, blendshapes: np.ndarray | None = None) -> tuple[float, float]:
    """How closed (0..1) each eye of :data:`EYES` is: from its lid gap in ``landmarks`` (any pixels; the
    unsmoothed ones, as a blink lasts a few frames) or, where higher, from the landmarker's eyeBlink score
    in ``blendshapes`` (52, in :data:`~facecraft.face.mesh.BLENDSHAPE_NAMES` order)."""
    from facecraft.face.mesh import BLENDSHAPE_NAMES

    out = []
    for name in EYES:
        amount = closedness(eye_opening(landmarks, name))
        if blendshapes is not None:
            score = float(blendshapes[BLENDSHAPE_NAMES.index(BLENDSHAPE_OF[name])])
            amount = max(amount, float(np.clip((score - BLINK_OPEN) / (BLINK_CLOSED - BLINK_OPEN), 0.0, 1.0)))
        out.append(amount)
    return out[0], out[1]


def blink_keep_mask(
    aligned_landmarks: np.ndarray, size: int, closed: tuple[float, float] | None = None
) -> np.ndarray:
    """(S, S) float32 0..1: how much of the target's own eye region to keep, per eye by how closed it is
    (``closed``, from :func:`eyes_closed`; by default from these landmarks' lid gaps), placed by the
    ``aligned_landmarks``; all zeros when both eyes are open."""
    keep = np.zeros((size, size), np.float32)
    amounts = eyes_closed(aligned_landmarks) if closed is None else closed
    for name, amount in zip(EYES, amounts, strict=True):
        if amount <= 0:
            continue
        pts = polygon(aligned_landmarks, name)
        centre = pts.mean(0)
        width = float(np.ptp(pts[:, 0]))
        ellipse = np.zeros((size, size), np.float32)
        axes = (max(1, round(width * REGION_WIDTH / 2)), max(1, round(width * REGION_HEIGHT / 2)))
        cv2.ellipse(ellipse, (round(centre[0]), round(centre[1])), axes, 0, 0, 360, 1.0, -1)
        region = np.asarray(cv2.GaussianBlur(ellipse, (0, 0), max(0.5, width * 0.15)), np.float32)
        keep = np.maximum(keep, (region * amount).astype(np.float32))
    return keep
