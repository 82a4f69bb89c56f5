"""Speak from audio: the sound's own features (loudness, voicing, spectral shape) become visemes (jaw, lip
rounding and spreading) at the video's frame rate; idle head motion, speech-paced nods and blinks are
added. No learned model: the whole mapping is a few lines of signal processing.

Pure functions except :func:`read_audio`. Curves use the performance channels (see
facecraft.animate.performance), so the same retargeting renders them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facecraft.errors import FacecraftError

RATE = 16000
"""Samples per second the audio is analysed at (mono)."""
JAW_GAIN = 0.55
"""jawOpen amount at full loudness of an open vowel (0.55 drops the lower lip ~0.12 face widths)."""
LEAD_S = 0.04
"""The mouth moves this much before the sound it makes (lips shape a syllable before it is heard)."""


SILENT_PEAK = 1e-3
"""An audio whose loudest sample is under this (-60 dBFS) holds no speech (e.g. a video's silent track)."""


def read_audio(path: str | Path, rate: int = RATE) -> np.ndarray:
    """The first audio stream of ``path`` (an audio file or a video) as mono float32 at ``rate`` Hz."""
    import av

    path = Path(path)
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise FacecraftError(f"{path.name} has no audio stream; give a file with speech in it")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            chunks = []
            for frame in container.decode(audio=0):
                chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
            chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise FacecraftError(f"cannot read the audio of {path.name}: {exc}") from None
    samples = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    if len(samples) < rate // 10:
        raise FacecraftError(f"the audio of {path.name} is shorter than 0.1 s")
    if float(np.abs(samples).max()) < SILENT_PEAK:
        raise FacecraftError(
            f"the audio of {path.name} is silent (its loudest sample is under -60 dBFS), so the mouth would "
            "never move; give a file with speech in it"
        )
    return samples


@dataclass(frozen=True)
class SpeechFeatures:
    """Per video frame (N,), all 0..1: ``energy`` loudness above 80 Hz (:func:`loudness`), ``voicing``
    periodicity, ``openness`` share of the first-formant band (open vowels: a),
    ``rounding`` low second formant (o, u), ``spread`` high second formant (i, e), ``hiss`` share above
    3 kHz (s, f, sh)."""

    energy: np.ndarray
    voicing: np.ndarray
    openness: np.ndarray
    rounding: np.ndarray
    spread: np.ndarray
    hiss: np.ndarray


def frame_count(samples: np.ndarray, fps: float, rate: int = RATE) -> int:
    """Video frames that cover the audio (its length, rounded up to a whole frame)."""
    return max(1, int(np.ceil(len(samples) / rate * fps - 1e-6)))


def frame_windows(samples: np.ndarray, fps: float, rate: int) -> np.ndarray:
    """(N, W) Hann-windowed excerpts of 50 ms (at least a frame), centred on each video frame's middle:
    short enough that the brief silence of an m, b or p shows up in its own frame."""
    n = frame_count(samples, fps, rate)
    width = round(max(0.05, 1.0 / fps) * rate)
    centres = np.round((np.arange(n) + 0.5) * rate / fps).astype(int)
    padded = np.pad(samples, (width, width))
    idx = centres[:, None] + np.arange(width)[None, :] - width // 2 + width
    return padded[idx] * np.hanning(width)[None, :].astype(np.float32)


def _norm(x: np.ndarray, lo_pct: float, hi_pct: float) -> np.ndarray:
    lo, hi = np.percentile(x, [lo_pct, hi_pct])
    return np.clip((x - lo) / max(hi - lo, 1e-9), 0.0, 1.0)


VOICE_BAND = (80.0, 8000.0)
"""Hz: the loudness that moves the jaw is measured above a low male voice's pitch, so rumble (traffic,
wind, handling, a bass line) does not open the mouth."""
STEADY_RANGE_DB = 15.0
"""A recording whose level does not swing at the pace of syllables (steady noise, hum, slow swells) must
rise this far above its floor to read as full loudness, so noise never reads as speech."""
SPEECH_RANGE_DB = 8.0
"""The same for a recording whose level does swing syllable by syllable: speech over a loud noise floor
(a webcam's fan, a street) spans only 8-12 dB between its quiet and loud syllables, and a 15 dB scale
kept such a mouth nearly shut while the person talked."""
SYLLABIC_SWING_DB = (1.5, 3.0)
"""Std of the level's fast changes (faster than a quarter second): steady noises 0.3-1.2 dB, speech 4-10
dB (the shared clips, the noisy one included); from the first to the second value the range goes from
STEADY_RANGE_DB to SPEECH_RANGE_DB."""


def syllabic_swing(db: np.ndarray, fps: float) -> float:
    """Std (dB) of the level's changes faster than about a quarter second: what syllables do to a level and
    steady noise does not."""
    return float(np.std(db - _smooth(db, 0.25 * fps))) if len(db) >= 3 else 0.0


def loudness(db: np.ndarray, fps: float) -> np.ndarray:
    """0..1 per frame: the level between the recording's floor (10th percentile) and its peaks (97th), over
    at least STEADY_RANGE_DB for steady noise and SPEECH_RANGE_DB for a level that swings with syllables."""
    floor, peak = np.percentile(db, [10, 97])
    lo, hi = SYLLABIC_SWING_DB
    speechlike = float(np.clip((syllabic_swing(db, fps) - lo) / (hi - lo), 0.0, 1.0))
    least = STEADY_RANGE_DB - (STEADY_RANGE_DB - SPEECH_RANGE_DB) * speechlike
    return np.clip((db - floor) / max(peak - floor, least), 0.0, 1.0)


def speech_features(samples: np.ndarray, fps: float, rate: int = RATE) -> SpeechFeatures:
    """Features of mono ``samples`` at ``rate`` Hz, one row per video frame at ``fps``."""
    win = frame_windows(samples, fps, rate)
    nfft = 1 << int(np.ceil(np.log2(win.shape[1] * 2)))
    spec = np.abs(np.fft.rfft(win, nfft, axis=1)) ** 2
    freqs = np.fft.rfftfreq(nfft, 1 / rate)

    def band(lo: float, hi: float) -> np.ndarray:
        return spec[:, (freqs >= lo) & (freqs < hi)].sum(1)

    energy = loudness(10 * np.log10(band(*VOICE_BAND) / nfft + 1e-10), fps)

    voice_band = band(200, 3000) + 1e-12
    first = band(550, 1000) / voice_band
    low = band(200, 550) / voice_band
    high2 = band(1700, 3000) / voice_band
    hiss = band(3000, rate / 2) / (band(80, rate / 2) + 1e-12)
    # Voicing: the normalised autocorrelation peak in the pitch range (70-400 Hz).
    ac = np.fft.irfft(spec, nfft, axis=1)
    ac = ac / np.maximum(ac[:, :1], 1e-12)
    voicing = np.clip((ac[:, int(rate / 400) : int(rate / 70)].max(1) - 0.3) / 0.5, 0.0, 1.0)
    speaking = energy > 0.2
    ref = speaking if speaking.sum() >= 5 else np.ones_like(speaking)

    def rel(x: np.ndarray) -> np.ndarray:  # relative to this speaker's own range while speaking
        lo, hi = np.percentile(x[ref], [10, 90])
        return np.clip((x - lo) / max(hi - lo, 1e-9), 0.0, 1.0)

    return SpeechFeatures(energy, voicing, rel(first), rel(low - high2), rel(high2), np.clip(hiss * 2, 0, 1))


def _smooth(x: np.ndarray, sigma_frames: float) -> np.ndarray:
    if sigma_frames <= 0 or len(x) < 3:
        return x
    r = max(1, int(3 * sigma_frames))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma_frames) ** 2)
    return np.convolve(np.pad(x, r, mode="edge"), k / k.sum(), mode="valid")


def viseme_curves(feat: SpeechFeatures, fps: float) -> dict[str, np.ndarray]:
    """Mouth channels (jawOpen, pucker, smile) from speech features.

    The jaw follows loudness with an opening that depends on the vowel (wider for "a"), is nearly shut on
    hissing consonants, and is fully closed below a loudness gate, so the short near-silences of m, b, p
    and the pauses between words close the lips instead of leaving them half open.
    """
    e = feat.energy
    gate = np.clip((e - 0.18) / 0.6, 0.0, 1.0)
    gate = gate * gate * (3 - 2 * gate)
    vowel = 0.6 + 0.4 * feat.openness
    consonant = 1.0 - 0.6 * feat.hiss * (1.0 - feat.voicing)
    jaw = JAW_GAIN * gate * vowel * consonant
    lead = round(LEAD_S * fps)
    jaw = np.r_[jaw[lead:], np.zeros(lead)] if lead else jaw
    # Smooth the rises and falls, but keep every closure: a dip to shut lips survives the smoothing.
    jaw = np.minimum(_smooth(jaw, 0.6 * fps / 25), jaw + 0.02)
    pucker = _smooth(0.6 * gate * feat.rounding * feat.voicing, 1.0 * fps / 25)
    smile = _smooth(0.25 * gate * feat.spread, 1.5 * fps / 25)
    return {"jawOpen": np.clip(jaw, 0, 1), "pucker": np.clip(pucker, 0, 1), "smile": np.clip(smile, 0, 1)}


def gesture_curves(feat: SpeechFeatures, fps: float) -> dict[str, np.ndarray]:
    """Head nods and brow raises paced by the speech: they follow the slow loudness contour (phrases and
    stressed words), not every syllable."""
    slow = _smooth(feat.energy, 0.25 * fps)
    phrase = _smooth(feat.energy, 1.2 * fps)
    emphasis = np.clip(slow - phrase, 0.0, None)
    emphasis = emphasis / max(float(emphasis.max()), 0.15)
    return {"pitch": -2.5 * emphasis + 1.0 * phrase, "browUp": 0.35 * emphasis}


def speech_curves(samples: np.ndarray, fps: float, idle: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """All performance channels for speaking ``samples`` (mono, RATE Hz): visemes and gestures from the
    audio, added to ``idle`` (channel -> (N,) curves of a resting face: sway, breathing, blinks)."""
    feat = speech_features(samples, fps)
    curves = {k: np.asarray(v, np.float64).copy() for k, v in idle.items()}
    n = len(feat.energy)
    for source in (viseme_curves(feat, fps), gesture_curves(feat, fps)):
        for name, values in source.items():
            curves[name] = curves.get(name, np.zeros(n))[:n] + values
    return curves
