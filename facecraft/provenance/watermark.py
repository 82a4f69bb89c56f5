"""A fast spread-spectrum watermark in the luma of images and video frames: the patterns and the embedder.

The payload (:mod:`payload`: a 24-bit content id and 16 check bits) is protected by a rate-1/3 convolutional
code (:mod:`coding`, 138 code bits) and spread over a tile of 16x16 cells; each code bit (and one sync
pattern) is a keyed, mutually orthogonal +-1 pattern over the cells (rows of a Hadamard matrix times a key
mask). The smoothed tile is repeated over the whole frame from its top-left corner and added to B, G and R
alike, so it changes luma only.

Perceptual masking: the strength follows the local texture of the frame (none on flat skin, sky or
backdrop half as much as on hair, cloth and edges, where the eye does not see it), scaled so that the frame's RMS
change stays at ``amplitude`` luma levels (1.9 gives about 42.5 dB PSNR).

Face-aware (``faces`` given to :func:`embed`, see :mod:`faces`): inside an ellipse around each face box the
strength is lowered to :data:`FACE_SHARE` (feathered at its edge) and the rest raised so that the frame's RMS
change stays the same: the mark then changes the face's identity features (SFace) less.

The detector (:mod:`detect`) finds the tile's scale, rotation, squash, flips and crop offset; the probe
(:mod:`probe`) finds an earlier facecraft mark where facecraft puts it, so that it can be replaced.
Format 1 marks (32-bit payload, tag and id, no check bits; facecraft before check bits were added) share
the sync pattern, so the detector still reads them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache, lru_cache

import cv2
import numpy as np
from scipy.linalg import hadamard

from facecraft.errors import FacecraftError
from facecraft.provenance import coding
from facecraft.provenance.payload import LEGACY_PAYLOAD_BITS, PAYLOAD_BITS, to_bits

CELLS = 16  # cells per tile side
_KEY = 0xFACEC4AF  # format 1's key: its sync pattern is shared by every public format
_KEY_V2 = 0xFACE0002
_BAND_ROWS = 512  # frames are marked in bands of rows, so memory stays small at any size
FACE_SHARE = 0.3
"""Face-aware marking: the strength inside a face's ellipse relative to what it would be (the rest is raised)."""
_FACE_AXES = (0.7, 0.8)  # the ellipse's half axes relative to the box width and height (1.4x the box)
_FACE_FEATHER = (0.85, 1.15)  # full attenuation inside this normalised radius, none outside the second

FaceBox = tuple[float, float, float, float]
"""A face's (x, y, w, h) box in frame pixels."""


@dataclass(frozen=True)
class Scheme:
    """One family of watermark patterns: how many payload bits, and the key that draws the patterns.

    ``keyed``: an organisation's secret scheme (its own sync and mask), not the public one.
    """

    name: str
    payload_bits: int
    seed: int
    keyed: bool = False

    @property
    def coded_bits(self) -> int:
        return coding.coded_length(self.payload_bits)

    @property
    def sync_weight(self) -> float:
        """Sync amplitude relative to one code bit's: a third of the energy."""
        return float(np.sqrt(self.coded_bits / 2))


PUBLIC = Scheme("facecraft-ss-v2", PAYLOAD_BITS, _KEY_V2)
LEGACY = Scheme("facecraft-ss-v1", LEGACY_PAYLOAD_BITS, _KEY)


def keyed_scheme(key: bytes) -> Scheme:
    """An organisation's scheme drawn from a secret ``key`` (at least 16 bytes)."""
    if len(key) < 16:
        raise FacecraftError(
            "a watermark key must have at least 16 bytes; make one with `head -c 32 /dev/urandom`"
        )
    seed = int.from_bytes(hashlib.sha256(b"facecraft-keyed-mark\0" + key).digest()[:8], "big")
    return Scheme("facecraft-keyed-v2", PAYLOAD_BITS, seed, keyed=True)


@cache
def cell_patterns(scheme: Scheme) -> np.ndarray:
    """(1 + coded bits, CELLS, CELLS) float32 +-1: the sync pattern first, then one per code bit."""
    rng = np.random.default_rng(_KEY)
    legacy_rows = rng.choice(np.arange(1, CELLS * CELLS), size=1 + LEGACY.coded_bits, replace=False)
    mask = rng.choice(np.array([-1.0, 1.0]), size=CELLS * CELLS)
    if scheme == LEGACY:
        rows = legacy_rows
    elif scheme.keyed:
        keyed = np.random.default_rng(scheme.seed)
        rows = keyed.choice(np.arange(1, CELLS * CELLS), size=1 + scheme.coded_bits, replace=False)
        mask = keyed.choice(np.array([-1.0, 1.0]), size=CELLS * CELLS)
    else:
        others = np.setdiff1d(np.arange(1, CELLS * CELLS), legacy_rows[:1])
        data = np.random.default_rng(scheme.seed).choice(others, size=scheme.coded_bits, replace=False)
        rows = np.concatenate([legacy_rows[:1], data])
    patterns = hadamard(CELLS * CELLS)[rows] * mask
    return patterns.reshape(-1, CELLS, CELLS).astype(np.float32)


def smooth_tile(cells: np.ndarray, cell_px: int) -> np.ndarray:
    """Upsample a (CELLS, CELLS) cell grid to pixels and low-pass it, keeping it periodic."""
    tile = np.kron(cells, np.ones((cell_px, cell_px), np.float32))
    n = tile.shape[0]
    wrapped = cv2.GaussianBlur(np.tile(tile, (3, 3)), (0, 0), 0.3 * cell_px)
    return np.ascontiguousarray(wrapped[n : 2 * n, n : 2 * n])


@dataclass(frozen=True)
class WatermarkConfig:
    """How strongly and how coarsely the watermark is embedded."""

    amplitude: float = 1.9
    """RMS change of luma over the frame, in 8-bit levels (1.9: about 42.5 dB PSNR)."""
    cells_per_short_side: float = 64.0
    """Cell size is the frame's short side divided by this (at least 3 px): coarser cells survive downscaling."""
    masking: bool = True
    """Strength follows local texture (none on flat areas); off: the same strength everywhere."""
    max_local: float = 7.0
    """With masking, the most any pixel's luma changes (levels), however busy its texture."""
    flat_share: float = 0.5
    """With masking, the strength on flat areas relative to textured ones (0: none)."""

    def __post_init__(self) -> None:
        if not 0.5 <= self.amplitude <= 10:
            raise FacecraftError(
                f"watermark amplitude must be within 0.5..10 luma levels, got {self.amplitude}"
            )
        if not 16 <= self.cells_per_short_side <= 512:
            raise FacecraftError("watermark cells_per_short_side must be within 16..512")


IMAGE_CONFIG = WatermarkConfig(cells_per_short_side=128.0)
"""Stills have no frames to sum over: finer cells give more tiles to sum."""
LEGACY_CONFIGS = (
    WatermarkConfig(amplitude=3.5, masking=False),
    WatermarkConfig(amplitude=4.5, cells_per_short_side=128.0, masking=False),
)
"""What format 1 used (video, stills): its cell sizes, for the probe."""


def cell_size(width: int, height: int, config: WatermarkConfig) -> int:
    """Pixels per cell for a frame of this size."""
    return max(3, round(min(width, height) / config.cells_per_short_side))


@lru_cache(maxsize=32)  # a few KB to a few MB each; a process labelling many photos makes many ids
def unit_tile(payload: int, cell_px: int, scheme: Scheme = PUBLIC) -> np.ndarray:
    """One smoothed tile (16 cells of ``cell_px`` a side) carrying ``payload``, scaled to unit RMS (read-only)."""
    p = cell_patterns(scheme)
    signs = coding.encode(to_bits(payload, scheme.payload_bits)).astype(np.float32) * 2 - 1
    cells = scheme.sync_weight * p[0] + np.tensordot(signs, p[1:], axes=1)
    tile = smooth_tile(cells, cell_px)
    tile /= float(np.sqrt(np.mean(tile**2)))
    tile.flags.writeable = False
    return tile


def _band(tile: np.ndarray, rows: range, width: int) -> np.ndarray:
    """``tile`` repeated over frame rows ``rows`` (top-left phase), (len(rows), width) float32."""
    n = tile.shape[0]
    ys = np.arange(rows.start, rows.stop) % n
    line = np.tile(tile, (1, width // n + 1))[:, :width]
    return line[ys]


@dataclass(frozen=True)
class TextureGain:
    """The watermark's local strength under perceptual masking, kept at block resolution.

    ``blocks``: (ceil(H/k), ceil(W/k)) float32 strength in luma levels per block of ``k`` px; :meth:`rows`
    gives full-resolution rows (bilinear), so a whole-frame map is never held.
    """

    blocks: np.ndarray
    k: int
    width: int

    def rows(self, y0: int, y1: int) -> np.ndarray:
        """(y1 - y0, width) float32 strength of frame rows y0..y1-1."""
        k, (hk, wk) = self.k, self.blocks.shape
        if k == 1:
            return self.blocks[y0:y1, : self.width]
        s0, s1 = max(0, y0 // k - 1), min(hk, (y1 - 1) // k + 2)
        up = cv2.resize(self.blocks[s0:s1], (wk * k, (s1 - s0) * k), interpolation=cv2.INTER_LINEAR)
        return up[y0 - s0 * k : y1 - s0 * k, : self.width]

    def mean(self) -> float:
        return float(self.blocks.mean())


def face_weight(faces: tuple[FaceBox, ...], shape: tuple[int, int], k: int) -> np.ndarray:
    """(hk, wk) float32 multiplier of the mark's strength at the centres of ``k`` px blocks: :data:`FACE_SHARE`
    inside an ellipse around each face box (half axes 0.7x its width, 0.8x its height), 1 well outside,
    feathered in between; where ellipses overlap the lowest wins."""
    hk, wk = shape
    xs = (np.arange(wk, dtype=np.float32) + 0.5) * k
    ys = (np.arange(hk, dtype=np.float32) + 0.5) * k
    inside = np.zeros((hk, wk), np.float32)
    r0, r1 = _FACE_FEATHER
    for x, y, w, h in faces:
        if w <= 0 or h <= 0:
            continue
        dx = (xs - (x + w / 2)) / (_FACE_AXES[0] * w)
        dy = (ys - (y + h / 2)) / (_FACE_AXES[1] * h)
        r = np.sqrt(dy[:, None] ** 2 + dx[None, :] ** 2)
        np.maximum(inside, np.clip((r1 - r) / (r1 - r0), 0.0, 1.0), out=inside)
    return np.float32(1.0) - np.float32(1.0 - FACE_SHARE) * inside


def texture_gain(frame: np.ndarray, config: WatermarkConfig, faces: tuple[FaceBox, ...] = ()) -> TextureGain:
    """The watermark's local strength (luma levels) under perceptual masking.

    Local texture is the RMS of the luma's finest detail (luma minus its 3x3 mean; measured at about 1024 px
    on the short side for larger pictures) over blocks of about 1/128 of the short side. It maps to
    ``flat_share`` below 1.5 levels (flat) and to 1 from 6 levels, fades to 0 on black and white areas (block
    mean under 20 or over 235), is lowered on ``faces`` (:func:`face_weight`), then is scaled so that the
    frame's RMS change is ``config.amplitude`` (each pixel at most ``max_local``). Without
    ``config.masking`` only the faces shape it. Cost and memory stay small at any size.
    """
    h, w = frame.shape[:2]
    k = max(1, min(h, w) // 128)
    q = max(1, min(h, w) // 1024)  # very large pictures: their finest detail measured at a smaller size
    luma = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    if q > 1:
        luma = cv2.resize(luma, (max(1, w // q), max(1, h // q)), interpolation=cv2.INTER_AREA)
    small = luma.astype(np.float32)
    detail = small - cv2.blur(small, (3, 3))
    hk, wk = -(-h // k), -(-w // k)
    energy = cv2.resize(detail * detail, (wk, hk), interpolation=cv2.INTER_AREA)
    texture = np.sqrt(cv2.GaussianBlur(energy, (0, 0), 1.5))
    share = config.flat_share
    if config.masking:
        weight = share + (1 - share) * np.clip((texture - 1.5) / 4.5, 0.0, 1.0)
        # Nothing on black or white bars and clipped areas: a change there is seen (and half of it clips away).
        level = cv2.resize(small, (wk, hk), interpolation=cv2.INTER_AREA)
        weight *= np.clip(np.minimum(level - 8.0, 247.0 - level) / 12.0, 0.0, 1.0)
    else:
        weight = np.ones((hk, wk), np.float32)
    if faces:
        weight *= face_weight(faces, (hk, wk), k)
    mean_sq = float(np.mean(weight**2))
    gain = min(config.amplitude / np.sqrt(mean_sq), config.max_local) if mean_sq >= 1e-8 else 0.0
    return TextureGain(np.asarray(weight * gain, np.float32), k, w)


@dataclass(frozen=True)
class ExistingMark:
    """A facecraft watermark found in frames about to be watermarked again (an earlier output re-rendered).

    ``payload``: what it carries (in ``scheme``); ``cell_px``: its cell size; ``gain``: its RMS strength in
    luma levels, as it survives in the frames (after the encodes in between).
    """

    payload: int
    cell_px: int
    gain: float
    scheme: Scheme = PUBLIC
    masked: bool = True
    """Its strength followed the texture (format 2): it is taken out in proportion to the texture too."""


def embed(
    frame: np.ndarray,
    payload: int,
    config: WatermarkConfig = WatermarkConfig(),
    replaces: ExistingMark | None = None,
    scheme: Scheme = PUBLIC,
    faces: tuple[FaceBox, ...] = (),
) -> np.ndarray:
    """Return a copy of a BGR uint8 (H, W, 3) frame carrying ``payload`` (``scheme.payload_bits`` bits).

    ``replaces``: a watermark the frame already carries (see :class:`probe.MarkProbe`), taken out as the new
    one goes in, so that a detector reads only the new payload. ``faces``: (x, y, w, h) face boxes, where
    the mark is lowered to :data:`FACE_SHARE` (the rest raised to the same RMS change). Memory stays at a
    few bands of rows.
    """
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"expected a BGR uint8 (H, W, 3) frame, got {frame.shape} {frame.dtype}")
    h, w = frame.shape[:2]
    tile = unit_tile(payload, cell_size(w, h, config), scheme)
    gain = texture_gain(frame, config, faces) if config.masking or faces else None
    old = unit_tile(replaces.payload, replaces.cell_px, replaces.scheme) if replaces else None
    texture: TextureGain | None = None
    old_scale = 0.0
    if replaces is not None and replaces.masked:
        # The earlier mark followed (nearly) this texture: take it out where it was put, at its strength.
        # The probe measures its mean strength (least squares on the unmasked pattern). It is taken to have
        # been lowered on the same faces (facecraft's defaults of the time it was made are not known).
        texture = (
            gain if gain is not None and config.masking else texture_gain(frame, WatermarkConfig(), faces)
        )
        old_scale = replaces.gain / max(texture.mean(), 1e-6)
    out = np.empty_like(frame)
    for y0 in range(0, h, _BAND_ROWS):
        rows = range(y0, min(h, y0 + _BAND_ROWS))
        delta = _band(tile, rows, w)
        delta = delta * (gain.rows(y0, rows.stop) if gain is not None else np.float32(config.amplitude))
        if old is not None and replaces is not None:
            scale = (
                texture.rows(y0, rows.stop) * np.float32(old_scale)
                if texture is not None
                else np.full((len(rows), w), replaces.gain, np.float32)
            )
            delta -= _band(old, rows, w) * scale
        delta = np.ascontiguousarray(delta, np.float32)
        out[y0 : rows.stop] = cv2.add(
            frame[y0 : rows.stop], cv2.cvtColor(delta, cv2.COLOR_GRAY2BGR), dtype=cv2.CV_8U
        )
    return out
