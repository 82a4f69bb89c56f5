"""SFace run by torch matches OpenCV's FaceRecognizerSF and passes gradients to the pixels."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from facecraft.face.detect import FaceDetector
from facecraft.face.identity import IdentityEncoder, sface_alignment
from facecraft.face.sface_torch import load_sface_torch


def _crop(path: Path, which: int = 0) -> np.ndarray:
    image = cv2.imread(str(path))
    det = FaceDetector().detect(image)[which]
    return sface_alignment(det.points).warp(image, cv2.INTER_LINEAR)


def _rgb_tensor(crop_bgr: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(crop_bgr[..., ::-1].copy()).permute(2, 0, 1)[None].float()


@pytest.mark.parametrize(
    "name",
    [
        "obama_1_portrait.jpg",
        "obama_4_small_320x240.jpg",
        "biden_2_portrait.jpg",
        "obama_biden_two_faces.jpg",
    ],
)
def test_matches_opencv(shared_data: Path, name: str) -> None:
    crop = _crop(shared_data / "images" / name)
    reference = IdentityEncoder()._net.feature(crop).reshape(-1)
    ours = load_sface_torch()(_rgb_tensor(crop))[0].numpy()
    cosine = float(ours @ reference / np.linalg.norm(ours) / np.linalg.norm(reference))
    assert cosine >= 0.9999


def test_gradients_reach_the_pixels_and_tell_people_apart(shared_data: Path) -> None:
    net = load_sface_torch()
    obama = _rgb_tensor(_crop(shared_data / "images" / "obama_1_portrait.jpg"))
    biden = _rgb_tensor(_crop(shared_data / "images" / "biden_2_portrait.jpg"))
    x = obama.clone().requires_grad_(True)
    e = torch.nn.functional.normalize(net(torch.cat([x, biden])), dim=1)
    similarity = (e[0] * e[1]).sum()
    similarity.backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0
    assert float(similarity.detach()) < 0.3  # different people
    assert not any(p.requires_grad for p in net.parameters())
