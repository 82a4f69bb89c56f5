"""The portrait to animate: read it, find its one face, frame it, and measure its mesh."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from facecraft.errors import FacecraftError
from facecraft.face.detect import Detection, FaceDetector
from facecraft.face.mesh import FaceMesher, Mesh
from facecraft.media.image import read_image

_MIN_SCORE = 0.8  # as extract's threshold for new faces: paintings score ~0.93, animal faces below
_MIN_DETECT_SIDE = 480  # small images are enlarged before detection so tiny portraits still work
#: crop -> (side in face-box sides, downward shift of the centre in face-box sides)
_FRAMING = {"face": (2.0, 0.05), "portrait": (3.4, 0.45)}


@dataclass(frozen=True)
class Portrait:
    """The framed portrait: ``image`` BGR uint8 (H, W, 3) at output size, its ``landmarks`` (478, 3) in
    those pixels, its blendshapes (52,), and ``crop`` (x, y, w, h) in the source image pixels."""

    image: np.ndarray
    landmarks: np.ndarray
    blendshapes: np.ndarray
    crop: tuple[int, int, int, int]
    source: str
    head: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
    """When known (face parser, see facecraft.animate.layers.parse_head): the (H, W) float32 0..1 mask of the
    head (face, hair, ears, neck), (H, W) bool masks of the scenery behind the person and of the neck, and
    the (H, W) float32 0..1 eye openings."""


def find_faces(image: np.ndarray, detector: FaceDetector) -> list[Detection]:
    """Faces in ``image``, largest first; small images are enlarged for the detector."""
    h, w = image.shape[:2]
    scale = max(1.0, _MIN_DETECT_SIDE / max(h, w))
    big = (
        image if scale == 1.0 else cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    )
    found = detector.detect(big)
    out = []
    for d in found:
        if d.score < _MIN_SCORE:
            continue
        x, y, w, h = (v / scale for v in d.bbox)
        out.append(Detection((x, y, w, h), d.score, d.points / scale))
    return out


def choose_face(faces: list[Detection], face: int | None, name: str) -> Detection:
    """The one face to animate; a clear error when there is none or the choice is ambiguous."""
    if not faces:
        raise FacecraftError(
            f"no face found in {name}; use a photo or painting where a face is clearly visible"
        )
    if face is None:
        if len(faces) > 1:
            listed = "; ".join(
                f"{i}: {round(d.bbox[2])}x{round(d.bbox[3])} px at ({round(d.bbox[0])}, {round(d.bbox[1])})"
                for i, d in enumerate(faces)
            )
            raise FacecraftError(
                f"{len(faces)} faces found in {name} ({listed}); choose one with --face N (0 = largest)"
            )
        return faces[0]
    if not 0 <= face < len(faces):
        raise FacecraftError(
            f"--face {face} is out of range: {name} has {len(faces)} face(s), numbered from 0"
        )
    return faces[face]


def frame_box(
    image_size: tuple[int, int], face_box: tuple[float, float, float, float], crop: str
) -> tuple[int, int, int, int]:
    """The (x, y, w, h) part of an image of ``image_size`` (w, h) shown for ``crop``, kept inside the image.

    ``face``: a square around the face. ``portrait``: head and shoulders in the source's own aspect ratio
    (kept between 9:16 and 16:9), so a tall phone photo stays tall. ``full``: the whole image.
    """
    iw, ih = image_size
    if crop == "full":
        return 0, 0, iw, ih
    grow, shift = _FRAMING[crop]
    x, y, w, h = face_box
    side = max(w, h) * grow
    aspect = 1.0 if crop == "face" else float(np.clip(iw / ih, 9 / 16, 16 / 9))
    bw, bh = side * np.sqrt(aspect), side / np.sqrt(aspect)
    fit = min(1.0, iw / bw, ih / bh)
    bw, bh = bw * fit, bh * fit
    cx, cy = x + w / 2, y + h / 2 + shift * max(w, h)
    x0 = float(np.clip(cx - bw / 2, 0, iw - bw))
    y0 = float(np.clip(cy - bh / 2, 0, ih - bh))
    return round(x0), round(y0), int(bw), int(bh)


def output_size(box: tuple[int, int, int, int], longest: int) -> tuple[int, int]:
    """Even (width, height) with the longer side ``longest`` and the box's aspect ratio."""
    _, _, w, h = box
    scale = longest / max(w, h)
    return max(2, round(w * scale / 2) * 2), max(2, round(h * scale / 2) * 2)


def load_portrait(
    source: str | Path | np.ndarray,
    mesher: FaceMesher,
    detector: FaceDetector,
    *,
    crop: str = "portrait",
    size: int = 512,
    face: int | None = None,
) -> Portrait:
    """Read and frame the portrait. ``source``: a path or a BGR image (grayscale and RGBA files are converted)."""
    name = str(source) if not isinstance(source, np.ndarray) else "the portrait image"
    image = read_image(source) if not isinstance(source, np.ndarray) else _as_bgr(source)
    chosen = choose_face(find_faces(image, detector), face, name)
    mesh = _mesh_at_good_size(image, chosen.bbox, mesher)
    if mesh is None:
        raise FacecraftError(
            f"the face in {name} could not be measured (turned away or too small); try another image"
        )
    box = frame_box((image.shape[1], image.shape[0]), mesh.bbox(), crop)
    w, h = output_size(box, size)
    x, y, bw, bh = box
    part = image[y : y + bh, x : x + bw]
    interp = cv2.INTER_AREA if w < bw else cv2.INTER_CUBIC
    framed = cv2.resize(part, (w, h), interpolation=interp)
    sx, sy = w / bw, h / bh
    lm = mesh.landmarks.astype(np.float64).copy()
    lm[:, 0] = (lm[:, 0] - x + 0.5) * sx - 0.5
    lm[:, 1] = (lm[:, 1] - y + 0.5) * sy - 0.5
    lm[:, 2] *= (sx + sy) / 2
    return Portrait(framed, lm, mesh.blendshapes, box, name)


def _mesh_at_good_size(
    image: np.ndarray, bbox: tuple[float, float, float, float], mesher: FaceMesher
) -> Mesh | None:
    """Mesh of the face; a tiny image is enlarged first so the landmarker sees real detail."""
    scale = max(1.0, 256.0 / max(bbox[2], bbox[3]))
    if scale == 1.0:
        return mesher.mesh(image, bbox)
    big = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    x, y, w, h = (v * scale for v in bbox)
    mesh = mesher.mesh(big, (x, y, w, h))
    if mesh is None:
        return None
    return Mesh(mesh.landmarks / scale, mesh.blendshapes, mesh.matrix, mesh.pose)


def _as_bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(image[..., :3]).astype(np.uint8)
