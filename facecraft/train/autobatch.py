"""Find the largest batch that fits on the GPU (``--batch auto`` on CUDA).

The probe is a real training step, as the run will take it: the facesets already on the device, the run's
augmentation and losses (the identity loss too when it is on), Adam's state, the NaN guard's copy of the
weights and optimizer state, and DDP's gradient buckets when several GPUs train. A batch fits only when the
peak memory reserved stays under ``HEADROOM`` of the GPU, leaving room for fragmentation and compiled
kernels' workspaces.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import torch

from facecraft.errors import FacecraftError
from facecraft.train.config import TrainConfig
from facecraft.train.data import IdentityData
from facecraft.train.distributed import DistInfo
from facecraft.train.models import FaceAutoencoder
from facecraft.train.trainer import Trainer

HEADROOM = 0.9
"""Share of the GPU's memory a probe step may reserve at its peak."""


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


def cuda_step_fits(
    net: FaceAutoencoder,
    data: Sequence[IdentityData],
    config: TrainConfig,
    device: torch.device,
    lr: float,
    ddp: bool = False,
) -> Callable[[int], bool]:
    """A probe for :func:`largest_batch`: whether ``batch`` faces per identity on this GPU train.

    ``data``: the facesets, already on ``device``. ``ddp``: reserve DDP's gradient buckets (one more copy
    of the gradients). The network's weights are put back after every probe.
    """
    saved = {k: v.detach().to("cpu", copy=True) for k, v in net.state_dict().items()}
    total = torch.cuda.get_device_properties(device).total_memory
    bucket_bytes = sum(p.numel() * p.element_size() for p in net.parameters()) if ddp else 0
    probe_config = replace(config, compile=False)

    def fits(batch: int) -> bool:
        opt = torch.optim.Adam(net.parameters(), lr=lr, betas=(0.5, 0.999))
        trainer: Trainer | None = None
        buckets: torch.Tensor | None = None
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
        try:
            buckets = torch.empty(bucket_bytes, dtype=torch.uint8, device=device)
            trainer = Trainer(net, opt, list(data), probe_config, batch, device, DistInfo())
            trainer.train_step()  # creates Adam's state
            trainer.snapshot()  # the NaN guard's copies, as during training
            trainer.train_step()
            torch.cuda.synchronize(device)
            return torch.cuda.max_memory_reserved(device) <= HEADROOM * total
        except torch.OutOfMemoryError:
            return False
        finally:
            del trainer, opt, buckets  # free the probe's memory before the next one
            net.zero_grad(set_to_none=True)
            net.load_state_dict(saved)
            torch.cuda.empty_cache()

    return fits
