"""Masked SSIM + L1 reconstruction loss (eyes and mouth weighted up) and validation metrics.

Every function takes NCHW float tensors in 0..1 and per-pixel weights (N, 1, H, W); per-sample values
are normalised by that sample's weight sum, so the mean over samples does not depend on how a batch
is split across processes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from facecraft.errors import FacecraftError


@dataclass(frozen=True)
class LossConfig:
    ssim: float = 1.0
    """Weight of (1 - masked SSIM)."""
    l1: float = 1.0
    """Weight of masked L1."""
    mask: float = 0.5
    """Weight of the mask channel's L1 against the face mask (the parser's face, or the mesh oval)."""
    eyes_mouth: float = 3.0
    """Loss weight of eye and mouth pixels relative to the rest of the face."""
    background: float = 0.1
    """Loss weight of pixels outside the face oval."""
    identity: float = 0.3
    """Weight of the identity loss (1 - SFace cosine to the decoder's person), on reconstructions and on
    swapped faces (see train.identity_loss); 0 turns it off."""
    identity_aim: str = "faceset"
    """What each decoder's drawings should look like to SFace: ``faceset``, the person in their extracted
    frames (as they are, glasses on); ``training``, the person in the faces the model is trained on (glasses,
    and with ``paint_hair`` the hair over the face, painted out). With ``faceset`` a glasses wearer's decoder
    is pushed to draw the rims that painting took out (docs/swap.md, 3 December)."""
    identity_faces: int = 2
    """Faces per identity and step the identity loss looks at (each reconstructed and swapped). SFace is
    bigger than the CPU models: with 2 faces it roughly doubles a ``lite`` step on a CPU."""
    perceptual: float = 1.0
    """Weight of the perceptual loss (feature distance on the face parser's ResNet-18 trunk, see
    train.perceptual) on reconstructions; 0 turns it off (it is also off without the face parser)."""
    perceptual_faces: int = 4
    """Faces per identity and step the perceptual loss looks at."""
    adversarial: float = 0.0
    """Weight of the adversarial loss (a PatchGAN discriminator judging the drawn faces' texture, see
    train.adversarial); 0 (the default) turns it off. A finishing phase: e.g. 0.1 on a resumed model."""
    adversarial_from: int = 0
    """Step from which the adversarial loss applies (when its weight is above 0)."""
    adversarial_faces: int = 4
    """Faces per identity and step the discriminator judges (and as many real ones)."""

    def __post_init__(self) -> None:
        if (
            min(
                self.ssim,
                self.l1,
                self.mask,
                self.eyes_mouth,
                self.background,
                self.identity,
                self.perceptual,
                self.adversarial,
                self.adversarial_from,
            )
            < 0
        ):
            raise FacecraftError("loss weights and adversarial_from must not be negative")
        if self.identity_aim not in ("faceset", "training"):
            raise FacecraftError("loss.identity_aim must be faceset or training")
        if min(self.identity_faces, self.perceptual_faces, self.adversarial_faces) < 1:
            raise FacecraftError("identity_faces, perceptual_faces and adversarial_faces must be at least 1")


def _gauss(window: int, sigma: float, x: torch.Tensor) -> torch.Tensor:
    r = torch.arange(window, dtype=x.dtype, device=x.device) - window // 2
    k = torch.exp(-(r**2) / (2 * sigma**2))
    return k / k.sum()


def _blur(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    c, pad = x.shape[1], k.numel() // 2
    x = F.conv2d(
        F.pad(x, (pad, pad, 0, 0), mode="reflect"), k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c
    )
    return F.conv2d(
        F.pad(x, (0, 0, pad, pad), mode="reflect"), k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c
    )


def ssim_map(x: torch.Tensor, y: torch.Tensor, window: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Per-pixel SSIM (N, 1, H, W), averaged over channels (Gaussian window, data range 1)."""
    window = min(window, x.shape[-1] // 2 * 2 - 1)
    k = _gauss(window, sigma, x)
    c1, c2 = 0.01**2, 0.03**2
    stats = _blur(torch.cat([x, y, x * x, y * y, x * y], 1), k)
    mx, my, xx, yy, xy = stats.chunk(5, 1)
    vx, vy, cov = xx - mx * mx, yy - my * my, xy - mx * my
    s = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return s.mean(1, keepdim=True)


def weighted_mean(value: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Per-sample weighted mean (N,) of value (N, C, H, W) under weight (N, 1, H, W)."""
    num = (value * weight).sum((1, 2, 3))
    return num / (weight.sum((1, 2, 3)) * value.shape[1]).clamp_min(1e-6)


def loss_weights(masks: torch.Tensor, cfg: LossConfig) -> torch.Tensor:
    """(N, 2 or 3, H, W) face + eyes/mouth [+ where the loss applies] masks 0..1 -> (N, 1, H, W) per-pixel
    loss weights. The third channel (0 on hair, hats, glasses...) multiplies the rest."""
    face, features = masks[:, :1], masks[:, 1:2]
    weight = cfg.background + (1 - cfg.background) * face + (cfg.eyes_mouth - 1) * features * face
    return weight * masks[:, 2:3] if masks.shape[1] > 2 else weight


def reconstruction_loss(
    pred: torch.Tensor, target: torch.Tensor, masks: torch.Tensor, cfg: LossConfig
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """pred (N, 4, S, S) RGB + mask, target (N, 3, S, S), masks (N, 2 or 3, S, S) -> (scalar loss, parts)."""
    pred = pred.float()
    rgb, mask = pred[:, :3], pred[:, 3:4]
    w = loss_weights(masks, cfg)
    ssim = weighted_mean(1 - ssim_map(rgb, target), w).mean()
    l1 = weighted_mean((rgb - target).abs(), w).mean()
    mask_l1 = (mask - masks[:, :1]).abs().mean()
    total = cfg.ssim * ssim + cfg.l1 * l1 + cfg.mask * mask_l1
    return total, {"ssim_loss": ssim.detach(), "l1": l1.detach(), "mask_l1": mask_l1.detach()}


@torch.no_grad()
def masked_ssim(pred: torch.Tensor, target: torch.Tensor, face: torch.Tensor) -> torch.Tensor:
    """Per-sample SSIM (N,) over the face oval ``face`` (N, 1, H, W) 0..1."""
    return weighted_mean(ssim_map(pred.float(), target.float()), face)


@torch.no_grad()
def masked_psnr(pred: torch.Tensor, target: torch.Tensor, face: torch.Tensor) -> torch.Tensor:
    """Per-sample PSNR in dB (N,) over the face oval."""
    mse = weighted_mean((pred.float() - target.float()) ** 2, face)
    return -10 * torch.log10(mse.clamp_min(1e-10))
