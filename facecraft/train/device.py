"""Choosing the training/inference device and its numeric settings."""

from __future__ import annotations

import os

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


def cpu_threads(requested: int, processes: int = 1) -> int:
    """Threads per process on CPU: ``requested``, else all cores, or half of them on a crowded machine.

    When other programs keep more than 1.5x the cores busy, OpenMP threads that wait for each other at
    every op's barrier are far slower than fewer threads. ``lite`` on a 2-core machine, measured: load 6,
    2 threads 7 faces/s vs 1 thread 67; load 1.7, 2 threads 190 vs 1 thread 109.
    """
    if requested:
        return requested
    cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except OSError:
        busy = 0.0
    usable = cores if busy < 1.5 * cores else cores // 2
    return max(1, usable // processes)
