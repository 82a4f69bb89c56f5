"""A fast spread-spectrum watermark in the luma of images and video frames.

The payload (32 bits) is protected by a rate-1/3 convolutional code (:mod:`coding`, 114 code bits) and spread
over a tile of 16x16 cells; each code bit (and one sync pattern) is a keyed, mutually orthogonal +-1 pattern
over the cells (rows of a Hadamard matrix times a key mask). The smoothed tile is repeated over the whole
frame and added to B, G and R alike, so it changes luma only.

Detection is blind: the luma is high-passed and normalised by its local contrast, folded modulo the tile
period (which sums all tiles, and all sampled frames of a video) and circularly cross-correlated with the
sync pattern. A crop only shifts the tiling phase, which the correlation peak recovers; a rescale changes
the period, which is estimated from the periodic autocorrelation the tiling leaves and tried at a few fixed
ratios. The correlation peak over its background (a z-score) says whether a watermark is there; the
code-bit correlations, decoded as soft values by Viterbi, give the payload. Embedding adds one cached
pattern per frame size (well under a millisecond at 512x512).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

import cv2
import numpy as np
from scipy.linalg import hadamard

from facecraft.errors import FacecraftError
from facecraft.provenance import coding
from facecraft.provenance.payload import TAG, tag_of

PAYLOAD_BITS = 32
CODED_BITS = coding.coded_length(PAYLOAD_BITS)  # embedded bits: the payload under an error-correcting code
CELLS = 16  # cells per tile side
_REF_CELL_PX = 4  # cell size of the reference grid the decoder resamples to
_REF_TILE = CELLS * _REF_CELL_PX
_KEY = 0xFACEC4AF
_SYNC_WEIGHT = float(np.sqrt(CODED_BITS / 2))  # sync amplitude relative to one code bit's: 1/3 of the energy


@dataclass(frozen=True)
class WatermarkConfig:
    """How strongly and how coarsely the watermark is embedded."""

    amplitude: float = 3.5
    """RMS change of luma, in 8-bit levels (3.5 gives about 37 dB PSNR)."""
    cells_per_short_side: float = 64.0
    """Cell size is the frame's short side divided by this (at least 3 px): coarser cells survive downscaling."""

    def __post_init__(self) -> None:
        if not 0.5 <= self.amplitude <= 10:
            raise FacecraftError(
                f"watermark amplitude must be within 0.5..10 luma levels, got {self.amplitude}"
            )
        if not 16 <= self.cells_per_short_side <= 512:
            raise FacecraftError("watermark cells_per_short_side must be within 16..512")


IMAGE_CONFIG = WatermarkConfig(amplitude=4.5, cells_per_short_side=128.0)
"""Stills have no frames to sum over: finer cells (more tiles) and a stronger mark."""


@cache
def _cell_patterns() -> np.ndarray:
    """(1 + CODED_BITS, CELLS, CELLS) float32 +-1: sync pattern first, then one per code bit."""
    rng = np.random.default_rng(_KEY)
    rows = rng.choice(np.arange(1, CELLS * CELLS), size=1 + CODED_BITS, replace=False)
    mask = rng.choice(np.array([-1.0, 1.0]), size=CELLS * CELLS)
    patterns = hadamard(CELLS * CELLS)[rows] * mask
    return patterns.reshape(-1, CELLS, CELLS).astype(np.float32)


def _smooth_tile(cells: np.ndarray, cell_px: int) -> np.ndarray:
    """Upsample a (CELLS, CELLS) cell grid to pixels and low-pass it, keeping it periodic."""
    tile = np.kron(cells, np.ones((cell_px, cell_px), np.float32))
    n = tile.shape[0]
    wrapped = np.tile(tile, (3, 3))
    sigma = 0.3 * cell_px
    wrapped = cv2.GaussianBlur(wrapped, (0, 0), sigma)
    return np.ascontiguousarray(wrapped[n : 2 * n, n : 2 * n])


def payload_to_bits(payload: int) -> np.ndarray:
    """(32,) int 0/1, most significant bit first."""
    if not 0 <= payload < 1 << PAYLOAD_BITS:
        raise ValueError(f"payload must fit in {PAYLOAD_BITS} bits")
    return np.array([(payload >> (PAYLOAD_BITS - 1 - i)) & 1 for i in range(PAYLOAD_BITS)], np.uint8)


def bits_to_payload(bits: np.ndarray) -> int:
    return int(sum(int(b) << (PAYLOAD_BITS - 1 - i) for i, b in enumerate(bits)))


def cell_size(width: int, height: int, config: WatermarkConfig) -> int:
    """Pixels per cell for a frame of this size."""
    return max(3, round(min(width, height) / config.cells_per_short_side))


@cache
def _payload_tile(payload: int, cell_px: int) -> np.ndarray:
    """One smoothed tile (16 cells of ``cell_px`` a side) of the watermark carrying ``payload``, unscaled."""
    p = _cell_patterns()
    signs = coding.encode(payload_to_bits(payload)).astype(np.float32) * 2 - 1
    cells = _SYNC_WEIGHT * p[0] + np.tensordot(signs, p[1:], axes=1)
    tile = _smooth_tile(cells, cell_px)
    tile.flags.writeable = False
    return tile


def _scaled_tile(payload: int, cell_px: int, amplitude: float) -> np.ndarray:
    tile = _payload_tile(payload, cell_px)
    return tile * (amplitude / float(np.sqrt(np.mean(tile**2))))


def _tiled(tile: np.ndarray, width: int, height: int) -> np.ndarray:
    """``tile`` repeated over a frame from its top-left corner (the phase every embedding uses)."""
    n = tile.shape[0]
    return np.tile(tile, (height // n + 1, width // n + 1))[:height, :width]


def _add_sub(full: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    q = np.rint(full).astype(np.int16)
    add = np.repeat(np.clip(q, 0, 255).astype(np.uint8)[:, :, None], 3, axis=2)
    sub = np.repeat(np.clip(-q, 0, 255).astype(np.uint8)[:, :, None], 3, axis=2)
    return add, sub


@cache
def _frame_pattern(
    payload: int, width: int, height: int, config: WatermarkConfig
) -> tuple[np.ndarray, np.ndarray]:
    """The watermark for one frame size as (add, subtract) uint8 (H, W, 3) images (saturating arithmetic)."""
    tile = _scaled_tile(payload, cell_size(width, height, config), config.amplitude)
    return _add_sub(_tiled(tile, width, height))


@dataclass(frozen=True)
class ExistingMark:
    """A facecraft watermark found in frames about to be watermarked again (an earlier output re-rendered).

    ``payload``: what it carries; ``cell_px``: its cell size; ``gain``: its RMS strength in luma levels, as it
    survives in the frames (after the encodes in between).
    """

    payload: int
    cell_px: int
    gain: float


@lru_cache(maxsize=8)
def _replacing_pattern(
    payload: int, width: int, height: int, config: WatermarkConfig, old: ExistingMark
) -> tuple[np.ndarray, np.ndarray]:
    """The watermark carrying ``payload`` minus the ``old`` one at its estimated strength (informed removal)."""
    new = _scaled_tile(payload, cell_size(width, height, config), config.amplitude)
    previous = _scaled_tile(old.payload, old.cell_px, old.gain)
    if new.shape == previous.shape:
        return _add_sub(_tiled(new - previous, width, height))
    return _add_sub(_tiled(new, width, height) - _tiled(previous, width, height))


def embed(
    frame: np.ndarray,
    payload: int,
    config: WatermarkConfig = WatermarkConfig(),
    replaces: ExistingMark | None = None,
) -> np.ndarray:
    """Return a copy of a BGR uint8 (H, W, 3) frame carrying ``payload`` (a 32-bit int).

    ``replaces``: a watermark the frame already carries (see :class:`MarkProbe`), taken out as the new one
    goes in, so that a detector reads only the new payload. The cost per frame is the same.
    """
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"expected a BGR uint8 (H, W, 3) frame, got {frame.shape} {frame.dtype}")
    h, w = frame.shape[:2]
    if replaces is None:
        add, sub = _frame_pattern(payload, w, h, config)
    else:
        add, sub = _replacing_pattern(payload, w, h, config, replaces)
    return cv2.subtract(cv2.add(frame, add), sub)


@dataclass(frozen=True)
class Detection:
    """What the decoder found.

    ``score``: the sync correlation peak in standard deviations of its background (z-score);
    ``found``: score above the threshold; ``bits``: the decoded payload bits (0/1); ``soft``: the
    code-bit correlations (CODED_BITS of them) divided by the sync peak; ``period``: tile period in
    pixels of the examined frames; ``frames``: how many frames were folded.
    """

    found: bool
    score: float
    payload: int
    bits: np.ndarray
    soft: np.ndarray
    period: float
    frames: int


DETECTION_THRESHOLD = 6.5
"""z-score of the sync peak over 4096 circular shifts and ~a dozen periods; noise stays below ~5."""


_LOCAL_SIGMA = 4.0  # px: the neighbourhood whose high-pass energy normalises each pixel
_LOCAL_FLOOR = 2.0  # luma levels: below this local contrast a pixel is not amplified further


def _highpass_luma(frame: np.ndarray) -> np.ndarray:
    """High-passed luma divided by its local contrast, with outliers clipped.

    Textured regions (hair, edges, text) carry far more host noise than flat skin or backdrop; weighting
    each pixel by the inverse of its local high-pass energy is the matched filter for such non-stationary
    noise, and gives the payload's correlations about 1.4x the signal-to-noise ratio of a global clip.
    """
    luma = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    luma = luma.astype(np.float32)
    hp = luma - cv2.GaussianBlur(luma, (0, 0), 3.0)
    local = cv2.GaussianBlur(hp * hp, (0, 0), _LOCAL_SIGMA)
    return np.clip(hp / np.sqrt(local + _LOCAL_FLOOR**2), -3.0, 3.0)


def _fold(hp: np.ndarray, period: float) -> np.ndarray:
    """Resample a high-passed luma so ``period`` px become _REF_TILE px, then sum it modulo the tile."""
    scale = _REF_TILE / period
    h, w = hp.shape
    nh, nw = max(_REF_TILE, int(h * scale)), max(_REF_TILE, int(w * scale))
    img = cv2.resize(hp, (nw, nh), interpolation=cv2.INTER_LINEAR if scale > 1 else cv2.INTER_AREA)
    img = img - cv2.GaussianBlur(img, (0, 0), 2.0 * _REF_CELL_PX)
    th, tw = nh // _REF_TILE, nw // _REF_TILE
    if th == 0 or tw == 0:
        return np.zeros((_REF_TILE, _REF_TILE), np.float32)
    img = img[: th * _REF_TILE, : tw * _REF_TILE]
    return img.reshape(th, _REF_TILE, tw, _REF_TILE).sum(axis=(0, 2))


@cache
def _ref_patterns() -> np.ndarray:
    """(1 + CODED_BITS, T, T) pixel patterns at the reference cell size, zero-mean."""
    p = np.stack([_smooth_tile(c, _REF_CELL_PX) for c in _cell_patterns()])
    return p - p.mean(axis=(1, 2), keepdims=True)


def _period_candidates(hps: list[np.ndarray]) -> list[float]:
    """Tile periods (px) to try: fixed ones for common sizes plus peaks of the mean autocorrelation."""
    h = min(x.shape[0] for x in hps)
    w = min(x.shape[1] for x in hps)
    spec = sum(np.abs(np.fft.rfft2(x[:h, :w])) ** 2 for x in hps)
    ac = np.fft.irfft2(spec, s=(h, w))
    ac /= ac[0, 0] + 1e-9
    lo, hi = 10, min(h, w) // 2
    profile = np.zeros(hi, np.float64)
    profile[lo:hi] = ac[0, lo:hi] + ac[lo:hi, 0]
    peaks = [
        i for i in range(lo + 1, hi - 1) if profile[i] >= profile[i - 1] and profile[i] >= profile[i + 1]
    ]
    peaks.sort(key=lambda i: -profile[i])
    found: list[float] = []
    for i in peaks[:4]:
        # Parabolic refinement of the peak to sub-pixel.
        a, b, c = profile[i - 1], profile[i], profile[i + 1]
        den = a - 2 * b + c
        found.append(i + (0.5 * (a - c) / den if den < 0 else 0.0))
    return found


@cache
def _ref_spectra() -> np.ndarray:
    """(1 + CODED_BITS, T, T//2+1) complex conjugate spectra of the reference patterns."""
    return np.conj(np.fft.rfft2(_ref_patterns()))


def _noise_weights(f: np.ndarray) -> np.ndarray:
    """1 / (smoothed power spectrum): the matched filter's weights for coloured (image) noise."""
    power = np.abs(f) ** 2
    n = power.shape[0]
    # Smooth over neighbouring frequencies (wrapping rows; columns are the half spectrum).
    padded = np.concatenate([power[-4:], power, power[:4]], axis=0)
    smooth = cv2.GaussianBlur(padded.astype(np.float32), (0, 0), 2.0)[4 : 4 + n]
    weights = 1.0 / (smooth + 1e-6 * float(smooth.mean()) + 1e-12)
    weights[0, 0] = 0.0
    return weights


def _correlate(folded: np.ndarray) -> tuple[float, np.ndarray, float]:
    """(z-score of the sync peak, per-bit correlations, sync peak value) after undoing the circular shift.

    Correlations are weighted by the inverse noise spectrum (image content is strong at low frequencies).
    The z-score is measured after subtracting the fitted payload patterns, whose cross-correlation with the
    sync pattern would otherwise cap it.
    """
    spectra = _ref_spectra()  # conjugated
    f = np.fft.rfft2(folded)
    wt = _noise_weights(f)
    n = folded.shape[0]
    corr = np.fft.irfft2(f * wt * spectra[0], s=folded.shape)
    k = int(np.argmax(corr))
    dy, dx = divmod(k, corr.shape[1])
    ky = np.fft.fftfreq(n)[:, None] * n
    kx = np.fft.rfftfreq(n)[None, :] * n
    shift = np.exp(2j * np.pi * (ky * dy + kx * dx) / n)  # undoes the circular shift
    aligned = f * shift * wt
    bits = np.real(np.tensordot(spectra[1:], aligned, axes=([1, 2], [0, 1])))
    signs = np.sign(bits)
    data = np.conj(np.tensordot(signs, spectra[1:], axes=1))  # spectrum of the fitted payload pattern
    model = data + _SYNC_WEIGHT * np.conj(spectra[0])
    gain = float(np.real(np.sum(aligned * np.conj(model))) / (np.sum(np.abs(model) ** 2 * wt) + 1e-12))
    residual = f - gain * data / shift
    corr = np.fft.irfft2(residual * wt * spectra[0], s=folded.shape)
    peak = float(corr[dy, dx])
    # The background excludes the peak's own lobe (about two cells wide), which is signal, not noise.
    lobe = 2 * _REF_CELL_PX
    background = np.roll(corr, (lobe - dy, lobe - dx), axis=(0, 1))[2 * lobe + 1 :, 2 * lobe + 1 :]
    z = (peak - float(background.mean())) / (float(background.std()) + 1e-9)
    return z, bits, peak


def _code_agreement(corr: np.ndarray, bits: np.ndarray) -> float:
    """Normalised correlation of the code-bit correlations with the codeword of the decoded ``bits``."""
    codeword = coding.encode(bits).astype(np.float64) * 2 - 1
    norm = float(np.linalg.norm(corr)) * np.sqrt(len(codeword))
    return float(corr @ codeword) / norm if norm > 0 else 0.0


def detect(frames: Iterable[np.ndarray], size_hint: tuple[int, int] | None = None) -> Detection:
    """Look for the watermark in one image or several frames of one video (BGR uint8 or grey).

    ``size_hint``: (width, height) the content had when it was labelled, when known (tries its period).
    """
    hps = [_highpass_luma(f) for f in frames]
    if not hps:
        raise FacecraftError("no frames to look for a watermark in")
    count = len(hps)
    h, w = hps[0].shape
    if all(x.shape == (h, w) for x in hps):
        # Folding is linear: summing the frames first folds them all at once.
        hps = [np.sum(hps, axis=0)] if len(hps) > 1 else hps
    periods: list[float] = []
    for cfg in (WatermarkConfig(), IMAGE_CONFIG):
        base = CELLS * cell_size(w, h, cfg)
        cropped = CELLS * cell_size(round(w / 0.9), round(h / 0.9), cfg)
        periods += [base, base / 2, base * 2, cropped, base * 0.9, base / 0.9]
        if size_hint:
            periods.append(CELLS * cell_size(*size_hint, cfg) * w / size_hint[0])
    periods += _period_candidates(hps)
    best: tuple[float, float, np.ndarray, np.ndarray, float, float] | None = None
    tried: set[float] = set()
    for p in periods:
        key = round(p, 1)
        if key in tried or p < 16 or p > min(h, w):
            continue
        tried.add(key)
        folded = sum(_fold(x, p) for x in hps)
        z, corr, peak = _correlate(np.asarray(folded))
        bits = coding.decode(corr, PAYLOAD_BITS)
        # Near-equal sync peaks (the true period and a near miss) are told apart by how well the code bits
        # agree with the nearest codeword: about 0.5 for noise, 0.8-0.9 at the true period.
        rank = z * _code_agreement(corr, bits)
        if best is None or rank > best[0]:
            best = (rank, z, corr, bits, peak, p)
    if best is None:
        return Detection(False, 0.0, 0, np.zeros(PAYLOAD_BITS, np.uint8), np.zeros(CODED_BITS), 0.0, count)
    _, z, corr, bits, peak, p = best
    soft = corr / (abs(peak) / _SYNC_WEIGHT + 1e-9)
    return Detection(z >= DETECTION_THRESHOLD, float(z), bits_to_payload(bits), bits, soft, float(p), count)


PROBE_FRAMES = 8
"""Frames of one size :class:`MarkProbe` looks at before it settles on whether (and what) they carry."""
_PROBE_MIN_GAIN = 1.0  # luma levels RMS (a fresh mark has 3.5): weaker remains are left alone
_PROBE_MIN_AGREEMENT = 0.65  # code agreement of the decoded payload (noise: 0.50-0.56; a mark: about 0.8)
_PROBE_HP_SIGMA = 3.0  # px: the linear high-pass the strength is measured through


@cache
def _probe_tiles(cell_px: int) -> tuple[np.ndarray, np.ndarray]:
    """(CODED_BITS, n*n) zero-mean code-bit tiles at ``cell_px`` and the sync tile, for projecting folds."""
    tiles = np.stack([_smooth_tile(c, cell_px) for c in _cell_patterns()])
    tiles -= tiles.mean(axis=(1, 2), keepdims=True)
    flat = tiles.reshape(len(tiles), -1)
    return flat[1:], flat[0]


def _periodic_highpass(tile: np.ndarray) -> np.ndarray:
    n = tile.shape[0]
    wrapped = np.tile(tile, (3, 3))
    return (wrapped - cv2.GaussianBlur(wrapped, (0, 0), _PROBE_HP_SIGMA))[n : 2 * n, n : 2 * n]


def _fold_native(img: np.ndarray, n: int) -> tuple[np.ndarray, int]:
    """Sum of the whole ``n``-px tiles of ``img`` from its top-left corner, and how many there were."""
    th, tw = img.shape[0] // n, img.shape[1] // n
    if th == 0 or tw == 0:
        return np.zeros((n, n), np.float32), 0
    return img[: th * n, : tw * n].reshape(th, n, tw, n).sum(axis=(0, 2)), th * tw


class MarkProbe:
    """Finds a facecraft watermark that frames of one size already carry, where facecraft would have put it.

    When the input of a stage was itself a facecraft output, the frames the stage writes keep the old
    watermark wherever they keep the input's pixels, and a second watermark on top would leave the detector
    reading either. An earlier stage embedded it from the top-left corner at the cell size of one of the
    ``configs`` for this frame size, so no search is needed: the first :data:`PROBE_FRAMES` frames are folded
    at those tile periods, the code bits decoded, and the old pattern's strength measured by least squares.
    Accepted only with the facecraft tag intact, the code bits agreeing with the decoded codeword (at least
    0.65; unmarked frames 0.50-0.56, a surviving mark about 0.8) and a strength of at least 1 luma level
    (unmarked frames: at most 0.72 for the best-fitting payload; a mark re-encoded once: about 3.6).
    """

    def __init__(self, width: int, height: int, configs: Iterable[WatermarkConfig]):
        self.width, self.height = width, height
        self.cells = sorted({cell_size(width, height, c) for c in configs})
        self.frames = 0
        self.found: ExistingMark | None = None
        self._hp = {c: np.zeros((CELLS * c,) * 2, np.float64) for c in self.cells}
        self._lin = {c: np.zeros((CELLS * c,) * 2, np.float64) for c in self.cells}

    @property
    def done(self) -> bool:
        return self.frames >= PROBE_FRAMES

    def update(self, frame: np.ndarray) -> ExistingMark | None:
        """Look at one more frame (until :data:`PROBE_FRAMES` were seen); the mark found so far, if any."""
        if self.done:
            return self.found
        self.frames += 1
        hp = _highpass_luma(frame)
        luma = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.float32) if frame.ndim == 3 else frame
        lin = luma.astype(np.float32) - cv2.GaussianBlur(luma.astype(np.float32), (0, 0), _PROBE_HP_SIGMA)
        best: ExistingMark | None = None
        for c in self.cells:
            n = CELLS * c
            fold, _ = _fold_native(hp, n)
            self._hp[c] += fold
            lin_fold, _ = _fold_native(lin, n)
            self._lin[c] += lin_fold
            mark = self._estimate(c)
            if mark is not None and (best is None or mark.gain > best.gain):
                best = mark
        self.found = best
        return best

    def _estimate(self, c: int) -> ExistingMark | None:
        bit_tiles, _ = _probe_tiles(c)
        soft = bit_tiles @ self._hp[c].ravel()
        bits = coding.decode(soft, PAYLOAD_BITS)
        payload = bits_to_payload(bits)
        if tag_of(payload) != TAG or _code_agreement(soft, bits) < _PROBE_MIN_AGREEMENT:
            return None
        # Least squares of the folded (linearly high-passed) luma on the unit-RMS old pattern.
        tile = _payload_tile(payload, c)
        unit = _periodic_highpass(tile / float(np.sqrt(np.mean(tile**2))))
        tiles = max(1, self._tiles_at(c))
        gain = float(np.sum(self._lin[c] * unit) / (np.sum(unit * unit) * tiles))
        return ExistingMark(payload, c, round(gain, 2)) if gain >= _PROBE_MIN_GAIN else None

    def _tiles_at(self, c: int) -> int:
        n = CELLS * c
        return (self.height // n) * (self.width // n) * self.frames
