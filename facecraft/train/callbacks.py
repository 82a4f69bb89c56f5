"""Callbacks of the training loop: progress bar, validation, preview grid, checkpoints, TensorBoard, stop."""

from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path
from typing import Any

import cv2
import torch
from tqdm import tqdm

from facecraft.fileio import write_atomic
from facecraft.train.checkpoint import TRAINING_WEIGHTS, optimizer_to_tensors, save_checkpoint
from facecraft.train.distributed import any_rank
from facecraft.train.evaluate import mean_ssim, preview_grid, validate
from facecraft.train.trainer import Callback, Trainer

log = logging.getLogger("facecraft.train")


class ProgressBar(Callback):
    """tqdm bar: step, loss, images/s, ETA (when a step or time limit is known)."""

    def __init__(self, total_steps: int, enabled: bool = True):
        self.total, self.enabled = total_steps, enabled
        self.bar: tqdm | None = None

    def on_start(self, trainer: Trainer) -> None:
        if self.enabled:
            self.bar = tqdm(
                total=self.total or None,
                initial=trainer.state.step,
                unit="step",
                desc="train",
                dynamic_ncols=True,
            )

    def on_step(self, trainer: Trainer) -> None:
        if self.bar is None:
            return
        s = trainer.state
        self.bar.update(1)
        if s.step % 5 == 0:
            post: dict[str, Any] = {
                "loss": f"{s.loss:.4f}",
                "img/s": f"{s.run_images / max(s.run_seconds, 1e-9):.0f}",
            }
            if s.metrics:
                post["val_ssim"] = f"{mean_ssim(s.metrics):.3f}"
            self.bar.set_postfix(post, refresh=False)

    def on_end(self, trainer: Trainer) -> None:
        if self.bar is not None:
            self.bar.close()


class Validator(Callback):
    """Masked SSIM/PSNR per identity on the held-out faces every N steps; appends to metrics.jsonl."""

    def __init__(self, every: int, root: Path | None):
        self.every, self.root = every, root

    def run(self, trainer: Trainer) -> None:
        s = trainer.state
        with trainer.inference_weights():
            s.metrics = validate(trainer.net, trainer.data, trainer.device)
        val = mean_ssim(s.metrics)
        record: dict[str, Any] = {
            "step": s.step,
            "seconds": round(s.run_seconds, 3),
            "val_ssim": val,
            "identities": s.metrics,
        }
        if trainer.average is not None:  # what the average buys, in the log
            record["training_weights_val_ssim"] = mean_ssim(
                validate(trainer.net, trainer.data, trainer.device)
            )
        if trainer.adversary is not None and not math.isnan(trainer.adversary.loss):
            record["discriminator_loss"] = round(trainer.adversary.loss, 4)  # 2 at chance, 0: it tells all
        s.history.append(record)
        if self.root is not None:
            with (self.root / "metrics.jsonl").open("a") as f:
                f.write(json.dumps(record) + "\n")

    def on_start(self, trainer: Trainer) -> None:
        if not trainer.state.metrics:
            self.run(trainer)

    def on_step(self, trainer: Trainer) -> None:
        if trainer.state.step % self.every == 0:
            self.run(trainer)

    def on_end(self, trainer: Trainer) -> None:
        s = trainer.state
        if not s.history or s.history[-1]["step"] != s.step:  # report (and save) up-to-date metrics
            self.run(trainer)


class Previewer(Callback):
    """preview.png in the model folder every N steps: A->A, A->B, B->B, B->A on fixed validation faces."""

    def __init__(self, every: int, root: Path):
        self.every, self.root = every, root

    def write(self, trainer: Trainer) -> None:
        with trainer.inference_weights():
            grid = preview_grid(trainer.net, trainer.data, trainer.device)
        ok, buf = cv2.imencode(".png", grid)
        if ok:
            write_atomic(self.root / "preview.png", buf.tobytes())

    def on_step(self, trainer: Trainer) -> None:
        if self.every and trainer.state.step % self.every == 0:
            self.write(trainer)

    def on_end(self, trainer: Trainer) -> None:
        if self.every:
            self.write(trainer)


class Checkpointer(Callback):
    """Checkpoint every N steps and at the end; keeps the last K plus the best by validation.

    Every checkpoint is validated at its own step (``validator`` runs when the metrics are older), so
    "best" always names a checkpoint that was saved and is kept.
    """

    def __init__(
        self,
        root: Path,
        every: int,
        keep: int,
        extra_state: dict[str, Any],
        validator: Validator | None = None,
    ):
        self.root, self.every, self.keep, self.extra = root, every, keep, extra_state
        self.validator = validator
        self.last_saved = -1

    def save(self, trainer: Trainer) -> Path | None:
        s = trainer.state
        if s.step == self.last_saved:
            return None
        if self.validator is not None and (not s.history or s.history[-1]["step"] != s.step):
            self.validator.run(trainer)
        if s.history and s.history[-1]["step"] == s.step:
            val = float(s.history[-1]["val_ssim"])
            if not s.best or val > s.best["val_ssim"]:
                s.best = {"step": s.step, "val_ssim": val}
        tensors, optim_meta = optimizer_to_tensors(trainer.optimizer.state_dict())
        tensors["rng.cpu"] = torch.get_rng_state()
        if trainer.device.type == "cuda":
            tensors["rng.cuda"] = torch.cuda.get_rng_state(trainer.device)
        state = {
            **self.extra,
            "best": s.best,
            "metrics": s.metrics,
            "optimizer": optim_meta,
            "total_images": self.extra.get("total_images", 0) + s.run_images,
            "total_seconds": self.extra.get("total_seconds", 0.0) + s.run_seconds,
            "nan_restores": s.restores,
        }
        if trainer.adversary is not None:  # the discriminator goes on where it was when resumed
            tensors.update(trainer.adversary.state())
            state["adversary"] = trainer.adversary.meta()
        weights = trainer.net.state_dict()
        if trainer.average is not None:  # the model file holds what a user gets; resuming needs both
            tensors.update(
                {f"{TRAINING_WEIGHTS}{k}": v.detach().cpu().contiguous() for k, v in weights.items()}
            )
            weights = trainer.average.shadow
        path = save_checkpoint(self.root, s.step, weights, tensors, state, self.keep)
        self.last_saved = s.step
        return path

    def on_start(self, trainer: Trainer) -> None:
        if trainer.state.step == 0:  # a loadable model from the first second on
            self.save(trainer)
        else:  # resumed from the checkpoint of this step
            self.last_saved = trainer.state.step

    def on_step(self, trainer: Trainer) -> None:
        if trainer.state.step % self.every == 0:
            self.save(trainer)

    def on_end(self, trainer: Trainer) -> None:
        self.save(trainer)


class TensorBoard(Callback):
    """Scalars and the preview image to ``MODEL/tensorboard`` when the tensorboard package is installed."""

    def __init__(self, root: Path, preview_every: int):
        self.preview_every = preview_every
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            self.writer = None
        else:
            self.writer = SummaryWriter(str(root / "tensorboard"))

    def on_step(self, trainer: Trainer) -> None:
        if self.writer is None:
            return
        s = trainer.state
        if s.step % 10 == 0 and math.isfinite(s.loss):
            self.writer.add_scalar("train/loss", s.loss, s.step)
            self.writer.add_scalar("train/images_per_second", s.run_images / max(s.run_seconds, 1e-9), s.step)
        if s.history and s.history[-1]["step"] == s.step:
            for name, m in s.metrics.items():
                self.writer.add_scalar(f"val/{name}/ssim", m["ssim"], s.step)
                self.writer.add_scalar(f"val/{name}/psnr", m["psnr"], s.step)
        if self.preview_every and s.step % self.preview_every == 0:
            with trainer.inference_weights():
                grid = preview_grid(trainer.net, trainer.data, trainer.device)
            self.writer.add_image("preview", grid[..., ::-1].copy(), s.step, dataformats="HWC")

    def on_end(self, trainer: Trainer) -> None:
        if self.writer is not None:
            self.writer.close()


class StopWhen(Callback):
    """Stop at a total step count, after some minutes, or when validation SSIM reaches a target.

    The decision is shared by all processes (the main one validates), so they stop at the same step.
    """

    def __init__(self, steps: int, minutes: float, until_ssim: float):
        self.steps, self.minutes, self.until_ssim = steps, minutes, until_ssim
        self.start = time.perf_counter()

    def on_start(self, trainer: Trainer) -> None:
        self.start = time.perf_counter()
        s = trainer.state
        if self.steps and s.step >= self.steps:
            s.stop = f"already at step {s.step} (--steps {self.steps})"
        reached = bool(self.until_ssim and s.metrics and mean_ssim(s.metrics) >= self.until_ssim)
        if any_rank(reached, trainer.dist, trainer.device) if self.until_ssim else False:
            s.stop = f"validation SSIM already >= {self.until_ssim}"

    def on_step(self, trainer: Trainer) -> None:
        s = trainer.state
        reason = ""
        if self.steps and s.step >= self.steps:
            reason = f"reached {self.steps} steps"
        elif self.minutes and time.perf_counter() - self.start >= self.minutes * 60:
            reason = f"trained {self.minutes:g} minutes"
        elif (
            self.until_ssim
            and s.history
            and s.history[-1]["step"] == s.step
            and mean_ssim(s.metrics) >= self.until_ssim
        ):
            reason = f"validation SSIM {mean_ssim(s.metrics):.3f} >= {self.until_ssim}"
        stop = (
            any_rank(bool(reason), trainer.dist, trainer.device)
            if self.minutes or self.until_ssim
            else bool(reason)
        )
        if stop:
            s.stop = reason or "another process stopped"
