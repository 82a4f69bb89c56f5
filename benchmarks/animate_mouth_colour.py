"""Animate benchmark: the colour of the mouth interior copied from the driver, on the delivered files.

Animates each shared portrait with each shared driving clip (``--crop face``, the defaults), meshes every
frame of the delivered (labelled, encoded) file, and over the frames whose lips are apart (inner-lip gap
over 0.04 face widths) reads the Lab colour (OpenCV's 8-bit scale: grey is a* = b* = 128) inside the inner
lips: its median a* and b*, and ``blue``, the share of its pixels on the blue side of grey (b* < 126; a
mouth, its tongue and teeth are red to yellow, never blue). The portrait's skin a*/b* stand beside it.
Set ``PYTHONPATH`` to another checkout to measure its code the same way.

    python benchmarks/animate_mouth_colour.py [--portraits a.jpg,b.jpg] [--clips x.mp4,y.mp4]
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

import facecraft
from facecraft.animate import AnimateConfig, animate
from facecraft.animate.driving import FaceFollower
from facecraft.animate.geometry import face_width, mouth_opening
from facecraft.animate.mouth import skin_stats
from facecraft.animate.portrait import load_portrait
from facecraft.face import regions
from facecraft.face.detect import FaceDetector
from facecraft.face.mesh import FaceMesher
from facecraft.media.video import iter_frames

sys.path.insert(0, str(Path(__file__).resolve().parent))
from animate_gaze import pairs_asked  # the same portraits and clips

OPEN = 0.04
BLUE = 126


def measure(portrait: Path, clip: Path, mesher: FaceMesher, detector: FaceDetector, work: Path) -> dict:
    out = work / f"{portrait.stem}-{clip.stem}.mp4"
    animate(portrait, clip, output=out, config=AnimateConfig(crop="face"), progress=False)
    pic = load_portrait(portrait, mesher, detector, size=512, crop="face")
    skin = skin_stats(pic.image, pic.landmarks)[0]
    follow = FaceFollower(mesher, detector)
    pixels = []
    frames = 0
    for frame in iter_frames(out):
        mesh = follow(frame.image)
        if mesh is None:
            continue
        lm = mesh.landmarks.astype(np.float64)
        if mouth_opening(lm) / face_width(lm) < OPEN:
            continue
        mask = np.zeros(frame.image.shape[:2], np.uint8)
        cv2.fillPoly(mask, [np.round(regions.polygon(lm, "lips_inner")).astype(np.int32)], 1)
        mask = cv2.erode(mask, np.ones((3, 3), np.uint8))  # the lips' own edge is not the inside
        lab = cv2.cvtColor(frame.image, cv2.COLOR_BGR2LAB).reshape(-1, 3)[mask.ravel() > 0]
        pixels.append(lab.astype(np.float32))
        frames += 1
    row: dict = {"portrait": portrait.stem, "clip": clip.stem, "open_frames": frames}
    row["skin_a"], row["skin_b"] = round(float(skin[1]), 1), round(float(skin[2]), 1)
    if pixels:
        lab = np.concatenate(pixels)
        row["mouth_a"] = round(float(np.median(lab[:, 1])), 1)
        row["mouth_b"] = round(float(np.median(lab[:, 2])), 1)
        row["blue"] = round(float((lab[:, 2] < BLUE).mean()), 3)
    return row


def main() -> None:
    pairs = pairs_asked(__doc__)
    mesher, detector = FaceMesher(), FaceDetector()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [measure(portrait, clip, mesher, detector, Path(tmp)) for portrait, clip in pairs]
    mesher.close()
    scored = [r for r in rows if "blue" in r]
    result = {
        "code": str(Path(facecraft.__file__).parent),
        "pairs": rows,
        "blue_max": max(r["blue"] for r in scored),
        "blue_median": round(float(np.median([r["blue"] for r in scored])), 3),
        "pairs_with_a_blue_mouth": sum(r["blue"] > 0.25 for r in scored),
    }
    print(json.dumps(result, indent=1))
    print(
        f"mouth interior on the blue side of grey: median {result['blue_median']:.1%} of its pixels, at most "
        f"{result['blue_max']:.1%}; {result['pairs_with_a_blue_mouth']} of {len(scored)} pairs over 25 %"
    )


if __name__ == "__main__":
    main()
