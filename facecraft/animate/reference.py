"""The driving reference: the frame of the driving video that motion is measured against.

Motion is relative to this frame, so a talking reference (lips apart) eats the mouth's range: the portrait
then opens its mouth half as much as the driver. By default the most neutral frame near the start is
chosen by its blendshapes and lip gap (closed mouth, no smile, eyes open and looking ahead: gaze is
relative too, so a reference glancing sideways would turn the portrait's eyes the other way whenever the
driver looks at the camera); ``--reference-frame N`` picks one by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facecraft.animate.geometry import face_width, mouth_opening
from facecraft.errors import FacecraftError
from facecraft.face.mesh import BLENDSHAPE_NAMES, Mesh
from facecraft.media.video import DecodeError, iter_frames

SEARCH_SECONDS = 3.0
"""How far into the driving video the automatic choice looks."""
_GOOD_ENOUGH = 0.08  # a score this low is a closed, relaxed mouth with open eyes: stop looking
_IDX = {name: i for i, name in enumerate(BLENDSHAPE_NAMES)}


@dataclass(frozen=True)
class Reference:
    """The driving face motion is measured against: its frame index, image (BGR) and mesh."""

    index: int
    image: np.ndarray
    mesh: Mesh


def neutrality(mesh: Mesh) -> float:
    """How far a driving face is from a neutral, closed-mouth face (0 = neutral; lower is better).

    Lip gap (face widths) dominates, then jaw opening, smile, pucker, closed eyes and eyes looking aside or
    down (blendshapes; the eyeLook scores of a face looking ahead, or a little off camera, stay under
    about 0.45; a glance aside reaches 0.85-0.97).
    """
    lm = mesh.landmarks.astype(np.float64)
    b = mesh.blendshapes
    gap = mouth_opening(lm) / face_width(lm)
    smile = (b[_IDX["mouthSmileLeft"]] + b[_IDX["mouthSmileRight"]]) / 2
    shape = max(b[_IDX["mouthPucker"]], b[_IDX["mouthFunnel"]])
    blink = max(0.0, (b[_IDX["eyeBlinkLeft"]] + b[_IDX["eyeBlinkRight"]]) / 2 - 0.35)
    return float(8.0 * gap + 0.3 * b[_IDX["jawOpen"]] + 0.5 * smile + 0.3 * shape + blink + _gaze_away(b))


def _gaze_away(b: np.ndarray) -> float:
    """How far both eyes look aside or down (0 when looking ahead)."""
    image_right = (b[_IDX["eyeLookOutLeft"]] + b[_IDX["eyeLookInRight"]]) / 2
    image_left = (b[_IDX["eyeLookInLeft"]] + b[_IDX["eyeLookOutRight"]]) / 2
    down = (b[_IDX["eyeLookDownLeft"]] + b[_IDX["eyeLookDownRight"]]) / 2
    return 0.5 * max(0.0, max(image_left, image_right) - 0.5) + 0.5 * max(0.0, down - 0.5)


def choose_reference(
    path: Path, follow: object, fps: float, fixed: int | None = None, search_seconds: float = SEARCH_SECONDS
) -> Reference:
    """The reference frame of the driving video at ``path``.

    ``follow``: a callable BGR image -> Mesh | None (a :class:`~facecraft.animate.driving.FaceFollower`).
    ``fixed``: use this frame index (FacecraftError when it is past the end or shows no face). Otherwise the
    most neutral face within the first ``search_seconds`` (slightly preferring early frames).
    """
    best: tuple[float, Reference] | None = None
    limit = None if fixed is not None else max(1, round(search_seconds * fps))
    seen = 0
    try:
        for frame in iter_frames(path):
            seen = frame.index + 1
            if fixed is not None and frame.index < fixed:
                continue
            mesh = follow(frame.image)  # type: ignore[operator]
            if fixed is not None:
                if mesh is None:
                    raise FacecraftError(
                        f"--reference-frame {fixed}: no face found in that frame of {path.name}; choose another"
                    )
                return Reference(frame.index, frame.image, mesh)
            if mesh is not None:
                score = neutrality(mesh) + 0.02 * frame.index / max(fps, 1.0)
                if best is None or score < best[0]:
                    best = (score, Reference(frame.index, frame.image, mesh))
                if score < _GOOD_ENOUGH:
                    break
            if best is not None and limit is not None and frame.index + 1 >= limit:
                break
    except DecodeError as exc:
        raise FacecraftError(f"{path} is corrupt after frame {exc.frames_read}: {exc}") from None
    if fixed is not None:
        raise FacecraftError(
            f"--reference-frame {fixed} is past the end of {path.name} ({seen} frames, numbered from 0)"
        )
    if best is None:
        raise FacecraftError(
            f"no face found in the driving video {path}; use a video where a face is visible"
        )
    return best[1]
