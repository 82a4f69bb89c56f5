"""An optional adversarial finishing phase: a small PatchGAN judges the texture of the faces a model draws.

SSIM, L1, the perceptual and identity losses all reward the average of what a face could look like, which is
soft; a discriminator that tells patches of the real training faces from patches the decoders drew asks
for the texture itself (pores, lashes, the edge of the lips), as the field's trainers do in their last
phase (DeepFaceLab's "GAN power", pix2pix's PatchGAN). It is off by default (``loss.adversarial`` 0) and
meant for the end of a training: ``--set loss.adversarial=0.1`` on a resumed model, or
``loss.adversarial_from`` to start it at a given step of one run.

The discriminator sees the face only: its patch scores are averaged under the parser's face mask (hair,
hats and glasses frames carry no weight), on the reconstructions and on the swapped faces (one person's
face drawn by the other's decoder, the path a swap uses) when the identity loss makes them. Hinge loss, its
own Adam; its weights and optimizer are kept in the checkpoint so a resumed phase goes on with the same
discriminator. No spectral normalisation: bounded to a Lipschitz constant of 1, the judge could not tell the
faint grain of a real face from its blurred copy (its loss stayed at chance, 2.0, over 300 steps of a
128 px model), so it asked for nothing.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from facecraft.train.checkpoint import optimizer_from_tensors, optimizer_to_tensors

PREFIX = "adversary."
"""Prefix of the discriminator's weights and optimizer tensors in a checkpoint's ``optimizer.safetensors``."""
CHANNELS = (32, 64, 128)
LEARNING_RATE = 1e-3


class PatchDiscriminator(nn.Module):
    """(N, 3, S, S) RGB 0..1 -> (N, 1, S/4 - 1, S/4 - 1) realness of overlapping patches (~30 px each)."""

    def __init__(self, channels: tuple[int, ...] = CHANNELS):
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 3
        for i, c in enumerate(channels):
            stride = 2 if i < len(channels) - 1 else 1
            layers += [nn.Conv2d(c_in, c, 4, stride, 1), nn.LeakyReLU(0.2, inplace=True)]
            c_in = c
        layers.append(nn.Conv2d(c_in, 1, 3, 1, 1))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.layers(x.float() * 2 - 1)
        return out


def face_weight(masks: torch.Tensor) -> torch.Tensor:
    """(N, 2 or 3, S, S) training masks -> (N, 1, S, S): the face, times where the loss applies (0 on hair,
    hats and glasses frames) when the masks carry it."""
    face = masks[:, :1].float()
    return face * masks[:, 2:3].float() if masks.shape[1] > 2 else face


def _patch_mean(score: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Mean of ``score`` (N, 1, h, w) under ``weight`` (N, 1, S, S) brought to the patches' grid."""
    w = F.adaptive_avg_pool2d(weight, (int(score.shape[-2]), int(score.shape[-1])))
    return (score * w).sum() / w.sum().clamp_min(1e-6)


class Adversary:
    """The discriminator and its optimizer; :meth:`generator_loss` inside the model's step,
    :meth:`update` after it (with the drawn faces detached)."""

    def __init__(self, device: torch.device, seed: int = 0):
        with torch.random.fork_rng(devices=[]):  # its own initial weights; the training's RNG untouched
            torch.manual_seed(seed)
            self.net = PatchDiscriminator().to(device)
        self.model: nn.Module = self.net
        """What :meth:`update` calls: ``net``, or its DDP wrapper under torchrun."""
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=LEARNING_RATE, betas=(0.5, 0.999))
        self._loss: torch.Tensor | None = None

    @property
    def loss(self) -> float:
        """The discriminator's last hinge loss (2 at chance; 0 when it tells every patch apart; NaN before its
        first step). Read when asked (validation), so a step costs no extra device-to-host read."""
        return math.nan if self._loss is None else float(self._loss)

    def generator_loss(self, drawn: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """How unreal the discriminator finds the drawn faces (N, 3, S, S) under ``weight`` (N, 1, S, S):
        its gradient flows into the model, never into the discriminator."""
        self.net.requires_grad_(False)
        try:
            return -_patch_mean(self.net(drawn), weight)
        finally:
            self.net.requires_grad_(True)

    def update(
        self, real: torch.Tensor, drawn: torch.Tensor, weight_real: torch.Tensor, weight_drawn: torch.Tensor
    ) -> None:
        """One discriminator step (hinge loss) on real and drawn faces (finite: the trainer calls it only after a
        finite step of the model)."""
        scores = self.model(torch.cat([real, drawn.detach()]))
        n = real.shape[0]
        loss = _patch_mean(F.relu(1 - scores[:n]), weight_real)
        loss = loss + _patch_mean(F.relu(1 + scores[n:]), weight_drawn)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self._loss = loss.detach()

    def state(self) -> dict[str, torch.Tensor]:
        """Weights and Adam tensors, named under :data:`PREFIX`, for the checkpoint."""
        tensors, _ = optimizer_to_tensors(self.optimizer.state_dict())
        out = {f"{PREFIX}net.{k}": v.detach().cpu().contiguous() for k, v in self.net.state_dict().items()}
        out.update({f"{PREFIX}{k}": v for k, v in tensors.items()})
        return out

    def meta(self) -> dict[str, Any]:
        """The optimizer's JSON part (step counts, hyper-parameters) for the checkpoint's state."""
        return optimizer_to_tensors(self.optimizer.state_dict())[1]

    def load(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any] | None) -> bool:
        """Take a checkpoint's discriminator when it kept one (True); else keep the fresh one."""
        n = len(PREFIX)
        mine = {k[n:]: v for k, v in tensors.items() if k.startswith(PREFIX)}
        weights = {k[4:]: v for k, v in mine.items() if k.startswith("net.")}
        if not weights or meta is None:
            return False
        self.net.load_state_dict(weights)
        optim = {k: v for k, v in mine.items() if k.startswith("optim.")}
        self.optimizer.load_state_dict(optimizer_from_tensors(optim, meta))
        return True
