"""``original``: the FakeApp / faceswap "Original" design at 64 px.

Encoder: four 5x5 stride-2 convs (128, 256, 512, 1024 channels), a dense 1024-d bottleneck, a dense
layer back to 4x4x1024 and one upscale to 8x8x512. Each decoder: three pixel-shuffle upscales (256,
128, 64 channels) and a 5x5 conv to RGB + mask. The faceswap original lives in
``plugins/train/model/original.py``; this is the same shape, with a mask channel added.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from torch import nn

from facecraft.errors import FacecraftError
from facecraft.train.models.base import FaceAutoencoder, ModelConfig, register
from facecraft.train.models.blocks import Bottleneck, Down, Head, Up


@dataclass(frozen=True)
class OriginalConfig(ModelConfig):
    size: int = 64
    encoder_channels: tuple[int, ...] = (128, 256, 512, 1024)
    """Channels of the stride-2 convs; the encoder divides the size by 2 per entry."""
    kernel: int = 5
    """Encoder conv kernel, pixels."""
    latent: int = 1024
    """Width of the dense bottleneck vector shared by all identities."""
    bottleneck_channels: int = 1024
    """Channels of the dense layer's reshaped output."""
    bottleneck_out: int = 512
    """Channels after the encoder's final upscale (what each decoder reads)."""
    decoder_channels: tuple[int, ...] = (256, 128, 64)
    """Channels of the decoder's upscales; the decoder doubles the size per entry."""
    head_kernel: int = 5

    @property
    def min_factor(self) -> int:
        return 2 ** max(len(self.encoder_channels), len(self.decoder_channels) + 1)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.encoder_channels or not self.decoder_channels:
            raise FacecraftError("encoder_channels and decoder_channels must not be empty")
        if min(*self.encoder_channels, *self.decoder_channels, self.latent, self.bottleneck_channels) < 1:
            raise FacecraftError("channel counts must be positive")


def build_classic(config: OriginalConfig, identities: Sequence[str]) -> FaceAutoencoder:
    """Conv encoder + dense bottleneck + per-identity upscale decoders (shared by ``original`` and ``lite``)."""
    chans = (3, *config.encoder_channels)
    in_side = config.size // 2 ** len(config.encoder_channels)
    side = config.size // 2 ** (len(config.decoder_channels) + 1)
    encoder = nn.Sequential(
        *(Down(a, b, config.kernel) for a, b in itertools.pairwise(chans)),
        Bottleneck(
            chans[-1], in_side, config.latent, side, config.bottleneck_channels, config.bottleneck_out
        ),
    )

    def decoder() -> nn.Module:
        dec = (config.bottleneck_out, *config.decoder_channels)
        ups = [Up(a, b) for a, b in itertools.pairwise(dec)]
        return nn.Sequential(*ups, Head(dec[-1], config.head_kernel))

    return FaceAutoencoder(encoder, {name: decoder() for name in identities}, config.size)


@register(
    "original", OriginalConfig, "64 px FakeApp/faceswap Original: conv encoder, dense bottleneck, upscalers"
)
def build(config: OriginalConfig, identities: Sequence[str]) -> FaceAutoencoder:
    return build_classic(config, identities)
