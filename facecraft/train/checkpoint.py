"""The model folder: ``model.json`` (what the model is) and ``checkpoints/step-NNNNNNNNN/`` folders.

Each checkpoint folder holds ``weights.safetensors`` (the model a user gets: the running average of the
weights when training keeps one), ``optimizer.safetensors`` (optimizer tensors, RNG states and then the
training weights themselves) and ``state.json`` (step, metrics, optimizer hyper-parameters, sha256 of both
tensor files). A checkpoint is written into a temporary folder, every file fsynced, then renamed into
place, so a kill at any moment leaves only whole checkpoints. Loading never unpickles: safetensors and
JSON only. A checkpoint that fails its checks is skipped with a warning and the previous one is used.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from facecraft.errors import FacecraftError
from facecraft.fileio import fsync_dir, sha256_file, write_atomic, write_file_synced
from facecraft.version import __version__

log = logging.getLogger("facecraft.train")

MODEL_JSON = "model.json"
CHECKPOINTS = "checkpoints"
FORMAT = "facecraft-face-model"
FORMAT_VERSION = 1
_STEP_DIR = re.compile(r"^step-(\d{9})$")
TRAINING_WEIGHTS = "train."
"""Prefix of the training weights in ``optimizer.safetensors`` when ``weights.safetensors`` holds their
running average (train/ema.py): resuming continues from the training weights."""


def training_weights(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The training weights kept among a checkpoint's optimizer ``tensors`` ({} when it kept none: its
    ``weights.safetensors`` are then the training weights themselves)."""
    n = len(TRAINING_WEIGHTS)
    return {k[n:]: v for k, v in tensors.items() if k.startswith(TRAINING_WEIGHTS)}


@dataclass(frozen=True)
class ModelInfo:
    """What a model folder holds; written once when training starts."""

    architecture: str
    model: dict[str, Any]
    """The architecture's config fields."""
    identities: list[str]
    size: int
    """Aligned face side the model works at, pixels."""
    coverage: str
    """Faceset coverage the faces were aligned with (``whole_face``...)."""
    faceset_size: int
    """Side of the facesets' aligned images, pixels (swap aligns frames at this size)."""
    settings: dict[str, Any] = field(default_factory=dict)
    """Training settings a resumed run must keep (seed, batch...)."""
    identity_embeddings: dict[str, list[float]] = field(default_factory=dict)
    """Per identity, the mean identity embedding of the faceset it was first trained on (see
    :mod:`facecraft.train.identities`)."""


def write_model_info(root: Path, info: ModelInfo) -> None:
    data = {"format": FORMAT, "format_version": FORMAT_VERSION, "software": f"facecraft {__version__}"}
    data.update(asdict(info))
    write_atomic(root / MODEL_JSON, json.dumps(data, indent=2, sort_keys=True).encode())


def read_model_info(root: Path) -> ModelInfo:
    path = Path(root) / MODEL_JSON
    if not path.is_file():
        raise FacecraftError(
            f"{root} is not a facecraft model (no {MODEL_JSON}); train one with 'facecraft train'"
        )
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise FacecraftError(f"{path} is unreadable ({exc}); the model folder is damaged") from None
    if data.get("format") != FORMAT:
        raise FacecraftError(f"{path} is not a facecraft face model")
    if int(data.get("format_version", 0)) > FORMAT_VERSION:
        raise FacecraftError(
            f"{root} was written by a newer facecraft ({data.get('software')}); upgrade facecraft"
        )
    try:
        return ModelInfo(**{k: data[k] for k in ModelInfo.__dataclass_fields__ if k in data})
    except TypeError as exc:
        raise FacecraftError(f"{path} is incomplete ({exc}); the model folder is damaged") from None


@dataclass
class Checkpoint:
    step: int
    path: Path
    weights: dict[str, torch.Tensor]
    state: dict[str, Any]
    """JSON state: step, best, elapsed seconds, optimizer param_groups..."""
    tensors: dict[str, torch.Tensor]
    """Optimizer tensors (``optim.<param>.<key>``), RNG states (``rng.<device>``), the training weights
    (``train.*``) and the discriminator (``adversary.*``) when training kept them."""


def list_checkpoints(root: Path) -> list[tuple[int, Path]]:
    """Complete checkpoint folders, oldest first."""
    ckdir = Path(root) / CHECKPOINTS
    if not ckdir.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in ckdir.iterdir() if (m := _STEP_DIR.match(p.name)) and p.is_dir()]
    return sorted(found)


def optimizer_to_tensors(opt_state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split ``optimizer.state_dict()`` into tensors (for safetensors) and JSON (hyper-parameters)."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, entry in opt_state["state"].items():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{pid}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(pid), {})[key] = value
    return tensors, {"param_groups": opt_state["param_groups"], "scalars": scalars}


def optimizer_from_tensors(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith("optim."):
            _, pid, key = name.split(".", 2)
            state.setdefault(int(pid), {})[key] = value
    for pid, entry in meta.get("scalars", {}).items():
        state.setdefault(int(pid), {}).update(entry)
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(
    root: Path,
    step: int,
    weights: dict[str, torch.Tensor],
    tensors: dict[str, torch.Tensor],
    state: dict[str, Any],
    keep: int,
) -> Path:
    """Write checkpoint ``step`` atomically, then delete all but the last ``keep`` and the best one."""
    ckdir = Path(root) / CHECKPOINTS
    ckdir.mkdir(parents=True, exist_ok=True)
    final = ckdir / f"step-{step:09d}"
    tmp = ckdir / f".tmp-step-{step:09d}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    files = {
        "weights.safetensors": save({k: v.detach().cpu().contiguous() for k, v in weights.items()}),
        "optimizer.safetensors": save(tensors),
    }
    for name, data in files.items():
        write_file_synced(tmp / name, data)
    full_state = {**state, "step": step, "files": {n: sha256_file(tmp / n) for n in files}}
    write_file_synced(tmp / "state.json", json.dumps(full_state, indent=1, sort_keys=True).encode())
    fsync_dir(tmp)
    if final.exists():  # re-saving a step (after a restore): move the old one aside first
        old = ckdir / f".old-{final.name}-{os.getpid()}"
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)
    fsync_dir(ckdir)
    _prune(ckdir, keep, state.get("best", {}).get("step"))
    return final


def _prune(ckdir: Path, keep: int, best_step: int | None) -> None:
    ckpts = list_checkpoints(ckdir.parent)
    for step, path in ckpts[: max(0, len(ckpts) - keep)]:
        if step != best_step:  # rename first: a kill mid-delete must not leave a half checkpoint
            doomed = ckdir / f".old-{path.name}-{os.getpid()}"
            os.replace(path, doomed)
            shutil.rmtree(doomed, ignore_errors=True)


def remove_partial_saves(root: Path) -> None:
    """Delete temporary folders left by a save that was killed (only whole checkpoints are ever used)."""
    ckdir = Path(root) / CHECKPOINTS
    if ckdir.is_dir():
        for p in ckdir.iterdir():
            if p.name.startswith((".tmp-", ".old-")):
                shutil.rmtree(p, ignore_errors=True)


def set_aside_newer(root: Path, step: int) -> list[Path]:
    """Rename checkpoints newer than ``step`` (the corrupt ones a resume skipped) to ``corrupt-step-...``,
    so they are kept for inspection but no longer tried, and the resumed run can write those steps again."""
    moved = []
    for s, path in list_checkpoints(root):
        if s > step:
            target = path.with_name(f"corrupt-{path.name}")
            shutil.rmtree(target, ignore_errors=True)
            os.replace(path, target)
            moved.append(target)
    return moved


def read_checkpoint(path: Path, with_optimizer: bool = True) -> Checkpoint:
    """Read and verify one checkpoint folder; FacecraftError says what is wrong with it."""
    try:
        state = json.loads((path / "state.json").read_text())
        names = ["weights.safetensors"] + (["optimizer.safetensors"] if with_optimizer else [])
        for name in names:
            if sha256_file(path / name) != state["files"][name]:
                raise FacecraftError(f"{name} does not match its recorded sha256")
        weights = load_file(path / "weights.safetensors")
        tensors = load_file(path / "optimizer.safetensors") if with_optimizer else {}
    except FacecraftError as exc:
        raise FacecraftError(f"checkpoint {path.name} is corrupt: {exc}") from None
    except (OSError, ValueError, KeyError, SafetensorError) as exc:
        raise FacecraftError(f"checkpoint {path.name} is corrupt: {type(exc).__name__}: {exc}") from None
    return Checkpoint(int(state["step"]), path, weights, state, tensors)


def load_latest(
    root: Path, with_optimizer: bool = True, prefer_best: bool = False
) -> tuple[Checkpoint | None, list[str]]:
    """The newest checkpoint that verifies (or the best by validation, when ``prefer_best``).

    Returns (checkpoint or None when the folder has none, warnings about corrupt ones skipped). When
    every checkpoint is corrupt, raises FacecraftError.
    """
    ckpts = list_checkpoints(root)
    if prefer_best and ckpts:
        try:
            best = json.loads((ckpts[-1][1] / "state.json").read_text()).get("best", {}).get("step")
        except (OSError, ValueError):
            best = None
        ckpts.sort(key=lambda c: (c[0] == best, c[0]))
    warnings: list[str] = []
    for _, path in reversed(ckpts):
        try:
            ck = read_checkpoint(path, with_optimizer)
        except FacecraftError as exc:
            msg = f"{exc}; falling back to the previous checkpoint"
            log.warning("warning: %s", msg)
            warnings.append(msg)
            continue
        return ck, warnings
    if ckpts:
        raise FacecraftError(
            f"every checkpoint in {root} is corrupt; delete {root / CHECKPOINTS} to start over"
        )
    return None, warnings
