"""One-Euro filtering of landmark arrays along a track (Casiez et al., CHI 2012).

Slow movements are smoothed strongly (no jitter), fast ones lightly (no lag). The state is plain
data so a run can be saved and resumed exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class OneEuroConfig:
    """Cut-offs in Hz. ``beta`` is per (face size / s) of speed, since positions are normalised by face size."""

    min_cutoff: float = 1.5
    beta: float = 2.0
    d_cutoff: float = 1.0


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2 * math.pi * np.asarray(cutoff))
    return 1.0 / (1.0 + tau / dt)


@dataclass
class OneEuroState:
    value: np.ndarray
    deriv: np.ndarray
    time: float

    def to_json(self) -> dict[str, object]:
        return {
            "value": self.value.ravel().tolist(),
            "deriv": self.deriv.ravel().tolist(),
            "shape": list(self.value.shape),
            "time": self.time,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> OneEuroState:
        shape = tuple(d["shape"])
        return cls(np.array(d["value"]).reshape(shape), np.array(d["deriv"]).reshape(shape), float(d["time"]))


def one_euro(
    x: np.ndarray, t: float, scale: float, state: OneEuroState | None, cfg: OneEuroConfig = OneEuroConfig()
) -> tuple[np.ndarray, OneEuroState]:
    """Filter one sample ``x`` (any shape) at time ``t`` seconds. ``scale`` (e.g. face size in pixels)
    makes the speed term independent of resolution. Returns the filtered sample and the new state."""
    x = np.asarray(x, np.float64)
    if state is None or t <= state.time:
        return x.copy(), OneEuroState(x.copy(), np.zeros_like(x), t)
    dt = t - state.time
    dx = (x - state.value) / dt
    a_d = _alpha(cfg.d_cutoff, dt)
    deriv = a_d * dx + (1 - a_d) * state.deriv
    speed = np.abs(deriv) / max(scale, 1e-6)
    a = _alpha(cfg.min_cutoff + cfg.beta * speed, dt)
    value = a * x + (1 - a) * state.value
    return value, OneEuroState(value, deriv, t)
