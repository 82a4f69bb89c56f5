"""Error-correcting code for the watermark payload: a convolutional code with soft Viterbi decoding.

Rate 1/3, constraint length 7 (generators 133, 171 and 165 octal, as in LTE), terminated with 6 zero
tail bits: 32 payload bits become 114 embedded bits. The decoder takes one soft value per embedded bit
(positive for 1, its size the confidence, as the watermark's correlations are) and returns the most
likely payload. At the watermark's operating point (embedded bits read with about 1% errors) it corrects
all of them, where reading the 32 payload bits directly with the same energy leaves one or two wrong.
"""

from __future__ import annotations

from functools import cache

import numpy as np

CONSTRAINT = 7
GENERATORS = (0o133, 0o171, 0o165)
_MEMORY = CONSTRAINT - 1
_STATES = 1 << _MEMORY


def coded_length(info_bits: int) -> int:
    """Embedded bits for ``info_bits`` payload bits (tail included)."""
    return (info_bits + _MEMORY) * len(GENERATORS)


def _outputs(register: int) -> list[int]:
    """The code bits for one K-bit register (newest input bit in the most significant place)."""
    return [bin(register & g).count("1") & 1 for g in GENERATORS]


def encode(bits: np.ndarray) -> np.ndarray:
    """(n,) 0/1 payload bits -> (coded_length(n),) 0/1 code bits."""
    state = 0
    out: list[int] = []
    for b in [*(int(x) for x in bits), *([0] * _MEMORY)]:
        register = (b << _MEMORY) | state
        out += _outputs(register)
        state = register >> 1
    return np.array(out, np.uint8)


@cache
def _trellis() -> tuple[np.ndarray, np.ndarray]:
    """For each next state: its two predecessor states and the +-1 code bits of the two branches into it."""
    pred = np.zeros((_STATES, 2), np.int64)
    signs = np.zeros((_STATES, 2, len(GENERATORS)), np.float64)
    for nxt in range(_STATES):
        b = nxt >> (_MEMORY - 1)
        for x in range(2):
            s = ((nxt << 1) & (_STATES - 1)) | x
            pred[nxt, x] = s
            signs[nxt, x] = np.array(_outputs((b << _MEMORY) | s), np.float64) * 2 - 1
    return pred, signs


def decode(soft: np.ndarray, info_bits: int) -> np.ndarray:
    """Maximum-likelihood payload bits (0/1) from soft code-bit values (> 0 means 1), by Viterbi."""
    n = len(GENERATORS)
    soft = np.asarray(soft, np.float64).reshape(info_bits + _MEMORY, n)
    pred, signs = _trellis()
    metric = np.full(_STATES, -np.inf)
    metric[0] = 0.0
    choices = np.zeros((len(soft), _STATES), np.int8)
    for t, y in enumerate(soft):
        cand = metric[pred] + signs @ y  # (states, 2)
        pick = np.argmax(cand, axis=1)
        choices[t] = pick
        metric = cand[np.arange(_STATES), pick]
    state = 0  # the tail returns the encoder to state 0
    bits = np.zeros(len(soft), np.uint8)
    for t in range(len(soft) - 1, -1, -1):
        bits[t] = state >> (_MEMORY - 1)
        state = int(pred[state, choices[t, state]])
    return bits[:info_bits]
