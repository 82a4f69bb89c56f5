"""Glasses painted out of a person's training faces, so that their decoder learns them without glasses.

A decoder trained on a person who wears glasses otherwise learns to draw the frames (or, with them merely
left out of the loss, a ghost of them) and puts them on every face it is swapped onto. The parser finds
dark frames in every face, but clear plastic ones in only about half of a webcam clip's faces, and where it
finds them its class often stops well inside the rims. So the frames are found per person: a face where
the parser saw the glasses whole keeps its own outline, the others borrow the outline of the person's face
in the most similar pose; around that outline the frames' band, thick rims and thin lines (a clear rim's
highlight and shadow) are painted over from the skin around them. The lenses, and the eyes behind them,
stay and are learned. A target's own glasses are kept at swap time by the parse mask.
"""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.face.parse import GLASSES_FRAME_BAND, LABELS, class_mask
from facecraft.face.regions import polygon
from facecraft.imaging import disk

GLASSES = LABELS.index("eyeglasses")
UNDER_GLASSES = tuple(LABELS.index(c) for c in ("skin", "l_brow", "r_brow", "l_eye", "r_eye", "nose"))
"""Classes a borrowed outline may take over (what glasses sit on), never hair, background or the mouth."""
_BROWS = (LABELS.index("l_brow"), LABELS.index("r_brow"))
WHOLE = 0.75
"""A face's glasses class is whole when it is at least this share of the person's large ones (the 90th
percentile of their faces' class areas)."""
WEARER = 0.15
"""A person wears glasses when the parser saw them whole in this share of their faces (and at least 8)."""
RIGID = (33, 133, 362, 263, 6, 168, 197, 195, 5, 234, 454, 127, 356)
"""Mesh points that move with the head and the glasses, not with the brows or lids: the eyes' corners, the
bridge of the nose, the cheeks beside the ears."""
THIN_REACH_OUT = 0.045
"""How far outside a borrowed or parsed outline (share of the crop) a clear rim may lie: the parser's class
often stops this far inside the rims."""
THIN_REACH_IN = 0.015
THIN_CONTRAST = 4.0
"""Lightness levels (Lab L, 0-255) by which a thin line differs from its surroundings (a difference of
Gaussians of 1 and 3 px at 256 px) to be painted: a clear rim's highlight or shadow, not skin texture."""
CLEAR_COLOUR = 18.0
CLEAR_SHARE = 0.5
"""Frames are clear when fewer than this share of their band's pixels are :data:`CLEAR_COLOUR` (Lab) or more
from the skin around the glasses: man_glasses_orange's clear plastic 0.16-0.39 of a face's band (10th-90th
percentile), woman_glasses' thin dark metal 0.64-0.69."""
THICK_RIM_REACH = 0.045
"""How far inside the glasses class (share of the crop) a rim may reach: a browline or horn-rimmed frame
is up to ~4 % of the crop thick, twice the band."""
THICK_RIM_COLOUR = 30.0
"""Lab distance from the median of what the lenses show above which a pixel is frame, not lens."""


def glasses_donors(
    labels: list[np.ndarray], landmarks: list[np.ndarray]
) -> list[tuple[int, np.ndarray]] | None:
    """For each of a person's faces (label maps and aligned landmarks at one size), the face to take the
    glasses' outline from and the 2x3 similarity moving it onto this face: itself (identity) where the parser
    saw the glasses whole, else the whole face nearest in pose (all landmarks, after a similarity on the
    :data:`RIGID` points). None when the person does not wear glasses."""
    areas = np.array([class_mask(lab, ("eyeglasses",)).sum() for lab in labels], np.float64)
    large = float(np.percentile(areas, 90)) if len(areas) else 0.0
    whole = np.nonzero((areas >= WHOLE * large) & (areas > 0))[0]
    if large <= 0 or len(whole) < max(8, WEARER * len(labels)):
        return None
    rigid = [np.asarray(lm[list(RIGID), :2], np.float32) for lm in landmarks]
    reference = rigid[int(whole[0])]
    poses = []
    for lm, pts in zip(landmarks, rigid, strict=True):
        move = _similarity(pts, reference)
        poses.append((np.asarray(lm[:, :2], np.float32) @ move[:, :2].T + move[:, 2]).ravel())
    pose = np.stack(poses)
    own = np.eye(2, 3, dtype=np.float32)
    donors: list[tuple[int, np.ndarray]] = []
    for i in range(len(labels)):
        if areas[i] >= WHOLE * large:
            donors.append((i, own))
            continue
        j = int(whole[np.argmin(np.linalg.norm(pose[whole] - pose[i], axis=1))])
        donors.append((j, _similarity(rigid[j], rigid[i])))
    return donors


def glasses_seen(donors: list[tuple[int, np.ndarray]] | None) -> int:
    """In how many of a person's faces the parser saw their glasses whole (each is its own donor); 0 for a
    person who does not wear glasses (``donors`` None)."""
    return 0 if donors is None else sum(i == d for i, (d, _) in enumerate(donors))


def _similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    move, _ = cv2.estimateAffinePartial2D(src, dst, method=cv2.LMEDS)
    return np.eye(2, 3, dtype=np.float32) if move is None else move.astype(np.float32)


def borrowed_labels(labels: np.ndarray, donor: np.ndarray, move: np.ndarray) -> np.ndarray:
    """``labels`` with the donor face's glasses class, moved by ``move``, added where glasses sit on a face."""
    size = labels.shape[1], labels.shape[0]
    moved = cv2.warpAffine(
        class_mask(donor, ("eyeglasses",)).astype(np.uint8), move, size, flags=cv2.INTER_NEAREST
    )
    out = labels.copy()
    out[(moved > 0) & np.isin(labels, UNDER_GLASSES)] = GLASSES
    return out


def frames_to_paint(
    image: np.ndarray, labels: np.ndarray, aligned_landmarks: np.ndarray | None = None, wearer: bool = False
) -> np.ndarray:
    """(S, S) uint8 0/255: what to paint out of a face (BGR ``image``, its label map, perhaps completed by
    :func:`borrowed_labels`): the glasses' frames (:func:`glasses_frames`) and, for a person who wears glasses
    and given the landmarks, the thin lines around their outline (:func:`thin_rims`)."""
    frames = glasses_frames(labels, image, aligned_landmarks)
    if wearer and aligned_landmarks is not None:
        frames = np.maximum(frames, thin_rims(image, labels, aligned_landmarks) * 255)
    return frames


def thin_rims(image: np.ndarray, labels: np.ndarray, aligned_landmarks: np.ndarray) -> np.ndarray:
    """(S, S) uint8 0/1: for clear frames (:func:`clear_frames`), thin light or dark lines (the rims'
    highlights and shadows) within :data:`THIN_REACH_OUT` outside and :data:`THIN_REACH_IN` inside the
    glasses class's outline, on the face, never on the eyes (the mesh's, grown by 1 % of the crop) or the
    brows. Frames that show (dark metal, horn rims) are left to the band: inside tinted lenses these lines
    would paint the lens's outline as an edge of its own."""
    glasses = class_mask(labels, ("eyeglasses",)).astype(np.uint8)
    if not glasses.any() or not clear_frames(image, labels):
        return np.zeros_like(glasses)
    size = labels.shape[0]
    near = cv2.dilate(glasses, disk(round(size * THIN_REACH_OUT))) > cv2.erode(
        glasses, disk(round(size * THIN_REACH_IN))
    )
    zone = near & np.isin(labels, (*UNDER_GLASSES, GLASSES)) & ~np.isin(labels, _BROWS)
    light = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
    scale = size / 256
    lines = np.abs(cv2.GaussianBlur(light, (0, 0), scale) - cv2.GaussianBlur(light, (0, 0), 3 * scale))
    rims = cv2.dilate((zone & (lines > THIN_CONTRAST)).astype(np.uint8), disk(1))
    rims[eyes_grown(aligned_landmarks, size, 0.01) > 0] = 0
    return rims


def clear_frames(image: np.ndarray, labels: np.ndarray) -> bool:
    """Whether a face's glasses frames are clear: their band is mostly the colour of the skin around. The
    training-side twin of :func:`facecraft.swap.parsing.frames_visibility`, which needs the parser's
    probabilities and lenses; training keeps only label maps."""
    glasses = class_mask(labels, ("eyeglasses",)).astype(np.uint8)
    band = glasses_frames(labels) > 0
    size = labels.shape[0]
    around = cv2.dilate(glasses, disk(round(size * 0.04))) > 0
    skin = around & ~band & (glasses == 0) & class_mask(labels, ("skin",))
    if skin.sum() < 20 or not band.any():
        return False
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB).astype(np.float32)
    far = np.linalg.norm(lab - np.median(lab[skin], axis=0), axis=2) > CLEAR_COLOUR
    return float(far[band].mean()) < CLEAR_SHARE


def eyes_grown(aligned_landmarks: np.ndarray, size: int, grow: float) -> np.ndarray:
    """(S, S) uint8 0/1: the mesh's two eye outlines grown by ``grow`` of the crop (at least a pixel)."""
    outlines = np.zeros((size, size), np.uint8)
    for name in ("left_eye", "right_eye"):
        cv2.fillPoly(outlines, [np.round(polygon(aligned_landmarks, name)).astype(np.int32)], 1)
    return cv2.dilate(outlines, disk(max(1, round(size * grow))))


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
    band = disk(r)
    frames = cv2.dilate(glasses, band) - cv2.erode(glasses, band)
    # The bridge over the nose is rarely in the class: close the gap between the lenses along their upper
    # third, where the bridge runs.
    ys = np.nonzero(glasses.any(1))[0]
    top = slice(max(0, int(ys[0]) - r), int(ys[0]) + max(1, (int(ys[-1]) - int(ys[0])) // 3))
    gap = np.ones((1, max(3, round(labels.shape[0] * 0.15))), np.uint8)
    bridge = np.zeros_like(glasses)
    bridge[top] = (cv2.morphologyEx(glasses, cv2.MORPH_CLOSE, gap) - glasses)[top]
    frames = np.maximum(frames, cv2.dilate(bridge, band))
    if image is not None and aligned_landmarks is not None:
        frames = np.maximum(frames, _thick_rims(image, labels, glasses, frames, aligned_landmarks))
    return frames * 255


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
    eyes = eyes_grown(aligned_landmarks, size, 0.03)
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
    return cv2.dilate((joined & (rim > 0)).astype(np.uint8), disk(1))


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


def glasses_labels(
    labels: list[np.ndarray], index: int, donors: list[tuple[int, np.ndarray]] | None
) -> np.ndarray:
    """The label map of face ``index`` of a person with the glasses' outline it is painted by: its own, or
    borrowed from its donor (:func:`glasses_donors`)."""
    if donors is not None and donors[index][0] != index:
        donor, move = donors[index]
        return borrowed_labels(labels[index], labels[donor], move)
    return labels[index]


def paint_glasses(
    image: np.ndarray,
    labels: list[np.ndarray],
    index: int,
    aligned_landmarks: np.ndarray,
    donors: list[tuple[int, np.ndarray]] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Face ``index`` of a person (BGR ``image``; ``labels`` of all their faces; ``donors`` from
    :func:`glasses_donors`) with its glasses painted out, and what was painted (0/255)."""
    lab = glasses_labels(labels, index, donors)
    frames = frames_to_paint(image, lab, aligned_landmarks, wearer=donors is not None)
    return paint_frames(image, frames), frames
