"""Perceptual loss: distances between deep features of the drawn face and the real one.

SSIM and L1 are satisfied by a blur that gets the average right; features of a network trained to see
faces are not. The features come from the face parser's ResNet-18 trunk (ImageNet-initialised, then
trained on CelebAMask-HQ faces), which facecraft already ships, so nothing new is downloaded. As in
LPIPS, each feature vector is scaled to unit length per pixel before the squared difference, so every
layer counts alike; unlike LPIPS there are no learned per-channel weights (none are shipped offline).
The trunk is frozen and in eval mode; gradients flow only into the drawn face.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from facecraft.face.parse import fold_batchnorm, load_bisenet, normalise

MIN_INPUT = 128
"""The trunk reads at least 128 px (a 64 px model's faces are upsampled): at 1/4 and 1/8 of 64 px its
feature maps would be 16 and 8 pixels wide, too coarse for skin and eyelids."""


class PerceptualLoss(nn.Module):
    """Mean over faces of the masked, unit-normalised feature distance at ``layers`` trunk stages."""

    def __init__(self, layers: int = 2):
        super().__init__()
        # Batch norms folded into the convolutions (frozen, eval mode): the same features, less to run.
        trunk = copy.deepcopy(fold_batchnorm(load_bisenet()).cp.resnet).eval()
        for p in trunk.parameters():
            p.requires_grad_(False)
        self.trunk = trunk
        self.layers = layers

    def train(self, mode: bool = True) -> PerceptualLoss:
        """The trunk stays in eval mode (frozen batch-norm statistics) whatever the trainer asks."""
        super().train(mode)
        self.trunk.eval()
        return self

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """(N, 3, S, S) RGB 0..1 -> the first ``layers`` stage outputs of the trunk."""
        if x.shape[-1] < MIN_INPUT:
            x = F.interpolate(x, size=(MIN_INPUT, MIN_INPUT), mode="bilinear", align_corners=False)
        return list(self.trunk.features(normalise(x), self.layers))

    def forward(self, drawn: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """drawn, target (N, 3, S, S) RGB 0..1; weight (N, 1, S, S) per-pixel loss weights -> scalar."""
        n = drawn.shape[0]
        with torch.no_grad():
            real = self.features(target.float())
        fake = self.features(drawn.float())
        total = drawn.new_zeros(())
        for a, b in zip(fake, real, strict=True):
            d = (F.normalize(a, dim=1) - F.normalize(b, dim=1)).pow(2).sum(1, keepdim=True)
            w = F.adaptive_avg_pool2d(weight.float(), (d.shape[-2], d.shape[-1]))
            total = total + ((d * w).sum((1, 2, 3)) / w.sum((1, 2, 3)).clamp_min(1e-6)).sum() / n
        return total / len(fake)
