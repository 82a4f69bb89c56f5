"""``standard``: 128 px, the classic shape with residual blocks in the encoder's last level and after
every decoder upscale, which sharpens eyes and teeth at little cost.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from torch import nn

from facecraft.errors import FacecraftError
from facecraft.train.models.base import FaceAutoencoder, ModelConfig, register
from facecraft.train.models.blocks import Bottleneck, Down, Head, Residual, Up


@dataclass(frozen=True)
class StandardConfig(ModelConfig):
    size: int = 128
    encoder_channels: tuple[int, ...] = (64, 128, 256, 512)
    """Channels of the stride-2 5x5 convs; the encoder divides the size by 2 per entry."""
    latent: int = 512
    """Width of the dense bottleneck vector shared by all identities."""
    bottleneck_channels: int = 256
    bottleneck_out: int = 512
    decoder_channels: tuple[int, ...] = (256, 128, 64)
    """Channels of the decoder's upscales; the decoder doubles the size per entry."""
    residual_blocks: int = 1
    """Residual blocks after each decoder upscale (and at the encoder's deepest level)."""

    @property
    def min_factor(self) -> int:
        return 2 ** max(len(self.encoder_channels), len(self.decoder_channels) + 1)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.encoder_channels or not self.decoder_channels:
            raise FacecraftError("encoder_channels and decoder_channels must not be empty")
        if self.residual_blocks < 0:
            raise FacecraftError("residual_blocks must be 0 or more")


def build_residual(config: StandardConfig, identities: Sequence[str]) -> FaceAutoencoder:
    """Residual encoder/decoders (shared by ``standard`` and ``hd``)."""
    chans = (3, *config.encoder_channels)
    in_side = config.size // 2 ** len(config.encoder_channels)
    side = config.size // 2 ** (len(config.decoder_channels) + 1)
    encoder = nn.Sequential(
        *(Down(a, b) for a, b in itertools.pairwise(chans)),
        *(Residual(chans[-1]) for _ in range(config.residual_blocks)),
        Bottleneck(
            chans[-1], in_side, config.latent, side, config.bottleneck_channels, config.bottleneck_out
        ),
    )

    def decoder() -> nn.Module:
        dec = (config.bottleneck_out, *config.decoder_channels)
        layers: list[nn.Module] = []
        for a, b in itertools.pairwise(dec):
            layers.append(Up(a, b))
            layers.extend(Residual(b) for _ in range(config.residual_blocks))
        return nn.Sequential(*layers, Head(dec[-1]))

    return FaceAutoencoder(encoder, {name: decoder() for name in identities}, config.size)


@register("standard", StandardConfig, "128 px classic model with residual blocks")
def build(config: StandardConfig, identities: Sequence[str]) -> FaceAutoencoder:
    return build_residual(config, identities)
