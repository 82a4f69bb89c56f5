"""Two layers instead of one rubber sheet: the head (face, hair, ears, hat, neck; found by the face parser)
moves as one body over a background plate that never moves.

The plate is the portrait with the head filled in from the surrounding background (OpenCV inpainting at
a quarter size: what shows there is only the sliver a turned head uncovers). The head layer is stored
premultiplied (colour * alpha, alpha), so that with no motion the composite is exactly the portrait:

    portrait = head_premultiplied + (1 - alpha) * plate

and with motion the warp samples colour and alpha together (linear interpolation of premultiplied colour
is the correct way to resample a soft-edged layer).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import cv2
import numpy as np

from facecraft.face.parse_labels import LABELS

if TYPE_CHECKING:
    from facecraft.face.parse_dnn import DnnFaceParser

#: Parser classes that move with the head. The neck moves too, less and less towards the body (see
#: facecraft.animate.warp's neck_length); necklace and cloth stay with the body (the plate).
HEAD_CLASSES = tuple(name for name in LABELS if name not in ("background", "necklace", "cloth"))
PARSE_SIZE = 384  # on the head crop: as much detail on the head as the whole portrait at 512, ~55 % the time
_HOLE_GROW = 0.015  # the plate's hole reaches this far (share of the image side) past the soft head mask
_HOLE_RIM = 0.01  # ... and this far into the clothes (the neck's soft edge left a skin-coloured rim there)
_FILL_SPLIT = 0.02  # behind the head the scenery's and the clothes' fills meet over this (share of the side)
_EDGE_PAD = 0.1  # the layer goes on this far (share of the image side) past the image's edges
_EDGE_FADE = 0.06  # ... fading out over this distance (share of the image side)


@dataclass(frozen=True)
class HeadLayer:
    """``padded``: the head's (H, W, 4) float32 premultiplied BGR + alpha, extended by ``pad`` pixels on every
    side (see :func:`extend_past_edges`); ``plate``: (H, W, 3) float32 background with the head filled in."""

    padded: np.ndarray
    pad: int
    plate: np.ndarray
    box: tuple[int, int, int, int]  # (x0, y0, x1, y1): where the layer and the plate's hole are
    image: np.ndarray  # the portrait (BGR uint8): what shows wherever the head cannot reach

    @property
    def layer(self) -> np.ndarray:
        """(H, W, 4): the layer over the image itself."""
        p = self.pad
        return self.padded[p : self.padded.shape[0] - p, p : self.padded.shape[1] - p]

    @property
    def alpha(self) -> np.ndarray:
        return self.layer[..., 3]


def head_alpha(probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(head, backdrop, neck) from the parser's (H, W, 19) class probabilities: a (H, W) float32 0..1 soft
    head mask and (H, W) bool masks of the scenery (the parser's background class) and of the neck."""
    from facecraft.face.parse_labels import LABEL_INDEX, soft_class_mask

    # The summed probability is rarely exactly 0 on the scenery (a painted wall reads as 5-30 % hair):
    # sharpen it so only the head is in the layer, keeping a soft edge of a few pixels.
    alpha = np.clip((soft_class_mask(probabilities, HEAD_CLASSES) - 0.3) / 0.4, 0.0, 1.0)
    alpha = alpha * alpha * (3 - 2 * alpha)
    # Only near pixels whose most likely class is part of the head: no specks of "maybe hair" in the scenery.
    wanted = np.zeros(probabilities.shape[2], bool)
    wanted[[LABEL_INDEX[name] for name in HEAD_CLASSES]] = True
    head = wanted[probabilities.argmax(axis=2)].astype(np.uint8)
    alpha = alpha * cv2.dilate(head, np.ones((5, 5), np.uint8)).astype(np.float32)
    # Keep only the part connected to the face (stray "hair" blobs in a painted background stay put).
    solid = (alpha > 0.5).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=8)
    if count > 2:
        keep = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        near = cv2.dilate((labels == keep).astype(np.uint8), np.ones((9, 9), np.uint8))
        alpha = alpha * near.astype(np.float32)
    # A head has no holes: specks the parser calls background inside it (a shine on a forehead) are head.
    alpha = np.maximum(alpha, _enclosed(alpha > 0.5))
    backdrop = soft_class_mask(probabilities, ("background",)) > 0.5
    return alpha.astype(np.float32), backdrop, soft_class_mask(probabilities, ("neck",)) > 0.5


def _enclosed(solid: np.ndarray) -> np.ndarray:
    """(H, W) float32 1 where a pixel is not in ``solid`` but cannot be reached from the image border
    without crossing it (a hole), else 0."""
    h, w = solid.shape
    outside = np.pad((~solid).astype(np.uint8), 1, constant_values=1)
    mask = np.zeros((h + 4, w + 4), np.uint8)
    cv2.floodFill(outside, mask, (0, 0), 2)
    return (outside[1:-1, 1:-1] == 1).astype(np.float32)


def build_layer(
    image: np.ndarray,
    alpha: np.ndarray,
    face_mask: np.ndarray | None = None,
    backdrop: np.ndarray | None = None,
) -> HeadLayer:
    """Split ``image`` (BGR uint8) into a head layer and a background plate. ``alpha``: (H, W) 0..1 head
    mask. ``face_mask``: optional (H, W) bool of the face itself, always part of the layer. ``backdrop``:
    optional (H, W) bool of the scenery: the hole for the head reaches into it a little further, to catch
    loose hair the parser leaves out, and the hole is filled from it above the shoulder line and from the
    clothes below (see :func:`_fill_behind`)."""
    h, w = image.shape[:2]
    if face_mask is not None:
        alpha = np.maximum(alpha, face_mask.astype(np.float32))
    grow = max(3, round(_HOLE_GROW * max(h, w)))
    core = (alpha > 0.02).astype(np.uint8)
    hole = cv2.dilate(core, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    if backdrop is not None:  # widen the hole into the scenery (loose hair edges), only a little elsewhere
        rim = max(1, round(_HOLE_RIM * max(h, w)))
        edge = cv2.dilate(core, np.ones((2 * rim + 1, 2 * rim + 1), np.uint8))
        hole = np.where(backdrop, hole, edge).astype(np.uint8)
    middle = (
        int(np.nonzero(face_mask.any(axis=1))[0].mean()) if face_mask is not None and face_mask.any() else 0
    )
    plate = _fill_behind(image, hole, backdrop, middle)
    plate += cv2.GaussianBlur(hole.astype(np.float32), (0, 0), 1.5)[..., None] * _grain(image, hole)
    img = image.astype(np.float32)
    a = alpha[..., None]
    premultiplied = img - (1.0 - a) * plate  # exact: premultiplied + (1 - a) * plate == image
    layer = np.concatenate([premultiplied, a], axis=2).astype(np.float32)
    ys, xs = np.nonzero(hole)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1) if len(xs) else (0, 0, 1, 1)
    pad = max(4, round(_EDGE_PAD * max(h, w)))
    return HeadLayer(extend_past_edges(layer, pad), pad, plate, box, image.copy())


def extend_past_edges(layer: np.ndarray, pad: int) -> np.ndarray:
    """The premultiplied layer (H, W, 4) extended by ``pad`` pixels on every side, for a head moved away from
    the image's edge: hair the edge cuts continues as its own mirror image, scenery at the edge as nothing
    (the still plate shows). Each extended pixel is the mirror image scaled by the alpha of the edge pixel
    nearest it. (Repeating the edge pixels, as before, drew streaks down from the edge: hair, and the scenery
    texture the layer carries near the head.)"""
    mirrored = cv2.copyMakeBorder(layer, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    edge_alpha = cv2.copyMakeBorder(
        np.ascontiguousarray(layer[..., 3]), pad, pad, pad, pad, cv2.BORDER_REPLICATE
    )
    edge_alpha[pad:-pad, pad:-pad] = 1.0
    # fading out over a short distance: the mirror's symmetry shows less
    h, w = layer.shape[:2]
    fade = max(2.0, _EDGE_FADE * max(h, w))
    ys = np.arange(h + 2 * pad, dtype=np.float32)
    xs = np.arange(w + 2 * pad, dtype=np.float32)
    out_y = np.maximum(pad - ys, ys - (h - 1 + pad)).clip(0)
    out_x = np.maximum(pad - xs, xs - (w - 1 + pad)).clip(0)
    beyond = np.maximum(out_y[:, None], out_x[None, :])
    weight = np.clip(edge_alpha, 0.0, 1.0) * np.clip(1.0 - beyond / fade, 0.0, 1.0)
    return np.ascontiguousarray(mirrored * weight[..., None])


def _fill_behind(
    image: np.ndarray, hole: np.ndarray, backdrop: np.ndarray | None, below: int = 0
) -> np.ndarray:
    """The image (float32) with ``hole`` (uint8 0/1, the head) filled from what is around it: below the
    clothes' top edge (the shoulder line, carried straight across behind the neck) from the clothes, above
    it from the scenery (``backdrop``, bool), meeting in a soft seam. ``below``: the clothes are looked for
    from this row down (the face's middle). One fill from both mixed them: behind a lowered neck the
    collar showed a blur of wall and sweater, a pale band over the clothes."""
    if backdrop is None:
        return _fill(image, hole)
    known = hole == 0
    scenery, rest = known & backdrop, known & ~backdrop
    rest[:below] = False
    if scenery.sum() < 16 or rest.sum() < 16:
        return _fill(image, hole)
    h, w = hole.shape
    top = np.where(rest.any(axis=0), rest.argmax(axis=0), h)
    # a column whose clothes begin right under the hole (the collar under the neck) does not show where
    # the shoulder line runs behind the neck: take it from the columns either side
    under_hole = hole[np.clip(top - 2, 0, h - 1), np.arange(w)] > 0
    seen = (top < h) & ~under_hole
    if not seen.any():
        return _fill(image, hole)
    cols = np.arange(w)
    line = np.interp(cols, cols[seen], top[seen].astype(np.float64))
    soft = max(1.0, _FILL_SPLIT * max(h, w))
    rows = np.arange(h, dtype=np.float64)[:, None]
    share = np.clip(0.5 + (rows - line[None, :]) / (2 * soft), 0.0, 1.0).astype(np.float32)[..., None]
    return share * _fill(image, hole, rest) + (1.0 - share) * _fill(image, hole, scenery)


def _fill(image: np.ndarray, hole: np.ndarray, source: np.ndarray | None = None) -> np.ndarray:
    """The image (float32) with ``hole`` (uint8 0/1) filled by pull-push interpolation (normalised
    convolution over an image pyramid) from the pixels outside it; ``source`` (bool, optional) limits which
    of those may be copied (the background behind a head is wall, not collar)."""
    known = (hole == 0) if source is None else (hole == 0) & source
    if known.sum() < 16:
        known = hole == 0
    img = image.astype(np.float32)
    levels = []
    w = known.astype(np.float32)
    c = img * w[..., None]
    while min(w.shape) > 8:
        levels.append((c, w))
        c = cv2.pyrDown(c)
        w = cv2.pyrDown(w)
    out = c / np.maximum(w, 1e-6)[..., None]
    for c_l, w_l in reversed(levels):
        up = cv2.resize(out, (w_l.shape[1], w_l.shape[0]), interpolation=cv2.INTER_LINEAR)
        blend = np.clip(w_l * 4.0, 0.0, 1.0)[..., None]
        out = blend * (c_l / np.maximum(w_l, 1e-6)[..., None]) + (1.0 - blend) * up
    soft = cv2.GaussianBlur(hole.astype(np.float32), (0, 0), 1.5)[..., None]
    return img * (1.0 - soft) + out * soft


def _grain(image: np.ndarray, hole: np.ndarray, block: int = 6) -> np.ndarray:
    """(H, W, 3) float32: fine texture for the smooth fill of ``hole`` (a photo's grain, a canvas's weave):
    the image's finest detail (above a 1 px blur, clipped to its typical size), in ``block``-pixel squares
    taken at random (seeded) from the image away from the hole, so that no edge or pattern of the scenery
    is copied whole; 0 where the image has no such squares. A smooth patch behind a moved head showed as a
    pale, grainless halo on a grainy backdrop."""
    img = image.astype(np.float32)
    detail = img - cv2.GaussianBlur(img, (0, 0), 1.0)
    out = np.zeros_like(detail)
    margin = max(3, round(0.01 * max(hole.shape)))
    valid = cv2.dilate(hole, np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)) == 0
    if not hole.any() or valid.sum() < 64:
        return out
    typical = 2.0 * float(np.median(np.abs(detail[valid]))) / 0.6745
    detail = np.clip(detail, -typical, typical)
    h, w = hole.shape
    gh, gw = h // block, w // block
    blocks = detail[: gh * block, : gw * block].reshape(gh, block, gw, block, 3).transpose(0, 2, 1, 3, 4)
    usable = valid[: gh * block, : gw * block].reshape(gh, block, gw, block).all(axis=(1, 3))
    sources = blocks[usable]
    if len(sources) == 0:
        return out
    wanted = hole[: gh * block, : gw * block].reshape(gh, block, gw, block).any(axis=(1, 3))
    picks = np.random.default_rng(0).integers(0, len(sources), int(wanted.sum()))
    filled = np.zeros_like(blocks)
    filled[wanted] = sources[picks]
    out[: gh * block, : gw * block] = filled.transpose(0, 2, 1, 3, 4).reshape(gh * block, gw * block, 3)
    return out


def neck_length(neck: np.ndarray, landmarks: np.ndarray) -> float:
    """Face widths from the chin down to where the neck meets the clothes (0.25..0.8), measured in the
    parser's neck mask under the chin: the head's motion fades out there so the collar never tears."""
    from facecraft.animate.geometry import face_width
    from facecraft.face import regions

    fw = face_width(landmarks)
    cx, cy = landmarks[regions.CHIN, :2]
    x0, x1 = int(max(0, cx - 0.15 * fw)), int(min(neck.shape[1], cx + 0.15 * fw + 1))
    rows = np.nonzero(neck[:, x0:x1].any(axis=1))[0]
    rows = rows[rows > cy]
    if len(rows) == 0:
        return 0.8
    return float(np.clip((rows.max() - cy) / fw, 0.25, 0.8))


def composite(head: HeadLayer, map_x: np.ndarray, map_y: np.ndarray, reach: float) -> np.ndarray:
    """The moved head over the still plate (BGR uint8): the layer sampled at the backward map.

    ``reach``: the largest distance (pixels) anything moves in this frame; outside the layer's box grown by
    it the portrait is shown as it is (nothing there can change), which saves most of the work.
    """
    h, w = head.image.shape[:2]
    r = int(np.ceil(reach)) + 2
    x0, y0, x1, y1 = head.box
    x0, y0, x1, y1 = max(0, x0 - r), max(0, y0 - r), min(w, x1 + r), min(h, y1 + r)
    out = head.image.copy()
    # Past the image's edge the layer goes on (hair cut by the edge stays attached to it; scenery there is
    # transparent), then is transparent: the plate shows.
    moved = cv2.remap(
        head.padded,
        map_x[y0:y1, x0:x1] + head.pad,
        map_y[y0:y1, x0:x1] + head.pad,
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0, 0),
    )
    # moved colour + (1 - moved alpha) * plate, rounded to uint8 (OpenCV's ops: a third of numpy's time)
    uncovered = 1.0 - moved[..., 3]
    behind = cv2.multiply(head.plate[y0:y1, x0:x1], cv2.merge([uncovered, uncovered, uncovered]))
    out[y0:y1, x0:x1] = cv2.add(cv2.cvtColor(moved, cv2.COLOR_BGRA2BGR), behind, dtype=cv2.CV_8U)
    return out


def head_crop(landmarks: np.ndarray, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): a square around the head (2.6 face heights, a little above the face's centre, where
    the hair is), kept inside an image of ``size`` (width, height). Framed like the parser's training
    faces, so it sees the head at full detail at a smaller input size than the whole portrait needs."""
    w, h = size
    x0, y0 = landmarks[:, :2].min(0)
    x1, y1 = landmarks[:, :2].max(0)
    side = min(2.6 * max(x1 - x0, y1 - y0), w, h)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 - 0.1 * (y1 - y0)
    left = int(np.clip(round(cx - side / 2), 0, w - side))
    top = int(np.clip(round(cy - side / 2), 0, h - side))
    return left, top, left + int(side), top + int(side)


def load_parser() -> DnnFaceParser | None:
    """The face parser at the size the head layer uses, or None when it is turned off
    (``FACECRAFT_NO_PARSER=1``: its weights are for non-commercial use) or not installed. Loading takes
    a second (53 MB of weights into OpenCV, no torch): start it early, in a thread."""
    from facecraft.errors import FacecraftError
    from facecraft.face.parse_labels import parser_disabled

    if parser_disabled():
        return None
    try:
        return _shared_parser()
    except FacecraftError:
        return None


@cache
def _shared_parser() -> DnnFaceParser:
    """One parser per process: the portrait's head layer and the driving reference's skin use the same."""
    from facecraft.face.parse_dnn import DnnFaceParser

    return DnnFaceParser.load(size=PARSE_SIZE)


def parse_head(
    image: np.ndarray, landmarks: np.ndarray, parser: DnnFaceParser | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """:func:`head_alpha` of a framed portrait (BGR uint8) with its mesh (478, 3), run on a square around
    the head (outside it: no head, no scenery known), and the (H, W) float32 0..1 probability of the eyes
    (the parser's two eye classes: the eyeballs between the lids). ``parser``: from :func:`load_parser`
    (loaded here when not given). None when the parser is turned off or not installed."""
    from facecraft.face.parse_labels import soft_class_mask

    parser = parser if parser is not None else load_parser()
    if parser is None:
        return None
    h, w = image.shape[:2]
    x0, y0, x1, y1 = head_crop(landmarks, (w, h))
    probabilities = parser.probabilities([image[y0:y1, x0:x1]])[0]
    alpha, backdrop, neck = head_alpha(probabilities)
    full_alpha = np.zeros((h, w), np.float32)
    full_backdrop = np.zeros((h, w), bool)
    full_neck = np.zeros((h, w), bool)
    full_eyes = np.zeros((h, w), np.float32)
    full_alpha[y0:y1, x0:x1] = alpha
    full_backdrop[y0:y1, x0:x1] = backdrop
    full_neck[y0:y1, x0:x1] = neck
    full_eyes[y0:y1, x0:x1] = soft_class_mask(probabilities, ("l_eye", "r_eye"))
    return full_alpha, full_backdrop, full_neck, full_eyes


SKIN_CLASSES = ("skin", "nose")
"""What the driver's expression shading may be read from: bare skin (not glasses frames, hair, hands)."""


def skin_map(image: np.ndarray, landmarks: np.ndarray, parser: DnnFaceParser | None) -> np.ndarray | None:
    """0..1 float32 over a driving frame's :func:`facecraft.animate.shading.face_box`: where the parser
    sees bare skin, shrunk by 2 % of the face width (the edge of a glasses frame is not skin either). None
    without a parser."""
    if parser is None:
        return None
    from facecraft.animate.geometry import face_width
    from facecraft.animate.shading import face_box
    from facecraft.face.parse_labels import soft_class_mask

    h, w = image.shape[:2]
    hx0, hy0, hx1, hy1 = head_crop(landmarks, (w, h))
    skin = soft_class_mask(parser.probabilities([image[hy0:hy1, hx0:hx1]])[0], SKIN_CLASSES)
    k = max(1, round(0.02 * face_width(np.asarray(landmarks, np.float64))))
    skin = cv2.erode(skin, np.ones((2 * k + 1, 2 * k + 1), np.uint8))
    full = np.zeros((h, w), np.float32)
    full[hy0:hy1, hx0:hx1] = skin
    x0, y0, x1, y1 = face_box(landmarks, image.shape)
    return full[y0:y1, x0:x1]
