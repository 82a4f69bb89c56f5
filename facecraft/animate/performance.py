"""Built-in scripted performances: curves over expression and pose channels, read from YAML files.

A performance file (``performances/<name>.yaml``) gives a description, a default length, and for each
channel a list of components that are added up:

- ``keys: [[t, value], ...]``   smooth (cosine-eased) keyframes, seconds; held after the last one
- ``sine: [amplitude, period_s, phase_0_to_1]``   a slow oscillation (breathing, swaying)
- ``bumps: {every: s, width: s, amplitude: a, jitter: 0..1, seed: n, start: s}``   raised-cosine events
  at irregular, seeded intervals (blinks, syllables); ``amplitude`` may be ``[lo, hi]`` for varied heights

Channels: yaw, pitch, roll (degrees), shiftX, shiftY (face widths), zoom (relative, 0 = none), jawOpen,
smile, pucker, browUp, blink, blinkLeft, blinkRight (0..1), gazeX, gazeY (-1..1).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import yaml

from facecraft.animate.expressions import BASES, gaze
from facecraft.animate.geometry import euler_rotation, face_width
from facecraft.animate.motion import Motion
from facecraft.errors import FacecraftError

CHANNELS = (
    "yaw",
    "pitch",
    "roll",
    "shiftX",
    "shiftY",
    "zoom",
    "jawOpen",
    "smile",
    "pucker",
    "browUp",
    "blink",
    "blinkLeft",
    "blinkRight",
    "gazeX",
    "gazeY",
)
_RANGES = {
    "jawOpen": (0, 1),
    "smile": (0, 1),
    "pucker": (0, 1),
    "browUp": (0, 1),
    "blink": (0, 1),
    "blinkLeft": (0, 1),
    "blinkRight": (0, 1),
    "gazeX": (-1, 1),
    "gazeY": (-1, 1),
}


@dataclass(frozen=True)
class Performance:
    name: str
    description: str
    seconds: float
    channels: dict[str, list[dict[str, Any]]]

    def sample(self, t: np.ndarray) -> dict[str, np.ndarray]:
        """Every channel's value at times ``t`` (seconds, (N,)); missing channels are 0."""
        out = {}
        for name in CHANNELS:
            value = np.zeros_like(t, dtype=np.float64)
            for comp in self.channels.get(name, []):
                value += _component(comp, t)
            lo, hi = _RANGES.get(name, (-np.inf, np.inf))
            out[name] = np.clip(value, lo, hi)
        return out


def _component(comp: dict[str, Any], t: np.ndarray) -> np.ndarray:
    if "keys" in comp:
        keys = np.asarray(comp["keys"], np.float64)
        return _eased_keys(keys[:, 0], keys[:, 1], t)
    if "sine" in comp:
        amp, period, phase = comp["sine"]
        return float(amp) * np.sin(2 * np.pi * (t / float(period) + float(phase)))
    bumps = comp["bumps"]
    return _bumps(t, **bumps)


def _eased_keys(kt: np.ndarray, kv: np.ndarray, t: np.ndarray) -> np.ndarray:
    i = np.clip(np.searchsorted(kt, t, side="right") - 1, 0, len(kt) - 1)
    j = np.minimum(i + 1, len(kt) - 1)
    span = np.maximum(kt[j] - kt[i], 1e-9)
    x = np.clip((t - kt[i]) / span, 0.0, 1.0)
    x = 0.5 - 0.5 * np.cos(np.pi * x)
    return kv[i] + (kv[j] - kv[i]) * x


def _bumps(
    t: np.ndarray,
    every: float,
    width: float,
    amplitude: float | list[float] = 1.0,
    jitter: float = 0.3,
    seed: int = 0,
    start: float = 0.0,
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    end = float(t.max()) + width if len(t) else 0.0
    times, now = [], start
    while now <= end:
        times.append(now)
        now += every * (1 + jitter * rng.uniform(-1, 1))
    lo, hi = (amplitude, amplitude) if isinstance(amplitude, int | float) else amplitude
    heights = rng.uniform(float(lo), float(hi), len(times))
    out = np.zeros_like(t, dtype=np.float64)
    for centre, height in zip(times, heights, strict=True):
        x = np.clip(np.abs(t - centre) / (width / 2), 0, 1)
        out = np.maximum(out, height * (0.5 + 0.5 * np.cos(np.pi * x)))
    return out


def list_performances() -> list[str]:
    """Names of the built-in performances."""
    folder = resources.files("facecraft.animate") / "performances"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


@cache
def load_performance(name: str) -> Performance:
    """Read and check a built-in performance. Raises FacecraftError for an unknown name or a bad file."""
    names = list_performances()
    if name not in names:
        raise FacecraftError(f"unknown performance {name!r}; choose one of {', '.join(names)}")
    text = (resources.files("facecraft.animate") / "performances" / f"{name}.yaml").read_text()
    return parse_performance(name, yaml.safe_load(text))


def parse_performance(name: str, data: Any) -> Performance:
    """Validate a performance table (as loaded from YAML)."""
    if not isinstance(data, dict) or not isinstance(data.get("channels"), dict):
        raise FacecraftError(f"performance {name!r} needs a 'channels' mapping")
    seconds = float(data.get("seconds", 4.0))
    if seconds <= 0:
        raise FacecraftError(f"performance {name!r}: seconds must be positive")
    channels: dict[str, list[dict[str, Any]]] = {}
    for channel, comps in data["channels"].items():
        if channel not in CHANNELS:
            raise FacecraftError(
                f"performance {name!r}: unknown channel {channel!r}; use {', '.join(CHANNELS)}"
            )
        comps = comps if isinstance(comps, list) else [comps]
        for comp in comps:
            if (
                not isinstance(comp, dict)
                or len(comp) != 1
                or next(iter(comp)) not in ("keys", "sine", "bumps")
            ):
                raise FacecraftError(
                    f"performance {name!r}, {channel}: each component is one of keys, sine, bumps"
                )
        channels[channel] = comps
    perf = Performance(name, str(data.get("description", "")), seconds, channels)
    perf.sample(np.linspace(0, seconds, 5))  # malformed components fail here, not mid-render
    return perf


def performance_motions(
    perf: Performance, portrait: np.ndarray, fps: float, seconds: float | None = None
) -> Iterator[Motion]:
    """Motions (relative to the portrait itself, so retarget with the identity orientation) at ``fps`` for
    ``seconds`` (default: the performance's own length). ``portrait``: the portrait's mesh (478, 3)."""
    length = perf.seconds if seconds is None else seconds
    if length <= 0:
        raise FacecraftError("the animation length must be positive")
    n = max(1, round(length * fps))
    yield from curve_motions(perf.sample(np.arange(n) / fps), portrait)


def curve_motions(curves: dict[str, np.ndarray], portrait: np.ndarray) -> Iterator[Motion]:
    """One :class:`Motion` per sample of the channel ``curves`` (each (N,), see ``CHANNELS``; missing ones
    are 0), relative to the portrait's own mesh (478, 3)."""
    n = max(len(v) for v in curves.values())
    curves = {name: np.asarray(curves.get(name, np.zeros(n)), np.float64) for name in CHANNELS}
    fw = face_width(portrait)
    bases = {name: BASES[name](portrait, 1.0) for name in BASES}  # all linear in the amount but blink
    for i in range(n):
        c = {k: float(v[i]) for k, v in curves.items()}
        expr = np.zeros_like(portrait, dtype=np.float64)
        for name in ("jawOpen", "smile", "pucker", "browUp"):
            expr += c[name] * bases[name]
        left = min(1.0, c["blink"] + c["blinkLeft"])
        right = min(1.0, c["blink"] + c["blinkRight"])
        if left > 0:
            expr += BASES["blinkLeft"](portrait, left)
        if right > 0:
            expr += BASES["blinkRight"](portrait, right)
        expr += gaze(portrait, c["gazeX"], c["gazeY"])
        yield Motion(
            rotation=euler_rotation(c["yaw"], c["pitch"], c["roll"]),
            translation=np.array([c["shiftX"], c["shiftY"], 0.0]),
            scale=1.0 + c["zoom"],
            expression=expr / fw,
        )
