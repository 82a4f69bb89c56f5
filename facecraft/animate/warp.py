"""Dense backward warp of the portrait from its mesh points to their target positions.

Inside the face: a piecewise-affine map over a fixed triangulation of the portrait's mesh (sharp,
exact at every mesh point). Outside: a thin-plate spline through the face outline and rings around
the head (hair, ears, neck). With ``layered`` (a head layer over a background plate, see
facecraft.animate.layers) the rings move with the head as one rigid 3D body (each ring point at a depth
between the face outline and the skull's equator), fading out below the chin so the shoulders stay; the
background never moves because it comes from the plate. Without layers the rings follow the head only
partly and the image border stays put, so the background bends instead of tearing.

The map is computed at a reduced resolution (``field_scale``), upsampled, and applied once with
``cv2.remap`` on the full-resolution portrait, so the output stays sharp.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np
from scipy.spatial import Delaunay

from facecraft.animate.geometry import STABLE_POINTS, face_width, head_pivot, similarity_3d
from facecraft.face import regions
from facecraft.face.align import umeyama

IRIS_FIRST = 468  # mesh points from here on are the two irises
RING_OUTLINE_SHARE = 0.75  # measured: 0 -> 1 raised self-reenactment SSIM 0.715 -> 0.735 (woman clip)
_TPS_GRID = 48  # the smooth outer field is evaluated on this many points per side, then upsampled
_SOURCE_MARGIN = 2.0  # field pixels: how far past its source triangle's box a triangle's pixel may sample


@dataclass(frozen=True)
class Neck:
    """How much of the head's motion each portrait pixel takes (0..1), on the field's grid: all of it on
    the head, easing to none over the neck, ``length`` pixels below the head, where it meets the clothes.
    The neck (the parser's, and the skin under the jaw of the lower face) eases from the jaw line, the rest
    (hair, ears) from the chin's row, so a lowered head hides its neck behind the jaw, a turned one does not
    tear its neck from the collar, and long hair beside the face moves with it."""

    share: np.ndarray  # (Hf, Wf) float32
    scale: tuple[float, float]  # field pixels per portrait pixel (x, y)
    length: float

    @cached_property
    def rows(self) -> tuple[float, float]:
        """Portrait rows (top, bottom): above ``top`` every pixel takes the whole motion, below ``bottom``
        none of it."""
        step = 1.0 / self.scale[1]
        less = np.nonzero((self.share < 1.0).any(axis=1))[0]  # no such row: all of the image is head
        some = np.nonzero((self.share > 0.0).any(axis=1))[0]  # no such row: all of it is body
        top = float(less[0] - 1) * step if len(less) else np.inf
        bottom = float(some[-1] + 2) * step if len(some) else -np.inf
        return top, bottom

    def fade(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The share of portrait pixels (x, y) (any shape, portrait pixels)."""
        fx = (np.asarray(x, np.float32) + 0.5) * self.scale[0] - 0.5
        fy = (np.asarray(y, np.float32) + 0.5) * self.scale[1] - 0.5
        shape, n = fx.shape, fx.size
        if n == 0:
            return fx
        if fx.ndim != 2 or max(shape) >= 32767:  # cv2.remap wants a 2-D map under 32767 a side
            cols = 1024
            rows = -(-n // cols)
            fx = np.resize(fx.ravel(), rows * cols).reshape(rows, cols)
            fy = np.resize(fy.ravel(), rows * cols).reshape(rows, cols)
        out = cv2.remap(self.share, fx, fy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return out.ravel()[:n].reshape(shape)


@dataclass(frozen=True)
class WarpLayout:
    """Everything about the warp that depends only on the portrait (computed once)."""

    size: tuple[int, int]  # (width, height) of the output
    field_size: tuple[int, int]  # (width, height) of the field grid
    triangles: np.ndarray  # (T, 3) mesh point indices
    oval: np.ndarray  # (K,) face outline point indices
    rings: np.ndarray  # (R, 2) portrait pixels of points around the head
    ring_weight: np.ndarray  # (R,) how much each ring point follows the head (0..1)
    ring_parent: np.ndarray  # (R,) the face outline point each ring point was grown from
    ring_depth: np.ndarray  # (R,) z of each ring point (portrait pixels; the skull curves back from the face)
    layered: bool  # rings move rigidly with the head (a head layer over a plate); else partly, border pinned
    neck: Neck | None  # where the head's motion fades out below it (layered); None: no fade
    iris_triangle: np.ndarray  # (T,) bool: the triangle has an iris point
    tps_weights: (
        np.ndarray
    )  # (G*G, K+R+B) displacement at the coarse grid = tps_weights @ control displacement
    grid_x: np.ndarray  # (Hf, Wf) field pixel centres in output pixels
    grid_y: np.ndarray


@dataclass(frozen=True)
class FaceCover:
    """Which mesh triangle covers each pixel of the warp field around the face: ``ids`` (h, w) int32 of
    indices into ``triangles`` (len(triangles) where none), for the field pixels ``roi`` (row and column
    slices); ``source_x``/``source_y`` (same shape): where each samples the portrait, by its triangle."""

    ids: np.ndarray
    roi: tuple[slice, slice]
    source_x: np.ndarray
    source_y: np.ndarray
    triangles: np.ndarray


def build_layout(
    landmarks: np.ndarray,
    size: tuple[int, int],
    field_scale: float = 0.5,
    layered: bool = False,
    neck_length: float = 0.8,
    neck_mask: np.ndarray | None = None,
) -> WarpLayout:
    """Precompute the triangulation and the outer thin-plate spline for a portrait mesh (478, 3) of
    an output image of ``size`` (width, height) pixels. ``layered``: see the module docstring.
    ``neck_length``: face widths below the chin where the head's motion has faded out (the body is still);
    ``neck_mask``: the parser's (H, W) bool neck, which fades from the jaw line (see :class:`Neck`)."""
    w, h = size
    lm = np.asarray(landmarks, np.float64)
    if lm.shape[1] == 2:
        lm = np.c_[lm, np.zeros(len(lm))]
    pts = lm[:, :2]
    oval = np.array(regions.region("face_oval"), np.int32)
    triangles = _face_triangles(pts, oval)
    rings, weights, parents, depth = _head_rings(lm, oval, layered)
    margin = 0.04 * max(w, h)
    if layered:  # rings may reach past the image: the plate, not the field, keeps the edge still
        margin = -0.25 * max(w, h)
    inside = (rings[:, 0] > margin) & (rings[:, 0] < w - 1 - margin)
    inside &= (rings[:, 1] > margin) & (rings[:, 1] < h - 1 - margin)
    rings, weights, parents, depth = rings[inside], weights[inside], parents[inside], depth[inside]
    n = 9
    tx, ty = np.linspace(0, w - 1, n), np.linspace(0, h - 1, n)
    border = np.concatenate(
        [
            np.c_[tx, np.zeros(n)],
            np.c_[tx, np.full(n, h - 1)],
            np.c_[np.zeros(n - 2), ty[1:-1]],
            np.c_[np.full(n - 2, w - 1), ty[1:-1]],
        ]
    )
    if layered:
        border = np.zeros((0, 2))
    ctrl = np.concatenate([pts[oval], rings, border])
    cx = (np.arange(_TPS_GRID) + 0.5) * (w / _TPS_GRID) - 0.5
    cy = (np.arange(_TPS_GRID) + 0.5) * (h / _TPS_GRID) - 0.5
    qx, qy = np.meshgrid(cx, cy)
    fwid, fhei = max(8, round(w * field_scale)), max(8, round(h * field_scale))
    gx = (np.arange(fwid) + 0.5) * (w / fwid) - 0.5
    gy = (np.arange(fhei) + 0.5) * (h / fhei) - 0.5
    grid_x, grid_y = np.meshgrid(gx, gy)
    neck = _neck(lm, oval, (grid_x, grid_y), (w, h), neck_length, neck_mask) if layered else None
    return WarpLayout(
        (w, h),
        (fwid, fhei),
        triangles,
        oval,
        rings,
        weights,
        parents,
        depth,
        layered,
        neck,
        np.asarray((triangles >= IRIS_FIRST).any(axis=1), bool),
        thin_plate_weights(ctrl, np.c_[qx.ravel(), qy.ravel()], span=float(max(w, h))),
        grid_x.astype(np.float32),
        grid_y.astype(np.float32),
    )


def _neck(
    lm: np.ndarray,
    oval: np.ndarray,
    grid: tuple[np.ndarray, np.ndarray],
    size: tuple[int, int],
    neck_length: float,
    neck: np.ndarray | None,
) -> Neck:
    """The :class:`Neck` of a portrait mesh on the field's ``grid`` (x, y of each field pixel); ``neck``:
    the parser's (H, W) bool neck of the portrait, or None (then only the skin under the jaw is neck)."""
    w, h = size
    gx, gy = grid
    length = max(neck_length, 0.1) * face_width(lm)

    def ease(top: np.ndarray) -> np.ndarray:
        f = np.clip(1.0 - (gy - top) / length, 0.0, 1.0)
        return f * f * (3 - 2 * f)

    chin = float(lm[regions.CHIN, 1])
    share = ease(np.full((1, 1), chin, np.float32))
    face = np.zeros((h, w), np.uint8)
    cv2.fillPoly(face, [np.round(lm[oval, :2]).astype(np.int32)], 1)
    has = face.any(axis=0)
    jaw = np.where(has, h - 1 - np.argmax(face[::-1], axis=0), chin).astype(np.float32)
    # The neck: the parser's, and whatever lies under the jaw of the lower face down to the clothes (the
    # parser often calls a neck skin: then it moved with the head and a turn tore it from the collar).
    rows = np.arange(h, dtype=np.float32)[:, None]
    lower = has & (jaw > lm[regions.UPPER_LIP_INNER, 1])
    under_jaw = lower[None, :] & (rows > jaw[None, :]) & (rows < chin + length)
    on_neck = under_jaw if neck is None else under_jaw | neck
    cols = np.clip(np.round(gx[0]).astype(int), 0, w - 1)
    fh, fw = gx.shape
    blend = cv2.resize(on_neck.astype(np.float32), (fw, fh), interpolation=cv2.INTER_AREA)
    blend = cv2.GaussianBlur(blend, (0, 0), max(1.0, 0.015 * max(fw, fh)))  # no tear at its edge
    share = blend * ease(jaw[cols][None, :]) + (1.0 - blend) * share
    return Neck(share.astype(np.float32), (gx.shape[1] / w, gx.shape[0] / h), length)


def _face_triangles(pts: np.ndarray, oval: np.ndarray) -> np.ndarray:
    """Delaunay triangles of the mesh points that lie inside the face outline (the slivers Delaunay adds
    across concave stretches of the outline would fold when the head turns)."""
    triangles = Delaunay(pts).simplices.astype(np.int32)
    outline = pts[oval].astype(np.float32).reshape(-1, 1, 2)
    centres = pts[triangles].mean(1)
    inside = [cv2.pointPolygonTest(outline, (float(x), float(y)), False) >= 0 for x, y in centres]
    return triangles[np.array(inside, bool)]


def _head_rings(
    lm: np.ndarray, oval: np.ndarray, layered: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Points on rings around the face (hair, ears, neck): positions, how much each follows the head, the
    outline point each was grown from, and its depth."""
    pts = lm[:, :2]
    fw = face_width(lm)
    centre = pts[list(STABLE_POINTS)].mean(0)
    pivot_z = float(head_pivot(lm)[2])
    rings, weights, depths = [], [], []
    # Without layers, measured by self-reenactment: hair close to the face moves with the head, the
    # background further out mostly stays (rings that followed further out moved the background, SSIM fell).
    grows: tuple[tuple[float, float], ...] = ((1.15, 1.0), (1.45, 0.55), (1.9, 0.2))
    if layered:
        grows = ((1.15, 1.0), (1.45, 1.0), (1.9, 1.0), (2.6, 1.0))
    for grow, weight in grows:
        ring = centre + (pts[oval[::2]] - centre) * grow
        if layered:  # the whole head moves; how much of that reaches the neck: see attachment()
            weights.append(np.full(len(ring), weight))
        else:  # neck and shoulders follow the head less
            below = (ring[:, 1] - pts[regions.CHIN, 1]) / fw
            weights.append(weight * np.clip(1.0 - 0.9 * below, 0.15, 1.0))
        rings.append(ring)
        # Hair next to the face moves with the outline it grows from; further out the skull curves back
        # to its equator (the pivot's depth), never in front of the outline point.
        t = min(1.0, max(0.0, (grow - 1.15) / 0.75))
        outline_z = lm[oval[::2], 2]
        depths.append(np.maximum(outline_z, outline_z + t * (pivot_z - outline_z)))
    parents = np.tile(oval[::2], len(rings))
    return np.concatenate(rings), np.concatenate(weights), parents, np.concatenate(depths)


def _tps_kernel(r2: np.ndarray) -> np.ndarray:
    return np.where(r2 > 1e-12, r2 * np.log(np.maximum(r2, 1e-12)), 0.0) * 0.5


def thin_plate_weights(ctrl: np.ndarray, query: np.ndarray, span: float, smooth: float = 1e-4) -> np.ndarray:
    """(M, N) matrix W such that W @ values interpolates per-control-point ``values`` (N, ...) at ``query``
    (M, 2) with a (lightly regularised) thin-plate spline through the control points ``ctrl`` (N, 2)."""
    c, q = ctrl / span, query / span
    n = len(c)
    a = np.zeros((n + 3, n + 3))
    a[:n, :n] = _tps_kernel(((c[:, None] - c[None]) ** 2).sum(-1)) + smooth * np.eye(n)
    a[:n, n:] = np.c_[np.ones(n), c]
    a[n:, :n] = a[:n, n:].T
    basis = np.c_[_tps_kernel(((q[:, None] - c[None]) ** 2).sum(-1)), np.ones(len(q)), q]
    return np.linalg.solve(a.T, basis.T).T[:, :n]


def _outer_field(layout: WarpLayout, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smooth backward map (source x, y at every field pixel) from the outline, rings and border.

    The spline interpolates the forward displacement over the portrait; the backward map is found by a
    few fixed-point steps b = x - f(b), sampling f with remap.
    """
    moved = _ring_targets(layout, src, dst)
    n_border = layout.tps_weights.shape[1] - len(layout.oval) - len(layout.rings)
    disp = np.concatenate(
        [
            dst[layout.oval, :2] - src[layout.oval, :2],
            layout.ring_weight[:, None] * (moved - layout.rings),
            np.zeros((n_border, 2)),
        ]
    )
    fwd = (layout.tps_weights @ disp).astype(np.float32).reshape(_TPS_GRID, _TPS_GRID, 2)
    fw, fh = layout.field_size
    w, h = layout.size
    fwd = cv2.resize(fwd, (fw, fh), interpolation=cv2.INTER_LINEAR)
    gx, gy = layout.grid_x, layout.grid_y
    bx, by = gx - fwd[..., 0], gy - fwd[..., 1]
    for _ in range(2):
        f = cv2.remap(
            fwd,
            (bx + 0.5) * (fw / w) - 0.5,
            (by + 0.5) * (fh / h) - 0.5,
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        bx, by = gx - f[..., 0], gy - f[..., 1]
    return bx, by


def _ring_targets(layout: WarpLayout, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Where the ring points go (R, 2) for mesh points ``src`` -> ``dst`` (478, 3)."""
    idx = list(STABLE_POINTS)
    if layout.layered:
        # One rigid 3D motion for the whole head: hair and ears turn with the skull, no shear against the face.
        s, rot, t = similarity_3d(src[idx], dst[idx])
        ring3 = np.c_[layout.rings, layout.ring_depth]
        return (s * ring3 @ rot.T + t)[:, :2]
    head = umeyama(src[idx, :2], dst[idx, :2])  # the head's in-plane motion
    # Half the head's in-plane motion, half the motion of the nearest outline point: ears and hair follow
    # the face edge when the head turns (foreshortening), and the whole head when it tilts or shifts.
    outline = dst[layout.ring_parent, :2] - src[layout.ring_parent, :2]
    return (
        layout.rings
        + RING_OUTLINE_SHARE * outline
        + (1 - RING_OUTLINE_SHARE) * (layout.rings @ head[:, :2].T + head[:, 2] - layout.rings)
    )


def _field_roi(layout: WarpLayout, dst: np.ndarray) -> tuple[slice, slice]:
    fw, fh = layout.field_size
    w, h = layout.size
    lo = np.floor((dst.min(0) + 0.5) * (fw / w, fh / h) - 2).astype(int)
    hi = np.ceil((dst.max(0) + 0.5) * (fw / w, fh / h) + 2).astype(int)
    x0, y0 = np.clip(lo, 0, (fw, fh))
    x1, y1 = np.clip(hi, 0, (fw, fh))
    return slice(int(y0), int(y1)), slice(int(x0), int(x1))


def _face_field(
    layout: WarpLayout, src: np.ndarray, dst: np.ndarray, depth: np.ndarray, roi: tuple[slice, slice]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Piecewise-affine backward map over the mesh triangles inside ``roi`` of the field:
    (map_x, map_y, triangle index per pixel (len(triangles) where none)). ``depth``: (478,) target z of the
    points (larger = farther)."""
    w, h = layout.size
    fw, fh = layout.field_size
    ys, xs = roi
    tri = layout.triangles
    d, s = dst[tri], src[tri]  # (T, 3, 2) target and source corners
    det = _twice_area(d)
    # Skip triangles squashed to nothing (closed lids, lips) and irises turned over under a closing lid.
    front = np.sign(det) == np.sign(_twice_area(s))
    ok = (np.abs(det) > 0.25) & (front | ~layout.iris_triangle)
    coef = np.zeros((len(tri) + 1, 6))
    coef[:-1][ok] = _affine_coefficients(d[ok], s[ok], det[ok])
    ids = np.full((ys.stop - ys.start, xs.stop - xs.start), -1, np.int32)
    fx = (d[..., 0] + 0.5) * (fw / w) - 0.5 - xs.start
    fy = (d[..., 1] + 0.5) * (fh / h) - 0.5 - ys.start
    corners = np.round(np.stack([fx, fy], -1) * 16).astype(np.int32)
    # Painter's algorithm: turned-over (back-facing) triangles first, then far to near, so in a strong turn
    # the near side of the face covers the folded far side instead of tearing.
    far = depth[tri].mean(1)
    order = np.lexsort((-far, front))
    drawn = order[ok[order]]
    for poly, t in zip(corners[drawn], drawn.tolist(), strict=True):
        cv2.fillConvexPoly(ids, poly, t, cv2.LINE_8, 4)
    # Triangles squashed flat (closed lids, closed lips) leave pixel-wide cracks: give each crack pixel
    # its neighbour's triangle, so the crack does not show the portrait's open eye through it.
    grown = cv2.dilate(ids.astype(np.float32), np.ones((3, 3), np.uint8), iterations=1).astype(np.int32)
    ids = np.where(ids < 0, grown, ids)
    ids[ids < 0] = len(tri)
    gx, gy = layout.grid_x[roi], layout.grid_y[roi]
    mx = gx * coef[ids, 0] + gy * coef[ids, 2] + coef[ids, 4]
    my = gx * coef[ids, 1] + gy * coef[ids, 3] + coef[ids, 5]
    # A triangle turned nearly edge-on (the far cheek in a head turn) has a huge affine map: a pixel half a
    # pixel off its sliver sampled the portrait tens of pixels away (a patch of forehead in the hair). Each
    # pixel samples within its source triangle's box.
    lo = np.full((len(tri) + 1, 2), -np.inf)
    hi = np.full((len(tri) + 1, 2), np.inf)
    margin = _SOURCE_MARGIN * w / fw
    lo[:-1], hi[:-1] = s.min(1) - margin, s.max(1) + margin
    mx = np.clip(mx, lo[ids, 0], hi[ids, 0])
    my = np.clip(my, lo[ids, 1], hi[ids, 1])
    return mx.astype(np.float32), my.astype(np.float32), ids


def _twice_area(corners: np.ndarray) -> np.ndarray:
    """(T,) signed twice-areas of triangles (T, 3, 2): the determinant of [x y 1] of their corners."""
    e1, e2 = corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]
    return e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]


def _affine_coefficients(dst: np.ndarray, src: np.ndarray, det: np.ndarray) -> np.ndarray:
    """(T, 6) affine maps of triangles ``dst`` onto ``src`` (T, 3, 2), ``det`` their :func:`_twice_area`
    (non-zero), laid out as [x y 1] @ reshape(3, 2) = source (x, y): (ax, ay, bx, by, cx, cy)."""
    e1, e2 = dst[:, 1] - dst[:, 0], dst[:, 2] - dst[:, 0]
    f1, f2 = src[:, 1] - src[:, 0], src[:, 2] - src[:, 0]
    inv = 1.0 / det[:, None]
    a = (e2[:, 1:2] * f1 - e1[:, 1:2] * f2) * inv  # d source / d x
    b = (e1[:, 0:1] * f2 - e2[:, 0:1] * f1) * inv  # d source / d y
    c = src[:, 0] - dst[:, 0, 0:1] * a - dst[:, 0, 1:2] * b
    return np.concatenate([a, b, c], axis=1)


def backward_map(
    layout: WarpLayout, src: np.ndarray, dst: np.ndarray, feather: float = 0.04
) -> tuple[np.ndarray, np.ndarray]:
    """Full-resolution (map_x, map_y) for ``cv2.remap``: for each output pixel, where to sample the portrait.

    src, dst: (478, >=2) portrait mesh points and their target positions, in output pixels.
    ``feather``: width of the band (in face widths) over which the face map hands over to the outer one.
    """
    map_x, map_y, _ = backward_map_and_cover(layout, src, dst, feather)
    return map_x, map_y


def backward_map_and_cover(
    layout: WarpLayout, src: np.ndarray, dst: np.ndarray, feather: float = 0.04
) -> tuple[np.ndarray, np.ndarray, FaceCover]:
    """:func:`backward_map` and the :class:`FaceCover` of the output's face (which triangle is where)."""
    src3 = _with_depth(src)
    dst3 = _with_depth(dst)
    src2, dst2 = src3[:, :2], dst3[:, :2]
    mx, my = _outer_field(layout, src3, dst3)
    roi = _field_roi(layout, dst2)
    depth = np.asarray(dst[:, 2], np.float64) if dst.shape[1] > 2 else np.zeros(len(dst))
    fx, fy, ids = _face_field(layout, src2, dst2, depth, roi)
    covered = ids < len(layout.triangles)
    if covered.any():
        fw_px = face_width(np.c_[dst2, np.zeros(len(dst2))])
        k = max(round(feather * fw_px * layout.field_size[0] / layout.size[0]), 1)
        inner = cv2.erode(covered.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(np.float32)
        alpha = cv2.GaussianBlur(inner, (2 * k + 1, 2 * k + 1), 0) * inner
        mx[roi] += alpha * (fx - mx[roi])
        my[roi] += alpha * (fy - my[roi])
    # Upsample the displacement, not the map: it is near-constant at the image edge, where resizing clamps.
    w, h = layout.size
    full_x = np.arange(w, dtype=np.float32)[None, :]
    full_y = np.arange(h, dtype=np.float32)[:, None]
    ddx, ddy = mx - layout.grid_x, my - layout.grid_y
    if layout.neck is not None:
        share = attachment(layout.grid_x, layout.grid_y, ddx, ddy, layout.neck)
        ddx, ddy = ddx * share, ddy * share
    dx = cv2.resize(ddx, (w, h), interpolation=cv2.INTER_LINEAR)
    dy = cv2.resize(ddy, (w, h), interpolation=cv2.INTER_LINEAR)
    cover = FaceCover(ids, roi, fx, fy, layout.triangles)
    return dx + full_x, dy + full_y, cover


def attachment(
    grid_x: np.ndarray,
    grid_y: np.ndarray,
    head_dx: np.ndarray,
    head_dy: np.ndarray,
    neck: Neck,
    steps: int = 6,
) -> np.ndarray:
    """(Hf, Wf) float32: the share of the head's backward displacement each output pixel takes.

    ``grid_x``, ``grid_y``: output pixels; ``head_dx``, ``head_dy``: the backward displacement if the pixel
    moved fully with the head. A pixel showing portrait pixel ``(x, y) + a * head_d`` must take share ``a``
    of the motion, ``a = neck.fade((x, y) + a * head_d)``: the share follows where the pixel comes from,
    not where it lands (by where it lands, a head lowered past its collar sampled sweater where its chin
    had moved: the chin was cut off and the opened mouth squashed). Where a lowered head folds over its
    neck, several shares agree: the largest wins, so the head stays in front of its neck and the clothes.
    """
    x, y = np.asarray(grid_x, np.float32), np.asarray(grid_y, np.float32)
    dx, dy = np.asarray(head_dx, np.float32), np.asarray(head_dy, np.float32)
    # Far above the neck every source is head, far below it every source is body: decided at once.
    top, bottom = neck.rows
    reach = float(np.abs(dy).max(initial=0.0)) + 1.0
    out = (y < top - reach).astype(np.float32)
    near = (y >= top - reach) & (y <= bottom + reach)
    if not near.any():
        return out
    x, y, dx, dy = x[near], y[near], dx[near], dy[near]
    full = neck.fade(x + dx, y + dy)
    # Whole head (its source is above the neck) or whole body (no part of the neck on either side): decided.
    open_ = (full < 1.0) & ((neck.fade(x, y) > 0.0) | (full > 0.0))
    x, y, dx, dy = x[open_], y[open_], dx[open_], dy[open_]
    share = np.zeros(x.shape, np.float32)
    done = np.zeros(x.shape, bool)
    prev_share, prev_gap = 1.0, full[open_] - 1.0  # the full share is inconsistent here: its gap is < 0
    for a in np.linspace(1.0, 0.0, steps + 1, dtype=np.float32)[1:]:
        # from the head down: the first share whose source takes at least as much wins; between it and the
        # previous share (gap < 0) the consistent share is where the gap crosses 0
        gap = neck.fade(x + a * dx, y + a * dy) - a
        hit = ~done & (gap >= 0)
        t = gap / np.maximum(gap - prev_gap, 1e-6)
        share[hit] = (a + t * (prev_share - a))[hit]
        done |= hit
        prev_share, prev_gap = float(a), gap
    full[open_] = share
    out[near] = full
    return out


def _with_depth(points: np.ndarray) -> np.ndarray:
    pts = np.asarray(points, np.float64)
    return pts if pts.shape[1] >= 3 else np.c_[pts, np.zeros(len(pts))]


def warp_image(image: np.ndarray, map_x: np.ndarray, map_y: np.ndarray) -> np.ndarray:
    """Sample ``image`` (BGR uint8) at the backward map."""
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
