"""The perceptual loss on real faces: zero for the real face, larger for a blur, and its gradient sharpens."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from train_fixtures import facesets  # noqa: F401

from facecraft.face.detect import FaceDetector
from facecraft.train.perceptual import PerceptualLoss


def _face(shared_data: Path, size: int = 64) -> torch.Tensor:
    image = cv2.imread(str(shared_data / "images" / "obama_1_portrait.jpg"))
    x, y, w, h = FaceDetector().detect(image)[0].bbox
    crop = image[int(y) : int(y + h), int(x) : int(x + w)]
    rgb = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)[..., ::-1]
    return torch.from_numpy(rgb.copy()).permute(2, 0, 1)[None].float() / 255


@pytest.mark.parser
def test_blur_costs_more_than_the_real_face_and_the_gradient_restores_detail(shared_data: Path) -> None:
    loss = PerceptualLoss()
    real = _face(shared_data)
    weight = torch.ones(1, 1, 64, 64)
    blur = torch.from_numpy(cv2.GaussianBlur(real[0].permute(1, 2, 0).numpy(), (0, 0), 2.0)).permute(2, 0, 1)[
        None
    ]
    assert loss(real, real, weight).item() < 1e-6
    blurred = loss(blur, real, weight).item()
    assert blurred > 0.05
    # a few gradient steps on the blurred face's pixels bring its features (and its pixels) toward the real
    x = blur.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=0.01)
    for _ in range(15):
        opt.zero_grad()
        loss(x, real, weight).backward()
        opt.step()
    after = loss(x.detach().clamp(0, 1), real, weight).item()
    assert after < 0.7 * blurred
    assert (x.detach() - real).abs().mean() < (blur - real).abs().mean()
    # the trunk is frozen, stays in eval mode, and only the weighted pixels count
    assert not any(p.requires_grad for p in loss.parameters())
    loss.train()
    assert not loss.trunk.training
    assert loss(blur, real, torch.zeros(1, 1, 64, 64)).item() == 0.0
    assert np.isfinite(blurred)


def test_the_trainer_adds_the_perceptual_term_when_the_parser_is_on(facesets, monkeypatch) -> None:  # noqa: F811
    from facecraft.train.data import load_identity
    from facecraft.train.distributed import DistInfo
    from facecraft.train.losses import LossConfig
    from facecraft.train.models import build_model, make_config
    from facecraft.train.testing import TINY_LITE, tiny_config
    from facecraft.train.trainer import Trainer

    data = [load_identity(n, p, 32) for n, p in facesets.items()]  # landmark masks (parser off here)
    net = build_model("lite", make_config("lite", TINY_LITE), ["A", "B"])
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    off = Trainer(net, opt, data, tiny_config(), 4, torch.device("cpu"), DistInfo())
    assert off.perceptual_loss is None  # FACECRAFT_NO_PARSER=1 in fast tests: no parser, no perceptual loss
    monkeypatch.delenv("FACECRAFT_NO_PARSER")
    cfg = tiny_config(loss=LossConfig(identity=0.0, perceptual=1.0, perceptual_faces=2))
    on = Trainer(net, opt, data, cfg, 4, torch.device("cpu"), DistInfo())
    assert on.perceptual_loss is not None
    inputs, targets, masks = on.batch_for(0)
    term = on._perceptual_term(net(inputs), targets, masks)
    assert term.item() > 0
    term.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in net.encoder.parameters())
    assert (
        Trainer(
            net, opt, data, replace(cfg, loss=LossConfig(perceptual=0.0)), 4, torch.device("cpu"), DistInfo()
        ).perceptual_loss
        is None
    )
