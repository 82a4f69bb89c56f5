"""The numbers ``evaluate`` reports, as pure functions of landmarks, poses and pixels.

See docs/metrics.md for what each one means and how to read it.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from facecraft.face.regions import polygon
from facecraft.imaging import disk


def face_size(landmarks: np.ndarray) -> float:
    """Square root of the area of the landmarks' bounding box, in pixels."""
    lo, hi = landmarks[:, :2].min(0), landmarks[:, :2].max(0)
    return float(np.sqrt(max((hi - lo).prod(), 1e-6)))


def landmark_error(a: np.ndarray, b: np.ndarray) -> float:
    """Mean distance between corresponding (478, >=2) landmarks (x, y), divided by the mean face size of
    the two (so 0.01 is 1 % of the face). Symmetric in ``a`` and ``b``."""
    dist = np.linalg.norm(a[:, :2].astype(np.float64) - b[:, :2].astype(np.float64), axis=1).mean()
    return float(dist / ((face_size(a) + face_size(b)) / 2))


def pose_error(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """Mean absolute difference of (yaw, pitch, roll), in degrees (angles wrapped to [-180, 180))."""
    d = (np.asarray(a, np.float64) - np.asarray(b, np.float64) + 180.0) % 360.0 - 180.0
    return float(np.abs(d).mean())


def expression_error(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of the 52 blendshape scores (each 0..1)."""
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).mean())


def oval_mask(landmarks: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """bool (H, W) mask of the face oval of (478, >=2) frame landmarks."""
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(polygon(landmarks, "face_oval")).astype(np.int32)], 1)
    return mask.astype(bool)


def gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)


def temporal_change(prev: np.ndarray, cur: np.ndarray, mask: np.ndarray) -> float:
    """Mean absolute grey-level change (0..255) between two frames inside ``mask`` (H, W bool)."""
    if not mask.any():
        return 0.0
    return float(np.abs(gray(cur) - gray(prev))[mask].mean())


def flicker_excess(
    orig_prev: np.ndarray, orig_cur: np.ndarray, swap_prev: np.ndarray, swap_cur: np.ndarray, mask: np.ndarray
) -> float:
    """Mean absolute difference between the swapped and the original frame-to-frame change inside ``mask``
    (grey levels): 0 when the swapped face changes exactly as the original does; flicker adds to it."""
    if not mask.any():
        return 0.0
    d_orig = gray(orig_cur) - gray(orig_prev)
    d_swap = gray(swap_cur) - gray(swap_prev)
    return float(np.abs(d_swap - d_orig)[mask].mean())


SEAM_CHANGE = 8.0  # grey levels: a pixel counts as replaced when the swap moved it this much (after a blur)


def seam_visibility(
    original: np.ndarray, swapped: np.ndarray, box: tuple[float, float, float, float]
) -> float | None:
    """Extra edge strength along the border of the replaced region, in grey levels per pixel.

    The replaced region is where the swapped frame differs from the original (blurred grey difference
    above SEAM_CHANGE) near the face ``box`` (x, y, w, h); its border band is 3 % of the face size wide on
    each side. Returns mean |gradient| of the swapped frame over the band minus that of the original there:
    about 0 when the swap adds no edge (a good blend), larger the more visible the seam. None when nothing
    was replaced.
    """
    h, w = original.shape[:2]
    x, y, bw, bh = box
    side = max(bw, bh) * 1.6
    cx, cy = x + bw / 2, y + bh / 2
    x0, y0 = max(0, int(cx - side / 2)), max(0, int(cy - side / 2))
    x1, y1 = min(w, int(cx + side / 2)), min(h, int(cy + side / 2))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    go, gs = gray(original[y0:y1, x0:x1]), gray(swapped[y0:y1, x0:x1])
    diff = cv2.GaussianBlur(np.abs(gs - go), (0, 0), 2.0)
    changed = (diff > SEAM_CHANGE).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(changed, connectivity=8)
    if count < 2:
        return None
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    region = (labels == biggest).astype(np.uint8)
    if region.sum() < 0.02 * side * side:
        return None
    width = max(1, round(0.03 * max(bw, bh)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * width + 1, 2 * width + 1))
    band = (cv2.dilate(region, kernel) > 0) & ~(cv2.erode(region, kernel) > 0)
    return float(_gradient(gs)[band].mean() - _gradient(go)[band].mean())


def _gradient(g: np.ndarray) -> np.ndarray:
    """Gradient magnitude in grey levels per pixel (the 3x3 Sobel kernel weighs a unit slope by 8)."""
    return np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)) / 8.0


def inner_face_box(landmarks: np.ndarray, shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1): the middle 60 % (each way) of the face oval's bounding box, clipped to the frame:
    cheeks, eyes, nose and mouth, without the hairline, jaw line or background."""
    oval = polygon(landmarks, "face_oval")
    lo, hi = oval.min(0), oval.max(0)
    centre, half = (lo + hi) / 2, (hi - lo) * 0.3
    h, w = shape[:2]
    x0, y0 = max(0, int(centre[0] - half[0])), max(0, int(centre[1] - half[1]))
    x1, y1 = min(w, int(centre[0] + half[0]) + 1), min(h, int(centre[1] + half[1]) + 1)
    return (x0, y0, x1, y1) if x1 - x0 >= 8 and y1 - y0 >= 8 else None


def sharpness(image: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Variance of the Laplacian of the grey image inside ``box`` (x0, y0, x1, y1): fine detail."""
    x0, y0, x1, y1 = box
    return float(cv2.Laplacian(gray(image[y0:y1, x0:x1]), cv2.CV_32F, ksize=3).var())


REPLACED_LEVELS = 6.0
"""Grey levels (after a 1 px Gaussian) by which a pixel must differ from the original to count as replaced."""


def replaced_sharpness(
    original: np.ndarray, swapped: np.ndarray, box: tuple[int, int, int, int]
) -> tuple[float, float] | None:
    """Variance of the Laplacian of the original and of the swapped grey image over the pixels of ``box`` that
    the swap replaced (see :data:`REPLACED_LEVELS`; shrunk by 2 px, beyond the Laplacian's reach): the detail of
    the new face where it is new. What a swap keeps of the target (its glasses frames, teeth, closed lids)
    is left out, so it cannot lend its sharpness to the new face. None where under 5 % of the box changed."""
    x0, y0, x1, y1 = box
    go, gs = gray(original[y0:y1, x0:x1]), gray(swapped[y0:y1, x0:x1])
    diff = np.abs(cv2.GaussianBlur(go, (0, 0), 1.0) - cv2.GaussianBlur(gs, (0, 0), 1.0)) > REPLACED_LEVELS
    replaced = cv2.erode(diff.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    if replaced.mean() < 0.05:
        return None
    lo = cv2.Laplacian(go, cv2.CV_32F, ksize=3)[replaced]
    ls = cv2.Laplacian(gs, cv2.CV_32F, ksize=3)[replaced]
    return float(lo.var()), float(ls.var())


#: Expression channels compared between the original and the swapped face: each the mean of these blendshapes.
EXPRESSIONS: dict[str, tuple[str, ...]] = {
    "eyes_closed": ("eyeBlinkLeft", "eyeBlinkRight"),
    "smile": ("mouthSmileLeft", "mouthSmileRight"),
    "jaw_open": ("jawOpen",),
    "frown": ("browDownLeft", "browDownRight"),
}


def expression_channels(blendshapes: np.ndarray) -> dict[str, float]:
    """The EXPRESSIONS channels (0..1) of one face's 52 blendshape scores."""
    from facecraft.face.mesh import BLENDSHAPE_NAMES

    index = {n: i for i, n in enumerate(BLENDSHAPE_NAMES)}
    return {k: float(np.mean([blendshapes[index[n]] for n in names])) for k, names in EXPRESSIONS.items()}


def expression_agreement(original: list[dict[str, float]], swapped: list[dict[str, float]]) -> dict[str, Any]:
    """Per channel: correlation over frames (None when the original never varies), mean absolute
    difference and the mean of each side; for eyes_closed also how many of the original's closed-eye
    frames (score >= 0.5) stay closed in the swap."""
    out: dict[str, Any] = {}
    for name in EXPRESSIONS:
        a = np.array([o[name] for o in original], np.float64)
        b = np.array([s[name] for s in swapped], np.float64)
        if len(a) == 0:
            continue
        corr = float(np.corrcoef(a, b)[0, 1]) if len(a) > 2 and a.std() > 0.02 and b.std() > 0 else None
        out[name] = {
            "correlation": corr,
            "mean_abs_diff": float(np.abs(a - b).mean()),
            "original_mean": float(a.mean()),
            "swapped_mean": float(b.mean()),
        }
    if "eyes_closed" in out:
        a = np.array([o["eyes_closed"] for o in original])
        b = np.array([s["eyes_closed"] for s in swapped])
        out["eyes_closed"]["closed_frames_original"] = int((a >= 0.5).sum())
        out["eyes_closed"]["closed_frames_kept"] = int(((a >= 0.5) & (b >= 0.5)).sum())
    return out


EYE_NEAR = (0.015, 0.08)
"""The skin around the eyes: the mesh's eye outlines grown by these shares of the face width (the lids
left out), brows and the outside of the face oval left out."""
EYE_RING = (0.10, 0.16)
"""The face's skin further out, to compare with: the eye outlines grown by these shares of the face width."""


def eye_region_colour(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray | None:
    """Lab (L, a*, b*; 0..255 as OpenCV stores them) of the skin around the eyes minus that of the skin
    further out (medians over :data:`EYE_NEAR` and :data:`EYE_RING`), for (478, >=2) frame landmarks; None
    when either region is empty (a face off the frame)."""
    h, w = image.shape[:2]
    width = float(np.ptp(landmarks[:, 0]))
    eyes, brows = np.zeros((h, w), np.uint8), np.zeros((h, w), np.uint8)
    for names, mask in ((("left_eye", "right_eye"), eyes), (("left_eyebrow", "right_eyebrow"), brows)):
        for name in names:
            cv2.fillPoly(mask, [np.round(polygon(landmarks, name)).astype(np.int32)], 1)
    brow_gap = max(1, round(width * 0.02))
    keep = oval_mask(landmarks, image.shape) & (
        cv2.dilate(brows, np.ones((2 * brow_gap + 1,) * 2, np.uint8)) == 0
    )

    def grown(share: float) -> np.ndarray:
        return cv2.dilate(eyes, disk(max(1, round(width * share)))) > 0

    near = grown(EYE_NEAR[1]) & ~grown(EYE_NEAR[0]) & keep
    ring = grown(EYE_RING[1]) & ~grown(EYE_RING[0]) & keep
    if not near.any() or not ring.any():
        return None
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB).astype(np.float64)
    return np.median(lab[near], axis=0) - np.median(lab[ring], axis=0)


def eye_shade(original: np.ndarray, swapped: np.ndarray, landmarks: np.ndarray) -> np.ndarray | None:
    """(dL, da*, db*): how much darker or more coloured the swap made the skin around the eyes relative to
    the face around it, compared with the original frame (:func:`eye_region_colour` of each, on the original's
    landmarks); 0 = the target's own. A source's tinted lenses show as a*/b* away from 0 (pink: a* up; blue:
    b* down). None when not measurable."""
    a, b = eye_region_colour(swapped, landmarks), eye_region_colour(original, landmarks)
    if a is None or b is None:
        return None
    return a - b
