"""The expression loss on the swap path: where the real face's mouth and eyes open, close and crease,
the swapped face's must too, whatever its colour."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from train_fixtures import facesets  # noqa: F401

from facecraft.face.detect import FaceDetector
from facecraft.train.losses import expression_loss


def _faces(shared_data: Path, size: int = 64) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(real, closed, masks): a real face (his broad smile shows teeth), the same face with the mouth
    painted shut (lip colour and one lip line), both RGB 0..1 (1, 3, S, S), and masks (1, 3, S, S): the
    face, the mouth region, everywhere."""
    image = cv2.imread(str(shared_data / "images" / "obama_1_portrait.jpg"))
    found = FaceDetector().detect(image)[0]
    x, y, w, h = found.bbox
    crop = image[int(y) : int(y + h), int(x) : int(x + w)]
    face = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
    kx, ky = size / w, size / h
    (lx, ly), (rx, ry) = found.points[3], found.points[4]
    cx, cy = ((lx + rx) / 2 - x) * kx, ((ly + ry) / 2 - y) * ky
    half = (rx - lx) / 2 * kx
    centre, axes = (round(cx), round(cy)), (round(half * 1.1), round(half * 0.5))
    closed = face.copy()
    lips = np.median(
        face[round(cy) - 1 : round(cy) + 2, round(cx - half) : round(cx + half)].reshape(-1, 3), 0
    )
    cv2.ellipse(closed, centre, axes, 0, 0, 360, (lips * 0.8).tolist(), -1)
    cv2.line(closed, (round(cx - half), round(cy)), (round(cx + half), round(cy)), (50, 40, 60), 1)
    region = np.zeros((size, size), np.float32)
    cv2.ellipse(region, centre, (axes[0] + 3, axes[1] + 3), 0, 0, 360, 1.0, -1)
    masks = torch.stack([torch.ones(size, size), torch.from_numpy(region), torch.ones(size, size)])[None]

    def tensor(bgr: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(bgr[..., ::-1].copy()).permute(2, 0, 1)[None].float() / 255

    return tensor(face), tensor(closed), masks


def test_a_grin_over_a_closed_mouth_costs_a_new_skin_tone_does_not(shared_data: Path) -> None:
    real, closed, masks = _faces(shared_data)
    assert expression_loss(real, real, masks).item() < 1e-6
    grin_on_closed = expression_loss(real, closed, masks).item()
    assert grin_on_closed > 0.1
    assert expression_loss(closed, real, masks).item() > 0.1
    # another person's colouring (darker, warmer) over the same expression costs a fraction of that
    other = (real * torch.tensor([0.75, 0.6, 0.5]).view(1, 3, 1, 1) + 0.05).clamp(0, 1)
    assert expression_loss(other, real, masks).item() < 0.2 * grin_on_closed
    # outside the eyes and mouth nothing counts
    masks_elsewhere = masks.clone()
    masks_elsewhere[:, 1] = 0
    assert expression_loss(real, closed, masks_elsewhere).item() == 0.0
    # its gradient closes the mouth: a few steps on the grinning face's pixels bring it toward the closed one
    x = real.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=0.02)
    for _ in range(20):
        opt.zero_grad()
        expression_loss(x, closed, masks).backward()
        opt.step()
    assert expression_loss(x.detach().clamp(0, 1), closed, masks).item() < 0.6 * grin_on_closed


def test_the_trainer_adds_the_expression_term_on_swapped_faces(facesets) -> None:  # noqa: F811
    from facecraft.train.data import load_identity
    from facecraft.train.distributed import DistInfo
    from facecraft.train.losses import LossConfig
    from facecraft.train.models import build_model, make_config
    from facecraft.train.testing import TINY_LITE, tiny_config
    from facecraft.train.trainer import Trainer

    data = [load_identity(n, p, 32) for n, p in facesets.items()]
    net = build_model("lite", make_config("lite", TINY_LITE), ["A", "B"])
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    cfg = tiny_config(loss=LossConfig(identity=0.3, identity_faces=2, perceptual=0.0, expression=1.0))
    trainer = Trainer(net, opt, data, cfg, 4, torch.device("cpu"), DistInfo())
    inputs, targets, masks = trainer.batch_for(0)
    term = trainer._expression_term(net(inputs, swaps=2), targets, masks, 2)
    assert term.item() > 0
    term.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in net.encoder.parameters())
