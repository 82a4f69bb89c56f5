"""Lip sync of `animate --audio` under noise, scored against the clean speech, previous recipe beside current.

The shared clips hold one recording of speech (woman_glasses_talking_5s_audio; man_grey's sound track is
silent and man_glasses_orange's is music). Its speech is mixed, 3 dB above it, with hiss, rumble (brown
noise), a fan (low-passed hiss) and the music of man_glasses_orange, and each portrait speaks each mixture.
Scores (facecraft.animate.lipsync, on the output's frames): the correlation of the mouth opening with the
*clean* speech's loudness at the best lag within +-200 ms, and how often the lips are closed where the clean
speech is silent. ``previous``: loudness of the whole signal over at least 15 dB (the recipe before 1
December, sixth session); ``current``: facecraft.animate.speech as it is.

    python benchmarks/animate_lipsync.py [--portraits mona_lisa,einstein_photo] [--size 256]

Prints JSON and a one-line summary.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

import facecraft.animate.speech as speech
from facecraft.animate import AnimateConfig, animate
from facecraft.animate.lipsync import lip_sync
from facecraft.provenance.payload import MEASURE_CONTENT_ID

DATA = Path(os.environ.get("FACECRAFT_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
SPEECH = DATA / "videos" / "woman_glasses_talking_5s_audio.mp4"
MUSIC = DATA / "videos" / "man_glasses_orange_7s_audio.mp4"
SNR_DB = 3.0
PREVIOUS = {"VOICE_BAND": (0.0, 1e9), "SPEECH_RANGE_DB": speech.STEADY_RANGE_DB}
CURRENT = {"VOICE_BAND": speech.VOICE_BAND, "SPEECH_RANGE_DB": speech.SPEECH_RANGE_DB}


def _write_wav(path: Path, samples: np.ndarray) -> None:
    pcm = np.clip(samples / max(1.0, float(np.abs(samples).max())), -1, 1)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(speech.RATE)
        w.writeframes((pcm * 32767).astype("<i2").tobytes())


def _mixtures(clean: np.ndarray) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    n = len(clean)
    white = rng.normal(size=n)
    spec = np.fft.rfft(rng.normal(size=n))
    freqs = np.fft.rfftfreq(n, 1 / speech.RATE)
    spec[1:] /= freqs[1:]
    spec[0] = 0
    music = speech.read_audio(MUSIC)
    noises = {
        "hiss": white,
        "rumble": np.fft.irfft(spec, n),
        "fan": np.convolve(white, np.ones(6) / 6, "same"),
        "music": np.resize(music, n),
    }
    out = {"clean": clean}
    for name, noise in noises.items():
        out[name] = clean + noise / noise.std() * clean.std() / 10 ** (SNR_DB / 20)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--portraits", default="mona_lisa,einstein_photo,lady_agnew_painting")
    ap.add_argument("--size", type=int, default=256)
    args = ap.parse_args()
    if not SPEECH.exists():
        print(json.dumps({"skipped": f"{SPEECH} not found (set FACECRAFT_TEST_DATA)"}))
        return 0
    clean = speech.read_audio(SPEECH)
    results: dict[str, dict[str, dict[str, dict[str, float | None]]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mix_name, samples in _mixtures(clean).items():
            wav = Path(tmp) / f"{mix_name}.wav"
            _write_wav(wav, samples)
            for recipe_name, recipe in (("previous", PREVIOUS), ("current", CURRENT)):
                for key, value in recipe.items():
                    setattr(speech, key, value)
                for portrait in args.portraits.split(","):
                    out = Path(tmp) / f"{portrait}_{mix_name}_{recipe_name}.mp4"
                    path = DATA / "portraits" / f"{portrait}.jpg"
                    animate(
                        path,
                        audio=wav,
                        output=out,
                        config=AnimateConfig(size=args.size),
                        progress=False,
                        content_id=MEASURE_CONTENT_ID,  # one watermark id: a rerun scores the same
                    )
                    scores = lip_sync(out, SPEECH)
                    cell = {"correlation": scores["correlation"], "lag_ms": scores["lag_ms"]}
                    cell["closed_in_silence"] = scores["closed_in_silence"]
                    results.setdefault(mix_name, {}).setdefault(recipe_name, {})[portrait] = cell
                    print(mix_name, recipe_name, portrait, cell, file=sys.stderr, flush=True)
        for key, value in CURRENT.items():
            setattr(speech, key, value)
    print(json.dumps({"snr_db": SNR_DB, "size": args.size, "results": results}, indent=2))
    parts = []
    for mix_name, by_recipe in results.items():
        prev = np.mean([c["correlation"] for c in by_recipe["previous"].values()])
        cur = np.mean([c["correlation"] for c in by_recipe["current"].values()])
        parts.append(f"{mix_name} {prev:.2f}->{cur:.2f}")
    print("lip sync vs the clean speech, mean over portraits, previous->current: " + ", ".join(parts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
