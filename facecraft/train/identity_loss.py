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


MAX_REFERENCE_FACES = 256
"""At most this many training faces (evenly spaced) make a person's reference embedding."""


class IdentityLoss(nn.Module):
    """Mean (1 - cosine) between SFace embeddings of drawn faces and their person's reference embedding.

    The references are either given (e.g. :func:`faceset_identity`) or set with :meth:`set_people` from the
    training faces themselves, as the model sees them: at its size, and with glasses frames painted out
    (train.data), so that the loss does not ask a decoder for the frames SFace saw in the full-size faces."""

    def __init__(self, size: int, coverage: str, people: Sequence[torch.Tensor] = ()):
        super().__init__()
        self.net: nn.Module = load_sface_torch()
        self.grid: torch.Tensor
        self.people: torch.Tensor
        self.register_buffer("grid", sface_grid(size, coverage), persistent=False)
        self.register_buffer("people", torch.zeros(0, 128), persistent=False)
        if people:
            self.people = torch.stack(list(people)).to(self.grid.device)

    def embed(self, drawn: torch.Tensor) -> torch.Tensor:
        """(N, 3, S, S) RGB 0..1 model-size faces -> (N, 128) unit SFace embeddings."""
        grid = self.grid.expand(drawn.shape[0], -1, -1, -1)
        crop = F.grid_sample(drawn.float(), grid, mode="bilinear", padding_mode="border", align_corners=False)
        return F.normalize(self.net(crop * 255.0), dim=1)

    @torch.no_grad()
    def set_people(self, faces: Sequence[torch.Tensor], batch: int = 64) -> None:
        """Each person's reference: the unit mean embedding of their (N, 3, S, S) uint8 RGB training faces."""
        refs = []
        for images in faces:
            pick = torch.linspace(0, len(images) - 1, min(len(images), MAX_REFERENCE_FACES)).round().long()
            total = torch.zeros(128, device=self.grid.device)
            for chunk in pick.split(batch):
                x = images[chunk.to(images.device)].to(self.grid.device).float() / 255.0
                total += self.embed(x).sum(0)
            refs.append(F.normalize(total, dim=0))
        self.people = torch.stack(refs)

    def forward(self, drawn: torch.Tensor, person: torch.Tensor) -> torch.Tensor:
        """drawn (N, 3, S, S) RGB 0..1, person (N,) int64 index into ``people`` -> scalar loss."""
        return (1.0 - (self.embed(drawn) * self.people[person]).sum(1)).mean()
