"""Augmentation on the training device: random affine + flip, the classic random warp, LAB colour jitter.

All random numbers for a step come from one generator seeded by (seed, step) and are drawn for the
whole global batch, so a resumed run and a multi-process run see exactly the same augmentations. The
network reads the *warped* face and must draw the *unwarped* one (same affine, flip and colour): that
is what teaches it faces rather than copying pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F

from facecraft.errors import FacecraftError


@dataclass(frozen=True)
class AugmentConfig:
    rotate_deg: float = 10.0
    """Largest random rotation, degrees."""
    zoom: float = 0.05
    """Largest random scale change (fraction)."""
    shift: float = 0.05
    """Largest random translation, fraction of the face size."""
    flip: float = 0.5
    """Probability of a horizontal flip."""
    warp: float = 0.02
    """Standard deviation of the random warp displacement, fraction of the face size."""
    warp_grid: int = 5
    """Side of the coarse grid of random displacements (smoothly interpolated)."""
    lab_lightness: float = 8.0
    """Largest lightness shift, CIE L units (0..100)."""
    lab_colour: float = 5.0
    """Largest a/b shift, CIE units."""

    def __post_init__(self) -> None:
        if not 0 <= self.flip <= 1:
            raise FacecraftError("flip probability must be between 0 and 1")
        if min(self.rotate_deg, self.zoom, self.shift, self.warp, self.lab_lightness, self.lab_colour) < 0:
            raise FacecraftError("augmentation strengths must not be negative")
        if self.warp_grid < 2:
            raise FacecraftError("warp_grid must be at least 2")


def draw_params(n: int, cfg: AugmentConfig, seed: int, step: int, stream: int) -> dict[str, torch.Tensor]:
    """Random parameters for ``n`` samples (CPU tensors), a pure function of (seed, step, stream)."""
    g = torch.Generator().manual_seed((seed * 1_000_003 + step) * 64 + stream)

    def u(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=g) * 2 - 1

    return {
        "angle": u(n) * math.radians(cfg.rotate_deg),
        "scale": 1 + u(n) * cfg.zoom,
        "shift": u(n, 2) * cfg.shift * 2,  # grid units span 2 per image side
        "flip": (torch.rand(n, generator=g) < cfg.flip).float(),
        "warp": torch.randn(n, 2, cfg.warp_grid, cfg.warp_grid, generator=g) * cfg.warp * 2,
        "lab": u(n, 3) * torch.tensor([cfg.lab_lightness, cfg.lab_colour, cfg.lab_colour]),
    }


def affine_grid(p: dict[str, torch.Tensor], size: int, device: torch.device) -> torch.Tensor:
    """(N, S, S, 2) sampling grid for rotation/scale/shift/flip (output pixel -> input position)."""
    cos, sin = torch.cos(p["angle"]) / p["scale"], torch.sin(p["angle"]) / p["scale"]
    mirror = 1 - 2 * p["flip"]
    theta = torch.stack(
        [
            torch.stack([cos * mirror, -sin, p["shift"][:, 0]], 1),
            torch.stack([sin * mirror, cos, p["shift"][:, 1]], 1),
        ],
        1,
    )
    return F.affine_grid(theta.to(device), [theta.shape[0], 1, size, size], align_corners=False)


def warp_field(p: dict[str, torch.Tensor], size: int, device: torch.device) -> torch.Tensor:
    """(N, S, S, 2) smooth random displacement in grid units, zero at the image border."""
    coarse = p["warp"].clone()
    # slices, not index lists: a list index is a tensor copied to the device at every step
    for edge in (0, -1):
        coarse[:, :, edge, :] = 0
        coarse[:, :, :, edge] = 0
    field = F.interpolate(coarse.to(device), size=(size, size), mode="bicubic", align_corners=True)
    return field.permute(0, 2, 3, 1)


_RGB2XYZ = torch.tensor(
    [[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]]
)
_WHITE = torch.tensor([0.950456, 1.0, 1.088754])


@lru_cache(maxsize=8)
def _colour_constants(
    device: torch.device, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """RGB->XYZ, XYZ->RGB and the D65 white (1, 3, 1, 1) on ``device``: copied there once, not every step."""
    return (
        _RGB2XYZ.to(device, dtype),
        torch.linalg.inv(_RGB2XYZ).to(device, dtype),
        _WHITE.to(device, dtype).view(1, 3, 1, 1),
    )


def params_to(p: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    """The random parameters of a step on ``device`` with one host-to-device copy (from pinned memory,
    asynchronous, on CUDA) instead of one blocking copy per parameter."""
    if device.type == "cpu":
        return p
    flat = torch.cat([v.reshape(-1).float() for v in p.values()])
    flat = (flat.pin_memory() if device.type == "cuda" else flat).to(device, non_blocking=True)
    out, at = {}, 0
    for name, v in p.items():
        out[name] = flat[at : at + v.numel()].view(v.shape)
        at += v.numel()
    return out


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) sRGB 0..1 -> CIE L*a*b* (L 0..100), D65."""
    to_xyz, _, white = _colour_constants(rgb.device, rgb.dtype)
    lin = torch.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = torch.einsum("ij,njhw->nihw", to_xyz, lin) / white
    f = torch.where(xyz > 0.008856, xyz.clamp_min(1e-8) ** (1 / 3), 7.787 * xyz + 16 / 116)
    return torch.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], 1)


def lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`rgb_to_lab`, clipped to 0..1."""
    _, to_rgb, white = _colour_constants(lab.device, lab.dtype)
    fy = (lab[:, 0] + 16) / 116
    f = torch.stack([fy + lab[:, 1] / 500, fy, fy - lab[:, 2] / 200], 1)
    xyz = torch.where(f > 0.206893, f**3, (f - 16 / 116) / 7.787) * white
    lin = torch.einsum("ij,njhw->nihw", to_rgb, xyz).clamp(0, 1)
    return torch.where(lin > 0.0031308, 1.055 * lin.clamp_min(1e-8) ** (1 / 2.4) - 0.055, 12.92 * lin).clamp(
        0, 1
    )


def augment(
    images: torch.Tensor, masks: torch.Tensor, p: dict[str, torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """images (N, 3, S, S) uint8 RGB, masks (N, C, S, S) uint8 -> (warped input, target, target masks),
    float 0..1 of shapes (N, 3, S, S), (N, 3, S, S), (N, C, S, S)."""
    device, size = images.device, images.shape[-1]
    x = images.float() / 255
    lab = rgb_to_lab(x) + p["lab"].to(device).view(-1, 3, 1, 1)
    x = lab_to_rgb(lab)
    both = torch.cat([x, masks.float() / 255], 1)
    grid = affine_grid(p, size, device)
    target = F.grid_sample(both, grid, mode="bilinear", padding_mode="border", align_corners=False)
    warped = F.grid_sample(x, grid + warp_field(p, size, device), "bilinear", "border", align_corners=False)
    return warped, target[:, :3], target[:, 3:]
