"""Finding an earlier facecraft mark in frames about to be marked again, where facecraft would have put it.

When the input of a stage was itself a facecraft output, the frames the stage writes keep the old mark
wherever they keep the input's pixels, and a second mark on top would leave the detector reading either.
An earlier stage embedded it from the top-left corner at the cell size of one of a few configurations for
this frame size, so no search is needed: the first :data:`PROBE_FRAMES` frames are folded at those tile
periods, the code bits decoded and the old pattern's strength measured by least squares. The work is done
on a copy shrunk to about 8 px per cell, so its cost does not grow with the picture (an 8000x8000 photo is
probed at about 1000x1000).
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from facecraft.provenance import coding
from facecraft.provenance.detect import REF_CELL_PX, REF_TILE, fold, highpass_luma, ref_patterns
from facecraft.provenance.payload import checked_content_id, from_bits, legacy_content_id
from facecraft.provenance.watermark import (
    CELLS,
    LEGACY,
    LEGACY_CONFIGS,
    PUBLIC,
    ExistingMark,
    Scheme,
    WatermarkConfig,
    cell_size,
    unit_tile,
)

PROBE_FRAMES = 8
"""Frames of one size :class:`MarkProbe` looks at before it settles on whether (and what) they carry."""
_MIN_GAIN = 0.5  # luma levels (mean strength): weaker remains are left alone
_MIN_AGREEMENT = 0.65  # code agreement of the decoded payload (noise: 0.50-0.56; a mark: about 0.8)
_PROBE_CELL_PX = 8  # cells are shrunk to about this size before folding
_ESTIMATE_AT = (1, 2, 4, PROBE_FRAMES)


def _agreement(soft: np.ndarray, bits: np.ndarray) -> float:
    codeword = coding.encode(bits).astype(np.float64) * 2 - 1
    norm = float(np.linalg.norm(soft)) * np.sqrt(len(codeword))
    return float(soft @ codeword) / norm if norm > 0 else 0.0


def _periodic_highpass(tile: np.ndarray, sigma: float) -> np.ndarray:
    n = tile.shape[0]
    wrapped = np.tile(tile, (3, 3))
    return (wrapped - cv2.GaussianBlur(wrapped, (0, 0), sigma))[n : 2 * n, n : 2 * n]


class MarkProbe:
    """Finds a facecraft watermark that frames of one size already carry (format 2 or format 1).

    Accepted only with its check bits (format 2) or tag (format 1) intact, the code bits agreeing with the
    decoded codeword (at least 0.65) and a mean strength of at least 0.5 luma levels.
    """

    def __init__(self, width: int, height: int, configs: Iterable[WatermarkConfig]):
        self.width, self.height = width, height
        self.cells = sorted({cell_size(width, height, c) for c in (*configs, *LEGACY_CONFIGS)}, reverse=True)
        self.frames = 0
        self.found: ExistingMark | None = None
        self._scale = min(1.0, _PROBE_CELL_PX / min(self.cells))
        self._hp = {c: np.zeros((REF_TILE, REF_TILE)) for c in self.cells}
        self._lin = {c: np.zeros((REF_TILE, REF_TILE)) for c in self.cells}
        self._tiles = dict.fromkeys(self.cells, 0)

    @property
    def done(self) -> bool:
        return self.frames >= PROBE_FRAMES

    def update(self, frame: np.ndarray) -> ExistingMark | None:
        """Look at one more frame (until :data:`PROBE_FRAMES` were seen); the mark found so far, if any."""
        if self.done:
            return self.found
        self.frames += 1
        luma = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
        if self._scale < 1.0:
            size = (max(1, round(self.width * self._scale)), max(1, round(self.height * self._scale)))
            luma = cv2.resize(luma, size, interpolation=cv2.INTER_AREA)
        sx = luma.shape[1] / self.width
        hp, lin = highpass_luma(luma), luma.astype(np.float32)
        for c in self.cells:
            m = np.eye(2) * (REF_TILE / (CELLS * c * sx))
            f_hp, tiles = fold(hp, m)
            f_lin, _ = fold(lin, m)
            self._hp[c] += f_hp
            self._lin[c] += f_lin
            self._tiles[c] += tiles
        if self.frames not in _ESTIMATE_AT:
            return self.found  # decoding is the costly part: done on frames 1, 2, 4 and 8
        best: ExistingMark | None = None
        for c in self.cells:
            mark = self._estimate(c)
            if mark is not None and (best is None or mark.gain > best.gain):
                best = mark
        self.found = best
        return best

    def _estimate(self, c: int) -> ExistingMark | None:
        for scheme in (PUBLIC, LEGACY):
            soft = ref_patterns(scheme)[1:].reshape(scheme.coded_bits, -1) @ self._hp[c].ravel()
            bits = coding.decode(soft, scheme.payload_bits)
            payload = from_bits(bits)
            ok = checked_content_id(payload) if scheme == PUBLIC else legacy_content_id(payload)
            if ok is None or _agreement(soft, bits) < _MIN_AGREEMENT:
                continue
            gain = self._gain(payload, scheme, c)
            if gain >= _MIN_GAIN:
                return ExistingMark(payload, c, round(gain, 2), scheme, masked=scheme == PUBLIC)
        return None

    def _gain(self, payload: int, scheme: Scheme, c: int) -> float:
        """Least squares of the folded luma on the unit-RMS pattern, per tile: the mark's mean strength."""
        unit = _periodic_highpass(unit_tile(payload, REF_CELL_PX, scheme), 2.0 * REF_CELL_PX)
        return float(np.sum(self._lin[c] * unit) / (np.sum(unit * unit) * max(1, self._tiles[c])))
