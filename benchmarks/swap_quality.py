"""Swap quality, recipe beside recipe, at the same training budget, measured on the files users get.

Extracts two clips (A and B) and parses their faces once, then per recipe trains for the same steps or
minutes, swaps both ways, and evaluates every labelled, encoded output against its original. Recipes:
``old`` (landmark masks, reconstruction loss only, landmark paste mask, nothing restored), ``new`` (the
defaults: face-parser masks, SFace identity loss, perceptual loss, parse-learned mask, target detail,
blinks kept, the running average of the weights), ``new_no_exemplars``, ``new_training_weights``
(``new``'s model with its last training weights instead of their average), ``new_no_perceptual``,
``new_lite128``, ``new_tinted_lenses``, ``new_adversarial`` and more (RECIPES). The do-nothing baseline
(the original scored as if it were the swap) sits beside them. Writes contact sheets (original | each recipe) to look at, and prints
JSON and a one-line summary of every recipe run into the same --out (so runs may go in parallel). Every
swap is delivered with a fixed watermark id and, with ``--watermark-ids N`` (default 3), also with N - 1
others: the id alone moves the recognition rate by several points, so each direction reports the spread.

    python benchmarks/swap_quality.py --minutes 15 --recipes old,new --out /tmp/swapq
"""

from __future__ import annotations

import argparse
import json
import os
import time
from contextlib import contextmanager
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
        "sharpness_ratio_replaced": s["sharpness_ratio_replaced"],
        "eye_shade": s.get("eye_shade"),
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


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def contact_sheet(videos: list[Path], out: Path, frames: int = 4) -> None:
    """Rows: evenly spaced frames; columns: the given videos (original first)."""
    caps = [cv2.VideoCapture(str(v)) for v in videos]
    n = int(min(c.get(cv2.CAP_PROP_FRAME_COUNT) for c in caps))
    rows = []
    for index in np.linspace(0, n - 1, frames + 2)[1:-1].astype(int):
        row: list[np.ndarray] = []
        for c in caps:
            c.set(cv2.CAP_PROP_POS_FRAMES, int(index))
            ok, img = c.read()
            row.append(img if ok else np.zeros_like(row[0]))
        rows.append(np.hstack(row))
    for c in caps:
        c.release()
    cv2.imwrite(str(out), np.vstack(rows))


ADVERSARIAL = 0.1
"""The adversarial recipe's loss weight; with --steps its phase is the last third of the steps (with
--minutes, the whole training)."""
RECIPES: dict[str, tuple[bool, str, dict[str, Any], dict[str, Any], str | None]] = {
    # name: (face parser on, architecture, loss changes, swap changes, the recipe whose model it swaps with)
    "old": (
        False,
        "lite",
        {"identity": 0.0, "perceptual": 0.0},
        {"mask": "landmarks", "detail": 0.0, "keep_blinks": False, "source_detail": 0.0},
        None,
    ),
    "new": (True, "lite", {}, {}, None),
    "new_no_exemplars": (True, "lite", {}, {"source_detail": 0.0}, "new"),
    "new_training_weights": (True, "lite", {}, {}, "new"),
    "new_no_perceptual": (True, "lite", {"perceptual": 0.0}, {}, None),
    "new_lite128": (True, "lite128", {}, {}, None),
    "new_tinted_lenses": (True, "lite", {}, {}, None),
    "new_adversarial": (True, "lite", {"adversarial": ADVERSARIAL}, {}, None),
    "new_lite128_hair_kept": (True, "lite128", {}, {}, None),
    "new_lite128_aim_training": (True, "lite128", {"identity_aim": "training"}, {}, None),
    "new_lite128_parse_mask": (True, "lite128", {}, {"mask": "parse"}, "new_lite128"),
}
"""The previous recipe (landmark masks, reconstruction loss only, landmark paste, nothing restored), the
current defaults, the defaults without the source person's exemplar detail (the same model as ``new``,
trained first when absent), ``new``'s last training weights instead of their running average (the same
training: train/ema.py), without the perceptual loss, at 128 px, and with a glasses wearer's lenses left tinted
in the training faces (train/lenses.py), with an adversarial finishing phase (train/adversarial.py), and at 128 px with
the hair over the face left in the training faces (only out of the loss), as ``lite128`` trained before its
preset painted it out (train/hair.py), and at 128 px with the identity loss aimed at the person as the
training faces show them, glasses and hair painted out (``loss.identity_aim=training``), and ``new_lite128``'s model
swapped with the ``parse`` mask (the default before ``parse-learned``)."""
TRAIN_CHANGES: dict[str, dict[str, Any]] = {
    "new_tinted_lenses": {"untint_lenses": False},
    "new_lite128_hair_kept": {"paint_hair": False},
}
"""Training settings a recipe changes besides the loss."""


def with_training_weights(model: Path, out: Path) -> Path:
    """A copy of ``model`` whose last checkpoint holds its training weights instead of their average."""
    import shutil

    from safetensors.torch import load_file, save_file

    from facecraft.fileio import sha256_file
    from facecraft.train.checkpoint import list_checkpoints, training_weights

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for f in model.iterdir():
        if f.name != "checkpoints":
            (shutil.copytree if f.is_dir() else shutil.copy)(f, out / f.name)
    _, last = list_checkpoints(model)[-1]
    ck = out / "checkpoints" / last.name
    shutil.copytree(last, ck)
    kept = training_weights(load_file(ck / "optimizer.safetensors"))
    if not kept:
        raise SystemExit(f"{model} kept no training weights (trained with weight_average=0?)")
    save_file(kept, ck / "weights.safetensors")
    state = json.loads((ck / "state.json").read_text())
    state["files"]["weights.safetensors"] = sha256_file(ck / "weights.safetensors")
    (ck / "state.json").write_text(json.dumps(state, indent=1, sort_keys=True))
    return out


DIRECTIONS = {"A_into_B": ("A", "B"), "B_into_A": ("B", "A")}


def run_recipe(
    name: str, args: argparse.Namespace, clips: dict[str, Path], facesets: dict[str, Path], out: Path
) -> dict[str, Any]:
    from facecraft.train import train
    from facecraft.train.config import TrainConfig
    from facecraft.train.losses import LossConfig

    use_parser, arch, loss, swap_changes, model_of = RECIPES[name]
    if model_of is not None:
        reused = out / f"result_{model_of}.json"
        if not reused.is_file():  # train it (and score it) first
            reused.write_text(
                json.dumps(run_recipe(model_of, args, clips, facesets, out), indent=1, default=str)
            )
        result: dict[str, Any] = {"model": arch, "train": json.loads(reused.read_text())["train"]}
        result["model_of"] = model_of
        model = out / f"model_{model_of}"
        if name == "new_training_weights":
            model = with_training_weights(model, out / f"model_{name}")
        with parser_switch(use_parser):
            swap_both(name, model, swap_changes, clips, facesets, out, result, args.watermark_ids)
        return result
    model = out / f"model_{name}"
    result = {"model": arch}
    if loss.get("adversarial") and args.steps:
        loss = {**loss, "adversarial_from": args.steps * 2 // 3}
    with parser_switch(use_parser):
        cfg = TrainConfig(
            model=arch,
            steps=args.steps,
            minutes=args.minutes,
            threads=args.threads,
            loss=LossConfig(**loss),
            preview_every=0,
            seed=args.seed,
            **TRAIN_CHANGES.get(name, {}),
        )
        t0 = time.perf_counter()
        rep = train({k: str(v) for k, v in facesets.items()}, model, cfg, progress=False)
        result["train"] = {
            "seconds": round(time.perf_counter() - t0, 1),
            "steps": rep.step,
            "faces_per_second": round(rep.images_per_second, 1),
            "val_ssim": round(rep.val_ssim, 4),
        }
        swap_both(name, model, swap_changes, clips, facesets, out, result, args.watermark_ids)
    return result


SPREAD_KEYS = ("source_match_rate", "identity_to_source", "sharpness_ratio_replaced", "flicker_ratio", "seam")
"""What is also reported over several watermark ids (min, median, max)."""


def swap_both(
    name: str,
    model: Path,
    swap_changes: dict[str, Any],
    clips: dict[str, Path],
    facesets: dict[str, Path],
    out: Path,
    result: dict[str, Any],
    ids: int = 1,
) -> None:
    """Swap each clip the other way with ``model`` and score the delivered files into ``result``. With
    ``ids`` > 1 the same swap is also delivered with ``ids - 1`` other watermark ids and scored: the id
    alone moved one direction's recognition between 94 % and 100 % of frames (six ids, the tuned pair), so
    ``over_watermark_ids`` gives each of :data:`SPREAD_KEYS` as [min, median, max] over the ids."""
    from facecraft.evaluate import evaluate
    from facecraft.provenance.payload import MEASURE_CONTENT_ID  # the same draw for every recipe and rerun
    from facecraft.swap import swap
    from facecraft.swap.config import SwapConfig

    for direction, (src, dst) in DIRECTIONS.items():
        video = out / f"{name}_{direction}.mp4"
        config = SwapConfig(to=src, **swap_changes)
        t0 = time.perf_counter()
        swap(clips[dst], model, video, config, progress=False, content_id=MEASURE_CONTENT_ID)
        result.setdefault("swap_seconds", {})[direction] = round(time.perf_counter() - t0, 1)
        result[direction] = summary_of(evaluate(clips[dst], video, facesets[src], progress=False))
        if ids < 2:
            continue
        draws = [result[direction]]
        for k in range(1, ids):
            other = out / f"{name}_{direction}_id{k}.mp4"
            swap(clips[dst], model, other, config, progress=False, content_id=MEASURE_CONTENT_ID + k)
            draws.append(summary_of(evaluate(clips[dst], other, facesets[src], progress=False)))
            other.unlink()
        result[direction]["over_watermark_ids"] = {"ids": ids} | {
            key: spread([d[key] for d in draws]) for key in SPREAD_KEYS
        }


def spread(values: list[float | None]) -> list[float] | None:
    """[min, median, max] of the values that are not None (None when none is)."""
    found = [float(v) for v in values if v is not None]
    if not found:
        return None
    return [round(min(found), 4), round(float(np.median(found)), 4), round(max(found), 4)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--a", default=str(SHARED / CLIPS[0]))
    ap.add_argument("--b", default=str(SHARED / CLIPS[1]))
    budget = ap.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, default=0, help="training steps per recipe (same for all)")
    budget.add_argument(
        "--minutes", type=float, default=0.0, help="training minutes per recipe (same for all)"
    )
    ap.add_argument("--threads", type=int, default=0, help="CPU threads per training (0: the free cores)")
    ap.add_argument("--seed", type=int, default=0, help="training seed (the same for every recipe)")
    ap.add_argument("--out", default="/tmp/facecraft-swap-quality")
    ap.add_argument("--recipes", default="old,new", help=f"comma-separated, of {', '.join(RECIPES)}")
    ap.add_argument(
        "--watermark-ids",
        type=int,
        default=3,
        help="deliver and score each swap with this many watermark ids (min/median/max; 1: the fixed one only)",
    )
    args = ap.parse_args()
    if not args.steps and not args.minutes:
        args.steps = 1500
    names = [n for n in args.recipes.split(",") if n]
    unknown = [n for n in names if n not in RECIPES]
    if unknown:
        raise SystemExit(f"unknown recipe(s) {', '.join(unknown)}; choose from {', '.join(RECIPES)}")

    from facecraft.evaluate import evaluate
    from facecraft.extract import extract
    from facecraft.faceset.store import Faceset
    from facecraft.train.parsing import parsed_labels

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    clips = {"A": Path(args.a), "B": Path(args.b)}
    facesets = {k: out / f"faces_{k}" for k in clips}
    timings: dict[str, float] = {}
    for k, clip in clips.items():
        if not (facesets[k] / "faceset.db").is_file():  # several runs may share one --out
            t0 = time.perf_counter()
            extract([clip], facesets[k], progress=False)
            timings[f"extract_{k}"] = round(time.perf_counter() - t0, 1)
        # parse once, up front, so no recipe's training minutes pay for it
        t0 = time.perf_counter()
        with parser_switch(True), Faceset.open(facesets[k]) as fs:
            parsed_labels(fs, fs.faces(), progress=False)
        timings[f"parse_{k}"] = round(time.perf_counter() - t0, 1)

    nothing = out / "result_do_nothing.json"
    if not nothing.is_file():
        base = {
            d: summary_of(evaluate(clips[dst], clips[dst], facesets[src], progress=False))
            for d, (src, dst) in DIRECTIONS.items()
        }
        nothing.write_text(json.dumps(base, indent=1))
    for name in names:
        result = run_recipe(name, args, clips, facesets, out)
        result["budget"] = {
            "steps": args.steps,
            "minutes": args.minutes,
            "threads": args.threads,
            "seed": args.seed,
        }
        (out / f"result_{name}.json").write_text(json.dumps(result, indent=1, default=str))

    # Summarise every recipe run into this --out so far (runs in parallel processes share it).
    everything: dict[str, Any] = {"clips": {k: str(v) for k, v in clips.items()}, "timings": timings}
    for f in sorted(out.glob("result_*.json")):
        everything[f.stem.removeprefix("result_")] = json.loads(f.read_text())
    done = [n for n in RECIPES if n in everything]
    for direction, (_, dst) in DIRECTIONS.items():
        videos = [clips[dst]] + [out / f"{n}_{direction}.mp4" for n in done]
        contact_sheet([v for v in videos if v.is_file()], out / f"sheet_{direction}.png")
    everything["sheet_columns"] = ["original", *done]
    print(json.dumps(everything, indent=1, default=str))
    line = []
    for name in done:
        r = everything[name]
        parts = [f"{r['train']['steps']} steps"]
        for direction in DIRECTIONS:
            m = r[direction]
            over = (m.get("over_watermark_ids") or {}).get("source_match_rate")
            match = (
                f" ({over[0]:.2f}-{over[2]:.2f} over {m['over_watermark_ids']['ids']} ids)" if over else ""
            )
            parts.append(
                f"{direction} id {m['identity_to_source']:.3f} match {m['source_match_rate']:.2f}{match} "
                f"sharp {m['sharpness_ratio']:.2f} (replaced {_fmt(m['sharpness_ratio_replaced'])}) "
                f"flicker {m['flicker_ratio']:.2f} blinks {m['eyes_closed_kept']}"
            )
        line.append(f"{name}: " + ", ".join(parts))
    print("swap quality:", "; ".join(line), f"(sheets in {out})")


if __name__ == "__main__":
    main()
