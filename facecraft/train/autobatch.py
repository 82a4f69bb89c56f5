"""Find the largest batch that fits on the GPU (``--batch auto`` on CUDA)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from facecraft.errors import FacecraftError
from facecraft.train.device import autocast
from facecraft.train.models import FaceAutoencoder


def largest_batch(fits: Callable[[int], bool], start: int, limit: int) -> int:
    """Double the batch from ``start`` while ``fits(batch)`` is true (up to ``limit``); the largest that fit."""
    if not fits(start):
        raise FacecraftError(
            f"out of memory even at --batch {start}; lower --size or use a smaller --model (lite)"
        )
    batch = start
    while batch * 2 <= limit and fits(batch * 2):
        batch *= 2
    return batch


def cuda_step_fits(net: FaceAutoencoder, device: torch.device, lr: float) -> Callable[[int], bool]:
    """A probe for :func:`largest_batch`: one real training step (forward, backward, Adam) at a batch per
    identity on random faces; the network's weights are put back afterwards."""
    saved = {k: v.detach().to("cpu", copy=True) for k, v in net.state_dict().items()}

    def fits(batch: int) -> bool:
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        try:
            x = [
                torch.rand(batch, 3, net.size, net.size, device=device).contiguous(
                    memory_format=torch.channels_last
                )
                for _ in net.identities
            ]
            with autocast(device):
                loss = sum(o.float().mean() for o in net(x))
            loss.backward()
            opt.step()
            torch.cuda.synchronize(device)
            return True
        except torch.OutOfMemoryError:
            return False
        finally:
            net.zero_grad(set_to_none=True)
            del opt
            net.load_state_dict(saved)
            torch.cuda.empty_cache()

    return fits
