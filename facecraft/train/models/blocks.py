"""Building blocks shared by the architectures: strided convs down, pixel-shuffle up, residual blocks.

All blocks take and return NCHW float tensors. No normalisation layers: batch statistics would make
multi-process training differ from one process, and the classic face-swap models do without them.
"""

from __future__ import annotations

import torch
from torch import nn

LEAK = 0.1


class Down(nn.Sequential):
    """Conv with stride 2 + LeakyReLU: (N, cin, H, W) -> (N, cout, H/2, W/2)."""

    def __init__(self, cin: int, cout: int, kernel: int = 5):
        super().__init__(nn.Conv2d(cin, cout, kernel, 2, kernel // 2), nn.LeakyReLU(LEAK))


class Up(nn.Sequential):
    """Conv to 4x channels + pixel shuffle + LeakyReLU: (N, cin, H, W) -> (N, cout, 2H, 2W)."""

    def __init__(self, cin: int, cout: int, kernel: int = 3):
        super().__init__(
            nn.Conv2d(cin, cout * 4, kernel, 1, kernel // 2), nn.PixelShuffle(2), nn.LeakyReLU(LEAK)
        )


class Residual(nn.Module):
    """Two 3x3 convs with a skip connection (shape preserving)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, 1, 1)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1)
        self.act = nn.LeakyReLU(LEAK)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x + self.conv2(self.act(self.conv1(x))))


class Bottleneck(nn.Module):
    """The dense bottleneck of the classic design: flatten -> latent vector -> dense -> reshape -> upscale.

    (N, cin, in_side, in_side) -> (N, latent) -> (N, channels, side, side) -> (N, out, 2 * side, 2 * side).
    """

    def __init__(self, cin: int, in_side: int, latent: int, side: int, channels: int, out: int):
        super().__init__()
        self.side, self.channels = side, channels
        self.dense1 = nn.Linear(cin * in_side * in_side, latent)
        self.dense2 = nn.Linear(latent, channels * side * side)
        self.up = Up(channels, out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.dense2(self.dense1(torch.flatten(x, 1)))
        return self.up(z.view(-1, self.channels, self.side, self.side))


class Head(nn.Module):
    """Final conv to RGB + mask logits: (N, cin, S, S) -> (N, 4, S, S), sigmoid applied (0..1)."""

    def __init__(self, cin: int, kernel: int = 5):
        super().__init__()
        self.conv = nn.Conv2d(cin, 4, kernel, 1, kernel // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.conv(x))
