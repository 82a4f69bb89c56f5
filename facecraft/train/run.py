"""The ``train`` verb: facesets in, a model folder out (resumed when it exists)."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from facecraft.errors import FacecraftError
from facecraft.fileio import FolderLock, require_dir
from facecraft.train.autobatch import cuda_step_fits, largest_batch
from facecraft.train.callbacks import Checkpointer, Previewer, ProgressBar, StopWhen, TensorBoard, Validator
from facecraft.train.checkpoint import (
    Checkpoint,
    ModelInfo,
    load_latest,
    optimizer_from_tensors,
    remove_partial_saves,
    set_aside_newer,
    training_weights,
    write_model_info,
)
from facecraft.train.config import TrainConfig
from facecraft.train.data import IdentityData, glasses_notice
from facecraft.train.device import resolve_device
from facecraft.train.distributed import DistInfo, barrier, init_distributed, min_over_ranks, shutdown
from facecraft.train.evaluate import mean_ssim
from facecraft.train.exemplars import keep_exemplars
from facecraft.train.models import FaceAutoencoder, build_model
from facecraft.train.plan import RunPlan, plan_run
from facecraft.train.trainer import Callback, Trainer, TrainState

log = logging.getLogger("facecraft.train")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@dataclass
class TrainReport:
    model_dir: Path
    step: int
    """Total steps the model has now been trained."""
    steps_this_run: int
    seconds: float
    images_per_second: float
    """Faces per second (all identities, all processes) in this run."""
    val_ssim: float
    """Mean validation masked SSIM at the end (nan when not validated)."""
    metrics: dict[str, dict[str, float]]
    best: dict[str, Any]
    history: list[dict[str, Any]]
    stop_reason: str
    resumed: bool
    warnings: list[str] = field(default_factory=list)
    main_process: bool = True
    """False in the other processes of a torchrun (they do not validate; only the main one reports)."""


def train(
    facesets: Mapping[str, str | Path],
    output: str | Path,
    config: TrainConfig | None = None,
    progress: bool = True,
) -> TrainReport:
    """Train (or resume) the face model in ``output`` on ``facesets`` ({identity name: faceset folder}).

    Each identity gets its own decoder; all share the encoder. Stops at ``config.steps`` total steps,
    after ``config.minutes``, or at ``config.until_ssim``; Ctrl-C saves a checkpoint and re-raises
    KeyboardInterrupt. Raises FacecraftError on bad input. Under ``torchrun`` it trains with DDP.
    """
    config = config or TrainConfig()
    if len(facesets) < 2:
        raise FacecraftError(
            "training needs at least two identities (--a and --b, or --face NAME=FACESET twice)"
        )
    for name in facesets:
        if not _NAME.match(name):
            raise FacecraftError(f"identity name {name!r} must be letters, digits, '_' or '-' (at most 32)")
    root = Path(output)
    require_dir(root, "model folder")
    device = resolve_device(config.device)
    dist, device = init_distributed(device)
    if config.deterministic:
        _deterministic()
    lock = FolderLock.for_folder(root, f"the model folder {root}", "train") if dist.main else nullcontext()
    try:
        with lock:
            report = _train(facesets, root, config, device, dist, progress)
        # Every process reaches the end before any leaves the group: a gloo process whose peer had already
        # torn its connections down aborted now and then ("terminate called without an active exception").
        barrier(dist)
        return report
    finally:
        shutdown(dist)


def _deterministic() -> None:
    """Deterministic kernels on CUDA (slower): the same seed and settings give the same weights."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def _train(
    facesets: Mapping[str, str | Path],
    root: Path,
    config: TrainConfig,
    device: torch.device,
    dist: DistInfo,
    progress: bool,
) -> TrainReport:
    plan = plan_run(facesets, root, config, device, dist, progress)
    if dist.main:
        # The source person's sharp faces, kept for the swap to lend detail from (swap.exemplars).
        parser_on = plan.info.settings.get("mask_target") == "parser"
        for d in plan.data:
            keep_exemplars(root, d.name, d.source, parser_on, untint=plan.config.untint_lenses)
    trainer, checkpointer = _build(plan, root, device, dist, progress)
    start_step = trainer.state.step
    _fit(trainer, checkpointer, plan, root, device, dist)
    s = trainer.state
    return TrainReport(
        root,
        s.step,
        s.step - start_step,
        s.run_seconds,
        s.run_images / max(s.run_seconds, 1e-9),
        mean_ssim(s.metrics) if s.metrics else float("nan"),
        s.metrics,
        s.best,
        s.history,
        s.stop,
        plan.old is not None,
        plan.warnings,
        dist.main,
    )


def _build(
    plan: RunPlan, root: Path, device: torch.device, dist: DistInfo, progress: bool
) -> tuple[Trainer, Checkpointer]:
    """The facesets on the device, the network (initial or restored weights and optimizer state), the batch
    (``--batch auto`` probes for it now), and the trainer with its callbacks."""
    config, old, info = plan.config, plan.old, plan.info
    assert config.model is not None
    data = _to_device(plan.data, device)  # before --batch auto, whose probe must see the facesets' memory
    torch.manual_seed(config.seed)  # the same initial weights for the same seed
    net = build_model(config.model, plan.model_config, info.identities).to(device)
    net = net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    batch = plan.batch
    if plan.auto_batch:
        batch = _auto_batch(net, data, config, device, plan.learning_rate, dist)
        info = replace(info, settings={**info.settings, "batch": batch})
        if dist.main:
            write_model_info(root, info)
    optimizer = torch.optim.Adam(net.parameters(), lr=plan.learning_rate, betas=(0.5, 0.999))
    extra: dict[str, Any] = {"total_images": 0, "total_seconds": 0.0, "data_order": {}}
    state = TrainState()
    kept: Checkpoint | None = None
    if old is not None:
        if dist.main:
            remove_partial_saves(root)
        state, extra, corrupt, kept = _restore(root, net, optimizer, plan.learning_rate, device, extra)
        plan.warnings.extend(corrupt)
        barrier(dist)
        if corrupt and dist.main:
            set_aside_newer(root, state.step)

    barrier(dist)  # every process has loaded the checkpoint before the main one saves or prunes
    faces = {d.name: len(d.train_idx) for d in data}
    before = extra.get("data_order", {}).get("train_faces", faces)
    plan.warnings.extend(
        f"faceset {n} now has {faces[n]} training faces ({before[n]} before); the data order differs from an "
        "uninterrupted run"
        for n in faces
        if n in before and before[n] != faces[n]
    )
    extra["data_order"] = {"seed": config.seed, "batch": batch, "train_faces": faces}
    if dist.main:
        log.info(
            _startup_line(
                root, device, plan.threads, dist, batch, plan.preset, old, state.step, plan.batch_capped
            )
        )
        log.info("train: validation faces: " + "; ".join(f"{d.name}: {d.holdout}" for d in data))
        for d in data:
            if d.glasses:
                log.info(glasses_notice(d.name, d.glasses, len(d.images)))
    checkpointer = Checkpointer(root, config.save_every, config.keep, extra)
    callbacks = _callbacks(root, config, checkpointer, dist.main, progress)
    trainer = Trainer(net, optimizer, data, config, batch, device, dist, callbacks, state)
    if kept is not None and trainer.average is not None and training_weights(kept.tensors):
        trainer.average.load(kept.weights)
    if kept is not None and trainer.adversary is not None:
        trainer.adversary.load(kept.tensors, kept.state.get("adversary"))
    return trainer, checkpointer


def _fit(
    trainer: Trainer,
    checkpointer: Checkpointer,
    plan: RunPlan,
    root: Path,
    device: torch.device,
    dist: DistInfo,
) -> None:
    """Train until a stop rule fires; Ctrl-C (and SIGTERM, via the CLI) saves first, then re-raises."""
    try:
        trainer.run()
    except KeyboardInterrupt:
        if dist.main:
            checkpointer.save(trainer)
        raise
    except torch.OutOfMemoryError:
        raise FacecraftError(
            f"out of memory at --batch {trainer.batch}, --size {plan.model_config.size} on {device}; lower "
            f"--batch (or --size, or use --model lite); the last checkpoint in {root} is kept"
        ) from None


def _startup_line(
    root: Path,
    device: torch.device,
    threads: int,
    dist: DistInfo,
    batch: int,
    preset: Any,
    old: ModelInfo | None,
    step: int,
    capped: bool,
) -> str:
    """One line that says what this run will do: device, threads, batch (and why), new or resumed."""
    where = f"{device}" + (f", {threads} CPU threads" if threads else "")
    if dist.world > 1:
        where += f", {dist.world} processes"
    preset_batch = int(preset.train.get("batch", 16))
    why = f" (the preset's {preset_batch}, capped on the CPU; --batch sets it)" if capped else ""
    start = f"resuming {root} at step {step}" if old is not None else f"new model in {root}"
    return f"train: {start}; {where}; batch {batch} faces per identity{why}"


def _to_device(data: list[IdentityData], device: torch.device) -> list[IdentityData]:
    """The facesets on the training device; running out of GPU memory here is a clear error."""
    try:
        return [d.to(device) for d in data]
    except torch.OutOfMemoryError:
        faces = sum(len(d.images) for d in data)
        gib = sum(d.images.nbytes + d.masks.nbytes for d in data) / 2**30
        raise FacecraftError(
            f"the facesets ({faces} faces, {gib:.1f} GiB at this size) do not fit in the memory of {device}; "
            "keep fewer faces (facecraft faceset curate --keep N) or train at a smaller --size"
        ) from None


def _auto_batch(
    net: torch.nn.Module,
    data: list[IdentityData],
    config: TrainConfig,
    device: torch.device,
    lr: float,
    dist: DistInfo,
) -> int:
    """``--batch auto`` on CUDA: the largest power of two per GPU (same on all GPUs) times the GPU count."""
    assert isinstance(net, FaceAutoencoder)
    fits = cuda_step_fits(net, data, config, device, lr, ddp=dist.world > 1)
    per_gpu = min_over_ranks(largest_batch(fits, 8, 1024), dist, device)
    log.info(
        "--batch auto: %d faces per identity per GPU fit on %s", per_gpu, torch.cuda.get_device_name(device)
    )
    return per_gpu * dist.world


def _restore(
    root: Path,
    net: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    lr: float,
    device: torch.device,
    extra: dict[str, Any],
) -> tuple[TrainState, dict[str, Any], list[str], Checkpoint | None]:
    """Load the newest good checkpoint into ``net`` and ``optimizer`` (weights, Adam state, RNG, step);
    the last item is that checkpoint (its running average of the weights and its discriminator, when it kept
    them, are loaded once the trainer exists)."""
    ck, warnings = load_latest(root)
    if ck is None:
        return TrainState(), extra, warnings, None
    training = training_weights(ck.tensors)
    net.load_state_dict(training or ck.weights)
    optimizer.load_state_dict(optimizer_from_tensors(ck.tensors, ck.state["optimizer"]))
    for group in optimizer.param_groups:
        group["lr"] = lr
    if "rng.cpu" in ck.tensors:
        torch.set_rng_state(ck.tensors["rng.cpu"])
    if "rng.cuda" in ck.tensors and device.type == "cuda":
        torch.cuda.set_rng_state(ck.tensors["rng.cuda"], device)
    state = TrainState(step=ck.step, metrics=ck.state.get("metrics", {}), best=ck.state.get("best", {}))
    return state, {k: ck.state.get(k, v) for k, v in extra.items()}, warnings, ck


def _callbacks(
    root: Path, config: TrainConfig, checkpointer: Checkpointer, main: bool, progress: bool
) -> list[Callback]:
    """Only the main process validates, previews, saves and shows progress; all share the stop rule."""
    callbacks: list[Callback] = []
    if main:
        checkpointer.validator = validator = Validator(config.validate_every, root)
        callbacks += [
            validator,
            Previewer(config.preview_every, root),
            checkpointer,
            TensorBoard(root, config.preview_every),
            ProgressBar(config.steps, progress),
        ]
    return [*callbacks, StopWhen(config.steps, config.minutes, config.until_ssim)]
