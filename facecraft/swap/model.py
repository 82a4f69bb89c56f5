"""The face model as the swap sees it: anything with the trained model's ``convert`` contract.

The real model is :class:`facecraft.train.inference.FaceModel`; the swap needs only this protocol, so it
can be driven by any object with the same shape.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from facecraft.errors import FacecraftError


@runtime_checkable
class FaceModelLike(Protocol):
    identities: list[str]
    """Decoder names, e.g. ["A", "B"]."""
    size: int
    """Side of the aligned faces the model takes and returns, in pixels."""
    coverage: str
    """The alignment coverage it was trained on (see face.align.COVERAGES)."""

    def convert(self, faces: np.ndarray, to: str) -> tuple[np.ndarray, np.ndarray]:
        """(N, S, S, 3) BGR uint8 aligned faces -> (N, S, S, 3) BGR uint8 faces from decoder ``to`` and
        (N, S, S) float32 masks in 0..1."""
        ...


def model_device(model: FaceModelLike) -> str:
    """The device a model runs on ("cpu" for models that do not say), for the parser to run beside it."""
    return str(getattr(model, "device", "cpu"))


def load_model(model: str | Path | FaceModelLike, device: str = "auto") -> FaceModelLike:
    """A model object as given, or the trained model in the folder ``model``."""
    if isinstance(model, FaceModelLike):
        return model
    from facecraft.train.inference import FaceModel  # imported here: it brings in torch

    return FaceModel.load(model, device=device)


def pick_identity(model: FaceModelLike, to: str | None) -> str:
    """The decoder to convert to: ``to`` when the model has it, else its first identity."""
    names = list(model.identities)
    if not names:
        raise FacecraftError("the model has no identities (decoders)")
    if to is None:
        return names[0]
    if to not in names:
        raise FacecraftError(f"the model has no identity {to!r}; it knows {', '.join(names)} (use --to NAME)")
    return to


def convert_checked(model: FaceModelLike, faces: np.ndarray, to: str) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`FaceModelLike.convert` with the shapes of its answer checked."""
    out, masks = model.convert(faces, to)
    n, s = faces.shape[0], faces.shape[1]
    if out.shape != faces.shape or out.dtype != np.uint8 or masks.shape != (n, s, s):
        raise RuntimeError(
            f"the model returned faces {out.shape} {out.dtype} and masks {masks.shape} for input {faces.shape}"
        )
    return out, masks.astype(np.float32)


USEFUL_SSIM = 0.65
"""Validation SSIM (face-masked, of a decoder redrawing its own held-out faces) below which a model draws a
featureless face: ``lite`` passes it after a few hundred CPU steps; a CPU ``standard`` after 200 steps does
not (it drew a pink oval)."""


def quality_warning(model: FaceModelLike, to: str) -> str | None:
    """A warning when the model's own validation says decoder ``to`` is not yet useful (None otherwise)."""
    metrics = getattr(model, "validation", None) or {}
    ssim = (metrics.get(to) or {}).get("ssim")
    if ssim is None or ssim >= USEFUL_SSIM:
        return None
    step = getattr(model, "step", "?")
    return (
        f"the model draws {to} with validation SSIM {ssim:.2f} after {step} steps (useful faces start near "
        f"{USEFUL_SSIM}): expect a blurred, featureless face; train it longer"
    )
