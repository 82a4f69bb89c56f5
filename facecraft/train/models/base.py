"""The shared-encoder / per-identity-decoder model and the registry of architectures.

``FaceAutoencoder`` holds one encoder and one decoder per identity. Feeding A's face through the
encoder and B's decoder draws B with A's pose and expression. Every architecture module provides a
frozen config dataclass and a ``build(config, identities)`` function, registered with
``@register("name")``; presets live next to them as ``<name>.yaml``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from facecraft.errors import FacecraftError
from facecraft.registry import Registry


class FaceAutoencoder(nn.Module):
    """One encoder, one decoder per identity; decoders output (N, 4, S, S): RGB 0..1 + mask 0..1."""

    def __init__(self, encoder: nn.Module, decoders: dict[str, nn.Module], size: int):
        super().__init__()
        self.encoder = encoder
        self.decoders = nn.ModuleDict(decoders)
        self.size = size

    @property
    def identities(self) -> list[str]:
        return list(self.decoders.keys())

    def forward(self, batches: Sequence[torch.Tensor], swaps: int = 0) -> list[torch.Tensor]:
        """Reconstruct one batch per identity (in ``identities`` order) with its own decoder.

        batches[i]: (N_i, 3, S, S) RGB 0..1 -> list of (N_i, 4, S, S). The encoder runs once on all.
        ``swaps`` > 0 appends, per identity i, its first ``swaps`` faces drawn by the next identity's
        decoder (i + 1, wrapping): the direction a swap uses, for losses that look at it.
        """
        latent = self.encoder(torch.cat(list(batches)))
        parts = torch.split(latent, [b.shape[0] for b in batches])
        decoders = list(self.decoders.values())
        out = [dec(z) for dec, z in zip(decoders, parts, strict=True)]
        if swaps:
            out += [decoders[(i + 1) % len(decoders)](z[:swaps]) for i, z in enumerate(parts)]
        return out

    def convert(self, faces: torch.Tensor, to: str) -> torch.Tensor:
        """(N, 3, S, S) RGB 0..1 -> (N, 4, S, S) drawn by decoder ``to``."""
        return self.decoders[to](self.encoder(faces))


@dataclass(frozen=True)
class ModelConfig:
    """Fields every architecture config has; subclasses add their own (all JSON-serialisable)."""

    size: int = 64
    """Side of the aligned face the model reads and draws, pixels."""

    @property
    def min_factor(self) -> int:
        """``size`` must be a multiple of this (the total downscale of the encoder)."""
        return 16

    def __post_init__(self) -> None:
        if self.size < self.min_factor * 2 or self.size % self.min_factor:
            raise FacecraftError(
                f"model size must be a multiple of {self.min_factor} and at least {self.min_factor * 2}, "
                f"got {self.size}"
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Architecture:
    name: str
    config_type: type[ModelConfig]
    build: Callable[[Any, Sequence[str]], FaceAutoencoder]
    description: str


ARCHITECTURES: Registry[Architecture] = Registry("model")


def register(name: str, config_type: type[ModelConfig], description: str) -> Callable[[Any], Any]:
    """Decorator for an architecture's ``build(config, identities) -> FaceAutoencoder``."""

    def wrap(build: Callable[[Any, Sequence[str]], FaceAutoencoder]) -> Callable[[Any, Sequence[str]], Any]:
        ARCHITECTURES.add(name, Architecture(name, config_type, build, description))
        return build

    return wrap


def get_architecture(name: str) -> Architecture:
    return ARCHITECTURES.get(name)


def list_architectures() -> list[str]:
    return ARCHITECTURES.names()


def make_config(name: str, values: dict[str, Any]) -> ModelConfig:
    """Build architecture ``name``'s config from a dict, rejecting unknown keys with a clear error."""
    ctype = get_architecture(name).config_type
    known = {f.name for f in dataclasses.fields(ctype)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise FacecraftError(f"unknown setting(s) for model {name!r}: {', '.join(unknown)}")
    cleaned: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    try:
        return ctype(**cleaned)
    except TypeError as exc:
        raise FacecraftError(f"bad settings for model {name!r}: {exc}") from None


def build_model(name: str, config: ModelConfig, identities: Sequence[str]) -> FaceAutoencoder:
    if len(set(identities)) != len(identities) or not identities:
        raise FacecraftError(f"identity names must be unique and non-empty, got {list(identities)}")
    return get_architecture(name).build(config, identities)
