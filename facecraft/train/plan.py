"""What a training run will do, settled before any weights exist.

From the request (facesets, model folder, :class:`TrainConfig`) and what the model folder already holds:
the architecture and its settings, learning rate, batch, CPU threads, the facesets in memory with their
validation hold-out, and the ``model.json`` this run writes. Every mistake is refused here, before any
training starts (a different architecture, size, identity, person or setting on resume).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from facecraft.errors import FacecraftError
from facecraft.face.parse import parser_disabled
from facecraft.fileio import LOCK_NAME
from facecraft.train.checkpoint import MODEL_JSON, ModelInfo, read_model_info, write_model_info
from facecraft.train.config import DEFAULT_MODEL, TrainConfig
from facecraft.train.data import IdentityData, check_compatible, load_identity
from facecraft.train.device import cpu_threads
from facecraft.train.distributed import DistInfo, barrier
from facecraft.train.identities import check_same_people, identity_embeddings
from facecraft.train.models import ModelConfig, Preset, load_preset, make_config
from facecraft.train.settings import apply_settings

log = logging.getLogger("facecraft.train")


@dataclass
class RunPlan:
    config: TrainConfig
    """The request with the architecture and size settled (from the model folder when resuming)."""
    old: ModelInfo | None
    """The model folder's model.json when resuming, else None."""
    info: ModelInfo
    """What this run records in model.json."""
    preset: Preset
    model_config: ModelConfig
    data: list[IdentityData]
    """The facesets in host memory, with their validation hold-out."""
    learning_rate: float
    batch: int
    """Faces per identity per step, all processes together (with ``auto_batch``: a placeholder)."""
    auto_batch: bool
    """``--batch auto`` on a GPU: the batch is chosen by a memory probe once the model exists."""
    threads: int
    """CPU threads per process (0 on a GPU)."""
    warnings: list[str]

    @property
    def batch_capped(self) -> bool:
        """The preset's batch was lowered because training runs on the CPU."""
        preset_batch = int(self.preset.train.get("batch", 16))
        return not self.config.batch and self.batch < preset_batch and self.threads > 0


def plan_run(
    facesets: Mapping[str, str | Path],
    root: Path,
    config: TrainConfig,
    device: torch.device,
    dist: DistInfo,
    progress: bool = True,
) -> RunPlan:
    """Settle everything about the run; writes model.json for a new model (main process only) and sets
    torch's CPU thread count before the facesets are read (the face parser runs on it)."""
    old = read_model_info(root) if (root / MODEL_JSON).exists() else None
    if old is None and root.is_dir() and any(p.name != LOCK_NAME for p in root.iterdir()):
        raise FacecraftError(
            f"{root} exists and is not a facecraft model folder; choose a new or empty folder"
        )
    barrier(dist)  # every process has looked before the main one writes
    config = _settle(config, old)
    threads, warnings = _threads(config, old, dist) if device.type == "cpu" else (0, list[str]())
    if threads:
        torch.set_num_threads(threads)
    assert config.model is not None
    preset = load_preset(config.model, config.size)
    # the preset's other settings (augment.*, loss.*, ...) yield to any the caller changed
    extra = {k: v for k, v in preset.train.items() if k not in ("batch", "learning_rate")}
    config = apply_settings(config, extra, only_defaults=True)
    config = replace(config, paint_hair=bool(config.paint_hair))
    assert config.model is not None
    model_cfg = _model_config(root, config, preset.model, old)
    lr = config.learning_rate or float(preset.train.get("learning_rate", 1e-4))
    batch = config.batch or _default_batch(int(preset.train.get("batch", 16)), model_cfg.size, device)
    auto_batch = config.batch == 0 and old is None and device.type == "cuda"
    if batch % dist.world and not auto_batch:  # --batch auto picks a multiple of the GPU count itself
        raise FacecraftError(f"--batch {batch} must be divisible by the number of processes ({dist.world})")

    data = [
        load_identity(
            n,
            p,
            model_cfg.size,
            config.val_fraction,
            config.max_val,
            progress=progress and dist.main,
            paint_hair=bool(config.paint_hair),
            untint=config.untint_lenses,
        )
        for n, p in facesets.items()
    ]
    faceset_size, coverage = check_compatible(data)
    settings: dict[str, Any] = {"seed": config.seed, "batch": batch}
    # What the learned mask was taught: the parser's face (hair and glasses left out) or the mesh oval.
    settings["mask_target"] = "landmarks" if parser_disabled() else "parser"
    # How the training faces were prepared: a resumed run must prepare them the same way.
    settings["paint_hair"] = bool(config.paint_hair)
    settings["untint_lenses"] = config.untint_lenses
    if threads:
        settings["cpu_threads"] = old.settings.get("cpu_threads", threads) if old is not None else threads
    info = ModelInfo(
        config.model,
        model_cfg.to_dict(),
        list(facesets),
        model_cfg.size,
        coverage,
        faceset_size,
        settings,
        identity_embeddings(facesets),
    )
    if old is not None:
        _check_resume(root, old, info)
        check_same_people(old, info)
    elif dist.main:
        root.mkdir(parents=True, exist_ok=True)
        write_model_info(root, info)
    return RunPlan(config, old, info, preset, model_cfg, data, lr, batch, auto_batch, threads, warnings)


def _threads(config: TrainConfig, old: ModelInfo | None, dist: DistInfo) -> tuple[int, list[str]]:
    """CPU threads per process. Results are bit-identical only at one thread count (reductions split
    differently), so a resumed model keeps the count it was started with unless --threads says otherwise."""
    recorded = int(old.settings.get("cpu_threads", 0)) if old is not None else 0
    if config.threads:
        warn = (
            [
                f"--threads {config.threads} differs from the {recorded} this model was trained with; the "
                "result will not be bit-identical to an uninterrupted run"
            ]
            if recorded and recorded != config.threads
            else []
        )
        return config.threads, warn
    return recorded or cpu_threads(0, dist.world), []


def _settle(config: TrainConfig, old: ModelInfo | None) -> TrainConfig:
    """Fill model/size from the model folder when resuming; reject a different architecture."""
    if old is None:
        return replace(config, model=config.model or DEFAULT_MODEL)
    if config.model and config.model != old.architecture:
        raise FacecraftError(
            f"the model folder holds a {old.architecture!r} model, not {config.model!r}; "
            f"use --model {old.architecture} to resume it, or a new output folder"
        )
    if config.size and config.size != old.size:
        raise FacecraftError(
            f"the model folder was trained at --size {old.size}, not {config.size}; use a new output folder"
        )
    batch = config.batch or old.settings.get("batch")
    # A model from before the lenses were untinted goes on with its faces prepared as they were.
    untint = config.untint_lenses if "untint_lenses" in old.settings else False
    # The hair painted (or not) as the model was trained, whatever its preset says now.
    paint = bool(old.settings.get("paint_hair", False)) if config.paint_hair is None else config.paint_hair
    return replace(
        config, model=old.architecture, size=old.size, batch=batch, untint_lenses=untint, paint_hair=paint
    )


def _check_resume(root: Path, old: ModelInfo, new: ModelInfo) -> None:
    """Settings that must not change when resuming (weights or data order would not fit)."""
    clash = []
    if old.identities != new.identities:
        clash.append(f"identities {old.identities} -> {new.identities}")
    for key in ("coverage", "faceset_size"):
        if getattr(old, key) != getattr(new, key):
            clash.append(f"{key} {getattr(old, key)!r} -> {getattr(new, key)!r}")
    for key, value in new.settings.items():
        if key in old.settings and old.settings[key] != value:
            clash.append(f"{key} {old.settings[key]!r} -> {value!r}")
    if clash:
        raise FacecraftError(
            f"{root} was trained with other settings ({'; '.join(clash)}); resume with the same ones or "
            "use a new output folder"
        )


def _default_batch(preset_batch: int, size: int, device: torch.device) -> int:
    """The preset's batch on GPUs; on CPUs at most 16 faces per identity at 64 px or for presets made for
    CPUs (lite128 asks for 16), 4 for the GPU presets at larger sizes, so that a step takes seconds."""
    if device.type != "cpu":
        return preset_batch
    return min(preset_batch, 16 if size <= 64 or preset_batch <= 16 else 4)


def _model_config(root: Path, config: TrainConfig, preset: ModelConfig, old: ModelInfo | None) -> ModelConfig:
    """The preset with ``config.model_settings`` applied; a resumed model keeps its own."""
    assert config.model is not None
    if old is None:
        return make_config(config.model, {**preset.to_dict(), **config.model_settings})
    stored = make_config(config.model, old.model)
    if config.model_settings and make_config(config.model, {**old.model, **config.model_settings}) != stored:
        raise FacecraftError(f"{root} was trained with other model settings; use a new output folder")
    return stored
