"""A running average of the model's weights: what validation, previews and saved checkpoints use.

Adam's last step is one noisy sample of where the weights wander; a single bad batch near the end of a
short CPU run can cost a decoder several points of validation SSIM, and the swap would use exactly those
weights. The average follows the training weights with a decay that starts short and grows with the step
(``(1 + t) / (10 + t)``, capped), so early in a run it tracks fast learning and late in a run it smooths
over the last ~t/9 steps (at most ``1 / (1 - cap)``). The training weights themselves are never changed
by it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


def decay_at(step: int, cap: float) -> float:
    """The averaging decay after ``step`` optimizer steps: short early on, at most ``cap``."""
    return min(cap, (1.0 + step) / (10.0 + step))


class WeightAverage:
    """An exponential moving average of ``net``'s floating-point state (parameters and buffers)."""

    def __init__(self, net: nn.Module, cap: float):
        if not 0.0 < cap < 1.0:
            raise ValueError(f"weight-average cap must be in (0, 1), got {cap}")
        self.cap = cap
        self.shadow = {k: v.detach().clone() for k, v in net.state_dict().items()}
        self._floats = [k for k, v in self.shadow.items() if v.is_floating_point()]
        self._others = [k for k in self.shadow if k not in self._floats]

    def load(self, weights: dict[str, torch.Tensor]) -> None:
        """Start from ``weights`` (a saved average) instead of the current training weights."""
        for k, v in self.shadow.items():
            v.copy_(weights[k])

    @torch.no_grad()
    def update(self, net: nn.Module, step: int) -> None:
        """Move the average toward ``net``'s current weights (call after each optimizer step)."""
        weight = 1.0 - decay_at(step, self.cap)
        state = net.state_dict()
        floats = self._floats
        torch._foreach_lerp_([self.shadow[k] for k in floats], [state[k].detach() for k in floats], weight)
        for k in self._others:  # integer buffers (counters) are copied, not averaged
            self.shadow[k].copy_(state[k])

    @contextmanager
    def swapped_in(self, net: nn.Module) -> Iterator[None]:
        """Inside the block ``net`` holds the averaged weights; its training weights come back after."""
        kept = {k: v.detach().clone() for k, v in net.state_dict().items()}
        net.load_state_dict(self.shadow)
        try:
            yield
        finally:
            net.load_state_dict(kept)
