"""Expression detail from the driver's shading: expression ratio images (Liu, Shan and Zhang, 2001).

Geometry moves a portrait's features but cannot draw the creases an expression makes: forehead lines
when the brows rise, the fold beside a smile, the furrow of a frown. The driving video has them. For each
output frame the driver's face is sampled at the output's geometry twice, once from the driving frame and
once from its reference frame (the same mesh triangles, so both land on the portrait's features); the
ratio of the two luminances is the shading the expression added or took away, with the driver's own skin
tone, moles and lighting divided out. Multiplied into the output's skin, it darkens where the driver's
skin creased and lightens where it stretched.

Only skin takes part: triangles touching the eyes, brows, lips or irises are left out (a lid or a lip a
pixel off would print as a halo, not a crease), and so are triangles the driver has turned away, pixels
the face parser does not see as bare skin in the driver's reference frame (glasses frames, a fringe) and
ratios too large for a crease (hair or a hand coming or going). The ratio is lightly smoothed, clipped,
and its broad average over the face (the light on the driver changing) is taken out, so a mis-tracked
frame cannot paint more than a soft shadow and the portrait keeps its own lighting. Everything here is
pure (arrays in, arrays out); it runs on the warp's own triangle map at the field's resolution, about 2 ms
a frame at 512 x 512.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facecraft.animate.geometry import face_width
from facecraft.animate.warp import FaceCover
from facecraft.face import regions
from facecraft.imaging import masked_average

RATIO_LIMITS = (0.7, 1.3)
"""The ratio is clipped here: a crease darkens skin by up to 30 % and a stretch lightens it as much."""
GAIN_LIMITS = (0.5, 1.5)
"""Whatever the expression scale, skin is never darkened or lightened by more than this."""
DARK_FLOOR = 12.0
"""Grey levels added to both luminances before dividing, so dark or noisy pixels give ratios near 1."""
SMOOTH = 0.008
"""The driver's luminance is blurred by a Gaussian of this share of its face width before sampling (noise,
compression blocks and pores are not expression)."""
OCCLUSION = (0.55, 1.6)
"""Raw ratios outside this range are occlusions coming or going (hair, a hand, a glasses reflection)."""
RATIO_SMOOTH = 0.006
"""The ratio is averaged over a Gaussian of this share of the face width (no triangle facets)."""
LIGHTING = 0.15
"""Changes broader than a Gaussian of this share of the face width are lighting, not expression: removed."""
FEATHER = 0.04
"""The shading fades in over this share of the face width inside the edge of the skin it may shade."""
EXCLUDED = ("left_eye", "right_eye", "left_eyebrow", "right_eyebrow", "lips_outer", "left_iris", "right_iris")
"""Regions whose triangles never take shading (see the module docstring)."""


def skin_triangles(triangles: np.ndarray) -> np.ndarray:
    """(T,) bool: the triangle has no corner on an eye, brow, lip or iris (see EXCLUDED)."""
    excluded = np.zeros(478, bool)
    for name in EXCLUDED:
        excluded[list(regions.region(name))] = True
    inner = list(regions.region("lips_inner"))
    excluded[inner] = True
    return ~excluded[np.asarray(triangles)].any(axis=1)


def face_box(landmarks: np.ndarray, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): the mesh's box with a margin of 8 px, inside an image of ``shape`` (h, w, ...)."""
    pts = np.asarray(landmarks, np.float64)[:, :2]
    h, w = shape[:2]
    x0, y0 = np.floor(pts.min(0) - 8).astype(int)
    x1, y1 = np.ceil(pts.max(0) + 8).astype(int)
    x0, y0 = max(0, int(x0)), max(0, int(y0))
    return x0, y0, max(x0 + 1, min(w, int(x1))), max(y0 + 1, min(h, int(y1)))


def driver_face(image: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(luminance, mesh) of a driving frame's face: its grey levels (float32) in :func:`face_box`, blurred
    by SMOOTH face widths, and its mesh (478, 2) in that crop's pixels."""
    x0, y0, x1, y1 = face_box(landmarks, image.shape)
    crop = image[y0:y1, x0:x1]
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    sigma = max(0.5, SMOOTH * face_width(np.asarray(landmarks, np.float64)))
    pts = np.asarray(landmarks, np.float64)[:, :2] - (x0, y0)
    return cv2.GaussianBlur(grey.astype(np.float32), (0, 0), sigma), pts


def rest_inverses(
    landmarks: np.ndarray, triangles: np.ndarray, valid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(indices of the ``valid`` triangles that are not degenerate in the portrait's mesh (478, >=2), the
    inverses (n, 3, 3) of their corner matrices [x y 1]): computed once per portrait for :func:`_maps`."""
    idx = np.flatnonzero(valid)
    pm = np.concatenate(
        [np.asarray(landmarks, np.float64)[triangles[idx], :2], np.ones((len(idx), 3, 1))], axis=2
    )
    keep = np.abs(np.linalg.det(pm)) > 0.25
    return idx[keep], np.linalg.inv(pm[keep])


def _maps(
    cover: FaceCover, sources: tuple[np.ndarray, ...], rest: tuple[np.ndarray, np.ndarray]
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per source mesh (478, 2): (map_x, map_y, usable) for ``cv2.remap`` at every covered field pixel.

    Each field pixel samples the portrait at (source_x, source_y) of the cover; the portrait's triangle
    there maps affinely onto the source's (``rest``: :func:`rest_inverses`). Usable where the triangle
    faces the same way in both (not turned away in the source).
    """
    idx, inv = rest
    n = len(cover.triangles) + 1
    coef = np.zeros((n, 6 * len(sources)), np.float32)
    usable = np.zeros((n, len(sources)), bool)
    for k, src in enumerate(sources):
        s = src[cover.triangles[idx]]
        aff = inv @ s  # [x y 1] (portrait) @ aff = source (x, y)
        ok = np.linalg.det(aff[:, :2, :]) > 0  # the portrait's orientation kept
        coef[idx[ok], 6 * k : 6 * k + 6] = aff[ok].reshape(-1, 6)
        usable[idx[ok], k] = True
    c = coef[cover.ids]  # one gather for every source
    px, py = cover.source_x[..., None], cover.source_y[..., None]
    mx = px * c[..., 0::6] + py * c[..., 2::6] + c[..., 4::6]
    my = px * c[..., 1::6] + py * c[..., 3::6] + c[..., 5::6]
    use = usable[cover.ids]
    return [(mx[..., k], my[..., k], use[..., k]) for k in range(len(sources))]


def _remap(image: np.ndarray, maps: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    return cv2.remap(image, maps[0], maps[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def ratio_field(
    cover: FaceCover,
    rest: tuple[np.ndarray, np.ndarray],
    current: tuple[np.ndarray, np.ndarray],
    reference: tuple[np.ndarray, np.ndarray],
    face_width_px: float,
    reference_skin: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(ratio, weight) on the field pixels of ``cover.roi``: the driver's luminance now over at its
    reference, both sampled where the output's face shows the portrait's skin triangles (``rest``, from
    :func:`rest_inverses` with :func:`skin_triangles`), and how much of it to apply (0..1: where both
    driver frames show that skin, feathered over FEATHER of ``face_width_px``, the output face's width in
    field pixels).

    ``current``/``reference``: the driver's face in the current and the reference frame, from
    :func:`driver_face`. ``reference_skin``: 0..1 per pixel of the reference's crop, where it is bare skin
    (from :func:`facecraft.animate.layers.skin_map`; glasses frames, hair and hands are 0). Ratios beyond OCCLUSION are a lock of hair
    or a hand coming or going, not a crease: left out.
    """
    now_maps, ref_maps = _maps(cover, (current[1], reference[1]), rest)
    raw = (_remap(current[0], now_maps) + DARK_FLOOR) / (_remap(reference[0], ref_maps) + DARK_FLOOR)
    mask = (now_maps[2] & ref_maps[2]).astype(np.float32)
    k = max(1, round(FEATHER * face_width_px))
    occluded = ((raw < OCCLUSION[0]) | (raw > OCCLUSION[1])).astype(np.uint8)
    mask *= 1.0 - cv2.dilate(occluded, np.ones((2 * k + 1, 2 * k + 1), np.uint8)).astype(np.float32)
    if reference_skin is not None:
        mask *= _remap(reference_skin, ref_maps)
    # Normalised smoothing: the ratio of each pixel is an average over the usable pixels around it, so the
    # triangle-wise sampling does not print facets.
    ratio = np.clip(raw, *RATIO_LIMITS).astype(np.float32)
    change = masked_average(ratio - 1.0, mask, max(0.7, RATIO_SMOOTH * face_width_px))[0]
    # What changes over the whole face at once is the light on the driver (a step towards the window), not
    # an expression: the ratio's broad average is taken out, so the portrait keeps its own lighting.
    level = masked_average(change, mask, max(1.0, LIGHTING * face_width_px))[0]
    ratio = (1.0 + change - level).astype(np.float32)
    inner = cv2.erode((mask > 0.5).astype(np.float32), np.ones((2 * k + 1, 2 * k + 1), np.uint8))
    weight = cv2.GaussianBlur(inner, (0, 0), k) * np.clip(mask, 0.0, 1.0)
    return ratio, weight.astype(np.float32)


def apply_ratio(
    frame: np.ndarray, ratio: np.ndarray, weight: np.ndarray, roi: tuple[slice, slice], field_to_output: float
) -> np.ndarray:
    """``frame`` (BGR uint8) with its pixels under the field's ``roi`` multiplied by
    1 + weight x (ratio - 1) (``weight`` may exceed 1 for a stronger expression; the gain stays within
    GAIN_LIMITS), upsampled from the field (``field_to_output`` output pixels per field pixel)."""
    ys, xs = roi
    h, w = frame.shape[:2]
    y0, y1 = round(ys.start * field_to_output), min(h, round(ys.stop * field_to_output))
    x0, x1 = round(xs.start * field_to_output), min(w, round(xs.stop * field_to_output))
    if y1 <= y0 or x1 <= x0:
        return frame
    field_gain = np.clip(1.0 + weight * (ratio - 1.0), *GAIN_LIMITS).astype(np.float32)
    gain = cv2.resize(field_gain, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    out = frame.copy()
    patch = out[y0:y1, x0:x1].astype(np.float32)
    out[y0:y1, x0:x1] = cv2.multiply(patch, cv2.merge([gain, gain, gain]), dtype=cv2.CV_8U)  # rounded
    return out


@dataclass(frozen=True)
class ExpressionShading:
    """What one portrait and one driving reference need, prepared once: the reference's face
    (:func:`driver_face`) and bare skin (``skin``, from :func:`facecraft.animate.layers.skin_map`), the
    portrait's skin triangles (:func:`rest_inverses`), the output face's width in field pixels and the
    output pixels per field pixel."""

    reference: tuple[np.ndarray, np.ndarray]
    skin: np.ndarray | None
    rest: tuple[np.ndarray, np.ndarray]
    face_width_px: float
    field_to_output: float

    @classmethod
    def prepare(
        cls,
        reference: tuple[np.ndarray, np.ndarray],
        skin: np.ndarray | None,
        portrait_landmarks: np.ndarray,
        triangles: np.ndarray,
        field_to_output: float,
    ) -> ExpressionShading:
        """``reference``: (driving reference frame BGR, its mesh); ``triangles``: the warp's, whose field has
        one pixel per ``field_to_output`` output pixels."""
        rest = rest_inverses(portrait_landmarks, triangles, skin_triangles(triangles))
        width = face_width(np.asarray(portrait_landmarks, np.float64)) / field_to_output
        return cls(driver_face(*reference), skin, rest, width, field_to_output)

    def apply(
        self, frame: np.ndarray, cover: FaceCover, image: np.ndarray, landmarks: np.ndarray, scale: float
    ) -> np.ndarray:
        """``frame`` (the warped portrait, BGR uint8) shaded by the driving frame ``image`` with its mesh
        ``landmarks``; ``scale`` multiplies the creases (--expression-scale)."""
        ratio, weight = ratio_field(
            cover, self.rest, driver_face(image, landmarks), self.reference, self.face_width_px, self.skin
        )
        return apply_ratio(frame, ratio, weight * scale, cover.roi, self.field_to_output)
