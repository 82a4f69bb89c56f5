"""False positives of the watermark detector on unmarked pictures: frames, windows, crops and variations.

Every sample is one detector call (as verify makes one per file). Prints the score distribution, the highest
scores, how often a payload's check bits matched by chance, and the tail fit that gives the implied rate
per file/video at the thresholds. Usage: python benchmarks/provenance_fp.py [--samples 10000] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import cv2
import numpy as np

from facecraft.media.image import read_image
from facecraft.media.video import iter_frames
from facecraft.provenance.detect import ID_THRESHOLD, SYNC_THRESHOLD, detect
from facecraft.provenance.payload import CHECK_BITS

SHARED = Path(
    os.environ.get("FACECRAFT_TEST_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data")
)


def _sources() -> list[np.ndarray]:
    pictures = [read_image(p) for p in sorted((SHARED / "images").glob("*.jpg"))]
    pictures += [read_image(p) for p in sorted((SHARED / "portraits").glob("*.jpg"))]
    for video in sorted((SHARED / "videos").glob("*.mp4")):
        pictures += [f.image for f in iter_frames(video) if f.index % 10 == 0]
    return pictures


def _variation(img: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """A random unmarked sample: a window/crop, rescaled, maybe mirrored, rotated, re-encoded or noised."""
    h, w = img.shape[:2]
    kind = rng.choice(["frame", "window", "crop", "synthetic"], p=[0.15, 0.45, 0.3, 0.1])
    if kind == "synthetic":
        size = int(rng.integers(128, 640))
        noise = rng.standard_normal((size, size)).astype(np.float32)
        grey = cv2.GaussianBlur(noise, (0, 0), float(rng.uniform(0.5, 8))) * float(rng.uniform(10, 80)) + 128
        out = np.repeat(np.clip(grey, 0, 255).astype(np.uint8)[:, :, None], 3, axis=2)
    elif kind == "frame":
        out = img
    else:
        side = int(rng.integers(96, max(97, min(h, w))))
        ch = side if kind == "window" else int(rng.integers(96, h + 1))
        cw = side if kind == "window" else int(rng.integers(96, w + 1))
        ch, cw = min(ch, h), min(cw, w)
        y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        out = img[y : y + ch, x : x + cw]
    if rng.random() < 0.3:
        f = float(rng.uniform(0.4, 1.5))
        out = cv2.resize(out, (max(32, int(out.shape[1] * f)), max(32, int(out.shape[0] * f))))
    if rng.random() < 0.2:
        out = out[:, ::-1]
    if rng.random() < 0.15:
        a = float(rng.uniform(-5, 5))
        m = cv2.getRotationMatrix2D((out.shape[1] / 2, out.shape[0] / 2), a, 1.0)
        out = cv2.warpAffine(np.ascontiguousarray(out), m, (out.shape[1], out.shape[0]))
    if rng.random() < 0.2:
        ok, data = cv2.imencode(
            ".jpg", np.ascontiguousarray(out), [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 95))]
        )
        out = cv2.imdecode(data, cv2.IMREAD_COLOR) if ok else out
    return np.ascontiguousarray(out), str(kind)


def _tail_rate(scores: np.ndarray, threshold: float) -> float:
    """P(score >= threshold) from an exponential fit to the top 1% of scores (a Gumbel-type tail)."""
    top = np.sort(scores)[-max(20, len(scores) // 100) :]
    u = float(top[0])
    scale = float(np.mean(top - u)) or 1e-9
    share = len(top) / len(scores)
    return (
        share * math.exp(-(threshold - u) / scale) if threshold > u else float(np.mean(scores >= threshold))
    )


def run(samples: int, seed: int = 0, minutes: float = 0.0) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    pictures = _sources()
    scores: list[float] = []
    kinds: dict[str, int] = {}
    chance_ids = chance_checks = marks = 0
    start = time.perf_counter()
    for _ in range(samples):
        if minutes and time.perf_counter() - start > 60 * minutes:
            break  # out of time: report what was measured
        img, kind = _variation(pictures[int(rng.integers(0, len(pictures)))], rng)
        kinds[kind] = kinds.get(kind, 0) + 1
        det = detect([img])
        scores.append(det.score)
        chance_ids += det.found
        marks += det.mark
        chance_checks += det.score >= ID_THRESHOLD
        if len(scores) % 250 == 0:  # progress, for long runs on a busy machine
            print(f"{len(scores)} samples, max {max(scores):.2f}, ids {chance_ids}", flush=True)
    arr = np.array(scores)
    sync_rate = _tail_rate(arr, SYNC_THRESHOLD)
    id_rate = _tail_rate(arr, ID_THRESHOLD) * 2.0**-CHECK_BITS
    return {
        "samples": len(scores),
        "kinds": kinds,
        "seconds": round(time.perf_counter() - start, 1),
        "score_mean": round(float(arr.mean()), 3),
        "score_p99": round(float(np.percentile(arr, 99)), 3),
        "score_max": round(float(arr.max()), 3),
        "top10": [round(float(x), 2) for x in np.sort(arr)[-10:]],
        "id_threshold": ID_THRESHOLD,
        "sync_threshold": SYNC_THRESHOLD,
        "over_id_threshold": int(chance_checks),
        "ids_reported": int(chance_ids),
        "marks_reported": int(marks),
        "implied_rate_wrong_id_per_file": id_rate,
        "implied_rate_unknown_id_mark_per_file": sync_rate,
        "margin_to_sync_threshold": round(SYNC_THRESHOLD - float(arr.max()), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--minutes", type=float, default=0.0, help="stop after this long (0: no limit)")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    result = run(args.samples, args.seed, args.minutes)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
