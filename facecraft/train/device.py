"""Choosing the training/inference device and its numeric settings."""

from __future__ import annotations

import torch

from facecraft.errors import FacecraftError


def resolve_device(name: str) -> torch.device:
    """``auto`` -> cuda when available else cpu; ``cuda`` without a GPU is a user error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise FacecraftError("--device cuda was asked for but no CUDA GPU is available; use --device cpu")
        return torch.device(name)
    if name == "cpu":
        return torch.device("cpu")
    raise FacecraftError(f"unknown device {name!r}; use auto, cpu or cuda")


def autocast(device: torch.device) -> torch.autocast:
    """bf16 autocast on CUDA (no loss scaling needed); a disabled context on CPU (fp32, exact resume)."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)
