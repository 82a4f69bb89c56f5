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


@dataclass(frozen=True)
class Lite128Config(OriginalConfig):
    size: int = 128
    encoder_channels: tuple[int, ...] = (24, 48, 96, 192, 256)
    kernel: int = 3
    latent: int = 256
    bottleneck_channels: int = 128
    bottleneck_out: int = 128
    decoder_channels: tuple[int, ...] = (64, 32, 24, 16)
    head_kernel: int = 3


@register("lite128", Lite128Config, "128 px lite: one more stage, thin channels at full resolution, for CPUs")
def build_128(config: Lite128Config, identities: Sequence[str]) -> FaceAutoencoder:
    """Twice lite's resolution for a little more cost: the extra encoder and decoder stages run at the
    largest sizes, where thin channels keep them cheap."""
    return build_classic(config, identities)
