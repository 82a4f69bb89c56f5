"""Lip-sync of a talking video, measured on its frames: how well the mouth opening (inner-lip gap of the
face mesh found in each output frame, in face widths) follows the audio's loudness envelope.

The number is the Pearson correlation at the best lag within +-200 ms (and that lag), plus how often the
lips are closed while the audio is silent (pauses, m/b/p closures).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from facecraft.animate.geometry import face_width, mouth_opening
from facecraft.animate.speech import RATE, frame_windows, read_audio

MAX_LAG_S = 0.2
CLOSED_GAP = 0.02  # face widths: below this the lips are together
SILENT = 0.12  # loudness (0..1) below this is a pause
RANGE_DB = 15.0  # the envelope spans at least this many dB above the recording's floor


def loudness_envelope(samples: np.ndarray, fps: float, rate: int = RATE) -> np.ndarray:
    """0..1 per frame: what lip sync is scored against, unchanged since the first published numbers and
    independent of how the animator reads speech: the broadband level (dB of each frame's 50 ms window)
    between the recording's 10th and 97th percentiles, over at least RANGE_DB."""
    db = 10 * np.log10(np.mean(frame_windows(samples, fps, rate) ** 2, axis=1) + 1e-10)
    floor, peak = np.percentile(db, [10, 97])
    return np.clip((db - floor) / max(peak - floor, RANGE_DB), 0.0, 1.0)


def best_lag_correlation(mouth: np.ndarray, energy: np.ndarray, max_lag: int) -> tuple[float, int]:
    """(correlation, lag in frames) maximising Pearson correlation of ``mouth`` shifted against ``energy``;
    a positive lag means the mouth comes after the sound."""
    best = (-1.0, 0)
    n = min(len(mouth), len(energy))
    for lag in range(-max_lag, max_lag + 1):
        a = mouth[max(lag, 0) : n + min(lag, 0)]
        b = energy[max(-lag, 0) : n - max(lag, 0)]
        if len(a) < 5 or np.std(a) < 1e-9 or np.std(b) < 1e-9:
            continue
        r = float(np.corrcoef(a, b)[0, 1])
        if r > best[0]:
            best = (r, lag)
    return best


def mouth_track(frames: Iterable[np.ndarray], follow: Any) -> np.ndarray:
    """Inner-lip gap in face widths per frame (NaN where no face is found); ``follow``: image -> Mesh | None."""
    out = []
    for image in frames:
        mesh = follow(image)
        if mesh is None:
            out.append(np.nan)
            continue
        lm = mesh.landmarks.astype(np.float64)
        out.append(mouth_opening(lm) / face_width(lm))
    return np.asarray(out)


def lip_sync_score(mouth: np.ndarray, audio: np.ndarray, fps: float) -> dict[str, Any]:
    """Scores of a mouth-gap track (per frame) against mono audio samples (facecraft.animate.speech.RATE)."""
    energy = loudness_envelope(audio, fps)
    n = min(len(mouth), len(energy))
    mouth, energy = mouth[:n], energy[:n]
    ok = np.isfinite(mouth)
    filled = np.where(ok, mouth, np.nanmedian(mouth) if ok.any() else 0.0)
    r, lag = best_lag_correlation(filled, energy, round(MAX_LAG_S * fps))
    silent = (energy < SILENT) & ok
    closed = float(np.mean(filled[silent] < CLOSED_GAP)) if silent.any() else None
    return {
        "frames": int(n),
        "correlation": round(r, 3),
        "lag_ms": round(1000 * lag / fps),
        "closed_in_silence": None if closed is None else round(closed, 3),
        "silent_frames": int(silent.sum()),
        "faces_lost": int((~ok).sum()),
    }


def lip_sync(video: str | Path, audio: str | Path | None = None) -> dict[str, Any]:
    """Lip-sync scores of ``video`` against ``audio`` (default: the video's own sound track)."""
    from facecraft.animate.driving import FaceFollower
    from facecraft.face.detect import FaceDetector
    from facecraft.face.mesh import FaceMesher
    from facecraft.media.video import iter_frames, probe

    info = probe(video)
    samples = read_audio(audio if audio is not None else video)
    with FaceMesher() as mesher:
        follow = FaceFollower(mesher, FaceDetector())
        mouth = mouth_track((f.image for f in iter_frames(video)), follow)
    return lip_sync_score(mouth, samples, info.fps)
