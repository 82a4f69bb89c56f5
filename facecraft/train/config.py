"""Typed settings of the train stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from facecraft.errors import FacecraftError
from facecraft.train.augment import AugmentConfig
from facecraft.train.losses import LossConfig

DEFAULT_MODEL = "lite128"
"""The architecture of a new model when none is named. Measured on the 2-core CPU at the same 15-minute
budget on a held-out pair, two seeds: ``lite128``'s swaps were recognised as the source in 96.9-99.5 % of
frames in both directions and both seeds, ``lite``'s in 86.9-98.4 % (under 95 % in one direction with both
seeds); equally soft (docs/swap.md). ``lite`` stays the choice for runs of a few minutes (the demo's)."""


@dataclass(frozen=True)
class TrainConfig:
    model: str | None = None
    """Architecture (lite128, lite, original, standard, hd); None: the model folder's, or
    :data:`DEFAULT_MODEL` for a new one."""
    model_settings: dict[str, Any] = field(default_factory=dict)
    """Overrides of the architecture preset's fields (e.g. tiny channel counts for tests)."""
    size: int | None = None
    """Face side the model works at, pixels; None: the preset's (or the model folder's)."""
    batch: int | None = None
    """Faces per identity per step (all processes together); None: the preset's; 0: the largest power of
    two that fits on the GPU (the preset's on CPU)."""
    learning_rate: float | None = None
    """Adam learning rate; None: the preset's."""
    steps: int = 0
    """Train until this total step count (0: no step limit). Counting includes earlier runs."""
    minutes: float = 0.0
    """Stop after this many minutes of this run (0: no time limit)."""
    until_ssim: float = 0.0
    """Stop when the mean validation masked SSIM reaches this (0: never)."""
    device: str = "auto"
    """auto, cpu or cuda."""
    preview_every: int = 200
    """Write preview.png every N steps (0: never)."""
    validate_every: int = 100
    """Validation metrics every N steps."""
    save_every: int = 500
    """Checkpoint every N steps (and always at the end)."""
    keep: int = 3
    """Checkpoints kept (plus the best by validation)."""
    val_fraction: float = 0.1
    """Fraction of each faceset held out for validation (whole tracks or spaced runs: train/holdout.py)."""
    max_val: int = 32
    """At most this many validation faces per identity."""
    seed: int = 0
    compile: bool = False
    """torch.compile the model (CUDA; slower start, faster steps)."""
    grad_clip: float = 1.0
    """Clip the gradient norm to this (0: off)."""
    weight_average: float = 0.999
    """Validate, preview and save a running average of the weights, its decay at most this (0: the
    training weights themselves; train/ema.py)."""
    paint_hair: bool | None = None
    """Paint the hair over and around the face oval out of the training faces (train/hair.py), so the decoder
    draws a bare face there; off, hair is only left out of the loss. None: the architecture preset's choice
    (on for ``lite128``: recognised as the source as often or more, two seeds, and a source's fringe streak
    and temple smear gone from the target with one of them; off for ``lite``, where it greyed the demo's eyes
    and cost recognition, and for the larger models, not measured: docs/swap.md), or, when resuming, what the
    model was trained with."""
    untint_lenses: bool = True
    """Take the tint and glare of a glasses wearer's lenses out of their training faces (train/lenses.py), so
    the decoder does not draw them as shades around the eyes of the faces it is swapped onto."""
    threads: int = 0
    """CPU threads for torch (0: the count a resumed model was trained with, else the free cores)."""
    deterministic: bool = False
    """Deterministic kernels on CUDA (slower); on the CPU, runs are bit-identical at one thread count anyway."""
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    loss: LossConfig = field(default_factory=LossConfig)

    def __post_init__(self) -> None:
        if self.batch is not None and self.batch < 0:
            raise FacecraftError("--batch must be at least 1 (or auto)")
        if self.learning_rate is not None and not 0 < self.learning_rate < 1:
            raise FacecraftError("learning rate must be between 0 and 1")
        if self.steps < 0 or self.minutes < 0:
            raise FacecraftError("--steps and --minutes must not be negative")
        if not 0 <= self.until_ssim < 1:
            raise FacecraftError("--until-ssim must be between 0 and 1 (e.g. 0.8)")
        if self.preview_every < 0 or self.validate_every < 1 or self.save_every < 1 or self.keep < 1:
            raise FacecraftError("preview_every must be >= 0; validate_every, save_every and keep >= 1")
        if not 0 < self.val_fraction < 0.5 or self.max_val < 1:
            raise FacecraftError("val_fraction must be between 0 and 0.5 and max_val at least 1")
        if not 0 <= self.weight_average < 1:
            raise FacecraftError("weight_average must be 0 (off) or below 1 (e.g. 0.999)")
        if self.grad_clip < 0 or self.threads < 0:
            raise FacecraftError("grad_clip and threads must not be negative")
