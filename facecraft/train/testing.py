"""Tiny models for tests of later stages (swap, evaluate): seconds on a CPU, real training code.

>>> from facecraft.train.testing import tiny_model
>>> model_dir = tiny_model(tmp_path, faceset_a, faceset_b, steps=2)
>>> FaceModel.load(model_dir).convert(faces, to="B")

The facesets must hold at least ``facecraft.train.data.MIN_FACES`` faces each; in tests, extract them
once per session, e.g. ``extract([video], dir, ExtractConfig(size=64, every=4), progress=False)``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from facecraft.train.config import TrainConfig
from facecraft.train.run import train

TINY_LITE: dict[str, Any] = {
    "size": 32,
    "encoder_channels": (8, 16, 32, 64),
    "latent": 32,
    "bottleneck_channels": 16,
    "bottleneck_out": 16,
    "decoder_channels": (16, 8, 8),
}
"""A ``lite`` model with a few thousand weights, 32 px."""


def tiny_config(**changes: Any) -> TrainConfig:
    """A TrainConfig for a tiny CPU model (1 thread, batch 4, no previews); ``changes`` override fields."""
    base = TrainConfig(
        model="lite",
        model_settings=TINY_LITE,
        batch=4,
        steps=2,
        device="cpu",
        threads=1,
        validate_every=1000,
        preview_every=0,
        save_every=1000,
    )
    return replace(base, **changes)


def tiny_model(
    tmp_path: str | Path,
    faceset_a: str | Path,
    faceset_b: str | Path,
    steps: int = 2,
    name: str = "tiny_model",
) -> Path:
    """Train a tiny A/B model for ``steps`` steps into ``tmp_path/name`` and return that folder."""
    out = Path(tmp_path) / name
    train({"A": faceset_a, "B": faceset_b}, out, tiny_config(steps=steps), progress=False)
    return out
