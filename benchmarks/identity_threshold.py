"""Identity threshold calibration: same- and different-person SFace cosines on the shared media, measured
exactly as ``facecraft evaluate`` compares faces.

Two comparisons are calibrated:

- ``source``: a face in a frame (YuNet box -> MediaPipe mesh -> five points -> int8 SFace, as
  facecraft/evaluate/pairs.py embeds it) against a faceset's identity (the normalised mean of the
  embeddings ``facecraft extract`` stored, as facecraft/evaluate/run.py::source_embedding). Used by
  ``source_match_rate``.
- ``pair``: a face against another single face, both embedded as in pairs.py. Used by
  ``original_match_rate``.

Facesets are extracted (every 3rd frame) from each video and from the Obama and Biden photos. Same-person
pairs come from *different sources* (Obama's photos vs his speech video, photo vs photo); pairs within one
video (same session, same light) are reported separately because they flatter the recogniser. Different
person pairs are every face of one identity against every other identity.

Prints JSON: per comparison the distributions (count, mean, std, min, percentiles, max), the equal-error
threshold, the highest different-person cosine, the cosine a normal fit of the different-person pairs
exceeds with probability 1e-4 (how facecraft's thresholds are chosen: a false-accept rate that a few
thousand pairs cannot show directly), and the threshold facecraft uses with its error rates on these pairs.
Takes a few minutes on a 2-core CPU (it runs extract on five clips).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from facecraft.evaluate.pairs import PairFinder
from facecraft.evaluate.run import source_embedding
from facecraft.evaluate.thresholds import PAIR_MATCH, SOURCE_MATCH
from facecraft.extract import ExtractConfig, extract
from facecraft.media.image import read_image
from facecraft.media.video import iter_frames

DATA = Path(os.environ.get("FACECRAFT_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
VIDEOS = {  # identity -> clip
    "obama": "obama_speaking_8s.mp4",
    "woman_glasses": "woman_glasses_talking_5s_audio.mp4",
    "man_orange": "man_glasses_orange_7s_audio.mp4",
    "man_grey": "man_grey_backdrop_7s_audio.mp4",
    "man_green": "man_green_screen_3s.mp4",
}
PHOTOS = {
    "obama": [
        "obama_1_portrait.jpg",
        "obama_2_podium.jpg",
        "obama_3_pressroom.jpg",
        "obama_4_small_320x240.jpg",
    ],
    "biden": ["biden_1_standing.jpg", "biden_2_portrait.jpg"],
}
PORTRAITS = {
    "einstein": "einstein_photo.jpg",
    "mona_lisa": "mona_lisa.jpg",
    "lady_agnew": "lady_agnew_painting.jpg",
}
PROBE_EVERY = 10  # video frames between probe faces
NORMAL_Z = 3.72  # one-sided normal quantile of 1e-4
MARGIN = 0.05  # for what 9 people cannot show (other faces, swapped faces, poor light)


def probes(finder: PairFinder) -> list[tuple[str, str, np.ndarray]]:
    """(identity, source file, embedding) of faces embedded as evaluate embeds them."""
    out = []

    def add(identity: str, name: str, image: np.ndarray) -> None:
        pairs = finder.find(image, image)
        if pairs:
            out.append((identity, name, pairs[0].swapped_embedding))

    for identity, clip in VIDEOS.items():
        for frame in iter_frames(DATA / "videos" / clip):
            if frame.index % PROBE_EVERY == 0:
                add(identity, clip, frame.image)
    for identity, names in PHOTOS.items():
        for name in names:
            add(identity, name, read_image(DATA / "images" / name))
    for identity, name in PORTRAITS.items():
        add(identity, name, read_image(DATA / "portraits" / name))
    return out


def facesets(tmp: Path) -> dict[tuple[str, str], np.ndarray]:
    """(identity, source) -> the faceset identity embedding, for each video and each identity's photos."""
    config = ExtractConfig(every=3, size=96)
    out = {}
    for identity, clip in VIDEOS.items():
        extract([DATA / "videos" / clip], tmp / identity, config, progress=False)
        out[(identity, clip)] = source_embedding(tmp / identity)
    for identity, names in PHOTOS.items():
        folder = tmp / f"{identity}_photos"
        extract([DATA / "images" / n for n in names], folder, config, progress=False)
        out[(identity, "photos")] = source_embedding(folder)
    return out


def stats(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"count": 0}
    v = np.asarray(values)
    q = np.percentile(v, [1, 5, 50, 95, 99])
    return {
        "count": len(v),
        "mean": round(float(v.mean()), 4),
        "std": round(float(v.std()), 4),
        "min": round(float(v.min()), 4),
        "p01": round(float(q[0]), 4),
        "p05": round(float(q[1]), 4),
        "median": round(float(q[2]), 4),
        "p95": round(float(q[3]), 4),
        "p99": round(float(q[4]), 4),
        "max": round(float(v.max()), 4),
    }


def equal_error(same: list[float], different: list[float]) -> dict[str, float]:
    """The threshold where the false-reject rate (same below) equals the false-accept rate (different at or
    above), searched on a 0.001 grid."""
    s, d = np.asarray(same), np.asarray(different)
    grid = np.arange(-0.2, 1.0, 0.001)
    frr = np.array([(s < t).mean() for t in grid])
    far = np.array([(d >= t).mean() for t in grid])
    i = int(np.argmin(np.abs(frr - far)))
    return {"threshold": round(float(grid[i]), 3), "rate": round(float((frr[i] + far[i]) / 2), 4)}


def normal_tail(different: list[float], z: float = NORMAL_Z) -> float:
    """The cosine a normal distribution fitted to the different-person pairs exceeds with probability
    1e-4 (z = 3.72): a threshold for a false-accept rate the few measured pairs cannot show directly."""
    d = np.asarray(different)
    return round(float(d.mean() + z * d.std()), 3)


def rates(same: list[float], different: list[float], threshold: float) -> dict[str, float]:
    return {
        "threshold": threshold,
        "false_reject": round(float(np.mean(np.asarray(same) < threshold)), 4),
        "false_accept": round(float(np.mean(np.asarray(different) >= threshold)), 4),
    }


def main() -> int:
    if not (DATA / "MANIFEST.csv").is_file():
        print(json.dumps({"skipped": f"test media not found at {DATA} (set FACECRAFT_TEST_DATA)"}))
        return 0
    t0 = time.perf_counter()
    finder = PairFinder()
    try:
        faces = probes(finder)
    finally:
        finder.close()
    with tempfile.TemporaryDirectory() as tmp:
        sets = facesets(Path(tmp))
    source = {"same_other_source": [], "same_same_clip": [], "different": []}
    for (identity, origin), emb in sets.items():
        for who, name, probe in faces:
            cos = float(probe @ emb)
            if who != identity:
                source["different"].append(cos)
            elif name == origin or (origin == "photos" and name in PHOTOS.get(identity, [])):
                source["same_same_clip"].append(cos)  # the probe's own source is in the faceset
            else:
                source["same_other_source"].append(cos)
    pair = {"same_other_source": [], "same_same_clip": [], "different": []}
    for i, (who_a, name_a, a) in enumerate(faces):
        for who_b, name_b, b in faces[i + 1 :]:
            cos = float(a @ b)
            key = (
                "different"
                if who_a != who_b
                else ("same_same_clip" if name_a == name_b else "same_other_source")
            )
            pair[key].append(cos)
    result: dict[str, object] = {
        "benchmark": "identity_threshold",
        "recogniser": "SFace int8 (face_recognition_sface_2021dec_int8bq.onnx, OpenCV)",
        "probe_faces": {k: sum(1 for f in faces if f[0] == k) for k in sorted({f[0] for f in faces})},
        "facesets": [f"{i}:{o}" for i, o in sets],
    }
    for name, groups, used in (("source", source, SOURCE_MATCH), ("pair", pair, PAIR_MATCH)):
        same = groups["same_other_source"]
        result[name] = {
            **{k: stats(v) for k, v in groups.items()},
            "equal_error": equal_error(same, groups["different"]),
            "max_different": round(max(groups["different"]), 4),
            "normal_far_1e-4": normal_tail(groups["different"]),
            # the rule facecraft's thresholds follow (facecraft/evaluate/thresholds.py)
            "recommended": round(max(normal_tail(groups["different"]), max(groups["different"])) + MARGIN, 2),
            "facecraft": rates(same, groups["different"], used),
            "facecraft_same_clip_false_reject": round(
                float(np.mean(np.asarray(groups["same_same_clip"]) < used)), 4
            ),
            "opencv_0.363": rates(same, groups["different"], 0.363),
        }
    result["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(result, indent=2))
    s = result["source"]
    print(f"identity_threshold: source {s['facecraft']} (equal error {s['equal_error']})", file=sys.stderr)  # type: ignore[index]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
