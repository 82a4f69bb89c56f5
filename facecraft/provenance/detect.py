"""Blind detection of the watermark: no original needed, and the picture may have been scaled, rotated by a
few degrees, squashed, flipped, turned by 90 degrees or cropped.

The luma is high-passed and divided by its local contrast (the matched filter for image noise, which is
strong in texture and weak on flat areas), resampled so that one tile of the mark becomes 64x64 px, and
folded modulo the tile (summing all tiles, and all sampled frames of a video). The tile's geometry comes
from fixed candidates (the cell sizes facecraft uses, and common rescales of them) and from the lattice of
peaks that the tiling leaves in the autocorrelation (which gives rotation and squash). The fold is
circularly cross-correlated with the sync pattern in each of its 8 mirror/quarter-turn versions; the peak
over its background (a z-score) says whether a facecraft mark is there, and where its tiles start. The
code-bit correlations at that offset, decoded as soft values by Viterbi, give the payload, and its check
bits say whether the id is the one embedded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

import cv2
import numpy as np

from facecraft.errors import FacecraftError
from facecraft.provenance import coding
from facecraft.provenance.payload import checked_content_id, from_bits, legacy_content_id
from facecraft.provenance.watermark import (
    CELLS,
    IMAGE_CONFIG,
    LEGACY,
    PUBLIC,
    Scheme,
    WatermarkConfig,
    cell_patterns,
    cell_size,
    smooth_tile,
)

REF_CELL_PX = 4  # cell size of the reference grid the decoder resamples to
REF_TILE = CELLS * REF_CELL_PX
MAX_SHORT_SIDE = 1024
MIRROR_PENALTY = 1.0  # sync z-score a mirrored or turned reading must gain over the upright one
ROTATION_STEPS = (-4.5, -3.0, -1.5, 1.5, 3.0, 4.5)  # degrees tried on the sizes facecraft uses
SQUASH_STEPS = (
    0.85,
    0.92,
    1.08,
    1.15,
)  # fixed aspect changes tried on the sizes facecraft uses  # larger pictures are looked at downscaled (the mark scales with the picture)

ID_THRESHOLD = 6.5
"""Sync z-score from which a payload whose 16 check bits match is reported as the content id. Unmarked
pictures reached it in 1.8% of 10,000 samples (benchmarks/provenance_fp.py), and then match the check bits
once in 65,536: about 3e-7 per file (at most twice that with the geometry refinement's second decode)."""
SYNC_THRESHOLD = 15.5
"""Sync z-score from which a facecraft mark is reported even when its id cannot be read. The highest of
10,000 unmarked samples was 10.2 (a smooth synthetic noise texture; 8.3 on the shared photos and frames).
Exponential fits to the top 1% put 12 at about 5e-6 per file over all samples and 7e-5 over the synthetic
textures alone; 15.5 is where the synthetic textures' fit falls under 1e-6 (all samples: 2e-8). Labelled
videos score about 11 unedited (benchmarks/provenance.py) and their id is read from 6.5, so a mark of unknown
id is now rarely reported."""
LEGACY_THRESHOLD = 12.0
"""Sync z-score from which a format-1 id is reported (unconfirmed) when its 8 tag bits are facecraft's. A
random payload matches the tag once in 256: with the tail fits at 12, about 2e-8 per file over all samples
and 3e-7 over the synthetic textures alone."""


@dataclass(frozen=True)
class Detection:
    """What the decoder found.

    ``score``: the sync correlation peak in standard deviations of its background (z-score);
    ``content_id``: the id, only when its check bits match and the score reaches :data:`ID_THRESHOLD`;
    ``legacy_id``: an id in the older format without check bits (its tag matched), unconfirmed;
    ``payload``: the decoded bits as an int (check bits included); ``soft``: the code-bit correlations
    divided by the sync peak; ``period``: tile period in pixels; ``geometry``: the edit the tile was found
    under (e.g. "hflip, rotated 3.0 deg"); ``frames``: how many frames were folded.
    """

    score: float
    scheme: str
    payload: int
    content_id: int | None
    legacy_id: int | None
    period: float
    geometry: str
    frames: int
    soft: np.ndarray = field(repr=False)

    @property
    def found(self) -> bool:
        """A facecraft mark with a confirmed content id."""
        return self.content_id is not None

    @property
    def mark(self) -> bool:
        """A facecraft mark is there (its id confirmed or not)."""
        if self.found or self.score >= SYNC_THRESHOLD:
            return True
        return self.legacy_id is not None and self.score >= LEGACY_THRESHOLD


def highpass_luma(frame: np.ndarray) -> np.ndarray:
    """High-passed luma divided by its local contrast, with outliers clipped (float32, same size)."""
    luma = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    luma = luma.astype(np.float32)
    hp = luma - cv2.GaussianBlur(luma, (0, 0), 3.0)
    local = cv2.GaussianBlur(hp * hp, (0, 0), 4.0)
    return np.clip(hp / np.sqrt(local + 4.0), -3.0, 3.0)


PARTIAL_TILES = True
PARTIAL_BELOW = 0.75
"""Where the whole tiles cover less than this share of the picture (a crop rarely ends on a tile boundary:
a 10 % crop of a 524 px clip keeps 3 x 3 of its 4 x 4 tiles, 67 %), the payload is read, once the geometry
is found and sharpened (:func:`_refine`), from a fold that also sums the tiles the edges cut (see
:func:`fold`); one reading either way. Not in the search itself, nor where little is left out: an
approximate scale (a squash found to within a few percent) drifts out of phase towards the far edge, and
the cut tiles there cost more than they bring."""

PALETTE_BLUR_SIGMA = 1.5
"""Gaussian blur (px) applied to the frames of a palette file (GIF) before detection. A GIF's 256-colour
palette adds dither: a strong pixel-scale noise that swamps the local-contrast weighting. Blurring it away
recovered the mark from ffmpeg's GIF exports at 480 px (docs/responsible-use.md); on unmarked GIFs the
scores stayed in the range of the false-positive study. It replaces the unblurred reading."""
PALETTE_BLUR_WIDE = 3.0
"""The second look at a GIF whose first (:data:`PALETTE_BLUR_SIGMA`) read no id: ffmpeg's default GIF (a fixed
3-3-2 palette) of a clip with large smooth areas leaves the mark in coarser dither. Only a checked id is
taken from it, so a GIF has two chances at a wrong id instead of one (each needs the 16 check bits)."""


def undither(frame: np.ndarray, sigma: float = PALETTE_BLUR_SIGMA) -> np.ndarray:
    """``frame`` (BGR uint8 or grey) smoothed to undo a palette's dither before :func:`detect`."""
    return cv2.GaussianBlur(frame, (0, 0), sigma)


def downscale(frame: np.ndarray, short_side: int = MAX_SHORT_SIDE) -> tuple[np.ndarray, float]:
    """``frame`` shrunk (area average) so its short side is at most ``short_side``, and the factor used."""
    h, w = frame.shape[:2]
    f = min(1.0, short_side / min(h, w))
    if f >= 1.0:
        return frame, 1.0
    size = (max(1, round(w * f)), max(1, round(h * f)))
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA), f


def fold(img: np.ndarray, lin: np.ndarray, partial: bool = False) -> tuple[np.ndarray, int]:
    """Map ``img`` by the 2x2 matrix ``lin`` (picture px -> reference px, one tile = REF_TILE px), high-pass
    it and sum it modulo the tile from the top-left corner. Returns the (REF_TILE, REF_TILE) fold and how
    many whole tiles it summed. ``partial``: also sum the tiles the picture's right and bottom edges cut
    (a cropped picture rarely ends on a tile boundary; without them up to half of it is left out)."""
    h, w = img.shape
    scale = float(np.sqrt(abs(np.linalg.det(lin))))
    pre = min(1.0, 1.5 * scale)  # area-average first where the map shrinks a lot (no aliasing)
    if pre < 1.0:
        img = cv2.resize(img, (max(1, round(w * pre)), max(1, round(h * pre))), interpolation=cv2.INTER_AREA)
        lin = lin * (w / img.shape[1])
        h, w = img.shape
    if abs(lin[0, 1]) < 1e-6 and abs(lin[1, 0]) < 1e-6 and lin[0, 0] > 0 and lin[1, 1] > 0:
        nw, nh = max(REF_TILE, round(w * lin[0, 0])), max(REF_TILE, round(h * lin[1, 1]))
        out = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_LINEAR)
    else:
        corners = lin @ np.array([[0, w, 0, w], [0, 0, h, h]], np.float64)
        lo = corners.min(axis=1)
        size = np.ceil(corners.max(axis=1) - lo).astype(int)
        m = np.hstack([lin, -lo[:, None]]).astype(np.float64)
        out = cv2.warpAffine(img, m, (int(size[0]), int(size[1])), flags=cv2.INTER_LINEAR)
    out = out - cv2.GaussianBlur(out, (0, 0), 2.0 * REF_CELL_PX)
    th, tw = out.shape[0] // REF_TILE, out.shape[1] // REF_TILE
    if th == 0 or tw == 0:
        return np.zeros((REF_TILE, REF_TILE), np.float32), 0
    if partial:
        ph, pw = -(-out.shape[0] // REF_TILE), -(-out.shape[1] // REF_TILE)
        padded = np.zeros((ph * REF_TILE, pw * REF_TILE), np.float32)
        padded[: out.shape[0], : out.shape[1]] = out
        return padded.reshape(ph, REF_TILE, pw, REF_TILE).sum(axis=(0, 2)), th * tw
    out = out[: th * REF_TILE, : tw * REF_TILE]
    return out.reshape(th, REF_TILE, tw, REF_TILE).sum(axis=(0, 2)), th * tw


@cache
def ref_patterns(scheme: Scheme) -> np.ndarray:
    """(1 + coded bits, T, T) pixel patterns at the reference cell size, zero-mean."""
    p = np.stack([smooth_tile(c, REF_CELL_PX) for c in cell_patterns(scheme)])
    return p - p.mean(axis=(1, 2), keepdims=True)


@cache
def _ref_spectra(scheme: Scheme) -> np.ndarray:
    """(1 + coded bits, T, T//2+1) complex conjugate spectra of the reference patterns."""
    return np.conj(np.fft.rfft2(ref_patterns(scheme)))


@cache
def _bit_matrices(scheme: Scheme) -> tuple[np.ndarray, np.ndarray]:
    """Real and imaginary parts of the code-bit spectra as (coded bits, T*(T//2+1)) float64 matrices: the
    bit correlations are then two matrix-vector products (no complex tensor contraction per candidate)."""
    bits = _ref_spectra(scheme)[1:].reshape(scheme.coded_bits, -1)
    return np.ascontiguousarray(bits.real), np.ascontiguousarray(bits.imag)


def _noise_weights(f: np.ndarray) -> np.ndarray:
    """1 / (smoothed power spectrum): the matched filter's weights for coloured (image) noise."""
    power = np.abs(f) ** 2
    n = power.shape[0]
    padded = np.concatenate([power[-4:], power, power[:4]], axis=0)
    smooth = cv2.GaussianBlur(padded.astype(np.float32), (0, 0), 2.0)[4 : 4 + n]
    weights = 1.0 / (smooth + 1e-6 * float(smooth.mean()) + 1e-12)
    weights[0, 0] = 0.0
    return weights


_DIHEDRAL = (
    ("", lambda t: t),
    ("hflip", lambda t: t[:, ::-1]),
    ("vflip", lambda t: t[::-1, :]),
    ("turned 180", lambda t: t[::-1, ::-1]),
    ("transposed", lambda t: t.T),
    ("turned 90", lambda t: t.T[:, ::-1]),
    ("turned 270", lambda t: t.T[::-1, :]),
    ("anti-transposed", lambda t: t.T[::-1, ::-1]),
)


def _sync_peak(f: np.ndarray, wt: np.ndarray, sync: np.ndarray) -> tuple[float, float, float]:
    """z-score of the sync correlation peak and its position (sub-pixel, by a parabola each way)."""
    corr = np.fft.irfft2(f * wt * sync, s=(REF_TILE, REF_TILE))
    k = int(np.argmax(corr))
    dy, dx = divmod(k, REF_TILE)
    z = (float(corr[dy, dx]) - float(corr.mean())) / (float(corr.std()) + 1e-12)

    def refine(a: float, b: float, c: float) -> float:
        den = a - 2 * b + c
        return float(np.clip(0.5 * (a - c) / den, -0.5, 0.5)) if den < 0 else 0.0

    n = REF_TILE
    fy = refine(corr[(dy - 1) % n, dx], corr[dy, dx], corr[(dy + 1) % n, dx])
    fx = refine(corr[dy, (dx - 1) % n], corr[dy, dx], corr[dy, (dx + 1) % n])
    return z, dy + fy, dx + fx


def _code_agreement(corr: np.ndarray, bits: np.ndarray) -> float:
    """Normalised correlation of the code-bit correlations with the codeword of the decoded ``bits``."""
    codeword = coding.encode(bits).astype(np.float64) * 2 - 1
    norm = float(np.linalg.norm(corr)) * np.sqrt(len(codeword))
    return float(corr @ codeword) / norm if norm > 0 else 0.0


@dataclass(frozen=True)
class _Read:
    rank: float
    z: float
    scheme: Scheme
    bits: np.ndarray
    corr: np.ndarray
    peak: float
    variant: str


def _read(folded: np.ndarray, schemes: tuple[Scheme, ...]) -> _Read:
    """Sync z-score (after undoing the best mirror/turn and circular shift) and the decoded payload.

    ``schemes`` share one sync pattern (the public formats) or are one keyed scheme. The z-score is measured
    after subtracting the fitted payload pattern, whose cross-correlation with the sync would cap it.
    """
    main = schemes[0]
    sync = _ref_spectra(main)[0]
    best: tuple[float, float, float, str, np.ndarray, np.ndarray] | None = None
    for name, op in _DIHEDRAL:
        f = np.fft.rfft2(np.ascontiguousarray(op(folded)))
        wt = _noise_weights(f)
        z, dy, dx = _sync_peak(f, wt, sync)
        # Most pictures are not mirrored or turned: another orientation must beat this one clearly.
        z -= MIRROR_PENALTY if name else 0.0
        if best is None or z > best[0]:
            best = (z, dy, dx, name, f, wt)
    assert best is not None
    _, dy, dx, variant, f, wt = best
    ky = np.fft.fftfreq(REF_TILE)[:, None] * REF_TILE
    kx = np.fft.rfftfreq(REF_TILE)[None, :] * REF_TILE
    shift = np.exp(2j * np.pi * (ky * dy + kx * dx) / REF_TILE)
    aligned = f * shift * wt
    out: _Read | None = None
    for scheme in schemes:
        spectra = _ref_spectra(scheme)
        re, im = _bit_matrices(scheme)
        flat = aligned.ravel()
        corr = re @ flat.real - im @ flat.imag
        bits = coding.decode(corr, scheme.payload_bits)
        sign = np.sign(corr)
        data = (sign @ re - 1j * (sign @ im)).reshape(aligned.shape)
        model = data + scheme.sync_weight * np.conj(spectra[0])
        gain = float(np.real(np.sum(aligned * np.conj(model))) / (np.sum(np.abs(model) ** 2 * wt) + 1e-12))
        residual = f - gain * data / shift
        c = np.fft.irfft2(residual * wt * spectra[0], s=(REF_TILE, REF_TILE))
        iy, ix = round(dy) % REF_TILE, round(dx) % REF_TILE
        peak = float(c[iy, ix])
        lobe = 2 * REF_CELL_PX  # the peak's own lobe is signal, not background
        background = np.roll(c, (lobe - iy, lobe - ix), axis=(0, 1))[2 * lobe + 1 :, 2 * lobe + 1 :]
        z = (peak - float(background.mean())) / (float(background.std()) + 1e-9)
        rank = z * _code_agreement(corr, bits)
        if out is None or rank > out.rank:
            out = _Read(rank, z, scheme, bits, corr, peak, variant)
    assert out is not None
    return out


def lattice_candidates(hp: np.ndarray, count: int = 6) -> list[np.ndarray]:
    """2x2 maps (picture px -> reference px) from the lattice of autocorrelation peaks the tiling leaves.

    Each is built from two peaks about a quarter turn apart (rotation and squash), or from one peak and the
    same vector turned by 90 degrees (rotation only).
    """
    h, w = hp.shape
    spec = np.abs(np.fft.rfft2(hp)) ** 2
    ac = np.fft.fftshift(np.fft.irfft2(spec, s=(h, w)))
    ac /= ac[h // 2, w // 2] + 1e-9
    cy, cx = h // 2, w // 2
    yy, xx = np.mgrid[-cy : h - cy, -cx : w - cx]
    r = np.hypot(yy, xx)
    # Periods under 28 px are codec blocks and texture (a mark's tile is 16 cells of at least 2 px).
    valid = (r >= 28) & (r <= min(h, w) / 2.2) & ((xx > 0) | ((xx == 0) & (yy > 0)))
    dil = cv2.dilate(ac.astype(np.float32), np.ones((5, 5), np.uint8))
    ys, xs = np.nonzero(valid & (ac >= dil))
    if len(ys) == 0:
        return []
    order = np.argsort(-ac[ys, xs])[:10]
    peaks = [np.array([xs[i] - cx, ys[i] - cy], np.float64) for i in order]
    maps: list[np.ndarray] = []
    for u in peaks:
        partner = None
        for v in peaks:
            cos = abs(u @ v) / (np.linalg.norm(u) * np.linalg.norm(v))
            ratio = np.linalg.norm(u) / np.linalg.norm(v)
            if cos < 0.2 and 0.75 < ratio < 1.33:
                partner = v
                break
        for v in ([partner] if partner is not None else []) + [np.array([-u[1], u[0]])]:
            # Order the pair as (nearest +x, nearest +y): the map then holds no quarter turn or mirror, so
            # the orientation search alone says whether the picture was turned or flipped.
            a = max((u, -u, v, -v), key=lambda x: x[0] / np.linalg.norm(x))
            b = max((u, -u, v, -v), key=lambda x: x[1] / np.linalg.norm(x))
            basis = np.column_stack([a, b])
            if abs(np.linalg.det(basis)) > 1e-6:
                maps.append(REF_TILE * np.linalg.inv(basis))
        if len(maps) >= count:
            break
    unique = {tuple(np.round(m.ravel(), 2)): m for m in maps}
    return list(unique.values())[:count]


def profile_periods(hps: list[np.ndarray], count: int = 4) -> list[float]:
    """Tile periods (px) from peaks of the autocorrelation along the rows and columns, summed: robust to
    noise for plain rescales (thumbnails, GIF exports), refined to sub-pixel by a parabola."""
    h = min(x.shape[0] for x in hps)
    w = min(x.shape[1] for x in hps)
    spec = sum(np.abs(np.fft.rfft2(x[:h, :w])) ** 2 for x in hps)
    ac = np.fft.irfft2(spec, s=(h, w))
    ac /= ac[0, 0] + 1e-9
    lo, hi = 14, min(h, w) // 2
    if hi - lo < 4:
        return []
    profile = np.zeros(hi, np.float64)
    profile[lo:hi] = ac[0, lo:hi] + ac[lo:hi, 0]
    peaks = [
        i for i in range(lo + 1, hi - 1) if profile[i] >= profile[i - 1] and profile[i] >= profile[i + 1]
    ]
    peaks.sort(key=lambda i: -profile[i])
    found: list[float] = []
    for i in peaks[:count]:
        a, b, c = profile[i - 1], profile[i], profile[i + 1]
        den = a - 2 * b + c
        found.append(i + (0.5 * (a - c) / den if den < 0 else 0.0))
    return found


def _fixed_periods(w: int, h: int, factor: float, size_hint: tuple[int, int] | None) -> list[float]:
    """Tile periods (px, in the downscaled picture) of the cell sizes facecraft uses, and common rescales."""
    periods: list[float] = []
    for cfg in (WatermarkConfig(), IMAGE_CONFIG):
        base = CELLS * cell_size(w, h, cfg) * factor
        cropped = CELLS * cell_size(round(w / 0.9), round(h / 0.9), cfg) * factor
        periods += [base, base / 2, base * 2, cropped, base * 0.9, base / 0.9]
        if size_hint:
            periods.append(CELLS * cell_size(*size_hint, cfg) * w / size_hint[0] * factor)
    return periods


def detect(
    frames: Iterable[np.ndarray],
    size_hint: tuple[int, int] | None = None,
    scheme: Scheme = PUBLIC,
) -> Detection:
    """Look for the watermark in one image or several frames of one video (BGR uint8 or grey).

    ``size_hint``: (width, height) the content had when it was labelled, when known. ``scheme``: the public
    mark (which also reads format 1) or an organisation's keyed one.
    """
    hps: list[np.ndarray] = []
    size = (0, 0)
    factor = 1.0
    for frame in frames:
        size = (frame.shape[1], frame.shape[0])
        small, factor = downscale(frame)
        hps.append(highpass_luma(small))
    if not hps:
        raise FacecraftError("no frames to look for a watermark in")
    count = len(hps)
    h, w = hps[0].shape
    if all(x.shape == (h, w) for x in hps):
        hps = [np.sum(hps, axis=0)] if len(hps) > 1 else hps  # folding is linear: sum the frames first
    schemes = (scheme,) if scheme.keyed else (PUBLIC, LEGACY)
    maps = [np.eye(2) * (REF_TILE / p) for p in _fixed_periods(*size, factor, size_hint)]
    for cfg in (WatermarkConfig(), IMAGE_CONFIG):  # squashed or stretched, when the lattice is too faint
        base = CELLS * cell_size(*size, cfg) * factor
        for f in SQUASH_STEPS:
            maps += [
                np.diag([REF_TILE / (base * f), REF_TILE / base]),
                np.diag([REF_TILE / base, REF_TILE / (base * f)]),
            ]
    maps += lattice_candidates(hps[0])
    maps += [np.eye(2) * (REF_TILE / p) for p in profile_periods(hps)]
    for cfg in (WatermarkConfig(), IMAGE_CONFIG):  # rotated, when the lattice is drowned by the corners
        base = CELLS * cell_size(*size, cfg) * factor
        for angle in ROTATION_STEPS:
            a = np.radians(angle)
            maps.append(REF_TILE / base * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]))
    best: tuple[_Read, float, np.ndarray] | None = None
    tried: set[tuple[float, ...]] = set()
    for lin in maps:
        key = tuple(np.round(lin.ravel() * 200).tolist())
        period = REF_TILE / float(np.sqrt(abs(np.linalg.det(lin))))
        if key in tried or period < 16 or period > min(h, w):
            continue
        tried.add(key)
        folded = sum(fold(x, lin)[0] for x in hps)
        read = _read(np.asarray(folded, np.float64), schemes)
        if best is None or read.rank > best[0].rank:
            best = (read, period, lin)
    if best is None:
        return Detection(0.0, scheme.name, 0, None, None, 0.0, "", count, np.zeros(scheme.coded_bits))
    read, period, lin = best
    refined = False
    if read.z >= ID_THRESHOLD and read.scheme != LEGACY and checked_content_id(from_bits(read.bits)) is None:
        read, lin = _refine(hps, schemes, read, lin)  # a mark is likely there: sharpen its geometry
        refined = True
    if PARTIAL_TILES and read.z >= ID_THRESHOLD and read.scheme != LEGACY and _mostly_cut(hps[0], lin):
        # A mark is likely there and whole tiles leave much of the picture out: read it from every pixel,
        # on a sharpened geometry.
        if not refined:
            read, lin = _refine(hps, schemes, read, lin)
        read = _read(np.asarray(sum(fold(x, lin, partial=True)[0] for x in hps), np.float64), schemes)
    period = REF_TILE / float(np.sqrt(abs(np.linalg.det(lin))))
    payload = from_bits(read.bits)
    cid = legacy = None
    if read.z >= ID_THRESHOLD:
        if read.scheme == LEGACY:
            legacy = legacy_content_id(payload)
        else:
            cid = checked_content_id(payload)
    soft = read.corr / (abs(read.peak) / read.scheme.sync_weight + 1e-9)
    return Detection(
        round(read.z, 3),
        read.scheme.name,
        payload,
        cid,
        legacy,
        period / factor,
        _geometry(read.variant, lin),
        count,
        soft,
    )


def _mostly_cut(hp: np.ndarray, lin: np.ndarray) -> bool:
    """Whether the whole tiles of ``hp`` folded by ``lin`` cover less than :data:`PARTIAL_BELOW` of it."""
    h, w = hp.shape
    return fold(hp, lin)[1] * REF_TILE**2 < PARTIAL_BELOW * h * w * abs(float(np.linalg.det(lin)))


def _refine(
    hps: list[np.ndarray], schemes: tuple[Scheme, ...], read: _Read, lin: np.ndarray
) -> tuple[_Read, np.ndarray]:
    """Coordinate search around the best tile geometry (x and y scale by 2, 1 then 0.5%, rotation by 1, 0.5
    then 0.25 degrees), kept where the ranking improves. The candidates are a coarse grid; a marginal mark after
    a squash or rotation decodes once its tiles line up better. Only the final reading's check bits count."""

    def turn(deg: float) -> np.ndarray:
        a = np.radians(deg)
        return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])

    for scale, angle in ((0.02, 1.0), (0.01, 0.5), (0.005, 0.25)):
        steps = [
            np.diag([1 + scale, 1.0]),
            np.diag([1 - scale, 1.0]),
            np.diag([1.0, 1 + scale]),
            np.diag([1.0, 1 - scale]),
            turn(angle),
            turn(-angle),
        ]
        for step in steps:
            trial = step @ lin
            folded = sum(fold(x, trial)[0] for x in hps)
            candidate = _read(np.asarray(folded, np.float64), schemes)
            if candidate.rank > read.rank:
                read, lin = candidate, trial
    return read, lin


def _geometry(variant: str, lin: np.ndarray) -> str:
    """Words for the edit the mark was found under (mirror/turn, rotation, squash)."""
    u, s, vt = np.linalg.svd(lin)
    rot = u @ vt
    angle = float(np.degrees(np.arctan2(rot[1, 0], rot[0, 0])))
    parts = [variant] if variant else []
    if 0.5 <= abs(angle) <= 45:
        parts.append(f"rotated {abs(angle):.1f} deg")
    if s[0] / s[1] > 1.03:
        parts.append(f"squashed {100 * (1 - s[1] / s[0]):.0f}%")
    return ", ".join(parts) or "as embedded"
