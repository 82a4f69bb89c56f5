"""Putting an aligned face back into its frame: the inverse of the alignment warp, at sub-pixel accuracy.

Only the frame region the aligned square lands on is warped and blended, so the cost depends on the face
size, not the frame size.
"""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.swap.blend import Blender


def face_region(
    affine: np.ndarray,
    size: int,
    frame_shape: tuple[int, ...],
    box: tuple[int, int, int, int] | None = None,
    pad: int = 1,
) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) frame pixels covered by the aligned (size x size) square of ``affine``
    (frame -> aligned, 2x3), or by its aligned rectangle ``box`` (x, y, w, h), grown by ``pad`` frame pixels
    and clipped to the frame; None when it falls outside."""
    inv = cv2.invertAffineTransform(affine)
    bx, by, bw, bh = box if box is not None else (0, 0, size, size)
    corners = np.array([[bx, by], [bx + bw, by], [bx, by + bh], [bx + bw, by + bh]], np.float64)
    pts = corners @ inv[:, :2].T + inv[:, 2]
    h, w = frame_shape[:2]
    x0, y0 = max(0, int(np.floor(pts[:, 0].min())) - pad), max(0, int(np.floor(pts[:, 1].min())) - pad)
    x1, y1 = min(w, int(np.ceil(pts[:, 0].max())) + pad + 1), min(h, int(np.ceil(pts[:, 1].max())) + pad + 1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return x0, y0, x1, y1


def warp_to_frame(
    aligned: np.ndarray,
    affine: np.ndarray,
    region: tuple[int, int, int, int],
    interpolation: int = cv2.INTER_CUBIC,
    border: int = cv2.BORDER_CONSTANT,
) -> np.ndarray:
    """Warp an aligned image (S, S[, C]) back onto the frame ``region``: (y1-y0, x1-x0[, C]).

    The forward matrix is used with WARP_INVERSE_MAP (each frame pixel samples the aligned image at
    ``affine @ (x, y, 1)``), so no matrix inversion error enters and the warp is exact to sub-pixel level.
    """
    x0, y0, x1, y1 = region
    m = affine.astype(np.float64).copy()
    m[:, 2] = affine[:, :2] @ np.array([x0, y0], np.float64) + affine[:, 2]
    return cv2.warpAffine(
        aligned, m, (x1 - x0, y1 - y0), flags=interpolation | cv2.WARP_INVERSE_MAP, borderMode=border
    )


DETAIL_SIGMA = 0.4
"""Detail restored is what a Gaussian of this many *aligned* pixels removes from the frame: the grain finer
than the aligned crop (at the faceset size, 256 px by default) holds. A band set by the model's own size
(64 px: four times wider) was tried: it also brought back the target's pores, stubble and creases at the
scale the identity network sees, and the swapped face was recognised as the source in 57 % of frames
instead of 93 % (his face into her video, a 1,376-step benchmark model, docs/swap.md)."""


def frame_px_per_aligned_px(affine: np.ndarray) -> float:
    """How many frame pixels one aligned pixel covers (the upscale from the model's face to the frame)."""
    return 1.0 / float(np.sqrt(abs(np.linalg.det(affine[:, :2]))))


def restore_detail(warped_face: np.ndarray, original: np.ndarray, weight: np.ndarray, k: float) -> np.ndarray:
    """``warped_face`` (H, W, 3) uint8 plus ``weight`` (H, W, 0..1) times the fine detail of ``original``
    (the same frame region before the swap): the part of it finer than DETAIL_SIGMA aligned pixels when one
    aligned pixel spans ``k`` frame pixels. Returns uint8. Below k = 1.2 the aligned crop holds about all
    the frame's detail: no change."""
    if k < 1.2 or not (weight > 0).any():
        return warped_face
    src = original.astype(np.float32)
    high = src - cv2.GaussianBlur(src, (0, 0), DETAIL_SIGMA * k)
    out = warped_face.astype(np.float32) + high * weight[..., None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def paste_face(
    frame: np.ndarray,
    face: np.ndarray,
    mask: np.ndarray,
    affine: np.ndarray,
    blender: Blender,
    detail: tuple[np.ndarray, float] | None = None,
) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """Blend the aligned BGR uint8 ``face`` (S, S, 3) under its aligned float32 ``mask`` (S, S, 0..1) into
    ``frame`` (H, W, 3) in place. ``detail``: an aligned (S, S) 0..1 map and an amount; where the map is set
    the frame's own fine grain is restored under the face (see :func:`restore_detail`). Returns the frame
    region (x0, y0, x1, y1) and the float32 mask used there (None when the face lies outside the frame)."""
    size = face.shape[0]
    # Only where the mask is set (the aligned square's corners are mostly background: at 1080p the paste was
    # the slowest step of a frame), grown by a pixel for the interpolation and by the detail blur's reach.
    bx, by, bw, bh = cv2.boundingRect((mask > 0).astype(np.uint8))
    box = (int(bx), int(by), int(bw), int(bh))
    if bw == 0 or bh == 0:
        return None
    k = frame_px_per_aligned_px(affine)
    region = face_region(
        affine, size, frame.shape, _grow(box, 1, size), 2 + int(np.ceil(3 * DETAIL_SIGMA * k))
    )
    if region is None:
        return None
    x0, y0, x1, y1 = region
    warped_face = warp_to_frame(face, affine, region, cv2.INTER_CUBIC, cv2.BORDER_REPLICATE)
    warped_mask = np.clip(warp_to_frame(mask, affine, region, cv2.INTER_LINEAR), 0.0, 1.0)
    if detail is not None and detail[1] > 0:
        weight = np.clip(warp_to_frame(detail[0], affine, region, cv2.INTER_LINEAR), 0.0, 1.0) * detail[1]
        warped_face = restore_detail(warped_face, frame[y0:y1, x0:x1], weight, k)
    frame[y0:y1, x0:x1] = blender.blend(frame[y0:y1, x0:x1], warped_face, warped_mask)
    return region, warped_mask


def _grow(box: tuple[int, int, int, int], by: int, size: int) -> tuple[int, int, int, int]:
    """(x, y, w, h) grown by ``by`` pixels on every side, within the (size x size) square."""
    x, y, w, h = box
    x0, y0 = max(0, x - by), max(0, y - by)
    return x0, y0, min(size, x + w + by) - x0, min(size, y + h + by) - y0
