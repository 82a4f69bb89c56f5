"""The training loop: one step = sample, augment, forward, loss, backward, clip, guard, update.

Everything else (progress, validation, previews, checkpoints, stopping) attaches as a callback, in the
spirit of minGPT's ``trainer.py``. The loop itself never touches the disk.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from facecraft.errors import FacecraftError
from facecraft.face.parse import parser_disabled
from facecraft.train.adversarial import Adversary, face_weight
from facecraft.train.augment import augment, draw_params, params_to
from facecraft.train.config import TrainConfig
from facecraft.train.data import IdentityData, batch_positions
from facecraft.train.device import autocast
from facecraft.train.distributed import DistInfo
from facecraft.train.ema import WeightAverage
from facecraft.train.identity_loss import IdentityLoss, faceset_identity
from facecraft.train.losses import loss_weights, reconstruction_loss
from facecraft.train.models import FaceAutoencoder
from facecraft.train.perceptual import PerceptualLoss

MAX_RESTORES_IN_A_ROW = 3


class Callback:
    """Hooks called by :class:`Trainer`; override what you need."""

    def on_start(self, trainer: Trainer) -> None: ...

    def on_step(self, trainer: Trainer) -> None: ...

    def on_end(self, trainer: Trainer) -> None: ...


@dataclass
class TrainState:
    step: int = 0
    """Optimizer steps taken so far (all runs)."""
    loss: float = math.nan
    """Last step's loss (this process's share)."""
    metrics: dict[str, Any] = field(default_factory=dict)
    """Last validation: {identity: {"ssim", "psnr"}}."""
    best: dict[str, Any] = field(default_factory=dict)
    """Best validation so far: {"step", "val_ssim"}."""
    history: list[dict[str, Any]] = field(default_factory=list)
    """Validation results of this run: {"step", "seconds", "val_ssim"}."""
    run_images: int = 0
    """Faces (all identities, all processes) trained on in this run."""
    run_seconds: float = 0.0
    restores: int = 0
    """Times the NaN/inf guard restored the last good state."""
    compile_seconds: float = 0.0
    """Time torch.compile took before training started (not part of run_seconds or --minutes)."""
    stop: str = ""
    """Why training stops ('' while it runs)."""


class Trainer:
    def __init__(
        self,
        net: FaceAutoencoder,
        optimizer: torch.optim.Optimizer,
        data: list[IdentityData],
        config: TrainConfig,
        batch: int,
        device: torch.device,
        dist: DistInfo,
        callbacks: Sequence[Callback] = (),
        state: TrainState | None = None,
    ):
        self.net, self.optimizer, self.data, self.config = net, optimizer, data, config
        self.batch, self.device, self.dist = batch, device, dist
        self.callbacks = list(callbacks)
        self.state = state or TrainState()
        self.model: nn.Module = net
        ids = [device.index] if device.type == "cuda" else None
        if dist.world > 1:
            self.model = nn.parallel.DistributedDataParallel(net, device_ids=ids)
        if config.compile:
            self.model = torch.compile(self.model)  # type: ignore[assignment]
        self.identity_loss: IdentityLoss | None = None
        if config.loss.identity > 0:
            people = [faceset_identity(d.source) for d in data]
            self.identity_loss = IdentityLoss(net.size, data[0].coverage, people).to(device)
            if config.loss.identity_aim == "training":
                self.identity_loss.aim_at([d.images[d.train_idx] for d in data])
        self.perceptual_loss: PerceptualLoss | None = None
        if config.loss.perceptual > 0 and not parser_disabled():
            self.perceptual_loss = PerceptualLoss().to(device)
        self.adversary: Adversary | None = None
        if config.loss.adversarial > 0:
            self.adversary = Adversary(device, config.seed)
            if dist.world > 1:
                judge = nn.parallel.DistributedDataParallel(self.adversary.net, device_ids=ids)
                self.adversary.model = judge
        self.average = WeightAverage(net, config.weight_average) if config.weight_average else None
        self._good: tuple[dict[str, torch.Tensor], dict[str, Any]] | None = None
        self._bad_in_a_row = 0

    @contextmanager
    def inference_weights(self) -> Iterator[None]:
        """Inside the block ``net`` holds the weights a user gets (the running average, when on)."""
        with self.average.swapped_in(self.net) if self.average is not None else nullcontext():
            yield

    # ---- the loop ------------------------------------------------------------------------------
    def run(self) -> TrainState:
        self.net.train()
        self.snapshot()
        if self.config.compile:
            self._compile_now()
        for cb in self.callbacks:
            cb.on_start(self)
        start = time.perf_counter()
        try:
            while not self.state.stop:
                self.train_step()
                self.state.run_seconds = time.perf_counter() - start
                for cb in self.callbacks:
                    cb.on_step(self)
                # Every process refreshes the NaN guard's snapshot at the same steps (the save steps), so
                # that after a restore all DDP replicas hold the same weights.
                if self.state.step % self.config.save_every == 0:
                    self.snapshot()
        finally:
            self.state.run_seconds = time.perf_counter() - start
        for cb in self.callbacks:
            cb.on_end(self)
        return self.state

    def batch_for(self, step: int) -> tuple[list[torch.Tensor], list[torch.Tensor], list[torch.Tensor]]:
        """This process's (warped inputs, targets, target masks) per identity at ``step``."""
        inputs, targets, masks = [], [], []
        mine = slice(self.dist.rank, None, self.dist.world)
        for stream, d in enumerate(self.data):
            pos = batch_positions(len(d.train_idx), self.batch, step, self.config.seed, stream)
            idx = d.train_idx[torch.from_numpy(pos)][mine]
            drawn = draw_params(self.batch, self.config.augment, self.config.seed, step, stream)
            params = params_to({k: v[mine] for k, v in drawn.items()}, self.device)
            src = idx.to(d.images.device, non_blocking=True)
            x, y, m = augment(d.images[src].to(self.device), d.masks[src].to(self.device), params)
            inputs.append(x.contiguous(memory_format=torch.channels_last))
            targets.append(y)
            masks.append(m)
        return inputs, targets, masks

    def train_step(self) -> None:
        inputs, targets, masks = self.batch_for(self.state.step)
        # The identity loss looks at the first ``identity_faces`` faces of each identity's whole batch; under
        # DDP this process holds every world-th of them (see batch_for), so all processes together see
        # exactly the faces one process would.
        swaps = 0
        if self.identity_loss is not None:
            swaps = len(range(self.dist.rank, self.config.loss.identity_faces, self.dist.world))
        with autocast(self.device):
            outputs = self.model(inputs, swaps=swaps) if swaps else self.model(inputs)
        loss = sum(
            (
                reconstruction_loss(o, t, m, self.config.loss)[0]
                for o, t, m in zip(outputs[: len(inputs)], targets, masks, strict=True)
            ),
            torch.zeros((), device=self.device),
        )
        if swaps:
            loss = loss + self.config.loss.identity * self._identity_term(outputs, len(inputs), swaps)
        if self.perceptual_loss is not None:
            loss = loss + self.config.loss.perceptual * self._perceptual_term(outputs, targets, masks)
        judged = None
        if self.adversary is not None and self.state.step >= self.config.loss.adversarial_from:
            judged = self._judged(outputs, targets, masks)
            loss = loss + self.config.loss.adversarial * self.adversary.generator_loss(judged[1], judged[3])
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        clip = self.config.grad_clip or math.inf
        norm = torch.nn.utils.clip_grad_norm_(self.net.parameters(), clip)
        # One device-to-host read per step: the gradient norm (the same on every process: gradients are
        # averaged, so all agree) and this process's loss.
        norm_value, loss_value = torch.stack([norm.float(), loss.detach().float()]).tolist()
        if math.isfinite(norm_value) and (self.dist.world > 1 or math.isfinite(loss_value)):
            self.optimizer.step()
            if self.average is not None:
                self.average.update(self.net, self.state.step)
            if judged is not None:
                assert self.adversary is not None
                self.adversary.update(*judged)
            self._bad_in_a_row = 0
            self.state.loss = loss_value
        else:
            self.restore()
        self.state.step += 1
        self.state.run_images += self.batch * len(self.data)

    def _identity_term(self, outputs: list[torch.Tensor], n: int, swaps: int) -> torch.Tensor:
        """Identity loss over the first ``swaps`` reconstructions of each identity (drawn by its own decoder)
        and the swapped faces the model appended (identity i drawn by decoder i + 1)."""
        assert self.identity_loss is not None
        drawn = [o[:swaps, :3] for o in outputs[:n]] + [o[:, :3] for o in outputs[n:]]
        person = [i for i, o in enumerate(outputs[:n]) for _ in range(min(swaps, o.shape[0]))]
        person += [(i + 1) % n for i, o in enumerate(outputs[n:]) for _ in range(o.shape[0])]
        index = torch.tensor(person, device=self.device)
        # A mean over this process's faces, scaled so that the average DDP takes over processes is the mean
        # over all the faces the loss looks at (as in one process).
        share = self.dist.world * swaps / self.config.loss.identity_faces
        return self.identity_loss(torch.cat(drawn), index) * share

    def _perceptual_term(
        self, outputs: list[torch.Tensor], targets: list[torch.Tensor], masks: list[torch.Tensor]
    ) -> torch.Tensor:
        """Perceptual loss over the first ``perceptual_faces`` reconstructions of each identity's whole
        batch (under DDP this process holds every world-th of them), scaled like the identity term."""
        assert self.perceptual_loss is not None
        k = self.config.loss.perceptual_faces
        mine = len(range(self.dist.rank, k, self.dist.world))
        if mine == 0:
            return torch.zeros((), device=self.device)
        drawn = torch.cat([o[:mine, :3] for o in outputs[: len(targets)]])
        real = torch.cat([t[:mine] for t in targets])
        weight = torch.cat([loss_weights(m[:mine].float(), self.config.loss) for m in masks])
        share = self.dist.world * mine / k
        return self.perceptual_loss(drawn, real, weight) * share

    def _judged(
        self, outputs: list[torch.Tensor], targets: list[torch.Tensor], masks: list[torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """What the discriminator judges this step: (real faces, drawn faces, their face weights): the first
        ``adversarial_faces`` of each identity's whole batch (this process's share under DDP) and their
        reconstructions, plus the swapped faces the model appended (laid out as their input faces)."""
        n, k = len(targets), self.config.loss.adversarial_faces
        mine = max(1, len(range(self.dist.rank, k, self.dist.world)))
        real = torch.cat([t[:mine] for t in targets])
        drawn = [o[:mine, :3] for o in outputs[:n]] + [o[:, :3] for o in outputs[n:]]
        w_real = torch.cat([face_weight(m[:mine]) for m in masks])
        w_drawn = [w_real] + [face_weight(masks[i][: o.shape[0]]) for i, o in enumerate(outputs[n:])]
        return real, torch.cat(drawn), w_real, torch.cat(w_drawn)

    def _compile_now(self) -> None:
        """Let torch.compile trace and build its kernels before the clock starts, so that ``--minutes``
        counts training only: one step at the current batch, then weights and optimizer state go back to
        the snapshot taken just before (nothing is learned, the step counter does not move)."""
        t0 = time.perf_counter()
        kept = (self.state.step, self.state.run_images, self.state.loss, self.state.restores)
        averaged = None if self.average is None else {k: v.clone() for k, v in self.average.shadow.items()}
        judge = None if self.adversary is None else (self.adversary.state(), self.adversary.meta())
        self.train_step()
        if self.adversary is not None and judge is not None:
            self.adversary.load(*judge)
        assert self._good is not None
        self.net.load_state_dict(self._good[0])
        if self.average is not None and averaged is not None:
            self.average.load(averaged)
        self.optimizer.load_state_dict(_clone_optimizer_state(self._good[1]))
        self.state.step, self.state.run_images, self.state.loss, self.state.restores = kept
        self._bad_in_a_row = 0
        self.state.compile_seconds = time.perf_counter() - t0

    # ---- NaN/inf guard -------------------------------------------------------------------------
    def snapshot(self) -> None:
        """Remember the current weights and optimizer state as the last good state (in memory)."""
        weights = {k: v.detach().clone() for k, v in self.net.state_dict().items()}
        self._good = (weights, _clone_optimizer_state(self.optimizer.state_dict()))

    def restore(self) -> None:
        """Go back to the last good state after a NaN/inf loss or gradient (skipping that batch)."""
        self.state.restores += 1
        self._bad_in_a_row += 1
        if self._bad_in_a_row >= MAX_RESTORES_IN_A_ROW or self._good is None:
            raise FacecraftError(
                f"training diverged: the loss became NaN/inf {self._bad_in_a_row} steps in a row at step "
                f"{self.state.step}; lower the learning rate or check the facesets (the last checkpoint is kept)"
            )
        self.net.load_state_dict(self._good[0])
        # load_state_dict may keep references to the tensors it is given: hand it a copy
        self.optimizer.load_state_dict(_clone_optimizer_state(self._good[1]))
        self.state.loss = math.nan


def _clone_optimizer_state(opt: dict[str, Any]) -> dict[str, Any]:
    return {
        "state": {
            k: {n: (t.clone() if isinstance(t, torch.Tensor) else t) for n, t in s.items()}
            for k, s in opt["state"].items()
        },
        "param_groups": [dict(g) for g in opt["param_groups"]],
    }
