"""Architectures of the face model, each in its own file, plus their shipped YAML presets.

A preset ``<name>.yaml`` has a ``model:`` section (the architecture's config fields) and a ``train:``
section (defaults for :class:`facecraft.train.config.TrainConfig`, e.g. batch and learning rate).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from facecraft.errors import FacecraftError

# Explicit imports register the architectures (no folder scanning).
from facecraft.train.models import hd, lite, original, standard  # noqa: F401
from facecraft.train.models.base import (
    FaceAutoencoder,
    ModelConfig,
    build_model,
    get_architecture,
    list_architectures,
    make_config,
    register,
)


@dataclass(frozen=True)
class Preset:
    name: str
    model: ModelConfig
    train: dict[str, Any]


def load_preset(name: str, size: int | None = None) -> Preset:
    """The shipped preset of architecture ``name``; ``size`` (pixels) overrides the preset's size."""
    get_architecture(name)
    text = resources.files(__package__).joinpath(f"{name}.yaml").read_text()
    data = yaml.safe_load(text) or {}
    model = dict(data.get("model") or {})
    if size is not None:
        model["size"] = size
    train = dict(data.get("train") or {})
    if not isinstance(train, dict):
        raise FacecraftError(f"preset {name}.yaml: 'train' must be a mapping")
    return Preset(name, make_config(name, model), train)


__all__ = [
    "FaceAutoencoder",
    "ModelConfig",
    "Preset",
    "build_model",
    "get_architecture",
    "list_architectures",
    "load_preset",
    "make_config",
    "register",
]
