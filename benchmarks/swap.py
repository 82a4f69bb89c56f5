"""Swap benchmark: frames/s and peak memory of ``facecraft.swap`` on a 512x512 clip and a 1080p clip.

For each architecture (``lite``, ``standard``; untrained weights, which run exactly as fast as trained ones)
it builds a model folder with the train verb (one step on two small facesets), then swaps each clip in a
fresh process and prints JSON: frames, wall seconds of the whole ``swap`` call (model load included),
frames/s of the call and of the frame loop alone (the call minus a one-frame call's fixed cost), and the
process's peak resident memory. Target on the 2-core CPU: ``lite`` >= 15 frames/s at 512x512.

Usage: ``python benchmarks/swap.py [--models lite,standard] [--seconds 4]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(os.environ.get("FACECRAFT_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
CLIP_512 = DATA / "videos" / "man_glasses_orange_7s_audio.mp4"  # 512x512, 25 fps, with audio
TARGET_FPS_512_LITE = 15.0


def _one(model: str, video: str, seconds: float) -> None:
    """Child process: one swap call; prints its JSON line."""
    from facecraft.swap import SwapConfig, swap

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        report = swap(video, model, Path(tmp) / "out.mp4", SwapConfig(end=seconds), progress=False)
        wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {"frames": report.frames, "faces": report.faces_swapped, "wall_s": wall, "peak_rss_mb": peak}
        )
    )


def _run(model: Path, video: Path, seconds: float) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--one", str(model), str(video), str(seconds)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"swap failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _make_1080p(tmp: Path, seconds: float) -> Path:
    from facecraft.media.ffmpeg import ffmpeg_exe

    out = tmp / "clip_1080p.mp4"
    vf = "scale=1080:1080,pad=1920:1080:420:0"
    cmd = [ffmpeg_exe(), "-loglevel", "error", "-y", "-t", str(seconds + 0.5), "-i", str(CLIP_512), "-vf", vf]
    subprocess.run([*cmd, "-c:v", "libx264", "-crf", "18", "-c:a", "copy", str(out)], check=True)
    return out


def _model(tmp: Path, arch: str) -> Path:
    from facecraft.extract import ExtractConfig, extract
    from facecraft.train import TrainConfig, train

    fs = {}
    for name, clip, every in (
        ("A", "man_grey_backdrop_7s_audio.mp4", 10),
        ("B", "woman_glasses_talking_5s_audio.mp4", 6),
    ):
        fs[name] = tmp / f"faceset_{name}"
        if not fs[name].exists():
            extract([DATA / "videos" / clip], fs[name], ExtractConfig(size=256, every=every), progress=False)
    out = tmp / f"model_{arch}"
    config = TrainConfig(model=arch, steps=1, batch=2, preview_every=0, validate_every=1000)
    train(fs, out, config, progress=False)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="lite,standard")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of clip swapped, seconds")
    parser.add_argument("--one", nargs=3, metavar=("MODEL", "VIDEO", "SECONDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        _one(args.one[0], args.one[1], float(args.one[2]))
        return 0
    if not CLIP_512.is_file():
        print(json.dumps({"skipped": f"{CLIP_512} not found (set FACECRAFT_TEST_DATA)"}))
        return 0
    results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        clips = {"512x512": CLIP_512, "1920x1080": _make_1080p(tmp, args.seconds)}
        for arch in args.models.split(","):
            model = _model(tmp, arch)
            results[arch] = {}
            for label, clip in clips.items():
                one = _run(model, clip, 1 / 25)
                full = _run(model, clip, args.seconds)
                loop_s = max(full["wall_s"] - one["wall_s"], 1e-6)
                results[arch][label] = {
                    "frames": full["frames"],
                    "wall_s": round(full["wall_s"], 2),
                    "frames_per_s_call": round(full["frames"] / full["wall_s"], 1),
                    "frames_per_s_loop": round((full["frames"] - one["frames"]) / loop_s, 1),
                    "peak_rss_mb": round(full["peak_rss_mb"]),
                }
    lite = results.get("lite", {}).get("512x512", {})
    print(
        json.dumps(
            {
                "device": "cpu",
                "cpus": os.cpu_count(),
                "machine": platform.processor() or platform.machine(),
                "results": results,
                "target_lite_512_frames_per_s": TARGET_FPS_512_LITE,
                "target_met": bool(lite) and lite["frames_per_s_loop"] >= TARGET_FPS_512_LITE,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
