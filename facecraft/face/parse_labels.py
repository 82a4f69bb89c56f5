"""What the face parser's labels mean, and the masks made from them: no torch here.

The network itself (torch: :class:`facecraft.face.parse.FaceParser`; OpenCV, for ``animate``:
:class:`facecraft.face.parse_dnn.DnnFaceParser`) gives per pixel the probability of each of these 19
classes. Its weights were trained on CelebAMask-HQ (non-commercial research only): :func:`parser_disabled`
says whether the user has turned it off.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np

LABELS: tuple[str, ...] = (
    "background",
    "skin",
    "l_brow",
    "r_brow",
    "l_eye",
    "r_eye",
    "eyeglasses",
    "l_ear",
    "r_ear",
    "earring",
    "nose",
    "mouth",
    "u_lip",
    "l_lip",
    "neck",
    "necklace",
    "cloth",
    "hair",
    "hat",
)
LABEL_INDEX = {name: i for i, name in enumerate(LABELS)}

#: What a swapped face draws: the face surface and its features (no hair, hat, glasses, ears, neck).
FACE_CLASSES = ("skin", "l_brow", "r_brow", "l_eye", "r_eye", "nose", "mouth", "u_lip", "l_lip")
#: Things that cover a face and must stay the target's (hair, hats, glasses frames, jewellery).
OCCLUDER_CLASSES = ("hair", "hat", "eyeglasses", "earring", "necklace", "cloth")
EYE_CLASSES = ("l_eye", "r_eye")
GLASSES_FRAME_BAND = 0.015
"""The parser's glasses class covers frames *and* lenses; its outer band this share of the crop wide (about a
frame's thickness) is taken as the frames, the rest as the lenses (with the eyes behind them)."""
BROW_CLASSES = ("l_brow", "r_brow")
MOUTH_CLASSES = ("mouth", "u_lip", "l_lip")

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def parser_disabled() -> bool:
    """True when the user has turned the (non-commercial) parser off with ``FACECRAFT_NO_PARSER=1``."""
    return os.environ.get("FACECRAFT_NO_PARSER", "").strip() not in ("", "0", "false", "no")


def class_mask(labels: np.ndarray, names: Iterable[str]) -> np.ndarray:
    """Boolean mask of the pixels whose label is one of ``names``."""
    wanted = np.zeros(len(LABELS), dtype=bool)
    for name in names:
        wanted[LABEL_INDEX[name]] = True
    return wanted[labels]


def soft_class_mask(probs: np.ndarray, names: Iterable[str]) -> np.ndarray:
    """(H, W) float32 0..1: the summed probability of the classes ``names`` (soft edges, no aliasing)."""
    idx = [LABEL_INDEX[n] for n in names]
    return np.clip(probs[..., idx].sum(axis=2), 0.0, 1.0).astype(np.float32)
