"""Train benchmark: training throughput, MFU and time-to-quality on two facesets from shared videos.

Prints JSON:
- ``peak_matmul_gflops``: the median rate of a large matmul timed in this run (fp32 on CPU, bf16 on CUDA)
  at the run's thread count: the MFU denominator. On a busy machine this moves with the load, so it is
  not the hardware peak; on CUDA ``datasheet_peak_gflops`` (dense bf16) and ``mfu_datasheet`` sit next to it.
- ``torch_threads``, ``threads_rule`` and the load average at start and end: the conditions of the run
- ``models``: per architecture and size: faces/s of full training steps (sampling, augmentation on the
  device, forward, masked SSIM + L1 loss, backward, clipping, Adam) from the median step time, for all
  identities together and per identity, GFLOP per face (fwd + bwd, counted by torch's FlopCounterMode),
  achieved GFLOP/s, MFU, and peak memory (CUDA: allocator peak; CPU: the process's peak RSS so far, which
  only grows)
- ``time_to_quality``: validation masked SSIM (mean of both identities, held-out faces) against wall time
  for ``lite`` (or ``--curve-model``) trained with ``facecraft.train.train``
Targets: 2-core CPU ``lite`` >= 60 faces/s; H100 ``standard`` >= 4,000 and ``hd`` >= 1,000 faces/s at MFU >= 35%,
validation SSIM 0.80 within 15 minutes.
Measured on one H200 (2026-11-30, benchmarks/gpu_check.py, random faces, identity loss off because that
machine had no faceset; bf16 8192^2 matmul 665 TFLOP/s, 67 % of the 989 datasheet): ``standard`` 2,850
faces/s at batch 64 per identity (3,370 at 1,024), MFU 22 % of the measured matmul, 15 % of the datasheet;
``hd`` 826 faces/s at 32 (925 at 128), MFU 19 % / 13 %. The GPU targets are missed.

Usage: ``python benchmarks/train.py [--models lite,original,standard,hd] [--minutes 3] [--threads N]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from facecraft.train import TrainConfig, train
from facecraft.train.data import load_identity
from facecraft.train.device import autocast, cpu_threads, resolve_device
from facecraft.train.distributed import DistInfo
from facecraft.train.models import build_model, load_preset
from facecraft.train.trainer import Trainer

DATA = Path(os.environ.get("FACECRAFT_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
VIDEOS = {"A": "obama_speaking_8s.mp4", "B": "woman_glasses_talking_5s_audio.mp4"}


#: Dense bf16 tensor-core peaks from the vendors' datasheets (TFLOP/s, without sparsity), by device name.
DATASHEET_BF16_TFLOPS = {
    "H200": 989.0,
    "H100 SXM": 989.0,
    "H100 80GB HBM3": 989.0,
    "H100 PCIe": 756.0,
    "H100 NVL": 835.0,
    "A100": 312.0,
    "L40S": 362.0,
    "L4": 121.0,
    "A10G": 70.0,
    "A10": 125.0,
    "RTX 4090": 165.0,
}


def datasheet_peak_gflops(device: torch.device) -> float | None:
    """The datasheet bf16 peak of a CUDA device (GFLOP/s), None on CPU or for an unknown GPU."""
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    for key in sorted(DATASHEET_BF16_TFLOPS, key=len, reverse=True):
        if key in name:
            return DATASHEET_BF16_TFLOPS[key] * 1000.0
    return None


def matmul_gflops(device: torch.device, repeats: int = 7, seconds: float = 0.3) -> dict[str, float]:
    """FLOP rate of a square matmul in the training dtype (fp32 CPU, bf16 CUDA): the median and the best
    of ``repeats`` timed windows of about ``seconds`` each, at the current thread count."""
    n = 1024 if device.type == "cpu" else 8192
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    a @ b  # warm-up
    rates = []
    for _ in range(repeats):
        count, t0 = 0, time.perf_counter()
        while count == 0 or time.perf_counter() - t0 < seconds:
            a @ b
            count += 1
            _sync(device)
        rates.append(2 * n**3 * count / (time.perf_counter() - t0) / 1e9)
    return {"median": statistics.median(rates), "best": max(rates)}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_model(
    name: str,
    size: int | None,
    facesets: dict[str, Path],
    device: torch.device,
    batch: int | None,
    seconds: float,
) -> dict[str, object]:
    preset = load_preset(name, size)
    size = preset.model.size
    batch = batch or int(preset.train["batch"])
    if device.type == "cpu":  # keep CPU runs short: the big models take seconds per step there
        batch = min(batch, 16 if size <= 64 else 4)
    data = [load_identity(n, p, size).to(device) for n, p in facesets.items()]
    torch.manual_seed(0)
    net = build_model(name, preset.model, list(facesets)).to(device)
    net = net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    trainer = Trainer(net, opt, data, TrainConfig(device=device.type), batch, device, DistInfo())
    inputs, _, _ = trainer.batch_for(0)
    with FlopCounterMode(display=False) as counter:
        with autocast(device):
            outs = net(inputs)
        sum(o.float().mean() for o in outs).backward()
    flops_per_face = counter.get_total_flops() / (batch * len(data))
    trainer.train_step()  # warm-up
    trainer.train_step()
    _sync(device)
    step_s: list[float] = []
    start = time.perf_counter()
    while len(step_s) < 5 or time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        trainer.train_step()
        _sync(device)  # per-step timing: the median is robust to a busy machine's stalls
        step_s.append(time.perf_counter() - t0)
    faces_per_step = batch * len(data)
    rate = faces_per_step / statistics.median(step_s)
    return {
        "model": name,
        "size": size,
        "identities": len(data),
        "batch_per_identity": batch,
        "params_m": round(sum(p.numel() for p in net.parameters()) / 1e6, 2),
        "steps_timed": len(step_s),
        "faces_per_second": _sig(rate),  # median step; all identities together
        "faces_per_second_per_identity": _sig(rate / len(data)),
        "faces_per_second_best_step": _sig(faces_per_step / min(step_s)),
        "gflop_per_face": round(flops_per_face / 1e9, 3),
        "achieved_gflops": round(rate * flops_per_face / 1e9, 1),
        "peak_memory_mb": round(_peak_memory_mb(device), 1),
    }


def _sig(x: float) -> float:
    """Three significant digits (a CPU may do 0.04 faces/s with the big models)."""
    return float(f"{x:.3g}")


def make_facesets(root: Path) -> dict[str, Path]:
    from facecraft.extract import ExtractConfig, extract  # here: gpu_check imports this file without it

    out = {}
    for name, video in VIDEOS.items():
        out[name] = root / name
        extract([DATA / "videos" / video], out[name], ExtractConfig(size=64, every=2), progress=False)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="lite,original,standard,hd", help="comma list, NAME or NAME@SIZE")
    ap.add_argument("--seconds", type=float, default=10.0, help="timed seconds per model")
    ap.add_argument("--minutes", type=float, default=3.0, help="time-to-quality run length (0: skip)")
    ap.add_argument("--curve-model", default="lite")
    ap.add_argument(
        "--batch", type=int, default=0, help="faces per identity (default: preset, capped on CPU)"
    )
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (default: free cores, as train does)")
    ap.add_argument(
        "--facesets", type=Path, help="folder with A/ and B/ facesets (default: extract to a temp dir)"
    )
    args = ap.parse_args()

    device = resolve_device(args.device)
    load_start = round(os.getloadavg()[0], 2)
    threads = cpu_threads(args.threads)
    if device.type == "cpu":
        torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory(prefix="facecraft-train-bench-") as tmp:
        t0 = time.perf_counter()
        facesets = (
            {n: args.facesets / n for n in VIDEOS} if args.facesets else make_facesets(Path(tmp) / "facesets")
        )
        extract_s = time.perf_counter() - t0
        # The MFU denominator is a matmul timed in this run, at this thread count, on this (possibly
        # busy) machine: the median over the run, with the datasheet peak next to it where one exists.
        matmul = [matmul_gflops(device)]
        models = []
        for item in args.models.split(","):
            name, _, size = item.partition("@")
            result = measure_model(
                name, int(size) if size else None, facesets, device, args.batch or None, args.seconds
            )
            matmul.append(matmul_gflops(device))
            models.append(result)
            print(json.dumps(result), file=sys.stderr, flush=True)
        peak = statistics.median(m["median"] for m in matmul)
        datasheet = datasheet_peak_gflops(device)
        for result in models:
            achieved = float(result["achieved_gflops"])  # type: ignore[arg-type]
            result["mfu"] = round(achieved / peak, 3)
            result["mfu_datasheet"] = round(achieved / datasheet, 3) if datasheet else None
        curve = None
        if args.minutes:
            cfg = TrainConfig(
                model=args.curve_model,
                minutes=args.minutes,
                device=args.device,
                threads=threads,
                validate_every=50,
                preview_every=0,
                save_every=10**9,
            )
            report = train(facesets, Path(tmp) / "model", cfg, progress=False)
            curve = {
                "model": args.curve_model,
                "faces_per_second": round(report.images_per_second, 1),
                "points": [
                    {"seconds": h["seconds"], "step": h["step"], "val_ssim": round(h["val_ssim"], 4)}
                    for h in report.history
                ],
            }
    out = {
        "device": torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else platform.processor() or "cpu",
        "cpu_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads() if device.type == "cpu" else None,
        "threads_rule": "--threads" if args.threads else "all cores, half when the load average > 1.5x cores",
        "load_average_1min_start": load_start,
        "load_average_1min_end": round(os.getloadavg()[0], 2),
        "torch": torch.__version__,
        "dtype": "bf16 autocast" if device.type == "cuda" else "fp32",
        "faceset_extract_seconds": round(extract_s, 1),
        "peak_matmul_gflops": round(peak, 1),  # median of this run's matmul timings: the MFU denominator
        "peak_matmul_gflops_best": round(max(m["best"] for m in matmul), 1),
        "datasheet_peak_gflops": datasheet,  # dense bf16 (CUDA only): the denominator of mfu_datasheet
        "models": models,
        "time_to_quality": curve,
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
