"""``hd``: 256 px (and up), the quality model for GPUs: the :mod:`standard` residual design one level
deeper, with wider decoders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from facecraft.train.models.base import FaceAutoencoder, register
from facecraft.train.models.standard import StandardConfig, build_residual


@dataclass(frozen=True)
class HDConfig(StandardConfig):
    size: int = 256
    encoder_channels: tuple[int, ...] = (64, 128, 256, 512, 768)
    latent: int = 512
    bottleneck_channels: int = 512
    bottleneck_out: int = 512
    decoder_channels: tuple[int, ...] = (384, 192, 96, 48)
    residual_blocks: int = 1


@register("hd", HDConfig, "256 px (and up) residual model for GPUs")
def build(config: HDConfig, identities: Sequence[str]) -> FaceAutoencoder:
    return build_residual(config, identities)
