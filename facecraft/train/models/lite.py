"""``lite``: the Original design slimmed down to learn something in minutes on a 2-core CPU (64 px).

Same shape as :mod:`original` (conv encoder, dense bottleneck, upscale decoders) with 3x3 kernels and
about a sixteenth of the channels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from facecraft.train.models.base import FaceAutoencoder, register
from facecraft.train.models.original import OriginalConfig, build_classic


@dataclass(frozen=True)
class LiteConfig(OriginalConfig):
    size: int = 64
    encoder_channels: tuple[int, ...] = (32, 64, 128, 256)
    kernel: int = 3
    latent: int = 256
    bottleneck_channels: int = 128
    bottleneck_out: int = 128
    decoder_channels: tuple[int, ...] = (64, 32, 16)
    head_kernel: int = 3


@register("lite", LiteConfig, "64 px small classic model for CPUs and quick tests")
def build(config: LiteConfig, identities: Sequence[str]) -> FaceAutoencoder:
    return build_classic(config, identities)
