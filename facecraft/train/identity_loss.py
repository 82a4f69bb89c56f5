"""Identity loss: SFace (run by torch) should recognise each decoder's person in what it draws.

The plain autoencoder only ever trains A -> A and B -> B, yet the swap uses A -> B. This loss also looks
at a few swapped faces per step (each identity's faces through the next identity's decoder) and asks
that SFace sees the decoder's person in them, and in the reconstructions. The model's aligned crop is
resampled onto SFace's 112x112 layout with a fixed affine (both alignments are similarity transforms of
the same five points), so the whole path is differentiable.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from facecraft.face.align import template, umeyama
from facecraft.face.identity import SFACE_TEMPLATE
from facecraft.face.sface_torch import load_sface_torch
from facecraft.faceset.store import Faceset

SFACE_SIZE = 112


def sface_grid(size: int, coverage: str) -> torch.Tensor:
    """(1, 112, 112, 2) grid_sample grid (align_corners=False) that takes a model crop of ``size`` px at
    ``coverage`` to SFace's aligned crop."""
    to_sface = np.vstack([umeyama(template(coverage, size), SFACE_TEMPLATE), [0, 0, 1]])
    back = np.linalg.inv(to_sface)[:2]
    ys, xs = np.mgrid[0:SFACE_SIZE, 0:SFACE_SIZE].astype(np.float64)
    pts = np.stack([xs, ys, np.ones_like(xs)], -1) @ back.T  # model-crop pixel coordinates
    grid = (2 * pts + 1) / size - 1
    return torch.from_numpy(grid.astype(np.float32))[None]


def faceset_identity(path: str) -> torch.Tensor:
    """The L2-normalised mean SFace embedding (128,) of every face in the faceset at ``path``."""
    with Faceset.open(path) as fs:
        emb = fs.array("embedding").astype(np.float64)
    mean = emb.mean(0)
    return torch.from_numpy((mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32))


class IdentityLoss(nn.Module):
    """Mean (1 - cosine) between SFace embeddings of drawn faces and their person's faceset embedding."""

    def __init__(self, size: int, coverage: str, people: Sequence[torch.Tensor]):
        super().__init__()
        self.net: nn.Module = load_sface_torch()
        self.grid: torch.Tensor
        self.people: torch.Tensor
        self.register_buffer("grid", sface_grid(size, coverage), persistent=False)
        self.register_buffer("people", torch.stack(list(people)), persistent=False)

    def embed(self, drawn: torch.Tensor) -> torch.Tensor:
        """drawn (N, 3, S, S) RGB 0..1 -> L2-normalised SFace embeddings (N, 128)."""
        grid = self.grid.expand(drawn.shape[0], -1, -1, -1)
        crop = F.grid_sample(drawn.float(), grid, mode="bilinear", padding_mode="border", align_corners=False)
        # channels-last (as the weights are): 15-20 % faster forward and backward on a CPU
        return F.normalize(self.net((crop * 255.0).contiguous(memory_format=torch.channels_last)), dim=1)

    def forward(self, drawn: torch.Tensor, person: torch.Tensor) -> torch.Tensor:
        """drawn (N, 3, S, S) RGB 0..1, person (N,) int64 index into ``people`` -> scalar loss."""
        return (1.0 - (self.embed(drawn) * self.people[person]).sum(1)).mean()

    @torch.no_grad()
    def person_of(self, faces: torch.Tensor, most: int = 96, chunk: int = 32) -> torch.Tensor:
        """The L2-normalised mean embedding (128,) of ``faces`` (N, 3, S, S) uint8 RGB (at most ``most`` of
        them, evenly spaced: a few seconds on a CPU), on this module's device."""
        if len(faces) > most:
            faces = faces[torch.linspace(0, len(faces) - 1, most).round().long()]
        total = torch.zeros(self.people.shape[1], device=self.people.device)
        for start in range(0, len(faces), chunk):
            part = faces[start : start + chunk].to(self.people.device).float().div(255)
            total += self.embed(part).sum(0)
        return F.normalize(total, dim=0)

    def aim_at(self, faces: Sequence[torch.Tensor]) -> None:
        """Ask each decoder for its person as they are drawn in ``faces`` (one (N, 3, S, S) uint8 RGB tensor per
        identity): the training faces, with glasses and hair painted out. The faceset's embedding is of the
        real frames: for a glasses wearer SFace's idea of them includes the glasses (the painted faces sit at
        cosine 0.64 from it, man_glasses_orange), and the loss then pushed the decoder to draw rims again."""
        self.people = torch.stack([self.person_of(f) for f in faces])
