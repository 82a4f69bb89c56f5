"""Animate benchmark: is the portrait's iris still drawn, and does it follow the driver's glances?

For each shared portrait and each shared driving clip (``--crop face``, the defaults), every frame's
backward map (output pixel -> portrait pixel) is taken from the renderer, and the portrait's visible iris
(a disk through the mesh's iris points, inside the parser's eyeballs) is carried through it:

- ``folded``: frames where the map turns over (its Jacobian's determinant under 0.05: the output shows the
  portrait's eye mirrored or squashed, a white sliver and a dark wedge) in more than 1 % of the box around
  the eyes; ``fold_share``: the mean share of such pixels. Blinks, where closing lids squash the eye as they
  should, are left out (the driver's eyeBlink blendshapes at 0.3 or more);
- ``iris_kept``: the iris area the output draws over the portrait's own, per frame (``p5``: its 5th
  percentile over frames, blinks left out);
- ``gaze_follow``: correlation, over frames, of where the drawn iris centre sits along its eye (eye
  widths, mean of both eyes) with where the driver's does, relative to the driver's median while its
  eyeLook blendshapes say it looks ahead (so it does not depend on the reference frame animate chose);
  ``gaze_at_rest``: the median |drawn iris offset - the portrait's own| over the frames where the driver
  looks ahead (0 = the portrait looks where it looked).

Prints JSON and a one-line summary. Set ``PYTHONPATH`` to another checkout to measure its code the same way
(a renderer without ``maps`` is measured with the plain mesh warp it used).

    python benchmarks/animate_gaze.py [--portraits a.jpg,b.jpg] [--clips x.mp4,y.mp4]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import cv2
import numpy as np

import facecraft
from facecraft.animate import AnimateConfig
from facecraft.animate import warp as warp_module
from facecraft.animate.driving import FaceFollower, VideoDriver
from facecraft.animate.expressions import EYES, eye_line, iris_offsets
from facecraft.animate.gaze import fold_share
from facecraft.animate.layers import parse_head
from facecraft.animate.portrait import load_portrait
from facecraft.animate.run import Animation
from facecraft.face.detect import FaceDetector
from facecraft.face.mesh import BLENDSHAPE_NAMES, FaceMesher

DATA = Path(os.environ.get("FACECRAFT_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
PORTRAITS = ("mona_lisa.jpg", "einstein_photo.jpg", "lady_agnew_painting.jpg")
CLIPS = (
    "man_green_screen_3s.mp4",
    "man_glasses_orange_7s_audio.mp4",
    "man_grey_backdrop_7s_audio.mp4",
    "woman_glasses_talking_5s_audio.mp4",
    "obama_speaking_8s.mp4",
)
AHEAD = 0.35
FOLD_SHARE = 0.01
_LOOK = [BLENDSHAPE_NAMES.index(f"eyeLook{d}{s}") for d in ("In", "Out", "Down") for s in ("Left", "Right")]
_BLINK = [BLENDSHAPE_NAMES.index(f"eyeBlink{s}") for s in ("Left", "Right")]


def iris_disks(landmarks: np.ndarray, eyes: np.ndarray) -> np.ndarray:
    """(H, W) float32: the portrait's visible irises (disks through the iris points, inside the eyeballs)."""
    disks = np.zeros(eyes.shape, np.uint8)
    for iris, _ in EYES:
        pts = landmarks[list(iris), :2]
        radius = float(np.linalg.norm(pts[1:] - pts[0], axis=1).mean())
        cv2.circle(disks, tuple(np.round(pts[0]).astype(int)), round(radius), 1, -1)
    return disks.astype(np.float32) * (eyes > 0.5)


def _maps(anim: Animation, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    renderer = anim.renderer
    if hasattr(renderer, "maps"):
        map_x, map_y, _ = renderer.maps(target)
    else:  # the code before the gaze was drawn inside the eye: one mesh warp
        map_x, map_y, _ = warp_module.backward_map_and_cover(renderer.layout, anim.portrait.landmarks, target)
    return map_x, map_y


def _drawn_gaze(target: np.ndarray, iris: np.ndarray, map_x: np.ndarray, map_y: np.ndarray) -> float:
    """Where the drawn iris's centre of mass sits along each eye (eye widths from the middle), mean of both."""
    out = []
    for _, (a, b) in EYES:
        middle, axis, width = eye_line(target, (a, b))
        along = target[b, :2] - target[a, :2]
        x0, y0 = np.floor(np.minimum(target[a, :2], target[b, :2]) - 0.3 * np.abs(along).max()).astype(int)
        x1, y1 = np.ceil(np.maximum(target[a, :2], target[b, :2]) + 0.3 * np.abs(along).max()).astype(int)
        x0, y0 = max(x0, 0), max(y0, 0)
        drawn = cv2.remap(iris, map_x[y0:y1, x0:x1], map_y[y0:y1, x0:x1], cv2.INTER_LINEAR)
        if drawn.sum() < 1:
            return float("nan")
        ys, xs = np.mgrid[y0 : y0 + drawn.shape[0], x0 : x0 + drawn.shape[1]]
        centre = np.array([(xs * drawn).sum(), (ys * drawn).sum()]) / drawn.sum()
        out.append(float((centre - middle) @ axis) / width)
    return float(np.mean(out))


def measure(portrait: Path, clip: Path, mesher: FaceMesher, detector: FaceDetector) -> dict:
    config = AnimateConfig(crop="face")
    pic = load_portrait(portrait, mesher, detector, size=config.size, crop=config.crop)
    parsed = parse_head(pic.image, pic.landmarks)
    assert parsed is not None, "the benchmark needs the face parser"
    iris = iris_disks(pic.landmarks, parsed[3])
    rest_area = float(iris.sum())
    driver = VideoDriver(clip, config, mesher, detector, pic.landmarks)
    ref = driver.reference
    anim = Animation(pic, config, (ref.image, ref.mesh.landmarks.astype(np.float64)))
    rest_gaze = _drawn_gaze(
        pic.landmarks,
        iris,
        *np.meshgrid(np.arange(iris.shape[1], dtype=np.float32), np.arange(iris.shape[0], dtype=np.float32)),
    )
    kept, folds, drawn, driven, ahead = [], [], [], [], []
    follow = FaceFollower(mesher, detector)  # the driver's blendshapes (motions carry no blendshapes)
    for motion in driver.motions():
        if motion.landmarks is None:
            continue
        mesh = follow(motion.image)
        shapes = mesh.blendshapes if mesh is not None else np.zeros(len(BLENDSHAPE_NAMES))
        target = anim.target(motion)
        map_x, map_y = _maps(anim, target)
        carried = cv2.remap(iris, map_x, map_y, cv2.INTER_LINEAR)
        if shapes[_BLINK].max() < 0.3:
            kept.append(float(carried.sum()) / rest_area)
            folds.append(fold_share(target, map_x, map_y))
        drawn.append(_drawn_gaze(target, iris, map_x, map_y))
        driven.append(float(np.mean(iris_offsets(motion.landmarks.astype(np.float64)))))
        ahead.append(bool(np.all(shapes[_LOOK] < AHEAD)))
    kept_a, folds_a, drawn_a, driven_a, ahead_a = map(np.array, (kept, folds, drawn, driven, ahead))
    centre = float(np.median(driven_a[ahead_a])) if ahead_a.any() else float(np.median(driven_a))
    ok = ~np.isnan(drawn_a)
    return {
        "portrait": portrait.stem,
        "clip": clip.stem,
        "frames": len(drawn),
        "reference_frame": ref.index,
        "iris_kept_median": round(float(np.median(kept_a)), 3),
        "iris_kept_p5": round(float(np.percentile(kept_a, 5)), 3),
        "folded": int((folds_a > FOLD_SHARE).sum()),
        "fold_share": round(float(folds_a.mean()), 4),
        "gaze_follow": round(float(np.corrcoef(drawn_a[ok], driven_a[ok] - centre)[0, 1]), 3),
        "gaze_at_rest": round(float(np.median(np.abs(drawn_a[ok & ahead_a] - rest_gaze))), 4)
        if (ok & ahead_a).any()
        else None,
    }


def pairs_asked(doc: str | None) -> list[tuple[Path, Path]]:
    """(portrait, driving clip) paths from ``--portraits`` and ``--clips`` (every shared one by default)."""
    ap = argparse.ArgumentParser(description=(doc or "").split("\n")[0])
    ap.add_argument("--portraits", default=",".join(PORTRAITS))
    ap.add_argument("--clips", default=",".join(CLIPS))
    args = ap.parse_args()
    return [
        (DATA / "portraits" / p, DATA / "videos" / c)
        for p in args.portraits.split(",")
        for c in args.clips.split(",")
    ]


def main() -> None:
    pairs = pairs_asked(__doc__)
    mesher, detector = FaceMesher(), FaceDetector()
    rows = [measure(portrait, clip, mesher, detector) for portrait, clip in pairs]
    mesher.close()
    frames = sum(r["frames"] for r in rows)
    result = {
        "code": str(Path(facecraft.__file__).parent),
        "pairs": rows,
        "folded": sum(r["folded"] for r in rows),
        "frames": frames,
        "iris_kept_p5_min": min(r["iris_kept_p5"] for r in rows),
        "gaze_follow_median": round(float(np.median([r["gaze_follow"] for r in rows])), 3),
        "gaze_at_rest_median": round(float(np.median([r["gaze_at_rest"] or 0 for r in rows])), 4),
    }
    print(json.dumps(result, indent=1))
    print(
        f"eyes folded in {result['folded']} of {frames} frames (worst 5th percentile of the iris kept "
        f"{result['iris_kept_p5_min']}); gaze follows the driver with correlation "
        f"{result['gaze_follow_median']} (median of pairs); {result['gaze_at_rest_median']} eye widths off the "
        f"portrait's own gaze while the driver looks ahead"
    )


if __name__ == "__main__":
    main()
