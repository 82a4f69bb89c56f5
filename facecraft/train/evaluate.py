"""Validation metrics and the preview grid, on the held-out faces (no augmentation, no grad)."""

from __future__ import annotations

import numpy as np
import torch

from facecraft.train.data import IdentityData
from facecraft.train.device import autocast
from facecraft.train.losses import masked_psnr, masked_ssim
from facecraft.train.models import FaceAutoencoder


def _as_input(d: IdentityData, idx: torch.Tensor, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    x = (d.images[idx.to(d.images.device)].to(device).float() / 255).contiguous(
        memory_format=torch.channels_last
    )
    face = d.masks[idx.to(d.masks.device), :1].to(device).float() / 255
    return x, face


@torch.no_grad()
def validate(
    net: FaceAutoencoder, data: list[IdentityData], device: torch.device
) -> dict[str, dict[str, float]]:
    """Per identity: mean masked SSIM and PSNR (dB) of its validation faces redrawn by its own decoder."""
    was_training = net.training
    net.eval()
    out: dict[str, dict[str, float]] = {}
    for d in data:
        ssim, psnr = [], []
        for chunk in torch.split(d.val_idx, 64):
            x, face = _as_input(d, chunk, device)
            with autocast(device):
                y = net.convert(x, d.name)[:, :3]
            ssim.append(masked_ssim(y, x, face))
            psnr.append(masked_psnr(y, x, face))
        out[d.name] = {"ssim": float(torch.cat(ssim).mean()), "psnr": float(torch.cat(psnr).mean())}
    net.train(was_training)
    return out


def mean_ssim(metrics: dict[str, dict[str, float]]) -> float:
    return float(np.mean([m["ssim"] for m in metrics.values()]))


@torch.no_grad()
def preview_grid(
    net: FaceAutoencoder, data: list[IdentityData], device: torch.device, faces: int = 4
) -> np.ndarray:
    """BGR uint8 grid: for each identity X and each of its first ``faces`` validation faces, a row
    [original, X->X, X->each other identity] (e.g. A, A->A, A->B, then B, B->B, B->A)."""
    was_training = net.training
    net.eval()
    names = [d.name for d in data]
    rows = []
    for d in data:
        x, _ = _as_input(d, d.val_idx[:faces], device)
        order = [d.name] + [n for n in names if n != d.name]
        with autocast(device):
            drawn = [net.convert(x, n)[:, :3].float() for n in order]
        cols = torch.cat([x.float(), *drawn], 3)  # side by side: (n, 3, S, S * (1 + len(order)))
        rows.append(torch.cat(list(cols), 1))
    net.train(was_training)
    width = max(r.shape[2] for r in rows)
    rows = [torch.nn.functional.pad(r, (0, width - r.shape[2])) for r in rows]
    grid = torch.cat(rows, 1).clamp(0, 1).permute(1, 2, 0).cpu().numpy()
    return np.ascontiguousarray((grid[..., ::-1] * 255 + 0.5).astype(np.uint8))
