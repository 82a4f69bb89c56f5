"""Swap quality, old recipe beside new, at the same training budget, measured on the files users get.

Extracts two clips (A and B), trains the CPU default twice for the same number of steps -- the old recipe
(landmark masks, no identity loss, landmark paste mask, no detail restored) and the new one (face-parser
masks, SFace identity loss, parse mask, target detail restored) -- swaps both ways with each, and
evaluates every labelled, encoded output against its original. The do-nothing baseline (the original
video scored as if it were the swap) sits beside them. Writes contact sheets (original | old | new) to
look at, and prints JSON and a one-line summary.

    python benchmarks/swap_quality.py --steps 1500 --out /tmp/swapq
"""

from __future__ import annotations

import argparse
import json
import os
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

SHARED = Path(os.environ.get("FACECRAFT_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
CLIPS = ("videos/woman_glasses_talking_5s_audio.mp4", "videos/man_grey_backdrop_7s_audio.mp4")


@contextmanager
def parser_switch(on: bool):  # type: ignore[no-untyped-def]
    old = os.environ.get("FACECRAFT_NO_PARSER")
    if on:
        os.environ.pop("FACECRAFT_NO_PARSER", None)
    else:
        os.environ["FACECRAFT_NO_PARSER"] = "1"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("FACECRAFT_NO_PARSER", None)
        else:
            os.environ["FACECRAFT_NO_PARSER"] = old


def summary_of(report: Any) -> dict[str, Any]:
    s = report.summary()
    expr = s.get("expression") or {}
    return {
        "identity_to_source": s["identity_to_source"],
        "source_match_rate": s["source_match_rate"],
        "identity_to_original": s["identity_to_original"],
        "sharpness_ratio": s["sharpness_ratio"],
        "flicker_ratio": s["flicker_ratio"],
        "seam": s["seam"],
        "expression_error": s["expression_error"],
        "eyes_closed_kept": (
            f"{expr['eyes_closed'].get('closed_frames_kept')}/{expr['eyes_closed'].get('closed_frames_original')}"
            if "eyes_closed" in expr
            else None
        ),
        "smile_correlation": (expr.get("smile") or {}).get("correlation"),
        "jaw_correlation": (expr.get("jaw_open") or {}).get("correlation"),
    }


def contact_sheet(videos: list[Path], out: Path, frames: int = 4) -> None:
    """Rows: evenly spaced frames; columns: the given videos (original first)."""
    caps = [cv2.VideoCapture(str(v)) for v in videos]
    n = int(min(c.get(cv2.CAP_PROP_FRAME_COUNT) for c in caps))
    rows = []
    for index in np.linspace(0, n - 1, frames + 2)[1:-1].astype(int):
        row = []
        for c in caps:
            c.set(cv2.CAP_PROP_POS_FRAMES, int(index))
            ok, img = c.read()
            row.append(img if ok else np.zeros_like(row[0]))
        rows.append(np.hstack(row))
    for c in caps:
        c.release()
    cv2.imwrite(str(out), np.vstack(rows))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--a", default=str(SHARED / CLIPS[0]))
    ap.add_argument("--b", default=str(SHARED / CLIPS[1]))
    ap.add_argument("--steps", type=int, default=1500, help="training steps per recipe (same for both)")
    ap.add_argument("--model", default="lite")
    ap.add_argument("--out", default="/tmp/facecraft-swap-quality")
    ap.add_argument("--recipes", default="old,new")
    args = ap.parse_args()

    from facecraft.evaluate import evaluate
    from facecraft.extract import extract
    from facecraft.swap import swap
    from facecraft.swap.config import SwapConfig
    from facecraft.train import train
    from facecraft.train.config import TrainConfig
    from facecraft.train.losses import LossConfig

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    clips = {"A": Path(args.a), "B": Path(args.b)}
    facesets = {k: out / f"faces_{k}" for k in clips}
    for k, clip in clips.items():
        extract([clip], facesets[k], progress=False)

    recipes = {
        "old": (False, LossConfig(identity=0.0), SwapConfig(mask="landmarks", detail=0.0)),
        "new": (True, LossConfig(), SwapConfig()),
    }
    result: dict[str, Any] = {
        "clips": {k: str(v) for k, v in clips.items()},
        "steps": args.steps,
        "model": args.model,
    }
    for direction, (src, dst) in {"A_into_B": ("A", "B"), "B_into_A": ("B", "A")}.items():
        report = evaluate(clips[dst], clips[dst], facesets[src], progress=False)
        result.setdefault("do_nothing", {})[direction] = summary_of(report)
    for name in args.recipes.split(","):
        use_parser, loss, swap_cfg = recipes[name]
        model = out / f"model_{name}"
        with parser_switch(use_parser):
            t0 = time.perf_counter()
            rep = train(
                {k: str(v) for k, v in facesets.items()},
                model,
                TrainConfig(model=args.model, steps=args.steps, loss=loss, preview_every=0),
                progress=False,
            )
            result.setdefault("train_seconds", {})[name] = round(time.perf_counter() - t0, 1)
            result.setdefault("val_ssim", {})[name] = getattr(rep, "val_ssim", None)
            for direction, (src, dst) in {"A_into_B": ("A", "B"), "B_into_A": ("B", "A")}.items():
                video = out / f"{name}_{direction}.mp4"
                t0 = time.perf_counter()
                swap(clips[dst], model, video, replace(swap_cfg, to=src), progress=False)
                result.setdefault("swap_seconds", {}).setdefault(name, {})[direction] = round(
                    time.perf_counter() - t0, 1
                )
                report = evaluate(clips[dst], video, facesets[src], progress=False)
                result.setdefault(name, {})[direction] = summary_of(report)
    for direction, (_, dst) in {"A_into_B": ("A", "B"), "B_into_A": ("B", "A")}.items():
        videos = [clips[dst]] + [out / f"{n}_{direction}.mp4" for n in args.recipes.split(",")]
        contact_sheet([v for v in videos if v.is_file()], out / f"sheet_{direction}.png")
    print(json.dumps(result, indent=1, default=str))
    line = []
    for name in args.recipes.split(","):
        for direction in ("A_into_B", "B_into_A"):
            r = result[name][direction]
            line.append(
                f"{name} {direction}: match {r['source_match_rate']:.2f} sharp {r['sharpness_ratio']:.2f} "
                f"flicker {r['flicker_ratio']:.2f}"
            )
    print("swap quality at", args.steps, "steps:", "; ".join(line), f"(sheets in {out})")


if __name__ == "__main__":
    main()
