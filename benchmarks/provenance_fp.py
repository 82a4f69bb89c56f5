"""False positives of the watermark detector on unmarked pictures: frames, windows, crops and variations.

Every sample is one detector call (as verify makes one per file). Prints the score distribution, the highest
scores, how often a payload's check bits matched by chance, and the tail fit that gives the implied rate
per file/video at the thresholds.

Sample ``i`` of seed ``s`` is drawn from its own generator (``default_rng([s, i])``), so a run can be split,
resumed or extended: with ``--scores FILE`` every sample's score is appended to FILE (one JSON line each) as
it is measured, samples already in FILE are not measured again, and the summary is of every sample in FILE
(and in any ``--merge`` files). Records of another detector version (a hash of its source) are refused.

Usage: python benchmarks/provenance_fp.py [--samples 10000] [--start 0] [--seed 0] [--scores FILE]
       [--minutes M] [--json OUT]
       python benchmarks/provenance_fp.py --samples 0 --scores FILE [--merge FILE2 ...]   (summary only)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import time
from pathlib import Path

import cv2
import numpy as np

from facecraft.media.image import read_image
from facecraft.media.video import iter_frames
from facecraft.provenance import coding, payload, watermark
from facecraft.provenance import detect as detect_module
from facecraft.provenance.detect import ID_THRESHOLD, LEGACY_THRESHOLD, SYNC_THRESHOLD, detect
from facecraft.provenance.payload import CHECK_BITS, CONTENT_ID_BITS, LEGACY_PAYLOAD_BITS

SHARED = Path(
    os.environ.get("FACECRAFT_TEST_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data")
)
TARGET_RATE = 1e-6  # the rate per video the thresholds must stay under (issue 10)


def detector_version() -> str:
    """Short hash of the detector's source (detect, watermark, coding, payload): scores of another version
    must not be merged."""
    h = hashlib.sha256()
    for module in (detect_module, watermark, coding, payload):
        h.update(Path(str(module.__file__)).read_bytes())
    return h.hexdigest()[:12]


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
        decoded = cv2.imdecode(data, cv2.IMREAD_COLOR) if ok else None
        out = decoded if decoded is not None else out
    return np.ascontiguousarray(out), str(kind)


def _tail_fit(scores: np.ndarray) -> tuple[float, float, float]:
    """Exponential fit to the top 1% of scores (a Gumbel-type tail): its start, scale and share."""
    top = np.sort(scores)[-max(20, len(scores) // 100) :]
    u = float(top[0])
    return u, float(np.mean(top - u)) or 1e-9, len(top) / len(scores)


def _tail_rate(scores: np.ndarray, threshold: float) -> float:
    """P(score >= threshold) from the tail fit (the observed share where the threshold is inside the data)."""
    u, scale, share = _tail_fit(scores)
    return (
        share * math.exp(-(threshold - u) / scale) if threshold > u else float(np.mean(scores >= threshold))
    )


def _threshold_for(scores: np.ndarray, rate: float) -> float:
    """The score at which the tail fit reaches ``rate``."""
    u, scale, share = _tail_fit(scores)
    return u + scale * math.log(share / rate)


def _read_records(path: Path, version: str) -> list[dict[str, object]]:
    records = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        if rec["version"] != version:
            raise SystemExit(
                f"{path}: a sample of detector version {rec['version']}, this one is {version}: not merged"
            )
        records.append(rec)
    return records


def measure(
    samples: int, start: int = 0, seed: int = 0, minutes: float = 0.0, scores: Path | None = None
) -> list[dict[str, object]]:
    """Measure samples ``start .. start+samples-1`` of ``seed`` (those not already in ``scores``), appending
    each to ``scores``; return the new records."""
    version = detector_version()
    done = set()
    if scores is not None and scores.exists():
        done = {(r["seed"], r["index"]) for r in _read_records(scores, version)}
    todo = [i for i in range(start, start + samples) if (seed, i) not in done]
    if not todo:
        return []
    pictures = _sources()
    if scores is not None:
        scores.parent.mkdir(parents=True, exist_ok=True)
    out = scores.open("a") if scores is not None else None
    records: list[dict[str, object]] = []
    begin = time.perf_counter()
    try:
        for i in todo:
            if minutes and time.perf_counter() - begin > 60 * minutes:
                break  # out of time: what was measured is kept
            rng = np.random.default_rng([seed, i])
            img, kind = _variation(pictures[int(rng.integers(0, len(pictures)))], rng)
            t0 = time.perf_counter()
            det = detect([img])
            rec: dict[str, object] = {
                "seed": seed,
                "index": i,
                "kind": kind,
                "shape": [int(img.shape[0]), int(img.shape[1])],
                "score": round(float(det.score), 4),
                "found": bool(det.found),
                "mark": bool(det.mark),
                "seconds": round(time.perf_counter() - t0, 3),
                "version": version,
            }
            records.append(rec)
            if out is not None:
                out.write(json.dumps(rec) + "\n")
                out.flush()
            if len(records) % 250 == 0:  # progress, for long runs on a busy machine
                top = max(float(str(r["score"])) for r in records)
                ids = sum(bool(r["found"]) for r in records)
                print(f"{len(records)} new samples, max {top:.2f}, ids {ids}", flush=True)
    finally:
        if out is not None:
            out.close()
    return records


def summarise(records: list[dict[str, object]]) -> dict[str, object]:
    """Statistics of the samples (each (seed, index) counted once)."""
    unique = {(r["seed"], r["index"]): r for r in records}
    recs = list(unique.values())
    if not recs:
        raise SystemExit("no samples")
    arr = np.array([float(str(r["score"])) for r in recs])
    kinds: dict[str, int] = {}
    for r in recs:
        kinds[str(r["kind"])] = kinds.get(str(r["kind"]), 0) + 1
    seeds: dict[str, list[int]] = {}
    for r in recs:
        seeds.setdefault(str(r["seed"]), []).append(int(str(r["index"])))
    sync_rate = _tail_rate(arr, SYNC_THRESHOLD)
    id_rate = _tail_rate(arr, ID_THRESHOLD) * 2.0**-CHECK_BITS
    u, scale, share = _tail_fit(arr)
    return {
        "samples": len(recs),
        "duplicates_dropped": len(records) - len(recs),
        "seeds": {s: {"count": len(ix), "first": min(ix), "last": max(ix)} for s, ix in seeds.items()},
        "detector_version": str(recs[0]["version"]),
        "kinds": kinds,
        "detector_seconds": round(sum(float(str(r["seconds"])) for r in recs), 1),
        "score_mean": round(float(arr.mean()), 3),
        "score_std": round(float(arr.std()), 3),
        "score_p99": round(float(np.percentile(arr, 99)), 3),
        "score_p999": round(float(np.percentile(arr, 99.9)), 3),
        "score_max": round(float(arr.max()), 3),
        "top10": [round(float(x), 2) for x in np.sort(arr)[-10:]],
        "max_by_kind": {
            k: round(max(float(str(r["score"])) for r in recs if r["kind"] == k), 3) for k in sorted(kinds)
        },
        "id_threshold": ID_THRESHOLD,
        "sync_threshold": SYNC_THRESHOLD,
        "over_id_threshold": int(np.sum(arr >= ID_THRESHOLD)),
        "ids_reported": int(sum(bool(r["found"]) for r in recs)),
        "marks_reported": int(sum(bool(r["mark"]) for r in recs)),
        "tail_fit": {"start": round(u, 3), "scale": round(scale, 4), "share": round(share, 5)},
        "implied_rate_wrong_id_per_file": id_rate,
        "implied_rate_unknown_id_mark_per_file": sync_rate,
        "legacy_threshold": LEGACY_THRESHOLD,
        "implied_rate_legacy_id_per_file": _tail_rate(arr, LEGACY_THRESHOLD)
        * 2.0 ** -(LEGACY_PAYLOAD_BITS - CONTENT_ID_BITS),
        "sync_threshold_for_target_rate": round(_threshold_for(arr, TARGET_RATE), 2),
        "target_rate": TARGET_RATE,
        "margin_to_sync_threshold": round(SYNC_THRESHOLD - float(arr.max()), 3),
    }


def run(samples: int, seed: int = 0, minutes: float = 0.0, start: int = 0) -> dict[str, object]:
    """Measure and summarise ``samples`` samples without a scores file."""
    return summarise(measure(samples, start, seed, minutes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--samples", type=int, default=10000, help="how many sample indices (0: summary only)"
    )
    parser.add_argument("--start", type=int, default=0, help="first sample index")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--minutes", type=float, default=0.0, help="stop after this long (0: no limit)")
    parser.add_argument("--scores", type=Path, help="JSON-lines file of per-sample scores, appended to")
    parser.add_argument("--merge", type=Path, nargs="*", default=[], help="more score files to summarise")
    parser.add_argument("--json", type=Path, help="also write the summary here")
    args = parser.parse_args()
    version = detector_version()
    records = measure(args.samples, args.start, args.seed, args.minutes, args.scores) if args.samples else []
    if args.scores is not None:
        records = _read_records(args.scores, version) if args.scores.exists() else []
    for extra in args.merge:
        records += _read_records(extra, version)
    text = json.dumps(summarise(records), indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
